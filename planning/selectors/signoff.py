"""What an executive signs off, and how covered the bank's plans are."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from accounts.models import AccountStatus, Position, ProductFamily
from accounts.selectors import add_months, month_start
from org.access import visible_accounts, visible_target_sets, visible_territory_plans
from org.models import Role, User

from ..models import PlanYear, RelationshipPlan, Scope, TargetSet, TerritoryPlan
from .variances import (
    ZERO,
    closed_month,
    compare,
    difference_unit,
    growth_figure,
    scope_plan_versus_actual,
)


def proposed_target_sets(user: User, plan_year: PlanYear) -> QuerySet[TargetSet]:
    return (
        visible_target_sets(user)
        .filter(plan_year=plan_year, status=TargetSet.Status.PROPOSED)
        .select_related("plan_year", "team", "rm", "proposed_by", "last_edited_by")
        .annotate(line_count=Count("lines"))
        .order_by("scope", "team__name", "rm__username")
    )


def endorsed_plans(user: User, plan_year: PlanYear) -> QuerySet[TerritoryPlan]:
    return (
        visible_territory_plans(user)
        .filter(plan_year=plan_year, status=TerritoryPlan.Status.ENDORSED)
        .select_related("plan_year", "rm", "rm__team", "endorsed_by")
        .order_by("rm__team__name", "rm__username")
    )


@dataclass
class Coverage:
    rms: int
    rms_with_approved_plan: int
    tier_a_accounts: int
    tier_a_with_relationship_plan: int
    plans_by_status: dict[str, int]

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def approved_plan_pct(self):
        return self._share(self.rms_with_approved_plan, self.rms)

    @property
    def relationship_plan_pct(self):
        return self._share(self.tier_a_with_relationship_plan, self.tier_a_accounts)


def plan_coverage(user: User, plan_year: PlanYear) -> Coverage:
    """Share of active RMs with an approved territory plan; of active tier-A accounts with a
    relationship plan for the year. Three queries, whatever the size of the bank."""
    rms = User.objects.filter(role=Role.RM, is_active=True, departed_on__isnull=True)
    by_status = dict(
        visible_territory_plans(user)
        .filter(plan_year=plan_year)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
        .order_by()
    )
    tier_a = (
        visible_accounts(user)
        .filter(tier__code="A", status=AccountStatus.ACTIVE)
        .aggregate(
            total=Count("pk"),
            planned=Count(
                "pk",
                filter=Q(
                    Exists(
                        RelationshipPlan.objects.filter(account=OuterRef("pk"), plan_year=plan_year)
                    )
                ),
            ),
        )
    )
    return Coverage(
        rms=rms.count(),
        rms_with_approved_plan=by_status.get(TerritoryPlan.Status.APPROVED, 0),
        tier_a_accounts=tier_a["total"],
        tier_a_with_relationship_plan=tier_a["planned"],
        plans_by_status=by_status,
    )


@dataclass
class BankAgainstTarget:
    metric_name: str
    asked: object
    actual: object
    unit: str
    # The year to date as docs/metrics.md defines it, stored by the nightly job or, for loan
    # and deposit growth before its first run, computed live with the same formula
    planned: object = None  # the target phased to the closed month
    source: str = "live"  # "stored" or "live"
    as_of: object = None  # the closed month the figures run to
    difference: object = None  # actual - planned, in `difference_unit`
    difference_unit: str = ""  # "pp" for a metric measured in %, else the metric's unit


LIVE_GROWTH = {"loan_growth": ProductFamily.LOAN, "deposit_growth": ProductFamily.DEPOSIT}


def bank_growth_live(plan_year: PlanYear, targets: dict[str, object]) -> tuple:
    """The bank's loan and deposit growth, year to date from the base B to the closed month
    E, with the job's formula and rounding (growth_figure, compare) on every account: what
    the nightly job stores for the bank. ({code: Compared}, E); ({}, None) with no closed
    month. Two queries."""
    closed = closed_month(plan_year)
    if closed is None:
        return {}, None
    first = month_start(plan_year.starts_on)
    base = add_months(first, -1)
    elapsed = (closed.year - first.year) * 12 + closed.month - first.month + 1
    sums = {
        (month, family): total
        for month, family, total in Position.objects.filter(
            month__in=[base, closed], product__family__in=list(LIVE_GROWTH.values())
        )
        .values("month", "product__family")
        .annotate(total=Sum("balance"))
        .values_list("month", "product__family", "total")
        .order_by()
    }
    figures = {}
    for code, family in LIVE_GROWTH.items():
        at_base = sums.get((base, family)) or ZERO
        actual, _note = growth_figure(family, at_base, at_base, sums.get((closed, family)) or ZERO)
        figures[code] = compare(code, targets.get(code), actual, months=elapsed, elapsed=elapsed)
    return figures, closed


def bank_against_targets(user: User, plan_year: PlanYear) -> tuple[TargetSet | None, list]:
    """The approved bank targets and, where the book already tells, where the bank stands.

    Every figure is the bank's year to date as docs/metrics.md defines it: from the nightly
    variance job's stored bank rows once it has run (`source = "stored"`); before that, loan
    and deposit growth are computed live with the same formula (`bank_growth_live`, the
    same figure the job will store) and the other lines have no figure.
    """
    bank_set = (
        visible_target_sets(user)
        .filter(plan_year=plan_year, scope=Scope.BANK, status=TargetSet.Status.APPROVED)
        .prefetch_related("lines__metric")
        .order_by("-revision")
        .first()
    )
    if bank_set is None:
        return None, []
    stored = scope_plan_versus_actual(plan_year=plan_year, period="ytd")
    if stored.lines:
        by_code = {line.metric.code: line for line in stored.lines}
        return bank_set, [
            BankAgainstTarget(
                metric_name=line.metric.name,
                asked=line.value,
                actual=getattr(by_code.get(line.metric.code), "actual", None),
                unit=line.metric.get_unit_display(),
                planned=getattr(by_code.get(line.metric.code), "planned", None),
                source="stored",
                as_of=stored.as_of,
                difference=getattr(by_code.get(line.metric.code), "difference", None),
                difference_unit=difference_unit(line.metric),
            )
            for line in bank_set.lines.all()
        ]
    lines = list(bank_set.lines.all())
    live, closed = bank_growth_live(plan_year, {line.metric.code: line.value for line in lines})
    return bank_set, [
        BankAgainstTarget(
            metric_name=line.metric.name,
            asked=line.value,
            actual=getattr(live.get(line.metric.code), "actual", None),
            unit=line.metric.get_unit_display(),
            planned=getattr(live.get(line.metric.code), "planned", None),
            as_of=closed,
            difference=getattr(live.get(line.metric.code), "difference", None),
            difference_unit=difference_unit(line.metric),
        )
        for line in lines
    ]
