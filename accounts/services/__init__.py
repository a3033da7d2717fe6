"""Recording the work done on accounts: activities (services/activities.py) and the
pipeline (services/pipeline.py). The rules both share stand here.

An RM records work on the accounts they own or cover, in their own name; only the RM who
recorded an activity or opportunity changes it. Whoever merely sees the account (the
leader, the whole bank) reads it: a 403 (PermissionDenied) when they try to change it.
The caller looks the records up through the access layer, so what the user may not see
never reaches these functions (404 before).
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import Account, Activity, Opportunity
from org.models import User


def works_on(user: User, account: Account) -> bool:
    """The user owns or covers the account: they may record work on it."""
    return user.pk in (account.owner_id, account.covering_rm_id)


def require_works_on(user: User, account: Account) -> None:
    if not works_on(user, account):
        raise PermissionDenied("You record work only on accounts you own or cover.")


def require_own(user: User, record: Activity | Opportunity) -> None:
    """Only the RM who recorded it changes an activity or an opportunity."""
    if record.rm_id != user.pk:
        raise PermissionDenied("Only the RM who recorded this may change it.")


@transaction.atomic
def activity_create(
    *, user: User, account: Account, kind: str, date: datetime.date, outcome: str = ""
) -> Activity:
    require_works_on(user, account)
    activity = Activity(account=account, rm=user, kind=kind, date=date, outcome=outcome)
    activity.full_clean()
    activity.save()
    return activity


@transaction.atomic
def activity_update(*, user: User, activity: Activity, **changes) -> Activity:
    """Change one's own activity: kind, date, outcome, or the account (one they work on)."""
    activity = Activity.objects.select_for_update(of=("self",)).get(pk=activity.pk)
    require_own(user, activity)
    if "account" in changes and changes["account"].pk != activity.account_id:
        require_works_on(user, changes["account"])
    for name, value in changes.items():
        setattr(activity, name, value)
    activity.full_clean()
    activity.save()
    return activity


# The pipeline's services, where callers have always found them (accounts.services).
from .pipeline import (  # noqa: E402, F401
    opportunity_create,
    opportunity_lose,
    opportunity_move,
    opportunity_update,
    opportunity_win,
)
