"""Forecasts: the RM's submission, the team's forecast and the accuracy history."""

from django.urls import path

from .views import forecasts

urlpatterns = [
    path("forecast/", forecasts.forecast, name="forecast"),
    path("forecast/<str:key>/submit/", forecasts.forecast_submit, name="forecast_submit"),
    path("forecast/team/", forecasts.team_forecast, name="team_forecast"),
    path("forecast/team/<int:pk>/", forecasts.team_forecast, name="team_forecast_team"),
    path(
        "forecast/team/<int:pk>/submit/",
        forecasts.team_forecast_submit,
        name="team_forecast_submit",
    ),
    path(
        "forecast/submissions/<int:pk>/adjust/", forecasts.forecast_adjust, name="forecast_adjust"
    ),
    path("forecast/accuracy/", forecasts.accuracy, name="forecast_accuracy"),
    path(
        "forecast/accuracy/rm/<int:pk>/",
        forecasts.accuracy,
        {"scope": "rm"},
        name="forecast_accuracy_rm",
    ),
    path(
        "forecast/accuracy/team/<int:pk>/",
        forecasts.accuracy,
        {"scope": "team"},
        name="forecast_accuracy_team",
    ),
    path(
        "forecast/accuracy/bank/",
        forecasts.accuracy,
        {"scope": "bank"},
        name="forecast_accuracy_bank",
    ),
]
