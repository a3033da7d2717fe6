"""Check-ins: the leader's check-in screen, This week, My check-ins and their actions."""

from django.urls import path

from .views import checkins

urlpatterns = [
    path("checkins/this-week/", checkins.this_week, name="this_week"),
    path("checkins/this-week/create/", checkins.checkins_create, name="checkins_create"),
    path("checkins/mine/", checkins.my_checkins, name="my_checkins"),
    path("checkins/<int:pk>/", checkins.checkin_detail, name="checkin"),
    path("checkins/<int:pk>/notes/", checkins.checkin_notes, name="checkin_notes"),
    path("checkins/<int:pk>/complete/", checkins.checkin_complete, name="checkin_complete"),
    path("checkins/<int:pk>/cancel/", checkins.checkin_cancel, name="checkin_cancel"),
    path(
        "checkins/<int:pk>/acknowledge/",
        checkins.checkin_acknowledge,
        name="checkin_acknowledge",
    ),
    path("checkins/<int:pk>/commitments/", checkins.commitment_add, name="commitment_add"),
    path("commitments/<int:pk>/done/", checkins.commitment_tick, name="commitment_tick"),
]
