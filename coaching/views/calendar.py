"""The personal calendar feed: the page showing its secret link (copy, reset) and the
feed itself, which a calendar fetches without a login: the token in the address is the key."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ..selectors import calendar as selectors
from ..services import calendar as services


def _feed_url(request, feed) -> str | None:
    if feed is None:
        return None
    return request.build_absolute_uri(reverse("coaching:calendar_ics", args=[feed.token]))


@login_required
def calendar_feed(request):
    """The user's feed link with copy and reset, or a button to create it."""
    feed = selectors.feed_of(request.user)
    return render(
        request,
        "coaching/calendar/feed.html",
        {"feed": feed, "feed_url": _feed_url(request, feed), "nav": "calendar_feed"},
    )


@login_required
@require_POST
def calendar_feed_reset(request):
    """Create the link, or replace it: the old one answers 404 from now on."""
    had_one = selectors.feed_of(request.user) is not None
    services.calendar_feed_reset(user=request.user)
    messages.success(
        request,
        "Your calendar link is new: calendars subscribed to the old one no longer receive "
        "updates. Subscribe again with the link below."
        if had_one
        else "Your calendar link is ready. Subscribe to it in Outlook or any calendar.",
    )
    return redirect("coaching:calendar_feed")


@never_cache
@require_GET
def calendar_ics(request, token: str):
    """The feed: no login, no session; an unknown or reset token is 404."""
    feed = selectors.feed_by_token(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    body = selectors.feed_calendar(feed.user, url_for=request.build_absolute_uri)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="flightpath.ics"'
    # The address is a secret: keep it out of referrers and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
