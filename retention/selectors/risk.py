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
from org.access import visible_accounts, visible_risk_scores
from org.models import User
from planning.models import PlanYear
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
    plan_year = PlanYear.objects.filter(starts_on__lte=today, ends_on__gte=today).first()
    return plan_year.starts_on if plan_year else today.replace(month=1, day=1)


def _active_at(day: datetime.date) -> Q:
    """Active on `day`: opened on or before it (or no opening date) and not ended before it.
    Prospects were never active."""
    return (
        ~Q(status=AccountStatus.PROSPECT)
        & (Q(opened_on__isnull=True) | Q(opened_on__lte=day))
        & (Q(closed_on__isnull=True) | Q(closed_on__gte=day))
    )


@dataclass
class TierRetention:
    tier: Tier
    at_start: int
    still_active: int

    @property
    def retention_pct(self) -> Decimal | None:
        if not self.at_start:
            return None
        return Decimal(self.still_active * 100) / self.at_start

    @property
    def gap_pct(self) -> Decimal | None:
        pct = self.retention_pct
        return None if pct is None else pct - self.tier.retention_target_pct

    @property
    def on_target(self) -> bool | None:
        gap = self.gap_pct
        return None if gap is None else gap >= 0


@dataclass
class Retention:
    starts_on: datetime.date
    tiers: list[TierRetention]
    at_start: int
    lost: int
    closed: int

    @property
    def attrition_pct(self) -> Decimal | None:
        if not self.at_start:
            return None
        return Decimal((self.lost + self.closed) * 100) / self.at_start


def retention(user: User, *, today: datetime.date) -> Retention:
    """Per tier: of the accounts active at the start of the plan year, the share still active
    today against the tier's target; and the year's attrition (lost or closed since the start,
    over active at the start). Two queries and the plan year's."""
    start = year_start(today)
    rows = {
        row["tier"]: row
        for row in visible_accounts(user)
        .filter(_active_at(start))
        .values("tier")
        .annotate(
            at_start=Count("pk"),
            still=Count("pk", filter=Q(status=AccountStatus.ACTIVE)),
            lost=Count("pk", filter=Q(status=AccountStatus.LOST, closed_on__lte=today)),
            closed=Count("pk", filter=Q(status=AccountStatus.CLOSED, closed_on__lte=today)),
        )
        .order_by()
    }
    tiers = [
        TierRetention(
            tier=tier,
            at_start=rows.get(tier.pk, {}).get("at_start", 0),
            still_active=rows.get(tier.pk, {}).get("still", 0),
        )
        for tier in Tier.objects.all()
    ]
    return Retention(
        starts_on=start,
        tiers=tiers,
        at_start=sum(r["at_start"] for r in rows.values()),
        lost=sum(r["lost"] for r in rows.values()),
        closed=sum(r["closed"] for r in rows.values()),
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
