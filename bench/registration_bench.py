"""Benchmark: the final (bureau) approval of one large registration batch, end to end.

    .venv/bin/python bench/registration_bench.py [--students 10000] [--seed N] [--profile]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xueji_numbers .venv/bin/python bench/registration_bench.py

Without DATABASE_URL it uses its own SQLite file var/bench/registration_bench.sqlite3 (never the
development database). Untimed set-up: migrate, load the regions when the table is empty, create a
fresh primary school in 瑶海区 (6 grades × 8 classes) with a registrar and a school approver (and a
county approver for 瑶海区 the first time), submit N synthetic first- to sixth-graders as one
registration batch through ``transfers.services.registration_submit_new`` (the Excel import's
write path) and approve the school's step. Timed: the county approver's ``step_decide`` of the
final step (the batch's students become active with their L numbers, one history row each, the
audit event, the notification). Then, untimed, it checks that the N students are active with N
distinct L numbers and exactly one new history row each naming the approver, and fails otherwise.
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "340102"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="新生注册批次终审基准测试")
    parser.add_argument("--students", type=int, default=10_000, help="批次人数（默认 10000）")
    parser.add_argument("--seed", type=int, default=None, help="随机种子（默认按时间）")
    parser.add_argument("--profile", action="store_true", help="输出 cProfile 前 30 项")
    parser.add_argument("--reject", action="store_true", help="终审退回（学生回到草稿）而不是通过")
    return parser.parse_args(argv)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        path = ROOT / "var" / "bench" / "registration_bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")
    os.environ["XUEJI_REQUIRE_REGISTRAR_AGREEMENT"] = "0"
    os.environ.setdefault("AXES_ENABLED", "0")
    os.environ.setdefault("DEBUG", "0")  # as in production: no SQL kept per query
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    import django

    django.setup()


def prepare(seed: int):
    """Migrate, load regions, create a school with classes and its registrar and approver, and the
    county approver. Returns (school, registrar, school approver, county approver)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import Role, User
    from accounts.services import role_grant, user_create
    from schools.models import Region, School
    from schools.services import class_create, grade_create, school_create

    if not Region.objects.exists():
        call_command("load_regions", verbosity=0)
    county = Region.objects.get(code=COUNTY)
    code = f"9{COUNTY}{seed % 1000:03d}"
    while School.objects.filter(school_code=code).exists():
        seed += 1
        code = f"9{COUNTY}{seed % 1000:03d}"
    school = school_create(actor=None, school_code=code, name=f"注册基准小学{code}", stage="primary",
                           region=county, authority=county)
    for level in range(1, 7):
        grade = grade_create(actor=None, school=school, stage="primary", level=level)
        for number in range(1, 9):
            class_create(actor=None, grade=grade, number=number)

    def person(username, real_name, role, unit):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(actor=None, username=username, real_name=real_name, password="bench-Pass-2026",
                               home_region=county, must_change_password=False)
            role_grant(actor=None, user=user, role=role, unit=unit)
        return user

    registrar = person(f"regbench_registrar_{code}", "基准学籍员", Role.REGISTRAR, school)
    principal = person(f"regbench_principal_{code}", "基准校长", Role.APPROVER, school)
    bureau = person("regbench_county_approver", "基准科长", Role.APPROVER, county)
    return school, registrar, principal, bureau


def entries(school, count: int, seed: int) -> list[tuple[dict, list[dict]]]:
    """``count`` (student values, [member1, member2]) of grades 1–6, as the import hands them over."""
    from django.utils import timezone

    from students.models import Student
    from students.synthetic import IdNumberAllocator, school_year_of, synthetic_student

    rng = random.Random(seed)
    allocator = IdNumberAllocator(Student.objects.exclude(id_number="").values_list("id_number", flat=True))
    year = school_year_of(timezone.localdate())
    grades = {g.level: (g, list(g.classes.all())) for g in school.grades.all()}
    out = []
    for i in range(count):
        level = i % 6 + 1
        s = synthetic_student(rng, allocator=allocator, home_county=COUNTY, grade_number=level, school_year=year,
                              other_counties=["340104", "340111"])
        grade, classes = grades[level]
        data = {"name": s.name, "gender": s.gender, "birth_date": s.birth_date, "id_type": "1",
                "id_number": s.id_number, "ethnicity": s.ethnicity, "nationality": "CHN", "grade": grade,
                "school_class": rng.choice(classes), "entry_month": f"{year - level + 1}09",
                "current_address": f"瑶海区示范路{i}号", "phone": f"139{rng.randrange(10**8):08d}"}
        members = [{"name": s.name[0] + "建国", "relation": "11", "is_guardian": True,
                    "phone": f"138{rng.randrange(10**8):08d}"},
                   {"name": "李秀英", "relation": "12", "is_guardian": False}]
        out.append((data, members))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_django()
    from django.db import connection

    from transfers.models import StepStatus
    from transfers.services import registration_submit_new, step_decide

    seed = args.seed if args.seed is not None else int(time.time())
    school, registrar, principal, bureau = prepare(seed)
    start = time.perf_counter()
    change = registration_submit_new(actor=registrar, school=school, entries=entries(school, args.students, seed),
                                     reason="注册基准测试")
    step_decide(actor=principal, step=change.steps.get(status=StepStatus.CURRENT), decision="approve")
    final = change.steps.get(status=StepStatus.CURRENT)
    print(f"数据库：{connection.vendor}；学校 {school.school_code}，批次 {change.pk}，{args.students:,} 名学生"
          f"（准备 {time.perf_counter() - start:.1f} 秒）")

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start, cpu = time.perf_counter(), time.process_time()
    decision, verb = ("reject", "退回") if args.reject else ("approve", "通过")
    step_decide(actor=bureau, step=final, decision=decision, comment=f"基准测试：终审{verb}")
    wall, own_cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
    problems = (verify_rejected if args.reject else verify)(school, bureau, args.students)
    if problems:
        print("结果不完整：" + "；".join(problems))
        return 1
    print(f"终审{verb} {args.students:,} 名学生：{wall:.2f} 秒，{args.students / wall:,.0f} 人/秒"
          f"（本进程CPU {own_cpu:.2f} 秒）")
    return 0


def verify(school, approver, count: int) -> list[str]:
    """Check, untimed, that the approval did what the figure claims: ``count`` active students
    with ``count`` distinct L numbers, each with exactly one history row of the approval (naming
    ``approver``, holding the new status and number) after its insertion row. Returns the
    problems found (empty when complete)."""
    from django.db.models import Count

    from students.models import Student, StudentStatus
    from students.validators import validate_student_number

    students = Student.objects.filter(school=school)
    numbers = list(students.values_list("student_number", flat=True))
    approvals = Student.history.filter(school=school, history_type="~", history_user=approver,
                                       status=StudentStatus.ACTIVE, number_kind="L")
    per_student = (Student.history.filter(id__in=students.values("pk")).order_by().values("id")
                   .annotate(rows=Count("history_id")).values_list("rows", flat=True))
    counts = {
        "在籍学生": (students.filter(status=StudentStatus.ACTIVE, number_kind="L").count(), count),
        "不同学籍号": (len(set(numbers)), count),
        "有效L学籍号": (sum(1 for n in numbers if n and validate_student_number(n)[0] == "L"), count),
        "注册通过历史记录": (approvals.count(), count),
        "历史记录为2条的学生": (sum(1 for n in per_student if n == 2), count),
    }
    print("  核对：" + "，".join(f"{name} {got:,}" for name, (got, _) in counts.items()))
    problems = [f"{name} {got:,}（应为 {want:,}）" for name, (got, want) in counts.items() if got != want]
    if approvals.exclude(student_number__in=numbers).exists():
        problems.append("历史记录中的学籍号与学籍不一致")
    return problems


def verify_rejected(school, approver, count: int) -> list[str]:
    """Check, untimed, that a rejection returned all ``count`` students to draft, each with exactly
    one history row of it naming ``approver``. Returns the problems found (empty when complete)."""
    from students.models import Student, StudentStatus

    students = Student.objects.filter(school=school)
    counts = {
        "草稿学生": (students.filter(status=StudentStatus.DRAFT).count(), count),
        "退回历史记录": (Student.history.filter(school=school, history_type="~", history_user=approver,
                                             status=StudentStatus.DRAFT).count(), count),
    }
    print("  核对：" + "，".join(f"{name} {got:,}" for name, (got, _) in counts.items()))
    return [f"{name} {got:,}（应为 {want:,}）" for name, (got, want) in counts.items() if got != want]


if __name__ == "__main__":
    sys.exit(main())
