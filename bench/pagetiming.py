"""Shared parts of the page benchmarks (pages_bench.py, queue_bench.py): Django set-up on the kept
benchmark database, the bench accounts, and timing pages through Django's test Client.

Server time here is the time ``Client.get`` takes in this process: URL resolution, middleware,
the view, its queries and the template, without a network or a web server in front. The query
count comes from one extra, untimed request (capturing queries slows every query a little).
"""

import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BENCH_PASSWORD = "bench-Pass-2026"
# Generated data (bench/dataset.py) sit in schools whose code starts with 9.
GENERATED_PREFIX = "9"


def setup_django() -> None:
    """Configure Django for a benchmark run. Needs DATABASE_URL (the kept ``xueji_bench`` database:
    page figures on an empty database mean nothing). Raises SystemExit without it."""
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("请设置 DATABASE_URL，例如 postgres://postgres@127.0.0.1:5432/xueji_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")
    # Bench registrars act without the signed responsibility agreement (not what is measured).
    os.environ["XUEJI_REQUIRE_REGISTRAR_AGREEMENT"] = "0"
    os.environ.setdefault("AXES_ENABLED", "0")
    import django

    django.setup()
    from django.conf import settings

    # What setup_test_environment would do, without its template instrumentation (the test
    # Client then copies every template context, a cost production does not pay).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@dataclass
class Actors:
    """The bench accounts and the units they sit on (all in the largest generated county)."""

    county: object
    city: object
    school: object
    registrar: object
    county_approver: object
    city_approver: object
    extra: dict = field(default_factory=dict)


def _largest_county_and_school():
    from django.db.models import Count

    from schools.models import Region, School

    schools = (School.objects.filter(school_code__startswith=GENERATED_PREFIX)
               .annotate(n=Count("students")).values_list("pk", "region_id", "n"))
    per_county: dict[str, int] = {}
    biggest: dict[str, tuple[int, int]] = {}
    for pk, region_id, n in schools:
        per_county[region_id] = per_county.get(region_id, 0) + n
        if n > biggest.get(region_id, (0, 0))[1]:
            biggest[region_id] = (pk, n)
    if not per_county:
        raise SystemExit("数据库中没有生成的学生：先运行 bench/generate.py")
    county_code = max(per_county, key=per_county.get)
    county = Region.objects.get(code=county_code)
    return county, School.objects.get(pk=biggest[county_code][0])


def _account(username: str, real_name: str, role: str, unit):
    from accounts.models import RoleGrant, User
    from accounts.services import role_grant, user_create

    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(actor=None, username=username, real_name=real_name, password=BENCH_PASSWORD,
                           home_region=getattr(unit, "region", unit), must_change_password=False)
    kind = "school" if unit._meta.model_name == "school" else "region"
    if not RoleGrant.objects.filter(user=user, role=role, **{kind: unit}).exists():
        role_grant(actor=None, user=user, role=role, unit=unit)
    return user


def bench_actors() -> Actors:
    """The bench accounts (created through accounts.services the first time; reused after):
    ``bench_registrar`` on the largest generated school of the largest county,
    ``bench_county_approver`` on that county, ``bench_city_approver`` on its city."""
    from accounts.models import Role
    from schools.models import Region
    from xueji.scope import path_codes

    county, school = _largest_county_and_school()
    codes = path_codes(county.path)
    city = Region.objects.get(code=codes[-2]) if len(codes) >= 3 else county
    return Actors(
        county=county, city=city, school=school,
        registrar=_account("bench_registrar", "基准学籍员", Role.REGISTRAR, school),
        county_approver=_account("bench_county_approver", "基准县级审核人", Role.APPROVER, county),
        city_approver=_account("bench_city_approver", "基准市级审核人", Role.APPROVER, city),
    )


@dataclass
class Timing:
    label: str
    who: str
    times_ms: list[float]
    queries: int
    status: int
    cpu_ms: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms) if self.cpu_ms else 0.0

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def client_for(user):
    """A test Client logged in as ``user`` (force_login: one session row)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def time_get(client, url: str, *, label: str, who: str, repeat: int, warmup: int = 1,
             show_queries: bool = False, headers: dict | None = None) -> Timing:
    """GET ``url`` ``warmup`` times untimed, once more counting the queries, then ``repeat``
    times timed. Returns a Timing (milliseconds)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = headers or {}
    # Warm caches first (the holiday calendar, the first request's imports), then count.
    for _ in range(max(1, warmup)):
        client.get(url, headers=headers)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, headers=headers)
    queries = len(ctx.captured_queries)
    if show_queries:
        print(f"--- {label} / {who}: {url}")
        for q in ctx.captured_queries:
            print(f"  {float(q['time']) * 1000:8.1f} ms  {q['sql'][:400]}")
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return Timing(label=label, who=who, times_ms=times, queries=queries, status=response.status_code, cpu_ms=cpu)


def print_table(rows: list[Timing], target_ms: float) -> None:
    """Print one line per timing: median, p95 and fastest wall time (the fastest is the best
    estimate of the time without other processes competing for the CPU), median CPU time of this
    process (the Python share; the database server's CPU is not in it), queries, and whether the
    median wall time meets the target."""
    width = max(len(r.label) for r in rows) + 2
    print(f"{'页面':<{width}}{'用户':<18}{'中位数ms':>10}{'p95 ms':>10}{'最快ms':>9}{'CPU ms':>8}{'查询数':>8}  状态")
    for r in rows:
        flag = "OK" if r.median < target_ms and r.status == 200 else "超标" if r.status == 200 else f"HTTP {r.status}"
        print(f"{r.label:<{width}}{r.who:<18}{r.median:>10.1f}{r.p95:>10.1f}{min(r.times_ms):>9.1f}{r.cpu:>8.1f}"
              f"{r.queries:>8}  {flag} {r.note}")
