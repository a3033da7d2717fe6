"""Benchmark: the month-end positions import (accounts.imports.import_positions), end to end,
beside a per-row ORM import of a slice of the same file.

    .venv/bin/python bench/imports.py              # PostgreSQL fp_bench_imports, 1M rows
    .venv/bin/python bench/imports.py --quick      # 100k rows, 25k accounts
    .venv/bin/python bench/imports.py --accounts 200000 --products 5 --months 1
    .venv/bin/python bench/imports.py --database-url sqlite:////tmp/fp_bench_imports.sqlite3

WARNING: the bench DROPS and re-creates its database (PostgreSQL: the database named in
--database-url, which must contain "bench"; SQLite: the file). It never touches another one.

It generates accounts (COPY), products and two CSV files of positions in a temporary
directory: the big one (`--rows`, accounts x products x months) and a small one (its first
quarter). Then it measures, in this order:
  1. import_positions of the big file into an empty table (every row new), then of the same
     file again (every row unchanged: the second import changes nothing);
  2. the peak of Python memory (tracemalloc) while importing the small and then the big file
     (both already imported: the reading, staging and checking are the same work), and the
     process's maximum resident set size: memory stays flat in the file's size;
  3. a per-row ORM import (update_or_create per row, the account and product ids looked up
     in dicts loaded once) of the first `--slice` rows into an empty table, and
     import_positions of the same slice, for the ratio.
It prints a table and writes nothing else.
"""

from __future__ import annotations

import argparse
import datetime
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from variances import load, prepare_database, setup_django

TODAY = datetime.date(2026, 12, 15)
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fp_bench_imports"
PRODUCTS = ["LOAN", "DDA", "FX", "CARD", "TD", "LEASE", "CASH", "SAVE"]


def generate(args) -> dict:
    from django.db import connection, transaction

    from accounts.models import Account, Product, Segment, Tier
    from org.models import Role, User

    t0 = time.perf_counter()
    with transaction.atomic():
        segment = Segment.objects.create(name="Commercial")
        tier = Tier.objects.create(code="B", name="Grow", retention_target_pct=90)
        rm = User.objects.create(username="rm_bench", role=Role.RM)
        for code in PRODUCTS[: args.products]:
            Product.objects.create(code=code, name=code, family="deposit")
        load(
            Account,
            ["number", "name", "segment_id", "tier_id", "owner_id", "status", "lost_reason"],
            (
                (f"CB{i:08d}", f"Customer {i}", segment.pk, tier.pk, rm.pk, "active", "")
                for i in range(1, args.accounts + 1)
            ),
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE accounts_account")
    return {"seconds": time.perf_counter() - t0}


def write_files(args, directory: Path) -> tuple[Path, Path, int, int]:
    """The big file (`args.rows` rows) and the small one (its first quarter)."""
    rnd = random.Random(20261215)
    products = PRODUCTS[: args.products]
    months = [f"2026-{m:02d}" for m in range(12 - args.months, 12)]
    big, small = directory / "positions.csv", directory / "positions_small.csv"
    header = "account_number,product_code,month,balance,revenue\n"
    n, quarter = 0, args.rows // 4
    with big.open("w") as out, small.open("w") as part:
        out.write(header)
        part.write(header)
        done = False
        for month in months:
            for i in range(1, args.accounts + 1):
                for code in products:
                    line = (
                        f"CB{i:08d},{code},{month},{rnd.randrange(10**9) / 100:.2f},"
                        f"{rnd.randrange(10**6) / 100:.2f}\n"
                    )
                    out.write(line)
                    if n < quarter:
                        part.write(line)
                    n += 1
                    if n == args.rows:
                        done = True
                        break
                if done:
                    break
            if done:
                break
    return big, small, n, min(n, quarter)


class Phases:
    """Seconds spent in each kind of statement of an import (an execute_wrapper)."""

    KINDS = (
        ("CREATE TEMP TABLE imp_rows", "look-up scan"),
        ("INSERT INTO accounts_position", "insert"),
        ("UPDATE accounts_position", "update"),
        ("SELECT", "checks"),
    )

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            text = sql.lstrip()
            kind = next((k for prefix, k in self.KINDS if text.startswith(prefix)), "other")
            self.seconds[kind] = self.seconds.get(kind, 0) + time.perf_counter() - t0


def timed_import(path: Path, *, trace: bool = False):
    """(seconds, result, peak traced bytes, phases) of one import_positions, end to end:
    from opening the file to the commit."""
    from django.db import connection, transaction

    from accounts.imports import import_positions

    if trace:
        tracemalloc.start()
    phases = Phases()
    t0 = time.perf_counter()
    with connection.execute_wrapper(phases), path.open("rb") as f:
        with transaction.atomic():
            result = import_positions(f, today=TODAY)
            before_commit = time.perf_counter()
        phases.seconds["commit (deferred FK checks)"] = time.perf_counter() - before_commit
    seconds = time.perf_counter() - t0
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    phases.seconds["reading + COPY"] = seconds - sum(phases.seconds.values())
    return seconds, result, peak, phases


def orm_import(path: Path, rows: int) -> float:
    """The per-row way: update_or_create for each row (ids from dicts loaded once)."""
    from django.db import transaction

    from accounts.models import Account, Position, Product

    accounts = dict(Account.objects.values_list("number", "pk"))
    products = dict(Product.objects.values_list("code", "pk"))
    t0 = time.perf_counter()
    with path.open() as f, transaction.atomic():
        next(f)
        for n, line in enumerate(f):
            if n == rows:
                break
            number, code, month, balance, revenue = line.rstrip("\n").split(",")
            Position.objects.update_or_create(
                account_id=accounts[number],
                product_id=products[code],
                month=datetime.date.fromisoformat(month + "-01"),
                defaults={"balance": Decimal(balance), "revenue": Decimal(revenue)},
            )
    return time.perf_counter() - t0


def empty_positions() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE accounts_position")
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("DELETE FROM accounts_position")


def mb(n: float) -> str:
    return f"{n / 1024 / 1024:,.1f} MB"


def measure(args, directory: Path) -> None:
    import os

    from django.db import connection

    big, small, rows, small_rows = write_files(args, directory)
    print(
        f"database: {connection.vendor}; {args.accounts:,} accounts, {args.products} products, "
        f"{args.months} months; file {rows:,} rows ({mb(big.stat().st_size)}); "
        f"load average before: {os.getloadavg()[0]:.1f} (2 cores)"
    )
    empty_positions()
    runs = []
    fresh = timed_import(big)
    runs.append((f"import_positions, new rows, {rows:,}", fresh))
    again = timed_import(big)
    runs.append((f"import_positions, same file again, {rows:,}", again))

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    small_peak = timed_import(small, trace=True)
    rss_small = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    big_peak = timed_import(big, trace=True)
    rss_big = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    slice_path = directory / "slice.csv"
    with big.open() as f, slice_path.open("w") as out:
        for n, line in enumerate(f):
            if n > args.slice:
                break
            out.write(line)
    empty_positions()
    orm_seconds = orm_import(big, args.slice)
    empty_positions()
    slice_run = timed_import(slice_path)
    runs.append((f"import_positions, new rows, slice of {args.slice:,}", slice_run))

    print(f"{'':46}{'seconds':>9}{'rows/s':>11}{'new':>10}{'changed':>9}{'unchanged':>11}")
    for label, (seconds, result, _peak, _phases) in runs:
        print(
            f"{label:46}{seconds:>9.2f}{result.rows / seconds:>11,.0f}{result.created:>10,}"
            f"{result.updated:>9,}{result.unchanged:>11,}"
        )
    print(
        f"{'per-row ORM update_or_create, slice of ' + format(args.slice, ','):46}"
        f"{orm_seconds:>9.2f}{args.slice / orm_seconds:>11,.0f}"
    )
    orm_rate = args.slice / orm_seconds
    print(
        "ratio set-based / per-row ORM: "
        f"{(rows / fresh[0]) / orm_rate:.0f}x (new rows), "
        f"{(rows / again[0]) / orm_rate:.0f}x (same file again), "
        f"{(args.slice / slice_run[0]) / orm_rate:.0f}x (the slice)"
    )
    for label, run in ((f"new rows, {rows:,}", fresh), (f"same file again, {rows:,}", again)):
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in run[3].seconds.items() if v >= 0.05)
        print(f"where the time goes ({label}): {parts}")
    print(
        f"peak Python memory (tracemalloc): {small_rows:,} rows {mb(small_peak[2])}, "
        f"{rows:,} rows {mb(big_peak[2])}"
    )
    print(
        f"max resident set size: {rss_before / 1024:,.0f} MB before, "
        f"{rss_small / 1024:,.0f} MB after {small_rows:,} rows, "
        f"{rss_big / 1024:,.0f} MB after {rows:,} rows"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--accounts", type=int, default=125_000)
    parser.add_argument("--products", type=int, default=4, choices=range(1, len(PRODUCTS) + 1))
    parser.add_argument("--months", type=int, default=2, choices=range(1, 12))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--slice", type=int, default=5_000, help="rows imported one by one")
    parser.add_argument("--quick", action="store_true", help="100k rows, 25k accounts")
    args = parser.parse_args()
    if args.quick:
        args.accounts, args.rows, args.slice = 25_000, 100_000, 2_000
    args.rows = min(args.rows, args.accounts * args.products * args.months)
    prepare_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    generate(args)
    with tempfile.TemporaryDirectory(prefix="fp_bench_imports_") as directory:
        measure(args, Path(directory))


if __name__ == "__main__":
    main()
