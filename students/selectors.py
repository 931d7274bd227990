"""Scoped reads of student records, problem records and archives (each with its select_related)."""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from xueji.access import grants_for, scope_q, scoped

from .models import (
    LIVE_STATUSES,
    ArchiveItem,
    ArchiveItemType,
    FamilyMember,
    ProblemMember,
    ProblemRecord,
    Student,
    StudentStatus,
)
from .pinyin import normalise_pinyin_query, pinyin_range
from .services import add_months
from .validators import normalise_text

# Columns every list shows; the rest stays in the database (the card loads the whole record).
LIST_FIELDS = ("id", "name", "name_pinyin", "gender", "birth_date", "id_type", "id_number", "student_number",
               "number_kind", "status", "school_id", "grade_id", "school_class_id", "school_path", "province_code",
               "verified_at", "school__name", "grade__name", "grade__stage", "grade__level", "school_class__name",
               "school_class__number")
_ID_LIKE = re.compile(r"^[0-9]{6,17}[0-9X]$")
_STUDENT_NUMBER = re.compile(r"^[GLJ][0-9]{17}[0-9X]$")
# The beginning of a national student number ("L3401", "G3401022018"): never a pinyin search.
_STUDENT_NUMBER_PREFIX = re.compile(r"^[GLJ][0-9]{1,17}$")
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0003134f]")


def students_for(user, codename: str = "view_students") -> QuerySet:
    """Students inside ``user``'s units where the user holds ``codename``, with school, grade
    and class joined (one query for the grants, then one per evaluation)."""
    return scoped(user, Student.objects.all(), codename).select_related("school", "grade", "school_class")


def student_list(user, codename: str = "view_students") -> QuerySet:
    """``students_for`` limited to the list columns (``LIST_FIELDS``), excluding deleted duplicates."""
    return students_for(user, codename).exclude(status="deleted").only(*LIST_FIELDS)


def student_search(queryset: QuerySet, q: str) -> QuerySet:
    """Filter ``queryset`` by a search text, choosing the index that fits the text:

    * an ID number (15–18 characters, any spacing, full-width, lower-case x): exact match on the
      normalised number;
    * a national student number (G/L/J + 18): exact match;
    * the beginning of one (G/L/J followed by digits, "L3401"): prefix of the student number
      (``student_number LIKE 'L3401%'``, the column's pattern index on PostgreSQL), not pinyin;
    * Latin letters: prefix of the name's pinyin ("zhangsan") or of its initials ("zs");
    * anything else: prefix of the name ("张", "张三"), bounded by the pinyin range every such name
      lies in (``pinyin.pinyin_range``), so the results can be read from the pinyin index in order
      (``search_in_pinyin_order``).
    Blank text leaves the queryset unchanged. Never raises on odd input.
    """
    text = _search_text(q)
    if not text:
        return queryset
    compact = _compact(text)
    if _STUDENT_NUMBER.match(compact):
        return queryset.filter(student_number=compact)
    if _STUDENT_NUMBER_PREFIX.match(compact):
        return queryset.filter(student_number__startswith=compact)
    if _ID_LIKE.match(compact):
        return queryset.filter(id_number=compact)
    if not _HAN.search(text):
        latin = normalise_pinyin_query(text)
        if latin:
            return queryset.filter(Q(name_pinyin__startswith=latin) | Q(name_initials__startswith=latin))
    bounds = pinyin_range(text)
    if bounds:
        # Redundant with the name condition, but it lets PostgreSQL start the pinyin index at "liu"
        # for 刘 instead of sorting every 刘 of a province (190 ms -> 1 ms, bench/README.md).
        queryset = queryset.filter(name_pinyin__gte=bounds[0], name_pinyin__lt=bounds[1])
    return queryset.filter(name__startswith=text)


def search_in_pinyin_order(q: str) -> bool:
    """True when ``student_search(…, q)`` bounds the pinyin column: the results may then be sorted
    by the column (read in order from its index); otherwise, sorting a search by the column makes
    PostgreSQL walk the whole index from "a" (sort by ``Lower("name_pinyin")`` instead)."""
    # Only a text beginning with a Han character has a range, and such a text is a name search.
    return pinyin_range(_search_text(q)) is not None


def _search_text(q) -> str:
    # Control characters (NUL above all: PostgreSQL refuses it in text) can never be in a name.
    return "".join(ch for ch in str(q or "")[:64] if unicodedata.category(ch)[0] != "C").strip()


def _compact(text: str) -> str:
    try:
        return normalise_text(text)
    except ValidationError:  # control characters and the like: search by name then
        return ""


def student_history(student: Student) -> list[dict]:
    """The full change history of ``student`` and its family members, newest first.

    Each entry: {"date", "user", "reason", "type" ("+", "~", "-"), "what" ("学籍" or "成员1"),
    "changes": [(field label, old, new)]}. ID numbers in old/new values are masked. Queries: one
    for the student's history, one for the members' history (users joined).
    """
    entries = []
    rows = list(student.history.select_related("history_user").order_by("history_date", "history_id"))
    entries += _diff_rows(rows, "学籍", Student)
    member_rows = list(FamilyMember.history.filter(student_id=student.pk).select_related("history_user")
                       .order_by("history_date", "history_id"))
    by_member: dict[int, list] = {}
    for row in member_rows:
        by_member.setdefault(row.id, []).append(row)
    for rows_of_member in by_member.values():
        entries += _diff_rows(rows_of_member, f"成员{rows_of_member[-1].order}", FamilyMember)
    entries.sort(key=lambda e: e["date"], reverse=True)
    return entries


_HIDDEN_IN_HISTORY = {"updated_at", "created_at", "name_pinyin", "name_initials", "school_path", "province_code"}
_MASKED_IN_HISTORY = {"id_number", "student_number"}


def _display(model, field_name: str, value) -> str:
    from .models import mask_id_number

    if value in (None, ""):
        return ""
    if field_name in _MASKED_IN_HISTORY:
        return mask_id_number(str(value))
    field = model._meta.get_field(field_name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        # Stored in UTC; shown in Asia/Shanghai to the minute, as every other time on the pages.
        return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _diff_rows(rows, what: str, model) -> list[dict]:
    out = []
    previous = None
    for row in rows:
        changes = []
        if previous is not None and row.history_type == "~":
            delta = row.diff_against(previous)
            for change in delta.changes:
                if change.field in _HIDDEN_IN_HISTORY:
                    continue
                label = str(model._meta.get_field(change.field).verbose_name)
                changes.append((label, _display(model, change.field, change.old),
                                _display(model, change.field, change.new)))
        out.append({"date": row.history_date, "user": row.history_user, "reason": row.history_change_reason or "",
                    "type": row.history_type, "what": what, "changes": changes})
        previous = row
    return out


@dataclass(frozen=True)
class IdNumberHolder:
    """A record that holds an ID number a new or edited draft of ``school`` may not take: a live
    (pending, active, suspended) record anywhere, or another draft of the same school. Carries
    the holder's school name and status only (never the student: the school may be another's)."""

    status: str
    school_name: str
    own_school: bool

    @property
    def code(self) -> str:
        """"id_number_own_school"; "id_number_pending_elsewhere" (still being registered there:
        nothing to transfer yet); or "id_number_live_elsewhere" (the page then offers a transfer)."""
        if self.own_school:
            return "id_number_own_school"
        return "id_number_pending_elsewhere" if self.status == StudentStatus.PENDING else "id_number_live_elsewhere"

    @property
    def message(self) -> str:
        """The Chinese error for the 身份证件号 field or column (the form and the import say the same)."""
        if self.own_school and self.status == StudentStatus.DRAFT:
            return "本校已有该身份证件号的学籍草稿，请勿重复录入"
        label = StudentStatus(self.status).label
        if self.own_school:
            return f"本校已有该身份证件号的学籍（状态：{label}），请勿重复录入"
        if self.status == StudentStatus.PENDING:
            return (f"该身份证件号已在{self.school_name}有学籍（状态：{label}，正在注册审核），不能重复注册；"
                    "请与该校核实学生实际就读学校")
        return (f"该身份证件号已在{self.school_name}有学籍（状态：{label}），不能重复注册；"
                "如学生已转入本校，请发起转学")


def id_number_holders(numbers: Iterable[str], *, school, exclude_pk: int | None = None,
                      chunk: int = 1000) -> dict[str, IdNumberHolder]:
    """The rule both the student form and the Excel import apply before saving drafts at
    ``school``: an ID number may not be held by a live record anywhere in the country (一人一籍,
    DESIGN.md §4; the database index guards it again at registration) nor by another draft of
    the same school (a double entry). Drafts of other schools do not count (the duplicate scan
    flags them).

    ``numbers``: normalised ID numbers (blanks ignored); ``exclude_pk``: the record being edited.
    Returns {number: IdNumberHolder} for the numbers that are taken, a live holder before a draft.
    Not scoped to a user on purpose (national uniqueness); reveals only school names and statuses.
    One query per ``chunk`` numbers.
    """
    wanted = list(dict.fromkeys(n for n in numbers if n))
    found: dict[str, IdNumberHolder] = {}
    for start in range(0, len(wanted), chunk):
        qs = Student.objects.filter(Q(status__in=LIVE_STATUSES) | Q(status=StudentStatus.DRAFT, school=school),
                                    id_number__in=wanted[start:start + chunk])
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        for number, status, school_id, school_name in qs.values_list("id_number", "status", "school_id",
                                                                     "school__name"):
            if number in found and found[number].status != StudentStatus.DRAFT:
                continue
            found[number] = IdNumberHolder(status=status, school_name=school_name, own_school=school_id == school.pk)
    return found


def suspected_duplicates(student: Student) -> QuerySet:
    """Other current records with the same name, gender and birth date (for a warning on the page)."""
    return (Student.objects.filter(name=student.name, gender=student.gender, birth_date=student.birth_date,
                                   status__in=("draft", *LIVE_STATUSES))
            .exclude(pk=student.pk).select_related("school"))


def problems_for(user) -> QuerySet:
    """Problem records a user sees: those assigned to a unit in the user's scope, and those that
    involve a student of a school in the user's scope (each school sees its own)."""
    grants = grants_for(user, "view_students")
    mine = ProblemMember.objects.filter(scope_q(ProblemMember, grants), problem=OuterRef("pk"))
    return (ProblemRecord.objects.filter(scope_q(ProblemRecord, grants) | Q(Exists(mine)))
            .select_related("assigned_school", "assigned_region", "resolved_by")
            .annotate(member_count=Count("members")))


def archive_overview(user) -> QuerySet:
    """Live students in ``user``'s scope with their archive state, for the incomplete/late list.

    Annotations: ``required_count`` (active required checklist lines of the national defaults and
    the student's province) and ``present_count`` (of those, lines marked present). Only
    incomplete archives are returned; with ``archive_late_cutoff`` the caller tells late ones
    (the archive is due one month after entry, DESIGN.md §6).
    """
    required = (ArchiveItemType.objects.filter(is_active=True, required=True)
                .filter(Q(province_code="") | Q(province_code=OuterRef("province_code")))
                .order_by().values("is_active").annotate(n=Count("id")).values("n"))
    present = (ArchiveItem.objects.filter(student=OuterRef("pk"), present=True, item_type__required=True,
                                          item_type__is_active=True)
               .order_by().values("student").annotate(n=Count("id")).values("n"))
    return (students_for(user).filter(status__in=LIVE_STATUSES)
            .only(*LIST_FIELDS, "enrolled_on")
            .annotate(required_count=Coalesce(Subquery(required), 0), present_count=Coalesce(Subquery(present), 0))
            .filter(present_count__lt=F("required_count")))


def archive_late_cutoff(today: date | None = None) -> date:
    """Students enrolled before this date whose archive is incomplete are late (due = entry + 1 month)."""
    today = today or timezone.localdate()
    return add_months(today, -1)
