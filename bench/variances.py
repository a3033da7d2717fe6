"""Benchmark: the nightly set-based variance recompute against the same figures per RM.

    .venv/bin/python bench/variances.py               # PostgreSQL fp_bench, 200k accounts
    .venv/bin/python bench/variances.py --full        # ~12M positions
    .venv/bin/python bench/variances.py --accounts 20000 --rms 200 --products 1.67
    .venv/bin/python bench/variances.py --database-url sqlite:////tmp/fp_bench.sqlite3

WARNING: the bench DROPS and re-creates its database (PostgreSQL: the database named in
--database-url, which must contain "bench"; SQLite: the file). It never touches another one.

It generates a bank directly (COPY on PostgreSQL, executemany on SQLite): RMs in teams of
ten with leaders, accounts spread over them (some opened, lost or closed during the year, 2 %
handed to another RM during it), `--months` of month-end positions (`--products` products
per account on average: 0.5 by default, 1.67 with --full for ~12M positions at 200k
accounts), activities, won and open opportunities, frozen forecasts, a product-mix standard
and approved targets on every metric for every RM, team and the bank.

Then it measures, in this order:
  1. per RM in Python: `rm_plan_versus_actual` computed live for every period of the year,
     for the first `--slice` RMs; the time per RM extrapolated to every RM gives the cost of
     doing the job one RM at a time (teams and the bank not even counted);
  2. `variances_recompute`: time, queries, rows written; twice (the second run replaces the
     first's rows: the steady nightly case);
  3. that the stored rows of the slice's RMs equal the live figures of step 1.
It prints a table and writes nothing else.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2026, 12, 15)  # the plan year 2026; November is the closed month
PLAN_YEAR = 2026
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fp_bench"


def prepare_database(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme.startswith("postgres"):
        name = parsed.path.lstrip("/")
        if "bench" not in name:
            sys.exit(f"refusing to drop {name!r}: the bench database's name must contain 'bench'")
        admin = url.rsplit("/", 1)[0] + "/postgres"
        print(f"WARNING: dropping and re-creating the database {name!r}", file=sys.stderr)
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    else:
        path = Path(parsed.path)
        if "bench" not in path.name:
            sys.exit(f"refusing to delete {path}: the bench file's name must contain 'bench'")
        print(f"WARNING: deleting {path}", file=sys.stderr)
        path.unlink(missing_ok=True)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmgmt.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("DJANGO_HTTPS", "0")
    os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- loading ----------------------------------------------------------------------------------


def load(model, columns: list[str], rows) -> int:
    """COPY (PostgreSQL) or executemany (SQLite) `rows` into `model`'s table."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    n = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        else:
            marks = ", ".join(["%s"] * len(columns))
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == 50_000:
                    cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
                    n += len(batch)
                    batch = []
            if batch:
                cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
                n += len(batch)
    return n


def add_months(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def generate(args) -> dict:
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import (
        Account,
        Activity,
        Opportunity,
        OwnershipChange,
        Position,
        Product,
        Segment,
        Tier,
    )
    from org.models import Role, Team, User
    from planning.demo import _catalogue
    from planning.models import (
        ForecastSnapshot,
        PlanYear,
        ProductMixStandard,
        TargetLine,
        TargetSet,
    )

    rnd = random.Random(20261215)
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    with transaction.atomic():
        metrics = _catalogue()
        tiers = [
            Tier.objects.create(code=c, name=c, retention_target_pct=Decimal(p))
            for c, p in (("A", "100"), ("B", "90"), ("C", "85"))
        ]
        segment = Segment.objects.create(name="Commercial")
        products = [
            Product.objects.create(code=code, name=code, family=family)
            for code, family in (
                ("TL", "loan"),
                ("CL", "loan"),
                ("DDA", "deposit"),
                ("MM", "deposit"),
                ("CM", "other"),
            )
        ]
        plan_year = PlanYear.objects.create(
            year=PLAN_YEAR,
            starts_on=datetime.date(PLAN_YEAR, 1, 1),
            ends_on=datetime.date(PLAN_YEAR, 12, 31),
            product_weight_pct=80,
            rb_weight_pct=20,
        )
        for family, share in (("loan", "50"), ("deposit", "35"), ("other", "15")):
            ProductMixStandard.objects.create(
                plan_year=plan_year, family=family, target_share_pct=Decimal(share)
            )
        execs = User.objects.bulk_create(
            [User(username=f"exec{i}", role=Role.EXECUTIVE, password="!") for i in (1, 2)]
        )
        n_teams = max(1, args.rms // 10)
        leaders = User.objects.bulk_create(
            [
                User(username=f"leader{i}", role=Role.LEADER, password="!")
                for i in range(1, n_teams + 1)
            ]
        )
        teams = Team.objects.bulk_create(
            [Team(name=f"Team {i}", leader=lead) for i, lead in enumerate(leaders, 1)]
        )
        rms = User.objects.bulk_create(
            [
                User(username=f"rm{i}", role=Role.RM, password="!", team=teams[(i - 1) % n_teams])
                for i in range(1, args.rms + 1)
            ],
            batch_size=2000,
        )
        rm_ids = [u.pk for u in rms]

        # approved targets on every metric for every RM, team and the bank
        values = {
            "loan_growth": "8",
            "deposit_growth": "6",
            "tier_a_retention": "100",
            "retention": "90",
            "new_relationships": "6",
            "cross_sell_ratio": "1.8",
            "activities_per_week": "8",
            "product_mix_share": "80",
            "forecast_accuracy": "85",
        }
        subjects = [("bank", None, None)] + [("team", t, None) for t in teams]
        subjects += [("rm", None, u) for u in rms]
        sets = TargetSet.objects.bulk_create(
            [
                TargetSet(
                    plan_year=plan_year,
                    scope=scope,
                    team=team,
                    rm=rm,
                    status=TargetSet.Status.APPROVED,
                    created_by=execs[0],
                    last_edited_by=execs[0],
                    proposed_by=execs[0],
                    decided_by=execs[1],
                )
                for scope, team, rm in subjects
            ],
            batch_size=2000,
        )
        TargetLine.objects.bulk_create(
            [
                TargetLine(target_set=s, metric=metrics[code], value=Decimal(value), weight=11)
                for s in sets
                for code, value in values.items()
            ],
            batch_size=5000,
        )

        # accounts
        year_start = datetime.date(PLAN_YEAR, 1, 1)
        accounts = []  # (pk, owner, opened_on, closed_on)
        rows = []
        for pk in range(1, args.accounts + 1):
            owner = rm_ids[(pk - 1) % len(rm_ids)]
            r = rnd.random()
            opened = datetime.date(2010 + pk % 15, 1 + pk % 12, 1 + pk % 28)
            status, closed, reason = "active", None, ""
            if r < 0.05:  # opened this year
                opened = datetime.date(PLAN_YEAR, 1 + pk % 11, 1 + pk % 28)
            elif r < 0.08:  # lost this year
                status, closed, reason = "lost", datetime.date(PLAN_YEAR, 1 + pk % 11, 10), "Price"
            elif r < 0.10:  # closed this year
                status, closed = "closed", datetime.date(PLAN_YEAR, 1 + pk % 11, 20)
            tier = tiers[0 if r > 0.85 else 1 if r > 0.5 else 2].pk
            accounts.append((pk, owner, opened, closed))
            rows.append(
                (
                    pk,
                    f"B{pk:09d}",
                    f"Customer {pk}",
                    segment.pk,
                    tier,
                    owner,
                    status,
                    opened,
                    closed,
                    reason,
                )
            )
        counts["accounts"] = load(
            Account,
            [
                "id",
                "number",
                "name",
                "segment_id",
                "tier_id",
                "owner_id",
                "status",
                "opened_on",
                "closed_on",
                "lost_reason",
            ],
            rows,
        )
        del rows

        # hand-overs: 2 % of the accounts move to another RM during the year
        moved = rnd.sample(range(1, args.accounts + 1), args.accounts // 50)
        changes = []
        for i, pk in enumerate(moved, 1):
            owner = accounts[pk - 1][1]
            previous = rm_ids[(rm_ids.index(owner) + 1) % len(rm_ids)] if len(rm_ids) > 1 else None
            if previous is None:
                continue
            when = timezone.make_aware(datetime.datetime(PLAN_YEAR, 1 + i % 11, 1 + i % 28, 9))
            changes.append((i, pk, previous, owner, when, "Bench hand-over"))
        counts["ownership changes"] = load(
            OwnershipChange,
            ["id", "account_id", "previous_owner_id", "new_owner_id", "changed_at", "reason"],
            changes,
        )

        # positions: --months month-ends to the closed month
        closed_month = add_months(datetime.date(TODAY.year, TODAY.month, 1), -1)
        months = [add_months(closed_month, -i) for i in range(args.months - 1, -1, -1)]
        whole, frac = int(args.products), args.products - int(args.products)

        def positions():
            pid = 0
            for pk, _owner, opened, closed in accounts:
                k = whole + (1 if (pk * 0.6180339887) % 1 < frac else 0)
                held = [products[(pk + j) % len(products)] for j in range(min(k, len(products)))]
                base = 10_000 + (pk * 7919) % 990_000
                for product in held:
                    for i, month in enumerate(months):
                        if month < opened.replace(day=1):
                            continue
                        if closed is not None and month > closed:
                            break
                        pid += 1
                        balance = 0 if product.family == "other" else base + (i * pk) % 50_000
                        yield (pid, pk, product.pk, month, f"{balance}.00", f"{base // 1000}.00")

        counts["positions"] = load(
            Position, ["id", "account_id", "product_id", "month", "balance", "revenue"], positions()
        )

        # activities, won and open opportunities, forecasts: per RM and month of the year
        year_months = [m for m in months if m >= year_start]
        owned: dict[int, list[int]] = {}
        for pk, owner, _o, _c in accounts:
            owned.setdefault(owner, []).append(pk)

        def activities():
            aid = 0
            for rm in rm_ids:
                book = owned.get(rm) or [1]
                for month in year_months:
                    for j in range(30 + rm % 10):
                        aid += 1
                        day = month.replace(day=1 + j % 28)
                        yield (
                            aid,
                            ("call", "visit", "review")[j % 3],
                            day,
                            rm,
                            book[j % len(book)],
                            "",
                        )

        counts["activities"] = load(
            Activity, ["id", "kind", "date", "rm_id", "account_id", "outcome"], activities()
        )

        def opportunities():
            oid = 0
            kinds = ("new_business", "cross_sell", "renewal")
            for rm in rm_ids:
                book = owned.get(rm) or [1]
                for month in year_months:
                    for j in range(5):
                        oid += 1
                        product = products[(rm + j) % len(products)]
                        won = j < 3
                        created = add_months(month, -2)
                        yield (
                            oid,
                            book[(j * 7) % len(book)],
                            product.pk,
                            rm,
                            f"{10_000 * (1 + (rm + j) % 9)}.00",
                            "closing",
                            60 if won else 40,
                            month.replace(day=15),
                            kinds[j % 3],
                            "won" if won else "open",
                            created,
                            month.replace(day=10 + j) if won else None,
                        )

        counts["opportunities"] = load(
            Opportunity,
            [
                "id",
                "account_id",
                "product_id",
                "rm_id",
                "amount",
                "stage",
                "probability",
                "expected_close",
                "kind",
                "status",
                "created_on",
                "closed_on",
            ],
            opportunities(),
        )
        now = timezone.now()
        counts["forecast snapshots"] = load(
            ForecastSnapshot,
            ["id", "rm_id", "month", "amount", "taken_at"],
            (
                (i, rm, month, f"{60_000 + rm % 7 * 1000}.00", now)
                for i, (rm, month) in enumerate(((rm, m) for rm in rm_ids for m in year_months), 1)
            ),
        )
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(
                no_style(),
                [
                    Account,
                    OwnershipChange,
                    Position,
                    Activity,
                    Opportunity,
                    ForecastSnapshot,
                ],
            ):
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    counts["seconds"] = time.perf_counter() - t0
    counts["rms"] = len(rm_ids)
    counts["teams"] = len(teams)
    return counts


# --- measuring -------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def comparable(pva) -> dict:
    data = pva.as_json()
    data.pop("source")
    data.pop("computed_at")
    return data


def measure(args) -> None:
    from django.db import connection

    from org.models import Role, User
    from planning.models import PlanYear, Variance
    from planning.selectors.variances import closed_month, rm_plan_versus_actual
    from planning.services.variances import variances_recompute

    plan_year = PlanYear.objects.get(year=PLAN_YEAR)
    e = closed_month(plan_year).month
    periods = [("month", datetime.date(PLAN_YEAR, m, 1)) for m in range(1, e + 1)]
    periods += [("quarter", datetime.date(PLAN_YEAR, q, 1)) for q in (1, 4, 7, 10) if q <= e]
    periods.append(("ytd", None))
    rms = list(User.objects.filter(role=Role.RM).order_by("pk"))
    sample = rms[: args.slice]

    # 1. per RM, live
    counter = QueryCounter()
    live = {}
    with connection.execute_wrapper(counter):
        t0 = time.perf_counter()
        for rm in sample:
            for kind, month in periods:
                live[(rm.pk, kind, month)] = rm_plan_versus_actual(
                    rm, plan_year=plan_year, period=kind, month=month
                )
        per_rm_seconds = (time.perf_counter() - t0) / len(sample)
    per_rm_queries = counter.n / len(sample)
    assert all(p.source == "live" for p in live.values())

    # 2. the set-based recompute, twice
    runs = []
    for _ in range(2):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            t0 = time.perf_counter()
            written = variances_recompute(today=TODAY)
            runs.append((time.perf_counter() - t0, counter.n, written))

    # 3. stored == live for the slice
    mismatches = 0
    for (pk, kind, month), expected in live.items():
        rm = next(r for r in sample if r.pk == pk)
        stored = rm_plan_versus_actual(rm, plan_year=plan_year, period=kind, month=month)
        if stored.source != "stored" or comparable(stored) != comparable(expected):
            mismatches += 1

    from accounts.models import Position

    positions = Position.objects.count()
    year_positions = Position.objects.filter(month__gte=datetime.date(PLAN_YEAR - 1, 12, 1)).count()
    print(f"database: {connection.vendor}; plan year {PLAN_YEAR}, closed month {e:02d}")
    print(
        f"bank: {len(rms):,} RMs, {args.generated['teams']:,} teams, "
        f"{args.generated['accounts']:,} accounts, {positions:,} positions "
        f"({year_positions:,} from the base month on), "
        f"{args.generated['activities']:,} activities, "
        f"{args.generated['opportunities']:,} opportunities, "
        f"{args.generated['ownership changes']:,} hand-overs; generated in "
        f"{args.generated['seconds']:.1f} s"
    )
    print(f"{'':44}{'seconds':>10}{'queries':>10}{'rows':>12}{'rows/s':>12}")
    for i, (seconds, queries, written) in enumerate(runs, 1):
        print(
            f"{'variances_recompute, run ' + str(i):44}{seconds:>10.2f}{queries:>10}"
            f"{written:>12,}{written / seconds:>12,.0f}"
        )
    per_rm_total = per_rm_seconds * len(rms)
    print(
        f"{'per RM live, ' + str(len(sample)) + ' RMs x ' + str(len(periods)) + ' periods':44}"
        f"{per_rm_seconds * len(sample):>10.2f}{per_rm_queries * len(sample):>10.0f}"
    )
    print(
        f"{'  extrapolated to ' + format(len(rms), ',') + ' RMs (no teams, no bank)':44}"
        f"{per_rm_total:>10.1f}{per_rm_queries * len(rms):>10,.0f}"
    )
    best = min(seconds for seconds, _q, _w in runs)
    print(f"ratio per-RM / set-based: {per_rm_total / best:.1f}x")
    print(f"positions scanned per second (base month on): {year_positions / best:,.0f}")
    print(
        f"stored == live for the slice: {len(live) - mismatches} of {len(live)} RM-periods"
        + ("" if not mismatches else "  <-- MISMATCH")
    )
    print(f"rows stored: {Variance.objects.count():,}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--rms", type=int, default=2_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument(
        "--products", type=float, default=0.5, help="products per account on average"
    )
    parser.add_argument("--full", action="store_true", help="1.67 products: ~12M positions")
    parser.add_argument("--slice", type=int, default=50, help="RMs computed one by one")
    args = parser.parse_args()
    if args.full:
        args.products = 1.67
    prepare_database(args.database_url)
    setup_django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    args.generated = generate(args)
    measure(args)


if __name__ == "__main__":
    main()
