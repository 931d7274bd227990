"""Every write of the oversight app: sampling inspections, rectification notices, quarterly reports
and the refresh of the precomputed figures.

Each public function is ``noun_verb(*, actor, ...)``, atomic, checks its rule (permissions through
xueji.access), saves with history (actor and reason) and appends an audit event for decisions and
submissions; Celery work is queued with ``delay_on_commit`` (xueji/celery.py conventions).
"""

import time
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from audits.models import AuditEvent
from audits.services import audit_record
from schools.models import Region, School
from students.files import check_scan
from students.models import Student, StudentStatus
from xueji.access import grants_for, require_unit_perm
from xueji.history import save_with_history

from . import figures, sampling, selectors
from .models import (
    DashboardFigure,
    Failing,
    FigureRefresh,
    Inspection,
    InspectionItem,
    QuarterlyReport,
    RectificationNotice,
    RectificationReply,
)

REFRESH_MIN_SECONDS = 60


def _unit_path(unit) -> str:
    return unit.path


def holds_directly(user, codename: str, unit) -> bool:
    """True when ``user`` holds ``codename`` by a grant on ``unit`` itself (a Region or School), not
    only through a bureau above it: the unit's own staff, as a unit answers for itself."""
    grants = grants_for(user, codename)
    if isinstance(unit, School):
        return unit.pk in grants.school_ids
    return unit.path in grants.region_paths


# --------------------------------------------------------------------------------------------
# Figures


@transaction.atomic
def figures_refresh(*, actor=None, province_code: str, now=None) -> FigureRefresh:
    """Recompute every dashboard and scorecard figure of province ``province_code`` (2 digits).

    Replaces the province's ``DashboardFigure`` rows in one transaction (readers see the old set
    or the new one, never a mix) and records when and how long in ``FigureRefresh``. ``actor`` is
    None for the beat job. Returns the FigureRefresh row.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    values = figures.province_figures(province_code, now)
    DashboardFigure.objects.filter(province_code=province_code).delete()
    DashboardFigure.objects.bulk_create(
        (DashboardFigure(unit_path=path, metric=metric, key=key, value=value, province_code=province_code,
                         computed_at=now) for (path, metric, key), value in values.items()),
        batch_size=5000)
    refresh, _ = FigureRefresh.objects.update_or_create(
        province_code=province_code, defaults={"computed_at": now, "seconds": time.perf_counter() - started})
    # Pages cache their data per version (oversight.selectors.dashboard_data): a new version at commit.
    transaction.on_commit(lambda: cache.set(selectors.version_key(province_code), now.isoformat(),
                                            selectors.VERSION_SECONDS))
    return refresh


def figures_refresh_all(*, actor=None) -> int:
    """Refresh the figures of every province that has schools. Returns how many provinces."""
    provinces = sorted(set(School.objects.order_by().values_list("province_code", flat=True).distinct()))
    for code in provinces:
        figures_refresh(actor=actor, province_code=code)
    return len(provinces)


@transaction.atomic
def figures_refresh_request(*, actor, unit) -> bool:
    """A bureau asks for fresh figures now (the dashboard's button). ``actor`` needs
    ``approve_changes`` on ``unit`` (a Region). Queues the refresh of the unit's province unless it
    ran less than ``REFRESH_MIN_SECONDS`` ago. Returns True when a refresh was queued."""
    if not isinstance(unit, Region):
        raise PermissionDenied("只有教育行政部门可以刷新统计数据")
    require_unit_perm(actor, "approve_changes", unit)
    province = unit.code[:2]
    last = FigureRefresh.objects.filter(province_code=province).first()
    if last and (timezone.now() - last.computed_at).total_seconds() < REFRESH_MIN_SECONDS:
        return False
    from .tasks import dashboard_refresh

    dashboard_refresh.delay_on_commit(province)
    return True


# --------------------------------------------------------------------------------------------
# Sampling inspections


def _check_inspection_units(kind: str, organiser: Region, inspected: Region, inspecting: Region | None) -> None:
    if not inspected.path.startswith(organiser.path):
        raise ValidationError({"inspected_region": "被检查单位须在组织单位辖区内"})
    if kind == Inspection.Kind.REGULAR:
        return
    if inspecting is None:
        raise ValidationError({"inspecting_region": "互查须指定检查单位"})
    if organiser.level != Region.Level.CITY:
        raise ValidationError({"inspecting_region": "互查由地市级教育行政部门组织"})
    errors = {}
    for field, region in (("inspected_region", inspected), ("inspecting_region", inspecting)):
        if region.path == organiser.path or not region.path.startswith(organiser.path):
            errors[field] = "互查双方须是本市所辖的下级单位"
    if not errors and (inspected.path.startswith(inspecting.path) or inspecting.path.startswith(inspected.path)):
        errors["inspecting_region"] = "检查单位与被检查单位不能相同或互为上下级"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def inspection_create(*, actor, organiser: Region, inspected_region: Region, title: str,
                      kind: str = Inspection.Kind.REGULAR, inspecting_region: Region | None = None,
                      size: int | None = None, percent: Decimal | None = None, seed: str = "",
                      answer_due: date | None = None) -> Inspection:
    """Draw a sample of the active records under ``inspected_region`` (a sampling inspection).

    ``actor`` needs ``inspect`` on ``organiser``. Ordinary inspection: the organiser's inspectors
    verify (``inspecting_region`` = organiser). Cross-check (互查, ``kind="cross"``): a city
    organises, ``inspecting_region`` and ``inspected_region`` are two different units below it,
    neither above the other. Exactly one of ``size`` (1–``sampling.MAX_SAMPLE``) and ``percent``
    (0–100]. ``seed`` (any text up to 32 characters; a fresh one when blank) decides the sample:
    the same seed on the same records draws the same sample (oversight.sampling).
    Raises PermissionDenied, or ValidationError naming the field.
    """
    require_unit_perm(actor, "inspect", organiser)
    _check_inspection_units(kind, organiser, inspected_region, inspecting_region)
    if (size is None) == (percent is None):
        raise ValidationError({"size": "请填写抽样数量或抽样比例（二选一）"})
    if size is not None and not 1 <= size <= sampling.MAX_SAMPLE:
        raise ValidationError({"size": f"抽样数量应在 1 至 {sampling.MAX_SAMPLE} 之间"})
    if percent is not None and not Decimal(0) < percent <= Decimal(100):
        raise ValidationError({"percent": "抽样比例应大于 0 且不超过 100"})
    if not (title or "").strip():
        raise ValidationError({"title": "请填写名称"})
    seed = (seed or "").strip()[:32] or sampling.new_seed()
    candidates = Student.objects.filter(status=StudentStatus.ACTIVE, province_code=inspected_region.code[:2],
                                        school_path__startswith=inspected_region.path)
    population, ids = sampling.draw(candidates, seed, size=size, percent=percent)
    if not ids:
        raise ValidationError({"inspected_region": "该单位没有在籍学生，无法抽样"})
    if len(ids) > sampling.MAX_SAMPLE:
        raise ValidationError({"percent": f"按此比例将抽取 {len(ids)} 条，超过上限 {sampling.MAX_SAMPLE} 条"})
    inspecting = inspecting_region if kind == Inspection.Kind.CROSS else organiser
    inspection = Inspection(
        title=title.strip()[:100], kind=kind, school_year=figures.school_year_of(timezone.localdate()),
        organiser=organiser, inspecting_region=inspecting, inspected_region=inspected_region,
        inspecting_path=inspecting.path, inspected_path=inspected_region.path,
        province_code=inspected_region.code[:2], seed=seed, requested_size=size, requested_percent=percent,
        population=population, sample_size=len(ids), answer_due=answer_due, created_by=actor)
    save_with_history(inspection, actor=actor, reason="抽样")
    rows = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        rows.update({pk: (school_id, path, province) for pk, school_id, path, province in
                     Student.objects.filter(pk__in=chunk).values_list("pk", "school_id", "school_path",
                                                                      "province_code")})
    items = [InspectionItem(inspection=inspection, student_id=pk, school_id=rows[pk][0], school_path=rows[pk][1],
                            province_code=rows[pk][2], position=n) for n, pk in enumerate(ids, start=1)]
    bulk_create_with_history(items, InspectionItem, batch_size=1000, default_user=actor,
                             default_change_reason="抽样")
    audit_record(actor=actor, kind=AuditEvent.Kind.OTHER, unit=inspected_region, target=inspection,
                 message=f"{inspection.get_kind_display()}抽样：{inspection.title}",
                 extra={"seed": seed, "population": population, "sample_size": len(ids),
                        "inspecting_region": inspecting.code})
    return inspection


def _lock_inspection(inspection: Inspection) -> Inspection:
    return Inspection.objects.select_for_update(of=("self",)).select_related(
        "organiser", "inspecting_region", "inspected_region").get(
        pk=inspection.pk)


@transaction.atomic
def inspection_assign(*, actor, inspection: Inspection, answer_due: date | None = None) -> Inspection:
    """Send a drawn sample to the schools for verification (核实). ``actor`` needs ``inspect`` on
    the organiser. ``answer_due`` (optional) is the schools' deadline. Raises ValidationError when
    the inspection is not freshly drawn or the deadline is in the past."""
    inspection = _lock_inspection(inspection)
    require_unit_perm(actor, "inspect", inspection.organiser)
    if inspection.status != Inspection.Status.DRAWN:
        raise ValidationError("该抽查已下发")
    if answer_due is not None:
        if answer_due < timezone.localdate():
            raise ValidationError({"answer_due": "核实期限不能早于今天"})
        inspection.answer_due = answer_due
    inspection.status = Inspection.Status.ASSIGNED
    inspection.assigned_at = timezone.now()
    save_with_history(inspection, actor=actor, reason="下发学校核实",
                      update_fields=["status", "assigned_at", "answer_due"])
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=inspection.inspected_region, target=inspection,
                 message=f"抽查下发学校核实：{inspection.title}")
    return inspection


@transaction.atomic
def inspection_close(*, actor, inspection: Inspection) -> Inspection:
    """Close an inspection once every sampled record has a verdict. ``actor`` needs ``inspect`` on
    the inspecting unit. Raises ValidationError naming how many records still lack a verdict."""
    inspection = _lock_inspection(inspection)
    require_unit_perm(actor, "inspect", inspection.inspecting_region)
    if inspection.status != Inspection.Status.ASSIGNED:
        raise ValidationError("只有核实中的抽查可以完成")
    pending = inspection.items.filter(verdict=InspectionItem.Verdict.PENDING).count()
    if pending:
        raise ValidationError(f"还有 {pending} 条记录未评定，不能完成")
    inspection.status = Inspection.Status.CLOSED
    inspection.closed_at = timezone.now()
    save_with_history(inspection, actor=actor, reason="抽查完成", update_fields=["status", "closed_at"])
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=inspection.inspected_region, target=inspection,
                 message=f"抽查完成：{inspection.title}")
    return inspection


def _lock_item(item: InspectionItem) -> InspectionItem:
    return (InspectionItem.objects.select_for_update(of=("self",))
            .select_related("inspection", "inspection__inspecting_region", "school").get(pk=item.pk))


@transaction.atomic
def inspection_item_answer(*, actor, item: InspectionItem, answer: str, note: str = "", upload=None
                           ) -> InspectionItem:
    """The school's answer on a sampled record: ``verified`` (核实无误) or ``corrected`` (已更正,
    needs a note saying what was corrected), with an optional evidence file (JPG/PNG/PDF ≤ 2 MB,
    checked by content, kept in private storage). ``actor`` needs ``edit_students`` on the school
    (its registrar). Allowed while the inspection is being verified and no verdict is given; a
    new answer replaces the previous one (history keeps it). Raises ValidationError or
    PermissionDenied."""
    item = _lock_item(item)
    require_unit_perm(actor, "edit_students", item)
    if item.inspection.status != Inspection.Status.ASSIGNED:
        raise ValidationError("该抽查不在核实阶段")
    if item.verdict != InspectionItem.Verdict.PENDING:
        raise ValidationError("检查人员已评定，不能再修改核实结果")
    if answer not in (InspectionItem.Answer.VERIFIED, InspectionItem.Answer.CORRECTED):
        raise ValidationError({"answer": "请选择核实结果"})
    note = (note or "").strip()
    if answer == InspectionItem.Answer.CORRECTED and not note:
        raise ValidationError({"note": "请说明更正了哪些信息"})
    fields = ["answer", "answer_note", "answered_by", "answered_at"]
    if upload is not None:
        try:
            content_type, extension = check_scan(upload)
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages}) from exc
        item.evidence.save(f"inspection{item.inspection_id}-{item.pk}{extension}", upload, save=False)
        item.evidence_type = content_type
        fields += ["evidence", "evidence_type"]
    item.answer, item.answer_note = answer, note
    item.answered_by, item.answered_at = actor, timezone.now()
    save_with_history(item, actor=actor, reason="学校核实", update_fields=fields)
    audit_record(actor=actor, kind=AuditEvent.Kind.SUBMISSION, unit=item.school, target=item,
                 message=f"抽查核实：{item.get_answer_display()}（抽查 {item.inspection_id} 第{item.position}条）")
    return item


@transaction.atomic
def inspection_item_judge(*, actor, item: InspectionItem, verdict: str, note: str = "") -> InspectionItem:
    """An inspector's verdict on a sampled record: correct (信息准确), corrected (已更正) or false
    (信息不实, needs a note). ``actor`` needs ``inspect`` on the inspecting unit (for a cross-check:
    the other county's inspectors, or the organising city's). Allowed while the inspection is
    being verified; a verdict may be revised until the inspection is closed."""
    item = _lock_item(item)
    require_unit_perm(actor, "inspect", item.inspection.inspecting_region)
    if item.inspection.status != Inspection.Status.ASSIGNED:
        raise ValidationError("该抽查不在核实阶段")
    if verdict not in (InspectionItem.Verdict.CORRECT, InspectionItem.Verdict.CORRECTED,
                       InspectionItem.Verdict.FALSE):
        raise ValidationError({"verdict": "请选择检查结论"})
    note = (note or "").strip()
    if verdict == InspectionItem.Verdict.FALSE and not note:
        raise ValidationError({"note": "认定信息不实须说明情况"})
    item.verdict, item.verdict_note, item.verdict_by, item.verdict_at = verdict, note, actor, timezone.now()
    save_with_history(item, actor=actor, reason="检查评定",
                      update_fields=["verdict", "verdict_note", "verdict_by", "verdict_at"])
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=item.school, target=item,
                 message=f"抽查评定：{item.get_verdict_display()}（抽查 {item.inspection_id} 第{item.position}条）")
    return item


def evidence_open(*, actor, obj, unit, ip_address: str | None = None):
    """Open the evidence file of an inspection item or a rectification reply for ``actor`` (who
    reached ``obj`` through the access layer) and log the access. Returns a binary file object."""
    audit_record(actor=actor, kind=AuditEvent.Kind.RECORD_VIEW, unit=unit, target=obj, ip_address=ip_address,
                 message=f"查看佐证材料（{obj._meta.verbose_name} {obj.pk}）")
    return obj.evidence.open("rb")


# --------------------------------------------------------------------------------------------
# Rectification notices


@transaction.atomic
def rectification_issue(*, actor, issuer: Region, target, failing: str, title: str, details: str,
                        deadline: date) -> RectificationNotice:
    """Issue a rectification notice (整改通知) from the bureau ``issuer`` to ``target`` (a Region or
    School strictly below it, directly or not) for one of the agreements' failings (``Failing``),
    with a deadline (today or later). ``actor`` needs ``approve_changes`` on ``issuer``.
    Raises PermissionDenied, or ValidationError naming the field."""
    require_unit_perm(actor, "approve_changes", issuer)
    target_path = _unit_path(target)
    if target_path == issuer.path or not target_path.startswith(issuer.path):
        raise ValidationError({"target": "整改单位须是本单位所辖的下级单位或学校"})
    if failing not in Failing.values:
        raise ValidationError({"failing": "请选择问题类别"})
    if not (title or "").strip():
        raise ValidationError({"title": "请填写标题"})
    if not (details or "").strip():
        raise ValidationError({"details": "请写明问题与整改要求"})
    if deadline is None or deadline < timezone.localdate():
        raise ValidationError({"deadline": "整改期限不能早于今天"})
    notice = RectificationNotice(
        failing=failing, title=title.strip()[:100], details=details.strip(), deadline=deadline, issuer=issuer,
        target_region=target if isinstance(target, Region) else None,
        target_school=target if isinstance(target, School) else None,
        issuer_path=issuer.path, target_path=target_path, province_code=issuer.code[:2], issued_by=actor)
    save_with_history(notice, actor=actor, reason="签发整改通知")
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=target, target=notice,
                 message=f"签发整改通知：{notice.title}（{notice.get_failing_display()}）")
    return notice


def _lock_notice(notice: RectificationNotice) -> RectificationNotice:
    return (RectificationNotice.objects.select_for_update(of=("self",))
            .select_related("issuer", "target_region", "target_school").get(pk=notice.pk))


def can_reply(user, notice: RectificationNotice) -> bool:
    """The target unit's own approver or registrar answers a notice (not a bureau above it)."""
    return (holds_directly(user, "approve_changes", notice.target)
            or holds_directly(user, "edit_students", notice.target))


@transaction.atomic
def rectification_reply(*, actor, notice: RectificationNotice, text: str, upload=None) -> RectificationReply:
    """The target unit replies what it did, with optional evidence (JPG/PNG/PDF ≤ 2 MB, private).
    ``actor``: the target unit's own approver or registrar. Allowed while the notice awaits the
    target (issued or returned). Raises PermissionDenied or ValidationError."""
    notice = _lock_notice(notice)
    if not can_reply(actor, notice):
        raise PermissionDenied("只有整改单位的审核人或学籍管理员可以回复")
    if notice.status not in RectificationNotice.AWAITING_TARGET:
        raise ValidationError("该整改通知当前不需要回复")
    if not (text or "").strip():
        raise ValidationError({"text": "请填写整改情况"})
    reply = RectificationReply(notice=notice, text=text.strip(), replied_by=actor)
    if upload is not None:
        try:
            content_type, extension = check_scan(upload)
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages}) from exc
        reply.evidence.save(f"rectification{notice.pk}{extension}", upload, save=False)
        reply.evidence_type = content_type
    save_with_history(reply, actor=actor, reason="整改回复")
    notice.status = RectificationNotice.Status.REPLIED
    save_with_history(notice, actor=actor, reason="整改回复", update_fields=["status"])
    audit_record(actor=actor, kind=AuditEvent.Kind.SUBMISSION, unit=notice.target, target=notice,
                 message=f"回复整改通知：{notice.title}")
    return reply


@transaction.atomic
def rectification_review(*, actor, notice: RectificationNotice, decision: str, comment: str = "",
                         new_deadline: date | None = None) -> RectificationNotice:
    """The issuing bureau closes the notice or returns it (with a reason, and optionally a new
    deadline) after the target's reply. ``actor`` needs ``approve_changes`` on the issuer and may
    not be the one who replied. Raises PermissionDenied or ValidationError."""
    notice = _lock_notice(notice)
    require_unit_perm(actor, "approve_changes", notice.issuer)
    if notice.status != RectificationNotice.Status.REPLIED:
        raise ValidationError("只有已回复的整改通知可以审核")
    reply = notice.replies.filter(decision=RectificationReply.Decision.PENDING).order_by("-replied_at", "-id").first()
    if reply is not None and reply.replied_by_id == actor.pk:
        raise PermissionDenied("不能审核自己提交的整改回复")
    comment = (comment or "").strip()
    now = timezone.now()
    if decision == RectificationReply.Decision.CLOSED:
        notice.status, notice.closed_by, notice.closed_at = RectificationNotice.Status.CLOSED, actor, now
        fields = ["status", "closed_by", "closed_at"]
    elif decision == RectificationReply.Decision.RETURNED:
        if not comment:
            raise ValidationError({"comment": "退回须说明理由"})
        if new_deadline is not None and new_deadline < timezone.localdate():
            raise ValidationError({"new_deadline": "新的整改期限不能早于今天"})
        notice.status = RectificationNotice.Status.RETURNED
        notice.deadline = new_deadline or notice.deadline
        fields = ["status", "deadline"]
    else:
        raise ValidationError({"decision": "请选择审核结果"})
    if reply is not None:
        reply.decision, reply.review_comment, reply.reviewed_by, reply.reviewed_at = decision, comment, actor, now
        save_with_history(reply, actor=actor, reason="审核整改回复",
                          update_fields=["decision", "review_comment", "reviewed_by", "reviewed_at"])
    save_with_history(notice, actor=actor, reason="审核整改回复", update_fields=fields)
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=notice.target, target=notice, reason=comment,
                 message=f"整改通知{'关闭' if decision == 'closed' else '退回'}：{notice.title}")
    return notice


# --------------------------------------------------------------------------------------------
# Quarterly reports


def is_reporting_unit(region: Region) -> bool:
    """A unit that reports to its province every quarter: a city (地市), or a county-level unit
    directly under a province (e.g. 仙桃 429004, a municipality's district). DESIGN.md §3, §6."""
    return region.level == Region.Level.CITY or (region.parent_id or "").endswith("0000")


@transaction.atomic
def quarterly_report_request(*, actor, city: Region, year: int, quarter: int) -> QuarterlyReport:
    """Create (or regenerate, while not submitted) the quarterly report of ``city`` for ``year`` Q
    ``quarter`` and queue its generation in Celery (``oversight.tasks.quarterly_report_generate``).
    ``actor`` needs ``approve_changes`` on ``city``; the quarter must have begun. Raises
    PermissionDenied, or ValidationError (not a reporting unit, future quarter, already submitted)."""
    require_unit_perm(actor, "approve_changes", city)
    if not is_reporting_unit(city):
        raise ValidationError("季度报告由地市级教育行政部门报送")
    if quarter not in (1, 2, 3, 4) or not 2000 <= year <= 2100:
        raise ValidationError({"quarter": "请选择年度和季度"})
    if figures.quarter_bounds(year, quarter)[0] > timezone.localdate():
        raise ValidationError({"quarter": "该季度尚未开始"})
    report = QuarterlyReport.objects.select_for_update().filter(city=city, year=year, quarter=quarter).first()
    if report is not None and report.status == QuarterlyReport.Status.SUBMITTED:
        raise ValidationError("该季度报告已报送，不能重新生成")
    report = report or QuarterlyReport(city=city, year=year, quarter=quarter, city_path=city.path,
                                       province_code=city.code[:2])
    report.status, report.figures, report.error = QuarterlyReport.Status.QUEUED, {}, ""
    report.requested_by, report.requested_at, report.generated_at = actor, timezone.now(), None
    save_with_history(report, actor=actor, reason="生成季度报告")
    from .tasks import quarterly_report_generate

    quarterly_report_generate.delay_on_commit(report.pk)
    return report


def quarterly_report_generate(*, report_id: int, now=None) -> QuarterlyReport:
    """Compute the figures of report ``report_id`` (the Celery task's work). A failure is kept on
    the report (status failed, short message) instead of being lost in a worker log; a submitted
    report is left alone. Returns the report."""
    with transaction.atomic():
        report = QuarterlyReport.objects.select_for_update(of=("self",)).select_related("city").get(pk=report_id)
        if report.status == QuarterlyReport.Status.SUBMITTED:
            return report
        try:
            with transaction.atomic():
                report.figures = figures.report_figures(report.city_path, report.province_code, report.year,
                                                        report.quarter, now)
            report.status, report.error, report.generated_at = QuarterlyReport.Status.READY, "", timezone.now()
        except Exception as exc:  # noqa: BLE001 - any failure must show on the report, not vanish
            report.status, report.error = QuarterlyReport.Status.FAILED, f"{type(exc).__name__}: {exc}"[:300]
        save_with_history(report, actor=None, reason="季度报告生成",
                          update_fields=["figures", "status", "error", "generated_at"])
    return report


@transaction.atomic
def quarterly_report_submit(*, actor, report: QuarterlyReport, note: str = "") -> QuarterlyReport:
    """The city reviews (an optional note) and submits its report to the province. ``actor`` needs
    ``approve_changes`` on the city. Only a generated report (ready) can be submitted; it is then
    frozen. Raises PermissionDenied or ValidationError."""
    report = QuarterlyReport.objects.select_for_update(of=("self",)).select_related("city").get(pk=report.pk)
    require_unit_perm(actor, "approve_changes", report.city)
    if report.status != QuarterlyReport.Status.READY:
        raise ValidationError("只有已生成、待报送的报告可以报送")
    report.review_note = (note or "").strip()
    report.status, report.submitted_by, report.submitted_at = QuarterlyReport.Status.SUBMITTED, actor, timezone.now()
    save_with_history(report, actor=actor, reason="报送季度报告",
                      update_fields=["review_note", "status", "submitted_by", "submitted_at"])
    audit_record(actor=actor, kind=AuditEvent.Kind.SUBMISSION, unit=report.city, target=report,
                 message=f"报送{report}")
    return report
