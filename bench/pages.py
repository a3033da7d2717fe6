"""Benchmark: queries and server time of the main pages, demo bank at scale 1 and scale 10.

    .venv/bin/python bench/pages.py                      # SQLite files under /tmp
    .venv/bin/python bench/pages.py --postgres postgres://postgres@127.0.0.1:5432
    .venv/bin/python bench/pages.py --scales 1 10 --repeat 15

Each scale is seeded into a database of its own, in a child process (Django settings are
per process), then every page is requested --repeat times through Django's test client
by the user who would open it. It reports, side by side, the number of queries (which
should not change with scale) and the median and 90th-percentile server time, and the
ratio of scale 10 to scale 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-23"  # fixed, so every run benchmarks the same bank


def measure(scale: int, repeat: int) -> dict:
    """In the child: seed, then time each page. Returns {page: {queries, median_ms, p90_ms}}."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmgmt.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import Account, Position
    from org.models import Team, User

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", scale=scale, reset=True, as_of=AS_OF, stdout=quiet)
    seed_seconds = time.perf_counter() - started

    rm = User.objects.get(username="rm1")
    leader = User.objects.get(username="leader1")
    executive = User.objects.get(username="exec1")
    account = Account.objects.filter(owner=rm, positions__isnull=False).order_by("pk").first()
    team = Team.objects.get(leader=leader)
    pages = {
        "book (rm1)": (rm, reverse("accounts:book")),
        "book, tier A sorted by loan (rm1)": (rm, reverse("accounts:book") + "?tier=A&sort=-loan"),
        "accounts (leader1)": (leader, reverse("accounts:book")),
        "accounts (exec1, whole bank)": (executive, reverse("accounts:book")),
        "account page (rm1)": (rm, account.get_absolute_url()),
        "team overview (leader1)": (leader, reverse("org:team", args=[team.pk])),
        "bank overview (exec1)": (executive, reverse("org:bank")),
    }
    results = {}
    for name, (user, url) in pages.items():
        client = Client()
        client.force_login(user)
        client.get(url)  # warm caches and connections; not counted
        timings = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        timings.sort()
        results[name] = {
            "queries": len(queries.captured_queries),
            "median_ms": statistics.median(timings),
            "p90_ms": timings[int(0.9 * (len(timings) - 1))],
        }
    return {
        "scale": scale,
        "vendor": connection.vendor,
        "seed_seconds": seed_seconds,
        "accounts": Account.objects.count(),
        "positions": Position.objects.count(),
        "rms": User.objects.filter(role="rm").count(),
        "pages": results,
    }


def run_child(scale: int, repeat: int, database_url: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50),
        "DJANGO_HTTPS": "0",
        "DJANGO_STATIC_MANIFEST": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(scale), "--repeat", str(repeat)],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"scale {scale} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def database_url_for(scale: int, postgres: str | None) -> str:
    if not postgres:
        path = Path("/tmp") / f"flightpath-bench-scale{scale}.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = f"flightpath_bench_scale{scale}"
    admin = postgres.rstrip("/")
    subprocess.run(
        ["psql", f"{admin}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True
    )
    subprocess.run(["psql", f"{admin}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    return f"{admin}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--postgres", help="server URL without a database name")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        print(json.dumps(measure(args.child, args.repeat)))
        return

    runs = [run_child(s, args.repeat, database_url_for(s, args.postgres)) for s in args.scales]
    first, last = runs[0], runs[-1]
    print(
        f"database: {first['vendor']}; {args.repeat} requests a page; "
        "server time through Django's test client"
    )
    for run in runs:
        print(
            f"  scale {run['scale']:>2}: {run['rms']} RMs, {run['accounts']:,} accounts, "
            f"{run['positions']:,} positions, seeded in {run['seed_seconds']:.1f} s"
        )
    header = f"{'page':38}" + "".join(
        f"{'q@' + str(s):>6}{'med ms@' + str(s):>12}{'p90 ms@' + str(s):>12}"
        for s in (r["scale"] for r in runs)
    )
    print(header + f"{'time ratio':>12}")
    for name in first["pages"]:
        cells = "".join(
            f"{r['pages'][name]['queries']:>6}{r['pages'][name]['median_ms']:>12.1f}{r['pages'][name]['p90_ms']:>12.1f}"
            for r in runs
        )
        ratio = last["pages"][name]["median_ms"] / first["pages"][name]["median_ms"]
        print(f"{name:38}{cells}{ratio:>11.2f}x")


if __name__ == "__main__":
    main()
