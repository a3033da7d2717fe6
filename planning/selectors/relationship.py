"""The relationship metric the bank steers by this year (SteeringStandard.relationship_metric)
as one line on every RM's scorecard: their home (My week), the report card and compensation.

    relationship_metric_line(rm, plan_year, period="ytd") -> RelationshipLine | None

One figure, one code path: the line is the RM's plan-versus-actual line of the metric that
backs the choice (`BACKING`), stored by the nightly job or computed live with the same
formulas (planning.selectors.variances), so the three screens cannot disagree. The RM is
the scope, not a viewer: callers resolve them through org.access first.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Subquery

from org.models import User

from ..models import Metric, PlanYear, RelationshipMetric, SteeringStandard
from .variances import difference_unit, rm_plan_versus_actual

# The catalogue metric behind each choice (docs/metrics.md, "The relationship metric").
BACKING = {
    RelationshipMetric.RETENTION: "balance_retention",
    RelationshipMetric.PRODUCTS_PER_RELATIONSHIP: "cross_sell_ratio",
    RelationshipMetric.CUSTOMER_RATING: "customer_rating",
    RelationshipMetric.REVENUE: "revenue_growth",
}


@dataclass(frozen=True)
class RelationshipLine:
    choice: str  # RelationshipMetric value
    choice_label: str
    metric: Metric
    period: str
    period_start: datetime.date | None
    period_end: datetime.date | None
    source: str  # "stored" or "live"
    actual: Decimal | None
    planned: Decimal | None  # only when the RM's approved targets have a line for it
    difference: Decimal | None
    on_course: bool | None
    weight: int | None  # the RM's approved line's weight, None when it is not a target
    note: str

    @property
    def unit(self) -> str:
        return self.metric.unit

    @property
    def difference_unit(self) -> str:
        return difference_unit(self.metric)

    @property
    def is_target(self) -> bool:
        return self.weight is not None


@dataclass(frozen=True)
class Choice:
    """The year's choice and the catalogue metric behind it."""

    value: str
    metric: Metric

    @property
    def label(self) -> str:
        return RelationshipMetric(self.value).label


def relationship_choice(plan_year: PlanYear | None) -> Choice | None:
    """The year's relationship metric; None without a plan year, standards or a choice.
    One query: the backing metrics, each with the year's choice beside it."""
    if plan_year is None:
        return None
    chosen = SteeringStandard.objects.filter(plan_year=plan_year).values("relationship_metric")
    for metric in Metric.objects.filter(code__in=BACKING.values()).annotate(
        choice=Subquery(chosen[:1])
    ):
        if metric.choice and BACKING.get(metric.choice) == metric.code:
            return Choice(metric.choice, metric)
    return None


def line_from(choice: Choice, pva) -> RelationshipLine:
    """The relationship line of a plan versus actual read with `also=choice.metric`."""
    line = next(line for line in pva.lines if line.metric.pk == choice.metric.pk)
    return RelationshipLine(
        choice=choice.value,
        choice_label=choice.label,
        metric=choice.metric,
        period=pva.period,
        period_start=pva.period_start,
        period_end=pva.period_end,
        source=pva.source,
        actual=line.actual,
        planned=line.planned,
        difference=line.difference,
        on_course=line.on_course,
        weight=line.weight,
        note=line.note,
    )


def relationship_metric_line(
    rm: User, plan_year: PlanYear | None, period: str = "ytd", month=None
) -> RelationshipLine | None:
    """The RM's line for the year's relationship metric (None without a choice): one
    query plus rm_plan_versus_actual's (at most nine live, four stored)."""
    choice = relationship_choice(plan_year)
    if choice is None:
        return None
    pva = rm_plan_versus_actual(
        rm, plan_year=plan_year, period=period, month=month, also=choice.metric
    )
    return line_from(choice, pva)
