"""Navigation by role: which menu entries the logged-in user sees."""

from xueji.access import held_codenames

# (codename, label, url name): an entry shows when the user holds the codename on some unit.
NAV_ITEMS = [
    ("view_students", "学籍", "students:list"),
    ("edit_students", "Excel导入", "imports:batch_list"),
    ("approve_changes", "审核队列", "transfers:queue"),
    ("view_students", "学籍异动", "transfers:change_list"),
    ("view_students", "毕业升级", "schoolyear:graduation_index"),
    ("view_students", "核对随访", "audits:roll_index"),
    ("manage_units", "学校管理", "schools:school_list"),
    ("manage_roles", "角色授权", "accounts:grant_list"),
    ("read_audit", "审计日志", "audits:event_list"),
    ("view_students", "责任书", "agreements:index"),
    ("manage_units", "责任书模板", "agreements:template_list"),
    ("manage_units", "入学年龄窗口", "agreements:age_windows"),
    ("manage_units", "节假日", "calendar:index"),
    # Oversight: an entry listed under several codenames shows once.
    ("approve_changes", "统计概览", "oversight:dashboard_home"),
    ("inspect", "统计概览", "oversight:dashboard_home"),
    ("edit_students", "统计概览", "oversight:dashboard_home"),
    ("inspect", "抽查", "oversight:inspection_list"),
    ("approve_changes", "抽查", "oversight:inspection_list"),
    ("edit_students", "抽查核实", "oversight:verification_list"),
    ("approve_changes", "整改通知", "oversight:rectification_list"),
    ("edit_students", "整改通知", "oversight:rectification_list"),
    ("inspect", "整改通知", "oversight:rectification_list"),
    ("approve_changes", "季度报告", "oversight:report_list"),
    ("inspect", "季度报告", "oversight:report_list"),
]
# Users holding no unit right (guardians; a registrar whose agreement is not signed yet) still reach these.
NO_UNIT_NAV_ITEMS = [("我的孩子", "agreements:portal"), ("我的责任书", "agreements:mine")]


def navigation(request):
    """Adds ``nav_items``: [(label, url_name)] the user may open. Unknown url names are skipped."""
    from django.urls import NoReverseMatch, reverse

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    held = held_codenames(user)
    items = []
    for codename, label, url_name in NAV_ITEMS:
        if codename not in held:
            continue
        if any(label == seen for seen, _ in items):
            continue
        try:
            items.append((label, reverse(url_name)))
        except NoReverseMatch:
            continue
    if not held:
        items += [(label, reverse(url_name)) for label, url_name in NO_UNIT_NAV_ITEMS]
    # The entry whose address is the longest prefix of this page is the active one (/changes/queue/
    # beats /changes/).
    matches = [url for _, url in items if request.path.startswith(url)]
    return {"nav_items": items, "nav_active": max(matches, key=len, default="")}
