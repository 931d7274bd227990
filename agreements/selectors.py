"""Scoped reads of agreements, templates, cohort children and guardian links."""

import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from accounts.models import Role, RoleGrant
from schools.models import Region, School
from students.models import Student, StudentStatus
from xueji.access import grants_for, holds, scoped
from xueji.scope import path_codes

from .models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    AgreementTemplate,
    EnrolmentAgeRule,
    GuardianLink,
)
from .rules import age_window

AGREEMENT_RELATED = ("issuer_region", "issuer_school", "party_region", "party_school", "party_user", "student")


def template_for(kind: str, *, school: School | None = None, region: Region | None = None) -> AgreementTemplate:
    """The template that applies: the school's own version, else its province's, else the national one.

    ``school`` or ``region`` locate the unit (either may be None for the national default).
    One query. Raises ``AgreementTemplate.DoesNotExist`` only if the national row was removed.
    """
    province_code = None
    if school is not None:
        province_code = school.province_code + "0000"
    elif region is not None:
        province_code = region.code[:2] + "0000"
    q = Q(region__isnull=True, school__isnull=True)
    if province_code:
        q |= Q(region_id=province_code)
    if school is not None:
        q |= Q(school=school)
    rows = list(AgreementTemplate.objects.filter(q, kind=kind, is_active=True))
    for test in (lambda t: t.school_id, lambda t: t.region_id, lambda t: True):
        for row in rows:
            if test(row):
                return row
    raise AgreementTemplate.DoesNotExist(f"no template of kind {kind}")


def templates_for_admin(user) -> QuerySet:
    """National templates (read-only) plus the province and school versions ``user`` may edit."""
    own = scoped(user, AgreementTemplate.objects.all(), "manage_units")
    return (AgreementTemplate.objects.filter(Q(region__isnull=True, school__isnull=True) | Q(pk__in=own.values("pk")))
            .select_related("region", "school"))


def agreements_visible(user, codename: str = "view_students") -> QuerySet:
    """Agreements inside ``user``'s units where the user holds ``codename`` (with their parties)."""
    return scoped(user, Agreement.objects.select_related(*AGREEMENT_RELATED), codename)


def head_units(user) -> tuple[frozenset[str], frozenset[int]]:
    """(region codes, school ids) on which ``user`` holds an ACTIVE approver grant directly.

    The head (负责人) of a unit signs for it; a bureau's approver does not sign for a school below.
    One query, cached on the user object for the request.
    """
    cache = user.__dict__.setdefault("_xueji_agreement_heads", {})
    if "heads" not in cache:
        rows = RoleGrant.objects.filter(user=user, role=Role.APPROVER, is_active=True).values_list(
            "region_id", "school_id")
        cache["heads"] = (frozenset(r for r, _ in rows if r), frozenset(s for _, s in rows if s))
    return cache["heads"]


def signing_party(user, agreement: Agreement) -> str | None:
    """Which side ("a" or "b") ``user`` signs online for a staff signature, or None.

    registrar: a = active approver of the school, b = the registrar named on the agreement;
    inter_level: a = approver of the issuing region, b = approver of the lower unit;
    liability: a = approver of the school (the school's confirmation); b is the guardian (portal).
    """
    if not user.is_authenticated:
        return None
    regions, schools = head_units(user)
    kind = agreement.kind
    if kind == AgreementKind.REGISTRAR:
        if agreement.party_user_id == user.pk:
            return "b"
        return "a" if agreement.issuer_school_id in schools else None
    if kind == AgreementKind.INTER_LEVEL:
        if agreement.issuer_region_id in regions:
            return "a"
        if agreement.party_region_id in regions or agreement.party_school_id in schools:
            return "b"
        return None
    return "a" if agreement.issuer_school_id in schools else None


def awaiting_signature(user, limit: int = 100) -> list[Agreement]:
    """Unsigned agreements on which ``user`` still has to sign (own registrar agreements, unit heads)."""
    regions, schools = head_units(user)
    q = Q(party_user=user) | Q(issuer_school__in=schools) | Q(issuer_region__in=regions)
    q |= Q(party_region__in=regions) | Q(party_school__in=schools)
    rows = (Agreement.objects.filter(q, status__in=[AgreementStatus.ISSUED, AgreementStatus.PARTLY_SIGNED])
            .select_related(*AGREEMENT_RELATED).prefetch_related("signatures").order_by("issued_at")[:limit])
    result = []
    for ag in rows:
        party = signing_party(user, ag)
        signed = {s.party for s in ag.signatures.all()}
        if party and party not in signed and not (ag.kind == AgreementKind.LIABILITY and "b" not in signed):
            result.append(ag)
    return result


def units_below(region: Region) -> list:
    """Every unit directly below ``region``: its active child regions, then schools hung on it.

    Depth varies (DESIGN.md §3): a province may hold county-level cities, a city may hold schools.
    Two queries.
    """
    children = list(Region.objects.filter(parent=region, is_active=True).order_by("code"))
    schools = list(School.objects.filter(region=region, is_active=True).order_by("school_code"))
    return children + schools


def inter_level_progress(region: Region, school_year: int) -> QuerySet:
    """Inter-level agreements ``region`` issued for ``school_year`` with their parties and signatures."""
    return (Agreement.objects.filter(kind=AgreementKind.INTER_LEVEL, issuer_region=region, school_year=school_year)
            .exclude(status=AgreementStatus.VOID)
            .select_related("party_region", "party_school").prefetch_related("signatures"))


def _form_subquery(field: str):
    forms = Agreement.objects.filter(student=OuterRef("pk"), kind=AgreementKind.LIABILITY).exclude(
        status=AgreementStatus.VOID)
    return Subquery(forms.values(field)[:1])


def cohort_q(entry_year: int, rules: list[EnrolmentAgeRule] | None = None) -> Q:
    """Filter for first-grade students born inside their province's window for ``entry_year``.

    ``rules`` are all provincial rules (one query when None). Students of provinces without a rule
    use the default window. The entry year is read from ``entry_month`` ("YYYYMM"; empty counts as
    this ``entry_year``).
    """
    if rules is None:
        rules = list(EnrolmentAgeRule.objects.all())
    q = Q(pk__in=[])
    for rule in rules:
        w = age_window(entry_year, rule=rule)
        q |= Q(province_code=rule.province_id[:2], birth_date__range=(w.start, w.end))
    default = age_window(entry_year, rule=None)
    q |= ~Q(province_code__in=[r.province_id[:2] for r in rules]) & Q(birth_date__range=(default.start, default.end))
    year = str(entry_year)
    return q & Q(grade__stage="primary", grade__level=1) & (Q(entry_month="") | Q(entry_month__startswith=year))


def cohort_students(user, entry_year: int, codename: str = "view_students") -> QuerySet:
    """First-grade children in ``user``'s scope who need the liability form for ``entry_year``.

    Records still in use (draft, pending, active). Each row carries ``form_id`` and
    ``form_status`` of its liability form (None when not issued) and its school and grade.
    Queries: the user's grants (cached), the provincial rules, then the rows.
    """
    statuses = [StudentStatus.DRAFT, StudentStatus.PENDING, StudentStatus.ACTIVE]
    qs = Student.objects.filter(cohort_q(entry_year), status__in=statuses).select_related("school", "grade")
    return scoped(user, qs, codename).annotate(form_id=_form_subquery("pk"), form_status=_form_subquery("status"))


def registrar_grants_overview(user, school_year: int) -> QuerySet:
    """Registrar grants on the schools ``user`` sees, with this year's agreement id and status."""
    schools = scoped(user, School.objects.all(), "view_students").values("pk")
    ags = Agreement.objects.filter(kind=AgreementKind.REGISTRAR, school_year=school_year,
                                   issuer_school=OuterRef("school_id"), party_user=OuterRef("user_id")).exclude(
        status=AgreementStatus.VOID)
    return (RoleGrant.objects.filter(role=Role.REGISTRAR, school__in=schools)
            .select_related("user", "school")
            .annotate(agreement_id=Subquery(ags.values("pk")[:1]), agreement_status=Subquery(ags.values("status")[:1])))


def guardian_children(user) -> QuerySet:
    """The guardian's links to their own children, with each child's liability form id and status."""
    return (GuardianLink.objects.filter(user=user).select_related("student__school", "student__grade")
            .annotate(form_id=Subquery(Agreement.objects.filter(
                student=OuterRef("student_id"), kind=AgreementKind.LIABILITY).exclude(
                status=AgreementStatus.VOID).values("pk")[:1]),
                form_status=Subquery(Agreement.objects.filter(
                    student=OuterRef("student_id"), kind=AgreementKind.LIABILITY).exclude(
                    status=AgreementStatus.VOID).values("status")[:1])))


def guardian_child(user, student_id: int) -> GuardianLink:
    """The guardian's link to child ``student_id``; Http404 for any child not linked to ``user``."""
    link = GuardianLink.objects.filter(user=user, student_id=student_id).select_related(
        "student__school", "student__grade").first()
    if link is None:
        raise Http404("没有找到该学生")
    return link


def liability_form_of(student_id: int) -> Agreement | None:
    """The student's current (not void) liability form, with its signatures prefetched."""
    return (Agreement.objects.filter(student_id=student_id, kind=AgreementKind.LIABILITY)
            .exclude(status=AgreementStatus.VOID).prefetch_related("signatures").first())


def allowed_guardian_names(student: Student, fallback: list[str] | None = None) -> list[str]:
    """Full names a guardian may sign with: guardian family members on the record; else ``fallback``.

    ``fallback`` holds the names the school wrote on the invitation(s) (used when the record lists
    no guardian yet). One query.
    """
    names = [n for n in student.family_members.filter(is_guardian=True).values_list("name", flat=True) if n]
    return names or [n for n in (fallback or []) if n]


def today() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate()


def age_window_provinces(user) -> list[tuple[Region, EnrolmentAgeRule | None, bool]]:
    """The provinces whose first-grade age window applies to ``user``'s units, in code order:
    [(province, its rule or None for the national default, whether ``user`` may change it)].

    Everyone with a unit sees the window that governs it (a county's registrar learns which
    children need the liability form); only who holds ``manage_units`` on the province itself
    may change it (``services.enrolment_age_rule_set``). Queries: the user's grants (cached per
    request; 2 when the user also holds school or class grants), the provinces, their rules.
    """
    grants = grants_for(user)
    codes = {path_codes(path)[0] for path in grants.region_paths}
    if grants.school_ids or grants.class_ids:
        schools = School.objects.filter(Q(pk__in=grants.school_ids) | Q(classes__in=grants.class_ids))
        codes |= {f"{code}0000" for code in schools.values_list("province_code", flat=True).distinct()}
    if not codes:
        return []
    provinces = list(Region.objects.filter(code__in=codes, level=Region.Level.PROVINCE).order_by("code"))
    rules = EnrolmentAgeRule.objects.in_bulk([p.code for p in provinces])
    return [(p, rules.get(p.code), holds(user, "manage_units", p)) for p in provinces]
