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
from django.utils import timezone

from accounts.models import Account, Activity, Opportunity, OpportunityStatus
from org.models import User
from salesmgmt.workflow import InvalidTransition


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


@transaction.atomic
def opportunity_create(
    *, user: User, account: Account, today: datetime.date | None = None, **fields
) -> Opportunity:
    """A new opportunity in the RM's pipeline, open unless it is recorded already closed
    (then it closes today)."""
    require_works_on(user, account)
    today = today or timezone.localdate()
    opportunity = Opportunity(account=account, rm=user, created_on=today, **fields)
    if opportunity.status != OpportunityStatus.OPEN:
        opportunity.closed_on = today
    opportunity.full_clean()
    opportunity.save()
    return opportunity


@transaction.atomic
def opportunity_update(
    *, user: User, opportunity: Opportunity, today: datetime.date | None = None, **changes
) -> Opportunity:
    """Change one's own open opportunity. Won or lost closes it today; a closed opportunity
    is final (409): it is history the pipeline and the check-ins report on."""
    opportunity = Opportunity.objects.select_for_update(of=("self",)).get(pk=opportunity.pk)
    require_own(user, opportunity)
    if opportunity.status != OpportunityStatus.OPEN:
        raise InvalidTransition("This opportunity is closed; it cannot be changed.")
    if "account" in changes and changes["account"].pk != opportunity.account_id:
        require_works_on(user, changes["account"])
    for name, value in changes.items():
        setattr(opportunity, name, value)
    if opportunity.status != OpportunityStatus.OPEN:
        opportunity.closed_on = today or timezone.localdate()
    opportunity.full_clean()
    opportunity.save()
    return opportunity
