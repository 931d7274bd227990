"""Dashboard timings on the bench database (1,000,000 students; bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xueji_bench .venv/bin/python bench/dashboard_bench.py

1. Refreshes the precomputed figures of 安徽省 (``oversight.services.figures_refresh``) and times it
   (skip with ``--no-refresh``).
2. For the province, a city and a county dashboard, each as the demo approver of that unit, starts a
   fresh Python process (empty Django caches: URL resolver, templates, grants) which logs in and
   times the first request (cold) and then ``--warm`` more (warm: median and 95th percentile).
   Server time = Django's handling of the request through every middleware (the test client, no
   network). Runs with DEBUG off, as deployed.
3. Prints each dashboard's headline figures next to the same counts taken directly from the
   students and approval-step tables, so the figures are checked on the big data set too.
4. Times a seeded sample of the province's active records (``oversight.sampling.draw``, what an
   inspection draws; nothing is written), twice with the same seed, and checks both are equal.

Does not change the bench data: it writes only the figures tables and the demo users' sessions.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = [("province", "demo_province_approver", "340000"), ("city", "demo_city_approver", "340100"),
           ("county", "demo_county_approver", "340102")]


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")
    import django

    django.setup()


def measure(level: str, warm: int) -> dict:
    """In this (fresh) process: log in as the level's user, time one cold and ``warm`` warm requests."""
    _setup()
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User

    _, username, code = next(t for t in TARGETS if t[0] == level)
    client = Client()
    client.force_login(User.objects.get(username=username))
    url = reverse("oversight:dashboard_region", args=[code])
    started = time.perf_counter()
    response = client.get(url)
    cold = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(warm):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    times.sort()
    return {"level": level, "url": url, "cold_ms": round(cold * 1000, 1),
            "warm_median_ms": round(statistics.median(times) * 1000, 1),
            "warm_p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)] * 1000, 1), "bytes": len(response.content)}


def figures_check() -> list[dict]:
    """Each target's stored figures beside the same counts taken directly from the tables."""
    from django.utils import timezone

    from oversight.selectors import unit_figures
    from schools.models import Region
    from students.models import Student
    from transfers.models import ApprovalStep

    today = timezone.localdate()
    rows = []
    for level, _, code in TARGETS:
        path = Region.objects.get(code=code).path
        stored = unit_figures(path)
        active = Student.objects.filter(school_path__startswith=path, status="active")
        steps = ApprovalStep.objects.filter(unit_path__startswith=path, status="current")
        rows.append({
            "level": level, "unit": code,
            "active": (stored.get(("status", "active"), 0), active.count()),
            "grade_11": (stored.get(("students", "11"), 0),
                         active.filter(grade__stage="primary", grade__level=1).count()),
            "open_steps": (stored.get(("steps", "open"), 0), steps.count()),
            "overdue_steps": (stored.get(("steps", "overdue"), 0), steps.filter(due_date__lt=today).count()),
        })
    return rows


def sampling_check(size: int = 500, percent: str = "1") -> list[str]:
    """Draw the province's sample twice per mode (a size, a percentage); report times and equality."""
    from decimal import Decimal

    from oversight.sampling import draw
    from students.models import Student

    candidates = Student.objects.filter(status="active", province_code="34", school_path__startswith="340000/")
    lines = []
    for label, kwargs in ((f"{size} records", {"size": size}), (f"{percent} %", {"percent": Decimal(percent)})):
        times, samples = [], []
        for _ in range(2):
            started = time.perf_counter()
            population, ids = draw(candidates, "bench-2026", **kwargs)
            times.append(time.perf_counter() - started)
            samples.append(ids)
        lines.append(f"  {label:<12} of {population:,}: {len(ids):,} drawn in {times[0]:.2f} s, again in "
                     f"{times[1]:.2f} s, same sample: {samples[0] == samples[1]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-refresh", action="store_true", help="keep the stored figures")
    parser.add_argument("--warm", type=int, default=30, help="warm requests per dashboard (default 30)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.warm)))
        return
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"),
           "LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    _setup()
    from students.models import Student

    print(f"database: {Student.objects.count():,} students")
    if not args.no_refresh:
        from oversight.services import figures_refresh

        started = time.perf_counter()
        refresh = figures_refresh(province_code="34")
        print(f"figures refresh (安徽省): {time.perf_counter() - started:.2f} s "
              f"({refresh.seconds:.2f} s inside the transaction)")
    print(f"\n{'dashboard':<10}{'cold ms':>10}{'warm median ms':>16}{'warm p95 ms':>13}  url")
    for level, _, _ in TARGETS:
        out = subprocess.run([sys.executable, __file__, "--measure", level, "--warm", str(args.warm)], env=env,
                             capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{level:<10}{result['cold_ms']:>10}{result['warm_median_ms']:>16}{result['warm_p95_ms']:>13}  "
              f"{result['url']}")
    print("\nfigures (stored / counted directly):")
    for row in figures_check():
        cells = "  ".join(f"{k} {v[0]:,}/{v[1]:,}{'' if v[0] == v[1] else ' MISMATCH'}"
                          for k, v in row.items() if isinstance(v, tuple))
        print(f"  {row['level']:<9}{row['unit']}  {cells}")
    print("\nseeded sampling (oversight.sampling.draw):")
    print("\n".join(sampling_check()))


if __name__ == "__main__":
    main()
