"""Pages of the pipeline: the list (with its figures and downloads), the board by stage,
one deal with its stage history, and the forms that open, edit, move, win and lose a
deal. Reads come from accounts.selectors.pipeline, changes go through
accounts.services.pipeline; the board's buttons work as htmx swaps and as plain POSTs."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from org.access import visible_accounts
from salesmgmt.exports import export_format, export_response, money
from salesmgmt.workflow import StaleEdit, WorkflowError

from .filters_pipeline import PipelineFilter
from .forms.pipeline import LoseForm, MoveForm, OpportunityForm
from .models import OpportunityStage
from .selectors import pipeline as selectors
from .services import pipeline as services

NAV = "pipeline"
CSV_HEADER = (
    "Account number",
    "Account",
    "RM",
    "Product",
    "Product family",
    "Kind",
    "Stage",
    "Status",
    "Forecast category",
    "Amount",
    "Probability %",
    "Weighted amount",
    "Expected close",
    "Next step",
    "Created",
    "Closed",
    "Lost reason",
)
EXPORT_CHUNK = 2000


def _csv_rows(deals):
    for o in deals.iterator(chunk_size=EXPORT_CHUNK):
        yield (
            o.account.number,
            o.account.name,
            str(o.rm),
            o.product.name,
            o.product.get_family_display(),
            o.get_kind_display(),
            o.get_stage_display(),
            o.get_status_display(),
            o.get_forecast_category_display(),
            money(o.amount),
            o.probability,
            money(o.weighted_amount),
            o.expected_close,
            o.next_step,
            o.created_on,
            o.closed_on,
            str(o.lost_reason) if o.lost_reason else "",
        )


def _figures_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The figures' period: the year so far (the plan year is the calendar year)."""
    return today.replace(month=1, day=1), today


@login_required
def pipeline_list(request):
    """The deals the user sees, filtered, with totals, downloads and the pipeline figures."""
    filterset = PipelineFilter(
        request.GET or None, queryset=selectors.pipeline_list(request.user), request=request
    )
    deals = filterset.qs
    if export_format(request):
        return export_response(
            request,
            f"pipeline-{timezone.localdate()}",
            CSV_HEADER,
            _csv_rows(deals),
            sheet_title="Pipeline",
        )
    page = Paginator(deals, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": NAV,
        "filterset": filterset,
        "page": page,
        "totals": selectors.totals(deals),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "accounts/pipeline/_list_table.html", context)
    start, end = _figures_period(timezone.localdate())
    # The figures follow the RM and team chosen, not the list's stage or status.
    scope = selectors.pipeline_list(request.user)
    if filterset.is_bound and filterset.form.is_valid():
        if rm := filterset.form.cleaned_data.get("rm"):
            scope = scope.filter(rm=rm)
        if team := filterset.form.cleaned_data.get("team"):
            scope = scope.filter(rm__team=team)
    context["figures"] = selectors.pipeline_figures(scope, start=start, end=end)
    return render(request, "accounts/pipeline/list.html", context)


def _board_context(request, query, **extra):
    filterset = PipelineFilter(
        query or None,
        queryset=selectors.pipeline_list(request.user),
        request=request,
        board=True,
    )
    columns = selectors.board(filterset.qs)
    return {
        "nav": NAV,
        "filterset": filterset,
        "columns": columns,
        "total_amount": sum(c.amount for c in columns),
        "total_weighted": sum(c.weighted for c in columns),
        "deal_count": sum(len(c.deals) for c in columns),
        "lost_reasons": list(selectors.lost_reasons()),
        "board_url": f"{reverse('accounts:pipeline_board')}?{query.urlencode()}"
        if query
        else reverse("accounts:pipeline_board"),
        **extra,
    }


@login_required
def pipeline_board(request):
    """The open pipeline in a column per stage, moved on by buttons."""
    context = _board_context(request, request.GET)
    if request.htmx and not request.htmx.boosted:
        return render(request, "accounts/pipeline/_board.html", context)
    return render(request, "accounts/pipeline/board.html", context)


def _deal(request, pk):
    return get_object_or_404(selectors.deal_page(request.user), pk=pk)


def _back_to(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _board_answer(request, *, status=200, error="", notice="", moved=None):
    """After a board button: the board again (htmx), or back to where the button was."""
    if request.htmx:
        # The board's filters ride along in the button's `next`.
        query = QueryDict(_back_to(request, "").partition("?")[2])
        context = _board_context(request, query, error=error, notice=notice, moved=moved)
        return render(request, "accounts/pipeline/_board.html", context, status=status)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_back_to(request, reverse("accounts:pipeline_board")))


def _version(request) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


@login_required
@require_POST
def opportunity_move(request, pk):
    deal = _deal(request, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _board_answer(request, status=400, error="Choose a stage to move the deal to.")
    try:
        deal = services.opportunity_move(
            user=request.user,
            opportunity=deal,
            stage=form.cleaned_data["stage"],
            expected_version=form.cleaned_data["version"],
        )
    except WorkflowError as error:
        return _board_answer(request, status=error.status_code, error=str(error))
    return _board_answer(
        request,
        notice=f"{deal.account.name}: moved to {deal.get_stage_display()}.",
        moved=deal.pk,
    )


@login_required
@require_POST
def opportunity_win(request, pk):
    deal = _deal(request, pk)
    try:
        deal = services.opportunity_win(
            user=request.user, opportunity=deal, expected_version=_version(request)
        )
    except WorkflowError as error:
        return _board_answer(request, status=error.status_code, error=str(error))
    return _board_answer(request, notice=f"{deal.account.name}: won. Well done.")


@login_required
def opportunity_lose(request, pk):
    """The "Lost…" form: a reason from the list and a note. On the board it opens in the
    card; this page is where the plain form lands (and re-renders with the reason)."""
    deal = _deal(request, pk)
    form = LoseForm(request.POST or None, initial={"version": deal.version})
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.opportunity_lose(
                user=request.user,
                opportunity=deal,
                lost_reason=form.cleaned_data["lost_reason"],
                lost_note=form.cleaned_data["lost_note"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            if request.htmx:
                return _board_answer(request, status=400, error=" ".join(error.messages))
            form.add_service_errors(error)
        except WorkflowError as error:
            return _board_answer(request, status=error.status_code, error=str(error))
        else:
            return _board_answer(request, notice=f"{deal.account.name}: recorded as lost.")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/pipeline/lose.html",
        {"nav": NAV, "deal": deal, "form": form, "next": _back_to(request, "")},
        status=status,
    )


@login_required
def opportunity_detail(request, pk):
    deal = _deal(request, pk)
    return render(
        request,
        "accounts/pipeline/detail.html",
        {
            "nav": NAV,
            "deal": deal,
            "changes": list(deal.changes.all()),
            "stages": OpportunityStage.choices,
            "lose_form": LoseForm(initial={"version": deal.version}),
        },
    )


def _form_page(request, form, *, deal=None, account=None, status=200, conflict=None):
    return render(
        request,
        "accounts/pipeline/form.html",
        {"nav": NAV, "form": form, "deal": deal, "account": account, "conflict": conflict},
        status=status,
    )


@login_required
def opportunity_create(request):
    """A new deal, from the account page's "New opportunity" (?account=) or the pipeline."""
    account = None
    account_id = request.POST.get("account") or request.GET.get("account") or ""
    if account_id.isdigit():
        account = visible_accounts(request.user).filter(pk=account_id).first()
    form = OpportunityForm(
        request.POST or None,
        user=request.user,
        initial={"account": account.pk if account else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        try:
            deal = services.opportunity_create(user=request.user, **data)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, f"Opportunity on {deal.account.name} opened.")
            return redirect("accounts:opportunity", pk=deal.pk)
    status = 400 if request.method == "POST" else 200
    return _form_page(request, form, account=account, status=status)


def _typed(form) -> list[tuple[str, object]]:
    """What was typed into a form that could not be saved, as (label, value)."""
    return [
        (form[name].label, value)
        for name, value in form.cleaned_data.items()
        if name != "version" and value not in (None, "")
    ]


def _initial(deal) -> dict:
    return {
        "account": deal.account_id,
        "product": deal.product_id,
        "kind": deal.kind,
        "amount": deal.amount,
        "stage": deal.stage,
        "probability": deal.probability,
        "expected_close": deal.expected_close,
        "forecast_category": deal.forecast_category,
        "next_step": deal.next_step,
        "version": deal.version,
    }


@login_required
def opportunity_edit(request, pk):
    deal = _deal(request, pk)
    # Somebody else's deal: read it on its page, change it never (403).
    services.require_own(request.user, deal)
    form = OpportunityForm(request.POST or None, user=request.user, initial=_initial(deal))
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.opportunity_update(
                user=request.user,
                opportunity=deal,
                expected_version=form.cleaned_data["version"],
                **form.changes(),
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except StaleEdit as error:
            # Two tabs: the form shows what is saved now, what was typed stays beside it.
            current = _deal(request, pk)
            return _form_page(
                request,
                OpportunityForm(user=request.user, initial=_initial(current)),
                deal=current,
                status=409,
                conflict={"error": str(error), "attempted": _typed(form)},
            )
        except WorkflowError as error:
            return _form_page(
                request, form, deal=deal, status=error.status_code, conflict={"error": str(error)}
            )
        else:
            messages.success(request, "Opportunity saved.")
            return redirect("accounts:opportunity", pk=deal.pk)
    status = 400 if request.method == "POST" else 200
    return _form_page(request, form, deal=deal, account=deal.account, status=status)
