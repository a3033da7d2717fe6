"""The plan screens: My plan, a plan page, Team plans, relationship and development plans.

Views read through planning.selectors.plans (which start from org.access: outside scope is
a 404), change state only through planning.services.plans (which raise PermissionDenied
→ 403, InvalidTransition / StaleEdit → 409, Incomplete → 400), and re-render forms with
the reason. htmx requests get the changed fragment; plain posts get the whole page.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from org.access import require_role, visible_accounts
from org.models import Role
from salesmgmt.exports import export_format, export_response
from salesmgmt.workflow import Incomplete, InvalidTransition, StaleEdit

from ..forms.plans import (
    RB_BEHAVIOURS,
    SECTION_FORMS,
    CommentForm,
    DecisionForm,
    DevelopmentGoalForm,
    DevelopmentPlanForm,
    PlannedActionForm,
    RelationshipPlanForm,
    SubmitForm,
)
from ..models import DevelopmentPlan, PlannedAction, RelationshipPlan, TerritoryPlan
from ..selectors import plans as selectors
from ..selectors.common import current_plan_year
from ..services import plans as services

# Answers for a form that was refused: the fragment swaps in (see the htmx-config meta tag
# in plan_page.html), and a plain post re-renders the page with the same status.
BAD_INPUT = 400
CONFLICT = 409


# --- the plan page ------------------------------------------------------------------------------


@dataclass
class SectionView:
    """What one section of the plan page shows."""

    key: str
    title: str
    missing: str | None
    form: object | None = None
    state: str = ""  # "", "saved", "stale", "invalid", "refused"
    message: str = ""
    typed: list[tuple[str, str]] = field(default_factory=list)
    highlight_missing: bool = False

    @property
    def complete(self) -> bool:
        return self.missing is None


def _plan(request, pk) -> TerritoryPlan:
    return get_object_or_404(selectors.territory_plan_page(request.user), pk=pk)


def _section_form(key, plan, *, data=None, version=None):
    """A section's form; bound forms get a copy of the plan, because validating a model form
    writes the posted values onto its instance."""
    return SECTION_FORMS[key](
        data,
        prefix=key,
        instance=copy.copy(plan) if data is not None else plan,
        initial={"version": version if version is not None else plan.version},
        line_choices=selectors.measured_line_choices(plan.rm, plan),
        account_choices=selectors.top_account_choices(plan.rm, plan),
    )


def _sections(plan, actions, *, overrides=None, missing=None, highlight=False):
    missing = services.missing_sections(plan) if missing is None else missing
    overrides = overrides or {}
    result = []
    for key, spec in services.SECTIONS.items():
        if key in overrides:
            result.append(overrides[key])
            continue
        result.append(
            SectionView(
                key=key,
                title=spec["title"],
                missing=missing.get(key),
                form=_section_form(key, plan) if "edit" in actions else None,
                highlight_missing=highlight,
            )
        )
    return result


def _sidebar_context(request, plan, actions, *, submit_version=None, decision_forms=None):
    missing = services.missing_sections(plan)
    done = len(services.SECTIONS) - len(missing)
    decision_forms = decision_forms or {}
    return {
        "plan": plan,
        "actions": actions,
        "standard": selectors.activity_standard_for(plan),
        "missing": missing,
        "missing_items": [(k, services.SECTIONS[k]["title"], why) for k, why in missing.items()],
        "sections_done": done,
        "sections_total": len(services.SECTIONS),
        "submit_form": decision_forms.get("submit")
        or SubmitForm(
            prefix="submit",
            initial={"version": submit_version if submit_version is not None else plan.version},
        ),
        "endorse_form": decision_forms.get("endorse") or DecisionForm(prefix="endorse"),
        "approve_form": decision_forms.get("approve") or DecisionForm(prefix="approve"),
        "return_form": decision_forms.get("return") or DecisionForm(prefix="return"),
        "disconnects": selectors.disconnects(plan),
        "coverage": selectors.tier_a_coverage(
            visible_accounts(request.user).filter(owner=plan.rm_id), plan_year=plan.plan_year
        ),
    }


def _render_plan(
    request,
    plan: TerritoryPlan,
    *,
    overrides=None,
    missing_shown=None,
    decision_forms=None,
    comment_form=None,
    error="",
    status=200,
):
    user = request.user
    actions = services.plan_actions(plan, user)
    comments = selectors.plan_comments(plan)
    context = {
        "nav": "my_plan" if plan.rm_id == user.pk else "team_plans",
        "is_own": plan.rm_id == user.pk,
        "sections": _sections(
            plan,
            actions,
            overrides=overrides,
            missing=missing_shown,
            highlight=missing_shown is not None,
        ),
        "missing_shown": missing_shown,
        "comments": comments,
        "return_comment": (
            selectors.last_return(comments)
            if plan.status == TerritoryPlan.Status.RETURNED
            else None
        ),
        "comment_form": comment_form or CommentForm(prefix="comment"),
        "relationship_lines": selectors.relationship_plan_lines(
            user, plan.rm, plan_year=plan.plan_year
        ),
        "development_plan": selectors.development_plan_of(plan.rm, plan.plan_year, user),
        "history": selectors.plan_history(plan),
        "error": error,
        **_sidebar_context(request, plan, actions, decision_forms=decision_forms),
    }
    return render(request, "planning/plans/plan_page.html", context, status=status)


def _no_year(request, nav):
    return render(request, "planning/plans/no_plan_year.html", {"nav": nav})


@login_required
def my_plan(request):
    """The RM's territory plan for the current year, started on the first visit."""
    user = request.user
    if user.role == Role.LEADER:
        return redirect("planning:team_plans")
    if user.role == Role.EXECUTIVE:
        return redirect("planning:signoff")
    require_role(user, Role.RM)
    plan_year = current_plan_year()
    if plan_year is None:
        return _no_year(request, "my_plan")
    started = services.territory_plan_start(rm=user, plan_year=plan_year)
    return _render_plan(request, _plan(request, started.pk))


@login_required
def territory_plan_detail(request, pk):
    return _render_plan(request, _plan(request, pk))


def _posted_versions(request) -> dict[str, str]:
    return {key: request.POST.get(f"{key}-version", "") for key in [*services.SECTIONS, "submit"]}


def _typed_values(form) -> list[tuple[str, str]]:
    """What the user wrote in a refused form's text fields, so that nothing typed is lost."""
    typed = []
    for name, form_field in form.fields.items():
        if name == "version" or not isinstance(form_field, forms.CharField):
            continue
        value = form.data.get(form.add_prefix(name), "")
        if isinstance(value, str) and value.strip():
            typed.append((str(form_field.label), value))
    return typed


@login_required
@require_POST
def plan_section(request, pk, section):
    """Save one section of the RM's draft: the section fragment for htmx, else the page."""
    if section not in services.SECTIONS:
        raise Http404("No such section.")
    plan = _plan(request, pk)
    services.require_plan_writer(plan, request.user)
    title = services.SECTIONS[section]["title"]
    form = _section_form(section, plan, data=request.POST)
    status, view = 200, None
    if not form.is_valid():
        status = BAD_INPUT
        view = SectionView(
            section,
            title,
            services.missing_sections(plan).get(section),
            form=form,
            state="invalid",
            message="Not saved: see below.",
        )
    else:
        expected = form.cleaned_data["version"]
        try:
            saved = services.territory_plan_save_section(
                plan_id=plan.pk,
                section=section,
                data=form.section_data(),
                by=request.user,
                expected_version=expected,
            )
        except StaleEdit as exc:
            status = CONFLICT
            current = _plan(request, plan.pk)
            view = SectionView(
                section,
                title,
                services.missing_sections(current).get(section),
                form=_section_form(section, current),
                state="stale",
                message=str(exc),
                typed=_typed_values(form),
            )
            plan = current
        except InvalidTransition as exc:
            if not request.htmx:
                return _render_plan(request, _plan(request, plan.pk), error=str(exc), status=409)
            status = CONFLICT
            view = SectionView(section, title, None, state="refused", message=str(exc))
        except ValidationError as exc:
            status = BAD_INPUT
            form.add_error(None, exc)
            view = SectionView(
                section,
                title,
                services.missing_sections(plan).get(section),
                form=form,
                state="invalid",
                message="Not saved: see below.",
            )
        else:
            if not request.htmx:
                messages.success(request, f"{title}: saved.")
                return redirect(f"{saved.get_absolute_url()}#section-{section}")
            return _section_saved(request, saved.pk, section, expected)

    if not request.htmx:
        return _render_plan(request, plan, overrides={section: view}, status=status)
    return render(
        request,
        "planning/plans/_section.html",
        {
            "section": view,
            "plan": plan,
            "actions": services.plan_actions(plan, request.user),
            "standard": selectors.activity_standard_for(plan),
        },
        status=status,
    )


def _section_saved(request, pk, section, expected):
    """The saved section, plus (out of band) the sidebar and the version of every other form
    on the page that was current when this save started: those forms show the plan as it
    now is. A form already behind stays behind, so its next save is refused, not lost."""
    plan = _plan(request, pk)
    actions = services.plan_actions(plan, request.user)
    posted = _posted_versions(request)
    caught_up = [key for key, v in posted.items() if key != section and v == str(expected)]
    view = SectionView(
        section,
        services.SECTIONS[section]["title"],
        services.missing_sections(plan).get(section),
        form=_section_form(section, plan),
        state="saved",
        message="Saved.",
    )
    submit_version = plan.version if "submit" in caught_up else posted["submit"] or None
    return render(
        request,
        "planning/plans/_section_saved.html",
        {
            "section": view,
            "caught_up": [k for k in caught_up if k != "submit"],
            **_sidebar_context(request, plan, actions, submit_version=submit_version),
        },
    )


@login_required
@require_POST
def plan_submit(request, pk):
    plan = _plan(request, pk)
    form = SubmitForm(request.POST, prefix="submit")
    if not form.is_valid():
        return _render_plan(
            request,
            plan,
            decision_forms={"submit": form},
            error="Not submitted: reload the page and try again.",
            status=BAD_INPUT,
        )
    try:
        services.territory_plan_submit(
            plan_id=plan.pk,
            by=request.user,
            comment=form.cleaned_data["comment"],
            expected_version=form.cleaned_data["version"],
        )
    except Incomplete as exc:
        return _render_plan(
            request,
            plan,
            missing_shown=exc.missing,
            decision_forms={"submit": form},
            error="Not submitted yet: "
            + ", ".join(services.SECTIONS[k]["title"] for k in exc.missing)
            + " still need(s) your words. Each section below says what is missing.",
            status=BAD_INPUT,
        )
    except (StaleEdit, InvalidTransition) as exc:
        message = str(exc)
        if isinstance(exc, StaleEdit):
            message = (
                "Not submitted: the plan changed after you opened it (in another window or "
                "tab). Read it once more, then submit."
            )
        return _render_plan(request, _plan(request, pk), error=message, status=CONFLICT)
    leader = plan.rm.team.leader if plan.rm.team else None
    messages.success(
        request,
        f"Submitted. {leader or 'Your team leader'} will endorse it or return it with comments.",
    )
    return redirect(plan.get_absolute_url())


DECISIONS = {
    "endorse": (services.territory_plan_endorse, "Endorsed: the plan goes to the executives."),
    "approve": (services.territory_plan_approve, "Approved."),
    "return": (services.territory_plan_return, "Returned to the RM with your comment."),
}


@login_required
@require_POST
def plan_decide(request, pk, decision):
    """Endorse (leader), approve (executive) or return (either) a plan."""
    if decision not in DECISIONS:
        raise Http404("No such decision.")
    plan = _plan(request, pk)
    service, done = DECISIONS[decision]
    form = DecisionForm(request.POST, prefix=decision)
    if form.is_valid():
        try:
            service(plan_id=plan.pk, by=request.user, comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            form.add_error(None, exc)
        except InvalidTransition as exc:
            return _render_plan(request, _plan(request, pk), error=str(exc), status=CONFLICT)
        else:
            messages.success(request, done)
            return redirect(plan.get_absolute_url())
    return _render_plan(
        request,
        plan,
        decision_forms={decision: form},
        error="Not done: see the form below.",
        status=BAD_INPUT,
    )


@login_required
@require_POST
def plan_comment(request, pk):
    plan = _plan(request, pk)
    form = CommentForm(request.POST, prefix="comment")
    if form.is_valid():
        try:
            services.plan_comment_add(
                plan_id=plan.pk, by=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    status = 200 if form.is_valid() else BAD_INPUT
    if not request.htmx:
        if status == 200:
            messages.success(request, "Comment added.")
            return redirect(f"{plan.get_absolute_url()}#comments")
        return _render_plan(request, plan, comment_form=form, status=status)
    return render(
        request,
        "planning/plans/_comments.html",
        {
            "plan": plan,
            "comments": selectors.plan_comments(plan),
            "comment_form": CommentForm(prefix="comment") if status == 200 else form,
            "actions": services.plan_actions(plan, request.user),
        },
        status=status,
    )


# --- team plans ---------------------------------------------------------------------------------


TEAM_PLANS_HEADER = (
    "RM",
    "Team",
    "Style",
    "Plan",
    "Sections done",
    "Sections",
    "Tier-A accounts",
    "Tier-A with a relationship plan",
    "Disconnects",
    "What does not add up",
    "Last change",
)


def _team_plan_rows(rows):
    """Team plans as the page lists them (the rows are computed once, for a fixed number of
    queries): one line per RM."""
    total = len(services.SECTIONS)
    for row in rows:
        plan = row.plan
        yield (
            str(row.rm),
            row.rm.team.name if row.rm.team else "",
            row.rm.get_rm_style_display(),
            plan.get_status_display() if plan else "Not started",
            row.sections_done if plan else None,
            total,
            row.coverage.total,
            row.coverage.covered,
            len(row.disconnects) if plan else None,
            "; ".join(d.title for d in row.disconnects),
            plan.updated_at if plan else None,
        )


@login_required
def team_plans(request):
    require_role(request.user, Role.LEADER, Role.EXECUTIVE)
    plan_year = current_plan_year()
    if plan_year is None:
        return _no_year(request, "team_plans")
    rows = selectors.team_plan_rows(request.user, plan_year=plan_year)
    if export_format(request):
        return export_response(
            request,
            f"team-plans-{plan_year.year}",
            TEAM_PLANS_HEADER,
            _team_plan_rows(rows),
            sheet_title=f"Team plans {plan_year.year}",
        )
    return render(
        request,
        "planning/plans/team_plans.html",
        {
            "nav": "team_plans",
            "plan_year": plan_year,
            "rows": rows,
            "sections_total": len(services.SECTIONS),
            "waiting": sum(1 for r in rows if r.waiting_for_leader),
            "statuses": TerritoryPlan.Status,
        },
    )


# --- relationship plans -------------------------------------------------------------------------


RELATIONSHIP_PLANS_HEADER = (
    "Tier",
    "Number",
    "Account",
    "Owner",
    "Plan",
    "Intent",
    "Review date",
    "Open actions",
    "Actions",
)


def _relationship_plan_rows(plans):
    """The relationship plans a leader or the bank sees, in the page's order."""
    for plan in plans.iterator(chunk_size=500):
        a = plan.account
        yield (
            a.tier.code,
            a.number,
            a.name,
            str(a.owner),
            "yes",
            plan.get_intent_display(),
            plan.review_on,
            plan.open_action_count,
            plan.action_count,
        )


def _relationship_line_rows(rm, lines):
    """The RM's tier-A and B accounts, each with its plan for the year or none."""
    for line in lines:
        a, plan = line.account, line.plan
        yield (
            a.tier.code,
            a.number,
            a.name,
            str(rm),
            "yes" if plan else "no",
            plan.get_intent_display() if plan else "",
            plan.review_on if plan else None,
            plan.open_action_count if plan else None,
            plan.action_count if plan else None,
        )


@login_required
def relationship_plans(request):
    """The relationship plans of the current year the user may see."""
    plan_year = current_plan_year()
    if plan_year is None:
        return _no_year(request, "my_plan")
    plans = selectors.relationship_plan_list(request.user, plan_year=plan_year)
    if export_format(request):
        if request.user.role == Role.RM:  # the RM's page lists their accounts, plan or not
            lines = selectors.relationship_plan_lines(
                request.user, request.user, plan_year=plan_year
            )
            rows = _relationship_line_rows(request.user, lines)
        else:
            rows = _relationship_plan_rows(plans)
        return export_response(
            request,
            f"relationship-plans-{plan_year.year}",
            RELATIONSHIP_PLANS_HEADER,
            rows,
            sheet_title=f"Relationship plans {plan_year.year}",
        )
    page = Paginator(plans, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"nav": "my_plan", "plan_year": plan_year, "page": page}
    if request.user.role == Role.RM:
        context["coverage"] = selectors.tier_a_coverage(
            visible_accounts(request.user).filter(owner=request.user), plan_year=plan_year
        )
        context["lines"] = selectors.relationship_plan_lines(
            request.user, request.user, plan_year=plan_year
        )
    return render(request, "planning/plans/relationship_plans.html", context)


def _relationship_context(request, plan: RelationshipPlan, *, form=None, action_form=None):
    account = plan.account
    can_write = services.may_write_relationship_plan(request.user, account) and (
        plan.plan_year.is_open
    )
    return {
        "nav": "my_plan" if request.user.role == Role.RM else "team_plans",
        "plan": plan,
        "account": account,
        "can_write": can_write,
        "form": form
        or (
            RelationshipPlanForm(instance=plan, initial={"version": plan.version})
            if can_write
            else None
        ),
        "action_form": action_form
        or (
            PlannedActionForm(
                owners=services.action_owners(account), initial={"owner": request.user.pk}
            )
            if can_write
            else None
        ),
        "actions": list(plan.actions.all()),
        "user_id": request.user.pk,
    }


@login_required
def account_relationship_plan(request, account_pk):
    """An account's relationship plan for the current year: open it, or write it."""
    account = get_object_or_404(
        visible_accounts(request.user).select_related("tier", "owner__team"), pk=account_pk
    )
    plan_year = current_plan_year()
    if plan_year is None:
        return _no_year(request, "book")
    existing = (
        selectors.relationship_plan_page(request.user)
        .filter(account=account, plan_year=plan_year)
        .first()
    )
    if existing is not None:
        if request.method != "POST":
            return redirect(existing)
        # The form was opened before somebody (another tab) wrote the plan: show theirs,
        # keep what this one typed, save nothing.
        if not services.may_write_relationship_plan(request.user, account):
            raise PermissionDenied("Only the account's RM writes its relationship plan.")
        context = _relationship_context(request, existing)
        context.update(
            stale="Somebody wrote a relationship plan for this account meanwhile. Your text "
            "was not saved; here is theirs.",
            typed=_typed_values(RelationshipPlanForm(request.POST)),
        )
        return render(request, "planning/plans/relationship_plan.html", context, status=CONFLICT)
    can_write = services.may_write_relationship_plan(request.user, account) and plan_year.is_open
    eligible = account.tier.code in services.RELATIONSHIP_TIERS
    form = None
    status = 200
    if request.method == "POST":
        if not can_write:
            raise PermissionDenied("Only the account's RM writes its relationship plan.")
        form = RelationshipPlanForm(request.POST)
        if form.is_valid():
            try:
                plan = services.relationship_plan_save(
                    account_id=account.pk,
                    plan_year=plan_year,
                    by=request.user,
                    data=form.plan_data(),
                    expected_version=0,
                )
            except StaleEdit as exc:
                messages.warning(request, str(exc))
                return redirect(exc.current)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Relationship plan saved.")
                return redirect(plan)
        status = BAD_INPUT
    elif can_write and eligible:
        form = RelationshipPlanForm(
            initial={
                "version": 0,
                "intent": "must_keep" if account.tier.code == "A" else "must_grow",
            }
        )
    return render(
        request,
        "planning/plans/relationship_plan_new.html",
        {
            "nav": "my_plan" if request.user.role == Role.RM else "book",
            "account": account,
            "plan_year": plan_year,
            "form": form if eligible else None,
            "can_write": can_write,
            "eligible": eligible,
        },
        status=status,
    )


@login_required
def relationship_plan_detail(request, pk):
    plan = get_object_or_404(selectors.relationship_plan_page(request.user), pk=pk)
    if request.method != "POST":
        return render(
            request, "planning/plans/relationship_plan.html", _relationship_context(request, plan)
        )
    if not services.may_write_relationship_plan(request.user, plan.account):
        raise PermissionDenied("Only the account's RM writes its relationship plan.")
    form = RelationshipPlanForm(request.POST, instance=copy.copy(plan))
    if form.is_valid():
        try:
            services.relationship_plan_save(
                account_id=plan.account_id,
                plan_year=plan.plan_year,
                by=request.user,
                data=form.plan_data(),
                expected_version=form.cleaned_data["version"],
            )
        except StaleEdit as exc:
            current = get_object_or_404(selectors.relationship_plan_page(request.user), pk=pk)
            context = _relationship_context(request, current)
            context.update(stale=str(exc), typed=_typed_values(form))
            return render(
                request, "planning/plans/relationship_plan.html", context, status=CONFLICT
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Relationship plan saved.")
            return redirect(plan)
    return render(
        request,
        "planning/plans/relationship_plan.html",
        _relationship_context(request, plan, form=form),
        status=BAD_INPUT,
    )


@login_required
@require_POST
def planned_action_add(request, pk):
    plan = get_object_or_404(selectors.relationship_plan_page(request.user), pk=pk)
    if not services.may_write_relationship_plan(request.user, plan.account):
        raise PermissionDenied("Only the account's RM plans its actions.")
    form = PlannedActionForm(request.POST, owners=services.action_owners(plan.account))
    if form.is_valid():
        try:
            services.planned_action_add(
                relationship_plan_id=plan.pk,
                by=request.user,
                description=form.cleaned_data["description"],
                due_on=form.cleaned_data["due_on"],
                owner=form.cleaned_data["owner"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Action added.")
            return redirect(f"{plan.get_absolute_url()}#actions")
    return render(
        request,
        "planning/plans/relationship_plan.html",
        _relationship_context(request, plan, action_form=form),
        status=BAD_INPUT,
    )


@login_required
@require_POST
def planned_action_done(request, pk):
    """Tick a planned action done (or not): the row for htmx, else back to the plan."""
    action = get_object_or_404(
        PlannedAction.objects.select_related("owner", "relationship_plan").filter(
            relationship_plan__in=selectors.relationship_plan_page(request.user).values("pk")
        ),
        pk=pk,
    )
    action = services.planned_action_set_done(
        action_id=action.pk, by=request.user, done=request.POST.get("done") in ("1", "on", "true")
    )
    if not request.htmx:
        return redirect(f"{action.relationship_plan.get_absolute_url()}#actions")
    action = PlannedAction.objects.select_related("owner").get(pk=action.pk)
    return render(
        request,
        "planning/plans/_action_row.html",
        {"action": action, "can_tick": True, "just_saved": True},
    )


# --- development plans --------------------------------------------------------------------------


def _development_context(request, plan, *, form=None, goal_form=None, **extra):
    can_write = plan.rm_id == request.user.pk and plan.plan_year.is_open
    lines = selectors.rm_target_lines(plan.rm, plan_year=plan.plan_year)
    return {
        "nav": "my_plan" if request.user.role == Role.RM else "team_plans",
        "plan": plan,
        "plan_year": plan.plan_year,
        "can_write": can_write,
        "form": form
        or (
            DevelopmentPlanForm(instance=plan, initial={"version": plan.version})
            if can_write and plan.pk
            else None
        ),
        "goal_form": goal_form
        or (DevelopmentGoalForm(lines=lines) if can_write and plan.pk else None),
        "goals": list(plan.goals.all()) if plan.pk else [],
        "behaviours": RB_BEHAVIOURS,
        **extra,
    }


@login_required
def my_development_plan(request):
    """The RM's development plan for the current year: opened if it exists, else written."""
    require_role(request.user, Role.RM)
    plan_year = current_plan_year()
    if plan_year is None:
        return _no_year(request, "my_plan")
    existing = (
        selectors.development_plan_page(request.user)
        .filter(rm=request.user, plan_year=plan_year)
        .first()
    )
    if existing is not None:
        return redirect(existing)
    form = DevelopmentPlanForm(request.POST or None, initial={"version": 0})
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.development_plan_save(
                rm=request.user,
                plan_year=plan_year,
                by=request.user,
                data=form.plan_data(),
                expected_version=0,
            )
        except StaleEdit as exc:
            messages.warning(request, str(exc))
            return redirect(exc.current)
        messages.success(request, "Development plan saved. Now add the skills you will build.")
        return redirect(plan)
    draft = DevelopmentPlan(rm=request.user, plan_year=plan_year)
    context = _development_context(request, draft, form=form, new=True)
    context["can_write"] = plan_year.is_open
    return render(
        request,
        "planning/plans/development_plan.html",
        context,
        status=BAD_INPUT if form.is_bound else 200,
    )


@login_required
def development_plan_detail(request, pk):
    plan = get_object_or_404(selectors.development_plan_page(request.user), pk=pk)
    if request.method != "POST":
        return render(
            request, "planning/plans/development_plan.html", _development_context(request, plan)
        )
    if plan.rm_id != request.user.pk:
        raise PermissionDenied("Only the RM writes their development plan.")
    form = DevelopmentPlanForm(request.POST, instance=copy.copy(plan))
    if form.is_valid():
        try:
            services.development_plan_save(
                rm=request.user,
                plan_year=plan.plan_year,
                by=request.user,
                data=form.plan_data(),
                expected_version=form.cleaned_data["version"],
            )
        except StaleEdit as exc:
            current = get_object_or_404(selectors.development_plan_page(request.user), pk=pk)
            return render(
                request,
                "planning/plans/development_plan.html",
                _development_context(request, current, stale=str(exc), typed=_typed_values(form)),
                status=CONFLICT,
            )
        messages.success(request, "Development plan saved.")
        return redirect(plan)
    return render(
        request,
        "planning/plans/development_plan.html",
        _development_context(request, plan, form=form),
        status=BAD_INPUT,
    )


@login_required
@require_POST
def development_goal_add(request, pk):
    plan = get_object_or_404(selectors.development_plan_page(request.user), pk=pk)
    if plan.rm_id != request.user.pk:
        raise PermissionDenied("Only the RM writes their development plan.")
    form = DevelopmentGoalForm(
        request.POST, lines=selectors.rm_target_lines(plan.rm, plan_year=plan.plan_year)
    )
    if form.is_valid():
        try:
            services.development_goal_add(plan_id=plan.pk, by=request.user, data=form.goal_data())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Goal added.")
            return redirect(f"{plan.get_absolute_url()}#goals")
    return render(
        request,
        "planning/plans/development_plan.html",
        _development_context(request, plan, goal_form=form),
        status=BAD_INPUT,
    )


@login_required
@require_POST
def development_goal_remove(request, pk, goal_pk):
    plan = get_object_or_404(selectors.development_plan_page(request.user), pk=pk)
    if not plan.goals.filter(pk=goal_pk).exists():
        raise Http404("No such goal.")
    services.development_goal_remove(goal_id=goal_pk, by=request.user)
    messages.success(request, "Goal removed.")
    return redirect(f"{plan.get_absolute_url()}#goals")
