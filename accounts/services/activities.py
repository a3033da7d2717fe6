"""Recording activities: log one done, plan one ahead, mark a plan done, edit or delete
one's own for a while, tick off a follow-up (docs/activities.md).

The rules, in one place for the pages, the API and the import:

- A done activity happened: it is not dated in the future. A planned one is dated today or
  later and has no outcome yet (the outcome is written when it is marked done).
- The contact met is one of the account's contacts; a next step's due date needs the next
  step and is not before the activity.
- Participants (a joint call) are the leader of the RM's team or the RM's teammates.
- Only the RM who recorded an activity changes it, and only for `ACTIVITY_EDIT_DAYS` after
  it was recorded (or took place, for a plan done later); then it is locked (403). A plan
  stays open while it is a plan: it does not count yet.
- Every change is versioned (a stale edit is a 409) and in the audit history.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account, Activity, ActivityStatus
from org.models import User
from salesmgmt import formatting
from salesmgmt.workflow import InvalidTransition, check_version, save_versioned

from . import require_own, require_works_on

STALE = "Somebody saved this activity since you opened it (another tab?)."


def edit_days() -> int:
    return int(getattr(settings, "ACTIVITY_EDIT_DAYS", 7))


def participant_choices(rm: User) -> QuerySet[User]:
    """Who may go along with `rm` on a joint call: the leader of the RM's team and the
    RM's teammates (active people, not the RM)."""
    if not rm.team_id:
        return User.objects.none()
    return (
        User.objects.filter(Q(team_id=rm.team_id) | Q(led_teams=rm.team_id), is_active=True)
        .exclude(pk=rm.pk)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


# --- the rules -------------------------------------------------------------------------------


def check_activity(activity: Activity, *, today: datetime.date, date_changed: bool = True) -> None:
    """The rules of one activity's own fields (not participants), as a ValidationError
    naming each bad field. `date_changed` False leaves the date of a plan alone (a plan
    whose day has passed may still be edited in other ways)."""
    errors: dict[str, str] = {}
    if activity.status == ActivityStatus.DONE:
        if activity.date and activity.date > today:
            errors["date"] = (
                f"A done activity cannot be in the future ({formatting.date(activity.date)}); "
                "plan it instead."
            )
    else:
        if date_changed and activity.date and activity.date < today:
            errors["date"] = "A planned activity is today or later; log what happened as done."
        if activity.outcome.strip():
            errors["outcome"] = (
                "A planned activity has no outcome yet; write it when you mark it done."
            )
    if activity.contact_id and activity.contact.account_id != activity.account_id:
        errors["contact"] = "This person is not a contact of the account."
    if activity.next_step_due and not activity.next_step.strip():
        errors["next_step"] = "Say what the next step is, or leave its due date empty."
    if activity.next_step_due and activity.date and activity.next_step_due < activity.date:
        errors["next_step_due"] = "The next step is due on or after the activity."
    if errors:
        raise ValidationError(errors)


def check_participants(rm: User, participants: Iterable[User]) -> None:
    participants = list(participants)
    if not participants:
        return
    allowed = set(participant_choices(rm).values_list("pk", flat=True))
    wrong = [p for p in participants if p.pk not in allowed]
    if wrong:
        names = ", ".join(str(p) for p in wrong)
        raise ValidationError(
            {
                "participants": f"{names}: only the leader of your team or a teammate goes "
                "along on a joint call."
            }
        )


def lock_starts(activity: Activity) -> datetime.date:
    """The day the edit window opens: the day it was recorded, or the day it took place
    if that is later (a plan marked done afterwards)."""
    recorded = timezone.localtime(activity.created_at).date()
    return max(recorded, activity.date) if activity.status == ActivityStatus.DONE else recorded


def locked_since(activity: Activity, *, today: datetime.date) -> datetime.date | None:
    """The day a done activity locked, or None while it may still be changed. A plan is
    never locked: it does not count until it is done."""
    if activity.status != ActivityStatus.DONE:
        return None
    ends = lock_starts(activity) + datetime.timedelta(days=edit_days())
    return ends if today >= ends else None


def require_unlocked(activity: Activity, *, today: datetime.date) -> None:
    locked = locked_since(activity, today=today)
    if locked is not None:
        raise PermissionDenied(
            f"This activity is locked: activities can be changed or deleted for "
            f"{edit_days()} days after they are recorded, and this one was recorded on "
            f"{formatting.date(lock_starts(activity))}. Its record is final; the audit history "
            "keeps it."
        )


def may_change(user: User, activity: Activity, *, today: datetime.date | None = None) -> bool:
    """Whether the page offers edit and delete (the service decides again)."""
    today = today or timezone.localdate()
    return activity.rm_id == user.pk and locked_since(activity, today=today) is None


# --- the changes -----------------------------------------------------------------------------


def _save_new(activity: Activity, user: User, participants, today) -> Activity:
    check_activity(activity, today=today)
    participants = list(participants or ())
    check_participants(user, participants)
    activity.full_clean()
    activity._history_user = user
    activity.save()
    if participants:
        activity.participants.set(participants)
    return activity


@transaction.atomic
def activity_log(
    *,
    user: User,
    account: Account,
    kind: str,
    date: datetime.date | None = None,
    contact=None,
    outcome: str = "",
    next_step: str = "",
    next_step_due: datetime.date | None = None,
    participants: Iterable[User] = (),
    today: datetime.date | None = None,
) -> Activity:
    """A call, visit, meeting or review that happened (today unless dated earlier)."""
    require_works_on(user, account)
    today = today or timezone.localdate()
    activity = Activity(
        account=account,
        rm=user,
        kind=kind,
        status=ActivityStatus.DONE,
        date=date or today,
        contact=contact,
        outcome=outcome,
        next_step=next_step,
        next_step_due=next_step_due,
    )
    return _save_new(activity, user, participants, today)


@transaction.atomic
def activity_plan(
    *,
    user: User,
    account: Account,
    kind: str,
    date: datetime.date,
    contact=None,
    next_step: str = "",
    next_step_due: datetime.date | None = None,
    participants: Iterable[User] = (),
    today: datetime.date | None = None,
) -> Activity:
    """A call or visit in the diary: dated today or later, no outcome yet."""
    require_works_on(user, account)
    today = today or timezone.localdate()
    activity = Activity(
        account=account,
        rm=user,
        kind=kind,
        status=ActivityStatus.PLANNED,
        date=date,
        contact=contact,
        next_step=next_step,
        next_step_due=next_step_due,
    )
    return _save_new(activity, user, participants, today)


def activity_create(
    *, user: User, account: Account, status: str = ActivityStatus.DONE, **fields
) -> Activity:
    """Log a done activity or plan one, by `status` (the API's create)."""
    if status == ActivityStatus.PLANNED:
        if fields.get("outcome", "").strip():
            raise ValidationError(
                {"outcome": "A planned activity has no outcome yet; write it when it is done."}
            )
        fields.pop("outcome", None)
        return activity_plan(user=user, account=account, **fields)
    return activity_log(user=user, account=account, **fields)


def _locked_row(activity: Activity, user: User) -> Activity:
    row = (
        Activity.objects.select_for_update(of=("self",))
        .select_related("contact", "rm")
        .get(pk=activity.pk)
    )
    require_own(user, row)
    return row


@transaction.atomic
def activity_update(
    *,
    user: User,
    activity: Activity,
    expected_version: int | None = None,
    today: datetime.date | None = None,
    participants: Iterable[User] | None = None,
    **changes,
) -> Activity:
    """Change one's own activity while it is not locked: kind, date, account (one they
    work on), contact, outcome, next step, status (planned → done is `activity_complete`;
    done → planned is refused), participants."""
    today = today or timezone.localdate()
    row = _locked_row(activity, user)
    require_unlocked(row, today=today)
    if changes.get("status") == ActivityStatus.PLANNED and row.status == ActivityStatus.DONE:
        raise InvalidTransition("A done activity cannot become a plan again.")
    if "account" in changes and changes["account"].pk != row.account_id:
        require_works_on(user, changes["account"])
    date_changed = "date" in changes and changes["date"] != row.date
    became_done = row.status != ActivityStatus.DONE and changes.get("status") == ActivityStatus.DONE
    for name, value in changes.items():
        setattr(row, name, value)
    check_activity(row, today=today, date_changed=date_changed or became_done)
    if participants is not None:
        participants = list(participants)
        check_participants(user, participants)
    row.full_clean()
    row._history_user = user
    save_versioned(row, expected_version, STALE)
    if participants is not None:
        row.participants.set(participants)
    return row


@transaction.atomic
def activity_complete(
    *,
    user: User,
    activity: Activity,
    outcome: str,
    date: datetime.date | None = None,
    expected_version: int | None = None,
    today: datetime.date | None = None,
    **changes,
) -> Activity:
    """Mark a planned activity done with what happened: dated the day it took place
    (today unless given), never in the future."""
    today = today or timezone.localdate()
    row = _locked_row(activity, user)
    if row.status != ActivityStatus.PLANNED:
        raise InvalidTransition("This activity is done already.")
    row.status, row.outcome = ActivityStatus.DONE, outcome
    row.date = date or min(row.date, today)
    for name, value in changes.items():
        setattr(row, name, value)
    check_activity(row, today=today)
    row.full_clean()
    row._history_user = user
    save_versioned(row, expected_version, STALE)
    return row


@transaction.atomic
def activity_delete(
    *,
    user: User,
    activity: Activity,
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> None:
    """Delete one's own activity while it is not locked (a plan: any time). The audit
    history keeps what it was."""
    today = today or timezone.localdate()
    row = _locked_row(activity, user)
    require_unlocked(row, today=today)
    check_version(row, expected_version, STALE)
    row._history_user = user
    row.delete()


@transaction.atomic
def follow_up_done(*, user: User, activity: Activity, on: datetime.date | None = None) -> Activity:
    """Tick off the activity's next step. Not bound by the edit lock: a follow-up is done
    when it is done, however long after the activity."""
    row = _locked_row(activity, user)
    if not row.next_step_due:
        raise InvalidTransition("This activity has no follow-up with a due date.")
    if row.next_step_done_on:
        return row
    row._history_user = user
    save_versioned(row, None, STALE, next_step_done_on=on or timezone.localdate())
    return row
