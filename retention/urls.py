from django.urls import include, path

app_name = "retention"

urlpatterns = [
    path("", include("retention.urls_risk")),
    path("", include("retention.urls_departures")),
    path("", include("retention.urls_campaigns")),
]
