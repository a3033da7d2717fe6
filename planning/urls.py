from django.urls import include, path

from .views import signoff

app_name = "planning"

urlpatterns = [
    path("", include("planning.urls_targets")),
    path("", include("planning.urls_plans")),
    path("", include("planning.urls_forecasts")),
    path("signoff/", signoff.dashboard, name="signoff"),
    path("signoff/decide/", signoff.decide, name="signoff_decide"),
]
