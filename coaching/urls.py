from django.urls import include, path

app_name = "coaching"

urlpatterns = [
    path("", include("coaching.urls_checkins")),
    path("", include("coaching.urls_report_card")),
    path("", include("coaching.urls_ratings")),
    path("", include("coaching.urls_calendar")),
]
