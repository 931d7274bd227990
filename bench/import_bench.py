"""Benchmark: import a 10,000-row national sheet end to end (parse, validate, write, history).

    .venv/bin/python bench/import_bench.py [--rows 10000] [--seed N] [--profile]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xueji_h9bench .venv/bin/python bench/import_bench.py

Without DATABASE_URL it uses its own SQLite file var/bench/import_bench.sqlite3 (never the
development database). It migrates, loads the regions when the table is empty, creates a fresh
primary school (6 grades × 8 classes) with a registrar, generates a valid file of synthetic
first- to sixth-graders (students/synthetic.py), then times ``batch_upload`` + ``batch_start``
in this process (the Celery threshold is raised so the whole run is timed here) and prints rows/s
for the whole and for each phase. The file is written with XlsxWriter when installed (its output
has the structure of Excel's: shared strings and a <dimension>), else with openpyxl.
"""

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Excel 导入基准测试")
    parser.add_argument("--rows", type=int, default=10_000, help="行数（默认 10000）")
    parser.add_argument("--seed", type=int, default=None, help="随机种子（默认按时间）")
    parser.add_argument("--profile", action="store_true", help="输出 cProfile 前 30 项")
    return parser.parse_args(argv)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        path = ROOT / "var" / "bench" / "import_bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")
    # The registrar's responsibility agreement is not what is measured here.
    os.environ["XUEJI_REQUIRE_REGISTRAR_AGREEMENT"] = "0"
    os.environ.setdefault("AXES_ENABLED", "0")
    # As in production: with DEBUG on, Django keeps and formats the SQL of every query (on
    # SQLite it quotes each of the 10,000 rows' values again: ~2 s per import).
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    import django

    django.setup()
    from django.conf import settings

    settings.XUEJI_IMPORT_CELERY_ROWS = 10**9
    settings.PRIVATE_MEDIA_ROOT = ROOT / "var" / "bench" / "private"


def prepare(seed: int):
    """Migrate, load regions, create a school with classes and a registrar. Returns (school, user)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from schools.models import Region, School

    if not Region.objects.exists():
        call_command("load_regions", verbosity=0)
    from accounts.models import Role
    from accounts.services import role_grant, user_create
    from schools.services import class_create, grade_create, school_create

    county = Region.objects.get(code="340102")
    code = f"34010{seed % 100000:05d}"
    while School.objects.filter(school_code=code).exists():
        seed += 1
        code = f"34010{seed % 100000:05d}"
    school = school_create(actor=None, school_code=code, name=f"基准测试小学{code}", stage="primary",
                           region=county, authority=county)
    for level in range(1, 7):
        grade = grade_create(actor=None, school=school, stage="primary", level=level)
        for number in range(1, 9):
            class_create(actor=None, grade=grade, number=number)
    user = user_create(actor=None, username=f"bench_{code}", real_name="基准学籍员", password="bench-Pass-2026",
                       home_region=county, must_change_password=False)
    role_grant(actor=None, user=user, role=Role.REGISTRAR, unit=school)
    return school, user


def sheet_rows(count: int, seed: int) -> list[list]:
    """``count`` valid rows (national headers' order) of students in grades 1–6."""
    from django.utils import timezone

    from imports.template import national_headers
    from students.models import Student
    from students.synthetic import IdNumberAllocator, school_year_of, synthetic_student

    headers = national_headers()
    rng = random.Random(seed)
    allocator = IdNumberAllocator(Student.objects.exclude(id_number="").values_list("id_number", flat=True))
    year = school_year_of(timezone.localdate())
    out = []
    for i in range(count):
        level = i % 6 + 1
        s = synthetic_student(rng, allocator=allocator, home_county="340102", grade_number=level,
                              school_year=year, other_counties=["340104", "340111"])
        row = {
            "姓名": s.name, "性别": "男" if s.gender == "1" else "女", "出生日期": f"{s.birth_date:%Y%m%d}",
            "出生地行政区划代码": f"{s.id_number[:6]}000000", "籍贯": s.id_number[:6], "民族": "汉族",
            "国籍/地区": "中国", "身份证件类型": "居民身份证", "港澳台侨外": "否", "健康状况": "健康或良好",
            "政治面貌": "群众", "身份证件号": s.id_number, "户口性质": "非农业户口", "户口所在地行政区划": "340102",
            "班号": str(rng.randint(1, 8)), "入学年月": f"{year - level + 1}09", "入学方式": "就近入学",
            "就读方式": "走读", "现住址": f"瑶海区示范路{i}号", "联系电话": f"139{rng.randrange(10**8):08d}",
            "是否独生子女": rng.choice(["是", "否"]), "是否受过学前教育": "是", "是否留守儿童": "非留守儿童",
            "是否进城务工人员随迁子女": "否", "学生来源": "正常入学", "残疾类型": "无残疾", "随班就读": "非随班就读",
            "成员1姓名": s.name[0] + "建国", "成员1关系": "父亲", "成员1是否监护人": "是",
            "成员1联系电话": f"138{rng.randrange(10**8):08d}", "成员2姓名": "李秀英", "成员2关系": "母亲",
            "成员2是否监护人": "否", "成员2联系电话": f"137{rng.randrange(10**8):08d}",
        }
        out.append([row.get(h) for h in headers])
    return [headers, *out]


def write_xlsx(rows: list[list]) -> bytes:
    buffer = io.BytesIO()
    try:
        import xlsxwriter
    except ImportError:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("学生信息")
        for row in rows:
            ws.append(row)
        wb.save(buffer)
        return buffer.getvalue()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet("学生信息")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write_string(r, c, value)
    wb.close()
    return buffer.getvalue()


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_django()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from imports import parsing, services
    from students.models import Student

    seed = args.seed if args.seed is not None else int(time.time())
    school, user = prepare(seed)
    content = write_xlsx(sheet_rows(args.rows, seed))
    print(f"数据库：{connection.vendor}；文件 {len(content) / 1048576:.1f} MB，{args.rows:,} 行")

    timings = {}
    original = parsing.validate_file

    def timed_validate(*a, **kw):
        start, cpu = time.perf_counter(), time.process_time()
        result = original(*a, **kw)
        timings["parse_validate"] = time.perf_counter() - start
        timings["parse_validate_cpu"] = time.process_time() - cpu
        return result

    services.validate_file = timed_validate
    phases: dict[str, float] = {}

    def clocked(name, func):
        def wrapper(*a, **kw):
            cpu = time.process_time()
            try:
                return func(*a, **kw)
            finally:
                phases[name] = phases.get(name, 0.0) + time.process_time() - cpu
        return wrapper

    import students.services
    import transfers.services

    students.services.students_insert = clocked("students_insert", students.services.students_insert)
    transfers.services.registration_submit_new = clocked("registration_submit_new",
                                                         transfers.services.registration_submit_new)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start, cpu = time.perf_counter(), time.process_time()
    upload = SimpleUploadedFile("bench.xlsx", content)
    batch = services.batch_upload(actor=user, school=school, upload=upload)
    batch = services.batch_start(actor=user, batch=batch)
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
    if batch.status != "imported":
        print(f"导入未成功：{batch.get_status_display()} {batch.file_errors} "
              f"{list(batch.errors.values_list('row_number', 'column', 'message')[:5])}")
        return 1
    imported = Student.objects.filter(school=school).count()
    problems = verify(school, batch, args.rows)
    if problems:
        print("导入结果不完整：" + "；".join(problems))
        return 1
    write = total - timings["parse_validate"]
    write_cpu = total_cpu - timings["parse_validate_cpu"]
    print(f"导入 {imported:,} 名学生（含家庭成员、历史记录、注册批次）")
    for label, wall, cpu_s in (("读取+校验", timings["parse_validate"], timings["parse_validate_cpu"]),
                               ("上传+写入", write, write_cpu), ("端到端  ", total, total_cpu)):
        print(f"  {label} {wall:6.2f} 秒 {args.rows / wall:7,.0f} 行/秒"
              f"（本进程CPU {cpu_s:6.2f} 秒，{args.rows / cpu_s:7,.0f} 行/秒）")
    print("  写入各步CPU：" + "，".join(f"{k} {v:.2f} 秒" for k, v in phases.items()))
    return 0


def verify(school, batch, rows: int) -> list[str]:
    """Check, untimed, that the import wrote everything the figure claims: ``rows`` pending students
    with one history row each, two family members each with their history, and one registration
    batch holding them all. Returns the problems found (empty when complete)."""
    from students.models import FamilyMember, Student, StudentStatus
    from transfers.models import StatusChange

    students = Student.objects.filter(school=school)
    members = FamilyMember.objects.filter(student__school=school)
    counts = {
        "待审核学生": (students.filter(status=StudentStatus.PENDING).count(), rows),
        "学生历史记录": (Student.history.filter(school=school).count(), rows),
        "家庭成员": (members.count(), 2 * rows),
        "家庭成员历史记录": (FamilyMember.history.filter(student__school=school).count(), 2 * rows),
        "注册批次学生": (StatusChange.students.through.objects.filter(
            statuschange__school=school, student__school=school).count(), rows),
    }
    print("  核对：" + "，".join(f"{name} {got:,}" for name, (got, _) in counts.items()))
    return [f"{name} {got:,}（应为 {want:,}）" for name, (got, want) in counts.items() if got != want]


if __name__ == "__main__":
    sys.exit(main())
