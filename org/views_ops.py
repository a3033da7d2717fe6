"""Operations: the job status page (administrators) and everyone's notifications (the bell)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import jobs
from .access import require_role
from .models import Notification, Role

log = logging.getLogger(__name__)


@login_required
def job_status(request):
    require_role(request.user, Role.ADMIN)
    statuses = jobs.job_statuses()
    return render(
        request,
        "org/jobs.html",
        {
            "statuses": statuses,
            "failing": [s for s in statuses if s.failing],
            "runs": jobs.recent_runs(),
            "eager": settings.CELERY_TASK_ALWAYS_EAGER,
            "time_zone": settings.TIME_ZONE,
            "nav": "jobs",
        },
    )


@login_required
@require_POST
def job_run_now(request, name):
    require_role(request.user, Role.ADMIN)
    if name not in jobs.JOBS:
        raise Http404("No such job.")
    title = jobs.JOBS[name].title
    try:
        # Queued once this request's transaction commits; without a broker it runs now.
        jobs.queue_job(name, triggered_by=request.user.username)
    except Exception as exc:  # only reachable in-process: the run is recorded with its error
        log.exception("job %s started by %s failed", name, request.user.username)
        messages.error(request, f"{title} failed: {exc}. The run below has the details.")
    else:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            messages.success(request, f"{title} ran in-process (no broker is configured).")
        else:
            messages.success(request, f"{title} is queued; its run appears here once it starts.")
    return redirect("org:jobs")


# --- notifications -------------------------------------------------------------------------


def _mine(request):
    return Notification.objects.filter(user=request.user)


@login_required
def notifications(request):
    page = Paginator(_mine(request).order_by("-created_at", "-pk"), settings.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "org/notifications.html",
        {"page": page, "notifications": page.object_list, "nav": "notifications"},
    )


@login_required
@require_POST
def notification_read(request, pk):
    """Mark one of mine read; with open=1, go on to what it is about."""
    note = get_object_or_404(_mine(request), pk=pk)
    _mine(request).filter(pk=note.pk, read_at__isnull=True).update(read_at=timezone.now())
    if request.POST.get("open") and url_has_allowed_host_and_scheme(
        note.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(note.url)
    return redirect("org:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    marked = _mine(request).filter(read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"{marked} notification(s) marked read.")
    return redirect("org:notifications")
