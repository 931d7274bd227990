"""Time the yearly promotion, the monthly roll-check opening and the nightly integrity scan on a
generated province (see bench/README.md, "School year and roll checks").

    DATABASE_URL=postgres://…/xueji_h10bench .venv/bin/python bench/schoolyear_bench.py \
        --province 340000 [--students 50000] [--keep] [--only promotion|roll|integrity]

Everything runs in one transaction that is rolled back at the end unless ``--keep``: the data set
is left as it was. ``--students N`` promotes only the first schools (by path) until N students were
seen; without it the whole province goes through ``promotion_execute`` as the Celery task would.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Rollback(Exception):
    pass


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="升级、按月核对与数据核查的耗时")
    parser.add_argument("--province", default="340000")
    parser.add_argument("--students", type=int, default=0, help="只升级前若干所学校，直到覆盖这么多学生")
    parser.add_argument("--keep", action="store_true", help="保留结果（默认回滚）")
    parser.add_argument("--only", choices=["promotion", "roll", "integrity"], default=None)
    parser.add_argument("--year", type=int, default=date.today().year + (date.today().month >= 9),
                        help="升入的学年（默认：下一个8月的年份，使本学年9月入学的新生也随之升级）")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")
    import django

    django.setup()
    from django.db import transaction

    try:
        with transaction.atomic():
            if args.only in (None, "promotion"):
                bench_promotion(args)
            if args.only in (None, "roll"):
                bench_roll_checks()
            if args.only in (None, "integrity"):
                bench_integrity()
            if not args.keep:
                raise Rollback
    except Rollback:
        print("已回滚（数据未改变）")
    return 0


def bench_promotion(args) -> None:
    from accounts.models import User
    from schools.models import Region, School
    from schoolyear.models import PromotionRun
    from schoolyear.services import _finish, promotion_school, promotion_start
    from students.models import Student

    province = Region.objects.get(code=args.province)
    actor = User.objects.filter(role_grants__role="approver", role_grants__region=province).first()
    if actor is None:
        raise SystemExit("该省没有省级审核人账号（先运行 seed_demo）")
    PromotionRun.objects.filter(province=province).delete()  # a bench rerun in the same copy
    from django.db import transaction

    with transaction.atomic():  # the run's task is queued on the outer commit, which never comes
        run = promotion_start(actor=actor, province=province, today=date(args.year, 8, 10))
    schools = School.objects.filter(path__startswith=province.path).order_by("path")
    students = Student.objects.filter(school_path__startswith=province.path).count()
    started = time.perf_counter()
    seen = done = 0
    run.status = PromotionRun.Status.RUNNING
    for school in schools.iterator():
        result = promotion_school(run=run, school=school)
        seen += result.promoted + result.skipped
        done += 1
        if args.students and seen >= args.students:
            break
    elapsed = time.perf_counter() - started
    run = _finish(run, PromotionRun.Status.DONE)
    print(f"升级：{done} 所学校，升级 {run.promoted_count:,} 人，未升级 {run.skipped_count:,} 人"
          f"（全省共 {students:,} 条学籍），用时 {elapsed:.1f} 秒，{seen / elapsed:,.0f} 名学生/秒")


def bench_roll_checks() -> None:
    from audits.roll_services import roll_checks_open

    started = time.perf_counter()
    opened = roll_checks_open(month=date(2030, 1, 1))
    print(f"按月核对：生成 {opened:,} 个班级核对，用时 {time.perf_counter() - started:.1f} 秒")


def bench_integrity() -> None:
    from audits.integrity import CHECKS, integrity_scan

    total = 0.0
    for kind in CHECKS:
        started = time.perf_counter()
        result = integrity_scan(kinds=[kind])[kind]
        elapsed = time.perf_counter() - started
        total += elapsed
        print(f"  核查 {kind:<24} 发现 {result['found']:>8,}  {elapsed:6.2f} 秒")
    print(f"数据核查：共 {total:.1f} 秒")


if __name__ == "__main__":
    sys.exit(main())
