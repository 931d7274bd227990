"""Benchmark: approval queues with 10,000 open changes on the 1,000,000-student database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xueji_bench .venv/bin/python bench/queue_bench.py \
        [--changes 10000] [--seed 1] [--fresh] [--repeat 20] [--batches 5] [--show-queries]
    … bench/queue_bench.py --remove        # delete the bench changes and stop

Data: ``--changes`` open changes (transfers within and across counties, suspensions, withdrawals)
for random students of the generated schools, spread over the province's counties in proportion to
their students, built by bench/queue_data.py with the services' route and deadline code and
written in bulk. About 60 % wait at a bureau approver step, the rest anywhere on their route; they
arrived 0–15 days ago, so some are overdue. Re-running REUSES the bench changes when their number
matches ``--changes`` (else, or with ``--fresh``, it deletes them and creates them again).

Measured (server time through Django's test Client, see bench/pagetiming.py):
* the queue page (/changes/queue/) of ``bench_county_approver`` (the largest county), sorted,
  filtered, a later page and the escalation view; the same for ``bench_city_approver`` and the demo
  province approver, whose queues are larger (bureau steps below them): the query count must not
  depend on the queue's size;
* a batch approval of the first 100 steps of the county approver's queue with
  ``transfers.services.steps_decide_batch``, and the same through the queue page's POST, each
  inside a transaction that is rolled back afterwards, so the queue stays as it was for the next
  run and no student really moves.
Targets (issue 4): the queue page under 100 ms, the batch under 5 s, queries per page constant.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pagetiming import bench_actors, client_for, print_table, setup_django, time_get  # noqa: E402

TARGET_MS = 100
TARGET_BATCH_S = 5
BATCH = 100


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="审核队列与批量审核基准测试")
    parser.add_argument("--changes", type=int, default=10_000, help="在办业务数（默认 10000）")
    parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
    parser.add_argument("--at-bureau", type=float, default=0.6, help="停在教育局审核步骤的比例（默认 0.6）")
    parser.add_argument("--fresh", action="store_true", help="删除并重新生成基准业务")
    parser.add_argument("--remove", action="store_true", help="只删除基准业务")
    parser.add_argument("--repeat", type=int, default=20, help="每个页面计时次数（默认 20）")
    parser.add_argument("--warmup", type=int, default=2, help="计时前的预热次数（默认 2）")
    parser.add_argument("--batches", type=int, default=5, help="批量审核的次数（每次回滚，默认 5）")
    parser.add_argument("--only", default="", help="只测标签或用户包含该文字的页面")
    parser.add_argument("--show-queries", action="store_true", help="打印每个页面的SQL及耗时")
    return parser.parse_args(argv)


def ensure_changes(args) -> None:
    from django.utils import timezone

    from bench import queue_data
    from transfers.models import StatusChange

    initiator, decider = queue_data.bench_users()
    existing = StatusChange.objects.filter(initiated_by=initiator).count()
    if existing and (args.fresh or args.remove or existing != args.changes):
        start = time.perf_counter()
        removed = queue_data.changes_remove(initiator)
        print(f"删除基准业务 {removed:,} 项：{time.perf_counter() - start:.1f} 秒")
        existing = 0
    if args.remove:
        return
    if existing:
        print(f"沿用已有的基准业务 {existing:,} 项（--fresh 重新生成）")
        return
    start = time.perf_counter()
    built = queue_data.plan(count=args.changes, seed=args.seed, now=timezone.now(), at_bureau=args.at_bureau,
                            initiator=initiator, decider=decider)
    planned = time.perf_counter() - start
    written = queue_data.rows_write(built, initiator=initiator)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transfers_statuschange; ANALYZE transfers_approvalstep")
    print(f"生成基准业务 {written:,} 项、审核步骤 {sum(len(b.steps) for b in built):,} 个："
          f"规划 {planned:.1f} 秒，写入 {time.perf_counter() - start - planned:.1f} 秒")


def describe_queues(actors, province) -> None:
    from django.db.models import Count

    from transfers import selectors

    for who, user in (("县级审核人", actors.county_approver), ("市级审核人", actors.city_approver),
                      ("省级审核人(demo)", province)):
        if user is None:
            continue
        kinds = dict(selectors.queue_steps(user).order_by().values_list("change__kind").annotate(n=Count("pk")))
        print(f"  {who} 待办 {sum(kinds.values()):,} 项 {kinds}")


def page_scenarios(actors, province) -> list[tuple[str, str, object, str]]:
    from django.urls import reverse

    url = reverse("transfers:queue")
    out = [
        ("待办队列", "县级审核人", actors.county_approver, url),
        ("待办队列 到达最晚", "县级审核人", actors.county_approver, f"{url}?sort=-arrived"),
        ("待办队列 只看转学", "县级审核人", actors.county_approver, f"{url}?kind=transfer"),
        ("待办队列 只看逾期", "县级审核人", actors.county_approver, f"{url}?overdue=1"),
        ("待办队列 按学校", "县级审核人", actors.county_approver, f"{url}?school={actors.school.school_code}"),
        ("待办队列 第2页", "县级审核人", actors.county_approver, f"{url}?page=2"),
        ("下级逾期", "县级审核人", actors.county_approver, f"{url}?view=escalations"),
        ("待办队列", "市级审核人", actors.city_approver, url),
        ("待办队列 第5页", "市级审核人", actors.city_approver, f"{url}?page=5"),
        ("下级逾期", "市级审核人", actors.city_approver, f"{url}?view=escalations"),
    ]
    if province is not None:
        out += [
            ("待办队列", "省级审核人(demo)", province, url),
            ("待办队列 第20页", "省级审核人(demo)", province, f"{url}?page=20"),
            ("下级逾期", "省级审核人(demo)", province, f"{url}?view=escalations"),
        ]
    return out


def time_batches(actors, repeat: int) -> None:
    """Approve the first BATCH steps of the county approver's queue, ``repeat`` times through the
    service and ``repeat`` times through the page's POST, each in a rolled-back transaction."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from transfers import selectors, services
    from xueji.access import forget_grants

    user = actors.county_approver
    ids = list(selectors.queue_steps(user).order_by("due_date", "pk").values_list("pk", flat=True)[:BATCH])
    if len(ids) < BATCH:
        print(f"县级审核人待办只有 {len(ids)} 项，不足 {BATCH} 项：用 --changes 或 --at-bureau 增加")
        return
    results = {}
    decide_url = reverse("transfers:queue_decide")
    for label in ("steps_decide_batch", f"POST {decide_url}"):
        times, queries = [], 0
        client = client_for(user) if label.startswith("POST") else None
        for _ in range(repeat):
            forget_grants(user)
            with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                if client is None:
                    steps = list(selectors.queue_steps(user).filter(pk__in=ids))
                    services.steps_decide_batch(actor=user, steps=steps, decision="approve", comment="同意（基准测试）")
                else:
                    response = client.post(decide_url,
                                           {"steps": ids, "decision": "approve", "comment": "同意（基准测试）"})
                    assert response.status_code == 302, response.status_code
                times.append(time.perf_counter() - start)
                queries = len(ctx.captured_queries)
                transaction.set_rollback(True)
        results[label] = (times, queries)
    for label, (times, queries) in results.items():
        flag = "OK" if statistics.median(times) < TARGET_BATCH_S else "超标"
        print(f"批量通过 {BATCH} 项 {label}: 中位数 {statistics.median(times):.2f} 秒，"
              f"最慢 {max(times):.2f} 秒，查询 {queries} 次（{len(times)} 次，均回滚）{flag}")


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User

    ensure_changes(args)
    if args.remove:
        return 0
    actors = bench_actors()
    province = User.objects.filter(username="demo_province_approver").first()
    print(f"{timezone.localtime():%Y-%m-%d %H:%M} 负载 {os.getloadavg()[0]:.1f} "
          f"数据库 {connection.settings_dict['NAME']}；"
          f"县 {actors.county} 市 {actors.city}")
    describe_queues(actors, province)
    clients, rows = {}, []
    for label, who, user, url in page_scenarios(actors, province):
        if args.only and args.only not in label and args.only not in who:
            continue
        client = clients.get(user.pk) or clients.setdefault(user.pk, client_for(user))
        rows.append(time_get(client, url, label=label, who=who, repeat=args.repeat, warmup=args.warmup,
                             show_queries=args.show_queries))
    if rows:
        print_table(rows, TARGET_MS)
    if args.batches:
        time_batches(actors, args.batches)
    return 0 if all(r.status == 200 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
