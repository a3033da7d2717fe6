"""Departure pages: the open cases, a case with its coverage board, the handover, and the
early warnings.

Views read through retention.selectors.departures (which start from org.access: a case
outside the user's scope is a 404) and change state only through
retention.services.departures (PermissionDenied → 403, InvalidTransition → 409,
ValidationError → 400; the page is shown again with the reason).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from salesmgmt.workflow import WorkflowError

from ..forms.departures import CoverageForm, NoticeForm, ReplacementForm, ReviewForm
from ..models import DepartureCase
from ..selectors import departures as selectors
from ..services import departures as services

BAD_INPUT = 400


def _case(request, pk) -> DepartureCase:
    return get_object_or_404(selectors.departure_page(request.user), pk=pk)


def _refusal(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages), BAD_INPUT
    return str(exc), getattr(exc, "status_code", 409)


# --- the list --------------------------------------------------------------------------------


def _list_context(request, *, notice_form=None, error=""):
    user = request.user
    rms = selectors.notice_candidates(user)
    can_record = user.is_administrator or user.role == "leader"
    return {
        "lines": selectors.open_cases(user),
        "closed": selectors.recently_closed(user),
        "notice_form": (notice_form or NoticeForm(rms=rms)) if can_record else None,
        "error": error,
        "today": timezone.localdate(),
    }


@login_required
def departures(request):
    """The open cases the user sees, with phase and uncovered major accounts; the leader's
    and the administrator's "record a notice" form."""
    return render(request, "retention/departures/list.html", _list_context(request))


@login_required
@require_POST
def departure_open(request):
    user = request.user
    if not (user.is_administrator or user.role == "leader"):
        raise PermissionDenied("Only a leader or an administrator records a notice.")
    form = NoticeForm(request.POST, rms=selectors.notice_candidates(user))
    if not form.is_valid():
        context = _list_context(request, notice_form=form)
        return render(request, "retention/departures/list.html", context, status=BAD_INPUT)
    try:
        case = services.departure_open(
            rm_id=form.cleaned_data["rm"],
            by=user,
            notice_on=form.cleaned_data["notice_on"],
            last_day=form.cleaned_data["last_day"],
        )
    except (ValidationError, WorkflowError) as exc:
        error, status = _refusal(exc)
        context = _list_context(request, notice_form=form, error=error)
        return render(request, "retention/departures/list.html", context, status=status)
    messages.success(request, f"Notice recorded: {case.rm}'s departure case is open.")
    return redirect(case)


# --- a case: timeline and coverage board ------------------------------------------------------


def _detail_context(request, case, *, coverage_form=None, replacement_form=None, error=""):
    today = timezone.localdate()
    manages = services.can_manage(request.user, case) and case.closed_on is None
    lines = selectors.coverage_board(case)
    board_open = manages and case.replacement_id is None
    if board_open and coverage_form is None:
        coverage_form = CoverageForm(
            lines=lines, candidates=list(services.covering_candidates(case))
        )
    if board_open and replacement_form is None:
        replacement_form = ReplacementForm(
            candidates=services.replacement_candidates(case, request.user),
            initial={"on": max(today, case.notice_on)},
        )
    return {
        "case": case,
        "phase": case.phase_on(today),
        "phase_label": DepartureCase.Phase(case.phase_on(today)).label,
        "timeline": selectors.timeline(case, today),
        "lines": lines,
        "uncovered": sum(1 for line in lines if line.uncovered),
        "majors": sum(1 for line in lines if line.is_major),
        "coverage_form": coverage_form if board_open else None,
        "replacement_form": replacement_form if board_open else None,
        "history": selectors.coverage_history(case),
        "error": error,
        "today": today,
    }


@login_required
def departure(request, pk):
    case = _case(request, pk)
    return render(request, "retention/departures/detail.html", _detail_context(request, case))


@login_required
@require_POST
def departure_coverage(request, pk):
    case = _case(request, pk)
    if not services.can_manage(request.user, case):
        raise PermissionDenied("Only the leaving RM's leader or an administrator assigns cover.")
    lines = selectors.coverage_board(case)
    form = CoverageForm(
        request.POST, lines=lines, candidates=list(services.covering_candidates(case))
    )
    if not form.is_valid():
        context = _detail_context(request, case, coverage_form=form)
        return render(request, "retention/departures/detail.html", context, status=BAD_INPUT)
    try:
        changes = services.coverage_assign(
            case_id=case.pk, by=request.user, assignments=form.assignments()
        )
    except (ValidationError, WorkflowError) as exc:
        error, status = _refusal(exc)
        context = _detail_context(request, case, coverage_form=form, error=error)
        return render(request, "retention/departures/detail.html", context, status=status)
    n = len(changes)
    messages.success(
        request,
        f"Cover changed for {n} account{'s' if n != 1 else ''}." if n else "Nothing changed.",
    )
    return redirect(case)


@login_required
@require_POST
def departure_replacement(request, pk):
    case = _case(request, pk)
    if not services.can_manage(request.user, case):
        raise PermissionDenied("Only the leaving RM's leader or an administrator assigns one.")
    form = ReplacementForm(
        request.POST, candidates=services.replacement_candidates(case, request.user)
    )
    if not form.is_valid():
        context = _detail_context(request, case, replacement_form=form)
        return render(request, "retention/departures/detail.html", context, status=BAD_INPUT)
    try:
        case = services.replacement_assign(
            case_id=case.pk,
            by=request.user,
            replacement_id=form.cleaned_data["replacement"],
            on=form.cleaned_data["on"],
        )
    except (ValidationError, WorkflowError) as exc:
        error, status = _refusal(exc)
        context = _detail_context(request, case, replacement_form=form, error=error)
        return render(request, "retention/departures/detail.html", context, status=status)
    messages.success(request, f"{case.replacement} now owns {case.rm}'s accounts.")
    return redirect(case)


# --- handover ----------------------------------------------------------------------------------


@login_required
def handover(request, pk):
    case = _case(request, pk)
    lines, month = selectors.handover(case) if case.replacement_id else ([], None)
    return render(
        request,
        "retention/departures/handover.html",
        {
            "case": case,
            "lines": lines,
            "month": month,
            "reviewed": sum(1 for line in lines if line.review),
            "is_replacement": request.user.pk == case.replacement_id,
            "form": ReviewForm(),
        },
    )


@login_required
@require_POST
def handover_review(request, pk, account_pk):
    case = _case(request, pk)
    if request.user.pk != case.replacement_id:
        raise PermissionDenied("Only the replacement marks the accounts as reviewed.")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for e in form.errors.values() for m in e))
        return redirect("retention:handover", pk=case.pk)
    services.handover_review(
        case_id=case.pk, by=request.user, account_id=account_pk, note=form.cleaned_data["note"]
    )
    case.refresh_from_db()
    if case.closed_on:
        messages.success(request, "Every major account is handed over: the case is closed.")
    else:
        messages.success(request, "Marked as reviewed.")
    return redirect("retention:handover", pk=case.pk)


# --- early warnings ---------------------------------------------------------------------------


@login_required
def early_warnings(request):
    """The leader's RMs (all for executives) with their latest signals."""
    if not selectors.sees_early_warnings(request.user):
        raise PermissionDenied("Early warnings are for the RM's own leader and executives.")
    lines = selectors.warning_lines(request.user)
    return render(
        request,
        "retention/departures/early_warnings.html",
        {"lines": lines, "computed_on": lines[0].warning.computed_on if lines else None},
    )
