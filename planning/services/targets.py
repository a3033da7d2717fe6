"""Target sets: who may write, propose and decide them, and the four-eyes rule.

Executives write the bank's set; a team's leader proposes the sets of the team and of each
of its RMs; executives approve or return them. Nobody approves what they proposed or last
edited. An approved set is never edited: a change is a new revision through the same
workflow, and approving it supersedes the revision before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from org.access import visible_target_sets
from org.models import Role, Team, User
from salesmgmt.workflow import (
    FourEyesViolation,
    Incomplete,
    InvalidTransition,
    save_versioned,
)

from ..models import Comment, Metric, PlanYear, Scope, TargetLine, TargetSet

Status = TargetSet.Status


@dataclass(frozen=True)
class LineInput:
    metric: Metric
    value: Decimal
    weight: int


# --- who may do what -----------------------------------------------------------------------


def may_write(user: User, *, scope: str, team: Team | None = None, rm: User | None = None) -> bool:
    """Executives write the bank's set; the team's leader writes the team's and its RMs'."""
    if scope == Scope.BANK:
        return user.role == Role.EXECUTIVE
    if user.role != Role.LEADER:
        return False
    if scope == Scope.TEAM:
        return team is not None and team.leader_id == user.pk
    return rm is not None and rm.team is not None and rm.team.leader_id == user.pk


def may_edit(user: User, target_set: TargetSet) -> bool:
    return may_write(user, scope=target_set.scope, team=target_set.team, rm=target_set.rm)


def may_decide(user: User, target_set: TargetSet) -> bool:
    """Only executives approve or return; four eyes is checked separately, with a reason."""
    return user.role == Role.EXECUTIVE


def _locked(target_set_id: int, user: User) -> TargetSet:
    """The set, locked for this transaction, or 404 if the user may not see it."""
    ts = (
        visible_target_sets(user)
        .select_for_update(of=("self",))
        .select_related("team", "rm__team", "plan_year")
        .get(pk=target_set_id)
    )
    # The audit history names the person acting, with or without a web request.
    ts._history_user = user
    return ts


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def _require_open_year(plan_year: PlanYear) -> None:
    if not plan_year.is_open:
        raise InvalidTransition(f"{plan_year} is closed: its targets can no longer change.")


def _bump_version(target_set: TargetSet, expected_version: int | None, **changes) -> None:
    """Save `changes` only if nobody saved the set since `expected_version` was read."""
    save_versioned(
        target_set,
        expected_version,
        f"{target_set.last_edited_by} saved these targets after you opened them. "
        "Your changes were not saved; here is what they look like now.",
        **changes,
    )


# --- writing --------------------------------------------------------------------------------


@transaction.atomic
def target_set_create(
    *,
    plan_year: PlanYear,
    scope: str,
    by: User,
    team: Team | None = None,
    rm: User | None = None,
) -> TargetSet:
    """A first draft for a subject that has none open yet."""
    _require(may_write(by, scope=scope, team=team, rm=rm), "You may not write these targets.")
    _require_open_year(plan_year)
    subject = {"plan_year": plan_year, "scope": scope, "team": team, "rm": rm}
    if scope == Scope.RM:
        subject["team"] = None
    existing = TargetSet.objects.filter(**subject).order_by("-revision").first()
    if existing is not None:
        raise InvalidTransition(
            f"{existing.subject_label} already has targets for {plan_year}: "
            "open them, or start a new revision of the approved ones."
        )
    return _created(TargetSet(**subject, created_by=by, last_edited_by=by), by)


def _created(ts: TargetSet, by: User) -> TargetSet:
    ts._history_user = by  # the audit history's "who", with or without a request
    ts.save(force_insert=True)
    return ts


@transaction.atomic
def target_set_save(
    *,
    target_set_id: int,
    by: User,
    lines: list[LineInput],
    growth_share_pct: int | None = None,
    expected_version: int | None = None,
) -> TargetSet:
    """Replace the lines of a draft or returned set. Saving never fails for incompleteness."""
    ts = _locked(target_set_id, by)
    _require(may_edit(by, ts), "You may not edit these targets.")
    if not ts.is_editable:
        raise InvalidTransition(
            f"These targets are {ts.get_status_display().lower()}: they cannot be edited."
            + (" Start a new revision to change them." if ts.status == Status.APPROVED else "")
        )
    _require_open_year(ts.plan_year)
    metrics = [line.metric.pk for line in lines]
    if len(metrics) != len(set(metrics)):
        raise ValidationError("Each metric may appear once in a target set.")
    _bump_version(
        ts,
        expected_version,
        last_edited_by=by,
        status=Status.DRAFT,
        growth_share_pct=growth_share_pct if ts.scope == Scope.BANK else None,
    )
    _sync_lines(ts, lines, by)
    return ts


def _sync_lines(ts: TargetSet, lines: list[LineInput], by: User) -> None:
    """Change the lines in place, one metric at a time, so that the audit history reads
    "weight 40 → 50" rather than a line deleted and another created."""
    existing = {line.metric_id: line for line in ts.lines.all()}
    wanted = {line.metric.pk: line for line in lines}
    for metric_id, line in existing.items():
        if metric_id not in wanted:
            line._history_user = by
            line.delete()
    for metric_id, given in wanted.items():
        line = existing.get(metric_id) or TargetLine(target_set=ts, metric=given.metric)
        if line.pk and (line.value, line.weight) == (Decimal(given.value), given.weight):
            continue
        line.value, line.weight = Decimal(given.value), given.weight
        line._history_user = by
        line.save()


def target_set_problems(ts: TargetSet) -> dict[str, str]:
    """What stops a set from being proposed: empty, weights not adding up, no balance."""
    problems = {}
    lines = list(ts.lines.all())
    if not lines:
        problems["lines"] = "Add at least one target line."
    elif (total := sum(line.weight for line in lines)) != 100:
        problems["weights"] = f"The weights add up to {total} %, not 100 %."
    if ts.scope == Scope.BANK and ts.growth_share_pct is None:
        problems["growth_share_pct"] = "State the balance between growth and retention."
    return problems


@transaction.atomic
def target_set_propose(
    *, target_set_id: int, by: User, comment: str = "", expected_version: int | None = None
) -> TargetSet:
    ts = _locked(target_set_id, by)
    _require(may_edit(by, ts), "You may not propose these targets.")
    if not ts.is_editable:
        raise InvalidTransition(
            f"Targets that are {ts.get_status_display().lower()} cannot be proposed."
        )
    _require_open_year(ts.plan_year)
    if problems := target_set_problems(ts):
        raise Incomplete(problems)
    _bump_version(
        ts,
        expected_version,
        status=Status.PROPOSED,
        proposed_by=by,
        proposed_at=timezone.now(),
        decided_by=None,
        decided_at=None,
        decision_comment="",
    )
    Comment.objects.create(target_set=ts, author=by, kind=Comment.Kind.PROPOSED, text=comment)
    return ts


PAST = {"approve": "approved", "return": "returned"}


def _decide(ts: TargetSet, by: User, verb: str) -> None:
    _require(may_decide(by, ts), f"Only an executive may {verb} targets.")
    _require_open_year(ts.plan_year)
    if ts.status != Status.PROPOSED:
        raise InvalidTransition(
            f"These targets are {ts.get_status_display().lower()}; "
            f"only proposed targets can be {PAST[verb]}."
        )
    if by.pk in (ts.proposed_by_id, ts.last_edited_by_id):
        raise FourEyesViolation(
            "Four eyes: you proposed or last edited these targets, "
            f"so someone else must {verb} them."
        )


def _record_decision(ts: TargetSet, by: User, status: str, kind: str, comment: str) -> TargetSet:
    """Write an executive's decision on the set and into its comment thread."""
    _bump_version(
        ts,
        None,
        status=status,
        decided_by=by,
        decided_at=timezone.now(),
        decision_comment=comment,
    )
    Comment.objects.create(target_set=ts, author=by, kind=kind, text=comment)
    return ts


@transaction.atomic
def target_set_approve(*, target_set_id: int, by: User, comment: str = "") -> TargetSet:
    ts = _locked(target_set_id, by)
    _decide(ts, by, "approve")
    previous = (
        TargetSet.objects.select_for_update(of=("self",))
        .filter(pk=ts.previous_id, status=Status.APPROVED)
        .order_by("pk")  # the default ordering joins team and rm, which PostgreSQL won't lock
        .first()
        if ts.previous_id
        else None
    )
    if previous is not None:
        # Saved, not updated, so that the previous revision's history shows it superseded.
        previous.status, previous._history_user = Status.SUPERSEDED, by
        previous.save(update_fields=["status"])
    return _record_decision(ts, by, Status.APPROVED, Comment.Kind.APPROVED, comment)


@transaction.atomic
def target_set_return(*, target_set_id: int, by: User, comment: str) -> TargetSet:
    # Look the set up first: someone outside scope hears "not found", not "say why".
    ts = _locked(target_set_id, by)
    _decide(ts, by, "return")
    if not comment.strip():
        raise ValidationError({"comment": "Say why the targets go back: the proposer needs it."})
    return _record_decision(ts, by, Status.RETURNED, Comment.Kind.RETURNED, comment)


@transaction.atomic
def target_set_revise(*, target_set_id: int, by: User) -> TargetSet:
    """A new draft revision of approved targets, with their lines copied."""
    ts = _locked(target_set_id, by)
    _require(may_edit(by, ts), "You may not revise these targets.")
    if ts.status != Status.APPROVED:
        raise InvalidTransition("Only approved targets are revised; edit the open ones instead.")
    if hasattr(ts, "next_revision"):
        raise InvalidTransition("A newer revision of these targets already exists.")
    _require_open_year(ts.plan_year)
    revision = _created(
        TargetSet(
            plan_year=ts.plan_year,
            scope=ts.scope,
            team=ts.team,
            rm=ts.rm,
            revision=ts.revision + 1,
            previous=ts,
            growth_share_pct=ts.growth_share_pct,
            created_by=by,
            last_edited_by=by,
        ),
        by,
    )
    bulk_create_with_history(
        [
            TargetLine(
                target_set=revision, metric_id=line.metric_id, value=line.value, weight=line.weight
            )
            for line in ts.lines.all()
        ],
        TargetLine,
        default_user=by,
    )
    return revision
