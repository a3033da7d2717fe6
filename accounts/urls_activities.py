"""Pages of the RM's activities: included by accounts/urls.py."""

from django.urls import path

from . import views_activities as views
from . import views_imports

urlpatterns = [
    path("week/", views.my_week, name="my_week"),
    path("activities/", views.activity_list, name="activities"),
    path("activities/log/", views.activity_log, name="activity_log"),
    path("activities/plan/", views.activity_plan, name="activity_plan"),
    path("activities/contacts/", views.contact_options, name="activity_contacts"),
    path("activities/<int:pk>/", views.activity_detail, name="activity"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/done/", views.activity_complete, name="activity_complete"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    path(
        "activities/<int:pk>/follow-up-done/", views.follow_up_done, name="activity_follow_up_done"
    ),
    path("imports/activities/", views_imports.activities_import, name="import_activities"),
]
