"""Retention of a team scope or the bank, per tier, counted as the nightly variance job
counts it (docs/metrics.md, "Tier-A retention", "Retention", "One retention on every
screen"): the Retention page reads it here, so its tier-A and overall figures are the
stored `tier_a_retention` and `retention` rows of the same scope at the same closed month.

    scope_retention(plan_year, *, teams=None) -> ScopeRetention

The same definitions as the job and the live RM path (`planning.selectors.variances`):
`retention_buckets` (tier at the start of the year, months opened and ended),
`credited_on` (who takes a loss), `retention_counts` and `retention_of`. A fixed number of
queries (three), whatever the number of accounts and ownership changes.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from accounts.models import Account, OwnershipChange
from accounts.selectors import add_months, month_end, month_start
from org.models import Role

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


def _rms_of(teams, prefix: str) -> Q:
    """The person at `prefix` is an RM of one of `teams` (as the job's team rows count)."""
    return Q(**{f"{prefix}role": Role.RM, f"{prefix}team__in": teams})


def _flag(condition: Q | None) -> Case | Value:
    if condition is None:
        return Value(True, output_field=BooleanField())
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def scope_retention(plan_year: PlanYear, *, teams=None) -> ScopeRetention:
    """Per tier at the start of the year: the base and what became of it by the end of the
    closed month E, for the RMs of `teams` (a queryset or ids; the job's team scope, owner
    at the period's end as `credited_on` decides) or, with `teams=None`, the bank (every
    account). Accounts the scope's RMs only cover are counted for their owners and returned
    apart (`covered_elsewhere`). The caller decides who may see the figures (org.access).
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

    # Accounts that never changed hands count for their owner at every month-end.
    changed = Exists(OwnershipChange.objects.filter(account=OuterRef("pk")))
    fixed = (
        Account.objects.filter(opened_on__isnull=False)
        .filter(~changed)
        .annotate(**retention_buckets(plan_year))
    )
    if not bank:
        fixed = fixed.filter(_rms_of(teams, "owner__") | _rms_of(teams, "covering_rm__"))
    for ours, tier0, ob, cb, status, n in (
        fixed.annotate(ours=_flag(None if bank else _rms_of(teams, "owner__")))
        .values("ours", "tier0", "ob", "cb", "status")
        .annotate(n=Count("pk"))
        .values_list("ours", "tier0", "ob", "cb", "status", "n")
        .order_by()
    ):
        (counted if ours else covered)[(tier0, _as_date(ob), _as_date(cb), status)] += n

    # Those that did: their owner on the day `credited_on` names, from their changes (one
    # query for the changes and the account fields together).
    changes = (
        OwnershipChange.objects.filter(account__opened_on__isnull=False)
        .annotate(
            **retention_buckets(plan_year, prefix="account__"),
            previous_ours=_flag(None if bank else _rms_of(teams, "previous_owner__")),
            new_ours=_flag(None if bank else _rms_of(teams, "new_owner__")),
            covering_ours=Value(False, output_field=BooleanField())
            if bank
            else _flag(_rms_of(teams, "account__covering_rm__")),
        )
        .order_by("account_id", "changed_at", "pk")
        .values_list(
            "account_id",
            "account__closed_on",
            "account__status",
            "tier0",
            "ob",
            "cb",
            "changed_at",
            "previous_ours",
            "new_ours",
            "covering_ours",
        )
    )
    history: dict[int, list] = defaultdict(list)
    for row in changes:
        history[row[0]].append(row)
    for rows in history.values():
        _pk, closed_on, status, tier0, ob, cb, *_rest = rows[0]
        day = credited_on(end, closed_on, plan_year.starts_on)
        before = [r for r in rows if timezone.localtime(r[6]).date() <= day]
        ours = before[-1][8] if before else rows[0][7]
        key = (tier0, _as_date(ob), _as_date(cb), status)
        if ours:
            counted[key] += 1
        elif rows[0][9]:
            covered[key] += 1

    elsewhere = sum((c.base for c in counts_of(covered).values()), 0)
    return ScopeRetention(plan_year, closed, counts_of(counted), elsewhere)
