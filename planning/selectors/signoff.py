"""What an executive signs off, and how covered the bank's plans are."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import AccountStatus
from accounts.selectors import Balances, balances_by, latest_month
from org.access import visible_accounts, visible_target_sets, visible_territory_plans
from org.models import Role, User

from ..models import PlanYear, RelationshipPlan, Scope, TargetSet, TerritoryPlan
from .variances import scope_plan_versus_actual


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
    # With the nightly job's stored bank rows: the year to date as docs/metrics.md defines it
    planned: object = None  # the target phased to the closed month
    source: str = "live"  # "stored" or "live"
    as_of: object = None  # the closed month the stored figures run to


def bank_against_targets(user: User, plan_year: PlanYear) -> tuple[TargetSet | None, list]:
    """The approved bank targets and, where the book already tells, where the bank stands.

    Once the nightly variance job has stored the bank's rows, every line shows the bank's
    year to date from them (docs/metrics.md; `source = "stored"`). Before that, loan and
    deposit growth are read live from month-end positions (latest month against the same
    month a year before) and the other lines have no figure.
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
            )
            for line in bank_set.lines.all()
        ]
    balances: Balances = balances_by(
        visible_accounts(user), group_by=None, month=latest_month()
    ).get(None, Balances())
    live = {"loan_growth": balances.loan_change_pct, "deposit_growth": balances.deposit_change_pct}
    return bank_set, [
        BankAgainstTarget(
            metric_name=line.metric.name,
            asked=line.value,
            actual=live.get(line.metric.code),
            unit=line.metric.get_unit_display(),
        )
        for line in bank_set.lines.all()
    ]
