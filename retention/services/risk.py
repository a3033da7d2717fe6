"""Attrition risk, scored every night for every active account.

An account's score is the sum of the points of the reasons that apply to it, capped at 100.
The reasons, their weights and thresholds are `RiskFactor` rows (the admin tunes them); the
exact rule of each reason is written down in docs/retention.md.

Set-based: whatever the number of accounts, the job runs the same handful of grouped
queries (factors, the last closed month, the accounts with their owner and tier, balances,
last contact, ratings, lost renewals) and writes the night's rows with one bulk insert.
"""

from __future__ import annotations

import calendar
import datetime
import importlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps as global_apps
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
    Position,
)
from accounts.selectors import add_months
from coaching.models import CustomerRating
from retention.models import RiskFactor, RiskScore
from salesmgmt import formatting

Code = RiskFactor.Code

# A balance decline needs this many months of history in the year to be judged.
MIN_MONTHS_OF_HISTORY = 6
# The months whose average is compared against the year's.
RECENT_MONTHS = 3
# Fewer ratings than this in the window say nothing about the relationship.
MIN_RATINGS = 3
# Bulk insert in slices this big (one statement each).
BATCH_SIZE = 2000


def shift_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (or earlier), the month's last day where it has fewer."""
    first = add_months(day.replace(day=1), months)
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))


def _day(d: datetime.date) -> str:
    return formatting.date(d)


def _person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def risk_factors() -> dict[str, RiskFactor]:
    """The factors by code. A test database that was flushed lost the migration's defaults;
    the migration's own function writes them again (existing rows are left as they are)."""
    factors = {f.code: f for f in RiskFactor.objects.all()}
    migration = importlib.import_module("retention.migrations.0002_default_risk_factors")
    if not {code for code, *_ in migration.FACTORS} <= factors.keys():
        migration.add_factors(global_apps, None)
        factors = {f.code: f for f in RiskFactor.objects.all()}
    return factors


@dataclass
class Assessment:
    """One account's reasons, built up reason by reason."""

    account_id: int
    reasons: list[dict] = field(default_factory=list)

    def add(self, code: str, points: int, detail: str) -> None:
        if points > 0:
            self.reasons.append({"code": code, "points": points, "detail": detail})

    @property
    def score(self) -> int:
        return min(100, sum(r["points"] for r in self.reasons))

    def ordered_reasons(self) -> list[dict]:
        return sorted(self.reasons, key=lambda r: (-r["points"], r["code"]))


# --- the reasons, each from one grouped query --------------------------------------------------


def _balance_decline(active, factor: RiskFactor, today: datetime.date, out: dict) -> None:
    """The last 3 closed months' average balance against the average of the 12 closed months
    up to the same month (all products; a month without positions counts as nothing held)."""
    last = Position.objects.filter(month__lt=today.replace(day=1)).aggregate(m=Max("month"))["m"]
    if last is None:
        return
    year_start = add_months(last, -11)
    recent_start = add_months(last, -(RECENT_MONTHS - 1))
    threshold = factor.threshold if factor.threshold is not None else Decimal("10")
    rows = (
        Position.objects.filter(account__in=active, month__gte=year_start, month__lte=last)
        .values("account")
        .annotate(
            year=Sum("balance"),
            recent=Sum("balance", filter=Q(month__gte=recent_start)),
            first=Min("month"),
        )
        .order_by()
    )
    for row in rows:
        first = max(row["first"], year_start)
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        if months < MIN_MONTHS_OF_HISTORY or not row["year"]:
            continue
        year_avg = row["year"] / months
        recent_avg = (row["recent"] or Decimal("0")) / RECENT_MONTHS
        if year_avg <= 0:
            continue
        decline = (year_avg - recent_avg) * 100 / year_avg
        if decline >= threshold:
            out[row["account"]].add(
                Code.BALANCE_DECLINE,
                factor.weight,
                f"balances down {decline:.0f} % (last {RECENT_MONTHS} months against the "
                f"year's average)",
            )


def _from_the_account(accounts: list[dict], factors: dict, today: datetime.date, out: dict):
    """Contract expiry, no contact and a departed owner: what the account row itself holds
    (the last contact comes from one grouped query over activities)."""
    contract = factors.get(Code.CONTRACT_EXPIRY)
    if contract is not None:
        months = int(contract.threshold) if contract.threshold is not None else 12
        horizon = shift_months(today, months)
        for a in accounts:
            until = a["contract_until"]
            if until is not None and today <= until <= horizon:
                out[a["pk"]].add(
                    Code.CONTRACT_EXPIRY, contract.weight, f"contract ends {_day(until)}"
                )

    departed = factors.get(Code.OWNER_DEPARTED)
    if departed is not None:
        half = (departed.weight + 1) // 2
        for a in accounts:
            owner = _person(a["owner__first_name"], a["owner__last_name"], a["owner__username"])
            left_on = a["owner__departed_on"]
            left = (left_on is not None and left_on <= today) or not a["owner__is_active"]
            covered = (
                a["covering_rm_id"] is not None
                and a["covering_rm__is_active"]
                and (a["covering_rm__departed_on"] is None or a["covering_rm__departed_on"] > today)
            )
            coverer = _person(
                a["covering_rm__first_name"] or "",
                a["covering_rm__last_name"] or "",
                a["covering_rm__username"] or "",
            )
            when = f" on {_day(left_on)}" if left_on else ""
            notice = a["owner__notice_given_on"]
            if left and not covered:
                out[a["pk"]].add(
                    Code.OWNER_DEPARTED,
                    departed.weight,
                    f"owner {owner} left{when}; no one covers it",
                )
            elif left:
                out[a["pk"]].add(
                    Code.OWNER_DEPARTED, half, f"owner {owner} left{when}; covered by {coverer}"
                )
            elif notice is not None and notice <= today and not covered:
                last_day = f" (last day {_day(left_on)})" if left_on else ""
                out[a["pk"]].add(
                    Code.OWNER_DEPARTED,
                    half,
                    f"owner {owner} gave notice on {_day(notice)}{last_day}; no one covers it yet",
                )


def _no_contact(active, accounts: list[dict], factor: RiskFactor, today, out: dict) -> None:
    """Days since the last activity (or since opening, if there was none) beyond the tier's
    allowance (Tier.max_days_without_contact)."""
    last_contact = dict(
        Activity.objects.filter(account__in=active, date__lte=today)
        .values("account")
        .annotate(last=Max("date"))
        .order_by()
        .values_list("account", "last")
    )
    for a in accounts:
        allowed = a["tier__max_days_without_contact"]
        last = last_contact.get(a["pk"])
        if last is not None:
            days = (today - last).days
            if days > allowed:
                out[a["pk"]].add(
                    Code.NO_CONTACT,
                    factor.weight,
                    f"no contact for {days} days (tier {a['tier__code']} allows {allowed})",
                )
        elif a["opened_on"] is None or (today - a["opened_on"]).days > allowed:
            out[a["pk"]].add(
                Code.NO_CONTACT,
                factor.weight,
                f"no contact recorded (tier {a['tier__code']} allows {allowed} days)",
            )


def _low_ratings(active, factor: RiskFactor, today: datetime.date, out: dict) -> None:
    """Share of the customer's ratings (every behaviour, every contact) that are good or
    excellent, over the months rated in the last three months."""
    since = shift_months(today, -3)
    threshold = factor.threshold if factor.threshold is not None else Decimal("60")
    rows = (
        CustomerRating.objects.filter(account__in=active, month__gte=since, month__lte=today)
        .values("account")
        .annotate(
            n=Count("pk"),
            good=Count("pk", filter=Q(rating__in=CustomerRating.GOOD_OR_BETTER)),
        )
        .order_by()
    )
    for row in rows:
        if row["n"] >= MIN_RATINGS and row["good"] * 100 < threshold * row["n"]:
            out[row["account"]].add(
                Code.LOW_RATINGS,
                factor.weight,
                f"{row['good']} of {row['n']} ratings good or excellent in the last 3 months",
            )


def _lost_renewal(active, factor: RiskFactor, today: datetime.date, out: dict) -> None:
    """A renewal opportunity lost within the threshold's months (12 by default)."""
    months = int(factor.threshold) if factor.threshold is not None else 12
    since = shift_months(today, -months)
    rows = (
        Opportunity.objects.filter(
            account__in=active,
            kind=OpportunityKind.RENEWAL,
            status=OpportunityStatus.LOST,
            closed_on__gte=since,
            closed_on__lte=today,
        )
        .order_by("account", "-closed_on", "-pk")
        .values_list("account", "closed_on", "product__name")
    )
    latest: dict[int, tuple] = {}
    counts: dict[int, int] = {}
    for account_id, closed_on, product in rows:
        latest.setdefault(account_id, (closed_on, product))
        counts[account_id] = counts.get(account_id, 0) + 1
    for account_id, (closed_on, product) in latest.items():
        if counts[account_id] == 1:
            detail = f"renewal of {product} lost on {_day(closed_on)}"
        else:
            detail = (
                f"{counts[account_id]} renewals lost in {months} months; the latest, "
                f"{product}, on {_day(closed_on)}"
            )
        out[account_id].add(Code.LOST_RENEWAL, factor.weight, detail)


# --- the job -----------------------------------------------------------------------------------


def assess(*, today: datetime.date) -> dict[int, Assessment]:
    """Every active account's reasons on `today` (reads only)."""
    factors = {code: f for code, f in risk_factors().items() if f.active and f.weight > 0}
    active = Account.objects.filter(status=AccountStatus.ACTIVE).values("pk")
    accounts = list(
        Account.objects.filter(status=AccountStatus.ACTIVE)
        .order_by("pk")
        .values(
            "pk",
            "opened_on",
            "contract_until",
            "tier__code",
            "tier__max_days_without_contact",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "owner__is_active",
            "owner__departed_on",
            "owner__notice_given_on",
            "covering_rm_id",
            "covering_rm__username",
            "covering_rm__first_name",
            "covering_rm__last_name",
            "covering_rm__is_active",
            "covering_rm__departed_on",
        )
    )
    out = {a["pk"]: Assessment(a["pk"]) for a in accounts}
    if Code.BALANCE_DECLINE in factors:
        _balance_decline(active, factors[Code.BALANCE_DECLINE], today, out)
    _from_the_account(accounts, factors, today, out)
    if Code.NO_CONTACT in factors:
        _no_contact(active, accounts, factors[Code.NO_CONTACT], today, out)
    if Code.LOW_RATINGS in factors:
        _low_ratings(active, factors[Code.LOW_RATINGS], today, out)
    if Code.LOST_RENEWAL in factors:
        _lost_renewal(active, factors[Code.LOST_RENEWAL], today, out)
    return out


@transaction.atomic
def risk_scores_compute(*, today: datetime.date | None = None) -> int:
    """Score every active account for `today` (default: the local date) and store the night's
    rows. Running it again the same day replaces that day's rows; earlier nights stay.
    Returns the number of rows written."""
    today = today or timezone.localdate()
    # Serialise two runs: the second waits on the factor rows until the first commits.
    list(RiskFactor.objects.select_for_update().values_list("pk", flat=True))
    assessments = assess(today=today)
    RiskScore.objects.filter(scored_on=today).delete()
    RiskScore.objects.bulk_create(
        [
            RiskScore(
                account_id=a.account_id, scored_on=today, score=a.score, reasons=a.ordered_reasons()
            )
            for a in assessments.values()
        ],
        batch_size=BATCH_SIZE,
    )
    return len(assessments)
