"""Operations (namespace org): job status for administrators, notifications for everyone."""

from django.urls import path

from . import views_ops

urlpatterns = [
    path("ops/jobs/", views_ops.job_status, name="jobs"),
    path("ops/jobs/<slug:name>/run/", views_ops.job_run_now, name="job_run_now"),
    path("notifications/", views_ops.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views_ops.notification_read, name="notification_read"),
    path(
        "notifications/read-all/", views_ops.notifications_read_all, name="notifications_read_all"
    ),
]
