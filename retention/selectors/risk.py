"""Reading attrition risk, retention and multiple connections. Everything starts from what
the viewer may see (org.access.visible_risk_scores / visible_accounts)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import (
    Account,
    AccountStatus,
    Opportunity,
    OpportunityStatus,
    Position,
    Tier,
)
from accounts.selectors import latest_month
from org.access import sees_whole_bank, visible_accounts, visible_risk_scores
from org.models import Team, User
from planning.models import PlanYear
from planning.selectors.retention import scope_retention
from retention.models import RiskScore, SecondaryContact

ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=2)
MAJOR_TIERS = ("A", "B")
# The trend shown beside a score: this many nights back at most.
TREND_DAYS = 35

# Priority = risk score times the basis' value (or the score alone).
BASES = {
    "risk": "Risk score alone",
    "revenue": "Risk \u00d7 current revenue",
    "pipeline": "Risk \u00d7 open pipeline",
    "balances": "Risk \u00d7 balances",
}


def _money(subquery) -> Coalesce:
    return Coalesce(Subquery(subquery, output_field=MONEY), Value(ZERO), output_field=MONEY)


def _per_account(qs, expression):
    return qs.order_by().values("account").annotate(v=expression).values("v")


def latest_scores(user: User, *, month: datetime.date | None) -> QuerySet[RiskScore]:
    """Each active account's latest score the viewer may see, with the three values a
    priority can be based on: current revenue (the month's revenue times 12), open pipeline
    (the sum of amount times probability) and balances (at `month`, the last month loaded)."""
    latest_day = (
        RiskScore.objects.filter(account=OuterRef("account"))
        .order_by("-scored_on")
        .values("scored_on")[:1]
    )
    positions = Position.objects.filter(account=OuterRef("account"), month=month)
    pipeline = Opportunity.objects.filter(
        account=OuterRef("account"), status=OpportunityStatus.OPEN
    )
    return (
        visible_risk_scores(user)
        .filter(account__status=AccountStatus.ACTIVE, scored_on=Subquery(latest_day))
        .select_related(
            "account",
            "account__tier",
            "account__owner",
            "account__owner__team",
            "account__covering_rm",
        )
        .annotate(
            revenue=_money(_per_account(positions, Sum("revenue") * 12)),
            balances=_money(_per_account(positions, Sum("balance"))),
            pipeline=_money(
                _per_account(pipeline, Sum(F("amount") * F("probability") / Value(100)))
            ),
        )
        .order_by("-score", "account__name", "pk")
    )


def prioritise(scores: QuerySet[RiskScore], basis: str | None) -> QuerySet[RiskScore]:
    """Sort by priority: the score times the basis' value, biggest first."""
    if basis not in ("revenue", "pipeline", "balances"):
        return scores.order_by("-score", "account__name", "pk")
    return scores.annotate(
        priority=ExpressionWrapper(F("score") * F(basis), output_field=MONEY)
    ).order_by("-priority", "-score", "account__name", "pk")


def attach_trends(scores: list[RiskScore]) -> None:
    """Give each score of a page its recent nights (`trend`, oldest first) and the score a
    week before (`week_ago`, the latest night at least 7 days earlier), in one query."""
    if not scores:
        return
    earliest = min(s.scored_on for s in scores) - datetime.timedelta(days=TREND_DAYS)
    history: dict[int, list[tuple[datetime.date, int]]] = defaultdict(list)
    for account_id, day, value in (
        RiskScore.objects.filter(
            account__in=[s.account_id for s in scores], scored_on__gte=earliest
        )
        .order_by("account", "scored_on")
        .values_list("account", "scored_on", "score")
    ):
        history[account_id].append((day, value))
    for s in scores:
        nights = [(d, v) for d, v in history[s.account_id] if d <= s.scored_on]
        s.trend = nights[-8:]
        week = s.scored_on - datetime.timedelta(days=7)
        earlier = [(d, v) for d, v in nights if d <= week]
        s.week_ago = earlier[-1] if earlier else None


# --- retention against target, attrition ----------------------------------------------------


def year_start(today: datetime.date) -> datetime.date:
    """The first day of the plan year `today` falls in (the calendar year without one)."""
    return _plan_year(today).starts_on


def _plan_year(today: datetime.date) -> PlanYear:
    """The plan year `today` falls in; without one, the calendar year (not saved)."""
    plan_year = PlanYear.objects.filter(starts_on__lte=today, ends_on__gte=today).first()
    if plan_year is None:
        plan_year = PlanYear(
            year=today.year,
            starts_on=today.replace(month=1, day=1),
            ends_on=today.replace(month=12, day=31),
        )
    return plan_year


@dataclass
class TierRetention:
    """The accounts that were in `tier` at the start of the year (docs/metrics.md)."""

    tier: Tier
    at_start: int
    still_active: int
    retention_pct: Decimal | None  # rounded as the variances store it

    @property
    def gap_pct(self) -> Decimal | None:
        """Percentage points against the tier's standing target."""
        pct = self.retention_pct
        return None if pct is None else pct - self.tier.retention_target_pct

    @property
    def on_target(self) -> bool | None:
        gap = self.gap_pct
        return None if gap is None else gap >= 0


@dataclass
class Retention:
    starts_on: datetime.date
    as_of: datetime.date | None  # the closed month E the figures run to; None: none closed
    ends_on: datetime.date | None  # E's month-end
    tiers: list[TierRetention]
    at_start: int
    lost: int
    closed: int
    retention_pct: Decimal | None  # = the stored `retention` row of the scope, year to date
    attrition_pct: Decimal | None  # 100 - retention_pct
    covered_elsewhere: int = 0  # accounts the team only covers: counted for their owners


def retention(user: User, *, today: datetime.date) -> Retention:
    """Per tier at the start of the year: of the accounts active on the eve of the plan year,
    the share still active at the end of the closed month, against the tier's target; and
    the year's attrition, its complement. A leader's figures are their team's (accounts
    their RMs own, as the variances count them), an executive's the bank's: the same
    function as the stored variances (planning.selectors.retention.scope_retention)."""
    plan_year = _plan_year(today)
    teams = None if sees_whole_bank(user) else Team.objects.filter(leader=user).values("pk")
    figures = scope_retention(plan_year, teams=teams)
    tiers = [
        TierRetention(
            tier=tier,
            at_start=figures.tier(tier.code).base,
            still_active=figures.tier(tier.code).kept,
            retention_pct=figures.tier_pct(tier.code),
        )
        for tier in Tier.objects.all()
    ]
    total = figures.total
    return Retention(
        starts_on=plan_year.starts_on,
        as_of=figures.as_of,
        ends_on=figures.ends_on,
        tiers=tiers,
        at_start=total.base,
        lost=total.lost,
        closed=total.closed,
        retention_pct=figures.retention_pct,
        attrition_pct=figures.attrition_pct,
        covered_elsewhere=figures.covered_elsewhere,
    )


# --- multiple connections ---------------------------------------------------------------------


def _present(prefix: str, today: datetime.date) -> Q:
    """The person at `prefix` still works at the bank on `today`."""
    return Q(**{f"{prefix}is_active": True}) & (
        Q(**{f"{prefix}departed_on__isnull": True}) | Q(**{f"{prefix}departed_on__gt": today})
    )


def major_accounts(user: User, *, today: datetime.date) -> QuerySet[Account]:
    """The active tier A and B accounts the viewer sees, each with `bank_contacts`: how many
    people at the bank know it — the owner, the covering RM and the secondary contacts, each
    counted once and only while they still work at the bank."""
    secondaries = (
        SecondaryContact.objects.filter(account=OuterRef("pk"))
        .filter(_present("person__", today))
        .exclude(person=F("account__owner"))
        .filter(Q(account__covering_rm__isnull=True) | ~Q(person=F("account__covering_rm")))
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        visible_accounts(user)
        .filter(status=AccountStatus.ACTIVE, tier__code__in=MAJOR_TIERS)
        .annotate(
            owner_here=Case(When(_present("owner__", today), then=1), default=0),
            covering_here=Case(
                When(Q(covering_rm__isnull=False) & _present("covering_rm__", today), then=1),
                default=0,
            ),
            secondaries=Coalesce(Subquery(secondaries, output_field=IntegerField()), Value(0)),
        )
        .annotate(bank_contacts=F("owner_here") + F("covering_here") + F("secondaries"))
    )


@dataclass
class ConnectionShare:
    total: int
    connected: int

    @property
    def alone(self) -> int:
        return self.total - self.connected

    @property
    def share_pct(self) -> Decimal | None:
        if not self.total:
            return None
        return Decimal(self.connected * 100) / self.total


def connection_share(user: User, *, today: datetime.date) -> ConnectionShare:
    """The share of major accounts known by two or more people at the bank (one query)."""
    totals = major_accounts(user, today=today).aggregate(
        total=Count("pk"),
        connected=Sum(Case(When(bank_contacts__gte=2, then=1), default=0)),
    )
    return ConnectionShare(total=totals["total"], connected=totals["connected"] or 0)


def held_alone(user: User, *, today: datetime.date) -> QuerySet[Account]:
    """Major accounts known by one person at the bank, or by nobody any more."""
    return (
        major_accounts(user, today=today)
        .filter(bank_contacts__lt=2)
        .select_related("tier", "owner", "owner__team", "covering_rm")
        .order_by("tier__code", "name", "pk")
    )


def secondary_contacts(user: User) -> QuerySet[SecondaryContact]:
    """The secondary contacts of the accounts the viewer sees."""
    return (
        SecondaryContact.objects.filter(account__in=visible_accounts(user).values("pk"))
        .select_related("account", "account__tier", "account__owner", "person")
        .order_by("account__name", "person__last_name", "pk")
    )


def account_latest_risk(user: User, account: Account) -> RiskScore | None:
    """An account's latest risk score, for its page (one query)."""
    return visible_risk_scores(user).filter(account=account).order_by("-scored_on").first()


def as_of_month() -> datetime.date | None:
    return latest_month()
