"""What one customer holds: the account page's month-end positions, charts and gaps.

One query reads every position row of the account (with its product) and the bank's
latest month-end; everything the page shows is derived from those rows, so the page costs
the same whatever the number of products or months (docs/account-page.md). The figures are
defined in docs/metrics.md, "Account page: positions and cross-sell gaps".
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Subquery

from accounts.models import Account, Position, ProductFamily

from . import add_months

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
# The charts show at most three years of month-ends.
CHART_MONTHS = 36
# How a family reads in a sentence: "holds loans and cards".
FAMILY_WORDS = {
    ProductFamily.LOAN: "loans",
    ProductFamily.DEPOSIT: "deposits",
    ProductFamily.TREASURY: "treasury services",
    ProductFamily.CARD: "cards",
    ProductFamily.OTHER: "other products",
}


def _and(words: list[str], last: str = "and") -> str:
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def _pct_change(now: Decimal, before: Decimal) -> Decimal | None:
    """100 x (now - before) / before, half up to 2 decimals; None when there was nothing
    before (a product taken up since has no percentage, only an amount)."""
    if not before:
        return None
    return (HUNDRED * (now - before) / before).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Change:
    """A figure at the latest month against an earlier month-end."""

    now: Decimal
    before: Decimal

    @property
    def amount(self) -> Decimal:
        return self.now - self.before

    @property
    def pct(self) -> Decimal | None:
        return _pct_change(self.now, self.before)


@dataclass(frozen=True)
class Figures:
    """Balance and revenue at the month, the month before and the same month a year before."""

    balance: Decimal = ZERO
    balance_last_month: Decimal = ZERO
    balance_year_ago: Decimal = ZERO
    revenue: Decimal = ZERO
    revenue_last_month: Decimal = ZERO
    revenue_year_ago: Decimal = ZERO

    @property
    def balance_vs_last_month(self) -> Change:
        return Change(self.balance, self.balance_last_month)

    @property
    def balance_vs_year_ago(self) -> Change:
        return Change(self.balance, self.balance_year_ago)

    @property
    def revenue_vs_last_month(self) -> Change:
        return Change(self.revenue, self.revenue_last_month)

    @property
    def revenue_vs_year_ago(self) -> Change:
        return Change(self.revenue, self.revenue_year_ago)

    @property
    def held(self) -> bool:
        """Held at the month: a balance or revenue, as the cross-sell ratio counts it."""
        return self.balance > 0 or self.revenue > 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class ProductPosition:
    code: str
    name: str
    family: str
    figures: Figures


@dataclass(frozen=True)
class FamilyPositions:
    """The products of one family the account held in one of the three months, with the
    family's subtotal (balances are only added up within a family)."""

    family: str
    label: str
    products: list[ProductPosition]
    total: Figures

    @property
    def held(self) -> bool:
        return self.total.held

    @property
    def total_label(self) -> str:
        return f"All {FAMILY_WORDS[self.family]}"


@dataclass(frozen=True)
class FamilyHolding:
    """Whether the customer holds a product family at the month: held, or a cross-sell gap."""

    family: str
    label: str
    held: bool
    products: list[str]  # the names of the family's products held


@dataclass(frozen=True)
class HistoryRow:
    """One month-end of the charts, exact, for the tables that say what the charts draw."""

    label: str
    loan: Decimal
    deposit: Decimal
    revenue: list[Decimal]  # per family of `revenue_families`, in that order
    revenue_total: Decimal


@dataclass
class AccountPositions:
    month: datetime.date | None  # the bank's latest month-end; None: no positions loaded
    last_month: datetime.date | None
    year_ago: datetime.date | None
    families: list[FamilyPositions] = field(default_factory=list)
    holdings: list[FamilyHolding] = field(default_factory=list)
    # Every product together: only its revenue means something (a loan and a deposit
    # balance do not add up).
    total: Figures = field(default_factory=Figures)
    balance_history: dict = field(default_factory=dict)  # the balance chart's data
    revenue_history: dict = field(default_factory=dict)  # the revenue chart's data
    history: list[HistoryRow] = field(default_factory=list)  # both charts as a table
    revenue_families: list[str] = field(default_factory=list)  # the revenue columns
    has_positions: bool = False  # any position row at all, in any month

    @property
    def held(self) -> list[FamilyHolding]:
        return [h for h in self.holdings if h.held]

    @property
    def gaps(self) -> list[FamilyHolding]:
        return [h for h in self.holdings if not h.held]

    @property
    def summary(self) -> str:
        """The holdings and the cross-sell gaps in one plain sentence."""
        held = [FAMILY_WORDS[h.family] for h in self.held]
        gaps = [FAMILY_WORDS[h.family] for h in self.gaps]
        if not held:
            return "Holds no product with the bank: every product family is a cross-sell gap."
        if not gaps:
            return f"Holds {_and(held)}: a product of every family, no cross-sell gap."
        return f"Holds {_and(held)}; does not hold {_and(gaps, 'or')}: the cross-sell gaps."


def _history(rows: list[dict], months: int):
    """Month by month balances (loans, deposits) and revenue (per family): the charts' data
    and the same figures, exact, as table rows. Floats only for drawing: a chart needs
    numbers, not exact money."""
    balance: dict[datetime.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    revenue: dict[datetime.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        month, family = row["month"], row["product__family"]
        balance[month][family] += row["balance"]
        revenue[month][family] += row["revenue"]
    shown = sorted(balance)[-months:]
    labels = [m.strftime("%b %Y") for m in shown]
    earning = [f for f in ProductFamily.values if any(revenue[m][f] for m in shown)]
    balance_chart = {
        "labels": labels,
        "loan": [float(balance[m][ProductFamily.LOAN]) for m in shown],
        "deposit": [float(balance[m][ProductFamily.DEPOSIT]) for m in shown],
    }
    revenue_chart = {
        "labels": labels,
        "families": [
            {
                "family": f,
                "label": ProductFamily(f).label,
                "data": [float(revenue[m][f]) for m in shown],
            }
            for f in earning
        ],
    }
    table = [
        HistoryRow(
            label=label,
            loan=balance[m][ProductFamily.LOAN],
            deposit=balance[m][ProductFamily.DEPOSIT],
            revenue=[revenue[m][f] for f in earning],
            revenue_total=sum((revenue[m][f] for f in earning), ZERO),
        )
        for m, label in zip(shown, labels, strict=True)
    ]
    families = [ProductFamily(f).label for f in earning]
    return balance_chart, revenue_chart, table, families


def account_positions(account: Account, *, chart_months: int = CHART_MONTHS) -> AccountPositions:
    """The account's month-end position per product at the bank's latest month `E` (the
    book's "as of"), against `E - 1` and `E - 12`; which families it holds at `E` and which
    not; and month by month balances and revenue for the charts. One query.

    The month is the bank's, not the account's own latest: a customer who has left shows
    its fall to nothing rather than its last figures as if they were today's.
    """
    latest = Subquery(Position.objects.order_by("-month").values("month")[:1])
    rows = list(
        Position.objects.filter(account=account)
        .annotate(latest=latest)
        .values(
            "month",
            "balance",
            "revenue",
            "latest",
            "product_id",
            "product__code",
            "product__name",
            "product__family",
        )
        .order_by("month", "product__family", "product__code")
    )
    result = AccountPositions(month=None, last_month=None, year_ago=None)
    result.holdings = [
        FamilyHolding(family=f, label=ProductFamily(f).label, held=False, products=[])
        for f in ProductFamily.values
    ]
    if not rows:
        return result

    month = rows[0]["latest"]
    last_month, year_ago = add_months(month, -1), add_months(month, -12)
    slot = {month: "", last_month: "_last_month", year_ago: "_year_ago"}
    values: dict[int, dict[str, Decimal]] = defaultdict(dict)
    products: dict[int, dict] = {}
    for row in rows:
        suffix = slot.get(row["month"])
        if suffix is None:
            continue
        values[row["product_id"]][f"balance{suffix}"] = row["balance"]
        values[row["product_id"]][f"revenue{suffix}"] = row["revenue"]
        products[row["product_id"]] = row

    by_family: dict[str, list[ProductPosition]] = defaultdict(list)
    for pk, row in products.items():
        figures = Figures(**values[pk])
        if not any(getattr(figures, f) for f in Figures.__dataclass_fields__):
            continue  # rows of zeros in all three months say nothing
        by_family[row["product__family"]].append(
            ProductPosition(
                code=row["product__code"],
                name=row["product__name"],
                family=row["product__family"],
                figures=figures,
            )
        )

    families = []
    for f in ProductFamily.values:
        if f not in by_family:
            continue
        items = sorted(by_family[f], key=lambda p: p.code)
        total = sum((p.figures for p in items), Figures())
        families.append(FamilyPositions(f, ProductFamily(f).label, items, total))

    result.month, result.last_month, result.year_ago = month, last_month, year_ago
    result.families = families
    result.total = sum((fp.total for fp in families), Figures())
    result.has_positions = True
    held = {fp.family: [p.name for p in fp.products if p.figures.held] for fp in families}
    result.holdings = [
        FamilyHolding(
            family=f,
            label=ProductFamily(f).label,
            held=bool(held.get(f)),
            products=held.get(f, []),
        )
        for f in ProductFamily.values
    ]
    (
        result.balance_history,
        result.revenue_history,
        result.history,
        result.revenue_families,
    ) = _history(rows, chart_months)
    return result
