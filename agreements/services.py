"""Writes on responsibility agreements. Each takes the acting user, checks its rule, keeps history
(django-simple-history with actor and reason) and appends an audit event.

Contracts used by other apps:

* ``registrar_grant_should_be_active(grant) -> (bool, reason)``: accounts' registrar grants on a
  school are inactive until that school year's registrar agreement is signed by both sides.
* ``liability_form_required_unsigned(students) -> [(student, message)]``: what blocks the
  registration of first-grade children (transfers.services.registration_submit calls it).
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from accounts.services import role_grant, role_grant_set_active, user_create
from audits.models import AuditEvent
from audits.services import audit_record
from schools.models import Region, School
from students.codes import name_of
from students.models import Student
from xueji.access import require_unit_perm
from xueji.history import save_with_history

from . import notify
from .models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    AgreementTemplate,
    EnrolmentAgeRule,
    GuardianInvitation,
    GuardianLink,
    Signature,
)
from .rules import (
    DEFAULT_WINDOW,
    age_window,
    entry_year_of,
    is_first_grade,
    school_year_label,
    school_year_of,
    school_year_period,
    window_dates_check,
)
from .selectors import allowed_guardian_names, head_units, signing_party, template_for, units_below
from .uploads import check_scan, store_scan

REGISTRAR_INACTIVE_REASON = "本学年学籍管理员责任书尚未签订"
INVITATION_DAYS = 14
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper


# --- the frozen text -------------------------------------------------------------------------------

def _fill(text: str, facts: dict) -> str:
    """Replace {名称} placeholders present in ``facts``; unknown placeholders stay as written."""
    return re.sub(r"\{(\w+)\}", lambda m: str(facts.get(m.group(1), m.group(0))), text)


def _new_agreement(template: AgreementTemplate, *, school_year: int, facts: dict, **fields) -> Agreement:
    start, end = school_year_period(school_year)
    return Agreement(kind=template.kind, template=template, school_year=school_year, period_start=start,
                     period_end=end, title=template.title, clauses=_fill(template.clauses, facts),
                     party_a_label=template.party_a_label, party_b_label=template.party_b_label,
                     facts=facts, **fields)


def _save_new(agreement: Agreement, *, actor, reason: str, duplicate_message: str) -> Agreement:
    try:
        with transaction.atomic():
            save_with_history(agreement, actor=actor, reason=reason)
    except IntegrityError as exc:
        raise ValidationError(duplicate_message) from exc
    return agreement


def _audit(actor, agreement: Agreement, kind: str, message: str, *, ip_address=None, reason: str = "",
           username: str = "") -> None:
    # No personal data of the child in the audit row: the agreement's id identifies it.
    audit_record(actor=actor, kind=kind, unit=agreement.school or agreement.party_unit, target=agreement,
                 message=message, reason=reason, ip_address=ip_address, username=username,
                 extra={"agreement_kind": agreement.kind, "school_year": agreement.school_year})


# --- registrar agreements --------------------------------------------------------------------------

def registrar_grant_should_be_active(grant: RoleGrant, *, today=None) -> tuple[bool, str]:
    """Whether a registrar grant may be active now, and the reason shown when it may not.

    Only registrar grants on a school are concerned (others: (True, "")). With
    ``settings.XUEJI_REQUIRE_REGISTRAR_AGREEMENT`` on, the grant is active only when the school
    year's registrar agreement between the school and the grant's user is signed by both sides.
    Returns (True, "") or (False, "本学年学籍管理员责任书尚未签订"). One query.
    """
    if not getattr(settings, "XUEJI_REQUIRE_REGISTRAR_AGREEMENT", True):
        return True, ""
    if grant.role != Role.REGISTRAR or not grant.school_id:
        return True, ""
    year = school_year_of(today or timezone.localdate())
    signed = Agreement.objects.filter(kind=AgreementKind.REGISTRAR, issuer_school_id=grant.school_id,
                                      party_user_id=grant.user_id, school_year=year,
                                      status=AgreementStatus.SIGNED).exists()
    return (True, "") if signed else (False, REGISTRAR_INACTIVE_REASON)


def registrar_grants_sync(*, actor=None, school_ids: Iterable[int] | None = None, today=None) -> int:
    """Bring every registrar grant on a school in line with ``registrar_grant_should_be_active``.

    Run daily (agreements.tasks.registrar_grants_sync): on September 1 last year's signatures stop
    counting. ``school_ids`` narrows the run. Returns the number of grants changed.
    """
    grants = RoleGrant.objects.filter(role=Role.REGISTRAR, school__isnull=False).select_related(
        "user", "school")
    if school_ids is not None:
        grants = grants.filter(school_id__in=list(school_ids))
    changed = 0
    for grant in grants:
        active, reason = registrar_grant_should_be_active(grant, today=today)
        if grant.is_active != active:
            with transaction.atomic():
                role_grant_set_active(actor=actor, grant=grant, is_active=active,
                                      reason=reason or "学籍管理员责任书已签订")
            changed += 1
    return changed


@transaction.atomic
def registrar_agreement_issue(*, actor, grant: RoleGrant, school_year: int | None = None,
                              ip_address: str | None = None) -> Agreement:
    """Issue this school year's registrar agreement between the school and the registrar of ``grant``.

    ``actor`` must be an active approver of the school itself (the head who signs for it).
    Raises PermissionDenied otherwise, ValidationError when ``grant`` is not a registrar grant on
    a school or the agreement exists already.
    """
    if grant.role != Role.REGISTRAR or not grant.school_id:
        raise ValidationError("只能为学校的学籍管理员发起责任书")
    school = grant.school
    require_unit_perm(actor, "approve_changes", school)
    if school.pk not in head_units(actor)[1]:
        raise PermissionDenied("只有本校的审核人（校长）可以发起学籍管理员责任书")
    year = school_year or school_year_of(timezone.localdate())
    registrar = grant.user
    facts = {"甲方": school.name, "乙方": registrar.real_name or registrar.get_username(),
             "学年": school_year_label(year), "学校": school.name}
    agreement = _new_agreement(template_for(AgreementKind.REGISTRAR, school=school), school_year=year, facts=facts,
                               issuer_school=school, party_user=registrar, school=school,
                               unit_path=school.path, province_code=school.province_code, issued_by=actor)
    _save_new(agreement, actor=actor, reason="发起学籍管理员责任书",
              duplicate_message="该学籍管理员本学年的责任书已经发起")
    _audit(actor, agreement, AuditEvent.Kind.SUBMISSION, f"发起学籍管理员责任书（{registrar.get_username()}）",
           ip_address=ip_address)
    return agreement


# --- inter-level agreements ------------------------------------------------------------------------

@transaction.atomic
def inter_level_issue_all(*, actor, region: Region, school_year: int | None = None,
                          ip_address: str | None = None) -> list[Agreement]:
    """Issue the school year's agreement from ``region`` to every unit directly below it.

    ``actor`` must be an active approver of ``region`` itself. Units that already have this
    year's agreement are skipped. Returns the agreements created (possibly none).
    """
    require_unit_perm(actor, "approve_changes", region)
    if region.code not in head_units(actor)[0]:
        raise PermissionDenied("只有本单位的审核人（负责人）可以下发责任书")
    year = school_year or school_year_of(timezone.localdate())
    template = template_for(AgreementKind.INTER_LEVEL, region=region)
    existing = set(Agreement.objects.filter(kind=AgreementKind.INTER_LEVEL, issuer_region=region, school_year=year)
                   .exclude(status=AgreementStatus.VOID).values_list("party_region_id", "party_school_id"))
    created = []
    for unit in units_below(region):
        is_school = isinstance(unit, School)
        key = (None, unit.pk) if is_school else (unit.pk, None)
        if key in existing:
            continue
        facts = {"甲方": f"{region.name}教育行政部门", "乙方": unit.name if is_school else f"{unit.name}教育行政部门",
                 "学年": school_year_label(year)}
        agreement = _new_agreement(
            template, school_year=year, facts=facts, issuer_region=region,
            party_region=None if is_school else unit, party_school=unit if is_school else None,
            school=unit if is_school else None, unit_path=unit.path,
            province_code=region.code[:2], issued_by=actor)
        _save_new(agreement, actor=actor, reason="下发学籍管理工作目标责任书",
                  duplicate_message=f"{unit.name}本学年的责任书已经下发")
        created.append(agreement)
    audit_record(actor=actor, kind=AuditEvent.Kind.SUBMISSION, unit=region, ip_address=ip_address,
                 message=f"向下级单位下发{school_year_label(year)}学年责任书 {len(created)} 份",
                 extra={"agreement_kind": "inter_level", "school_year": year, "count": len(created)})
    return created


# --- signing ---------------------------------------------------------------------------------------

def _check_open(agreement: Agreement) -> None:
    if agreement.is_frozen:
        raise ValidationError("该责任书已签订或已作废，不能再更改")


def _add_signature(agreement: Agreement, *, actor, party: str, **fields) -> Signature:
    signature = Signature(agreement=agreement, party=party, signed_at=timezone.now(), **fields)
    try:
        with transaction.atomic():
            save_with_history(signature, actor=actor, reason=f"{agreement.title}：{signature.get_party_display()}签署")
    except IntegrityError as exc:
        raise ValidationError("这一方已经签署过了") from exc
    parties = set(agreement.signatures.values_list("party", flat=True))
    if parties >= {"a", "b"}:
        agreement.status = AgreementStatus.SIGNED
        agreement.signed_at = signature.signed_at
        save_with_history(agreement, actor=actor, reason="双方签署完成，责任书生效",
                          update_fields=["status", "signed_at"])
    elif agreement.status != AgreementStatus.PARTLY_SIGNED:
        agreement.status = AgreementStatus.PARTLY_SIGNED
        save_with_history(agreement, actor=actor, reason="一方已签署", update_fields=["status"])
    return signature


def _activate_registrar(agreement: Agreement, actor) -> None:
    if agreement.kind != AgreementKind.REGISTRAR or agreement.status != AgreementStatus.SIGNED:
        return
    if agreement.school_year != school_year_of(timezone.localdate()):
        return
    for grant in RoleGrant.objects.filter(role=Role.REGISTRAR, user_id=agreement.party_user_id,
                                          school_id=agreement.issuer_school_id, is_active=False):
        if registrar_grant_should_be_active(grant)[0]:
            role_grant_set_active(actor=actor, grant=grant, is_active=True, reason="学籍管理员责任书已签订")


@transaction.atomic
def agreement_sign(*, actor, agreement: Agreement, confirmed: bool, ip_address: str | None = None) -> Signature:
    """Sign ``agreement`` online as the side ``actor`` stands for (see selectors.signing_party).

    ``confirmed`` is the ticked confirmation ("我已阅读并同意"). For a liability form this is the
    school's confirmation (stamp) and needs the guardian's signature first; whoever recorded a
    paper signature may not confirm it (maker–checker). When both sides have signed the agreement
    is SIGNED and frozen; a registrar agreement of the current year then activates the registrar's
    grant. Raises PermissionDenied (not a signer) or ValidationError (not confirmed, already
    signed, frozen, wrong order).
    """
    agreement = Agreement.objects.select_for_update(of=("self",)).select_related(
        "issuer_school", "issuer_region", "party_region", "party_school", "school").get(pk=agreement.pk)
    party = signing_party(actor, agreement)
    if party is None:
        raise PermissionDenied("您不是这份责任书的签署人")
    _check_open(agreement)
    if not confirmed:
        raise ValidationError({"confirmed": "请勾选确认后再签署"})
    existing = list(agreement.signatures.all())
    if any(s.signer_id == actor.pk for s in existing):
        raise ValidationError("同一人不能代表双方签署")
    if agreement.kind == AgreementKind.LIABILITY:
        guardian = next((s for s in existing if s.party == "b"), None)
        if guardian is None:
            raise ValidationError("监护人尚未签字，学校不能确认")
        if guardian.recorded_by_id == actor.pk:
            raise ValidationError("录入纸质签字的人不能同时确认（须由另一位负责人确认）")
    unit = {"a": agreement.issuer_unit, "b": agreement.party_unit}[party]
    role = Role.REGISTRAR if (agreement.kind == AgreementKind.REGISTRAR and party == "b") else Role.APPROVER
    signature = _add_signature(agreement, actor=actor, party=party, signer=actor,
                               signer_name=actor.real_name or actor.get_username(), signer_role=role,
                               unit_name=str(unit or ""), ip_address=ip_address, method=Signature.Method.ONLINE)
    _audit(actor, agreement, AuditEvent.Kind.DECISION,
           f"{'确认' if agreement.kind == AgreementKind.LIABILITY else '签署'}{agreement.title}"
           f"（{signature.get_party_display()}）", ip_address=ip_address)
    _activate_registrar(agreement, actor)
    return signature


def _normalise_name(name: str) -> str:
    return re.sub(r"[\s·・.]", "", name or "")


def _guardian_names(agreement: Agreement) -> list[str]:
    fallback = list(GuardianInvitation.objects.filter(student_id=agreement.student_id)
                    .values_list("guardian_name", flat=True))
    return allowed_guardian_names(agreement.student, fallback)


def _check_guardian_name(agreement: Agreement, typed: str, field: str) -> str:
    names = _guardian_names(agreement)
    typed_n = _normalise_name(typed)
    if not typed_n:
        raise ValidationError({field: "请填写监护人的完整姓名"})
    if names and typed_n not in {_normalise_name(n) for n in names}:
        raise ValidationError({field: "姓名与学籍中登记的监护人不一致，请填写完整姓名"})
    return typed.strip()


@transaction.atomic
def liability_form_guardian_sign(*, actor, agreement: Agreement, typed_name: str, confirmed: bool,
                                 ip_address: str | None = None) -> Signature:
    """The guardian signs the liability form online by typing a guardian's full name.

    ``actor`` must be linked to the child (GuardianLink). ``typed_name`` must equal (spaces and
    middle dots ignored) the name of a guardian family member on the record, or, while the record
    lists none, the name the school wrote on the invitation. Raises PermissionDenied or
    ValidationError (fields "typed_name", "confirmed").
    """
    agreement = (Agreement.objects.select_for_update(of=("self",)).select_related("student", "school")
                 .get(pk=agreement.pk))
    if agreement.kind != AgreementKind.LIABILITY or not GuardianLink.objects.filter(
            user=actor, student_id=agreement.student_id).exists():
        raise PermissionDenied("您不是该学生的监护人")
    _check_open(agreement)
    name = _check_guardian_name(agreement, typed_name, "typed_name")
    if not confirmed:
        raise ValidationError({"confirmed": "请勾选确认后再签署"})
    signature = _add_signature(agreement, actor=actor, party="b", signer=actor, signer_name=name,
                               signer_role=Role.GUARDIAN, unit_name="", ip_address=ip_address,
                               method=Signature.Method.ONLINE)
    _audit(actor, agreement, AuditEvent.Kind.DECISION, "监护人在线签署未满六周岁入学责任书", ip_address=ip_address)
    notify.agreement_signed_by_guardian(agreement)
    return signature


@transaction.atomic
def liability_form_paper_record(*, actor, agreement: Agreement, signer_name: str, scan,
                                ip_address: str | None = None) -> Signature:
    """Record the guardian's signature on paper, with the scanned signed page.

    ``actor`` needs ``edit_students`` on the school. ``scan`` is an uploaded file (JPG/PNG/PDF,
    at most 2 MB, content checked) stored under PRIVATE_MEDIA_ROOT. ``signer_name`` is the
    guardian's name as signed (checked like an online signature). Raises PermissionDenied or
    ValidationError (fields "signer_name", "scan").
    """
    agreement = (Agreement.objects.select_for_update(of=("self",)).select_related("student", "school")
                 .get(pk=agreement.pk))
    if agreement.kind != AgreementKind.LIABILITY:
        raise ValidationError("只有未满六周岁入学责任书可以录入纸质签字")
    require_unit_perm(actor, "edit_students", agreement.school)
    _check_open(agreement)
    name = _check_guardian_name(agreement, signer_name, "signer_name")
    ext, ctype = check_scan(scan)
    if agreement.signatures.filter(party="b").exists():
        raise ValidationError("监护人已经签署过了")
    path = store_scan(scan, school_id=agreement.school_id, agreement_id=agreement.pk, ext=ext)
    signature = _add_signature(agreement, actor=actor, party="b", signer=None, signer_name=name,
                               signer_role=Role.GUARDIAN, unit_name="", ip_address=ip_address,
                               method=Signature.Method.PAPER, scan_path=path, scan_content_type=ctype,
                               recorded_by=actor)
    _audit(actor, agreement, AuditEvent.Kind.SUBMISSION, "录入监护人纸质签字（扫描件）", ip_address=ip_address)
    return signature


@transaction.atomic
def agreement_void(*, actor, agreement: Agreement, reason: str, ip_address: str | None = None) -> Agreement:
    """Void an agreement nobody has fully signed (e.g. to reissue after a correction of the record).

    ``actor`` needs ``approve_changes`` on the issuing unit; ``reason`` is required. A signed
    agreement is never voided here. Raises PermissionDenied or ValidationError.
    """
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    require_unit_perm(actor, "approve_changes", agreement.issuer_unit)
    _check_open(agreement)
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写作废原因"})
    agreement.status = AgreementStatus.VOID
    save_with_history(agreement, actor=actor, reason=f"作废：{reason}", update_fields=["status"])
    _audit(actor, agreement, AuditEvent.Kind.DECISION, f"作废{agreement.title}", reason=reason, ip_address=ip_address)
    return agreement


# --- reminders -------------------------------------------------------------------------------------

def _missing_signers(agreement: Agreement) -> list[User]:
    signed = set(agreement.signatures.values_list("party", flat=True))
    users: list[User] = []
    if "b" not in signed:
        if agreement.kind == AgreementKind.REGISTRAR:
            users.append(agreement.party_user)
        elif agreement.kind == AgreementKind.LIABILITY:
            users += [link.user for link in GuardianLink.objects.filter(student_id=agreement.student_id)
                      .select_related("user")]
        else:
            unit = {"region": agreement.party_region_id} if agreement.party_region_id else {
                "school": agreement.party_school_id}
            users += [g.user for g in RoleGrant.objects.filter(role=Role.APPROVER, is_active=True, **unit)
                      .select_related("user")]
    if "a" not in signed and agreement.kind != AgreementKind.LIABILITY:
        unit = {"region": agreement.issuer_region_id} if agreement.issuer_region_id else {
            "school": agreement.issuer_school_id}
        users += [g.user for g in RoleGrant.objects.filter(role=Role.APPROVER, is_active=True, **unit)
                  .select_related("user")]
    return users


@transaction.atomic
def agreement_remind(*, actor, agreement: Agreement, ip_address: str | None = None) -> int:
    """Remind those who have not signed yet (in-app message, and e-mail where they have an address).

    Who may remind: the issuing unit (``approve_changes`` on it) for inter-level and registrar
    agreements; the school's registrar (``edit_students``) or approver for liability forms.
    Returns the number of people reminded. Raises PermissionDenied or ValidationError (signed).
    """
    agreement = Agreement.objects.select_for_update(of=("self",)).select_related(
        "issuer_region", "issuer_school", "party_region", "party_school", "party_user", "school").get(pk=agreement.pk)
    if agreement.kind == AgreementKind.LIABILITY:
        require_unit_perm(actor, "edit_students", agreement.school)
    else:
        require_unit_perm(actor, "approve_changes", agreement.issuer_unit)
    _check_open(agreement)
    users = [u for u in _missing_signers(agreement) if u.pk != actor.pk]
    notify.remind(agreement, users)
    agreement.reminder_count += 1
    agreement.last_reminded_at = timezone.now()
    save_with_history(agreement, actor=actor, reason="提醒签署", update_fields=["reminder_count", "last_reminded_at"])
    _audit(actor, agreement, AuditEvent.Kind.OTHER, f"提醒签署{agreement.title}（{len(users)} 人）",
           ip_address=ip_address)
    return len(users)


# --- liability forms -------------------------------------------------------------------------------

def _guardian_phone(student: Student) -> str:
    members = [m for m in student.family_members.all() if m.is_guardian and m.phone]
    return members[0].phone if members else (student.phone or "")


def liability_facts(student: Student, entry_year: int) -> dict:
    """The data the form is filled with, copied from the record (frozen at issue).

    Keys are Chinese labels of the form; ``身份证件号`` holds the full number (shown masked on
    screen, in full only on the PDF and print page for the school and the guardian).
    """
    guardians = [m.name for m in student.family_members.all() if m.is_guardian]
    return {
        "学生姓名": student.name,
        "性别": student.get_gender_display(),
        "民族": name_of("ethnicity_gbt3304", student.ethnicity) or student.ethnicity,
        "出生日期": student.birth_date.isoformat(),
        "身份证件类型": student.get_id_type_display(),
        "身份证件号": student.id_number,
        "监护人": "、".join(guardians),
        "监护人电话": _guardian_phone(student),
        "学校": student.school.name,
        "入学年份": str(entry_year),
        "学年": school_year_label(entry_year),
    }


@transaction.atomic
def liability_form_issue(*, actor, student: Student, ip_address: str | None = None) -> Agreement:
    """Issue the underage-enrolment liability form for a first-grade child in the window.

    ``actor`` needs ``edit_students`` on the student. The form is filled from the record and
    frozen. Raises ValidationError when the child is not a first-grader of the cohort (born
    outside the window) or a form exists; PermissionDenied without the right.
    """
    require_unit_perm(actor, "edit_students", student)
    student = Student.objects.select_related("school", "grade").prefetch_related("family_members").get(pk=student.pk)
    entry_year = entry_year_of(student)
    if not is_first_grade(student):
        raise ValidationError("只有一年级新生需要未满六周岁入学责任书")
    if age_window(entry_year, student.province_code).classify(student.birth_date) != "form":
        raise ValidationError("该生出生日期不在需签责任书的范围内")
    school = student.school
    agreement = _new_agreement(template_for(AgreementKind.LIABILITY, school=school), school_year=entry_year,
                               facts=liability_facts(student, entry_year), issuer_school=school, student=student,
                               school=school, unit_path=school.path, province_code=school.province_code,
                               issued_by=actor)
    _save_new(agreement, actor=actor, reason="发放未满六周岁入学责任书", duplicate_message="该生的责任书已经发放")
    _audit(actor, agreement, AuditEvent.Kind.SUBMISSION, "发放未满六周岁入学责任书", ip_address=ip_address)
    return agreement


def liability_forms_issue_all(*, actor, students: Iterable[Student], ip_address: str | None = None) -> int:
    """Issue the form for each of ``students`` (cohort rows) that has none yet; returns how many."""
    count = 0
    for student in students:
        if getattr(student, "form_id", None):
            continue
        liability_form_issue(actor=actor, student=student, ip_address=ip_address)
        count += 1
    return count


def liability_form_required_unsigned(students: Iterable[Student]) -> list[tuple[Student, str]]:
    """What blocks the registration of these students because of their age: [(student, message)].

    For each primary first-grader (``student.grade`` stage primary, level 1):

    * born after the province's window for the entry year → refused for first grade this year
      (the message of ``agreements.rules.first_grade_age_check``);
    * born inside the window → needs a liability form signed by the guardian AND confirmed by
      the school (status SIGNED); otherwise "未满六周岁入学责任书尚未签订".

    Other students produce nothing. Empty list = nothing blocks. Entry year from ``entry_month``
    (else the current school year). Queries: 1 for provincial rules, 1 for signed forms
    (plus the grades when not loaded). Registration (transfers.services.registration_submit)
    calls this and refuses the batch, or the listed students, when the list is not empty.
    """
    students = [s for s in students if is_first_grade(s)]
    if not students:
        return []
    rules = {r.province_id[:2]: r for r in EnrolmentAgeRule.objects.all()}
    signed = set(Agreement.objects.filter(kind=AgreementKind.LIABILITY, status=AgreementStatus.SIGNED,
                                          student_id__in=[s.pk for s in students]).values_list("student_id", flat=True))
    problems = []
    for student in students:
        year = entry_year_of(student)
        window = age_window(year, rule=rules.get(student.province_code))
        verdict = window.classify(student.birth_date)
        if verdict == "too_young":
            problems.append((student, f"{student.name}出生于{student.birth_date:%Y年%m月%d日}，晚于"
                                      f"{window.end:%Y年%m月%d日}，未达到{year}年一年级入学年龄，不能注册"))
        elif verdict == "form" and student.pk not in signed:
            problems.append((student, f"{student.name}未满六周岁入学，"
                                      "未满六周岁入学责任书尚未签订（监护人签字并经学校确认）"))
    return problems


# --- parents' portal -------------------------------------------------------------------------------

def normalise_code(code: str) -> str:
    """Upper-case the code and drop spaces and dashes ("abcd-efgh-jk" → "ABCDEFGHJK")."""
    return re.sub(r"[\s\-－—]", "", (code or "")).upper()


def hash_code(code: str) -> str:
    """HMAC-SHA256 (key SECRET_KEY) of the normalised code, hex: what is stored and looked up."""
    return hmac.new(settings.SECRET_KEY.encode(), normalise_code(code).encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))  # 60 bits
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


@transaction.atomic
def invitation_create(*, actor, student: Student, guardian_name: str, days: int = INVITATION_DAYS,
                      ip_address: str | None = None) -> tuple[GuardianInvitation, str]:
    """Create a one-time invitation code for a guardian of ``student``.

    ``actor`` needs ``edit_students`` on the student. Returns (invitation, code); the code
    ("XXXX-XXXX-XXXX", 60 random bits) is shown once and only its HMAC is stored. It expires
    after ``days`` days and works once. ``guardian_name`` must be a guardian on the record when
    the record lists any. Raises PermissionDenied or ValidationError (field "guardian_name").
    """
    require_unit_perm(actor, "edit_students", student)
    name = (guardian_name or "").strip()
    if not name:
        raise ValidationError({"guardian_name": "请填写监护人姓名"})
    names = allowed_guardian_names(student)
    if names and _normalise_name(name) not in {_normalise_name(n) for n in names}:
        raise ValidationError({"guardian_name": "该姓名不是学籍中登记的监护人：" + "、".join(names)})
    code = _new_code()
    invitation = GuardianInvitation(student=student, school=student.school, unit_path=student.school_path,
                                    code_hash=hash_code(code), guardian_name=name,
                                    expires_at=timezone.now() + timedelta(days=days), created_by=actor)
    save_with_history(invitation, actor=actor, reason="生成家长邀请码")
    audit_record(actor=actor, kind=AuditEvent.Kind.OTHER, unit=student.school, target=invitation,
                 ip_address=ip_address, message="生成家长邀请码")
    return invitation, code


@transaction.atomic
def invitation_redeem(*, code: str, user: User | None = None, username: str = "", password: str = "",
                      ip_address: str | None = None) -> tuple[User, GuardianLink]:
    """Redeem a guardian invitation: open a guardian account (or use ``user``) and link the child.

    Without ``user`` a new account is created (``username``, ``password`` checked by the password
    validators; real name = the invitation's guardian name; no region; role guardian). With
    ``user`` (a logged-in guardian adding a second child) that account is linked. Returns
    (user, link). Raises ValidationError on fields "code" (unknown, used or expired — one message,
    so codes cannot be probed), "username", "password".
    """
    invitation = (GuardianInvitation.objects.select_for_update(of=("self",)).select_related("student", "school")
                  .filter(code_hash=hash_code(code)).first())
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= timezone.now():
        audit_record(actor=user, kind=AuditEvent.Kind.OTHER, ip_address=ip_address, message="家长邀请码无效或已过期",
                     username="" if user else "anonymous")
        raise ValidationError({"code": "邀请码无效、已使用或已过期，请向学校重新索取"})
    if user is None:
        if User.objects.filter(username=username).exists():
            raise ValidationError({"username": "该用户名已被使用"})
        validate_password_field(password, username=username, real_name=invitation.guardian_name)
        user = user_create(actor=None, username=username, real_name=invitation.guardian_name, password=password,
                           home_region=None, must_change_password=False)
        role_grant(actor=None, user=user, role=Role.GUARDIAN, unit=None, ip_address=ip_address)
    elif not RoleGrant.objects.filter(user=user, role=Role.GUARDIAN).exists():
        raise ValidationError({"code": "请使用家长账号登录后再添加孩子，或退出后注册新的家长账号"})
    link, _ = GuardianLink.objects.get_or_create(
        user=user, student=invitation.student,
        defaults={"guardian_name": invitation.guardian_name, "invitation": invitation})
    invitation.used_at = timezone.now()
    invitation.used_by = user
    save_with_history(invitation, actor=user, reason="家长使用邀请码", update_fields=["used_at", "used_by"])
    audit_record(actor=user, kind=AuditEvent.Kind.OTHER, unit=invitation.school, target=invitation,
                 ip_address=ip_address, message="家长使用邀请码关联孩子")
    return user, link


def validate_password_field(password: str, *, username: str, real_name: str) -> None:
    """Run the password validators; raise ValidationError on field "password" (Chinese messages)."""
    try:
        validate_password(password, user=User(username=username, real_name=real_name))
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


# --- templates and provincial rules ----------------------------------------------------------------

TEMPLATE_FIELDS = ("title", "clauses", "party_a_label", "party_b_label", "is_active")


@transaction.atomic
def template_create_version(*, actor, kind: str, unit: Region | School) -> AgreementTemplate:
    """Create a province's (``unit`` a province Region) or a school's own version of ``kind``.

    It starts as a copy of the template that applies there now. ``actor`` needs ``manage_units``
    on ``unit`` (the unit's system administrator). Raises PermissionDenied or ValidationError
    (not a province, or the version exists).
    """
    require_unit_perm(actor, "manage_units", unit)
    is_school = isinstance(unit, School)
    if not is_school and unit.level != Region.Level.PROVINCE:
        raise ValidationError("只能为省级单位或学校建立自己的版本")
    base = template_for(kind, school=unit if is_school else None, region=None if is_school else unit)
    version = AgreementTemplate(
        kind=kind, title=base.title, clauses=base.clauses, party_a_role=base.party_a_role,
        party_a_label=base.party_a_label, party_b_role=base.party_b_role, party_b_label=base.party_b_label,
        validity=base.validity, region=None if is_school else unit, school=unit if is_school else None,
        unit_path=unit.path, updated_by=actor)
    try:
        with transaction.atomic():
            save_with_history(version, actor=actor, reason="建立本单位责任书版本")
    except IntegrityError as exc:
        raise ValidationError("本单位已有该类责任书的版本") from exc
    audit_record(actor=actor, kind=AuditEvent.Kind.UNIT_CHANGE, unit=unit, target=version,
                 message=f"建立{version.scope_label}{version.title}")
    return version


@transaction.atomic
def template_update(*, actor, template: AgreementTemplate, **fields) -> AgreementTemplate:
    """Edit a province or school version (fields in ``TEMPLATE_FIELDS``). National defaults are read-only.

    Agreements already issued keep their frozen text. Raises PermissionDenied (national template or
    no ``manage_units`` on the unit) or ValidationError (empty title or clauses).
    """
    unit = template.school or template.region
    if unit is None:
        raise PermissionDenied("全国默认文本不能在系统中修改，请建立本单位的版本")
    require_unit_perm(actor, "manage_units", unit)
    changed = [k for k, v in fields.items() if k in TEMPLATE_FIELDS and getattr(template, k) != v]
    for key in changed:
        setattr(template, key, fields[key])
    if not template.title.strip() or not template.clauses.strip():
        raise ValidationError("标题和条款不能为空")
    if not changed:
        return template
    template.updated_by = actor
    save_with_history(template, actor=actor, reason="修改责任书文本",
                      update_fields=[*changed, "updated_by", "updated_at"])
    audit_record(actor=actor, kind=AuditEvent.Kind.UNIT_CHANGE, unit=unit, target=template,
                 message=f"修改{template.scope_label}{template.title}")
    return template


@transaction.atomic
def enrolment_age_rule_set(*, actor, province: Region, start_month: int, start_day: int, end_month: int,
                           end_day: int, ip_address: str | None = None) -> EnrolmentAgeRule:
    """Set the province's liability-form window (month/day pairs, both inclusive, same calendar year).

    ``actor`` needs ``manage_units`` on the province (its system administrator: provincial
    settings of the agreements, like the province's own agreement texts). The change applies at
    once to registration and to forms issued from then on; forms already issued stay as they are.
    History (reason) and an audit event with the window before and after. Setting the window it
    already has writes nothing. Returns the rule. Raises PermissionDenied without the right,
    ValidationError for a region that is not a province or (keyed by field, see
    ``rules.window_dates_check``) an impossible date or an end before the start.
    """
    require_unit_perm(actor, "manage_units", province)
    if province.level != Region.Level.PROVINCE:
        raise ValidationError("入学年龄窗口按省设置")
    window_dates_check(start_month, start_day, end_month, end_day)
    rule = (EnrolmentAgeRule.objects.select_for_update().filter(province=province).first()
            or EnrolmentAgeRule(province=province))
    exists = not rule._state.adding
    before = (rule.start_month, rule.start_day, rule.end_month, rule.end_day) if exists else DEFAULT_WINDOW
    after = (start_month, start_day, end_month, end_day)
    if exists and before == after:
        return rule
    rule.start_month, rule.start_day, rule.end_month, rule.end_day = after
    rule.updated_by = actor
    save_with_history(rule, actor=actor, reason="设置未满六周岁入学责任书窗口")
    audit_record(actor=actor, kind=AuditEvent.Kind.UNIT_CHANGE, unit=province, target=rule, ip_address=ip_address,
                 message=f"设置{province}未满六周岁入学责任书窗口：{_window_label(before)} → {_window_label(after)}",
                 extra={"before": list(before), "after": list(after)})
    return rule


def _window_label(window: tuple[int, int, int, int]) -> str:
    sm, sd, em, ed = window
    return f"{sm}月{sd}日—{em}月{ed}日"
