"""The executive's sign-off dashboard: what waits for a decision, and where the bank stands."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from org.models import Role
from salesmgmt.exports import export_format, export_response
from salesmgmt.workflow import WorkflowError

from ..selectors import signoff as selectors
from ..selectors.common import current_plan_year
from ..services import plans as plan_services
from ..services import targets as target_services

ACTIONS = {
    ("approve", "target"): lambda pk, by, comment: target_services.target_set_approve(
        target_set_id=pk, by=by, comment=comment
    ),
    ("return", "target"): lambda pk, by, comment: target_services.target_set_return(
        target_set_id=pk, by=by, comment=comment
    ),
    ("approve", "plan"): lambda pk, by, comment: plan_services.territory_plan_approve(
        plan_id=pk, by=by, comment=comment
    ),
    ("return", "plan"): lambda pk, by, comment: plan_services.territory_plan_return(
        plan_id=pk, by=by, comment=comment
    ),
}


def _require_executive(user) -> None:
    # Strictly executives: the admin role (even a superuser) never signs off.
    if user.role != Role.EXECUTIVE:
        raise PermissionDenied("Only executives sign off targets and plans.")


def _ids(values) -> list[int]:
    return sorted({int(v) for v in values if str(v).isdigit()})


VARIANCES_HEADER = (
    "Metric",
    "Unit",
    "Target",
    "Planned to date",
    "Actual",
    "Difference",
    "Difference in",
    "Source",
    "As of",
    "Revision",
)


def _variance_rows(bank_set, lines):
    """The bank against its approved targets (plan versus actual), as the page shows it;
    the difference where both the planned figure and the actual are known, in percentage
    points for a metric measured in %."""
    for line in lines:
        yield (
            line.metric_name,
            line.unit,
            line.asked,
            line.planned,
            line.actual,
            line.difference,
            line.difference_unit if line.difference is not None else "",
            line.source,
            line.as_of,
            bank_set.revision,
        )


@login_required
def dashboard(request):
    _require_executive(request.user)
    plan_year = current_plan_year()
    if plan_year is None:
        return render(request, "planning/no_plan_year.html", {"nav": "signoff"})
    bank_set, bank_lines = selectors.bank_against_targets(request.user, plan_year)
    if export_format(request):
        return export_response(
            request,
            f"bank-plan-versus-actual-{plan_year.year}",
            VARIANCES_HEADER,
            _variance_rows(bank_set, bank_lines),
            sheet_title=f"Bank vs targets {plan_year.year}",
        )
    return render(
        request,
        "planning/signoff.html",
        {
            "nav": "signoff",
            "plan_year": plan_year,
            "target_sets": selectors.proposed_target_sets(request.user, plan_year),
            "plans": selectors.endorsed_plans(request.user, plan_year),
            "coverage": selectors.plan_coverage(request.user, plan_year),
            "bank_set": bank_set,
            "bank_lines": bank_lines,
        },
    )


@login_required
@require_POST
def decide(request):
    """Approve or return a selection. The first post shows what was chosen; the second,
    with `confirmed`, decides each item through its service, one transaction per item."""
    _require_executive(request.user)
    plan_year = current_plan_year()
    action = request.POST.get("action")
    if action not in ("approve", "return") or plan_year is None:
        messages.error(request, "Choose Approve or Return.")
        return redirect("planning:signoff")
    comment = request.POST.get("comment", "").strip()
    target_ids = _ids(request.POST.getlist("target"))
    plan_ids = _ids(request.POST.getlist("plan"))
    target_sets = selectors.proposed_target_sets(request.user, plan_year).filter(pk__in=target_ids)
    plans = selectors.endorsed_plans(request.user, plan_year).filter(pk__in=plan_ids)
    if not target_ids and not plan_ids:
        messages.warning(request, "Select at least one target set or plan first.")
        return redirect("planning:signoff")
    if action == "return" and not comment:
        messages.error(request, "Say why they go back: returning needs a comment.")
        return redirect("planning:signoff")
    if request.POST.get("confirmed") != "yes":
        target_sets, plans = list(target_sets), list(plans)
        if not target_sets and not plans:
            messages.warning(request, "None of the selected items waits for your decision.")
            return redirect("planning:signoff")
        return render(
            request,
            "planning/signoff_confirm.html",
            {
                "nav": "signoff",
                "action": action,
                "comment": comment,
                "target_sets": target_sets,
                "plans": plans,
                "count": len(target_sets) + len(plans),
            },
        )
    done, refused = [], []
    for kind, ids in (("target", target_ids), ("plan", plan_ids)):
        for pk in ids:
            try:
                item = ACTIONS[(action, kind)](pk, request.user, comment)
            except (WorkflowError, PermissionDenied, ValidationError, ObjectDoesNotExist) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                refused.append(f"#{pk}: {reason or 'not found'}")
            else:
                done.append(str(item))
    verb = "Approved" if action == "approve" else "Returned"
    if done:
        messages.success(request, f"{verb} {len(done)}: " + "; ".join(done))
    for line in refused:
        messages.warning(request, f"Not {verb.lower()} {line}")
    return redirect("planning:signoff")
