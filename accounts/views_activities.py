"""The RM's activities in the browser: My week (the RM's home), log and plan an activity
(a modal loaded by htmx, or a plain page), edit, mark done, delete, tick off a follow-up,
and the activity list of the team or the bank with its download. docs/activities.md.

Views read through accounts.selectors.activities (what the user sees: another's record is
a 404) and change through accounts.services.activities (whose refusals come back on the
form: 400 bad input, 403 not allowed, 409 stale). htmx requests get the fragment; plain
posts a redirect or the page.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from coaching.models import CustomerContact
from org.models import RmStyle, Role
from planning.models import ActivityStandard
from planning.selectors.common import current_plan_year
from planning.selectors.product_mix import rm_product_mix
from planning.selectors.relationship import relationship_metric_line
from salesmgmt.exports import export_format, export_response
from salesmgmt.workflow import InvalidTransition, StaleEdit

from .forms.activities import ActivityForm, ActivityListFilter, find_account, initial_for
from .models import Activity, ActivityStatus
from .selectors import activities as selectors
from .services import activities as services

BAD_INPUT, FORBIDDEN, CONFLICT = 400, 403, 409
# The event an htmx change sends: My week and the account page refresh their part.
CHANGED = "activities-changed"
CSV_HEADER = (
    "Date",
    "Status",
    "Kind",
    "RM",
    "Account number",
    "Account",
    "Contact",
    "Outcome",
    "Next step",
    "Next step due",
    "Next step done on",
    "Went along",
)
EXPORT_CHUNK = 2000


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def _changed(response: HttpResponse) -> HttpResponse:
    response["HX-Trigger"] = CHANGED
    return response


# --- My week ---------------------------------------------------------------------------------


def _standard(user, plan_year):
    if plan_year is None:
        return None
    return ActivityStandard.objects.filter(
        plan_year=plan_year, rm_style=user.rm_style or RmStyle.BOTH
    ).first()


@login_required
def my_week(request):
    """The RM's home: this week's (or `?week=`'s) activities day by day against the
    standard, the gap in words, the follow-ups due. Others see the activity list."""
    if request.user.role != Role.RM:
        return redirect("accounts:activities")
    today = timezone.localdate()
    start = selectors.parse_week(request.GET.get("week"), today)
    plan_year = current_plan_year()
    standard = _standard(request.user, plan_year)
    week = selectors.my_week(request.user, start, today=today, standard=standard)
    return render(
        request,
        "accounts/activities/my_week.html",
        {
            "week": week,
            "nav": "my_week",
            "this_week": selectors.week_start(today),
            "product_mix": rm_product_mix(request.user, plan_year=plan_year) if plan_year else None,
            "relationship": relationship_metric_line(request.user, plan_year),
        },
    )


# --- the list --------------------------------------------------------------------------------


def _csv_rows(activities):
    for a in activities.iterator(chunk_size=EXPORT_CHUNK):
        yield (
            a.date,
            a.get_status_display(),
            a.get_kind_display(),
            str(a.rm),
            a.account.number,
            a.account.name,
            a.contact.name if a.contact else "",
            a.outcome,
            a.next_step,
            a.next_step_due,
            a.next_step_done_on,
            ", ".join(str(p) for p in a.participants.all()),
        )


@login_required
def activity_list(request):
    """The activities the user sees: a leader's team's, an executive's the bank's, an
    RM's own; filtered per RM, kind, status and dates; CSV or Excel."""
    filterset = ActivityListFilter(
        request.GET or None,
        queryset=selectors.activity_rows(request.user).order_by("-date", "-pk"),
        user=request.user,
    )
    activities = filterset.qs
    if export_format(request):
        return export_response(
            request, "activities", CSV_HEADER, _csv_rows(activities), sheet_title="Activities"
        )
    page = Paginator(activities, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/activities/list.html",
        {"filterset": filterset, "page": page, "query": query.urlencode(), "nav": "activities"},
    )


# --- log, plan, edit, complete ---------------------------------------------------------------


def _form_response(request, form, *, mode, activity=None, status=200, error="", stale=None):
    context = {
        "form": form,
        "mode": mode,
        "activity": activity,
        "error": error,
        "stale": stale,
        "accounts": selectors.loggable_accounts(request.user) if "account" in form.fields else (),
        "next": _next_url(request, ""),
        "cancel": _next_url(
            request,
            reverse("accounts:activity", args=[activity.pk])
            if activity
            else reverse("accounts:my_week"),
        ),
        "in_modal": bool(request.htmx),
        "edit_days": services.edit_days(),
    }
    template = "accounts/activities/_form.html" if request.htmx else "accounts/activities/form.html"
    return render(request, template, context, status=status)


def _refused(request, form, exc, *, mode, activity=None):
    """The form again with the service's reason: 400, 403 or 409."""
    if isinstance(exc, ValidationError):
        form.add_service_error(exc)
        return _form_response(request, form, mode=mode, activity=activity, status=BAD_INPUT)
    if isinstance(exc, PermissionDenied):
        return _form_response(
            request, form, mode=mode, activity=activity, status=FORBIDDEN, error=str(exc)
        )
    return _form_response(
        request, form, mode=mode, activity=activity, status=CONFLICT, error=str(exc)
    )


def _done(request, activity: Activity, message: str):
    if request.htmx:
        return _changed(
            render(
                request,
                "accounts/activities/_saved.html",
                {"activity": activity, "message": message, "next": _next_url(request, "")},
            )
        )
    messages.success(request, message)
    return redirect(_next_url(request, reverse("accounts:my_week")))


def _new(request, mode: str):
    user = request.user
    initial = {}
    if request.method == "GET":
        account_id = request.GET.get("account")
        if account_id and account_id.isdigit():
            account = selectors.loggable_accounts(user).filter(pk=account_id).first()
            if account:
                initial["account"] = selectors.account_label(account)
        if request.GET.get("date"):
            initial["date"] = request.GET["date"]
    form = ActivityForm(
        request.POST if request.method == "POST" else None, initial=initial, user=user, mode=mode
    )
    if request.method == "GET" and form.initial.get("account"):
        form.chosen_account = find_account(form.initial["account"], form.accounts)
        form.fields["contact"].queryset = CustomerContact.objects.filter(
            account=form.chosen_account
        ).order_by("name")
    if request.method != "POST":
        return _form_response(request, form, mode=mode)
    if not form.is_valid():
        return _form_response(request, form, mode=mode, status=BAD_INPUT)
    service = services.activity_log if mode == "log" else services.activity_plan
    try:
        activity = service(user=user, **form.service_fields())
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, form, exc, mode=mode)
    verb = "Logged" if mode == "log" else "Planned"
    return _done(
        request,
        activity,
        f"{verb}: {activity.get_kind_display().lower()} with {activity.account.name} on "
        f"{activity.date:%-d %b %Y}.",
    )


@login_required
def activity_log(request):
    """Log a done activity: the form (a modal's content for htmx) or its POST."""
    return _new(request, "log")


@login_required
def activity_plan(request):
    """Plan an activity ahead."""
    return _new(request, "plan")


def _activity(request, pk) -> Activity:
    return get_object_or_404(selectors.activity_rows(request.user), pk=pk)


@login_required
def activity_detail(request, pk):
    activity = _activity(request, pk)
    today = timezone.localdate()
    history = list(activity.history.select_related("history_user").order_by("history_date"))
    changes = []
    previous = None
    for record in history:
        fields = []
        if previous is not None:
            delta = record.diff_against(
                previous,
                included_fields=[
                    "kind",
                    "status",
                    "date",
                    "account",
                    "contact",
                    "outcome",
                    "next_step",
                    "next_step_due",
                    "next_step_done_on",
                ],
            )
            fields = [c.field.replace("_", " ") for c in delta.changes]
        changes.append({"record": record, "fields": fields})
        previous = record
    return render(
        request,
        "accounts/activities/detail.html",
        {
            "activity": activity,
            "own": activity.rm_id == request.user.pk,
            "may_change": services.may_change(request.user, activity, today=today),
            "locked_since": services.locked_since(activity, today=today),
            "edit_days": services.edit_days(),
            "changes": reversed(changes),
            "today": today,
        },
    )


def _changing(request, pk, mode):
    activity = _activity(request, pk)
    # Somebody else's activity, or a locked one: the reason (403), before any form.
    services.require_own(request.user, activity)
    if mode == "edit":
        services.require_unlocked(activity, today=timezone.localdate())
    if mode == "complete" and activity.status != ActivityStatus.PLANNED:
        raise InvalidTransition("This activity is done already.")
    return activity, initial_for(activity)


@login_required
def activity_edit(request, pk):
    activity, initial = _changing(request, pk, "edit")
    form = ActivityForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        user=request.user,
        mode="edit",
        activity=activity,
    )
    if request.method != "POST":
        return _form_response(request, form, mode="edit", activity=activity)
    if not form.is_valid():
        return _form_response(request, form, mode="edit", activity=activity, status=BAD_INPUT)
    fields = form.service_fields()
    try:
        saved = services.activity_update(
            user=request.user,
            activity=activity,
            expected_version=form.cleaned_data.get("version"),
            **fields,
        )
    except StaleEdit as exc:
        return _stale(request, form, exc, mode="edit", pk=pk)
    except (ValidationError, PermissionDenied, InvalidTransition) as exc:
        return _refused(request, form, exc, mode="edit", activity=activity)
    return _done(request, saved, "Saved.")


def _stale(request, form, exc, *, mode, pk):
    """Somebody saved it since: the form keeps what the user typed, shows what is saved now
    and carries the current version, so saving again replaces theirs knowingly."""
    current = get_object_or_404(selectors.activity_rows(request.user), pk=pk)
    data = form.data.copy()
    data[form.add_prefix("version")] = current.version
    again = ActivityForm(data, user=request.user, mode=mode, activity=current)
    again.is_valid()
    return _form_response(
        request,
        again,
        mode=mode,
        activity=current,
        status=CONFLICT,
        error=str(exc),
        stale=current,
    )


@login_required
def activity_complete(request, pk):
    """Mark a planned activity done, with what happened."""
    activity, initial = _changing(request, pk, "complete")
    initial.update(outcome="", date=min(activity.date, timezone.localdate()))
    form = ActivityForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        user=request.user,
        mode="complete",
        activity=activity,
    )
    if request.method != "POST":
        return _form_response(request, form, mode="complete", activity=activity)
    if not form.is_valid():
        return _form_response(request, form, mode="complete", activity=activity, status=BAD_INPUT)
    try:
        saved = services.activity_complete(
            user=request.user,
            activity=activity,
            expected_version=form.cleaned_data.get("version"),
            **form.service_fields(),
        )
    except StaleEdit as exc:
        return _stale(request, form, exc, mode="complete", pk=pk)
    except (ValidationError, PermissionDenied, InvalidTransition) as exc:
        return _refused(request, form, exc, mode="complete", activity=activity)
    return _done(
        request, saved, f"Done: {saved.get_kind_display().lower()} with {saved.account.name}."
    )


@login_required
@require_POST
def activity_delete(request, pk):
    activity = _activity(request, pk)
    version = request.POST.get("version")
    services.activity_delete(
        user=request.user,
        activity=activity,
        expected_version=int(version) if version and version.isdigit() else None,
    )
    message = f"Deleted the {activity.get_kind_display().lower()} with {activity.account.name}."
    if request.htmx:
        return _changed(HttpResponse(status=204))
    messages.success(request, message)
    return redirect(_next_url(request, reverse("accounts:my_week")))


@login_required
@require_POST
def follow_up_done(request, pk):
    activity = _activity(request, pk)
    services.follow_up_done(user=request.user, activity=activity)
    if request.htmx:
        return _changed(HttpResponse(status=204))
    messages.success(request, f"Follow-up done: {activity.next_step}.")
    return redirect(_next_url(request, reverse("accounts:my_week")))


@login_required
def contact_options(request):
    """The contact select's options for the account typed in the log form (htmx)."""
    try:
        account = find_account(
            request.GET.get("account", ""), selectors.loggable_accounts(request.user)
        )
    except ValidationError:
        account = None
    contacts = CustomerContact.objects.filter(account=account).order_by("name") if account else []
    return render(
        request,
        "accounts/activities/_contact_options.html",
        {"contacts": contacts, "account": account},
    )
