"""Territory, relationship and development plans: writing them and deciding on them.

Only the RM writes their own plans, and only while a territory plan is a draft or came
back returned. The team's leader endorses or returns a submitted plan; an executive
approves or returns an endorsed one. Nobody decides on a plan they wrote or endorsed.
Every save carries the version it was read at, so nothing is silently overwritten.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from org.access import (
    visible_accounts,
    visible_development_plans,
    visible_relationship_plans,
    visible_target_sets,
    visible_territory_plans,
)
from org.models import Role, User
from salesmgmt.workflow import (
    FourEyesViolation,
    Incomplete,
    InvalidTransition,
    StaleEdit,
    check_version,
    save_versioned,
)

from ..models import (
    Comment,
    DevelopmentGoal,
    DevelopmentPlan,
    PlannedAction,
    PlanYear,
    RelationshipPlan,
    Scope,
    TargetLine,
    TerritoryPlan,
)

Status = TerritoryPlan.Status

# The sections of a territory plan, their fields, and what submitting asks of each.
SECTIONS: dict[str, dict] = {
    "goals": {
        "title": "Goals",
        "fields": ["goals_personal", "goals_business", "goals_compensation", "goals_market"],
        "m2m": [],
    },
    "strategies": {"title": "Strategies", "fields": ["strategies"], "m2m": []},
    "measures": {"title": "Measures", "fields": ["measures"], "m2m": ["measured_lines"]},
    "activity": {
        "title": "Planned activity per week",
        "fields": ["planned_calls_per_week", "planned_visits_per_week", "planned_reviews_per_week"],
        "m2m": [],
    },
    "top_accounts": {"title": "Top accounts", "fields": [], "m2m": ["top_accounts"]},
    "resources": {"title": "Resources needed", "fields": ["resources_needed"], "m2m": []},
    "risks": {"title": "Risks and expected surprises", "fields": ["risks"], "m2m": []},
}


def _has_any(plan: TerritoryPlan, name: str) -> bool:
    """Whether a many-to-many field has a row; no query when it was prefetched."""
    cache = getattr(plan, "_prefetched_objects_cache", {})
    if name in cache:
        return bool(cache[name])
    return getattr(plan, name).exists()


def missing_sections(plan: TerritoryPlan) -> dict[str, str]:
    """Section → what it still needs before the plan can be submitted.

    Runs no query when `measured_lines` and `top_accounts` are prefetched.
    """
    missing = {}
    empty_goals = [
        TerritoryPlan._meta.get_field(f).verbose_name
        for f in SECTIONS["goals"]["fields"]
        if not getattr(plan, f).strip()
    ]
    if empty_goals:
        missing["goals"] = "Write your " + ", ".join(empty_goals) + "."
    if not plan.strategies.strip():
        missing["strategies"] = "Say how you will reach your goals."
    if not plan.measures.strip() and not _has_any(plan, "measured_lines"):
        missing["measures"] = "Name how you will measure progress, by target line."
    if any(getattr(plan, f) is None for f in SECTIONS["activity"]["fields"]):
        missing["activity"] = "Plan your calls, visits and reviews per week."
    if not _has_any(plan, "top_accounts"):
        missing["top_accounts"] = "Name at least one top account."
    if not plan.resources_needed.strip():
        missing["resources"] = "Say what resources you need (or that you need none)."
    if not plan.risks.strip():
        missing["risks"] = "Name the risks and surprises you expect."
    return missing


def completed_sections(plan: TerritoryPlan) -> int:
    return len(SECTIONS) - len(missing_sections(plan))


# --- who may do what to a territory plan (the services below hold the same rules) -----------


def _is_leader_of(user: User, plan: TerritoryPlan) -> bool:
    return user.leads(plan.rm)


def require_plan_writer(plan: TerritoryPlan, user: User) -> None:
    """Only the RM writes their plan: anyone else who can see it gets a 403."""
    if plan.rm_id != user.pk:
        raise PermissionDenied("Only the RM writes their plan; comment on it instead.")


def plan_actions(plan: TerritoryPlan, user: User) -> frozenset[str]:
    """What `user` may do to `plan` now: a subset of edit, submit, endorse, approve, return,
    comment. For pages to show the right buttons; the services decide again on each
    action. Expects plan.rm.team and plan.plan_year loaded."""
    actions = set()
    writable = plan.is_editable and plan.plan_year.is_open
    if plan.rm_id == user.pk and writable:
        actions |= {"edit", "submit"}
    if not plan.plan_year.is_open:
        pass  # a closed year's plan is only read
    elif plan.status == Status.SUBMITTED and _is_leader_of(user, plan):
        actions |= {"endorse", "return"}
    elif plan.status == Status.ENDORSED and user.role == Role.EXECUTIVE:
        actions.add("return")
        if user.pk not in (plan.rm_id, plan.endorsed_by_id):
            actions.add("approve")
    if user.role in (Role.RM, Role.LEADER, Role.EXECUTIVE):
        actions.add("comment")
    return frozenset(actions)


# --- territory plan --------------------------------------------------------------------------


def _locked_plan(plan_id: int, user: User) -> TerritoryPlan:
    return (
        visible_territory_plans(user)
        .select_for_update(of=("self",))
        .select_related("rm__team", "plan_year")
        .get(pk=plan_id)
    )


def _check_version(record, expected_version: int | None, what: str) -> None:
    check_version(
        record,
        expected_version,
        f"{what} changed after you opened it (someone saved it in another window or "
        "tab). Your changes were not saved; here is what it looks like now.",
    )


def _save_bumped(record, **changes) -> None:
    """Save `changes` and count the save; the version was checked before the other rules."""
    save_versioned(record, None, "", **changes)


def _own_target_lines(plan: TerritoryPlan) -> QuerySet[TargetLine]:
    """Lines of the plan's RM's own target sets for the plan's year (any revision), as far
    as the RM sees them."""
    return TargetLine.objects.filter(
        target_set__in=visible_target_sets(plan.rm).filter(
            scope=Scope.RM, rm=plan.rm_id, plan_year=plan.plan_year_id
        )
    )


@transaction.atomic
def territory_plan_start(*, rm: User, plan_year: PlanYear) -> TerritoryPlan:
    """The RM's plan for the year, created as an empty draft the first time."""
    if rm.role != Role.RM:
        raise PermissionDenied("Only relationship managers write territory plans.")
    plan, _ = TerritoryPlan.objects.get_or_create(rm=rm, plan_year=plan_year)
    return plan


@transaction.atomic
def territory_plan_save_section(
    *, plan_id: int, section: str, data: dict, by: User, expected_version: int | None
) -> TerritoryPlan:
    """Save one section of a draft. Never fails for incompleteness; `data` is cleaned."""
    plan = _locked_plan(plan_id, by)
    require_plan_writer(plan, by)
    if not plan.is_editable:
        raise InvalidTransition(
            f"This plan is {plan.get_status_display().lower()}: it can be changed again only "
            "if it is returned to you."
        )
    if not plan.plan_year.is_open:
        raise InvalidTransition(f"{plan.plan_year} is closed.")
    _check_version(plan, expected_version, "This plan")
    spec = SECTIONS[section]
    chosen_lines = {line.pk for line in data.get("measured_lines") or ()}
    if (
        "measured_lines" in spec["m2m"]
        and chosen_lines
        and _own_target_lines(plan).filter(pk__in=chosen_lines).count() != len(chosen_lines)
    ):
        raise ValidationError({"measured_lines": "Choose lines of your own targets."})
    if "top_accounts" in spec["m2m"] and "top_accounts" in data:
        mine = visible_accounts(by).filter(pk__in=[a.pk for a in data["top_accounts"]])
        if mine.count() != len(data["top_accounts"]):
            raise ValidationError({"top_accounts": "Choose accounts from your own book."})
    _save_bumped(plan, **{f: data[f] for f in spec["fields"] if f in data})
    for name in spec["m2m"]:
        if name in data:
            getattr(plan, name).set(data[name])
    return plan


@transaction.atomic
def territory_plan_submit(
    *, plan_id: int, by: User, comment: str = "", expected_version: int | None = None
) -> TerritoryPlan:
    """Send the plan to the leader. With `expected_version`, refuse (StaleEdit) if the plan
    changed since the RM last saw it: they submit what they have read."""
    plan = _locked_plan(plan_id, by)
    if plan.rm_id != by.pk:
        raise PermissionDenied("Only the RM submits their plan.")
    if not plan.is_editable:
        raise InvalidTransition(f"This plan is already {plan.get_status_display().lower()}.")
    if not plan.plan_year.is_open:
        raise InvalidTransition(f"{plan.plan_year} is closed.")
    _check_version(plan, expected_version, "This plan")
    if missing := missing_sections(plan):
        raise Incomplete(missing)
    _save_bumped(plan, status=Status.SUBMITTED, submitted_at=timezone.now())
    Comment.objects.create(
        territory_plan=plan, author=by, kind=Comment.Kind.SUBMITTED, text=comment
    )
    return plan


@transaction.atomic
def territory_plan_endorse(*, plan_id: int, by: User, comment: str = "") -> TerritoryPlan:
    plan = _locked_plan(plan_id, by)
    if not _is_leader_of(by, plan):
        raise PermissionDenied("Only the RM's team leader endorses their plan.")
    _require_open(plan.plan_year)
    if plan.status != Status.SUBMITTED:
        raise InvalidTransition(
            f"This plan is {plan.get_status_display().lower()}; only a submitted plan is endorsed."
        )
    _save_bumped(plan, status=Status.ENDORSED, endorsed_by=by, endorsed_at=timezone.now())
    Comment.objects.create(territory_plan=plan, author=by, kind=Comment.Kind.ENDORSED, text=comment)
    return plan


@transaction.atomic
def territory_plan_approve(*, plan_id: int, by: User, comment: str = "") -> TerritoryPlan:
    plan = _locked_plan(plan_id, by)
    if by.role != Role.EXECUTIVE:
        raise PermissionDenied("Only an executive approves territory plans.")
    _require_open(plan.plan_year)
    if plan.status != Status.ENDORSED:
        raise InvalidTransition(
            f"This plan is {plan.get_status_display().lower()}; "
            "only a plan endorsed by its leader is approved."
        )
    if by.pk in (plan.rm_id, plan.endorsed_by_id):
        raise FourEyesViolation("Four eyes: you wrote or endorsed this plan.")
    _save_bumped(plan, status=Status.APPROVED, approved_by=by, approved_at=timezone.now())
    Comment.objects.create(territory_plan=plan, author=by, kind=Comment.Kind.APPROVED, text=comment)
    return plan


@transaction.atomic
def territory_plan_return(*, plan_id: int, by: User, comment: str) -> TerritoryPlan:
    """Back to the RM with a reason: by the leader from submitted, by an executive from
    endorsed. The comments stay on the plan."""
    plan = _locked_plan(plan_id, by)
    if not (_is_leader_of(by, plan) or by.role == Role.EXECUTIVE):
        # Whoever may never return a plan (its RM, the administrator) hears that first.
        raise PermissionDenied("Only the RM's team leader or an executive returns a plan.")
    if plan.status == Status.SUBMITTED:
        if not _is_leader_of(by, plan):
            raise PermissionDenied("Only the RM's team leader returns a submitted plan.")
    elif plan.status == Status.ENDORSED:
        if by.role != Role.EXECUTIVE:
            raise PermissionDenied("Only an executive returns an endorsed plan.")
    else:
        raise InvalidTransition(
            f"This plan is {plan.get_status_display().lower()}; there is nothing to return."
        )
    _require_open(plan.plan_year)
    # After the role and state checks, so that whoever may not return it hears that first.
    if not comment.strip():
        raise ValidationError({"comment": "Say why the plan goes back: the RM needs it."})
    _save_bumped(plan, status=Status.RETURNED, endorsed_by=None, endorsed_at=None)
    Comment.objects.create(territory_plan=plan, author=by, kind=Comment.Kind.RETURNED, text=comment)
    return plan


@transaction.atomic
def plan_comment_add(*, plan_id: int, by: User, text: str) -> Comment:
    if not text.strip():
        raise ValidationError({"text": "Write something to comment."})
    plan = visible_territory_plans(by).get(pk=plan_id)
    if by.role not in (Role.RM, Role.LEADER, Role.EXECUTIVE):
        raise PermissionDenied("Your role does not comment on plans.")
    return Comment.objects.create(territory_plan=plan, author=by, text=text.strip())


# --- relationship plans ------------------------------------------------------------------------


# Tiers a relationship plan is written for: A "must keep", B "must grow".
RELATIONSHIP_TIERS = ("A", "B")

RELATIONSHIP_FIELDS = (
    "intent",
    "objectives",
    "expected_results",
    "expected_balance",
    "resources",
    "review_on",
)


def _require_account_owner(by: User, account: Account) -> None:
    if by.role != Role.RM or by.pk not in (account.owner_id, account.covering_rm_id):
        raise PermissionDenied("Only the account's RM writes its relationship plan.")


def _require_open(plan_year: PlanYear) -> None:
    if not plan_year.is_open:
        raise InvalidTransition(f"{plan_year} is closed: its plans can no longer change.")


def may_write_relationship_plan(user: User, account: Account) -> bool:
    return user.role == Role.RM and user.pk in (account.owner_id, account.covering_rm_id)


def action_owners(account: Account) -> QuerySet[User]:
    """Who may own a planned action on the account: its RM or covering RM, the active RMs
    of the owner's team, and the team's leader."""
    q = Q(pk=account.owner_id)
    if account.covering_rm_id:
        q |= Q(pk=account.covering_rm_id)
    team_id = account.owner.team_id
    if team_id:
        q |= Q(team_id=team_id, role=Role.RM, is_active=True) | Q(led_teams=team_id)
    return User.objects.filter(q).distinct().order_by("last_name", "first_name", "username")


@transaction.atomic
def relationship_plan_save(
    *,
    account_id: int,
    plan_year: PlanYear,
    by: User,
    data: dict,
    expected_version: int | None = None,
) -> RelationshipPlan:
    """Create or update the account's plan for the year.

    `expected_version` is the version the RM read; 0 means they wrote a new plan, so a plan
    somebody created meanwhile is a StaleEdit rather than silently overwritten.
    """
    account = visible_accounts(by).select_related("tier").get(pk=account_id)
    _require_account_owner(by, account)
    _require_open(plan_year)
    plan = (
        RelationshipPlan.objects.select_for_update()
        .filter(account=account, plan_year=plan_year)
        .first()
    )
    fields = {f: data[f] for f in RELATIONSHIP_FIELDS if f in data}
    if plan is None:
        if account.tier.code not in RELATIONSHIP_TIERS:
            raise ValidationError(
                "Relationship plans are written for tier-A (must keep) and tier-B (must grow) "
                f"accounts; {account} is tier {account.tier.code}."
            )
        try:
            with transaction.atomic():
                return RelationshipPlan.objects.create(
                    account=account, plan_year=plan_year, author=by, **fields
                )
        except IntegrityError:
            current = RelationshipPlan.objects.get(account=account, plan_year=plan_year)
            raise StaleEdit(
                "Somebody wrote a relationship plan for this account meanwhile. Your text "
                "was not saved; here is theirs.",
                current=current,
            ) from None
    _check_version(plan, expected_version, "This relationship plan")
    _save_bumped(plan, **fields)
    return plan


@transaction.atomic
def planned_action_add(
    *, relationship_plan_id: int, by: User, description: str, due_on, owner: User
) -> PlannedAction:
    plan = (
        visible_relationship_plans(by)
        .select_related("account__owner", "plan_year")
        .get(pk=relationship_plan_id)
    )
    _require_account_owner(by, plan.account)
    _require_open(plan.plan_year)
    if not description.strip():
        raise ValidationError({"description": "Say what will be done."})
    if not action_owners(plan.account).filter(pk=owner.pk).exists():
        raise ValidationError(
            {"owner": "The owner is the account's RM, an RM of the team or its leader."}
        )
    return PlannedAction.objects.create(
        relationship_plan=plan, description=description.strip(), due_on=due_on, owner=owner
    )


@transaction.atomic
def planned_action_set_done(*, action_id: int, by: User, done: bool) -> PlannedAction:
    action = PlannedAction.objects.select_related("relationship_plan__account").get(
        pk=action_id,
        relationship_plan__in=visible_relationship_plans(by).values("pk"),
    )
    if by.pk != action.owner_id:
        _require_account_owner(by, action.relationship_plan.account)
    action.done = done
    action.save(update_fields=["done"])
    return action


# --- development plans ---------------------------------------------------------------------------


@transaction.atomic
def development_plan_save(
    *, rm: User, plan_year: PlanYear, by: User, data: dict, expected_version: int | None = None
) -> DevelopmentPlan:
    """Create or update the RM's development plan; `expected_version` 0 means "a new one"."""
    if by.pk != rm.pk or rm.role != Role.RM:
        raise PermissionDenied("Only the RM writes their development plan.")
    _require_open(plan_year)
    plan, created = DevelopmentPlan.objects.select_for_update().get_or_create(
        rm=rm, plan_year=plan_year
    )
    if not created:
        _check_version(plan, expected_version, "This development plan")
    _save_bumped(plan, **{f: data[f] for f in ("support_needed", "review_on") if f in data})
    return plan


def development_goal_lines(plan: DevelopmentPlan) -> QuerySet[TargetLine]:
    """Target lines a goal may be tied to: those of the RM's own target sets for the year."""
    return TargetLine.objects.filter(
        target_set__scope=Scope.RM,
        target_set__rm=plan.rm_id,
        target_set__plan_year=plan.plan_year_id,
    )


@transaction.atomic
def development_goal_add(*, plan_id: int, by: User, data: dict) -> DevelopmentGoal:
    plan = visible_development_plans(by).select_related("plan_year").get(pk=plan_id)
    if plan.rm_id != by.pk:
        raise PermissionDenied("Only the RM writes their development plan.")
    _require_open(plan.plan_year)
    if not data.get("target_line") and not data.get("behaviour", "").strip():
        raise ValidationError("Tie the goal to a target line or an RB behaviour.")
    line = data.get("target_line")
    if line and not development_goal_lines(plan).filter(pk=line.pk).exists():
        raise ValidationError({"target_line": "Choose one of your own target lines."})
    return DevelopmentGoal.objects.create(development_plan=plan, **data)


@transaction.atomic
def development_goal_remove(*, goal_id: int, by: User) -> None:
    goal = DevelopmentGoal.objects.select_related("development_plan__plan_year").get(
        pk=goal_id, development_plan__in=visible_development_plans(by).values("pk")
    )
    if goal.development_plan.rm_id != by.pk:
        raise PermissionDenied("Only the RM writes their development plan.")
    _require_open(goal.development_plan.plan_year)
    goal.delete()
