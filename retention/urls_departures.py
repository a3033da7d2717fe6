from django.urls import path

from .views import departures as views

urlpatterns = [
    path("departures/", views.departures, name="departures"),
    path("departures/new/", views.departure_open, name="departure_open"),
    path("departures/<int:pk>/", views.departure, name="departure"),
    path("departures/<int:pk>/coverage/", views.departure_coverage, name="departure_coverage"),
    path(
        "departures/<int:pk>/replacement/",
        views.departure_replacement,
        name="departure_replacement",
    ),
    path("departures/<int:pk>/handover/", views.handover, name="handover"),
    path(
        "departures/<int:pk>/handover/<int:account_pk>/reviewed/",
        views.handover_review,
        name="handover_review",
    ),
    path("early-warnings/", views.early_warnings, name="early_warnings"),
]
