"""The RM's improvement plans: what they will do about a behaviour, coached at check-ins.

Only the RM writes their own plans (a leader reads them on the report card and the
check-in screen; nobody else writes them). A plan belongs to one behaviour of an approved
set of an open plan year; there is one per RM and behaviour (closing it and writing again
reopens it). Any behaviour of the set may get a plan; the report card asks for one for
every behaviour below target (docs/report-card.md). Edits compare the plan's version, so
a save in another tab is never silently overwritten.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from org.access import visible_improvement_plans
from org.models import Role, User
from salesmgmt.workflow import InvalidTransition, save_versioned

from ..models import Behaviour, BehaviourSet, ImprovementPlan

STALE = (
    "You (or another tab) saved this improvement plan after you opened it. Your changes "
    "were not saved; here is what it says now."
)


def may_write(user: User) -> bool:
    return user.role == Role.RM


def _require_rm(user: User) -> None:
    if not may_write(user):
        raise PermissionDenied("Only the RM writes their improvement plans.")


def _check_behaviour(behaviour: Behaviour) -> None:
    bs = behaviour.behaviour_set
    if bs.status != BehaviourSet.Status.APPROVED:
        raise InvalidTransition("Improvement plans are written for approved behaviours only.")
    if not bs.plan_year.is_open:
        raise InvalidTransition(f"{bs.plan_year} is closed: its improvement plans are final.")


def _clean(actions: str, support: str, review_on, today: datetime.date) -> dict:
    errors = {}
    if not (actions or "").strip():
        errors["actions"] = "Say what you will do."
    if review_on is None:
        errors["review_on"] = "Choose the date you will review it with your leader."
    elif review_on < today:
        errors["review_on"] = "The review date is in the past; choose today or a later date."
    if errors:
        raise ValidationError(errors)
    return {"actions": actions.strip(), "support": (support or "").strip(), "review_on": review_on}


@transaction.atomic
def improvement_plan_save(
    *,
    behaviour_id: int,
    by: User,
    actions: str,
    support: str = "",
    review_on: datetime.date | None,
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> ImprovementPlan:
    """Write or edit `by`'s plan for the behaviour; a closed plan written again reopens.

    A new plan is created when the RM has none (`expected_version` is then ignored);
    an existing one is saved only if its version is still `expected_version`."""
    _require_rm(by)
    behaviour = Behaviour.objects.select_related("behaviour_set__plan_year").get(pk=behaviour_id)
    _check_behaviour(behaviour)
    values = _clean(actions, support, review_on, today or timezone.localdate())
    plan = (
        visible_improvement_plans(by)
        .select_for_update(of=("self",))
        .filter(rm=by, behaviour=behaviour)
        .first()
    )
    if plan is None:
        plan = ImprovementPlan(rm=by, behaviour=behaviour, **values)
        plan._history_user = by
        plan.save()
        return plan
    plan._history_user = by
    save_versioned(plan, expected_version, STALE, closed=False, **values)
    return plan


@transaction.atomic
def improvement_plan_close(
    *, plan_id: int, by: User, expected_version: int | None = None
) -> ImprovementPlan:
    """The RM closes their plan (done, or no longer needed). Outside scope: DoesNotExist."""
    _require_rm(by)
    plan = (
        visible_improvement_plans(by)
        .select_for_update(of=("self",))
        .select_related("behaviour__behaviour_set__plan_year")
        .get(pk=plan_id)
    )
    if plan.rm_id != by.pk:  # visible_improvement_plans already keeps an RM to their own
        raise PermissionDenied("Only the RM closes their improvement plan.")
    if not plan.behaviour.behaviour_set.plan_year.is_open:
        raise InvalidTransition("The plan year is closed: its improvement plans are final.")
    if plan.closed:
        raise InvalidTransition("This improvement plan is already closed.")
    plan._history_user = by
    save_versioned(plan, expected_version, STALE, closed=True)
    return plan
