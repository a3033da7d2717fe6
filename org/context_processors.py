"""The bell: how many unread notifications the signed-in person has."""

from django.utils.functional import cached_property

from .models import Notification


class Unread:
    """Counted once, and only when a page shows the bell (a partial htmx response that
    does not extend base.html costs nothing)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def count(self) -> int:
        return Notification.objects.filter(user=self.user, read_at__isnull=True).count()


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Unread(user)}
