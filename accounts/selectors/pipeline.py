"""Reading the pipeline: the list, the board, one deal and the pipeline's figures, each
starting from the deals the user may see (org.access.visible_opportunities).

Definitions in docs/metrics.md ("Pipeline"): weighted amount = amount * probability %;
win rate = won ÷ (won + lost) closed in the period; days per stage = days a deal spent in
a stage it has left; a slipped deal = its expected close was moved out.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import (
    LostReason,
    Opportunity,
    OpportunityChange,
    OpportunityStage,
    OpportunityStatus,
)
from org.access import visible_opportunities
from org.models import User

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)
WEIGHTED = ExpressionWrapper(F("amount") * F("probability") / Value(100), output_field=MONEY_FIELD)


def pipeline_list(user: User) -> QuerySet[Opportunity]:
    """The deals the user sees, with what a list row shows joined in and the weighted
    amount attached."""
    return (
        visible_opportunities(user)
        .select_related("account", "product", "rm", "lost_reason")
        .annotate(weighted_amount=WEIGHTED)
        .order_by("expected_close", "pk")
    )


@dataclass
class Totals:
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO


def totals(deals: QuerySet[Opportunity]) -> Totals:
    """Count, amount and weighted amount of `deals`, in one query."""
    row = deals.order_by().aggregate(
        n=Count("pk"),
        total_amount=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY_FIELD),
        total_weighted=Coalesce(Sum(WEIGHTED), Value(ZERO), output_field=MONEY_FIELD),
    )
    return Totals(row["n"], row["total_amount"], row["total_weighted"])


@dataclass
class Column:
    stage: str
    label: str
    deals: list = field(default_factory=list)
    amount: Decimal = ZERO
    weighted: Decimal = ZERO


def board(deals: QuerySet[Opportunity]) -> list[Column]:
    """The open deals of `deals` (already filtered from `pipeline_list`) in a column per
    stage, with each column's amount and weighted amount: one query."""
    choices = OpportunityStage.choices
    columns = {stage: Column(stage, label) for stage, label in choices}
    following = {stage: choices[i + 1] for i, (stage, _) in enumerate(choices[:-1])}
    for deal in deals.filter(status=OpportunityStatus.OPEN):
        # The card's "Move to … →": (stage, label) of the next column, None in the last.
        deal.next_stage = following.get(deal.stage)
        column = columns[deal.stage]
        column.deals.append(deal)
        column.amount += deal.amount
        column.weighted += deal.weighted_amount
    return list(columns.values())


def deal_page(user: User) -> QuerySet[Opportunity]:
    """Deals whose page the user may open, with their stage history."""
    return (
        visible_opportunities(user)
        .select_related("account", "product", "rm", "lost_reason")
        .annotate(weighted_amount=WEIGHTED)
        .prefetch_related(
            Prefetch(
                "changes",
                queryset=OpportunityChange.objects.select_related("changed_by").order_by(
                    "changed_at", "pk"
                ),
            )
        )
    )


def lost_reasons() -> QuerySet[LostReason]:
    """The administrator's reasons a deal can be lost for today."""
    return LostReason.objects.filter(active=True)


# --- figures -------------------------------------------------------------------------------


@dataclass
class StageDays:
    stage: str
    label: str
    stints: int = 0
    days: int = 0

    @property
    def average(self) -> Decimal | None:
        return Decimal(self.days) / self.stints if self.stints else None


@dataclass
class PipelineFigures:
    start: datetime.date
    end: datetime.date
    won: int = 0
    lost: int = 0
    won_amount: Decimal = ZERO
    stage_days: list[StageDays] = field(default_factory=list)
    slipped: list[Opportunity] = field(default_factory=list)

    @property
    def win_rate(self) -> Decimal | None:
        """Won ÷ (won + lost), as a percentage; None when nothing closed."""
        closed = self.won + self.lost
        return Decimal(self.won * 100) / closed if closed else None


def _stints(changes) -> list[tuple[str, datetime.datetime, datetime.datetime]]:
    """(stage, entered, left) for every stage a deal has left, from its history rows in
    order: a stage is left when another stage is entered or the deal is closed."""
    stints = []
    current = entered = None
    for change in changes:
        if change.to_stage and change.to_stage != current:
            if current is not None:
                stints.append((current, entered, change.changed_at))
            current, entered = change.to_stage, change.changed_at
        if change.to_status and change.to_status != OpportunityStatus.OPEN and current:
            stints.append((current, entered, change.changed_at))
            current = None
    return stints


def pipeline_figures(
    deals: QuerySet[Opportunity], *, start: datetime.date, end: datetime.date
) -> PipelineFigures:
    """Win rate, days per stage and slipped deals of `deals` (a queryset from
    `visible_opportunities`, filtered to an RM or team or not) for the period `start` to
    `end` inclusive: deals closed in it, stages left in it, close dates moved out in it.
    Three queries whatever the number of deals."""
    figures = PipelineFigures(start=start, end=end)
    ids = deals.values("pk")
    closed = (
        deals.filter(closed_on__gte=start, closed_on__lte=end)
        .order_by()
        .aggregate(
            won=Count("pk", filter=Q(status=OpportunityStatus.WON)),
            lost=Count("pk", filter=Q(status=OpportunityStatus.LOST)),
            won_amount=Coalesce(
                Sum("amount", filter=Q(status=OpportunityStatus.WON)),
                Value(ZERO),
                output_field=MONEY_FIELD,
            ),
        )
    )
    figures.won, figures.lost, figures.won_amount = (
        closed["won"],
        closed["lost"],
        closed["won_amount"],
    )

    by_stage = {s: StageDays(s, label) for s, label in OpportunityStage.choices}
    by_deal = defaultdict(list)
    rows = (
        OpportunityChange.objects.filter(opportunity__in=ids)
        .filter(Q(to_stage__gt="") | Q(to_status__gt=""))
        .only("opportunity_id", "changed_at", "to_stage", "to_status")
        .order_by("opportunity_id", "changed_at", "pk")
    )
    for change in rows:
        by_deal[change.opportunity_id].append(change)
    for changes in by_deal.values():
        for stage, entered, left in _stints(changes):
            left_on = timezone.localdate(left)
            if start <= left_on <= end:
                by_stage[stage].stints += 1
                by_stage[stage].days += (left_on - timezone.localdate(entered)).days
    figures.stage_days = list(by_stage.values())

    slipped_ids = (
        OpportunityChange.objects.filter(
            opportunity__in=ids,
            changed_at__date__gte=start,
            changed_at__date__lte=end,
            to_expected_close__gt=F("from_expected_close"),
        )
        .values("opportunity_id")
        .distinct()
    )
    figures.slipped = list(
        deals.filter(pk__in=slipped_ids).select_related("account", "product", "rm")
    )
    return figures
