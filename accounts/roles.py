"""What each role may do, as object-permission codenames on the unit it is granted on.

The codenames are defined once in xueji/scope.py on Region, School and SchoolClass. Rule source:
DESIGN.md §1 (roles) and 三员分立 (system, security and audit administrators are separate; the
system administrator reads no student data; the audit administrator reads only logs).
"""

from .models import Role

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.REGISTRAR: ("view_students", "edit_students", "reveal_id_number"),
    Role.APPROVER: ("view_students", "approve_changes", "reveal_id_number"),
    Role.HEAD_TEACHER: ("view_students", "take_roll"),
    Role.INSPECTOR: ("view_students", "inspect"),
    Role.GUARDIAN: (),
    Role.SYSTEM_ADMIN: ("manage_units",),
    Role.SECURITY_ADMIN: ("manage_roles",),
    Role.AUDIT_ADMIN: ("read_audit",),
}

# Which kinds of unit each role may be granted on.
ROLE_UNIT_KINDS: dict[str, tuple[str, ...]] = {
    Role.REGISTRAR: ("region", "school"),
    Role.APPROVER: ("region", "school"),
    Role.HEAD_TEACHER: ("school_class",),
    Role.INSPECTOR: ("region",),
    Role.GUARDIAN: (),
    Role.SYSTEM_ADMIN: ("region",),
    Role.SECURITY_ADMIN: ("region",),
    Role.AUDIT_ADMIN: ("region",),
}
