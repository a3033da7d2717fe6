"""Reading flight plans: the plan pages, team plans, disconnects, coverage and history.

Every function starts from org.access, and every page-level function runs a fixed number
of queries whatever the number of plans, accounts or history records (docs/plans.md).

Public selectors (also used by the sign-off dashboard):

    territory_plan_page(user)                      QuerySet of plans the user may open
    rm_target_lines(rm, *, plan_year)              the RM's target lines (latest revision)
    disconnects(plan)                              list[Disconnect]
    disconnects_for(plans)                         {plan pk: list[Disconnect]}, 5 queries
    tier_a_coverage(accounts, *, plan_year)        Coverage of tier-A by relationship plans
    tier_a_coverage_by_owner(accounts, *, plan_year)  {owner pk: Coverage}
    territory_plan_coverage(rms, *, plan_year)     Coverage of RMs by approved plans
    team_plan_rows(viewer, *, plan_year)           list[TeamPlanRow] for Team plans
    plan_history(plan)                             list[HistoryEntry], 4-5 queries
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)

from accounts.models import (
    Account,
    AccountStatus,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
)
from org.access import (
    visible_accounts,
    visible_development_plans,
    visible_people,
    visible_relationship_plans,
    visible_target_sets,
    visible_territory_plans,
)
from org.models import RmStyle, Role, User
from salesmgmt import formatting

from ..models import (
    ActivityStandard,
    Comment,
    DevelopmentGoal,
    DevelopmentPlan,
    Metric,
    PlannedAction,
    PlanYear,
    RelationshipPlan,
    Scope,
    TargetLine,
    TargetSet,
    TerritoryPlan,
)
from ..services.plans import RELATIONSHIP_TIERS, SECTIONS, missing_sections

# Opportunities that stand behind a growth goal. A renewal keeps a balance; it does not
# grow one.
GROWTH_OPPORTUNITY_KINDS = (OpportunityKind.NEW_BUSINESS, OpportunityKind.CROSS_SELL)


# --- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """`covered` of `total`, e.g. 4 of 5 tier-A accounts have a relationship plan."""

    covered: int = 0
    total: int = 0

    @property
    def pct(self) -> int | None:
        return round(100 * self.covered / self.total) if self.total else None

    @property
    def complete(self) -> bool:
        return self.covered == self.total

    def __str__(self) -> str:
        return f"{self.covered} of {self.total}"


def _tier_a(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """The tier-A accounts a relationship plan is owed for: active ones."""
    return accounts.filter(tier__code="A", status=AccountStatus.ACTIVE)


def _has_plan(plan_year: PlanYear | int):
    return Exists(RelationshipPlan.objects.filter(account=OuterRef("pk"), plan_year=plan_year))


def tier_a_coverage(accounts: QuerySet[Account], *, plan_year: PlanYear) -> Coverage:
    """How many of the active tier-A accounts among `accounts` have a relationship plan for
    the year. Pass an access-filtered queryset (visible_accounts(user)...). One query."""
    row = _tier_a(accounts).aggregate(
        total=Count("pk"), covered=Count("pk", filter=Q(_has_plan(plan_year)))
    )
    return Coverage(covered=row["covered"], total=row["total"])


def tier_a_coverage_by_owner(
    accounts: QuerySet[Account], *, plan_year: PlanYear
) -> dict[int, Coverage]:
    """tier_a_coverage grouped by the accounts' owner (an RM's book). One query."""
    rows = (
        _tier_a(accounts)
        .values("owner")
        .annotate(total=Count("pk"), covered=Count("pk", filter=Q(_has_plan(plan_year))))
        .order_by()
    )
    return {r["owner"]: Coverage(covered=r["covered"], total=r["total"]) for r in rows}


def territory_plan_coverage(
    rms: QuerySet[User],
    *,
    plan_year: PlanYear,
    statuses: Iterable[str] = (TerritoryPlan.Status.APPROVED,),
) -> Coverage:
    """How many of `rms` have a territory plan for the year in one of `statuses`. One query."""
    row = rms.aggregate(
        total=Count("pk", distinct=True),
        covered=Count(
            "pk",
            distinct=True,
            filter=Q(
                Exists(
                    TerritoryPlan.objects.filter(
                        rm=OuterRef("pk"), plan_year=plan_year, status__in=list(statuses)
                    )
                )
            ),
        ),
    )
    return Coverage(covered=row["covered"], total=row["total"])


# --- target lines -----------------------------------------------------------------------------


def _latest_rm_set(rm_ref, plan_year_ref):
    """Subquery: the pk of the RM's latest target-set revision for the year."""
    return Subquery(
        TargetSet.objects.filter(scope=Scope.RM, rm=rm_ref, plan_year=plan_year_ref)
        .order_by("-revision")
        .values("pk")[:1]
    )


def rm_target_lines(rm: User, *, plan_year: PlanYear) -> QuerySet[TargetLine]:
    """The lines of the RM's own target set for the year, latest revision. One query."""
    latest = (
        visible_target_sets(rm)
        .filter(scope=Scope.RM, rm=rm, plan_year=plan_year)
        .order_by("-revision")
        .values("pk")[:1]
    )
    return TargetLine.objects.filter(target_set=Subquery(latest)).select_related(
        "metric", "target_set"
    )


def target_line_label(line: TargetLine) -> str:
    value = formatting.figure(line.value, line.metric.unit)
    if line.metric.unit != "percent":
        value = f"{value} ({line.metric.get_unit_display()})"
    return f"{line.metric.name}: {value}, weight {line.weight} %"


# --- disconnects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disconnect:
    """Where a plan does not add up. `kind` is one of KINDS."""

    kind: str
    title: str
    detail: str
    accounts: tuple[Account, ...] = ()

    ACTIVITY = "activity_below_standard"
    GROWTH = "growth_without_backing"
    TIER_A = "tier_a_without_relationship_plan"


ACTIVITY_MEASURES = (
    ("calls", "planned_calls_per_week", "calls_per_week"),
    ("visits", "planned_visits_per_week", "visits_per_week"),
    ("reviews", "planned_reviews_per_week", "reviews_per_week"),
)


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _activity_disconnects(plan: TerritoryPlan, standard: ActivityStandard | None):
    if standard is None:
        return []
    found = []
    for label, planned_field, standard_field in ACTIVITY_MEASURES:
        planned = getattr(plan, planned_field)
        expected = getattr(standard, standard_field)
        if planned is not None and planned < expected:
            found.append(
                Disconnect(
                    kind=Disconnect.ACTIVITY,
                    title=f"{label.capitalize()} below the standard",
                    detail=(
                        f"Plans {_fmt(planned)} {label} a week; the {standard.plan_year} standard "
                        f"for {standard.get_rm_style_display().lower()}s is {_fmt(expected)}."
                    ),
                )
            )
    return found


def disconnects_for(plans: Sequence[TerritoryPlan]) -> dict[int, list[Disconnect]]:
    """Disconnects of many plans at once: five queries per plan year, whatever the count.

    1. planned calls, visits or reviews per week below the year's ActivityStandard for the
       RM's style (an RM without a style is held to the "finder and minder" standard);
    2. a growth goal with nothing behind it: the RM's latest target set has a growth line
       with a positive value, but the plan names no top account and the RM has no open
       new-business or cross-sell opportunity;
    3. active tier-A accounts the RM owns with no relationship plan for the year.

    `plans` should come with `rm` loaded (select_related) to avoid a query per plan.
    """
    result: dict[int, list[Disconnect]] = {p.pk: [] for p in plans}
    by_year: dict[int, list[TerritoryPlan]] = defaultdict(list)
    for plan in plans:
        by_year[plan.plan_year_id].append(plan)
    for year_id, year_plans in by_year.items():
        rm_ids = {p.rm_id for p in year_plans}
        standards = {
            s.rm_style: s
            for s in ActivityStandard.objects.filter(plan_year_id=year_id).select_related(
                "plan_year"
            )
        }
        growth_lines: dict[int, list[TargetLine]] = defaultdict(list)
        for line in TargetLine.objects.filter(
            target_set__scope=Scope.RM,
            target_set__rm__in=rm_ids,
            target_set__plan_year_id=year_id,
            target_set=_latest_rm_set(OuterRef("target_set__rm"), year_id),
            metric__category=Metric.Category.GROWTH,
            value__gt=0,
        ).select_related("metric", "target_set"):
            growth_lines[line.target_set.rm_id].append(line)
        top_counts = dict(
            TerritoryPlan.top_accounts.through.objects.filter(
                territoryplan__in=[p.pk for p in year_plans]
            )
            .values("territoryplan")
            .annotate(n=Count("pk"))
            .values_list("territoryplan", "n")
            .order_by()
        )
        open_growth_opps = dict(
            Opportunity.objects.filter(
                rm__in=rm_ids,
                status=OpportunityStatus.OPEN,
                kind__in=GROWTH_OPPORTUNITY_KINDS,
            )
            .values("rm")
            .annotate(n=Count("pk"))
            .values_list("rm", "n")
            .order_by()
        )
        uncovered: dict[int, list[Account]] = defaultdict(list)
        for account in (
            _tier_a(Account.objects.filter(owner__in=rm_ids))
            .exclude(_has_plan(year_id))
            .order_by("name", "pk")
        ):
            uncovered[account.owner_id].append(account)

        for plan in year_plans:
            found = result[plan.pk]
            style = plan.rm.rm_style or RmStyle.BOTH
            found += _activity_disconnects(plan, standards.get(style))
            lines = growth_lines.get(plan.rm_id)
            if lines and not top_counts.get(plan.pk) and not open_growth_opps.get(plan.rm_id):
                names = ", ".join(line.metric.name for line in lines)
                found.append(
                    Disconnect(
                        kind=Disconnect.GROWTH,
                        title="Growth goal with nothing behind it",
                        detail=(
                            f"Targets ask for growth ({names}), but the plan names no top "
                            "account and there is no open new-business or cross-sell "
                            "opportunity."
                        ),
                    )
                )
            if accounts := uncovered.get(plan.rm_id):
                n = len(accounts)
                found.append(
                    Disconnect(
                        kind=Disconnect.TIER_A,
                        title=f"{n} tier-A account{'s' if n != 1 else ''} without a "
                        "relationship plan",
                        detail="Every tier-A account in the book should have one for the year.",
                        accounts=tuple(accounts),
                    )
                )
    return result


def disconnects(plan: TerritoryPlan) -> list[Disconnect]:
    return disconnects_for([plan])[plan.pk]


# --- the plan page ----------------------------------------------------------------------------


def territory_plan_page(user: User) -> QuerySet[TerritoryPlan]:
    """Plans whose page the user may open, with what the page shows joined in."""
    return (
        visible_territory_plans(user)
        .select_related("rm__team__leader", "plan_year", "endorsed_by", "approved_by")
        .prefetch_related(
            Prefetch("measured_lines", queryset=TargetLine.objects.select_related("metric")),
            Prefetch(
                "top_accounts", queryset=Account.objects.select_related("tier").order_by("name")
            ),
        )
    )


def activity_standard_for(plan: TerritoryPlan) -> ActivityStandard | None:
    """The year's activity standard for the RM's style ("finder and minder" if none)."""
    style = plan.rm.rm_style or RmStyle.BOTH
    return ActivityStandard.objects.filter(plan_year=plan.plan_year_id, rm_style=style).first()


def plan_comments(plan: TerritoryPlan) -> list[Comment]:
    return list(plan.comments.select_related("author"))


def last_return(comments: Sequence[Comment]) -> Comment | None:
    returned = [c for c in comments if c.kind == Comment.Kind.RETURNED]
    return returned[-1] if returned else None


def top_account_choices(rm: User, plan: TerritoryPlan) -> QuerySet[Account]:
    """Accounts an RM may name as top accounts: their open book, plus those already named."""
    return (
        visible_accounts(rm)
        .filter(
            Q(status__in=(AccountStatus.ACTIVE, AccountStatus.PROSPECT))
            | Q(pk__in=plan.top_accounts.all().values("pk"))
        )
        .select_related("tier")
        .order_by("tier__code", "name")
    )


def measured_line_choices(rm: User, plan: TerritoryPlan) -> QuerySet[TargetLine]:
    """The RM's latest target lines, plus lines of an earlier revision already chosen."""
    latest = _latest_rm_set(rm.pk, plan.plan_year_id)
    return (
        TargetLine.objects.filter(
            Q(target_set=latest) | Q(pk__in=plan.measured_lines.all().values("pk"))
        )
        .select_related("metric", "target_set")
        .order_by("metric__position", "metric__name")
    )


@dataclass
class RelationshipPlanLine:
    """An account of the RM's book that a relationship plan is written for."""

    account: Account
    plan: RelationshipPlan | None


def relationship_plan_lines(
    viewer: User, rm: User, *, plan_year: PlanYear
) -> list[RelationshipPlanLine]:
    """The RM's active tier-A and B accounts, as far as `viewer` sees them, each with its
    relationship plan for the year if any. Two queries."""
    accounts = (
        visible_accounts(viewer)
        .filter(owner=rm, tier__code__in=RELATIONSHIP_TIERS, status=AccountStatus.ACTIVE)
        .select_related("tier")
        .prefetch_related(
            Prefetch(
                "relationship_plans",
                queryset=RelationshipPlan.objects.filter(plan_year=plan_year).annotate(
                    action_count=Count("actions"),
                    open_action_count=Count("actions", filter=Q(actions__done=False)),
                ),
                to_attr="year_plans",
            )
        )
        .order_by("tier__code", "name")
    )
    return [RelationshipPlanLine(a, a.year_plans[0] if a.year_plans else None) for a in accounts]


def development_plan_of(rm: User, plan_year: PlanYear, viewer: User) -> DevelopmentPlan | None:
    return visible_development_plans(viewer).filter(rm=rm, plan_year=plan_year).first()


# --- team plans -------------------------------------------------------------------------------


@dataclass
class TeamPlanRow:
    rm: User
    plan: TerritoryPlan | None
    sections_done: int
    coverage: Coverage
    disconnects: list[Disconnect] = field(default_factory=list)

    @property
    def waiting_for_leader(self) -> bool:
        return self.plan is not None and self.plan.status == TerritoryPlan.Status.SUBMITTED


def team_plan_rows(viewer: User, *, plan_year: PlanYear) -> list[TeamPlanRow]:
    """Every active RM the viewer sees (a leader: their team) with their plan for the year,
    its completeness, tier-A coverage and disconnects. A fixed number of queries."""
    rms = list(
        visible_people(viewer)
        .filter(role=Role.RM, is_active=True)
        .select_related("team")
        .order_by("team__name", "last_name", "first_name", "username")
    )
    plans = {
        p.rm_id: p
        for p in TerritoryPlan.objects.filter(plan_year=plan_year, rm__in=[r.pk for r in rms])
        .select_related("rm", "plan_year")
        .prefetch_related("measured_lines", "top_accounts")
    }
    found = disconnects_for(list(plans.values()))
    coverage = tier_a_coverage_by_owner(
        visible_accounts(viewer).filter(owner__in=[r.pk for r in rms]), plan_year=plan_year
    )
    rows = []
    for rm in rms:
        plan = plans.get(rm.pk)
        rows.append(
            TeamPlanRow(
                rm=rm,
                plan=plan,
                sections_done=len(SECTIONS) - len(missing_sections(plan)) if plan else 0,
                coverage=coverage.get(rm.pk, Coverage()),
                disconnects=found.get(plan.pk, []) if plan else [],
            )
        )
    return rows


# --- history ----------------------------------------------------------------------------------

# Bookkeeping that changes with every save and says nothing to a reader.
HISTORY_HIDDEN = {"version", "updated_at", "id", "rm", "plan_year"}


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime.datetime
    who: User | None
    created: bool
    changes: list[FieldChange]


def _display(model_field, value, users: dict[int, User]) -> str:
    if value is None or value == "":
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        return str(users.get(value, f"#{value}"))
    if isinstance(value, Decimal):
        return _fmt(value)
    if isinstance(value, datetime.datetime):
        return formatting.date(value, "DATETIME_FORMAT")
    return str(value)


def plan_history(plan: TerritoryPlan) -> list[HistoryEntry]:
    """Who changed what and when, newest first: field, old value → new value.

    Scalar fields are diffed with simple-history's `diff_against` (no query); the two
    many-to-many fields from one query each over all the plan's history records, because
    `diff_against` would run two queries per record and field. Four queries (five when a
    decision names a person), whatever the number of records.
    """
    records = list(
        plan.history.select_related("history_user").order_by("history_date", "history_id")
    )
    model = TerritoryPlan
    history_model = TerritoryPlan.history.model
    ids = [r.history_id for r in records]
    m2m_sets: dict[str, dict[int, frozenset[str]]] = {}
    for name, label_path in (
        ("top_accounts", "account__name"),
        ("measured_lines", "targetline__metric__name"),
    ):
        through = history_model._meta.get_field(f"historicalterritoryplan_{name}").related_model
        per_record: dict[int, set[str]] = defaultdict(set)
        for history_id, label in through.objects.filter(history_id__in=ids).values_list(
            "history_id", label_path
        ):
            per_record[history_id].add(label)
        m2m_sets[name] = {h: frozenset(per_record.get(h, ())) for h in ids}

    fk_user_fields = ("endorsed_by", "approved_by")
    user_ids = {getattr(r, f"{f}_id") for r in records for f in fk_user_fields} - {None}
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}

    entries = []
    previous = None
    for record in records:
        changes: list[FieldChange] = []
        if previous is not None:
            delta = record.diff_against(
                previous, excluded_fields=HISTORY_HIDDEN | {"top_accounts", "measured_lines"}
            )
            for change in delta.changes:
                f = model._meta.get_field(change.field)
                changes.append(
                    FieldChange(
                        label=str(f.verbose_name).capitalize(),
                        old=_display(f, change.old, users),
                        new=_display(f, change.new, users),
                    )
                )
        for name in ("top_accounts", "measured_lines"):
            before = m2m_sets[name].get(previous.history_id) if previous else frozenset()
            after = m2m_sets[name][record.history_id]
            if before != after:
                f = model._meta.get_field(name)
                changes.append(
                    FieldChange(
                        label=str(f.verbose_name).capitalize(),
                        old=", ".join(sorted(before)) or "—",
                        new=", ".join(sorted(after)) or "—",
                    )
                )
        if previous is None or changes:
            entries.append(
                HistoryEntry(
                    when=record.history_date,
                    who=record.history_user,
                    created=previous is None,
                    changes=changes,
                )
            )
        previous = record
    entries.reverse()
    return entries


# --- relationship and development plans -------------------------------------------------------


def relationship_plan_page(user: User) -> QuerySet[RelationshipPlan]:
    return (
        visible_relationship_plans(user)
        .select_related("account__tier", "account__owner", "account__covering_rm", "plan_year")
        .prefetch_related(
            Prefetch("actions", queryset=PlannedAction.objects.select_related("owner"))
        )
    )


def relationship_plan_list(user: User, *, plan_year: PlanYear) -> QuerySet[RelationshipPlan]:
    return (
        visible_relationship_plans(user)
        .filter(plan_year=plan_year)
        .select_related("account__tier", "account__owner")
        .annotate(
            action_count=Count("actions"),
            open_action_count=Count("actions", filter=Q(actions__done=False)),
        )
        .order_by("account__tier__code", "account__name")
    )


def development_plan_page(user: User) -> QuerySet[DevelopmentPlan]:
    return (
        visible_development_plans(user)
        .select_related("rm__team", "plan_year")
        .prefetch_related(
            Prefetch(
                "goals",
                queryset=DevelopmentGoal.objects.select_related("target_line__metric"),
            )
        )
    )
