"""The personal calendar feed: its page (login) and the feed (the token is the key)."""

from django.urls import path

from .views import calendar

urlpatterns = [
    path("calendar/", calendar.calendar_feed, name="calendar_feed"),
    path("calendar/reset/", calendar.calendar_feed_reset, name="calendar_feed_reset"),
    path("calendar/<str:token>.ics", calendar.calendar_ics, name="calendar_ics"),
]
