"""Territory, relationship and development plans."""

from django.urls import path

from .views import plans

urlpatterns = [
    # Territory plans
    path("plan/", plans.my_plan, name="my_plan"),
    path("plans/<int:pk>/", plans.territory_plan_detail, name="territory_plan"),
    path("plans/<int:pk>/sections/<slug:section>/", plans.plan_section, name="plan_section"),
    path("plans/<int:pk>/submit/", plans.plan_submit, name="plan_submit"),
    path("plans/<int:pk>/comments/", plans.plan_comment, name="plan_comment"),
    *[
        path(f"plans/<int:pk>/{d}/", plans.plan_decide, {"decision": d}, name=f"plan_{d}")
        for d in ("endorse", "approve", "return")
    ],
    path("team-plans/", plans.team_plans, name="team_plans"),
    # Relationship plans
    path("relationship-plans/", plans.relationship_plans, name="relationship_plans"),
    path("relationship-plans/<int:pk>/", plans.relationship_plan_detail, name="relationship_plan"),
    path(
        "relationship-plans/<int:pk>/actions/",
        plans.planned_action_add,
        name="planned_action_add",
    ),
    path("planned-actions/<int:pk>/done/", plans.planned_action_done, name="planned_action_done"),
    path(
        "accounts/<int:account_pk>/relationship-plan/",
        plans.account_relationship_plan,
        name="account_relationship_plan",
    ),
    # Development plans
    path("development-plan/", plans.my_development_plan, name="my_development_plan"),
    path("development-plans/<int:pk>/", plans.development_plan_detail, name="development_plan"),
    path(
        "development-plans/<int:pk>/goals/",
        plans.development_goal_add,
        name="development_goal_add",
    ),
    path(
        "development-plans/<int:pk>/goals/<int:goal_pk>/remove/",
        plans.development_goal_remove,
        name="development_goal_remove",
    ),
]
