"""Product mix against the product-mix standard: an RM's won new business per family.

The figure is `product_mix_share` of docs/metrics.md, computed by the same code the plan
versus actual uses (`planning.selectors.variances`: the period, the won opportunities, the
formula and its rounding), so the overall fit shown here equals the RM's variance row for
the same period. What this adds is the per-family comparison behind that one number.

The RM is the scope, not a viewer: callers resolve the RM through org.access first.
Three queries, whatever the number of opportunities.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import ProductFamily
from org.models import User

from ..models import PlanYear, Scope, TargetLine, TargetSet
from .common import current_plan_year
from .variances import (
    CENT,
    HUNDRED,
    NEW_BUSINESS_KINDS,
    ZERO,
    _context,
    _period,
    _round,
    _won_in,
    compare,
    product_mix_figure,
)

METRIC = "product_mix_share"


@dataclass(frozen=True)
class FamilyMix:
    """One family: its share of the won new business against its standard share."""

    family: str
    label: str
    won: Decimal  # new business won in the period
    share: Decimal | None  # % of all new business won, 2 decimals; None: nothing won
    standard: Decimal | None  # the standard's target share %, None: no standard
    # share - standard, in points; what counts towards the fit is min(share, standard)
    difference: Decimal | None

    @property
    def met(self) -> bool | None:
        if self.standard is None or self.share is None:
            return None
        return self.share >= self.standard

    @property
    def shortfall(self) -> Decimal | None:
        """Points below the standard share; None when the family meets it or has none."""
        return -self.difference if self.met is False else None

    def as_json(self) -> dict:
        return {
            "family": self.family,
            "label": self.label,
            "won": str(self.won),
            "share": _str(self.share),
            "standard": _str(self.standard),
            "difference": _str(self.difference),
            "met": self.met,
            "shortfall": _str(self.shortfall),
        }


@dataclass(frozen=True)
class ProductMix:
    rm: User
    plan_year: PlanYear
    period: str  # "ytd" | "quarter" | "month"
    period_start: datetime.date | None
    period_end: datetime.date | None  # None: no month of the year closed yet
    families: list[FamilyMix] = field(default_factory=list)
    won_total: Decimal = ZERO
    actual: Decimal | None = None  # product_mix_share, as the variance row holds it
    target: Decimal | None = None  # the RM's approved target line for it, if any
    note: str = ""  # why there is no figure

    @property
    def on_course(self) -> bool | None:
        if self.actual is None or self.target is None:
            return None
        return self.actual >= self.target

    @property
    def has_business(self) -> bool:
        return self.won_total > 0

    @property
    def has_standard(self) -> bool:
        return any(f.standard is not None for f in self.families)

    @property
    def short(self) -> list[FamilyMix]:
        """Families below their standard share: where the mix falls short."""
        return [f for f in self.families if f.met is False]

    def as_json(self) -> dict:
        return {
            "period": self.period,
            "period_start": _iso(self.period_start),
            "period_end": _iso(self.period_end),
            "families": [f.as_json() for f in self.families],
            "short": [f.as_json() for f in self.short],
            "won_total": str(self.won_total),
            "actual": _str(self.actual),
            "target": _str(self.target),
            "on_course": self.on_course,
            "has_business": self.has_business,
            "has_standard": self.has_standard,
            "note": self.note,
        }


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _approved_target(rm: User, plan_year: PlanYear) -> Decimal | None:
    """The value of the product-mix line in the RM's approved target set. One query."""
    return (
        TargetLine.objects.filter(
            target_set__scope=Scope.RM,
            target_set__rm=rm,
            target_set__plan_year=plan_year,
            target_set__status=TargetSet.Status.APPROVED,
            metric__code=METRIC,
        )
        .order_by("-target_set__revision")
        .values_list("value", flat=True)
        .first()
    )


def rm_product_mix(
    rm: User, *, plan_year: PlanYear, period: str = "ytd", month: datetime.date | None = None
) -> ProductMix:
    """Each product family's share of the RM's won new business in the period (default the
    year to date at the closed month E, as the variance) against the year's standard share,
    and the overall fit `product_mix_share`. Families shown: those with a standard and those
    with business won. Three queries."""
    ctx = _context(plan_year, period, scope=Scope.RM, rm=rm)
    target = _approved_target(rm, plan_year)
    standards = ctx.standards
    if ctx.closed is None:
        return ProductMix(
            rm=rm,
            plan_year=plan_year,
            period=period,
            period_start=None,
            period_end=None,
            families=[_family(f, ZERO, ZERO, standards.get(f)) for f in standards],
            target=target,
            note="no month closed in the plan year yet",
        )
    p = _period(plan_year, period, month, ctx.closed)
    won: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for _month, family, kind, total in _won_in(rm, p):
        if kind in NEW_BUSINESS_KINDS:
            won[family] += total
    won = dict(won)
    actual, note = product_mix_figure(won, standards)
    compared = compare(METRIC, target, actual, months=p.months, elapsed=p.elapsed)
    won_total = sum(won.values(), ZERO)
    shown = [f for f in ProductFamily.values if f in standards or won.get(f)]
    return ProductMix(
        rm=rm,
        plan_year=plan_year,
        period=period,
        period_start=p.start,
        period_end=p.end,
        families=[_family(f, won.get(f, ZERO), won_total, standards.get(f)) for f in shown],
        won_total=won_total.quantize(CENT),
        actual=compared.actual,
        target=compared.planned,
        note=note,
    )


def _family(family: str, won: Decimal, won_total: Decimal, standard: Decimal | None):
    share = _round(HUNDRED * won / won_total) if won_total else None
    # Two places whatever the database hands back (SQLite drops trailing zeros).
    won = won.quantize(CENT)
    standard = None if standard is None else standard.quantize(CENT)
    return FamilyMix(
        family=family,
        label=ProductFamily(family).label,
        won=won,
        share=share,
        standard=standard,
        difference=None if share is None or standard is None else share - standard,
    )


def current_product_mix(rm: User) -> ProductMix | None:
    """The RM's product mix for the year to date of the current plan year, as their home
    shows it; None when there is no plan year. Four queries."""
    plan_year = current_plan_year()
    if plan_year is None:
        return None
    return rm_product_mix(rm, plan_year=plan_year)
