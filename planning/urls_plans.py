"""Territory, relationship and development plans."""

from django.urls import path

from .views import plans

urlpatterns = [
    path("plan/", plans.my_plan, name="my_plan"),
    path("plans/<int:pk>/", plans.territory_plan_detail, name="territory_plan"),
    path("team-plans/", plans.team_plans, name="team_plans"),
    path("relationship-plans/<int:pk>/", plans.relationship_plan_detail, name="relationship_plan"),
    path("development-plans/<int:pk>/", plans.development_plan_detail, name="development_plan"),
]
