"""Fill the database with N synthetic students for benchmarks (see bench/README.md).

    .venv/bin/python bench/generate.py --province 340000 --students 1000000 [--seed N] [--reset]

Sets up Django itself (DATABASE_URL as for manage.py); the regions must be loaded first.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="生成基准测试用的合成学生数据")
    parser.add_argument("--province", required=True, help="省级行政区划代码，如 340000")
    parser.add_argument("--students", type=int, required=True, help="学生人数")
    parser.add_argument("--seed", type=int, default=1, help="随机种子（相同种子生成相同数据）")
    parser.add_argument("--reset", action="store_true", help="先删除此前生成的该省数据")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")
    import django

    django.setup()
    from bench.dataset import DatasetError, dataset_generate

    last = [0.0]

    def progress(result):
        if result.seconds - last[0] >= 10 or result.students >= args.students:
            last[0] = result.seconds
            print(f"  {result.students:>10,} 名学生  {result.seconds:7.1f} 秒  {result.students_per_second:,.0f} 行/秒",
                  flush=True)

    try:
        result = dataset_generate(province_code=args.province, students=args.students, seed=args.seed,
                                  reset=args.reset, progress=progress)
    except DatasetError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    if result.deleted:
        print(f"已删除此前生成的 {result.deleted:,} 名学生及其学校（{result.reset_seconds:.1f} 秒，不计入下面的用时）")
    elapsed = result.seconds
    print(f"完成：学校 {result.schools:,} 所，年级 {result.grades:,} 个，班级 {result.classes:,} 个，"
          f"学生 {result.students:,} 名（另有同数量的历史记录）")
    print(f"用时 {elapsed:.1f} 秒，{result.students / elapsed:,.0f} 名学生/秒")
    return 0


if __name__ == "__main__":
    sys.exit(main())
