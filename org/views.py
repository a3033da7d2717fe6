from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from coaching.selectors.report_card import bank_report_card, team_report_card
from planning.selectors.common import current_plan_year
from retention.selectors.departures import overview_flags

from . import selectors
from .access import require_role
from .models import Role


@login_required
def home(request):
    """Each role lands where its work is."""
    user = request.user
    if user.is_superuser or user.role == Role.ADMIN:
        return redirect("admin:index")
    if user.role == Role.EXECUTIVE:
        return redirect("org:bank")
    if user.role == Role.LEADER:
        return redirect("org:my_team")
    # An RM's day starts from their week: what is planned, what is done, what is due.
    return redirect("accounts:my_week")


@login_required
def my_team(request):
    require_role(request.user, Role.LEADER)
    team = selectors.team_page(request.user).filter(leader=request.user).first()
    if team is None:
        return render(request, "org/no_team.html")
    return redirect(team)


@login_required
def team_overview(request, pk):
    team = get_object_or_404(selectors.team_page(request.user), pk=pk)
    lines, month = selectors.team_overview(request.user, team)
    adherence = selectors.team_adherence(request.user, team, [line.subject for line in lines])
    plan_year = current_plan_year()
    card = team_report_card(request.user, team, plan_year) if plan_year else None
    return render(
        request,
        "org/team.html",
        {
            "team": team,
            "lines": lines,
            "month": month,
            "adherence": adherence,
            "adherence_weeks": selectors.ADHERENCE_WEEKS,
            "improved": _rankings(card),
            "card": card,
            "flags": overview_flags(request.user, team=team),
        },
    )


@login_required
def bank_overview(request):
    require_role(request.user, Role.EXECUTIVE, Role.ADMIN)
    lines, month, activities = selectors.bank_overview(request.user)
    adherence = selectors.leader_adherence(request.user, [line.subject for line in lines])
    plan_year = current_plan_year()
    card = bank_report_card(request.user, plan_year) if plan_year else None
    return render(
        request,
        "org/bank.html",
        {
            "lines": lines,
            "month": month,
            "activities": activities,
            "adherence": adherence,
            "adherence_weeks": selectors.ADHERENCE_WEEKS,
            "improved": _rankings(card),
            "card": card,
            "flags": overview_flags(request.user),
        },
    )


def _rankings(card) -> list[tuple[str, list]]:
    """The two "most improved" rankings of a report card, for the overview pages."""
    if card is None or card.behaviour_set is None:
        return []
    return [
        ("Month on month", card.improved_month),
        ("Since the start of the year", card.improved_year),
    ]
