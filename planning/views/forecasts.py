"""The forecast pages: the RM's Forecast, the leader's Team forecast (executives: every
team and the bank), and the forecast-accuracy history (docs/forecast.md).

Reads go through planning.selectors.forecasts on subjects resolved by org.access (outside
scope is a 404); changes only through planning.services.forecasts, whose refusals
re-render the form with the reason (400), the conflict (409) or the frozen month (409).
htmx posts get the changed fragment; plain posts the whole page, or a redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from org.access import (
    require_role,
    sees_whole_bank,
    visible_forecast_submissions,
    visible_people,
    visible_teams,
)
from org.models import Role
from salesmgmt.workflow import InvalidTransition, StaleEdit

from ..forms.forecasts import ForecastAdjustForm, ForecastSubmitForm, TeamForecastSubmitForm
from ..selectors import forecasts as selectors
from ..selectors.common import current_plan_year
from ..services import forecasts as services

BAD_INPUT, CONFLICT = 400, 409


def _refusal(form, error: Exception) -> tuple[int, str]:
    """Put a service's refusal on the form: (status, message for the whole form)."""
    if isinstance(error, ValidationError):
        for field, errors in getattr(error, "message_dict", {None: error.messages}).items():
            form.add_error(field if field in form.fields else None, errors)
        return BAD_INPUT, ""
    return CONFLICT, str(error)


def _leads_or_sees_bank(user) -> bool:
    return user.role == Role.LEADER or sees_whole_bank(user)


# --- the RM's forecast ----------------------------------------------------------------------------


def _submit_form(card, data=None):
    s = card.submission
    return ForecastSubmitForm(
        data,
        prefix=card.period.key,
        initial={
            "period": card.period.key,
            "version": s.version if s else 0,
            "amount": s.amount if s else card.proposed,
            "note": s.note if s else "",
        },
    )


def _rm_context(request, *, override=None):
    cards = selectors.rm_forecast(request.user)
    for card in cards:
        card.form = None if card.frozen else _submit_form(card)
        card.state = card.message = ""
        if override and override["key"] == card.period.key:
            card.form, card.state, card.message = (
                override["form"],
                override["state"],
                override["message"],
            )
    return {"nav": "forecast", "cards": cards}


@login_required
def forecast(request):
    """The RM's Forecast; a leader or an executive starts at the team forecast."""
    if _leads_or_sees_bank(request.user):
        return redirect("planning:team_forecast")
    require_role(request.user, Role.RM)
    return render(request, "planning/forecasts/rm.html", _rm_context(request))


@login_required
@require_POST
def forecast_submit(request, key):
    require_role(request.user, Role.RM)
    period = selectors.parse_period(key)
    card = next((c for c in selectors.rm_forecast(request.user) if c.period == period), None)
    if card is None:
        raise Http404("No such forecast period.")
    form = ForecastSubmitForm(request.POST, prefix=key)
    status, state, message = BAD_INPUT, "invalid", ""
    if form.is_valid():
        try:
            services.forecast_submit(
                rm=request.user,
                period=period.kind,
                period_start=period.start,
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except (ValidationError, StaleEdit, InvalidTransition) as error:
            status, message = _refusal(form, error)
            if isinstance(error, StaleEdit):
                state = "stale"
            elif isinstance(error, InvalidTransition):
                state = "refused"
        else:
            if not request.htmx:
                messages.success(request, f"Your forecast for {period.label} is submitted.")
                return redirect(f"{reverse('planning:forecast')}#{key}")
            status, state, form = 200, "saved", None
    if request.htmx:
        card = next(c for c in selectors.rm_forecast(request.user) if c.period == period)
        if state == "stale" or form is None:  # stale: the current numbers, to retry from
            form = _submit_form(card)
        card.form, card.state, card.message = (None if card.frozen else form), state, message
        return render(request, "planning/forecasts/_rm_card.html", {"card": card}, status=status)
    if state == "stale":
        form = None  # the page shows the current numbers
    context = _rm_context(request)
    for c in context["cards"]:
        if c.period == period:
            c.form = form or c.form
            c.state, c.message = state, message
    return render(request, "planning/forecasts/rm.html", context, status=status)


# --- the team's forecast --------------------------------------------------------------------------


def _adjust_form(row, data=None):
    s = row.submission
    return ForecastAdjustForm(
        data,
        prefix=f"adj{s.pk}",
        initial={
            "version": s.version,
            "amount": s.adjusted_amount if s.adjusted_amount is not None else s.amount,
            "note": s.adjustment_note,
        },
    )


def _decorate(request, forecasts, *, override=None):
    """Forms where the user may act: the leader of the team, on a period not frozen."""
    for tf in forecasts:
        leads = tf.team.leader_id == request.user.pk
        tf.can_submit = leads and not tf.frozen and tf.submitted > 0
        tf.submit_message = ""
        tf.submit_form = (
            TeamForecastSubmitForm(
                initial={
                    "period": tf.period.key,
                    "version": tf.submission.version if tf.submission else 0,
                    "note": tf.submission.note if tf.submission else "",
                }
            )
            if tf.can_submit
            else None
        )
        for row in tf.rows:
            row.can_adjust = leads and not row.frozen and row.submission is not None
            row.form = _adjust_form(row) if row.can_adjust else None
            row.state = row.message = ""
            if override and row.submission and override["pk"] == row.submission.pk:
                row.form = override["form"] or row.form
                row.state, row.message = override["state"], override["message"]
    return forecasts


def _team_context(request, pk=None, period=None, **decorate):
    user = request.user
    teams_qs = visible_teams(user).select_related("leader")
    teams = [get_object_or_404(teams_qs, pk=pk)] if pk is not None else list(teams_qs)
    periods = selectors.open_periods()
    chosen = period
    forecasts = selectors.team_forecasts(teams, chosen or periods[0])
    if chosen is None and forecasts and all(tf.frozen for tf in forecasts):
        chosen = periods[1]  # this month is frozen: the next one is the one to work on
        forecasts = selectors.team_forecasts(teams, chosen)
    chosen = chosen or periods[0]
    _decorate(request, forecasts, **decorate)
    return {
        "nav": "forecast",
        "periods": periods,
        "period": chosen,
        "forecasts": forecasts,
        "one_team": pk is not None or len(teams) == 1,
        "bank_total": sum((tf.total for tf in forecasts), 0),
        "bank_proposed": sum((tf.proposed for tf in forecasts), 0),
        "whole_bank": sees_whole_bank(user) and pk is None,
        "period_query": f"?period={chosen.key}",
    }


@login_required
def team_forecast(request, pk=None):
    """Every RM of the team for a period: proposed, their number, the leader's; the team's
    total and submission. Executives: every team and the bank's total."""
    if not _leads_or_sees_bank(request.user):
        if pk is None and request.user.role == Role.RM:
            return redirect("planning:forecast")
        raise Http404("No such team.")
    period = selectors.parse_period(request.GET.get("period"))
    return render(request, "planning/forecasts/team.html", _team_context(request, pk, period))


@login_required
@require_POST
def forecast_adjust(request, pk):
    submission = get_object_or_404(
        visible_forecast_submissions(request.user).select_related("rm"), pk=pk
    )
    period = selectors.period_of(submission.period, submission.period_start)
    team_pk = submission.rm.team_id
    form = ForecastAdjustForm(request.POST, prefix=f"adj{pk}")
    status, state, message = BAD_INPUT, "invalid", ""
    if form.is_valid():
        try:
            services.forecast_adjust(
                submission_id=pk,
                by=request.user,
                amount=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except (ValidationError, StaleEdit, InvalidTransition) as error:
            status, message = _refusal(form, error)
            state = "stale" if isinstance(error, StaleEdit) else "refused"
            if isinstance(error, ValidationError):
                state = "invalid"
        else:
            status, state, form = 200, "saved", None
            if not request.htmx:
                messages.success(request, f"{submission.rm}'s forecast is adjusted.")
                url = reverse("planning:team_forecast_team", args=[team_pk])
                return redirect(f"{url}?period={period.key}#rm-{submission.rm_id}")
    if state == "stale":
        form = None  # show the current numbers and version
    override = {"pk": pk, "form": form, "state": state, "message": message}
    if request.htmx:
        tf = selectors.team_forecasts(
            list(visible_teams(request.user).filter(pk=team_pk).select_related("leader"))
            or [submission.rm.team],
            period,
        )
        _decorate(request, tf, override=override)
        row = next(r for r in tf[0].rows if r.submission and r.submission.pk == pk)
        return render(
            request,
            "planning/forecasts/_team_row.html",
            {"row": row, "tf": tf[0], "oob_total": True, "period": period},
            status=status,
        )
    context = _team_context(request, team_pk, period, override=override)
    return render(request, "planning/forecasts/team.html", context, status=status)


@login_required
@require_POST
def team_forecast_submit(request, pk):
    team = get_object_or_404(visible_teams(request.user), pk=pk)
    form = TeamForecastSubmitForm(request.POST)
    period = selectors.parse_period(request.POST.get("period"))
    if period is None:
        raise Http404("No such forecast period.")
    if form.is_valid():
        try:
            services.team_forecast_submit(
                team_id=team.pk,
                by=request.user,
                period=period.kind,
                period_start=period.start,
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except (ValidationError, StaleEdit, InvalidTransition) as error:
            status, message = _refusal(form, error)
        else:
            messages.success(request, f"{team}'s forecast for {period.label} is submitted.")
            url = reverse("planning:team_forecast_team", args=[team.pk])
            return redirect(f"{url}?period={period.key}")
    else:
        status, message = BAD_INPUT, ""
    context = _team_context(request, team.pk, period)
    tf = context["forecasts"][0]
    if tf.submit_form is not None and status == BAD_INPUT:
        tf.submit_form = form
    tf.submit_message = message or " ".join(form.non_field_errors())
    return render(request, "planning/forecasts/team.html", context, status=status)


# --- forecast accuracy history --------------------------------------------------------------------


@login_required
def accuracy(request, scope=None, pk=None):
    """An RM's, a team's or the bank's forecast against what was won, month by month."""
    user = request.user
    if scope is None:
        if user.role == Role.RM:
            scope, pk = "rm", user.pk
        elif user.role == Role.LEADER:
            team = visible_teams(user).first()
            if team is None:
                raise Http404("You lead no team.")
            scope, pk = "team", team.pk
        else:
            scope = "bank"
    rm = team = None
    links, people = [], []
    if scope == "rm":
        rm = get_object_or_404(
            visible_people(user).filter(role=Role.RM).select_related("team"), pk=pk
        )
        title = str(rm)
    elif scope == "team":
        team = get_object_or_404(visible_teams(user), pk=pk)
        title = team.name
        people = list(
            visible_people(user)
            .filter(role=Role.RM, team=team)
            .order_by("last_name", "first_name", "username")
        )
    else:
        if not sees_whole_bank(user):
            raise Http404("No such page.")
        title = "The bank"
        links = [
            (t.name, reverse("planning:forecast_accuracy_team", args=[t.pk]))
            for t in visible_teams(user)
        ]
    plan_year = current_plan_year()  # after the scope: outside it is a 404 all the same
    if plan_year is None:
        return render(request, "planning/no_plan_year.html")
    history = selectors.accuracy_history(plan_year=plan_year, rm=rm, team=team)
    by_rm = selectors.rm_accuracy_histories(plan_year=plan_year, rms=people) if people else []
    return render(
        request,
        "planning/forecasts/accuracy.html",
        {
            "nav": "forecast",
            "history": history,
            "title": title,
            "scope": scope,
            "rm": rm,
            "team": team,
            "links": links,
            "by_rm": by_rm,
            "chart": history.chart(),
            "threshold": selectors.BIAS_THRESHOLD_PCT,
            "min_months": selectors.BIAS_MIN_MONTHS,
        },
    )
