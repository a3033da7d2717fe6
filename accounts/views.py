from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from org.access import visible_accounts
from retention.selectors.risk import account_latest_risk

from . import selectors
from .filters import AccountFilter


@login_required
def book(request):
    """My book for an RM; the team's or the bank's accounts for a leader or an executive."""
    month = selectors.latest_month()
    filterset = AccountFilter(
        request.GET or None,
        queryset=selectors.account_list(request.user, month=month),
        request=request,
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
    return render(
        request,
        "accounts/detail.html",
        {
            "account": account,
            "history": selectors.balance_history(account),
            "activities": selectors.recent_activities(account),
            "opportunities": selectors.open_opportunities(account),
            "risk": account_latest_risk(request.user, account),
        },
    )
