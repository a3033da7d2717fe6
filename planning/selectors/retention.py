"""Retention of a team scope or the bank, per tier, counted as the nightly variance job
counts it (docs/metrics.md, "Tier-A retention", "Retention", "One retention on every
screen"): the Retention page reads it here, so its tier-A and overall figures are the
stored `tier_a_retention` and `retention` rows of the same scope at the same closed month.

    scope_retention(plan_year, *, teams=None) -> ScopeRetention

The same definitions as the job and the live RM path (`planning.selectors.variances`):
`retention_buckets` (tier at the start of the year, months opened and ended),
`credited_on` (who takes a loss), `retention_counts` and `retention_of`. A fixed number of
queries (four), whatever the number of accounts and ownership changes.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from accounts.models import Account, OwnershipChange
from accounts.selectors import add_months, month_end, month_start
from org.models import Role, User
from org.services import team_history, team_on

from ..models import PlanYear
from .variances import (
    RetentionCount,
    _as_date,
    attrition_of,
    closed_month,
    compare,
    credited_on,
    retention_buckets,
    retention_counts,
    retention_of,
)


def _rounded(figure) -> Decimal | None:
    """A retention figure rounded as the job stores it (2 decimals, half up)."""
    actual, _note = figure
    return compare("retention", None, actual, months=1, elapsed=1).actual


@dataclass(frozen=True)
class ScopeRetention:
    plan_year: PlanYear
    as_of: datetime.date | None  # the closed month E; None: no month closed yet
    counts: dict[str | None, RetentionCount] = field(default_factory=dict)  # by tier at start
    covered_elsewhere: int = 0  # in the base, covered by the scope's RMs, counted elsewhere

    @property
    def ends_on(self) -> datetime.date | None:
        """L, the last day the figures run to (E's month-end)."""
        return None if self.as_of is None else month_end(self.as_of)

    @property
    def total(self) -> RetentionCount:
        return sum(self.counts.values(), RetentionCount())

    def tier(self, code: str) -> RetentionCount:
        return self.counts.get(code, RetentionCount())

    def tier_pct(self, code: str) -> Decimal | None:
        """Retention of the accounts that were in tier `code` at the start of the year."""
        count = self.tier(code)
        return _rounded(retention_of({code: count}, tier_a=False))

    @property
    def tier_a_pct(self) -> Decimal | None:
        return _rounded(retention_of(self.counts, tier_a=True))

    @property
    def retention_pct(self) -> Decimal | None:
        return _rounded(retention_of(self.counts, tier_a=False))

    @property
    def attrition_pct(self) -> Decimal | None:
        return attrition_of(self.retention_pct)


def _pk_of(team) -> int:
    """A team given as a model, an id or a `.values("pk")` row."""
    if isinstance(team, dict):
        return int(next(iter(team.values())))
    return int(getattr(team, "pk", team))


def _team_rule(teams, closed: datetime.date, first: datetime.date):
    """The team an RM's account counts for, as the nightly job decides it (docs/metrics.md,
    "Team membership over time"): the team the RM was in at the end of the closed month, or,
    for an account that ended in the year, at the end of the month before it ended. Two
    queries: the RMs' teams today, their membership history."""
    wanted = {_pk_of(t) for t in teams}
    today = dict(User.objects.filter(role=Role.RM).values_list("pk", "team_id"))
    history = team_history(today.keys())
    end = month_end(closed)
    base = add_months(first, -1)

    def counts_for_scope(rm: int | None, ended_month: datetime.date | None) -> bool:
        if rm not in today:
            return False
        day = end
        if ended_month is not None and base <= ended_month <= closed:
            day = month_end(max(add_months(ended_month, -1), base))
        return team_on(history, rm, day, today[rm]) in wanted

    def covered_by_scope(rm: int | None) -> bool:
        return rm in today and today[rm] in wanted

    return counts_for_scope, covered_by_scope


def scope_retention(plan_year: PlanYear, *, teams=None) -> ScopeRetention:
    """Per tier at the start of the year: the base and what became of it by the end of the
    closed month E, for the RMs of `teams` (a queryset or ids; the job's team scope: the
    owner `credited_on` names, in the team the membership history puts them in, as the job
    counts it) or, with `teams=None`, the bank (every account). Accounts the scope's RMs only
    cover are counted for their owners and returned apart (`covered_elsewhere`). The caller
    decides who may see the figures (org.access).
    """
    closed = closed_month(plan_year)
    if closed is None:
        return ScopeRetention(plan_year, None)
    first = month_start(plan_year.starts_on)
    base = add_months(first, -1)
    end = month_end(closed)

    def counts_of(buckets) -> dict[str | None, RetentionCount]:
        return retention_counts(buckets.items(), base=base, first=first, last=closed)

    counted: Counter = Counter()
    covered: Counter = Counter()
    bank = teams is None
    if not bank:
        ours, covers = _team_rule(teams, closed, first)

    # Accounts that never changed hands count for their owner at every month-end.
    changed = Exists(OwnershipChange.objects.filter(account=OuterRef("pk")))
    fixed = (
        Account.objects.filter(opened_on__isnull=False)
        .filter(~changed)
        .annotate(**retention_buckets(plan_year))
    )
    for owner, covering, tier0, ob, cb, status, n in (
        fixed.values("owner", "covering_rm", "tier0", "ob", "cb", "status")
        .annotate(n=Count("pk"))
        .values_list("owner", "covering_rm", "tier0", "ob", "cb", "status", "n")
        .order_by()
    ):
        key = (tier0, _as_date(ob), _as_date(cb), status)
        if bank or ours(owner, key[2]):
            counted[key] += n
        elif covers(covering):
            covered[key] += n

    # Those that did: their owner on the day `credited_on` names, from their changes (one
    # query for the changes and the account fields together); the job counts that owner in
    # the team they were in at the end of the closed month.
    changes = (
        OwnershipChange.objects.filter(account__opened_on__isnull=False)
        .annotate(**retention_buckets(plan_year, prefix="account__"))
        .order_by("account_id", "changed_at", "pk")
        .values_list(
            "account_id",
            "account__closed_on",
            "account__status",
            "tier0",
            "ob",
            "cb",
            "changed_at",
            "previous_owner_id",
            "new_owner_id",
            "account__covering_rm_id",
        )
    )
    history: dict[int, list] = defaultdict(list)
    for row in changes:
        history[row[0]].append(row)
    for rows in history.values():
        _pk, closed_on, status, tier0, ob, cb, *_rest = rows[0]
        day = credited_on(end, closed_on, plan_year.starts_on)
        before = [r for r in rows if timezone.localtime(r[6]).date() <= day]
        owner = before[-1][8] if before else rows[0][7]
        key = (tier0, _as_date(ob), _as_date(cb), status)
        if bank or ours(owner, None):
            counted[key] += 1
        elif covers(rows[0][9]):
            covered[key] += 1

    elsewhere = sum((c.base for c in counts_of(covered).values()), 0)
    return ScopeRetention(plan_year, closed, counts_of(counted), elsewhere)
