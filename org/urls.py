from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("team/", views.my_team, name="my_team"),
    path("teams/<int:pk>/", views.team_overview, name="team"),
    path("bank/", views.bank_overview, name="bank"),
]
