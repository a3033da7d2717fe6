from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from org.access import visible_accounts
from retention.selectors.risk import account_latest_risk
from salesmgmt.exports import export_format, export_response, money

from . import selectors
from .filters import AccountFilter
from .selectors.positions import account_positions

CSV_HEADER = (
    "Number",
    "Name",
    "Segment",
    "Tier",
    "Owner",
    "Covering RM",
    "Status",
    "Opened",
    "Closed",
    "Contract until",
    "Loans",
    "Deposits",
)
EXPORT_CHUNK = 2000


def _book_csv_rows(accounts):
    """The book's download (CSV or Excel), one row at a time from `account_list` (filtered
    as on screen): the balances are those of the latest month, as the page shows them."""
    for a in accounts.iterator(chunk_size=EXPORT_CHUNK):
        yield (
            a.number,
            a.name,
            a.segment.name,
            a.tier.code,
            str(a.owner),
            str(a.covering_rm) if a.covering_rm else "",
            a.get_status_display(),
            a.opened_on,
            a.closed_on,
            a.contract_until,
            money(a.loan_balance),
            money(a.deposit_balance),
        )


@login_required
def book(request):
    """My book for an RM; the team's or the bank's accounts for a leader or an executive."""
    month = selectors.latest_month()
    filterset = AccountFilter(
        request.GET or None,
        queryset=selectors.account_list(request.user, month=month),
        request=request,
    )
    if export_format(request):
        return export_response(
            request,
            f"book-{month or 'no-month'}",
            CSV_HEADER,
            _book_csv_rows(filterset.qs),
            sheet_title="Accounts",
        )
    page = Paginator(filterset.qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filterset": filterset, "page": page, "month": month}
    if request.htmx:
        return render(request, "accounts/_account_table.html", context)
    context["summary"] = selectors.book_summary(visible_accounts(request.user), month=month)
    return render(request, "accounts/book.html", context)


@login_required
def account_detail(request, pk):
    account = get_object_or_404(selectors.account_page(request.user), pk=pk)
    positions = account_positions(account)
    return render(
        request,
        "accounts/detail.html",
        {
            "account": account,
            "positions": positions,
            "history": positions.balance_history,
            "activities": selectors.recent_activities(account),
            "opportunities": selectors.open_opportunities(account),
            "risk": account_latest_risk(request.user, account),
        },
    )
