"""The nightly plan-versus-actual job and the monthly forecast snapshot.

    variances_recompute(*, today=None) -> int   rows written (docs/metrics.md "The nightly job")
    forecasts_snapshot(*, today=None) -> int    snapshots taken

`variances_recompute` computes, for the plan year containing `today`, every scope (each RM
with the RM role, each team, the bank) x every metric of the catalogue x every period up to
the closed month E (each month, each quarter to date, the year to date), and replaces the
year's `Variance` rows with them in one transaction.

It is **set-based**: a fixed number of queries whatever the number of RMs, accounts,
positions, activities or opportunities. The database sums positions by owner and month
(and accounts by owner and the month they opened and closed); only the accounts that
changed hands are read one by one (their owner at each month-end is decided in Python from
their `OwnershipChange` rows, exactly as the live selector does), and Python then adds the
aggregated rows up per scope and period. The figures go through the same formula functions
(`planning.selectors.variances.*_figure` and `compare`) as the live selector, so an RM's
stored rows equal what `rm_plan_versus_actual` computes live.

Idempotent: the delete of the year's rows and the insert of the new ones are one
transaction, so a run killed half-way leaves the previous rows, and a second run gives the
same rows (only `computed_at` moves). The lock against two runs at once is
`org.jobs.run_job`'s.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts.models import (
    Account,
    Activity,
    ActivityStatus,
    Opportunity,
    OpportunityStatus,
    OwnershipChange,
    Position,
    ProductFamily,
)
from accounts.selectors import add_months, month_end
from org.models import Role, Team, User
from org.services import team_on

from ..models import (
    ForecastPeriod,
    ForecastSnapshot,
    ForecastSubmission,
    Metric,
    PeriodKind,
    PlanYear,
    ProductMixStandard,
    Scope,
    TargetLine,
    TargetSet,
    Variance,
)
from ..selectors.variances import (
    NEW_BUSINESS_KINDS,
    NOTE_UNKNOWN_METRIC,
    ZERO,
    _as_date,
    activities_figure,
    balance_retention_figure,
    closed_month,
    compare,
    cross_sell_figure,
    customer_rating_figure,
    forecast_figure,
    frozen_forecast,
    growth_figure,
    new_relationships_figure,
    product_mix_figure,
    rating_window,
    retention_buckets,
    retention_counts,
    retention_of,
    revenue_growth_figure,
)

LOAN, DEPOSIT = ProductFamily.LOAN.value, ProductFamily.DEPOSIT.value
BANK = (Scope.BANK.value, None)


def _plan_year_of(today: datetime.date) -> PlanYear | None:
    return PlanYear.objects.filter(starts_on__lte=today, ends_on__gte=today).first()


# --- periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _P:
    kind: str
    s: int  # first month's index (1 = the plan year's first month)
    l: int  # noqa: E741  last month's index
    start: datetime.date
    end: datetime.date

    @property
    def months(self) -> int:
        return self.l - self.s + 1

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _periods(month: list[datetime.date], e: int) -> list[_P]:
    """Every period of the year up to month index e: months, quarters to date, the year."""

    def period(kind, s, last):
        return _P(kind, s, last, month[s], month_end(month[last]))

    periods = [period(PeriodKind.MONTH.value, i, i) for i in range(1, e + 1)]
    periods += [period(PeriodKind.QUARTER.value, q, min(q + 2, e)) for q in (1, 4, 7, 10) if q <= e]
    periods.append(period(PeriodKind.YTD.value, 1, e))
    return periods


# --- reading the book in aggregates -----------------------------------------------------------


@dataclass
class _People:
    rms: list[int]  # the RMs who get rows (role RM, not gone before the year began)
    team_of: dict[int, int | None]  # every RM-role user: their team today
    teams: list[int]
    # RMs whose team changed within the year: their team at month-end 0..12 (the team
    # membership history, docs/metrics.md "Team membership over time").
    team_at: dict[int, list]

    def scopes_of(self, person: int | None, i: int | None = None) -> list[tuple]:
        """The scopes a person's accounts, activities and opportunities count for (at
        month-end index i: the team they were in then)."""
        scopes = [BANK]
        if person in self.team_of:
            scopes.append((Scope.RM.value, person))
            if person in self.team_at and i is not None:
                team = self.team_at[person][i]
            else:
                team = self.team_of[person]
            if team is not None:
                scopes.append((Scope.TEAM.value, team))
        return scopes

    def fixed_scopes(self, person: int | None) -> list[tuple]:
        """The scopes that do not depend on the month: all of them, but a mover's team."""
        if person in self.team_at:
            return [BANK, (Scope.RM.value, person)]
        return self.scopes_of(person)

    def moving_team(self, person: int | None, e: int) -> list[tuple]:
        """[(month-end index, team scope)] of a mover, for the months 1..e."""
        teams = self.team_at.get(person)
        if teams is None:
            return []
        return [(i, (Scope.TEAM.value, teams[i])) for i in range(1, e + 1) if teams[i]]


def _people(plan_year: PlanYear, month_ends: list[datetime.date]) -> _People:
    # One query: the RMs with their team memberships joined (one row per membership).
    rows = User.objects.filter(role=Role.RM).order_by("pk", "memberships__started_on")
    people: dict[int, tuple] = {}
    history: dict[int, list[tuple]] = defaultdict(list)
    for pk, team, gone, m_team, start, end in rows.values_list(
        "pk",
        "team_id",
        "departed_on",
        "memberships__team_id",
        "memberships__started_on",
        "memberships__ended_on",
    ):
        people[pk] = (team, gone)
        if start is not None:
            history[pk].append((start, end, m_team))
    team_of = {pk: team for pk, (team, _g) in people.items()}
    team_at = {}
    for pk in history:
        at = [team_on(history, pk, day, team_of[pk]) for day in month_ends]
        if len(set(at)) > 1:
            team_at[pk] = at
    return _People(
        rms=[pk for pk, (_t, gone) in people.items() if not gone or gone >= plan_year.starts_on],
        team_of=team_of,
        teams=list(Team.objects.order_by("pk").values_list("pk", flat=True)),
        team_at=team_at,
    )


def _approved_targets(plan_year: PlanYear) -> dict[tuple, dict[int, Decimal]]:
    """{scope key: {metric pk: the year's target}} from each subject's highest approved
    revision. One query."""
    rows = TargetLine.objects.filter(
        target_set__plan_year=plan_year, target_set__status=TargetSet.Status.APPROVED
    ).values_list(
        "target_set__scope",
        "target_set__team_id",
        "target_set__rm_id",
        "target_set__revision",
        "metric_id",
        "value",
    )
    best: dict[tuple, int] = {}
    targets: dict[tuple, dict[int, Decimal]] = defaultdict(dict)
    for scope, team, rm, revision, metric, value in sorted(rows, key=lambda r: r[3]):
        key = (scope, team if scope == Scope.TEAM else rm if scope == Scope.RM else None)
        if best.get(key, revision) != revision:  # a higher approved revision replaces
            targets[key] = {}
        best[key] = revision
        targets[key][metric] = value
    return targets


def _owners(e: int, month_ends: list[datetime.date]) -> dict[int, list]:
    """{account pk: [owner at month-end 0..e]} for the accounts with ownership changes (the
    rule of docs/metrics.md, dates in the bank's time zone; 0 is the base month B). One
    query."""
    changes: dict[int, list] = defaultdict(list)
    rows = OwnershipChange.objects.order_by("account_id", "changed_at", "pk").values_list(
        "account_id", "previous_owner_id", "new_owner_id", "changed_at"
    )
    for account, previous, new, at in rows:
        changes[account].append((timezone.localtime(at).date(), previous, new))
    owners: dict[int, list] = {}
    for account, history in changes.items():
        at_end = []
        for i in range(0, e + 1):
            before = [new for day, _p, new in history if day <= month_ends[i]]
            at_end.append(before[-1] if before else history[0][1])
        owners[account] = at_end
    return owners


def _position_sums():
    """Loan and deposit balances, and the products held by accounts active at the month's
    end (balance or revenue > 0), for the grouping that precedes them."""
    held = (
        (Q(balance__gt=0) | Q(revenue__gt=0))
        & Q(om__lte=F("month"))
        & (Q(account__closed_on__isnull=True) | Q(cm__gt=F("month")))
    )
    return {
        "loan": Sum("balance", filter=Q(product__family=LOAN)),
        "deposit": Sum("balance", filter=Q(product__family=DEPOSIT)),
        "held": Count("pk", filter=held),
    }


# --- the relationship metrics (docs/metrics.md, "The relationship metric") ---------------------
# Balance-weighted retention, revenue growth and the average customer rating, read apart from
# the other account metrics so the crediting rules (owner, team at a month-end, a loss with
# the owner at the start of its month) are applied to each account or person once, here.


def _balance_at(month: datetime.date):
    """An account's balance (every family) at the end of `month`, 0 without positions."""
    sums = (
        Position.objects.filter(account=OuterRef("pk"), month=month)
        .values("account")
        .annotate(t=Sum("balance"))
        .values("t")
    )
    return Coalesce(
        Subquery(sums), Value(ZERO), output_field=DecimalField(max_digits=18, decimal_places=2)
    )


class _Relationship:
    def __init__(self, people, month, minimum):
        self.people, self.month, self.minimum = people, month, minimum
        # (scope, month-end index) -> (tier0, ob, cb, status) -> balances on the eve of the year
        self.base_bal: dict[tuple, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
        # (scope, month-end index of the period's end, month) -> revenue of the accounts that
        # count for the scope at that month-end
        self.revenue: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
        # (scope, rated month) -> points, answers, customers who rated
        self.points: dict[tuple, int] = defaultdict(int)
        self.answers: dict[tuple, int] = defaultdict(int)
        self.raters: dict[tuple, set] = defaultdict(set)

    def figures(self, scope, p: _P) -> dict[str, tuple]:
        month = self.month
        counts = retention_counts(
            self.base_bal.get((scope, p.l), {}).items(),
            base=month[0],
            first=month[1],
            last=month[p.l],
        )
        months = month[p.s : p.l + 1]
        now = sum((self.revenue.get((scope, p.l, m), ZERO) for m in months), ZERO)
        before = sum(
            (self.revenue.get((scope, p.l, add_months(m, -12)), ZERO) for m in months), ZERO
        )
        keys = [(scope, m) for m in months if (scope, m) in self.answers]
        raters = set().union(*(self.raters[k] for k in keys))
        return {
            "balance_retention": balance_retention_figure(counts),
            "revenue_growth": revenue_growth_figure(now, before),
            "customer_rating": customer_rating_figure(
                sum(self.points[k] for k in keys),
                sum(self.answers[k] for k in keys),
                len(raters),
                self.minimum,
            ),
        }


def _relationship_metrics(plan_year, people, owners, month, e) -> _Relationship:
    """Five queries: accounts with their balance on the eve of the year, revenue by account
    and month (this year's months and the same months last year), customer ratings by RM,
    month and rater, and the minimum number of raters."""
    from coaching.models import BehaviourSet, CustomerRating
    from coaching.selectors.report_card import min_ratings

    rel = _Relationship(
        people, month, min_ratings(BehaviourSet.objects.filter(plan_year=plan_year).first())
    )
    base = month[0]

    def credited(pk, owner, cb, i):
        """(owner, month-end index) an account counts for at month-end i: an account that
        ended by then stays with its owner (and their team) at the start of its month."""
        if cb is not None and cb in month and month.index(cb) <= i:
            i = max(month.index(cb) - 1, 0)
        return (owners[pk][i] if pk in owners else owner), i

    accounts = {}
    for pk, owner, tier0, ob, cb, status, bal0 in (
        Account.objects.filter(opened_on__isnull=False)
        .annotate(**retention_buckets(plan_year), bal0=_balance_at(base))
        .values_list("pk", "owner", "tier0", "ob", "cb", "status", "bal0")
        .order_by()
    ):
        key = (tier0, _as_date(ob), _as_date(cb), status)
        accounts[pk] = (owner, key[2])
        if key[1] != base:
            continue  # not in the base: opened in the year
        for i in range(1, e + 1):
            who, at = credited(pk, owner, key[2], i)
            for scope in people.scopes_of(who, at):
                rel.base_bal[(scope, i)][key] += bal0 or ZERO

    revenue = defaultdict(dict)
    for pk, m, total in (
        Position.objects.filter(month__gte=add_months(month[1], -12), month__lte=month[e])
        .values("account", "month")
        .annotate(t=Sum("revenue"))
        .values_list("account", "month", "t")
        .order_by()
    ):
        if total:
            revenue[pk][m] = total
    for pk, by_month in revenue.items():
        if pk not in accounts:
            continue
        owner, cb = accounts[pk]
        for i in range(1, e + 1):
            who, at = credited(pk, owner, cb, i)
            scopes = people.scopes_of(who, at)
            for m, total in by_month.items():
                if m <= month[i] and (m >= month[1] or m <= add_months(month[i], -12)):
                    for scope in scopes:
                        rel.revenue[(scope, i, m)] += total

    lo, hi = rating_window(month[1], month_end(month[e]))
    for person, m, contact, account, points, n in (
        CustomerRating.objects.filter(month__gte=lo, month__lte=hi)
        .values("rm", "month", "contact", "account")
        .annotate(points=Sum("rating"), n=Count("pk"))
        .values_list("rm", "month", "contact", "account", "points", "n")
        .order_by()
    ):
        rater = ("contact", contact) if contact else ("account", account)
        # A customer who rated two RMs of a team is one customer of the team.
        for scope in people.scopes_of(person, month.index(m) if m in month else None):
            rel.points[(scope, m)] += points
            rel.answers[(scope, m)] += n
            rel.raters[(scope, m)].add(rater)
    return rel


# --- the job ----------------------------------------------------------------------------------


class _Acc:
    """Per scope and month-end index: what the account metrics need."""

    __slots__ = ("accounts", "bal", "held")

    def __init__(self):
        self.bal: dict[tuple, Decimal] = defaultdict(lambda: ZERO)  # (month, family)
        self.held: int = 0
        self.accounts: Counter = Counter()  # (tier at start, ob, cb, status) -> n


def _compute(plan_year: PlanYear, closed: datetime.date) -> list[tuple]:
    first = plan_year.starts_on.replace(day=1)
    e = (closed.year - first.year) * 12 + closed.month - first.month + 1
    month = [add_months(first, i - 1) for i in range(0, 13)]  # month[0] = B
    month_ends = [month_end(m) for m in month]
    base = month[0]
    periods = _periods(month, e)
    quarter_start = {i: (i - 1) // 3 * 3 + 1 for i in range(1, e + 1)}

    metrics = list(Metric.objects.order_by("position", "name"))
    people = _people(plan_year, month_ends)
    targets = _approved_targets(plan_year)
    owners = _owners(e, month_ends)
    changed = Exists(OwnershipChange.objects.filter(account=OuterRef("pk")))
    changed_position = Exists(OwnershipChange.objects.filter(account=OuterRef("account")))

    # Scopes' accounts that never changed hands count the same at every month-end.
    fixed: dict[tuple, _Acc] = defaultdict(_Acc)
    # ... and those that did, per month-end index.
    moving: dict[tuple, _Acc] = defaultdict(_Acc)

    relationships = Account.objects.filter(opened_on__isnull=False).annotate(
        **retention_buckets(plan_year)
    )
    for owner, tier0, ob, cb, status, n in (
        relationships.filter(~changed)
        .values("owner", "tier0", "ob", "cb", "status")
        .annotate(n=Count("pk"))
        .values_list("owner", "tier0", "ob", "cb", "status", "n")
        .order_by()
    ):
        key = (tier0, _as_date(ob), _as_date(cb), status)
        for scope in people.fixed_scopes(owner):
            fixed[scope].accounts[key] += n
        for i, scope in people.moving_team(owner, e):
            if key[2] in month and i >= month.index(key[2]):
                # An ended account stays with the team its owner was in at the start of
                # the month it ended in (as for an owner, credited_on).
                j = max(month.index(key[2]) - 1, 0)
                scope = (Scope.TEAM.value, people.team_at[owner][j])
                if scope[1] is None:
                    continue
            moving[(scope, i)].accounts[key] += n
    for pk, tier0, ob, cb, status in (
        relationships.filter(changed).values_list("pk", "tier0", "ob", "cb", "status").order_by()
    ):
        key = (tier0, _as_date(ob), _as_date(cb), status)
        if key[2] in month:
            # Once it has ended, an account counts for its owner at the start of the month it
            # ended in (selectors.variances.credited_on), also for its balances below.
            ended = month.index(key[2])
            for i in range(ended, e + 1):
                owners[pk][i] = owners[pk][max(ended - 1, 0)]
        for i in range(1, e + 1):
            for scope in people.scopes_of(owners[pk][i], i):
                moving[(scope, i)].accounts[key] += 1

    positions = Position.objects.filter(month__gte=base, month__lte=closed).annotate(
        om=TruncMonth("account__opened_on"), cm=TruncMonth("account__closed_on")
    )
    held_at: dict[tuple, int] = defaultdict(int)  # (scope, month) for the fixed accounts
    for owner, m, loan, deposit, held in (
        positions.filter(~changed_position)
        .values("account__owner", "month")
        .annotate(**_position_sums())
        .values_list("account__owner", "month", "loan", "deposit", "held")
        .order_by()
    ):
        for scope in people.fixed_scopes(owner):
            acc = fixed[scope]
            acc.bal[(m, LOAN)] += loan or ZERO
            acc.bal[(m, DEPOSIT)] += deposit or ZERO
            held_at[(scope, m)] += held
        for i, scope in people.moving_team(owner, e):
            acc = moving[(scope, i)]
            if m in {month[0], month[i - 1], month[quarter_start[i] - 1], month[i]}:
                acc.bal[(m, LOAN)] += loan or ZERO
                acc.bal[(m, DEPOSIT)] += deposit or ZERO
            if m == month[i]:
                acc.held += held
    per_account: dict[int, dict] = defaultdict(dict)
    for pk, m, loan, deposit, held in (
        positions.filter(changed_position)
        .values("account", "month")
        .annotate(**_position_sums())
        .values_list("account", "month", "loan", "deposit", "held")
        .order_by()
    ):
        per_account[pk][m] = (loan or ZERO, deposit or ZERO, held)
    for pk, by_month in per_account.items():
        for i in range(1, e + 1):
            wanted = {month[0], month[i - 1], month[quarter_start[i] - 1], month[i]}
            for scope in people.scopes_of(owners[pk][i], i):
                acc = moving[(scope, i)]
                for m in wanted:
                    if m in by_month:
                        loan, deposit, _held = by_month[m]
                        acc.bal[(m, LOAN)] += loan
                        acc.bal[(m, DEPOSIT)] += deposit
                if month[i] in by_month:
                    acc.held += by_month[month[i]][2]

    # Work done: activities and won opportunities by person and month.
    year_end = month_ends[e]
    activities: dict[tuple, int] = defaultdict(int)
    for person, m, n in (
        Activity.objects.filter(status=ActivityStatus.DONE, date__gte=first, date__lte=year_end)
        .annotate(m=TruncMonth("date"))
        .values("rm", "m")
        .annotate(n=Count("pk"))
        .values_list("rm", "m", "n")
        .order_by()
    ):
        if person not in people.team_of:
            # Activities per week is the RMs' figure: the bank's is the sum of its RMs' (its
            # teams' plus any RM without a team); a leader's own calls count in no figure.
            continue
        for scope in people.scopes_of(person, month.index(_as_date(m))):
            activities[(scope, _as_date(m))] += n
    # scope -> (month, family) -> new business won
    new_business: dict[tuple, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    won: dict[tuple, Decimal] = defaultdict(lambda: ZERO)  # (scope, month)
    for person, m, family, kind, total in (
        Opportunity.objects.filter(
            status=OpportunityStatus.WON, closed_on__gte=first, closed_on__lte=year_end
        )
        .annotate(m=TruncMonth("closed_on"))
        .values("rm", "m", "product__family", "kind")
        .annotate(total=Sum("amount"))
        .values_list("rm", "m", "product__family", "kind", "total")
        .order_by()
    ):
        for scope in people.scopes_of(person, month.index(_as_date(m))):
            won[(scope, _as_date(m))] += total
            if kind in NEW_BUSINESS_KINDS:
                new_business[scope][(_as_date(m), family)] += total
    standards = dict(
        ProductMixStandard.objects.filter(plan_year=plan_year).values_list(
            "family", "target_share_pct"
        )
    )
    frozen: dict[tuple, Decimal] = {}  # (scope, month) -> Σ F(m)
    for person, m, amount, adjusted in ForecastSnapshot.objects.filter(
        month__gte=first, month__lte=closed
    ).values_list("rm", "month", "amount", "adjusted_amount"):
        for scope in people.scopes_of(person, month.index(_as_date(m))):
            f = frozen_forecast(scope[0], amount, adjusted)
            frozen[(scope, m)] = frozen.get((scope, m), ZERO) + f

    relationship = _relationship_metrics(plan_year, people, owners, month, e)

    scopes = (
        [(Scope.RM.value, pk) for pk in people.rms]
        + [(Scope.TEAM.value, pk) for pk in people.teams]
        + [BANK]
    )

    def account_figures(scope, p: _P) -> dict[str, tuple]:
        f, mv = fixed.get(scope), moving.get((scope, p.l))
        parts = [a for a in (f, mv) if a is not None]

        def balance(m, family):
            return sum((a.bal.get((m, family), ZERO) for a in parts), ZERO)

        held = held_at.get((scope, month[p.l]), 0) + (mv.held if mv else 0)
        active = opened = 0
        m_l, m_s, m_1 = month[p.l], month[p.s], month[1]
        retention = retention_counts(
            (item for a in parts for item in a.accounts.items()), base=base, first=m_1, last=m_l
        )
        for a in parts:
            for (_tier, ob, cb, _status), n in a.accounts.items():
                alive = cb is None or cb > m_l
                if ob <= m_l and alive:
                    active += n
                if m_s <= ob <= m_l:
                    opened += n
        before = month[p.s - 1]
        return {
            "loan_growth": growth_figure(
                LOAN, balance(base, LOAN), balance(before, LOAN), balance(m_l, LOAN)
            ),
            "deposit_growth": growth_figure(
                DEPOSIT, balance(base, DEPOSIT), balance(before, DEPOSIT), balance(m_l, DEPOSIT)
            ),
            "tier_a_retention": retention_of(retention, tier_a=True),
            "retention": retention_of(retention, tier_a=False),
            "new_relationships": new_relationships_figure(opened),
            "cross_sell_ratio": cross_sell_figure(held, active),
        }

    def work_figures(scope, p: _P) -> dict[str, tuple]:
        months = month[p.s : p.l + 1]
        mix: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for (m, family), total in new_business.get(scope, {}).items():
            if month[p.s] <= m <= month[p.l]:
                mix[family] += total
        return {
            "activities_per_week": activities_figure(
                sum(activities.get((scope, m), 0) for m in months), p.days
            ),
            "product_mix_share": product_mix_figure(dict(mix), standards),
            "forecast_accuracy": forecast_figure(
                [
                    (frozen[(scope, m)], won.get((scope, m), ZERO))
                    for m in months
                    if (scope, m) in frozen
                ]
            ),
        }

    results = []
    for scope in scopes:
        scoped_targets = targets.get(scope, {})
        for p in periods:
            figures = (
                account_figures(scope, p) | work_figures(scope, p) | relationship.figures(scope, p)
            )
            for metric in metrics:
                actual, note = figures.get(metric.code, (None, NOTE_UNKNOWN_METRIC))
                c = compare(
                    metric.code,
                    scoped_targets.get(metric.pk),
                    actual,
                    months=p.months,
                    elapsed=p.l,
                )
                results.append((scope, metric.pk, p, c, note))
    return results


# --- writing -----------------------------------------------------------------------------------

COLUMNS = (
    "plan_year_id",
    "scope",
    "team_id",
    "rm_id",
    "metric_id",
    "period",
    "period_start",
    "period_end",
    "planned",
    "actual",
    "difference",
    "percent",
    "note",
    "as_of",
    "computed_at",
)


def _insert(rows: list[tuple]) -> None:
    """One statement, whatever the number of rows: COPY on PostgreSQL (as fast as it gets;
    client-side binding of a 300k-row INSERT would spend seconds quoting), one executemany
    elsewhere. `rows` follow COLUMNS."""
    if not rows:
        return
    table = connection.ops.quote_name(Variance._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({columns}) FROM STDIN"

            def copy(sql, params, many, context):
                with context["cursor"].cursor.copy(sql) as stream:
                    for row in rows:
                        stream.write_row(row)

            # Through Django's execute wrappers and, when queries are logged, its query log,
            # so that the COPY counts as the one query it is.
            logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
            with logged:
                cursor._execute_with_wrappers(sql, None, False, executor=copy)
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _replace(plan_year: PlanYear, rows: list[tuple]) -> None:
    """Delete the plan year's rows and insert the new ones, as one transaction."""
    with transaction.atomic():
        Variance.objects.filter(plan_year=plan_year).delete()
        _insert(rows)


def variances_recompute(*, today: datetime.date | None = None) -> int:
    """Recompute and store plan versus actual for the plan year containing `today` (default:
    today in the bank's time zone). Returns the number of rows written. A fixed number of
    queries (docs/metrics.md "The nightly job")."""
    today = today or timezone.localdate()
    plan_year = _plan_year_of(today)
    if plan_year is None:
        return 0
    closed = closed_month(plan_year)
    rows: list[tuple] = []
    if closed is not None:
        computed_at = timezone.now()
        results = _compute(plan_year, closed)
        if connection.vendor == "postgresql":
            stamp = computed_at
        else:
            stamp = connection.ops.adapt_datetimefield_value(computed_at)
        for (scope, subject), metric, p, c, note in results:
            rows.append(
                (
                    plan_year.pk,
                    scope,
                    subject if scope == Scope.TEAM else None,
                    subject if scope == Scope.RM else None,
                    metric,
                    p.kind,
                    p.start,
                    p.end,
                    c.planned,
                    c.actual,
                    c.difference,
                    c.percent,
                    note,
                    closed,
                    stamp,
                )
            )
    _replace(plan_year, rows)
    return len(rows)


# --- forecast snapshots ------------------------------------------------------------------------


def forecasts_snapshot(*, today: datetime.date | None = None) -> int:
    """Freeze each active RM's forecast F(m) for the month containing `today`: the RM's
    submitted month forecast where there is one (`amount` their number, `adjusted_amount`
    the leader's), else the open opportunities at the month's start expected to close in
    it, amount x probability. An RM who has left (`departed_on` on or before the month's
    first day) gets none, whatever `is_active` says. Only the first run in a month records
    anything (one snapshot per RM and month). Returns the number of snapshots taken. Four
    queries."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    rms = list(
        User.objects.filter(role=Role.RM, is_active=True)
        .filter(Q(departed_on__isnull=True) | Q(departed_on__gt=month))
        .exclude(forecast_snapshots__month=month)
        .values_list("pk", flat=True)
    )
    if not rms:
        return 0
    submitted = {
        rm: (amount, adjusted)
        for rm, amount, adjusted in ForecastSubmission.objects.filter(
            rm_id__in=rms, period=ForecastPeriod.MONTH, period_start=month
        ).values_list("rm_id", "amount", "adjusted_amount")
    }
    forecast: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for rm, probability, total in (
        Opportunity.objects.filter(
            rm__role=Role.RM,
            created_on__lt=month,
            expected_close__gte=month,
            expected_close__lte=month_end(month),
        )
        .filter(Q(status=OpportunityStatus.OPEN) | Q(closed_on__gte=month))
        .values("rm", "probability")
        .annotate(total=Sum("amount"))
        .values_list("rm", "probability", "total")
        .order_by()
    ):
        forecast[rm] += total * probability / 100
    now = timezone.now()

    def snapshot(rm: int) -> ForecastSnapshot:
        if rm in submitted:
            amount, adjusted = submitted[rm]
            return ForecastSnapshot(
                rm_id=rm,
                month=month,
                amount=amount,
                adjusted_amount=adjusted,
                source=ForecastSnapshot.Source.SUBMITTED,
                taken_at=now,
            )
        return ForecastSnapshot(
            rm_id=rm,
            month=month,
            amount=forecast[rm].quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            source=ForecastSnapshot.Source.PIPELINE,
            taken_at=now,
        )

    snapshots = [snapshot(rm) for rm in rms]
    with transaction.atomic():
        ForecastSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True, batch_size=2000)
    return len(snapshots)
