"""The fixed cast of role users in two provinces (STYLE.md §7), built through services.

安徽省 340000
  合肥市 340100 ── 瑶海区 340102: school_a (小学), school_a2 (小学)
               └─ 蜀山区 340104: school_b (小学)
               └─ city school: senior_school (高中, authority 合肥市)
  芜湖市 340200 ── 镜湖区 340202
湖北省 420000
  仙桃市 429004 (county-level city directly under the province): other_school (小学)
"""

from types import SimpleNamespace

from accounts.models import Role
from accounts.services import role_grant, user_create
from schools.models import Region
from schools.services import class_create, grade_create, region_path, school_create

REGIONS = [
    ("340000", "安徽省", "province", None),
    ("340100", "合肥市", "city", "340000"),
    ("340102", "瑶海区", "county", "340100"),
    ("340104", "蜀山区", "county", "340100"),
    ("340200", "芜湖市", "city", "340000"),
    ("340202", "镜湖区", "county", "340200"),
    ("420000", "湖北省", "province", None),
    ("429004", "仙桃市", "county", "420000"),
]

PASSWORD = "xueji2026demo"


def make_regions() -> dict[str, Region]:
    """Create the regions above (the loader is tested on its own) and return them by code."""
    regions: dict[str, Region] = {}
    for code, name, level, parent in REGIONS:
        region = Region(code=code, name=name, level=level, parent=regions.get(parent))
        region.path = region_path(region)
        region.save()
        regions[code] = region
    return regions


def make_school(code: str, name: str, region: Region, authority: Region | None = None, stage="primary",
                classes_per_grade: int = 2):
    """A school with all grades of its stages and ``classes_per_grade`` classes in each."""
    school = school_create(actor=None, school_code=code, name=name, stage=stage, region=region,
                           authority=authority or region)
    for st in school.stages():
        for level in range(1, school.years_of(st) + 1):
            grade = grade_create(actor=None, school=school, stage=st, level=level)
            for number in range(1, classes_per_grade + 1):
                class_create(actor=None, grade=grade, number=number)
    return school


def _user(username: str, real_name: str, unit=None):
    home = None
    if unit is not None:
        home = getattr(unit, "region", None) or getattr(getattr(unit, "school", None), "region", None) or unit
    return user_create(actor=None, username=username, real_name=real_name, password=PASSWORD,
                       home_region=home, must_change_password=False)


# (attribute, school code, name, region code, authority code or None, stage)
SCHOOLS = [
    ("school_a", "3401020001", "瑶海区第一小学", "340102", None, "primary"),
    ("school_a2", "3401020002", "瑶海区第二小学", "340102", None, "primary"),
    ("school_b", "3401040001", "蜀山区实验小学", "340104", None, "primary"),
    ("senior_school", "3401000001", "合肥市第一中学", "340100", None, "senior"),
    ("other_school", "4290040001", "彭场镇第二小学", "429004", None, "primary"),
]

# (username, real name, role, unit: a school attribute, "class_a", a region code, or None)
GRANTS = [
    ("registrar_a", "张学籍", Role.REGISTRAR, "school_a"),
    ("approver_a", "李校长", Role.APPROVER, "school_a"),
    ("registrar_a2", "王学籍", Role.REGISTRAR, "school_a2"),
    ("approver_a2", "赵校长", Role.APPROVER, "school_a2"),
    ("registrar_b", "钱学籍", Role.REGISTRAR, "school_b"),
    ("approver_b", "孙校长", Role.APPROVER, "school_b"),
    ("head_teacher_a", "周老师", Role.HEAD_TEACHER, "class_a"),
    ("county_registrar", "吴科员", Role.REGISTRAR, "340102"),
    ("county_approver", "郑科长", Role.APPROVER, "340102"),
    ("other_county_approver", "冯科长", Role.APPROVER, "340104"),
    ("city_approver", "陈处长", Role.APPROVER, "340100"),
    ("province_approver", "褚处长", Role.APPROVER, "340000"),
    ("inspector", "卫督学", Role.INSPECTOR, "340100"),
    ("system_admin", "蒋系统", Role.SYSTEM_ADMIN, "340000"),
    ("security_admin", "沈安全", Role.SECURITY_ADMIN, "340000"),
    ("audit_admin", "韩审计", Role.AUDIT_ADMIN, "340000"),
    ("other_province_registrar", "杨学籍", Role.REGISTRAR, "other_school"),
    ("other_province_approver", "朱校长", Role.APPROVER, "other_school"),
    ("other_province_county_approver", "秦科长", Role.APPROVER, "429004"),
    ("other_security_admin", "尤安全", Role.SECURITY_ADMIN, "420000"),
    ("guardian_a", "许家长", Role.GUARDIAN, None),
]


def _unit(c: SimpleNamespace, key):
    if key is None:
        return None
    return c.regions[key] if key in c.regions else getattr(c, key)


def build_cast() -> SimpleNamespace:
    """Create regions, schools and one user per role and unit through services; return them all."""
    r = make_regions()
    c = SimpleNamespace(regions=r)
    for attr, code, name, region, authority, stage in SCHOOLS:
        setattr(c, attr, make_school(code, name, r[region], r[authority] if authority else None, stage=stage))
    c.class_a = c.school_a.classes.order_by("grade__level", "number").first()
    for username, real_name, role, unit_key in GRANTS:
        unit = _unit(c, unit_key)
        user = _user(username, real_name, unit)
        role_grant(actor=None, user=user, role=role, unit=unit)
        setattr(c, username, user)
    c.nobody = _user("nobody", "无角色")
    return c


def load_cast() -> SimpleNamespace | None:
    """Fresh instances of the cast built earlier in this database, or None when it is not there.

    Fresh per test, so that in-memory changes and per-request caches never leak between tests.
    """
    from accounts.models import User
    from schools.models import School

    users = User.objects.in_bulk([g[0] for g in GRANTS] + ["nobody"], field_name="username")
    if len(users) != len(GRANTS) + 1:
        return None
    c = SimpleNamespace(regions=Region.objects.in_bulk([code for code, *_ in REGIONS]))
    schools = School.objects.in_bulk([s[1] for s in SCHOOLS], field_name="school_code")
    for attr, code, *_ in SCHOOLS:
        setattr(c, attr, schools[code])
    c.class_a = c.school_a.classes.order_by("grade__level", "number").first()
    for username, user in users.items():
        setattr(c, username, user)
    return c
