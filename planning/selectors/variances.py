"""Plan versus actual for one RM: each target line's planned value against the book.

docs/metrics.md defines every metric's actual and how a year's target is phased over the
periods; this module is that page for a single RM scope. Until the nightly variance job
stores `Variance` rows the figures are computed **live** from the book (`source = "live"`);
the job issue switches `rm_plan_versus_actual` to the stored rows, and its callers (the
check-in screen, the compensation view) do not change.

    closed_month(plan_year)                           E, the latest closed month (1 query)
    rm_plan_versus_actual(rm, *, plan_year, period, month)  PlanVersusActual

The RM is the scope, not a viewer: callers resolve the RM through org.access first
(visible_people / the check-in they may open). The figures count every account the RM
owned at the period's end, including accounts handed on since, as docs/metrics.md says.

A fixed number of queries (at most nine), whatever the number of accounts, positions,
ownership changes, activities, opportunities or target lines.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from accounts.models import (
    Account,
    Activity,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    OwnershipChange,
    Position,
    ProductFamily,
)
from accounts.selectors import add_months
from org.models import User

from ..models import Metric, PlanYear, ProductMixStandard, Scope, TargetLine, TargetSet

PERIODS = ("month", "quarter", "ytd")
SOURCE_LIVE = "live"

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
}
# Opportunities that add business (renewals keep it): product-mix share counts these.
NEW_BUSINESS_KINDS = (OpportunityKind.NEW_BUSINESS, OpportunityKind.CROSS_SELL)

NOTE_NOT_APPROVED = "targets not approved yet"
NOTE_NO_CLOSED_MONTH = "no month closed in the plan year yet"
NOTE_NO_FORECAST = "no frozen forecast yet"
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
    source: str  # "live" now; "stored" once the job exists
    lines: list[VarianceLine] = field(default_factory=list)

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
            "lines": [line.as_json() for line in self.lines],
        }


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _round(value: Decimal, places: Decimal = CENT) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


# --- time ---------------------------------------------------------------------------------


def _first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


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
    last = _first_of_month(plan_year.ends_on)
    closed = min(latest, last)
    return closed if closed >= _first_of_month(plan_year.starts_on) else None


@dataclass(frozen=True)
class _Period:
    start: datetime.date  # S, the first day
    end: datetime.date  # L, the last day
    months: int  # months(P)
    elapsed: int  # elapsed(P): the plan year's months 1 to the end of P

    @property
    def last_month(self) -> datetime.date:
        return _first_of_month(self.end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _period(
    plan_year: PlanYear, period: str, month: datetime.date | None, closed: datetime.date
) -> _Period:
    first = _first_of_month(plan_year.starts_on)
    chosen = closed if month is None else _first_of_month(month)
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
        end=_month_end(end_month),
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

    def owned_at(self, rm: User, day: datetime.date) -> list[Account]:
        return [a for a in self.accounts if _owner_at(a, self.changes[a.pk], day) == rm.pk]

    def balance(self, accounts: list[Account], month: datetime.date, family: str) -> Decimal:
        return sum((self.balances.get((a.pk, month, family), ZERO) for a in accounts), ZERO)


def _start_of_year(plan_year: PlanYear) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(plan_year.starts_on, datetime.time.min))


def _load_book(rm: User, plan_year: PlanYear, months: set[datetime.date]) -> _Book:
    """Three queries: candidate accounts (with the tier at the start of the year), their
    ownership changes, their positions in `months` summed by family."""
    history = Account.history.model
    tier_at_start = Subquery(
        history.objects.filter(id=OuterRef("pk"), history_date__lt=_start_of_year(plan_year))
        .order_by("-history_date", "-history_id")
        .values("tier__code")[:1]
    )
    # Whoever owned an account at some month-end is its owner today or named in one of its
    # ownership changes.
    handed = OwnershipChange.objects.filter(Q(new_owner=rm) | Q(previous_owner=rm))
    candidates = Account.objects.filter(Q(owner=rm) | Q(pk__in=handed.values("account")))
    accounts = list(
        candidates.select_related("tier").annotate(tier_at_start=tier_at_start).order_by("pk")
    )
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


def _in_retention_base(account: Account, plan_year: PlanYear) -> bool:
    """Active on the day before the year starts."""
    start = plan_year.starts_on
    return (
        account.opened_on is not None
        and account.opened_on < start
        and (account.closed_on is None or account.closed_on >= start)
    )


# --- actuals: each returns (actual unrounded or None, note) ----------------------------------


FAMILY_WORDS = {ProductFamily.LOAN: "loans", ProductFamily.DEPOSIT: "deposits"}


def _growth(book: _Book, owned: list[Account], family: str, p: _Period, base: datetime.date):
    base_balance = book.balance(owned, base, family)
    if not base_balance:
        return None, f"no {FAMILY_WORDS[family]} at the start of the year"
    before = book.balance(owned, add_months(p.start, -1), family)
    now = book.balance(owned, p.last_month, family)
    return HUNDRED * (now - before) / base_balance, ""


def _retention(owned: list[Account], plan_year: PlanYear, p: _Period, *, tier_a: bool):
    base = [a for a in owned if _in_retention_base(a, plan_year)]
    if tier_a:
        base = [a for a in base if (a.tier_at_start or a.tier.code) == "A"]
    if not base:
        which = "tier-A relationships" if tier_a else "relationships"
        return None, f"no {which} at the start of the year"
    retained = [a for a in base if a.closed_on is None or a.closed_on > p.end]
    return HUNDRED * len(retained) / len(base), ""


def _new_relationships(owned: list[Account], p: _Period):
    opened = [a for a in owned if a.opened_on and p.start <= a.opened_on <= p.end]
    return Decimal(len(opened)), ""


def _cross_sell(book: _Book, owned: list[Account], p: _Period):
    active = [a for a in owned if _active_on(a, p.end)]
    if not active:
        return None, "no active relationships at the end of the period"
    products = sum(book.held.get((a.pk, p.last_month), 0) for a in active)
    return Decimal(products) / len(active), ""


def _activities_per_week(rm: User, p: _Period):
    count = Activity.objects.filter(rm=rm, date__gte=p.start, date__lte=p.end).count()
    return Decimal(count) * 7 / p.days, ""


def _product_mix(rm: User, plan_year: PlanYear, p: _Period):
    standards = {
        s.family: s.target_share_pct for s in ProductMixStandard.objects.filter(plan_year=plan_year)
    }
    standard_total = sum(standards.values(), ZERO)
    if not standard_total:
        return None, "no product-mix standard for the year"
    won = dict(
        Opportunity.objects.filter(
            rm=rm,
            status=OpportunityStatus.WON,
            kind__in=NEW_BUSINESS_KINDS,
            closed_on__gte=p.start,
            closed_on__lte=p.end,
        )
        .values("product__family")
        .annotate(total=Sum("amount"))
        .values_list("product__family", "total")
        .order_by()
    )
    won_total = sum(won.values(), ZERO)
    if not won_total:
        return None, "no new business won in the period"
    fit = sum(
        (min(HUNDRED * won.get(f, ZERO) / won_total, share) for f, share in standards.items()),
        ZERO,
    )
    return HUNDRED * fit / standard_total, ""


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


# Counts are whole; percentages, ratios and counts per week have 2 decimals.
WHOLE = {"new_relationships"}


def _variance_line(line: TargetLine, approved: bool, p: _Period, actual, note) -> VarianceLine:
    metric = line.metric
    target = planned = None
    if approved:
        target = line.value
        raw = planned_value(metric.code, line.value, months=p.months, elapsed=p.elapsed)
        planned = None if raw is None else _round(raw)
    else:
        note = "; ".join(filter(None, [NOTE_NOT_APPROVED, note]))
    if actual is not None:
        actual = _round(actual, Decimal("1") if metric.code in WHOLE else CENT)
    difference = percent = on_course = None
    if actual is not None and planned is not None:
        difference = actual - planned
        if planned:
            percent = _round(HUNDRED * difference / planned)
        if metric.direction == Metric.Direction.LOWER:
            on_course = actual <= planned
        else:
            on_course = actual >= planned
    return VarianceLine(
        metric=metric,
        weight=line.weight if approved else None,
        target=target,
        planned=planned,
        actual=actual,
        difference=difference,
        percent=percent,
        on_course=on_course,
        note=note,
    )


ACCOUNT_METRICS = {
    "loan_growth",
    "deposit_growth",
    "tier_a_retention",
    "retention",
    "new_relationships",
    "cross_sell_ratio",
}


def rm_plan_versus_actual(
    rm: User, *, plan_year: PlanYear, period: str = "ytd", month: datetime.date | None = None
) -> PlanVersusActual:
    """Plan versus actual of each of the RM's target lines for a period of the plan year.

    `period` is "month", "quarter" (to date) or "ytd"; `month` picks the period that
    contains it (clamped to the year's first month and the closed month E), default E.
    Lines: the RM's approved RM-scope target set for the year, ordered by metric; without
    an approved set the lines of their latest set, unplanned ("targets not approved yet");
    without any set, none. At most nine queries, whatever the size of the book.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
    closed = closed_month(plan_year)
    lines, approved = _target_lines(rm, plan_year)
    if closed is None:
        return PlanVersusActual(
            rm=rm,
            plan_year=plan_year,
            period=period,
            period_start=None,
            period_end=None,
            as_of=None,
            source=SOURCE_LIVE,
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

    p = _period(plan_year, period, month, closed)
    codes = {line.metric.code for line in lines}
    base = add_months(_first_of_month(plan_year.starts_on), -1)
    owned: list[Account] = []
    book = None
    if codes & ACCOUNT_METRICS:
        book = _load_book(rm, plan_year, {base, add_months(p.start, -1), p.last_month})
        owned = book.owned_at(rm, p.end)

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
            return _product_mix(rm, plan_year, p)
        if code == "forecast_accuracy":
            return None, NOTE_NO_FORECAST
        return None, NOTE_UNKNOWN_METRIC

    return PlanVersusActual(
        rm=rm,
        plan_year=plan_year,
        period=period,
        period_start=p.start,
        period_end=p.end,
        as_of=closed,
        source=SOURCE_LIVE,
        lines=[_variance_line(line, approved, p, *actual_of(line.metric.code)) for line in lines],
    )
