"""The RB report card pages: an RM's card, a team's, the bank's, the RM's improvement
plans and the compensation view (HTML and CSV).

Thin views: the access layer finds the RM or the team (404 outside scope), the selectors
compute (coaching.selectors.report_card), the services decide (coaching.services).
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from org.access import require_role, sees_whole_bank, visible_people, visible_teams
from org.models import Role
from planning.models import PlanYear
from planning.selectors.relationship import relationship_metric_line
from salesmgmt.exports import export_format, export_response, neutralise  # noqa: F401
from salesmgmt.workflow import StaleEdit, WorkflowError, wants_json

from ..forms.report_card import ImprovementPlanForm
from ..models import Behaviour, BehaviourSet
from ..selectors import report_card as selectors
from ..services import improvement as services

NAV = "report_card"


def _plan_year(request) -> PlanYear | None:
    """?year=2027, else the current plan year; a year asked for that does not exist: 404."""
    year = request.GET.get("year")
    plan_year = selectors.choose_plan_year(year)
    if year and plan_year is None:
        raise Http404("No such plan year.")
    return plan_year


def _no_plan_year(request):
    return render(request, "planning/no_plan_year.html", {"nav": NAV})


def _month(request) -> datetime.date | None:
    return selectors.parse_month(request.GET.get("month"))


def _query(request) -> str:
    kept = {k: v for k, v in request.GET.items() if k in ("year", "month") and v}
    return "?" + "&".join(f"{k}={v}" for k, v in kept.items()) if kept else ""


def _months(plan_year: PlanYear, today: datetime.date) -> list[datetime.date]:
    """The months a page may show: the plan year's, up to this month."""
    first, last = selectors.year_months(plan_year)
    return selectors.month_range(first, min(last, max(first, selectors.month_start(today))))


def _common(request, plan_year: PlanYear, month: datetime.date) -> dict:
    today = timezone.localdate()
    return {
        "nav": NAV,
        "plan_year": plan_year,
        "plan_years": list(PlanYear.objects.order_by("-year")),
        "month_choices": _months(plan_year, today),
        "chosen_month": month,
    }


# --- downloads: the cards' tables, as on screen (the card is computed once) -------------------

RM_CARD_HEADER = (
    "Behaviour",
    "Weight %",
    "Objective %",
    "Month",
    "Month %",
    "Month ratings",
    "Year to date %",
    "Year-to-date ratings",
    "Status",
    "Improvement plan",
    "Review on",
)
RM_LINES_HEADER = (
    "RM",
    "Username",
    "Month",
    "Score %",
    "Previous month %",
    "Change (points)",
    "Year to date %",
    "Ratings",
    "Year-to-date ratings",
    "Behaviours below target",
)
TEAM_LINES_HEADER = (
    "Team",
    "Leader",
    "RMs",
    "Month",
    "Score %",
    "Previous month %",
    "Change (points)",
    "Year to date %",
    "Ratings",
    "Year-to-date ratings",
    "Behaviours below target",
)
BEHAVIOURS_HEADER = ("Behaviour", "Weight %", "Objective %", "Year to date %", "Status")


def _status(share, objective) -> str:
    if share is None:
        return "Not rated yet"
    return "Below target" if share < objective else "On target"


def _rm_card_rows(card):
    """An RM's card: one line per behaviour (its table on the page)."""
    for row in card.rows:
        b, plan = row.behaviour, row.plan
        yield (
            b.name,
            b.weight,
            b.objective_pct,
            card.month,
            row.month_share,
            row.month.n,
            row.ytd_share,
            row.ytd.n,
            _status(row.ytd_share, b.objective_pct),
            ("Closed" if plan.closed else "Open") if plan else "",
            plan.review_on if plan else None,
        )


def _group_rows(card):
    """A team's card (one line per RM) or the bank's (one line per team)."""
    for line in card.lines:
        s = line.subject
        if card.team is None:  # the bank's card: teams
            who = (s.name, str(s.leader) if s.leader else "", line.rms)
        else:
            who = (str(s), s.username)
        yield (
            *who,
            card.month,
            line.score,
            line.previous,
            line.change,
            line.ytd,
            line.count,
            line.ytd_count,
            line.below,
        )


def _behaviour_rows(card):
    for b, share in card.behaviours:
        yield (b.name, b.weight, b.objective_pct, share, _status(share, b.objective_pct))


def _group_export(request, card, stem, header):
    """The card's RM or team table; `?list=behaviours` its per-behaviour table."""
    month = f"{card.month:%Y-%m}"
    if request.GET.get("list") == "behaviours":
        return export_response(
            request,
            f"{stem}-behaviours-{month}",
            BEHAVIOURS_HEADER,
            _behaviour_rows(card),
            sheet_title=f"Behaviours {card.plan_year.year}",
        )
    return export_response(
        request, f"{stem}-{month}", header, _group_rows(card), sheet_title=f"Scores {month}"
    )


@login_required
def my_report_card(request):
    """The RM's own card; a leader lands on their team's, the bank on the bank's."""
    user = request.user
    if sees_whole_bank(user):
        return redirect(reverse("coaching:bank_report_card") + _query(request))
    if user.role == Role.LEADER:
        team = visible_teams(user).order_by("name").first()
        if team is None:
            return render(request, "org/no_team.html", {"nav": NAV})
        return redirect(reverse("coaching:team_report_card", args=[team.pk]) + _query(request))
    if user.role != Role.RM:
        raise PermissionDenied("Your role has no report card.")
    return _rm_page(request, user)


@login_required
def rm_report_card(request, pk):
    rm = get_object_or_404(
        visible_people(request.user).filter(role=Role.RM).select_related("team"), pk=pk
    )
    return _rm_page(request, rm)


def _rm_page(request, rm):
    plan_year = _plan_year(request)
    if plan_year is None:
        return _no_plan_year(request)
    card = selectors.rm_report_card(request.user, rm, plan_year, month=_month(request))
    if export_format(request):
        return export_response(
            request,
            f"report-card-{rm.username}-{card.month:%Y-%m}",
            RM_CARD_HEADER,
            _rm_card_rows(card),
            sheet_title=f"Report card {card.month:%Y-%m}",
        )
    bs = card.behaviour_set
    own = request.user.pk == rm.pk
    context = _common(request, plan_year, card.month)
    context.update(
        {
            "card": card,
            "rm": rm,
            "own": own,
            "can_write_plans": own
            and services.may_write(request.user)
            and bs is not None
            and bs.status == BehaviourSet.Status.APPROVED
            and plan_year.is_open,
            # The RM reads what customers said; who said it is for the leader and the bank.
            "show_customer": not own,
            "chart": card.chart_data(),
            # The year's relationship metric, year to date at the closed month: the same
            # line as the RM's home and compensation (planning.selectors.relationship).
            "relationship": relationship_metric_line(rm, plan_year),
        }
    )
    return render(request, "coaching/report_card/rm.html", context)


@login_required
def team_report_card(request, pk):
    team = get_object_or_404(visible_teams(request.user).select_related("leader"), pk=pk)
    plan_year = _plan_year(request)
    if plan_year is None:
        return _no_plan_year(request)
    card = selectors.team_report_card(request.user, team, plan_year, month=_month(request))
    if export_format(request):
        return _group_export(request, card, f"report-card-team-{team.pk}", RM_LINES_HEADER)
    context = _common(request, plan_year, card.month)
    context.update({"card": card, "team": team})
    return render(request, "coaching/report_card/team.html", context)


@login_required
def bank_report_card(request):
    require_role(request.user, Role.EXECUTIVE, Role.ADMIN)
    plan_year = _plan_year(request)
    if plan_year is None:
        return _no_plan_year(request)
    card = selectors.bank_report_card(request.user, plan_year, month=_month(request))
    if export_format(request):
        return _group_export(request, card, "report-card-bank", TEAM_LINES_HEADER)
    context = _common(request, plan_year, card.month)
    context.update(
        {
            "card": card,
            "improved_month": card.improved_month[: selectors.BANK_TOP],
            "improved_year": card.improved_year[: selectors.BANK_TOP],
            "top": selectors.BANK_TOP,
        }
    )
    return render(request, "coaching/report_card/bank.html", context)


# --- improvement plans ---------------------------------------------------------------------


@login_required
def improvement_plan(request, behaviour_id):
    """The RM writes, edits or closes their plan for one behaviour of an approved set."""
    user = request.user
    require_role(user, Role.RM)
    behaviour = get_object_or_404(
        Behaviour.objects.select_related("behaviour_set__plan_year").filter(
            behaviour_set__status=BehaviourSet.Status.APPROVED
        ),
        pk=behaviour_id,
    )
    plan = selectors.improvement_plan_of(user, behaviour)
    if request.method != "POST":
        form = ImprovementPlanForm(initial=_initial(plan))
        return _plan_page(request, behaviour, plan, form)
    if request.POST.get("action") == "close":
        if plan is None:
            raise Http404("No improvement plan to close.")
        form = ImprovementPlanForm(request.POST)
        version = _int_or_none(request.POST.get("version"))
        try:
            services.improvement_plan_close(plan_id=plan.pk, by=user, expected_version=version)
        except WorkflowError as error:
            if wants_json(request):
                raise
            current = selectors.improvement_plan_of(user, behaviour)
            form = ImprovementPlanForm(initial=_initial(current))
            return _plan_page(
                request, behaviour, current, form, status=error.status_code, error=str(error)
            )
        messages.success(request, f"Improvement plan for {behaviour.name} closed.")
        return redirect(_card_url(behaviour))
    form = ImprovementPlanForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, behaviour, plan, form, status=400)
    data = form.cleaned_data
    try:
        services.improvement_plan_save(
            behaviour_id=behaviour.pk,
            by=user,
            actions=data["actions"],
            support=data["support"],
            review_on=data["review_on"],
            expected_version=data["version"],
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return _plan_page(request, behaviour, plan, form, status=400)
    except StaleEdit as error:
        if wants_json(request):
            raise
        current = selectors.improvement_plan_of(user, behaviour)
        return _plan_page(
            request,
            behaviour,
            current,
            ImprovementPlanForm(initial=_initial(current)),
            status=409,
            error=str(error),
            attempted=data,
        )
    except WorkflowError as error:
        if wants_json(request):
            raise
        return _plan_page(
            request, behaviour, plan, form, status=error.status_code, error=str(error)
        )
    messages.success(request, f"Improvement plan for {behaviour.name} saved.")
    return redirect(_card_url(behaviour))


def _int_or_none(value):
    return int(value) if value and str(value).isdigit() else None


def _initial(plan) -> dict:
    if plan is None:
        return {}
    return {
        "version": plan.version,
        "actions": plan.actions,
        "support": plan.support,
        "review_on": plan.review_on,
    }


def _card_url(behaviour: Behaviour) -> str:
    return reverse("coaching:report_card") + f"?year={behaviour.behaviour_set.plan_year.year}"


def _plan_page(request, behaviour, plan, form, *, status=200, **extra):
    standing = selectors.behaviour_ytd(request.user, request.user, behaviour)
    context = {
        "nav": NAV,
        "behaviour": behaviour,
        "plan": plan,
        "form": form,
        "standing": standing,
        "below_target": standing.share is not None and standing.share < behaviour.objective_pct,
        **extra,
    }
    return render(request, "coaching/report_card/improvement_plan.html", context, status=status)


# --- compensation --------------------------------------------------------------------------


@login_required
def compensation(request):
    """Per RM in scope: product and RB attainment combined with the year's weighting."""
    user = request.user
    plan_year = _plan_year(request)
    if plan_year is None:
        return _no_plan_year(request)
    team = None
    team_id = request.GET.get("team")
    if team_id:
        if not team_id.isdigit():
            raise Http404("No such team.")
        team = get_object_or_404(visible_teams(user), pk=int(team_id))
    view = selectors.compensation(user, plan_year, team=team)
    if export_format(request):
        return _compensation_export(request, view)
    view.rows  # noqa: B018 computed before the page renders, so the note knows `as_of`
    return render(
        request,
        "coaching/report_card/compensation.html",
        {
            "nav": "compensation",
            "view": view,
            "plan_year": plan_year,
            "plan_years": list(PlanYear.objects.order_by("-year")),
            "teams": list(visible_teams(user)) if user.role != Role.RM else [],
            "team": team,
            "points_floor": selectors.POINTS_FLOOR,
            "points_cost": 100 // selectors.POINTS_FLOOR,
        },
    )


CSV_HEADER = [
    "RM",
    "Username",
    "Team",
    "Product attainment %",
    "RB score YTD %",
    "RB objective %",
    "RB attainment %",
    "Product weight %",
    "RB weight %",
    "Combined %",
]


def _compensation_export(request, view):
    """The page's rows (CSV or Excel), computed one RM at a time as they are written."""

    def rows():
        for row in view.iter_rows():
            yield (
                str(row.rm),
                row.rm.username,
                row.rm.team.name if row.rm.team else "",
                row.product,
                row.rb_score,
                row.rb_objective,
                row.rb,
                view.product_weight,
                view.rb_weight,
                row.combined,
            )

    return export_response(
        request,
        f"compensation-{view.plan_year.year}",
        CSV_HEADER,
        rows(),
        sheet_title=f"Compensation {view.plan_year.year}",
    )
