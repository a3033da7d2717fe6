"""What the campaign pages show, already cut to what the viewer may see.

Every figure is about the viewer's share of the list (`visible_campaign_accounts`): an RM
their own listed accounts, a leader their team's, executives and administrators all. The
figures are set-based: a fixed handful of aggregate queries whatever the list's length.

    campaign_window(campaign, today)           the dates and months the figures use (0-1 q)
    campaign_figures(campaign, user, today)    goal, contacted, converted, attrition (4 q)
    campaign_entries(campaign, user, today)    the list, each with contacted / converted
    campaigns_by_state(user, today)            running, upcoming, finished (1 query)

The rules are in docs/campaigns.md.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import (
    AccountStatus,
    Activity,
    Opportunity,
    OpportunityKind,
    Position,
    ProductFamily,
)
from accounts.models import OpportunityStatus as OppStatus
from accounts.selectors import month_start
from org.access import sees_whole_bank, visible_accounts, visible_campaign_accounts
from org.access import visible_campaigns as _visible_campaigns
from org.models import Role, User

from ..models import Campaign, CampaignAccount
from ..services.campaigns import MANAGERS, holds_family, latest_closed_month

ENDED = (AccountStatus.CLOSED, AccountStatus.LOST)


def _previous_month(month: datetime.date) -> datetime.date:
    return (month - datetime.timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class Window:
    """The days and month-ends a campaign's figures are measured over.

    start .. end: the campaign's days so far (end = its last day, or today while it runs;
    before it starts end < start and nothing is counted). base_month: the last month closed
    before the campaign started (what accounts held at the start). end_month: the latest
    closed month within the campaign (what they hold now or held at its end); None when no
    month has closed since the base month.
    """

    state: str  # "upcoming", "running" or "finished"
    start: datetime.date
    end: datetime.date
    base_month: datetime.date
    end_month: datetime.date | None

    @property
    def days_counted(self) -> int:
        return max(0, (self.end - self.start).days + 1)


def campaign_state(campaign: Campaign, today: datetime.date) -> str:
    if today < campaign.starts_on:
        return "upcoming"
    if today > campaign.ends_on:
        return "finished"
    return "running"


def campaign_window(campaign: Campaign, today: datetime.date | None = None, latest=...) -> Window:
    """One query (the latest closed month) unless `latest` is given."""
    today = today or timezone.localdate()
    if latest is ...:
        latest = latest_closed_month()
    base_month = _previous_month(month_start(campaign.starts_on))
    end_month = None
    if latest is not None:
        end_month = min(latest, month_start(campaign.ends_on))
        if end_month <= base_month:
            end_month = None
    return Window(
        state=campaign_state(campaign, today),
        start=campaign.starts_on,
        end=min(campaign.ends_on, today),
        base_month=base_month,
        end_month=end_month,
    )


# --- per account: contacted, converted ------------------------------------------------------


def contacted_q(window: Window, account_ref: str = "account") -> Exists:
    """An activity on the account, by anyone, on a day of the campaign so far."""
    return Exists(
        Activity.objects.filter(
            account=OuterRef(account_ref), date__gte=window.start, date__lte=window.end
        )
    )


def converted_q(campaign: Campaign, window: Window, account_ref: str = "account"):
    """A boolean expression: the listed account converted. What converts depends on the goal:

    new relationships  the account opened during the campaign (a listed prospect won);
    cross-sell ratio   a cross-sell opportunity on it won during the campaign;
    product family     an opportunity in the goal's family won during the campaign.
    """
    if campaign.goal == Campaign.Goal.NEW_RELATIONSHIPS:
        prefix = "" if account_ref == "pk" else account_ref + "__"
        opened = Q(
            **{f"{prefix}opened_on__gte": window.start, f"{prefix}opened_on__lte": window.end}
        ) & ~Q(**{f"{prefix}status": AccountStatus.PROSPECT})
        return ExpressionWrapper(opened, output_field=BooleanField())
    won = Opportunity.objects.filter(
        account=OuterRef(account_ref),
        status=OppStatus.WON,
        closed_on__gte=window.start,
        closed_on__lte=window.end,
    )
    if campaign.goal == Campaign.Goal.CROSS_SELL:
        won = won.filter(kind=OpportunityKind.CROSS_SELL)
    else:
        won = won.filter(product__family=campaign.product_family)
    return Exists(won)


def _lost_q(window: Window, prefix: str) -> Q:
    """Lost or closed on a day of the campaign so far."""
    return Q(**{f"{prefix}status__in": ENDED}) & Q(
        **{f"{prefix}closed_on__gte": window.start, f"{prefix}closed_on__lte": window.end}
    )


def _at_risk_q(window: Window, prefix: str) -> Q:
    """A customer the bank could lose during the campaign: opened by the last day counted
    (a prospect has no opening date), not ended before the campaign started."""
    p = prefix
    return (
        ~Q(**{f"{p}status": AccountStatus.PROSPECT})
        & (Q(**{f"{p}closed_on__isnull": True}) | Q(**{f"{p}closed_on__gte": window.start}))
        & Q(**{f"{p}opened_on__lte": window.end})
    )


# --- the figures -----------------------------------------------------------------------------


def _pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Goal:
    kind: str
    label: str
    value: Decimal  # attained so far
    target: Decimal
    baseline: Decimal | None = None  # cross-sell: the ratio at the start
    month: datetime.date | None = None  # the closed month the value is measured at

    @property
    def pct(self) -> Decimal | None:
        if not self.target:
            return None
        return (Decimal(100) * self.value / self.target).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def bar(self) -> int:
        """The progress bar's width: 0-100."""
        return max(0, min(100, int(self.pct or 0)))

    @property
    def reached(self) -> bool:
        return self.value >= self.target


@dataclass(frozen=True)
class Attrition:
    listed_base: int
    listed_lost: int
    rest_base: int
    rest_lost: int

    @property
    def listed_pct(self) -> Decimal | None:
        return _pct(self.listed_lost, self.listed_base)

    @property
    def rest_pct(self) -> Decimal | None:
        return _pct(self.rest_lost, self.rest_base)

    @property
    def gap(self) -> Decimal | None:
        """Percentage points by which the list loses more than the rest (negative: less)."""
        if self.listed_pct is None or self.rest_pct is None:
            return None
        return self.listed_pct - self.rest_pct

    @property
    def worse(self) -> bool:
        return self.gap is not None and self.gap > 0


@dataclass(frozen=True)
class Figures:
    window: Window
    scope: str  # "bank", "team" or "own": whose listed accounts the figures are about
    listed: int
    active: int
    contacted: int
    converted: int
    goal: Goal
    attrition: Attrition

    @property
    def contacted_pct(self) -> Decimal | None:
        return _pct(self.contacted, self.listed)

    @property
    def converted_pct(self) -> Decimal | None:
        return _pct(self.converted, self.listed)


def family_label(campaign: Campaign) -> str:
    """The goal's family as people read it ("Loan"); empty for other goals."""
    return ProductFamily(campaign.product_family).label if campaign.product_family else ""


def viewer_scope(user: User) -> str:
    if sees_whole_bank(user):
        return "bank"
    return "team" if user.role == Role.LEADER else "own"


def visible_entries(campaign: Campaign, user: User) -> QuerySet[CampaignAccount]:
    return visible_campaign_accounts(user).filter(campaign=campaign)


def campaign_figures(
    *, campaign: Campaign, user: User, today: datetime.date | None = None
) -> Figures:
    """The campaign page's figures over the viewer's listed accounts. Four queries (three
    for a new-relationships goal), whatever the list's length."""
    window = campaign_window(campaign, today)  # 1
    entries = visible_entries(campaign, user)
    family = campaign.product_family
    aggregates = {
        "listed": Count("pk"),
        "active": Count("pk", filter=Q(account__status=AccountStatus.ACTIVE)),
        "contacted": Count("pk", filter=Q(contacted_q(window))),
        "converted": Count("pk", filter=Q(converted_q(campaign, window))),
        "at_risk": Count("pk", filter=_at_risk_q(window, "account__")),
        "lost": Count("pk", filter=_at_risk_q(window, "account__") & _lost_q(window, "account__")),
    }
    if campaign.goal == Campaign.Goal.PRODUCT_FAMILY:
        aggregates["won_family"] = Count(
            "pk",
            filter=Q(holds_family(family, window.end_month, "account"))
            & ~Q(holds_family(family, window.base_month, "account")),
        )
    row = entries.aggregate(**aggregates)  # 2

    # The rest: the viewer's other accounts in the tiers the list has, that could be lost.
    rest = (
        visible_accounts(user)
        .filter(tier__in=entries.values("account__tier"))
        .exclude(pk__in=entries.values("account"))
        .filter(_at_risk_q(window, ""))
        .aggregate(base=Count("pk"), lost=Count("pk", filter=_lost_q(window, "")))
    )  # 3
    attrition = Attrition(row["at_risk"], row["lost"], rest["base"], rest["lost"])

    target = campaign.target_value
    label = campaign.get_goal_display()
    if campaign.goal == Campaign.Goal.NEW_RELATIONSHIPS:
        goal = Goal(campaign.goal, label, Decimal(row["converted"]), target)
    elif campaign.goal == Campaign.Goal.PRODUCT_FAMILY:
        label = f"New {family_label(campaign).lower()} customers"
        goal = Goal(
            campaign.goal, label, Decimal(row["won_family"]), target, month=window.end_month
        )
    else:
        months = [m for m in (window.base_month, window.end_month) if m]
        held = Position.objects.filter(
            Q(balance__gt=0) | Q(revenue__gt=0),
            month__in=months,
            account__status=AccountStatus.ACTIVE,
            account__in=entries.values("account"),
        ).aggregate(
            base=Count("pk", filter=Q(month=window.base_month)),
            end=Count("pk", filter=Q(month=window.end_month)),
        )  # 4 (one position per account, product and month)
        active = row["active"]

        def ratio(products):
            if not active:
                return Decimal("0.00")
            return (Decimal(products) / active).quantize(Decimal("0.01"), ROUND_HALF_UP)

        goal = Goal(
            campaign.goal,
            label,
            ratio(held["end"]) if window.end_month else ratio(held["base"]),
            target,
            baseline=ratio(held["base"]),
            month=window.end_month or window.base_month,
        )
    return Figures(
        window=window,
        scope=viewer_scope(user),
        listed=row["listed"],
        active=row["active"],
        contacted=row["contacted"],
        converted=row["converted"],
        goal=goal,
        attrition=attrition,
    )


# --- the list --------------------------------------------------------------------------------

SHOW = {
    "all": "All",
    "contacted": "Contacted",
    "not_contacted": "Not contacted yet",
    "converted": "Converted",
}


def campaign_entries(
    *, campaign: Campaign, user: User, window: Window, show: str = "all"
) -> QuerySet[CampaignAccount]:
    """The viewer's listed accounts with owner and tier, each marked contacted / converted;
    one query per page whatever its length."""
    qs = (
        visible_entries(campaign, user)
        .select_related("account", "account__owner", "account__tier")
        .annotate(
            contacted=contacted_q(window),
            converted=converted_q(campaign, window),
        )
        .order_by("account__name", "pk")
    )
    if show == "contacted":
        qs = qs.filter(contacted=True)
    elif show == "not_contacted":
        qs = qs.filter(contacted=False)
    elif show == "converted":
        qs = qs.filter(converted=True)
    return qs


# --- the campaigns ---------------------------------------------------------------------------


def visible_campaigns(user: User) -> QuerySet[Campaign]:
    return _visible_campaigns(user)


def campaigns_by_state(*, user: User, today: datetime.date | None = None) -> dict:
    """Running (ending soonest first), upcoming (starting soonest first) and finished
    (latest first) campaigns, each with the number of the viewer's listed accounts."""
    today = today or timezone.localdate()
    campaigns = list(
        visible_campaigns(user).annotate(
            listed=Count(
                "entries",
                filter=Q(entries__in=visible_campaign_accounts(user).values("pk")),
            )
        )
    )
    running = sorted(
        (c for c in campaigns if c.starts_on <= today <= c.ends_on), key=lambda c: c.ends_on
    )
    upcoming = sorted((c for c in campaigns if c.starts_on > today), key=lambda c: c.starts_on)
    finished = sorted(
        (c for c in campaigns if c.ends_on < today), key=lambda c: c.ends_on, reverse=True
    )
    return {"running": running, "upcoming": upcoming, "finished": finished}


def can_manage(user: User) -> bool:
    return user.is_superuser or user.role in MANAGERS
