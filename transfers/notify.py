"""Building in-app notifications (no writes of their own outside the calling service's transaction).

Who is told: the holders of a step's right *directly* on the step's unit (a county step tells the
county's approvers, not every province approver above), and a change's initiator when it is
decided. E-mail follows after commit through ``transfers.tasks.notifications_email``.
"""

from collections import defaultdict

from schools.models import RegionUserObjectPermission, SchoolUserObjectPermission

from .models import ApprovalStep, Notification


def unit_holders(items: list[tuple[object, object, str]]) -> dict[object, set[int]]:
    """{key: ids of active users holding ``codename`` directly on ``unit``} for (key, unit, codename)
    items, where unit is a Region or a School. Two queries at most, whatever the number of items."""
    wanted = {"region": defaultdict(list), "school": defaultdict(list)}
    for key, unit, codename in items:
        wanted[unit._meta.model_name][(unit.pk, codename)].append(key)
    holders: dict[object, set[int]] = defaultdict(set)
    for model, kind in ((RegionUserObjectPermission, "region"), (SchoolUserObjectPermission, "school")):
        if not wanted[kind]:
            continue
        rows = model.objects.filter(
            content_object_id__in={unit for unit, _ in wanted[kind]},
            permission__codename__in={c for _, c in wanted[kind]}, user__is_active=True,
        ).values_list("content_object_id", "permission__codename", "user_id")
        for unit_id, codename, user_id in rows:
            for key in wanted[kind].get((unit_id, codename), []):
                holders[key].add(user_id)
    return holders


def step_holders(steps: list[ApprovalStep]) -> dict[int, set[int]]:
    """{step pk: user ids who may act on the step, holding its right directly on its unit}."""
    return unit_holders([(step.pk, step.unit, step.codename) for step in steps])


def step_arrived(steps: list[ApprovalStep]) -> list[Notification]:
    """Notifications (unsaved) telling each holder that a step reached their queue."""
    holders = step_holders(steps)
    return [
        Notification(user_id=user_id, kind=Notification.Kind.STEP_ARRIVED, change_id=step.change_id,
                     message=f"待办：{_label(step)}已到达{step.unit}（{step.get_role_display()}），"
                             f"请于{step.due_date:%Y-%m-%d}前处理")
        for step in steps for user_id in sorted(holders.get(step.pk, ()))
    ]


def change_decided(change, text: str) -> Notification:
    """A notification (unsaved) telling the initiator what happened to their change."""
    return Notification(user_id=change.initiated_by_id, kind=Notification.Kind.CHANGE_DECIDED, change=change,
                        message=f"{_change_label(change)}：{text}"[:300])


def save_and_email(notifications: list[Notification]) -> list[Notification]:
    """Insert ``notifications`` in one query and queue their e-mails after commit."""
    if not notifications:
        return []
    created = Notification.objects.bulk_create(notifications)
    ids = [n.pk for n in created if n.pk]
    if ids:
        from .tasks import notifications_email

        notifications_email.delay_on_commit(ids)
    return created


def _label(step: ApprovalStep) -> str:
    return _change_label(step.change)


def _change_label(change) -> str:
    who = change.student.name if change.student_id else "新生注册批次"
    return f"{who}的{change.get_kind_display()}（编号 {change.pk}）"
