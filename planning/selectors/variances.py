"""Plan versus actual: each target line's planned value against the book.

docs/metrics.md defines every metric's actual and how a year's target is phased over the
periods. The nightly job (planning.services.variances.variances_recompute) stores them as
`Variance` rows for every RM, team and the bank; this module reads them back, and for an
RM whose period the job has not stored (before the first run, a year to date ending before
the closed month, a month closed since the last run) computes the same figures **live**.

    closed_month(plan_year)                                 E, the latest closed month
    rm_plan_versus_actual(rm, *, plan_year, period, month)  PlanVersusActual, stored or live
    scope_plan_versus_actual(*, plan_year, team, period, month)  a team or the bank, stored

The RM is the scope, not a viewer: callers resolve the RM through org.access first
(visible_people / the check-in they may open). The figures count every account the RM
owned at the period's end, including accounts handed on since, as docs/metrics.md says.

The metric formulas (`*_figure` below) take sums and counts, so the live path (one RM)
and the job (every scope at once, from aggregates) share them and cannot drift apart.

A fixed number of queries (at most nine live, four stored), whatever the number of
accounts, positions, ownership changes, activities, opportunities or target lines.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    ActivityStatus,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    OwnershipChange,
    Position,
    ProductFamily,
)
from accounts.selectors import add_months, month_end, month_start
from org.models import User

from ..models import (
    ForecastSnapshot,
    Metric,
    PeriodKind,
    PlanYear,
    ProductMixStandard,
    Scope,
    TargetLine,
    TargetSet,
    Variance,
)

PERIODS = ("month", "quarter", "ytd")
SOURCE_LIVE = "live"
SOURCE_STORED = "stored"

ZERO = Decimal("0")
HUNDRED = Decimal("100")
TWELVE = Decimal("12")
CENT = Decimal("0.01")

# How a year's target is phased over the periods (docs/metrics.md, "Planned values").
FLOW, STOCK, RATE, LEVEL = "flow", "stock", "rate", "level"
METRIC_KIND = {
    "loan_growth": FLOW,
    "deposit_growth": FLOW,
    "new_relationships": FLOW,
    "tier_a_retention": STOCK,
    "retention": STOCK,
    "activities_per_week": RATE,
    "cross_sell_ratio": LEVEL,
    "product_mix_share": LEVEL,
    "forecast_accuracy": LEVEL,
    # The relationship metrics (docs/metrics.md, "The relationship metric").
    "revenue_growth": LEVEL,
    "balance_retention": STOCK,
    "customer_rating": LEVEL,
}
# Opportunities that add business (renewals keep it): product-mix share counts these.
NEW_BUSINESS_KINDS = (OpportunityKind.NEW_BUSINESS, OpportunityKind.CROSS_SELL)

NOTE_NOT_APPROVED = "targets not approved yet"
NOTE_NO_CLOSED_MONTH = "no month closed in the plan year yet"
NOTE_NO_FORECAST = "no frozen forecast yet"
NOTE_NOTHING_FORECAST = "nothing was forecast"
NOTE_UNKNOWN_METRIC = "no definition for this metric yet"


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VarianceLine:
    metric: Metric
    weight: int | None  # the target line's weight %, None when there is no approved line
    target: Decimal | None  # the year's target value T of the approved line
    planned: Decimal | None  # phased for the period (docs/metrics.md "Planned values")
    actual: Decimal | None  # None = no figure
    difference: Decimal | None
    percent: Decimal | None
    on_course: bool | None
    note: str = ""  # why there is no figure, e.g. "no loans at the start of the year"
    # Not one of the RM's target lines: added by `also` (the relationship metric's line).
    extra: bool = False

    def as_json(self) -> dict:
        return {
            "metric": self.metric.code,
            "name": self.metric.name,
            "unit": self.metric.unit,
            "direction": self.metric.direction,
            "weight": self.weight,
            "target": _str(self.target),
            "planned": _str(self.planned),
            "actual": _str(self.actual),
            "difference": _str(self.difference),
            "difference_unit": difference_unit(self.metric),
            "percent": _str(self.percent),
            "on_course": self.on_course,
            "note": self.note,
        }


@dataclass(frozen=True)
class PlanVersusActual:
    rm: User
    plan_year: PlanYear
    period: str  # "month" | "quarter" | "ytd"
    period_start: datetime.date | None
    period_end: datetime.date | None
    as_of: datetime.date | None  # the closed month E (first day); None: no positions yet
    source: str  # "live" (computed now) or "stored" (read from the nightly job's rows)
    lines: list[VarianceLine] = field(default_factory=list)
    computed_at: datetime.datetime | None = None  # when the job computed stored rows

    def as_json(self) -> dict:
        """JSON-serialisable: Decimals as strings, dates ISO (for CheckIn.snapshot)."""
        return {
            "rm": {"id": self.rm.pk, "name": self.rm.get_full_name() or self.rm.username},
            "plan_year": self.plan_year.year,
            "period": self.period,
            "period_start": _iso(self.period_start),
            "period_end": _iso(self.period_end),
            "as_of": _iso(self.as_of),
            "source": self.source,
            "computed_at": None if self.computed_at is None else self.computed_at.isoformat(),
            "lines": [line.as_json() for line in self.lines],
        }


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _round(value: Decimal, places: Decimal = CENT) -> Decimal:
    """Half up; a figure that rounds to zero is 0.00, never -0.00 (the database does not
    keep the sign of a zero, so stored and live would differ)."""
    rounded = value.quantize(places, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


# --- time ---------------------------------------------------------------------------------


def _month_index(plan_year: PlanYear, month: datetime.date) -> int:
    """1 for the plan year's first month, 12 for its last."""
    start = plan_year.starts_on
    return (month.year - start.year) * 12 + month.month - start.month + 1


def closed_month(plan_year: PlanYear) -> datetime.date | None:
    """E: the latest month the bank has positions for, not later than the plan year's last
    month; None when the bank has no positions in the year yet. One query."""
    latest = Position.objects.aggregate(m=Max("month"))["m"]
    if latest is None:
        return None
    last = month_start(plan_year.ends_on)
    closed = min(latest, last)
    return closed if closed >= month_start(plan_year.starts_on) else None


@dataclass(frozen=True)
class _Period:
    start: datetime.date  # S, the first day
    end: datetime.date  # L, the last day
    months: int  # months(P)
    elapsed: int  # elapsed(P): the plan year's months 1 to the end of P

    @property
    def last_month(self) -> datetime.date:
        return month_start(self.end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _period(
    plan_year: PlanYear, period: str, month: datetime.date | None, closed: datetime.date
) -> _Period:
    first = month_start(plan_year.starts_on)
    chosen = closed if month is None else month_start(month)
    chosen = max(first, min(chosen, closed))
    index = _month_index(plan_year, chosen)
    if period == "month":
        start_index, end_index = index, index
    elif period == "quarter":
        start_index = (index - 1) // 3 * 3 + 1
        end_index = min(start_index + 2, _month_index(plan_year, closed))
    else:  # ytd: the year up to the end of the chosen month (a review of the first half
        # held in November still shows January to June)
        start_index, end_index = 1, index
    start = add_months(first, start_index - 1)
    end_month = add_months(first, end_index - 1)
    return _Period(
        start=start,
        end=month_end(end_month),
        months=end_index - start_index + 1,
        elapsed=end_index,
    )


# --- planned ------------------------------------------------------------------------------


def planned_value(code: str, target: Decimal, *, months: int, elapsed: int) -> Decimal | None:
    """The year's target phased for a period, unrounded (docs/metrics.md "Planned values")."""
    kind = METRIC_KIND.get(code)
    if kind == FLOW:
        return target * months / TWELVE
    if kind == STOCK:
        return HUNDRED - (HUNDRED - target) * elapsed / TWELVE
    if kind in (RATE, LEVEL):
        return target
    return None


# --- the RM's book ------------------------------------------------------------------------


def _owner_at(account: Account, changes: list[OwnershipChange], day: datetime.date):
    """The owner's pk at the end of `day` (changes sorted oldest first, local dates)."""
    before = [c for c in changes if c.local_date <= day]
    if before:
        return before[-1].new_owner_id
    if changes:
        return changes[0].previous_owner_id
    return account.owner_id


@dataclass
class _Book:
    """Everything the account metrics need, fetched once for the RM's candidate accounts."""

    accounts: list[Account]
    changes: dict[int, list[OwnershipChange]]
    # (account pk, month, family) -> balance; (account pk, month) -> products held
    balances: dict[tuple, Decimal]
    held: dict[tuple, int]

    def owned_at(self, rm: User, day: datetime.date, starts_on: datetime.date) -> list[Account]:
        """The accounts that count for `rm` in a period ending on `day` (`credited_on`)."""
        return [
            a
            for a in self.accounts
            if _owner_at(a, self.changes[a.pk], credited_on(day, a.closed_on, starts_on)) == rm.pk
        ]

    def balance(self, accounts: list[Account], month: datetime.date, family: str) -> Decimal:
        return sum((self.balances.get((a.pk, month, family), ZERO) for a in accounts), ZERO)


def _start_of_year(plan_year: PlanYear) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(plan_year.starts_on, datetime.time.min))


def _load_book(rm: User, plan_year: PlanYear, months: set[datetime.date]) -> _Book:
    """Three queries: candidate accounts (with the tier at the start of the year), their
    ownership changes, their positions in `months` summed by family."""
    # Whoever owned an account at some month-end is its owner today or named in one of its
    # ownership changes.
    handed = OwnershipChange.objects.filter(Q(new_owner=rm) | Q(previous_owner=rm))
    candidates = Account.objects.filter(Q(owner=rm) | Q(pk__in=handed.values("account")))
    accounts = list(candidates.annotate(tier0=tier_at_start(plan_year)).order_by("pk"))
    changes: dict[int, list[OwnershipChange]] = defaultdict(list)
    balances: dict[tuple, Decimal] = {}
    held: dict[tuple, int] = defaultdict(int)
    if not accounts:
        return _Book(accounts, changes, balances, held)
    # The candidates again as a subquery: no parameter list that grows with the book.
    ids = candidates.values("pk")
    for change in OwnershipChange.objects.filter(account__in=ids).order_by("changed_at", "pk"):
        change.local_date = timezone.localtime(change.changed_at).date()
        changes[change.account_id].append(change)
    rows = (
        Position.objects.filter(account__in=ids, month__in=sorted(months))
        .values("account", "month", "product__family")
        .annotate(
            total=Sum("balance"),
            held=Count("pk", filter=Q(balance__gt=0) | Q(revenue__gt=0)),
        )
        .order_by()
    )
    for row in rows:
        balances[(row["account"], row["month"], row["product__family"])] = row["total"]
        held[(row["account"], row["month"])] += row["held"]
    return _Book(accounts, changes, balances, held)


def _active_on(account: Account, day: datetime.date) -> bool:
    return (
        account.opened_on is not None
        and account.opened_on <= day
        and (account.closed_on is None or account.closed_on > day)
    )


# --- retention: one definition for the job, the live path and the Retention page ------------


def credited_on(
    day: datetime.date, closed_on: datetime.date | None, starts_on: datetime.date
) -> datetime.date:
    """The day whose owner an account counts for in a period ending on `day`: that day; for
    an account that ended by then (lost or closed), the eve of the month it ended in (the eve
    of the year for one that ended before it). A hand-over in the month of a loss does not
    move the loss to the receiver (docs/metrics.md, "Who takes a loss")."""
    if closed_on is None or closed_on > day:
        return day
    return max(month_start(closed_on), starts_on) - datetime.timedelta(days=1)


def tier_at_start(plan_year: PlanYear, prefix: str = "") -> Coalesce:
    """The account's tier code at the start of the year: its latest audit-history row before
    midnight of `starts_on` (bank's time zone); none that old, its current tier."""
    history = Account.history.model
    at_start = Subquery(
        history.objects.filter(
            id=OuterRef(f"{prefix}pk"), history_date__lt=_start_of_year(plan_year)
        )
        .order_by("-history_date", "-history_id")
        .values("tier__code")[:1]
    )
    return Coalesce(at_start, F(f"{prefix}tier__code"))


def retention_buckets(plan_year: PlanYear, prefix: str = "") -> dict:
    """Annotations: the tier at the start of the year (`tier0`), the months the account
    opened (`ob`) and ended (`cb`), both clamped to the base month B for dates before the
    year. With the status, all that retention, new relationships and active counts need."""
    start = plan_year.starts_on
    base = add_months(month_start(start), -1)
    opened, closed = f"{prefix}opened_on", f"{prefix}closed_on"
    return {
        "tier0": tier_at_start(plan_year, prefix),
        "ob": Case(
            When(**{f"{opened}__lt": start}, then=Value(base)),
            default=TruncMonth(opened),
            output_field=DateField(),
        ),
        "cb": Case(
            When(**{f"{closed}__isnull": True}, then=Value(None, output_field=DateField())),
            When(**{f"{closed}__lt": start}, then=Value(base)),
            default=TruncMonth(closed),
            output_field=DateField(),
        ),
    }


def bucket_of(account: Account, plan_year: PlanYear) -> tuple:
    """(tier0, ob, cb, status) of an account read with `tier0` annotated: what
    `retention_buckets` computes in SQL, for the live path's accounts."""
    start = plan_year.starts_on
    base = add_months(month_start(start), -1)
    ob = base if account.opened_on < start else month_start(account.opened_on)
    cb = None
    if account.closed_on is not None:
        cb = base if account.closed_on < start else month_start(account.closed_on)
    return (account.tier0, ob, cb, account.status)


@dataclass
class RetentionCount:
    """One tier's retention base and what became of it by the period's end."""

    base: int = 0  # active on the eve of the year
    kept: int = 0  # of those, still active at the period's end
    lost: int = 0  # ended by then, status lost
    closed: int = 0  # ended by then, status closed

    def __add__(self, other: RetentionCount) -> RetentionCount:
        return RetentionCount(
            self.base + other.base,
            self.kept + other.kept,
            self.lost + other.lost,
            self.closed + other.closed,
        )


def retention_counts(
    buckets, *, base: datetime.date, first: datetime.date, last: datetime.date
) -> dict[str | None, RetentionCount]:
    """Per tier at the start of the year: `buckets` are ((tier0, ob, cb, status), n) pairs;
    `base` is the month B, `first` the year's first month, `last` the period's last month.
    In the base: opened before the year (ob = B) and not ended before it; kept: not ended
    by the end of `last`."""
    counts: dict[str | None, RetentionCount] = defaultdict(RetentionCount)
    for (tier, ob, cb, status), n in buckets:
        if ob != base or (cb is not None and cb < first):
            continue
        count = counts[tier]
        count.base += n
        if cb is None or cb > last:
            count.kept += n
        elif status == AccountStatus.LOST:
            count.lost += n
        else:
            count.closed += n
    return dict(counts)


def retention_of(counts: dict[str | None, RetentionCount], *, tier_a: bool):
    """Tier-A retention (tier A at the start of the year) or overall retention."""
    chosen = [counts[t] for t in counts if t == "A"] if tier_a else list(counts.values())
    total = sum(chosen, RetentionCount())
    return retention_figure(total.base, total.kept, tier_a=tier_a)


def attrition_of(retention: Decimal | None) -> Decimal | None:
    """Attrition is the complement of the (rounded) retention figure, so the two always
    add up to 100 on every screen."""
    return None if retention is None else HUNDRED - retention


# --- the formulas: from sums and counts to (actual unrounded or None, note) --------------------
# Shared by the live path (one RM) and the nightly job (every scope from aggregates).


FAMILY_WORDS = {ProductFamily.LOAN: "loans", ProductFamily.DEPOSIT: "deposits"}


def growth_figure(family: str, base: Decimal, before: Decimal, now: Decimal):
    if not base:
        return None, f"no {FAMILY_WORDS[family]} at the start of the year"
    return HUNDRED * (now - before) / base, ""


def retention_figure(base: int, retained: int, *, tier_a: bool):
    if not base:
        which = "tier-A relationships" if tier_a else "relationships"
        return None, f"no {which} at the start of the year"
    return HUNDRED * retained / base, ""


def new_relationships_figure(opened: int):
    return Decimal(opened), ""


def cross_sell_figure(products: int, active: int):
    if not active:
        return None, "no active relationships at the end of the period"
    return Decimal(products) / active, ""


def activities_figure(count: int, days: int):
    return Decimal(count) * 7 / days, ""


def product_mix_figure(won: dict[str, Decimal], standards: dict[str, Decimal]):
    """`won`: new business won in the period by family; `standards`: share % by family."""
    standard_total = sum(standards.values(), ZERO)
    if not standard_total:
        return None, "no product-mix standard for the year"
    won_total = sum(won.values(), ZERO)
    if not won_total:
        return None, "no new business won in the period"
    fit = sum(
        (min(HUNDRED * won.get(f, ZERO) / won_total, share) for f, share in standards.items()),
        ZERO,
    )
    return HUNDRED * fit / standard_total, ""


def frozen_forecast(scope: str, amount: Decimal, adjusted_amount: Decimal | None) -> Decimal:
    """F(m) of one RM's snapshot as it counts for `scope`: an RM is measured on their own
    number; a team and the bank on the number as the leader left it (docs/metrics.md)."""
    if scope == Scope.RM or adjusted_amount is None:
        return amount
    return adjusted_amount


def forecast_figure(months: list[tuple[Decimal, Decimal]]):
    """`months`: (frozen forecast F(m), won A(m)) for each month of the period that has a
    snapshot; the months without one are left out (docs/metrics.md, "The nightly job")."""
    if not months:
        return None, NOTE_NO_FORECAST
    forecast = sum((f for f, _ in months), ZERO)
    if not forecast:
        return None, NOTE_NOTHING_FORECAST
    error = sum((abs(a - f) for f, a in months), ZERO)
    return max(ZERO, HUNDRED * (1 - error / forecast)), ""


def revenue_growth_figure(now: Decimal, year_before: Decimal):
    """Revenue of the period against the same months a year earlier, in %."""
    if not year_before:
        return None, "no revenue in the same months last year"
    return HUNDRED * (now - year_before) / year_before, ""


def balance_retention_figure(counts: dict[str | None, RetentionCount]):
    """`counts` from `retention_counts` fed with each base account's balance on the eve of
    the year instead of 1: the share of the base's balances held by the accounts kept."""
    total = sum(counts.values(), RetentionCount())
    if not total.base:
        return None, "no balances at the start of the year"
    return HUNDRED * total.kept / total.base, ""


def customer_rating_figure(points: int, answers: int, raters: int, minimum: int):
    """The mean rating (1-5) of the period's answers, once at least `minimum` customers
    answered (coaching's minimum-raters rule: customers, not answers)."""
    if raters < minimum or not answers:
        return None, f"not enough ratings ({raters} of {minimum} customers)"
    return Decimal(points) / answers, ""


def rating_window(p_start: datetime.date, p_end: datetime.date) -> tuple:
    """The rated months of a period: ratings carry the first day of the month rated."""
    return month_start(p_start), month_start(p_end)


# Counts are whole; percentages, ratios and counts per week have 2 decimals.
WHOLE = {"new_relationships"}
# Metrics measured in %: their difference from plan is in percentage points and they have no
# relative percent (a percent of a percent); money, counts and ratios keep it.
IN_POINTS = {
    "loan_growth",
    "deposit_growth",
    "tier_a_retention",
    "retention",
    "product_mix_share",
    "forecast_accuracy",
    "revenue_growth",
    "balance_retention",
}


def difference_unit(metric: Metric) -> str:
    """What a line's `difference` is counted in: "pp" (percentage points) for a metric
    measured in %, else the metric's unit (count, money, ratio)."""
    if metric.code in IN_POINTS or metric.unit == Metric.Unit.PERCENT:
        return "pp"
    return metric.unit


@dataclass(frozen=True)
class Compared:
    planned: Decimal | None
    actual: Decimal | None
    difference: Decimal | None
    percent: Decimal | None


def compare(code: str, target: Decimal | None, actual, *, months: int, elapsed: int) -> Compared:
    """Round the planned value (phased from the approved target `target`, None when there is
    none) and the actual once, half up, then the difference and percent from the rounded
    figures. The one place both the live path and the job round. A metric measured in %
    (`IN_POINTS`) has its difference in percentage points and no percent."""
    planned = None
    if target is not None:
        raw = planned_value(code, target, months=months, elapsed=elapsed)
        planned = None if raw is None else _round(raw)
    if actual is not None:
        actual = _round(actual, Decimal("1") if code in WHOLE else CENT)
    difference = percent = None
    if actual is not None and planned is not None:
        difference = actual - planned
        if planned and code not in IN_POINTS:
            percent = _round(HUNDRED * difference / planned)
    return Compared(planned, actual, difference, percent)


def on_course(metric: Metric, actual, planned) -> bool | None:
    if actual is None or planned is None:
        return None
    if metric.direction == Metric.Direction.LOWER:
        return actual <= planned
    return actual >= planned


# --- the live path: one RM's book -----------------------------------------------------------


def _growth(book: _Book, owned: list[Account], family: str, p: _Period, base: datetime.date):
    return growth_figure(
        family,
        book.balance(owned, base, family),
        book.balance(owned, add_months(p.start, -1), family),
        book.balance(owned, p.last_month, family),
    )


def _retention(owned: list[Account], plan_year: PlanYear, p: _Period, *, tier_a: bool):
    first = month_start(plan_year.starts_on)
    counts = retention_counts(
        ((bucket_of(a, plan_year), 1) for a in owned if a.opened_on is not None),
        base=add_months(first, -1),
        first=first,
        last=p.last_month,
    )
    return retention_of(counts, tier_a=tier_a)


def _new_relationships(owned: list[Account], p: _Period):
    opened = [a for a in owned if a.opened_on and p.start <= a.opened_on <= p.end]
    return new_relationships_figure(len(opened))


def _cross_sell(book: _Book, owned: list[Account], p: _Period):
    active = [a for a in owned if _active_on(a, p.end)]
    products = sum(book.held.get((a.pk, p.last_month), 0) for a in active)
    return cross_sell_figure(products, len(active))


def _base_balances(book: _Book, owned: list[Account], plan_year: PlanYear, base: datetime.date):
    """((tier0, ob, cb, status), balance on the eve of the year) of the owned accounts."""
    for a in owned:
        if a.opened_on is None:
            continue
        balance = sum((book.balance([a], base, family) for family in ProductFamily.values), ZERO)
        yield bucket_of(a, plan_year), balance


def _balance_retention(book: _Book, owned: list[Account], plan_year: PlanYear, p: _Period):
    first = month_start(plan_year.starts_on)
    base = add_months(first, -1)
    counts = retention_counts(
        _base_balances(book, owned, plan_year, base), base=base, first=first, last=p.last_month
    )
    return balance_retention_figure(counts)


def _revenue_growth(rm: User, owned: list[Account], p: _Period):
    """Revenue of the owned accounts in P and in the same months a year earlier. One query."""
    ids = {a.pk for a in owned}
    handed = OwnershipChange.objects.filter(Q(new_owner=rm) | Q(previous_owner=rm))
    candidates = Account.objects.filter(Q(owner=rm) | Q(pk__in=handed.values("account")))
    now = before = ZERO
    for account, m, total in (
        Position.objects.filter(account__in=candidates.values("pk"))
        .filter(
            Q(month__gte=p.start, month__lte=p.last_month)
            | Q(month__gte=add_months(p.start, -12), month__lte=add_months(p.last_month, -12))
        )
        .values("account", "month")
        .annotate(total=Sum("revenue"))
        .values_list("account", "month", "total")
        .order_by()
    ):
        if account not in ids or total is None:
            continue
        if m >= p.start:
            now += total
        else:
            before += total
    return revenue_growth_figure(now, before)


def _customer_rating(rm: User, plan_year: PlanYear, p: _Period):
    """The RM's ratings of the period's months: points, answers and distinct customers
    (contact, else account, as coaching counts raters). Two queries."""
    from coaching.models import BehaviourSet, CustomerRating
    from coaching.selectors.report_card import min_ratings

    first, last = rating_window(p.start, p.end)
    rows = (
        CustomerRating.objects.filter(rm=rm, month__gte=first, month__lte=last)
        .values("contact", "account")
        .annotate(points=Sum("rating"), n=Count("pk"))
        .values_list("contact", "account", "points", "n")
        .order_by()
    )
    points = answers = 0
    raters = set()
    for contact, account, total, n in rows:
        points += total
        answers += n
        raters.add(("contact", contact) if contact else ("account", account))
    minimum = min_ratings(BehaviourSet.objects.filter(plan_year=plan_year).first())
    return customer_rating_figure(points, answers, len(raters), minimum)


def _activities_per_week(rm: User, p: _Period):
    count = Activity.objects.filter(
        rm=rm, status=ActivityStatus.DONE, date__gte=p.start, date__lte=p.end
    ).count()
    return activities_figure(count, p.days)


def _won_in(rm: User, p: _Period) -> list[dict]:
    """The RM's won opportunities closed in the period, summed by month, family and kind
    (product mix counts new business; forecast accuracy every kind). One query."""
    return list(
        Opportunity.objects.filter(
            rm=rm, status=OpportunityStatus.WON, closed_on__gte=p.start, closed_on__lte=p.end
        )
        .annotate(m=TruncMonth("closed_on"))
        .values("m", "product__family", "kind")
        .annotate(total=Sum("amount"))
        .values_list("m", "product__family", "kind", "total")
        .order_by()
    )


def _product_mix(won_rows: list, standards: dict[str, Decimal]):
    won: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for _m, family, kind, total in won_rows:
        if kind in NEW_BUSINESS_KINDS:
            won[family] += total
    return product_mix_figure(dict(won), standards)


def _forecast(rm: User, won_rows: list, p: _Period):
    """F(m) from the RM's snapshots of the period's months (their own number, never the
    leader's adjustment), A(m) from what they won."""
    frozen = {
        m: frozen_forecast(Scope.RM, amount, adjusted)
        for m, amount, adjusted in ForecastSnapshot.objects.filter(
            rm=rm, month__gte=p.start, month__lte=p.last_month
        ).values_list("month", "amount", "adjusted_amount")
    }
    won: dict[datetime.date, Decimal] = defaultdict(lambda: ZERO)
    for m, _family, _kind, total in won_rows:
        won[_as_date(m)] += total
    return forecast_figure([(f, won[m]) for m, f in sorted(frozen.items())])


def _as_date(value) -> datetime.date:
    """TruncMonth gives a date on PostgreSQL and SQLite alike; a datetime is cut to its date."""
    return value.date() if isinstance(value, datetime.datetime) else value


# --- the selector ---------------------------------------------------------------------------


def _target_lines(rm: User, plan_year: PlanYear) -> tuple[list[TargetLine], bool]:
    """The lines of the RM's approved set (True), else of their latest set (False). Two
    queries at most."""
    sets = list(
        TargetSet.objects.filter(scope=Scope.RM, rm=rm, plan_year=plan_year)
        .order_by("-revision")
        .values_list("pk", "status")
    )
    if not sets:
        return [], False
    approved = [pk for pk, status in sets if status == TargetSet.Status.APPROVED]
    chosen = approved[0] if approved else sets[0][0]
    lines = list(
        TargetLine.objects.filter(target_set=chosen)
        .select_related("metric")
        .order_by("metric__position", "metric__name")
    )
    return lines, bool(approved)


def _variance_line(line: TargetLine, approved: bool, p: _Period, actual, note) -> VarianceLine:
    metric = line.metric
    if not approved:
        note = "; ".join(filter(None, [NOTE_NOT_APPROVED, note]))
    c = compare(
        metric.code,
        line.value if approved else None,
        actual,
        months=p.months,
        elapsed=p.elapsed,
    )
    return VarianceLine(
        metric=metric,
        weight=line.weight if approved else None,
        target=line.value if approved else None,
        planned=c.planned,
        actual=c.actual,
        difference=c.difference,
        percent=c.percent,
        on_course=on_course(metric, c.actual, c.planned),
        note=note,
    )


def stored_actual(code: str, actual: Decimal | None) -> Decimal | None:
    """A count is stored with the column's two decimals; it is whole."""
    return actual.quantize(Decimal("1")) if actual is not None and code in WHOLE else actual


def _stored_line(line: TargetLine, approved: bool, row: Variance | None) -> VarianceLine:
    """A line of the RM's set with the figures the job stored for its metric."""
    metric = line.metric
    planned = actual = difference = percent = None
    note = ""
    if row is not None:
        planned, actual = row.planned, stored_actual(metric.code, row.actual)
        difference, percent, note = row.difference, row.percent, row.note
    if not approved:
        note = "; ".join(filter(None, [NOTE_NOT_APPROVED, note]))
    return VarianceLine(
        metric=metric,
        weight=line.weight if approved else None,
        target=line.value if approved else None,
        planned=planned,
        actual=actual,
        difference=difference,
        percent=percent,
        on_course=on_course(metric, actual, planned),
        note=note,
    )


ACCOUNT_METRICS = {
    "loan_growth",
    "deposit_growth",
    "tier_a_retention",
    "retention",
    "new_relationships",
    "cross_sell_ratio",
    "revenue_growth",
    "balance_retention",
}


@dataclass(frozen=True)
class _Context:
    closed: datetime.date | None  # E
    stored_as_of: datetime.date | None  # the as_of of the job's rows for the scope and kind
    standards: dict[str, Decimal]  # the year's product-mix standard, share % by family


def _context(plan_year: PlanYear, period: str, **scope) -> _Context:
    """E, whether the job stored this scope's rows of this period kind (their as_of), and the
    year's product-mix standard: one query (a row of scalar subqueries)."""
    standards = {
        f"mix_{family}": Subquery(
            ProductMixStandard.objects.filter(plan_year=OuterRef("pk"), family=family).values(
                "target_share_pct"
            )[:1]
        )
        for family in ProductFamily.values
    }
    row = (
        PlanYear.objects.filter(pk=plan_year.pk)
        .annotate(
            latest=Subquery(Position.objects.order_by("-month").values("month")[:1]),
            stored_as_of=Subquery(
                Variance.objects.filter(plan_year=OuterRef("pk"), period=period, **scope)
                .order_by()
                .values("as_of")[:1]
            ),
            **standards,
        )
        .values("latest", "stored_as_of", *standards)
        .get()
    )
    closed = None
    if row["latest"] is not None:
        last = month_start(plan_year.ends_on)
        closed = min(row["latest"], last)
        if closed < month_start(plan_year.starts_on):
            closed = None
    return _Context(
        closed=closed,
        stored_as_of=row["stored_as_of"],
        standards={
            family: row[f"mix_{family}"]
            for family in ProductFamily.values
            if row[f"mix_{family}"] is not None
        },
    )


def _is_stored(ctx: _Context, period: str, p: _Period) -> bool:
    """The job's last run wrote every period of the year up to its as_of: a month, a quarter
    to date, the year to date at E (not a year to date ending earlier)."""
    if ctx.stored_as_of is None or ctx.stored_as_of != ctx.closed:
        return False
    return period != PeriodKind.YTD or p.last_month == ctx.closed


def _stored_rows(plan_year: PlanYear, period: str, p: _Period, **scope) -> dict[int, Variance]:
    """The job's rows of the scope for the period, by metric pk. One query."""
    rows = Variance.objects.filter(
        plan_year=plan_year, period=period, period_start=p.start, period_end=p.end, **scope
    ).order_by()
    return {row.metric_id: row for row in rows}


def _no_closed_month(rm, plan_year, period, lines, approved, source=SOURCE_LIVE):
    return PlanVersusActual(
        rm=rm,
        plan_year=plan_year,
        period=period,
        period_start=None,
        period_end=None,
        as_of=None,
        source=source,
        lines=[
            VarianceLine(
                metric=line.metric,
                weight=line.weight if approved else None,
                target=line.value if approved else None,
                planned=None,
                actual=None,
                difference=None,
                percent=None,
                on_course=None,
                note=NOTE_NO_CLOSED_MONTH
                if approved
                else f"{NOTE_NOT_APPROVED}; {NOTE_NO_CLOSED_MONTH}",
            )
            for line in lines
        ],
    )


def rm_plan_versus_actual(
    rm: User,
    *,
    plan_year: PlanYear,
    period: str = "ytd",
    month: datetime.date | None = None,
    also: Metric | None = None,
) -> PlanVersusActual:
    """Plan versus actual of each of the RM's target lines for a period of the plan year.

    `period` is "month", "quarter" (to date) or "ytd"; `month` picks the period that
    contains it (clamped to the year's first month and the closed month E), default E.
    Lines: the RM's approved RM-scope target set for the year, ordered by metric; without
    an approved set the lines of their latest set, unplanned ("targets not approved yet");
    without any set, none. `also`: a metric to add as an unplanned line when the RM's set
    has none for it (the relationship metric's line, planning.selectors.relationship).

    The figures are the nightly job's stored rows (`source = "stored"`, with their
    `computed_at`) when its last run covered this period at the current closed month;
    otherwise they are computed live, with the same formulas. At most nine queries live,
    four stored, whatever the size of the book.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    ctx = _context(plan_year, period, scope=Scope.RM, rm=rm)
    closed = ctx.closed
    lines, approved = _target_lines(rm, plan_year)
    extra = also is not None and all(line.metric_id != also.pk for line in lines)
    if extra:
        lines = [*lines, TargetLine(metric=also, value=None, weight=None)]
    if closed is None:
        return _marked(_no_closed_month(rm, plan_year, period, lines, approved), extra)

    p = _period(plan_year, period, month, closed)
    if _is_stored(ctx, period, p):
        rows = _stored_rows(plan_year, period, p, scope=Scope.RM, rm=rm)
        if rows:
            stored = PlanVersusActual(
                rm=rm,
                plan_year=plan_year,
                period=period,
                period_start=p.start,
                period_end=p.end,
                as_of=closed,
                source=SOURCE_STORED,
                computed_at=min(row.computed_at for row in rows.values()),
                lines=[_stored_line(line, approved, rows.get(line.metric_id)) for line in lines],
            )
            return _marked(stored, extra)

    codes = {line.metric.code for line in lines}
    base = add_months(month_start(plan_year.starts_on), -1)
    owned: list[Account] = []
    book = None
    if codes & ACCOUNT_METRICS:
        book = _load_book(rm, plan_year, {base, add_months(p.start, -1), p.last_month})
        owned = book.owned_at(rm, p.end, plan_year.starts_on)
    won_rows = _won_in(rm, p) if codes & {"product_mix_share", "forecast_accuracy"} else []

    def actual_of(code: str):
        if code == "loan_growth":
            return _growth(book, owned, ProductFamily.LOAN, p, base)
        if code == "deposit_growth":
            return _growth(book, owned, ProductFamily.DEPOSIT, p, base)
        if code == "tier_a_retention":
            return _retention(owned, plan_year, p, tier_a=True)
        if code == "retention":
            return _retention(owned, plan_year, p, tier_a=False)
        if code == "new_relationships":
            return _new_relationships(owned, p)
        if code == "cross_sell_ratio":
            return _cross_sell(book, owned, p)
        if code == "activities_per_week":
            return _activities_per_week(rm, p)
        if code == "product_mix_share":
            return _product_mix(won_rows, ctx.standards)
        if code == "forecast_accuracy":
            return _forecast(rm, won_rows, p)
        if code == "revenue_growth":
            return _revenue_growth(rm, owned, p)
        if code == "balance_retention":
            return _balance_retention(book, owned, plan_year, p)
        if code == "customer_rating":
            return _customer_rating(rm, plan_year, p)
        return None, NOTE_UNKNOWN_METRIC

    live = PlanVersusActual(
        rm=rm,
        plan_year=plan_year,
        period=period,
        period_start=p.start,
        period_end=p.end,
        as_of=closed,
        source=SOURCE_LIVE,
        lines=[_variance_line(line, approved, p, *actual_of(line.metric.code)) for line in lines],
    )
    return _marked(live, extra)


def _marked(pva: PlanVersusActual, extra: bool) -> PlanVersusActual:
    """The `also` line (the last) marked as not one of the RM's targets: no weight, no plan,
    and no "targets not approved yet" (it is not a target at all)."""
    if not extra:
        return pva
    line = pva.lines[-1]
    note = "; ".join(p for p in line.note.split("; ") if p and p != NOTE_NOT_APPROVED)
    unplanned = replace(
        line,
        weight=None,
        target=None,
        planned=None,
        difference=None,
        percent=None,
        on_course=None,
        note=note,
        extra=True,
    )
    return replace(pva, lines=[*pva.lines[:-1], unplanned])


# --- teams and the bank: stored rows only ---------------------------------------------------


@dataclass(frozen=True)
class ScopeVarianceLine:
    metric: Metric
    planned: Decimal | None
    actual: Decimal | None
    difference: Decimal | None
    percent: Decimal | None
    on_course: bool | None
    note: str = ""


@dataclass(frozen=True)
class ScopePlanVersusActual:
    """A team's or the bank's figures for a period, as the nightly job stored them: every
    metric of the catalogue (planned NULL where the scope has no approved line)."""

    plan_year: PlanYear
    team: object  # org.Team, or None for the bank
    period: str
    period_start: datetime.date | None
    period_end: datetime.date | None
    as_of: datetime.date | None  # None: the job has not stored this period
    computed_at: datetime.datetime | None
    lines: list[ScopeVarianceLine] = field(default_factory=list)

    @property
    def source(self) -> str:
        return SOURCE_STORED if self.as_of else ""

    def line(self, code: str) -> ScopeVarianceLine | None:
        return next((line for line in self.lines if line.metric.code == code), None)


def scope_plan_versus_actual(
    *, plan_year: PlanYear, team=None, period: str = "ytd", month: datetime.date | None = None
) -> ScopePlanVersusActual:
    """A team's (`team`) or the bank's (`team=None`) stored plan versus actual for a period
    (chosen as for an RM). No stored rows for it (before the job's first run, or a closed
    month it has not run for yet): no lines and `as_of` None. Two queries.

    The caller decides who may see the team or the bank (org.access)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    scope = {"scope": Scope.TEAM, "team": team} if team is not None else {"scope": Scope.BANK}
    ctx = _context(plan_year, period, **scope)
    empty = ScopePlanVersusActual(plan_year, team, period, None, None, None, None)
    if ctx.closed is None:
        return empty
    p = _period(plan_year, period, month, ctx.closed)
    if not _is_stored(ctx, period, p):
        return empty
    rows = sorted(
        Variance.objects.filter(
            plan_year=plan_year, period=period, period_start=p.start, period_end=p.end, **scope
        )
        .select_related("metric")
        .order_by("metric__position", "metric__name"),
        key=lambda row: (row.metric.position, row.metric.name),
    )
    if not rows:
        return empty
    return ScopePlanVersusActual(
        plan_year=plan_year,
        team=team,
        period=period,
        period_start=p.start,
        period_end=p.end,
        as_of=ctx.closed,
        computed_at=min(row.computed_at for row in rows),
        lines=[
            ScopeVarianceLine(
                metric=row.metric,
                planned=row.planned,
                actual=stored_actual(row.metric.code, row.actual),
                difference=row.difference,
                percent=row.percent,
                on_course=on_course(row.metric, row.actual, row.planned),
                note=row.note,
            )
            for row in rows
        ],
    )
