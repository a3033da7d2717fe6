"""The personal calendar feed's secret: created on request, reset when the link has gone
where it should not (the old link then answers 404). docs/account-page.md, "Calendar feed"."""

from __future__ import annotations

import secrets

from django.db import transaction

from org.models import CalendarFeed, User

# 32 random bytes, URL-safe: 43 characters, well inside CalendarFeed.token's 64.
TOKEN_BYTES = 32


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@transaction.atomic
def calendar_feed_reset(*, user: User) -> CalendarFeed:
    """Give `user` a new feed token (their first one, or a replacement: every calendar
    subscribed to the old link stops receiving). Locks the user's feed row so two resets at
    once leave one token, not an error."""
    feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
    if feed is None:
        # Two first requests at once: the second waits on the user's row, then finds the
        # feed the first created.
        User.objects.select_for_update().filter(pk=user.pk).first()
        feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
    if feed is None:
        feed = CalendarFeed(user=user)
    feed.token = _new_token()
    feed.full_clean(validate_unique=False)
    feed.save()
    return feed
