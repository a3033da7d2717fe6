"""The Retention page (accounts to defend, retention against target, attrition, multiple
connections) and the Connections pages where secondary contacts are kept.

Leaders, executives and administrators; an RM sees their own accounts' risk on each
account's page instead (403 here).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from org.access import require_role, visible_accounts
from org.models import Role
from salesmgmt.exports import export_format, export_response, money

from ..forms.risk import RiskFilter, SecondaryContactForm
from ..selectors import risk as selectors
from ..services import connections as services

VIEWERS = (Role.LEADER, Role.EXECUTIVE, Role.ADMIN)
# The retention page names this many of the accounts held by one person alone.
ALONE_SHOWN = 10
CSV_HEADER = (
    "Rank",
    "Number",
    "Account",
    "Tier",
    "Owner",
    "Team",
    "Covering RM",
    "Contract until",
    "Scored on",
    "Risk",
    "Reasons",
    "Revenue / year",
    "Open pipeline",
    "Balances",
)
EXPORT_CHUNK = 2000


def _retention_csv_rows(scores):
    """The accounts to defend in the page's order (filters and priority applied), one at a
    time; the reasons as "points detail" joined by "; "."""
    for rank, s in enumerate(scores.iterator(chunk_size=EXPORT_CHUNK), start=1):
        a = s.account
        yield (
            rank,
            a.number,
            a.name,
            a.tier.code,
            str(a.owner),
            a.owner.team.name if a.owner.team else "",
            str(a.covering_rm) if a.covering_rm else "",
            a.contract_until,
            s.scored_on,
            s.score,
            "; ".join(f"{r.get('points')} {r.get('detail', '')}".strip() for r in s.reasons),
            money(s.revenue),
            money(s.pipeline),
            money(s.balances),
        )


@login_required
def retention(request):
    require_role(request.user, *VIEWERS)
    today = timezone.localdate()
    month = selectors.as_of_month()
    filterset = RiskFilter(
        request.GET or None,
        queryset=selectors.latest_scores(request.user, month=month),
        request=request,
        today=today,
    )
    if export_format(request):
        return export_response(
            request,
            f"retention-{today}",
            CSV_HEADER,
            _retention_csv_rows(filterset.qs),
            sheet_title="Accounts to defend",
        )
    page = Paginator(filterset.qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.attach_trends(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    alone = selectors.held_alone(request.user, today=today)
    return render(
        request,
        "retention/risk/retention.html",
        {
            "filterset": filterset,
            "page": page,
            "query": query.urlencode(),
            "basis": filterset.chosen_basis,
            "basis_label": selectors.BASES[filterset.chosen_basis],
            "month": month,
            "today": today,
            "retention": selectors.retention(request.user, today=today),
            "share": selectors.connection_share(request.user, today=today),
            "alone": list(alone[:ALONE_SHOWN]),
        },
    )


@login_required
def connections(request):
    require_role(request.user, *VIEWERS)
    today = timezone.localdate()
    alone = Paginator(selectors.held_alone(request.user, today=today), settings.PAGE_SIZE)
    contacts = Paginator(selectors.secondary_contacts(request.user), settings.PAGE_SIZE)
    return render(
        request,
        "retention/risk/connections.html",
        {
            "share": selectors.connection_share(request.user, today=today),
            "alone": alone.get_page(request.GET.get("page")),
            "contacts": contacts.get_page(request.GET.get("contacts_page")),
        },
    )


@login_required
def account_connections(request, pk):
    """One major account's people at the bank, and the form to add a secondary contact."""
    require_role(request.user, *VIEWERS)
    account = get_object_or_404(
        visible_accounts(request.user)
        .filter(tier__code__in=selectors.MAJOR_TIERS)
        .select_related("tier", "owner", "owner__team", "covering_rm"),
        pk=pk,
    )
    may_manage = services.may_manage_contacts(request.user, account)
    form = SecondaryContactForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied(
                "Only the leader of the owner's team or an administrator may do this."
            )
        if form.is_valid():
            try:
                contact = services.secondary_contact_add(
                    account_id=account.pk,
                    person_id=form.cleaned_data["person"].pk,
                    role=form.cleaned_data["role"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"{contact.person} is now a contact for {account.name}.")
                return redirect("retention:account_connections", account.pk)
        status = 400
    return render(
        request,
        "retention/risk/account_connections.html",
        {
            "account": account,
            "contacts": account.secondary_contacts.select_related("person"),
            "form": form,
            "may_manage": may_manage,
        },
        status=status,
    )


@login_required
@require_POST
def contact_remove(request, pk):
    require_role(request.user, *VIEWERS)
    contact = get_object_or_404(selectors.secondary_contacts(request.user), pk=pk)
    services.secondary_contact_remove(contact_id=contact.pk, by=request.user)
    messages.success(
        request, f"{contact.person} is no longer a contact for {contact.account.name}."
    )
    return redirect("retention:account_connections", contact.account_id)
