"""The year's RB behaviours: written by executives and the back office, signed off by
another executive (four eyes), read by everyone once approved.

One page per plan year. Its POST carries the button pressed: start, save, propose,
approve or return; the services (coaching.services.behaviours) decide, and a refusal
re-renders the page with the reason (JSON clients get the workflow middleware's answer).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from planning.models import PlanYear
from planning.selectors.common import current_plan_year
from salesmgmt.workflow import Incomplete, StaleEdit, WorkflowError, wants_json

from ..forms.report_card import BehaviourSetForm, DecisionForm, behaviour_formset
from ..models import BehaviourSet
from ..services import behaviours as services

Status = BehaviourSet.Status
NAV = "behaviours"


@login_required
def behaviours_current(request):
    plan_year = current_plan_year()
    if plan_year is None:
        return render(request, "planning/no_plan_year.html", {"nav": NAV})
    return redirect("coaching:behaviours", year=plan_year.year)


def _set(plan_year: PlanYear) -> BehaviourSet | None:
    return (
        BehaviourSet.objects.select_related(
            "plan_year", "created_by", "last_edited_by", "proposed_by", "decided_by"
        )
        .filter(plan_year=plan_year)
        .first()
    )


def _sees_unapproved(user) -> bool:
    return services.may_write(user) or services.may_decide(user)


def _four_eyes(user, bs: BehaviourSet) -> str:
    if bs.status != Status.PROPOSED or not services.may_decide(user):
        return ""
    if user.pk == bs.proposed_by_id:
        return "Four eyes: you proposed these behaviours, so another executive approves them."
    if user.pk == bs.last_edited_by_id:
        return "Four eyes: you last edited these behaviours, so another executive approves them."
    return ""


def _page(request, plan_year, bs, *, status=200, **extra):
    user = request.user
    visible = bs is not None and (bs.status == Status.APPROVED or _sees_unapproved(user))
    actions = services.behaviour_set_actions(bs, user) if bs is not None else frozenset()
    context = {
        "nav": NAV,
        "plan_year": plan_year,
        "plan_years": list(PlanYear.objects.order_by("-year")),
        "bs": bs,
        "visible": visible,
        "behaviours": list(bs.behaviours.all()) if visible else [],
        "can_start": bs is None and services.may_write(user) and plan_year.is_open,
        "can_edit": "edit" in actions,
        "can_decide": "approve" in actions,
        "can_return": "return" in actions,
        "four_eyes": _four_eyes(user, bs) if bs is not None else "",
        "problems": {},
    }
    if visible:
        context["weight_total"] = sum(b.weight for b in context["behaviours"])
    if context["can_edit"]:
        context["form"] = BehaviourSetForm.for_set(bs)
        context["formset"] = behaviour_formset(bs, behaviours=context["behaviours"])
        context["problems"] = services.problems(
            [services.BehaviourInput(b.name, b.weight) for b in context["behaviours"]]
        )
    if context["can_return"]:
        context["decision_form"] = DecisionForm()
    context.update(extra)
    return render(request, "coaching/behaviours/page.html", context, status=status)


@login_required
def behaviours(request, year):
    plan_year = get_object_or_404(PlanYear, year=year)
    bs = _set(plan_year)
    if request.method != "POST":
        return _page(request, plan_year, bs)
    action = request.POST.get("action", "")
    if action == "start":
        bs = services.behaviour_set_start(plan_year=plan_year, by=request.user)
        messages.success(request, f"Behaviours for {plan_year} started as a draft.")
        return redirect("coaching:behaviours", year=plan_year.year)
    if bs is None:
        raise Http404("No behaviours for this year yet.")
    if action in ("save", "propose"):
        return _edit(request, plan_year, bs, propose=action == "propose")
    if action in ("approve", "return"):
        return _decide(request, plan_year, bs)
    raise Http404("No such action.")


def _edit(request, plan_year, bs, *, propose: bool):
    user = request.user
    if not services.may_write(user):
        raise PermissionDenied("Only executives and the back office write the RB behaviours.")
    form = BehaviourSetForm.for_set(bs, request.POST)
    formset = behaviour_formset(bs, request.POST)
    if not (form.is_valid() and formset.is_valid()):
        return _page(request, plan_year, bs, status=400, form=form, formset=formset)
    try:
        saved = services.behaviour_set_save(
            set_id=bs.pk,
            by=user,
            behaviours=formset.inputs(),
            min_ratings_for_ranking=form.cleaned_data["min_ratings_for_ranking"],
            expected_version=form.cleaned_data["version"],
        )
        if propose:
            services.behaviour_set_propose(set_id=saved.pk, by=user)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _page(request, plan_year, bs, status=400, form=form, formset=formset)
    except StaleEdit as error:
        if wants_json(request):
            raise
        return _page(
            request, plan_year, _set(plan_year), status=409, error=str(error), attempted=formset
        )
    except Incomplete as error:
        if wants_json(request):
            raise
        return _page(
            request,
            plan_year,
            _set(plan_year),
            status=400,
            error="Saved as a draft, but not proposed: see what is missing below.",
            problems=error.missing,
        )
    except WorkflowError as error:
        if wants_json(request):
            raise
        return _page(
            request, plan_year, _set(plan_year), status=error.status_code, error=str(error)
        )
    if propose:
        messages.success(
            request, "Behaviours proposed: another executive approves or returns them."
        )
    else:
        messages.success(request, "Draft saved.")
    return redirect("coaching:behaviours", year=plan_year.year)


def _decide(request, plan_year, bs):
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _page(request, plan_year, bs, status=400, decision_form=form)
    action, comment = form.cleaned_data["action"], form.cleaned_data["comment"]
    try:
        if action == "approve":
            services.behaviour_set_approve(set_id=bs.pk, by=request.user, comment=comment)
        else:
            services.behaviour_set_return(set_id=bs.pk, by=request.user, comment=comment)
    except ValidationError as error:
        if wants_json(request):
            raise
        form.add_error("comment", error.messages)
        return _page(request, plan_year, bs, status=400, decision_form=form)
    except WorkflowError as error:
        if wants_json(request):
            raise
        return _page(
            request, plan_year, _set(plan_year), status=error.status_code, error=str(error)
        )
    messages.success(
        request,
        "Behaviours approved: customers are asked about them from now on."
        if action == "approve"
        else "Behaviours returned with your comment.",
    )
    return redirect("coaching:behaviours", year=plan_year.year)
