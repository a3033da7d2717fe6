"""Target sets and the year's steering standards.

Thin views: the access layer finds the record (404 outside scope), the services decide
(403 not allowed, 409 not from this state, four eyes), and a refused action re-renders
the page with the reason. JSON clients get the workflow middleware's answer instead.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from org.access import visible_people, visible_teams
from org.models import Role
from salesmgmt.exports import export_format, export_response
from salesmgmt.workflow import Incomplete, StaleEdit, WorkflowError, wants_json

from ..forms.targets import DecisionForm, StandardsForm, TargetSetForm, line_formset
from ..models import PlanYear, Scope, TargetSet
from ..selectors import targets as selectors
from ..selectors.common import current_plan_year
from ..services import standards as standard_services
from ..services import targets as services

Status = TargetSet.Status


def _plan_year(request) -> PlanYear | None:
    """?year=2027, else the current plan year; a year that does not exist is a 404."""
    year = request.GET.get("year")
    if year is None or year == "":
        return current_plan_year()
    if not year.isdigit():
        raise Http404("No such plan year.")
    return get_object_or_404(PlanYear, year=int(year))


# --- the list --------------------------------------------------------------------------------


TARGET_SETS_HEADER = (
    "Scope",
    "Subject",
    "Team",
    "Status",
    "Revision",
    "Lines",
    "Weights %",
    "Last edited by",
    "Approved revision in force",
)


def _target_set_rows(overview):
    """The list's subjects in the page's order (bank, teams, RMs by team), one line each."""
    subjects = [
        ("Bank", overview.bank),
        *(("Team", row) for row in overview.teams),
        *(("RM", row) for _, rows in overview.rms_by_team for row in rows),
    ]
    for scope, row in subjects:
        ts = row.current
        team = row.team.name if row.team else ""
        if ts is None:
            yield (scope, row.label, team, "No targets yet", None, None, None, "", None)
            continue
        yield (
            scope,
            row.label,
            team,
            ts.get_status_display(),
            ts.revision,
            ts.line_count,
            ts.weight_total if ts.line_count else None,
            str(ts.last_edited_by) if ts.last_edited_by else "",
            row.in_force.revision if row.in_force else None,
        )


@login_required
def target_set_list(request):
    plan_year = _plan_year(request)
    if plan_year is None:
        return render(request, "planning/no_plan_year.html", {"nav": "targets"})
    overview = selectors.target_set_overview(request.user, plan_year)
    if export_format(request):
        return export_response(
            request,
            f"targets-{plan_year.year}",
            TARGET_SETS_HEADER,
            _target_set_rows(overview),
            sheet_title=f"Targets {plan_year.year}",
        )
    return render(
        request,
        "planning/targets/list.html",
        {
            "nav": "targets",
            "plan_year": plan_year,
            "plan_years": selectors.plan_years(),
            "overview": overview,
        },
    )


@login_required
@require_POST
def target_set_start(request):
    """Start the first draft for the bank, a team or an RM. Foreign subjects are 404."""
    user = request.user
    plan_year = get_object_or_404(PlanYear, pk=_int(request.POST.get("plan_year")))
    scope = request.POST.get("scope")
    team = rm = None
    if scope == Scope.TEAM:
        team = get_object_or_404(visible_teams(user), pk=_int(request.POST.get("team")))
    elif scope == Scope.RM:
        rm = get_object_or_404(
            visible_people(user).filter(role=Role.RM).select_related("team"),
            pk=_int(request.POST.get("rm")),
        )
    elif scope != Scope.BANK:
        raise Http404("No such kind of target set.")
    ts = services.target_set_create(plan_year=plan_year, scope=scope, by=user, team=team, rm=rm)
    messages.success(request, f"Draft targets started for {ts.subject_label}.")
    return redirect(ts)


def _int(value) -> int:
    if value is None or not str(value).isdigit():
        raise Http404("Not found.")
    return int(value)


# --- one set ---------------------------------------------------------------------------------


def _get(request, pk) -> TargetSet:
    return get_object_or_404(selectors.target_set_page(request.user), pk=pk)


def _detail(request, ts: TargetSet, *, status: int = 200, **extra):
    """The detail page; `extra` carries bound forms, an error or the problems to show."""
    user = request.user
    metrics = selectors.metric_catalogue()
    revisions = selectors.revisions(user, ts)
    can_edit = ts.is_editable and ts.plan_year.is_open and services.may_edit(user, ts)
    context = {
        "nav": "targets",
        "ts": ts,
        "lines": list(ts.lines.all()),
        "weight_total": sum(line.weight for line in ts.lines.all()),
        "categories": selectors.weight_by_category(ts.lines.all()),
        "balance": selectors.growth_retention_balance(ts.lines.all()),
        "problems": services.target_set_problems(ts) if ts.is_editable else {},
        "revisions": revisions,
        "in_force": next((r for r in revisions if r.status == Status.APPROVED), None),
        "comments": selectors.thread(ts),
        "history": selectors.history(ts, metrics=metrics),
        "can_edit": can_edit,
        "can_revise": ts.status == Status.APPROVED
        and ts.plan_year.is_open
        and services.may_edit(user, ts)
        and revisions[0].pk == ts.pk,
        **_decision(user, ts),
    }
    if selectors.shows_roll_up(user, ts):
        context["roll_up"] = selectors.roll_up(ts, viewer=user)
    if can_edit:
        context.setdefault("form", TargetSetForm.for_set(ts))
        context.setdefault("formset", line_formset(ts, metrics))
    if context.get("decision_form") is None and context["can_decide"]:
        context["decision_form"] = DecisionForm()
    context.update(extra)
    return render(request, "planning/targets/detail.html", context, status=status)


def _decision(user, ts: TargetSet) -> dict:
    """Whether `user` sees Approve / Return, or the four-eyes reason instead."""
    if not (services.may_decide(user, ts) and ts.status == Status.PROPOSED):
        return {"can_decide": False, "four_eyes": ""}
    if user.pk == ts.proposed_by_id:
        reason = "You proposed these targets"
    elif user.pk == ts.last_edited_by_id:
        reason = "You last edited these targets"
    else:
        return {"can_decide": True, "four_eyes": ""}
    return {
        "can_decide": False,
        "four_eyes": f"Four eyes: {reason}, so another executive approves or returns them.",
    }


@login_required
def target_set_detail(request, pk):
    ts = _get(request, pk)
    if request.method != "POST":
        return _detail(request, ts)
    return _edit(request, ts)


def _edit(request, ts: TargetSet):
    """Save the draft (and propose it, with the "Save and propose" button)."""
    user = request.user
    if not services.may_edit(user, ts):
        raise PermissionDenied("You may not edit these targets.")
    metrics = selectors.metric_catalogue()
    form = TargetSetForm.for_set(ts, request.POST)
    formset = line_formset(ts, metrics, request.POST)
    if not (ts.is_editable and ts.plan_year.is_open):
        # The service would refuse it too; say so before complaining about the form.
        return _detail(
            request,
            ts,
            status=409,
            error=f"These targets are {ts.get_status_display().lower()}"
            + ("" if ts.plan_year.is_open else f" and {ts.plan_year} is closed")
            + ": they cannot be edited.",
        )
    if not (form.is_valid() and formset.is_valid()):
        return _detail(request, ts, status=400, form=form, formset=formset)
    proposing = request.POST.get("action") == "propose"
    try:
        saved = services.target_set_save(
            target_set_id=ts.pk,
            by=user,
            lines=formset.lines(),
            growth_share_pct=form.cleaned_data.get("growth_share_pct"),
            expected_version=form.cleaned_data["version"],
        )
        if proposing:
            services.target_set_propose(
                target_set_id=ts.pk,
                by=user,
                comment=form.cleaned_data["comment"],
                expected_version=saved.version,
            )
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _detail(request, ts, status=400, form=form, formset=formset)
    except StaleEdit as error:
        if wants_json(request):
            raise
        # Nothing is overwritten: the page shows the values saved by the other person
        # (as the new starting point) and what this person tried to save.
        return _detail(
            request,
            _get(request, ts.pk),
            status=409,
            error=str(error),
            attempted={
                "lines": formset.lines(),
                "growth_share_pct": form.cleaned_data.get("growth_share_pct"),
            },
        )
    except Incomplete as error:
        if wants_json(request):
            raise
        return _detail(
            request,
            _get(request, ts.pk),
            status=400,
            error="Saved as a draft, but not proposed: see what is missing below.",
            problems=error.missing,
        )
    except WorkflowError as error:
        if wants_json(request):
            raise
        return _detail(request, _get(request, ts.pk), status=error.status_code, error=str(error))
    if proposing:
        messages.success(request, "Targets proposed: an executive will approve or return them.")
    else:
        messages.success(request, "Draft saved.")
    return redirect(ts)


@login_required
@require_POST
def target_set_decide(request, pk):
    """Approve or return proposed targets (executives; four eyes)."""
    ts = _get(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, ts, status=400, decision_form=form)
    action, comment = form.cleaned_data["action"], form.cleaned_data["comment"]
    try:
        if action == "approve":
            services.target_set_approve(target_set_id=ts.pk, by=request.user, comment=comment)
        else:
            services.target_set_return(target_set_id=ts.pk, by=request.user, comment=comment)
    except ValidationError as error:
        form.add_error(None, error)
        return _detail(request, ts, status=400, decision_form=form)
    except WorkflowError as error:
        if wants_json(request):
            raise
        return _detail(request, _get(request, ts.pk), status=error.status_code, error=str(error))
    messages.success(
        request,
        "Targets approved." if action == "approve" else "Targets returned with your comment.",
    )
    return redirect(ts)


@login_required
@require_POST
def target_set_revise(request, pk):
    """Start a new draft revision of approved targets."""
    ts = _get(request, pk)
    try:
        revision = services.target_set_revise(target_set_id=ts.pk, by=request.user)
    except WorkflowError as error:
        if wants_json(request):
            raise
        return _detail(request, ts, status=error.status_code, error=str(error))
    messages.success(
        request, f"Revision {revision.revision} started from the approved revision {ts.revision}."
    )
    return redirect(revision)


# --- steering standards ----------------------------------------------------------------------


@login_required
def standards_current(request):
    """The standards of ?year=, else of the current plan year."""
    plan_year = _plan_year(request)
    if plan_year is None:
        return render(request, "planning/no_plan_year.html", {"nav": "targets"})
    return redirect("planning:standards", year=plan_year.year)


@login_required
def standards(request, year):
    plan_year = get_object_or_404(PlanYear, year=year)
    can_set = standard_services.may_set_standards(request.user) and plan_year.is_open
    if request.method == "POST" and not standard_services.may_set_standards(request.user):
        raise PermissionDenied("Only executives set the steering standards.")
    current = selectors.year_standards(plan_year)
    version = current.last_change.history_id if current.last_change else 0
    status, error = 200, ""
    if request.method == "POST":
        form = StandardsForm(request.POST)
        if form.is_valid():
            try:
                standard_services.standards_save(
                    plan_year_id=plan_year.pk,
                    by=request.user,
                    data=form.to_input(),
                    expected_version=form.cleaned_data["version"],
                )
            except ValidationError as e:
                form.add_error(None, e.messages)
                status = 400
            except WorkflowError as e:
                if wants_json(request):
                    raise
                # Show what is saved now, and say that theirs was not saved.
                status, error = e.status_code, str(e)
                form = StandardsForm(initial=StandardsForm.initial_for(current, version))
            else:
                messages.success(request, f"Steering standards for {plan_year} saved.")
                return redirect("planning:standards", year=plan_year.year)
        else:
            status = 400
    else:
        form = StandardsForm(initial=StandardsForm.initial_for(current, version))
    return render(
        request,
        "planning/targets/standards.html",
        {
            "nav": "targets",
            "plan_year": plan_year,
            "plan_years": selectors.plan_years(),
            "standards": current,
            "form": form,
            "can_set": can_set,
            "error": error,
        },
        status=status,
    )
