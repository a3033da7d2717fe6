"""Campaign pages: the list, a campaign's figures and its prequalified list, and for
executives and administrators the set-up, the list built from a filter and the import.

Thin: the figures are retention.selectors.campaigns', the changes
retention.services.campaigns'. Everyone sees the campaigns; each sees only their own share
of the list (an RM their accounts, a leader their team's). A campaign that does not exist
is a 404; setting one up without the role is a 403.
"""

from __future__ import annotations

import base64
import csv
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from org.access import require_role
from salesmgmt.exports import export_format, export_response
from salesmgmt.workflow import InvalidTransition

from ..forms.campaigns import BuildFromFilterForm, CampaignForm, ImportListForm
from ..selectors import campaigns as selectors
from ..services import campaigns as services

# The page lists this many bad rows of a refused import; the download has all of them.
SHOWN_ERRORS = 200


def _campaign(request, pk):
    return get_object_or_404(selectors.visible_campaigns(request.user), pk=pk)


CAMPAIGNS_HEADER = (
    "State",
    "Campaign",
    "Starts on",
    "Ends on",
    "Goal",
    "Target",
    "Listed accounts",
)
ENTRIES_HEADER = (
    "Number",
    "Account",
    "Status",
    "Owner",
    "Tier",
    "Contacted",
    "Converted",
    "Why it is on the list",
    "Source",
    "Added on",
)
EXPORT_CHUNK = 2000


def _goal(c) -> str:
    if c.goal == c.Goal.PRODUCT_FAMILY:
        return f"Product family: {c.product_family}"
    return c.get_goal_display()


def _campaign_rows(by_state):
    """The campaigns as the page lists them: running, upcoming, finished; the listed
    accounts counted as the viewer sees them (their own, their team's, the bank's)."""
    for state in ("running", "upcoming", "finished"):
        for c in by_state[state]:
            yield (
                state.capitalize(),
                c.name,
                c.starts_on,
                c.ends_on,
                _goal(c),
                c.target_value,
                c.listed,
            )


def _entry_rows(entries):
    """The viewer's share of the prequalified list, filtered as shown (`show`)."""
    for e in entries.iterator(chunk_size=EXPORT_CHUNK):
        a = e.account
        yield (
            a.number,
            a.name,
            a.get_status_display(),
            str(a.owner),
            a.tier.code,
            e.contacted,
            e.converted,
            e.reason,
            e.get_source_display(),
            timezone.localtime(e.added_at).date(),
        )


@login_required
def campaigns(request):
    context = selectors.campaigns_by_state(user=request.user)
    if export_format(request):
        return export_response(
            request,
            f"campaigns-{timezone.localdate()}",
            CAMPAIGNS_HEADER,
            _campaign_rows(context),
            sheet_title="Campaigns",
        )
    context["can_manage"] = selectors.can_manage(request.user)
    context["scope"] = selectors.viewer_scope(request.user)
    return render(request, "retention/campaigns/list.html", context)


def _service_fields(form: CampaignForm) -> dict:
    data = form.cleaned_data
    return {k: data[k] for k in form.fields}


def _form_page(request, form, campaign=None, status=200):
    return render(
        request,
        "retention/campaigns/edit.html",
        {"form": form, "campaign": campaign},
        status=status,
    )


@login_required
def campaign_new(request):
    require_role(request.user, *services.MANAGERS)
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(by=request.user, **_service_fields(form))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Campaign “{campaign}” created. Now build its list.")
            return redirect(campaign)
    return _form_page(request, form, status=400 if request.method == "POST" else 200)


@login_required
def campaign_edit(request, pk):
    campaign = _campaign(request, pk)
    require_role(request.user, *services.MANAGERS)
    form = CampaignForm.of(campaign, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(
                campaign_id=campaign.pk, by=request.user, **_service_fields(form)
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Campaign “{campaign}” saved.")
            return redirect(campaign)
    return _form_page(request, form, campaign, status=400 if request.method == "POST" else 200)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _report_href(errors) -> str:
    """The error report as a data: link the browser saves as a CSV file."""
    out = io.StringIO()
    csv.writer(out).writerows(services.error_report_rows(errors))
    payload = base64.b64encode(("\ufeff" + out.getvalue()).encode()).decode()
    return f"data:text/csv;charset=utf-8;base64,{payload}"


def _page(request, campaign, *, status=200, build_form=None, import_form=None, **extra):
    """The campaign page: figures, the viewer's share of the list, the managers' tools."""
    user = request.user
    figures = selectors.campaign_figures(campaign=campaign, user=user)
    show = request.GET.get("show", "all")
    if show not in selectors.SHOW:
        show = "all"
    entries = selectors.campaign_entries(
        campaign=campaign, user=user, window=figures.window, show=show
    )
    page = Paginator(entries, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    manage = selectors.can_manage(user)
    context = {
        "campaign": campaign,
        "family": selectors.family_label(campaign),
        "figures": figures,
        "page": page,
        "show": show,
        "shows": selectors.SHOW,
        "can_manage": manage,
        "list_open": figures.window.state != "finished",
        "columns": services.COLUMNS,
        "shown": SHOWN_ERRORS,
        **extra,
    }
    if manage:
        context["build_form"] = build_form or BuildFromFilterForm()
        context["import_form"] = import_form or ImportListForm()
    return render(request, "retention/campaigns/detail.html", context, status=status)


@login_required
def campaign(request, pk):
    campaign = _campaign(request, pk)
    if export_format(request):
        show = request.GET.get("show", "all")
        entries = selectors.campaign_entries(
            campaign=campaign,
            user=request.user,
            window=selectors.campaign_window(campaign),
            show=show if show in selectors.SHOW else "all",
        )
        return export_response(
            request,
            f"campaign-{campaign.pk}-{show if show in selectors.SHOW else 'all'}",
            ENTRIES_HEADER,
            _entry_rows(entries),
            sheet_title="Prequalified list",
        )
    return _page(request, campaign)


@login_required
@require_POST
def campaign_build(request, pk):
    campaign = _campaign(request, pk)
    require_role(request.user, *services.MANAGERS)
    form = BuildFromFilterForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            added = services.prequalified_from_filter(
                campaign_id=campaign.pk,
                by=request.user,
                segment_ids=[s.pk for s in data["segments"]],
                tier_codes=[t.code for t in data["tiers"]],
                holds_families=data["holds"],
                lacks_families=data["lacks"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        except InvalidTransition as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"{added} account{'s' if added != 1 else ''} added to the list"
                + ("." if added else " (every matching account was listed already)."),
            )
            return redirect(campaign)
    return _page(request, campaign, status=400, build_form=form)


@login_required
@require_POST
def campaign_import(request, pk):
    campaign = _campaign(request, pk)
    require_role(request.user, *services.MANAGERS)
    form = ImportListForm(request.POST, request.FILES)
    extra = {}
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.prequalified_import(
                campaign_id=campaign.pk, by=request.user, file=upload
            )
        except (services.ImportFileError, InvalidTransition) as error:
            form.add_error("file", str(error))
        except services.ImportRefused as refused:
            extra = {
                "refused": refused,
                "errors": refused.errors[:SHOWN_ERRORS],
                "error_count": len(refused.errors),
                "report_href": _report_href(refused.errors),
                "file_name": upload.name,
            }
        else:
            messages.success(
                request,
                f"Imported {upload.name}: {result.created} new, {result.updated} with a new "
                f"reason, {result.unchanged} unchanged.",
            )
            return redirect(campaign)
    return _page(request, campaign, status=400, import_form=form, **extra)


@login_required
@require_POST
def campaign_remove_account(request, pk, account_pk):
    campaign = _campaign(request, pk)
    require_role(request.user, *services.MANAGERS)
    entry = get_object_or_404(
        selectors.visible_entries(campaign, request.user).select_related("account"),
        account_id=account_pk,
    )
    services.campaign_remove_account(
        campaign_id=campaign.pk,
        account_id=entry.account_id,
        by=request.user,
        today=timezone.localdate(),
    )
    messages.success(request, f"{entry.account} is off the list.")
    return redirect(campaign)
