from django.urls import include, path

from . import views

app_name = "org"

urlpatterns = [
    path("team/", views.my_team, name="my_team"),
    path("teams/<int:pk>/", views.team_overview, name="team"),
    path("bank/", views.bank_overview, name="bank"),
    # Operations: job runs, notifications.
    path("", include("org.urls_ops")),
]
