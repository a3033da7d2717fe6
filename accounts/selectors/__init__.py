"""Reading the book of business. Every function starts from what the user may see."""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import (
    Account,
    Activity,
    Opportunity,
    OpportunityStatus,
    OwnershipChange,
    Position,
    ProductFamily,
    Tier,
)
from org.access import visible_accounts
from org.models import User
from retention.models import CoverageChange

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)
# The two families the book's headline figures are about.
HEADLINE_FAMILIES = (ProductFamily.LOAN, ProductFamily.DEPOSIT)


def month_start(day: datetime.date) -> datetime.date:
    """The first day of `day`'s month: how a month is named throughout (Position.month)."""
    return day.replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    """The last day of `month`'s month."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def latest_month() -> datetime.date | None:
    """The most recent month-end the actuals are loaded for: the book's "as of"."""
    return Position.objects.aggregate(m=Max("month"))["m"]


@dataclass
class Balances:
    """Loan and deposit balances at a month and twelve months before."""

    loan: Decimal = ZERO
    deposit: Decimal = ZERO
    loan_year_ago: Decimal = ZERO
    deposit_year_ago: Decimal = ZERO

    @staticmethod
    def _change_pct(now: Decimal, before: Decimal) -> Decimal | None:
        if not before:
            return None
        return (now - before) * 100 / before

    @property
    def loan_change_pct(self) -> Decimal | None:
        return self._change_pct(self.loan, self.loan_year_ago)

    @property
    def deposit_change_pct(self) -> Decimal | None:
        return self._change_pct(self.deposit, self.deposit_year_ago)


def balances_by(
    accounts: QuerySet[Account], *, group_by: str | None, month: datetime.date | None
) -> dict[object, Balances]:
    """Loan and deposit balances of `accounts`, grouped by an account field, in one query.

    `group_by` is a path from Account ("owner", "owner__team"), or None for the total
    (returned under the key None). Each group gets its Balances at `month` and at the
    same month a year before.
    """
    result: dict[object, Balances] = defaultdict(Balances)
    if month is None:
        return result
    year_ago = add_months(month, -12)
    key = f"account__{group_by}" if group_by else None
    rows = (
        Position.objects.filter(
            account__in=accounts.values("pk"),
            month__in=(month, year_ago),
            product__family__in=HEADLINE_FAMILIES,
        )
        .values(*filter(None, [key, "month", "product__family"]))
        .annotate(total=Sum("balance"))
        .order_by()
    )
    for row in rows:
        balances = result[row[key] if key else None]
        name = row["product__family"] + ("" if row["month"] == month else "_year_ago")
        setattr(balances, name, row["total"])
    return result


@dataclass
class BookSummary:
    month: datetime.date | None
    balances: Balances
    tiers: list[dict] = field(default_factory=list)
    account_count: int = 0


def book_summary(accounts: QuerySet[Account], *, month: datetime.date | None) -> BookSummary:
    """Headline of a book: accounts per tier and status, loan and deposit totals and change."""
    per_tier = {
        row["tier"]: row
        for row in accounts.values("tier")
        .annotate(
            total=Count("pk"),
            active=Count("pk", filter=Q(status="active")),
        )
        .order_by()
    }
    tiers = [
        {
            "tier": tier,
            "total": per_tier.get(tier.pk, {}).get("total", 0),
            "active": per_tier.get(tier.pk, {}).get("active", 0),
        }
        for tier in Tier.objects.all()
    ]
    balances = balances_by(accounts, group_by=None, month=month).get(None, Balances())
    return BookSummary(
        month=month,
        balances=balances,
        tiers=tiers,
        account_count=sum(t["total"] for t in tiers),
    )


def _family_balance(family: str, month: datetime.date | None):
    """Subquery: an account's balance in one product family at `month`."""
    if month is None:
        return Value(ZERO, output_field=MONEY_FIELD)
    total = (
        Position.objects.filter(account=OuterRef("pk"), month=month, product__family=family)
        .order_by()
        .values("account")
        .annotate(total=Sum("balance"))
        .values("total")
    )
    return Coalesce(
        Subquery(total, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD
    )


def account_list(user: User, *, month: datetime.date | None) -> QuerySet[Account]:
    """The accounts the user may see, ready for a list: related rows joined, balances attached."""
    return (
        visible_accounts(user)
        .select_related("tier", "segment", "owner", "covering_rm")
        .annotate(
            loan_balance=_family_balance(ProductFamily.LOAN, month),
            deposit_balance=_family_balance(ProductFamily.DEPOSIT, month),
        )
        .order_by("name", "pk")
    )


def account_page(user: User) -> QuerySet[Account]:
    """Accounts whose page the user may open, with what the page shows joined in."""
    return (
        visible_accounts(user)
        .select_related("tier", "segment", "owner", "owner__team", "covering_rm")
        .prefetch_related(
            Prefetch(
                "ownership_changes",
                queryset=OwnershipChange.objects.select_related(
                    "previous_owner", "new_owner", "changed_by"
                ),
            ),
            # Coverage while the owner's seat was vacant: the other part of the history.
            Prefetch(
                "coverage_changes",
                queryset=CoverageChange.objects.select_related(
                    "previous_covering", "new_covering", "changed_by", "case__rm"
                ).order_by("-changed_at", "-pk"),
            ),
        )
    )


def recent_activities(account: Account, *, limit: int = 10) -> list[Activity]:
    return list(account.activities.select_related("rm")[:limit])


def open_opportunities(account: Account) -> list[Opportunity]:
    return list(
        account.opportunities.filter(status=OpportunityStatus.OPEN).select_related("product", "rm")
    )
