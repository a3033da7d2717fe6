"""Recording the work done on accounts: activities (services/activities.py) and the
pipeline (services/pipeline.py). The rules both share stand here.

An RM records work on the accounts they own or cover, in their own name; only the RM who
recorded an activity or opportunity changes it. Whoever merely sees the account (the
leader, the whole bank) reads it: a 403 (PermissionDenied) when they try to change it.
The caller looks the records up through the access layer, so what the user may not see
never reaches these functions (404 before).
"""

from django.core.exceptions import PermissionDenied

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


# The activity services, where callers have always found them (accounts.services).
from .activities import (  # noqa: E402, F401
    activity_complete,
    activity_create,
    activity_delete,
    activity_log,
    activity_plan,
    activity_update,
    follow_up_done,
)

# The pipeline's services, where callers have always found them (accounts.services).
from .pipeline import (  # noqa: E402, F401
    opportunity_create,
    opportunity_lose,
    opportunity_move,
    opportunity_update,
    opportunity_win,
)
