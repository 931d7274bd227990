"""Unit permissions shared by Region, School and SchoolClass.

Every role grant becomes django-guardian object permissions on the unit it is granted on
(see accounts/roles.py). The same codenames exist on all three unit models so that a grant on a
county and a grant on a school answer the same question.
"""

from dataclasses import dataclass

UNIT_PERMISSIONS = [
    ("view_students", "查看学籍"),
    ("edit_students", "录入和修改学籍"),
    ("reveal_id_number", "查看完整身份证件号"),
    ("approve_changes", "审核学籍业务"),
    ("take_roll", "点名与按月核对"),
    ("inspect", "督查与抽查"),
    ("manage_units", "管理学校、年级与班级"),
    ("manage_roles", "授予和撤销角色"),
    ("read_audit", "查看审计日志"),
]


def path_codes(path: str) -> list[str]:
    """Split a materialised region path ("340000/340100/340102/") into its region codes.

    Returns the codes from the province down, e.g. ["340000", "340100", "340102"].
    """
    return [part for part in path.split("/") if part]


@dataclass(frozen=True)
class ScopeFields:
    """Where a model keeps its place in the tree, as ORM lookups from the model itself.

    ``path`` leads to a region or school path ("school_path", "school__path"); ``school`` and
    ``school_class`` to the ids of its school and class when it has them. The access layer reads
    a model's ``scope_fields`` class attribute to scope querysets and check permissions.
    """

    path: str
    school: str | None = None
    school_class: str | None = None
