"""The year's RB behaviours and objectives: written, proposed, signed off with four eyes.

Executives and administrators write the set while it is a draft or came back returned;
an executive who neither proposed nor last edited it approves or returns it (as target
sets). An approved set is what customers are asked about and RMs are scored against.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from org.models import Role, User
from planning.models import PlanYear
from salesmgmt.workflow import FourEyesViolation, Incomplete, InvalidTransition, save_versioned

from ..models import Behaviour, BehaviourSet

Status = BehaviourSet.Status


@dataclass(frozen=True)
class BehaviourInput:
    name: str
    weight: int
    objective_pct: int = 80
    description: str = ""
    # The behaviour's row when the form edits an existing one: a renamed behaviour keeps
    # its ratings. Without it, rows are matched by name.
    id: int | None = None


def may_write(user: User) -> bool:
    return user.is_superuser or user.role in (Role.EXECUTIVE, Role.ADMIN)


def may_decide(user: User) -> bool:
    return user.role == Role.EXECUTIVE


def behaviour_set_actions(bs: BehaviourSet, user: User) -> frozenset[str]:
    actions = set()
    if may_write(user) and bs.is_editable and bs.plan_year.is_open:
        actions |= {"edit", "propose"}
    if bs.status == Status.PROPOSED and may_decide(user):
        actions.add("return")
        if user.pk not in (bs.proposed_by_id, bs.last_edited_by_id):
            actions.add("approve")
    return frozenset(actions)


def _locked(set_id: int, user: User) -> BehaviourSet:
    bs = (
        BehaviourSet.objects.select_for_update(of=("self",))
        .select_related("plan_year")
        .get(pk=set_id)
    )
    bs._history_user = user
    return bs


def _require_writer(bs: BehaviourSet, user: User) -> None:
    if not may_write(user):
        raise PermissionDenied("Only executives and the back office write the RB behaviours.")
    if not bs.plan_year.is_open:
        raise InvalidTransition(f"{bs.plan_year} is closed: its behaviours can no longer change.")
    if not bs.is_editable:
        raise InvalidTransition(
            f"The behaviours are {bs.get_status_display().lower()}; only a draft or a returned "
            "set can change."
        )


STALE = (
    "Somebody saved the behaviours after you opened them. Your changes were not saved; "
    "here is what they look like now."
)


@transaction.atomic
def behaviour_set_start(*, plan_year: PlanYear, by: User) -> BehaviourSet:
    if not may_write(by):
        raise PermissionDenied("Only executives and the back office write the RB behaviours.")
    bs, _ = BehaviourSet.objects.get_or_create(
        plan_year=plan_year, defaults={"created_by": by, "last_edited_by": by}
    )
    return bs


def problems(behaviours: list[BehaviourInput]) -> dict[str, str]:
    """What stops a set from being proposed: empty, weights not adding to 100, duplicates."""
    found = {}
    if not behaviours:
        found["behaviours"] = "Name at least one behaviour."
    total = sum(b.weight for b in behaviours)
    if behaviours and total != 100:
        found["weights"] = f"The weights add up to {total}; they must add up to 100."
    names = [b.name.strip().lower() for b in behaviours]
    if len(set(names)) != len(names):
        found["names"] = "Two behaviours have the same name."
    return found


@transaction.atomic
def behaviour_set_save(
    *,
    set_id: int,
    by: User,
    behaviours: list[BehaviourInput],
    min_ratings_for_ranking: int | None = None,
    expected_version: int | None = None,
) -> BehaviourSet:
    """Replace the set's behaviours by `behaviours`, in that order. Each input is matched
    to an existing row by its `id`, else by its name, so ratings already given to a
    behaviour stay with it; rows no input matches are removed (refused when customers
    rated them or an RM has an improvement plan for them)."""
    bs = _locked(set_id, by)
    _require_writer(bs, by)
    errors = {}
    for i, b in enumerate(behaviours):
        if not b.name.strip():
            errors[f"behaviours-{i}-name"] = "A behaviour needs a name."
        if not 0 <= b.weight <= 100 or not 0 <= b.objective_pct <= 100:
            errors[f"behaviours-{i}-weight"] = "Weights and objectives are 0 to 100 %."
    dupes = problems(behaviours).get("names")
    if dupes:
        errors["behaviours"] = dupes
    if errors:
        raise ValidationError(errors)
    changes = {"last_edited_by": by}
    if min_ratings_for_ranking is not None:
        changes["min_ratings_for_ranking"] = min_ratings_for_ranking
    save_versioned(bs, expected_version, STALE, **changes)
    existing = list(bs.behaviours.all())
    by_id = {b.pk: b for b in existing}
    by_name = {b.name.lower(): b for b in existing}
    rows, taken = [], set()
    for b in behaviours:
        row = by_id.get(b.id) if b.id is not None else None
        if row is None or row.pk in taken:
            row = by_name.get(b.name.strip().lower())
        if row is None or row.pk in taken:
            row = Behaviour(behaviour_set=bs)
        if row.pk is not None:
            taken.add(row.pk)
        rows.append(row)
    gone = [b for b in existing if b.pk not in taken]
    if any(b.ratings.exists() for b in gone):
        raise ValidationError(
            {"behaviours": "A behaviour customers have already rated cannot be removed."}
        )
    if any(b.improvement_plans.exists() for b in gone):
        raise ValidationError(
            {"behaviours": "A behaviour an RM has an improvement plan for cannot be removed."}
        )
    Behaviour.objects.filter(pk__in=[b.pk for b in gone]).delete()
    # Renames first go through a placeholder, so that two behaviours may swap names.
    for row, b in zip(rows, behaviours, strict=True):
        if row.pk is not None and row.name != b.name.strip():
            row.name = f"~renaming {row.pk}"
            row.save(update_fields=["name"])
    for position, (row, b) in enumerate(zip(rows, behaviours, strict=True)):
        row.name, row.weight, row.objective_pct = b.name.strip(), b.weight, b.objective_pct
        row.description, row.position = b.description.strip(), position
        row.save()
    return bs


@transaction.atomic
def behaviour_set_propose(*, set_id: int, by: User) -> BehaviourSet:
    bs = _locked(set_id, by)
    _require_writer(bs, by)
    current = [BehaviourInput(b.name, b.weight, b.objective_pct) for b in bs.behaviours.all()]
    found = problems(current)
    if found:
        raise Incomplete(found)
    save_versioned(
        bs, None, STALE, status=Status.PROPOSED, proposed_by=by, proposed_at=timezone.now()
    )
    return bs


def _decide(bs: BehaviourSet, by: User, verb: str) -> None:
    if not may_decide(by):
        raise PermissionDenied(f"Only an executive may {verb} the RB behaviours.")
    if bs.status != Status.PROPOSED:
        raise InvalidTransition(
            f"The behaviours are {bs.get_status_display().lower()}; only proposed ones can be "
            f"{'approved' if verb == 'approve' else 'returned'}."
        )


@transaction.atomic
def behaviour_set_approve(*, set_id: int, by: User, comment: str = "") -> BehaviourSet:
    bs = _locked(set_id, by)
    _decide(bs, by, "approve")
    if by.pk in (bs.proposed_by_id, bs.last_edited_by_id):
        raise FourEyesViolation(
            "Four eyes: you proposed or last edited these behaviours, so someone else must "
            "approve them."
        )
    save_versioned(
        bs,
        None,
        STALE,
        status=Status.APPROVED,
        decided_by=by,
        decided_at=timezone.now(),
        decision_comment=comment.strip(),
    )
    return bs


@transaction.atomic
def behaviour_set_return(*, set_id: int, by: User, comment: str) -> BehaviourSet:
    bs = _locked(set_id, by)
    _decide(bs, by, "return")
    if not comment.strip():
        raise ValidationError({"comment": "Say what should change."})
    save_versioned(
        bs,
        None,
        STALE,
        status=Status.RETURNED,
        decided_by=by,
        decided_at=timezone.now(),
        decision_comment=comment.strip(),
    )
    return bs
