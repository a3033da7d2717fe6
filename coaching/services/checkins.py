"""Check-ins: creating them from a team's cadence, holding them, completing them.

Only the leader of the RM's team runs a check-in (writes its notes, records commitments,
completes or cancels it); the RM acknowledges a completed one. Completing freezes the
figures shown into `CheckIn.snapshot`; a completed check-in never changes again, except
for the RM's acknowledgement. Open commitments carry into the next check-in until ticked.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.selectors import add_months, month_start
from org.access import visible_checkins, visible_commitments
from org.models import Role, Team, User
from salesmgmt.workflow import Incomplete, InvalidTransition, save_versioned

from ..models import Cadence, CheckIn, Commitment, LineRating

Kind = CheckIn.Kind
Status = CheckIn.Status

# A check-in still open this long after its time was not held: it is marked missed.
MISSED_AFTER = datetime.timedelta(days=7)


# --- creating check-ins from the cadence ------------------------------------------------------


def cadence_of(team: Team) -> Cadence:
    """The team's cadence, with the bank's defaults the first time it is asked for."""
    cadence, _ = Cadence.objects.get_or_create(team=team)
    return cadence


@dataclass(frozen=True)
class Occurrence:
    kind: str
    period_start: datetime.date
    period_end: datetime.date
    when: datetime.datetime


def _at(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time))


def _review_of(closed_month: datetime.date, cadence: Cadence) -> tuple[str, datetime.date] | None:
    """The review held after `closed_month` ends: its kind and its period's first day.

    The larger conversation covers the smaller: after June and December the semi-annual
    review, after March and September the quarterly one, otherwise the monthly one. A kind
    the team does not hold falls back to the next smaller one.
    """
    m = closed_month.month
    if m in (6, 12) and cadence.semi_annual:
        return Kind.SEMI_ANNUAL, add_months(closed_month, -5)
    if m % 3 == 0 and cadence.quarterly:
        return Kind.QUARTERLY, add_months(closed_month, -2)
    if cadence.monthly:
        return Kind.MONTHLY, closed_month
    return None


def _weekday_on_or_after(day: datetime.date) -> datetime.date:
    """A review falling on a Saturday or Sunday is held the Monday after."""
    if day.weekday() >= 5:
        return day + datetime.timedelta(days=7 - day.weekday())
    return day


def occurrences(cadence: Cadence, start: datetime.date, end: datetime.date) -> list[Occurrence]:
    """Every check-in the cadence holds on days start..end (both included)."""
    result = []
    if cadence.weekly:
        monday = start - datetime.timedelta(days=start.weekday())
        while monday <= end:
            day = monday + datetime.timedelta(days=cadence.weekly_day)
            if start <= day <= end:
                result.append(
                    Occurrence(
                        Kind.WEEKLY,
                        monday,
                        monday + datetime.timedelta(days=6),
                        _at(day, cadence.weekly_time),
                    )
                )
            monday += datetime.timedelta(days=7)
    month = month_start(start)
    while month <= end:
        day = _weekday_on_or_after(month.replace(day=cadence.monthly_day))
        review = _review_of(add_months(month, -1), cadence)
        if start <= day <= end and review:
            kind, period_start = review
            period_end = month - datetime.timedelta(days=1)
            result.append(
                Occurrence(kind, period_start, period_end, _at(day, cadence.monthly_time))
            )
        month = add_months(month, 1)
    return sorted(result, key=lambda o: o.when)


def _members(team: Team, today: datetime.date):
    return (
        team.members.filter(role=Role.RM, is_active=True)
        .exclude(departed_on__lt=today)
        .order_by("pk")
    )


@transaction.atomic
def checkins_create_coming(*, team: Team, today: datetime.date | None = None) -> int:
    """Create the team's check-ins from today to the cadence's horizon; return how many
    were new. Running it again creates nothing twice: the unique key (RM, kind, period
    start) decides, also when two runs overlap."""
    if team.leader_id is None:
        return 0
    today = today or timezone.localdate()
    cadence = cadence_of(team)
    coming = occurrences(cadence, today, today + datetime.timedelta(days=cadence.horizon_days))
    rms = list(_members(team, today).exclude(pk=team.leader_id))
    wanted = [
        CheckIn(
            rm=rm,
            leader_id=team.leader_id,
            kind=o.kind,
            period_start=o.period_start,
            period_end=o.period_end,
            scheduled_at=o.when,
        )
        for rm in rms
        for o in coming
        # an RM leaving is not met after their last day
        if rm.departed_on is None or o.when.date() <= rm.departed_on
    ]
    if not wanted:
        return 0
    before = CheckIn.objects.filter(rm__in=rms).count()
    CheckIn.objects.bulk_create(wanted, ignore_conflicts=True, batch_size=500)
    return CheckIn.objects.filter(rm__in=rms).count() - before


def checkins_create_all(*, today: datetime.date | None = None) -> int:
    """Every team's coming check-ins (the daily job and `manage.py create_checkins`)."""
    return sum(
        checkins_create_coming(team=team, today=today)
        for team in Team.objects.filter(leader__isnull=False).order_by("pk")
    )


@transaction.atomic
def checkins_mark_missed(*, now: datetime.datetime | None = None) -> int:
    """Check-ins still not held a week after their time are missed; return how many."""
    now = now or timezone.now()
    return CheckIn.objects.filter(
        status__in=CheckIn.OPEN, scheduled_at__lt=now - MISSED_AFTER
    ).update(status=Status.MISSED)


def may_create_for(user: User, team: Team) -> bool:
    return user.is_superuser or user.role == Role.ADMIN or team.leader_id == user.pk


def checkins_create_for_team(*, team_id: int, by: User, today: datetime.date | None = None) -> int:
    """The leader's "create the coming check-ins" button."""
    team = Team.objects.get(pk=team_id)
    if not may_create_for(by, team):
        raise PermissionDenied("Only the team's leader creates its check-ins.")
    return checkins_create_coming(team=team, today=today)


# --- holding a check-in ---------------------------------------------------------------------


def is_leader_of(user: User, checkin: CheckIn) -> bool:
    """The leader who runs `checkin`: the leader of the RM's team (expects rm.team loaded)."""
    return user.leads(checkin.rm)


def checkin_actions(checkin: CheckIn, user: User) -> frozenset[str]:
    """What `user` may do to `checkin` now, for pages to show the right buttons; the
    services decide again. Expects checkin.rm.team loaded."""
    actions = set()
    if is_leader_of(user, checkin) and checkin.is_open:
        actions |= {"edit", "commit", "complete", "cancel"}
    if checkin.is_completed and user.pk == checkin.rm_id and checkin.acknowledged_at is None:
        actions.add("acknowledge")
    return frozenset(actions)


def _locked(checkin_id: int, user: User) -> CheckIn:
    checkin = (
        visible_checkins(user)
        .select_for_update(of=("self",))
        .select_related("rm__team")
        .get(pk=checkin_id)
    )
    checkin._history_user = user
    return checkin


def _require_leader(checkin: CheckIn, user: User, verb: str) -> None:
    if not is_leader_of(user, checkin):
        raise PermissionDenied(f"Only the leader of {checkin.rm}'s team can {verb} this check-in.")


def _require_open(checkin: CheckIn) -> None:
    if not checkin.is_open:
        raise InvalidTransition(
            f"This check-in is {checkin.get_status_display().lower()}: it can no longer change."
        )


STALE = (
    "This check-in changed after you opened it (saved in another window or tab). Your "
    "notes were not saved; here is what it looks like now."
)


@transaction.atomic
def checkin_save_notes(
    *,
    checkin_id: int,
    by: User,
    notes: dict[str, str],
    ratings: dict[str, int | None] | None = None,
    line_ratings: dict[int, tuple[int, str]] | None = None,
    expected_version: int | None = None,
) -> CheckIn:
    """Save the conversation's notes (only the fields of its kind); the first save starts
    it. `ratings` (semi-annual): rb_rating and overall_rating; `line_ratings`: metric id →
    (rating 1-5, comment)."""
    checkin = _locked(checkin_id, by)
    _require_leader(checkin, by, "write")
    _require_open(checkin)
    unknown = set(notes) - set(checkin.note_fields)
    if unknown:
        raise ValidationError(f"A {checkin.get_kind_display()} check-in has no {sorted(unknown)}.")
    changes = {name: value.strip() for name, value in notes.items()}
    if ratings or line_ratings:
        if checkin.kind != Kind.SEMI_ANNUAL:
            raise ValidationError("Only the semi-annual review is rated.")
        for name in ratings or {}:
            if name not in ("rb_rating", "overall_rating"):
                raise ValidationError(f"Unknown rating {name}.")
        changes.update(ratings or {})
    if checkin.status == Status.SCHEDULED:
        changes.update(status=Status.IN_PROGRESS, started_at=timezone.now())
    save_versioned(checkin, expected_version, STALE, **changes)
    for metric_id, (rating, comment) in (line_ratings or {}).items():
        if rating is None:
            LineRating.objects.filter(checkin=checkin, metric_id=metric_id).delete()
            continue
        if rating not in CheckIn.Rating.values:
            raise ValidationError(f"A rating is 1 to 5, not {rating}.")
        LineRating.objects.update_or_create(
            checkin=checkin, metric_id=metric_id, defaults={"rating": rating, "comment": comment}
        )
    return checkin


@transaction.atomic
def commitment_add(
    *, checkin_id: int, by: User, owner: User, text: str, due_on: datetime.date
) -> Commitment:
    checkin = _locked(checkin_id, by)
    _require_leader(checkin, by, "record commitments in")
    _require_open(checkin)
    errors = {}
    if owner.pk not in (checkin.rm_id, by.pk):
        errors["owner"] = "A commitment is the RM's or the leader's."
    if not text.strip():
        errors["text"] = "Say what will be done."
    if due_on < checkin.scheduled_at.date() - datetime.timedelta(days=1):
        errors["due_on"] = "The due date is before the check-in."
    if errors:
        raise ValidationError(errors)
    if checkin.status == Status.SCHEDULED:
        # Starting the conversation is not an edit of its notes: the version stays, so a
        # notes form opened before the first commitment still saves.
        checkin.status, checkin.started_at = Status.IN_PROGRESS, timezone.now()
        checkin.save(update_fields=["status", "started_at"])
    return Commitment.objects.create(
        checkin=checkin,
        rm_id=checkin.rm_id,
        owner=owner,
        text=text.strip(),
        due_on=due_on,
        created_by=by,
    )


@transaction.atomic
def commitment_set_done(*, commitment_id: int, by: User, done: bool) -> Commitment:
    """Tick a commitment off (or back on): the RM whose it is, or their leader."""
    commitment = (
        visible_commitments(by)
        .select_for_update(of=("self",))
        .select_related("rm__team")
        .get(pk=commitment_id)
    )
    team = commitment.rm.team
    if by.pk != commitment.rm_id and not (team and team.leader_id == by.pk):
        raise PermissionDenied("Only the RM and their leader tick commitments off.")
    if commitment.done != done:
        commitment._history_user = by
        commitment.done = done
        commitment.done_at = timezone.now() if done else None
        commitment.done_by = by if done else None
        commitment.save(update_fields=["done", "done_at", "done_by"])
    return commitment


@transaction.atomic
def checkin_complete(
    *,
    checkin_id: int,
    by: User,
    expected_version: int | None = None,
    notes: dict[str, str] | None = None,
    ratings: dict[str, int | None] | None = None,
    line_ratings: dict[int, tuple[int, str]] | None = None,
) -> CheckIn:
    """Complete the check-in and freeze the figures shown into its snapshot.

    With `notes` (and the review's ratings) the notes form's content is saved first, in the
    same transaction: what the leader typed is never lost by completing, and a refusal
    (e.g. a review without its overall rating) saves nothing."""
    from ..selectors.checkins import checkin_figures

    if notes is not None or ratings or line_ratings:
        checkin_save_notes(
            checkin_id=checkin_id,
            by=by,
            notes=notes or {},
            ratings=ratings,
            line_ratings=line_ratings,
            expected_version=expected_version,
        )
        expected_version = None  # checked by the save, under the same row lock
    checkin = _locked(checkin_id, by)
    _require_leader(checkin, by, "complete")
    _require_open(checkin)
    if checkin.kind == Kind.SEMI_ANNUAL:
        missing = {}
        if checkin.overall_rating is None:
            missing["overall_rating"] = "The review needs an overall rating."
        if checkin.rb_rating is None:
            missing["rb_rating"] = "The review needs an RB competency rating."
        if missing:
            raise Incomplete(missing)
    now = timezone.now()
    save_versioned(
        checkin,
        expected_version,
        STALE,
        status=Status.COMPLETED,
        started_at=checkin.started_at or now,
        completed_at=now,
        completed_by=by,
        snapshot=checkin_figures(checkin, viewer=by, now=now),
    )
    return checkin


@transaction.atomic
def checkin_acknowledge(*, checkin_id: int, by: User, comment: str = "") -> CheckIn:
    """The RM confirms they have read the completed check-in, with a comment if they wish."""
    checkin = _locked(checkin_id, by)
    if by.pk != checkin.rm_id:
        raise PermissionDenied("Only the RM acknowledges their check-in.")
    if not checkin.is_completed:
        raise InvalidTransition("Only a completed check-in can be acknowledged.")
    if checkin.acknowledged_at is not None:
        raise InvalidTransition("You acknowledged this check-in already.")
    save_versioned(checkin, None, STALE, acknowledged_at=timezone.now(), rm_comment=comment.strip())
    return checkin


@transaction.atomic
def checkin_cancel(*, checkin_id: int, by: User, reason: str) -> CheckIn:
    checkin = _locked(checkin_id, by)
    _require_leader(checkin, by, "cancel")
    _require_open(checkin)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the check-in is cancelled."})
    save_versioned(checkin, None, STALE, status=Status.CANCELLED, cancel_reason=reason.strip())
    return checkin
