"""Reading departure cases, the coverage board, the handover and early warnings.

Every function starts from org.access (visible_departure_cases, visible_early_warnings,
visible_accounts); each page is a fixed number of queries whatever the number of accounts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    F,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import (
    Account,
    Activity,
    Opportunity,
    OpportunityStatus,
    Position,
    ProductFamily,
)
from accounts.selectors import latest_month
from coaching.models import CustomerRating
from org.access import visible_departure_cases, visible_early_warnings, visible_people
from org.models import Role, Team, User

from ..models import CoverageChange, DepartureCase, EarlyWarning, HandoverReview
from ..services import departures as rules
from ..services.early_warning import SIGNAL_LABELS

# Early warnings older than this are not "current" any more (the job runs nightly).
WARNING_FRESH_DAYS = 7
HANDOVER_ACTIVITIES = 5
HANDOVER_RATINGS = 5


def _open(cases: QuerySet[DepartureCase]) -> QuerySet[DepartureCase]:
    return cases.filter(closed_on__isnull=True)


def with_uncovered(cases: QuerySet[DepartureCase]) -> QuerySet[DepartureCase]:
    """Each case with `uncovered`: the leaving RM's live major accounts without cover (0 once
    the replacement owns them)."""
    return cases.annotate(
        uncovered=Count(
            "rm__owned_accounts",
            filter=Q(
                replacement__isnull=True,
                rm__owned_accounts__status__in=rules.LIVE_STATUSES,
                rm__owned_accounts__tier__code__in=rules.MAJOR_TIERS,
                rm__owned_accounts__covering_rm__isnull=True,
            ),
            distinct=True,
        )
    )


@dataclass
class CaseLine:
    case: DepartureCase
    phase: str
    phase_label: str
    uncovered: int


def open_cases(user: User, *, team: Team | None = None, today=None) -> list[CaseLine]:
    """The open cases the user sees (a team's only, if given), last day first."""
    today = today or timezone.localdate()
    cases = _open(visible_departure_cases(user))
    if team is not None:
        cases = cases.filter(rm__team=team)
    cases = with_uncovered(cases).select_related("rm", "rm__team", "replacement")
    lines = []
    for case in cases.order_by("last_day", "pk"):
        phase = case.phase_on(today)
        lines.append(CaseLine(case, phase, DepartureCase.Phase(phase).label, case.uncovered))
    return lines


def recently_closed(user: User, *, limit: int = 10) -> list[DepartureCase]:
    return list(
        visible_departure_cases(user)
        .filter(closed_on__isnull=False)
        .select_related("rm", "replacement")
        .order_by("-closed_on", "-pk")[:limit]
    )


def departure_page(user: User) -> QuerySet[DepartureCase]:
    """Cases whose page the user may open (404 outside scope)."""
    return visible_departure_cases(user).select_related(
        "rm", "rm__team", "rm__team__leader", "replacement", "opened_by"
    )


def notice_candidates(user: User) -> QuerySet[User]:
    """RMs whose notice the user may record: a leader's own RMs, every RM for an
    administrator; never one who has already left or has an open case."""
    if not (user.is_administrator or user.role == Role.LEADER):
        return User.objects.none()
    qs = visible_people(user).filter(role=Role.RM, is_active=True, departed_on__isnull=True)
    if not user.is_administrator:
        qs = qs.filter(team__leader=user)
    leaving = DepartureCase.objects.filter(closed_on__isnull=True).values("rm")
    return qs.exclude(pk__in=leaving).order_by("last_name", "first_name", "username")


# --- the case page: timeline and coverage board ------------------------------------------------


@dataclass
class Phase:
    code: str
    label: str
    starts: datetime.date | None
    ends: datetime.date | None
    state: str  # "done", "current", "to come"


def timeline(case: DepartureCase, today: datetime.date) -> list[Phase]:
    current = case.phase_on(today)
    order = [p.value for p in DepartureCase.Phase]
    at = order.index(current)
    P = DepartureCase.Phase
    spans = [
        (P.WITHDRAWAL, case.notice_on, case.last_day),
        (P.VACANCY, case.last_day, case.replacement_assigned_on),
        (P.ONBOARDING, case.replacement_assigned_on, case.closed_on),
    ]
    result = []
    for code, starts, ends in spans:
        i = order.index(code)
        state = "done" if i < at else "current" if i == at else "to come"
        if (
            code == P.VACANCY
            and case.replacement_assigned_on
            and (case.replacement_assigned_on <= case.last_day)
        ):
            state = "skipped"
        result.append(Phase(code, P(code).label, starts, ends, state))
    return result


@dataclass
class BoardLine:
    account: Account
    is_major: bool
    uncovered: bool


def coverage_board(case: DepartureCase) -> list[BoardLine]:
    """Every account of the case, major ones (tier A, B) first; two queries at most."""
    accounts = (
        rules.case_accounts(case)
        .select_related("tier", "covering_rm", "segment")
        .order_by("tier__code", "name", "pk")
    )
    lines = []
    for account in accounts:
        is_major = account.tier.code in rules.MAJOR_TIERS
        lines.append(
            BoardLine(
                account,
                is_major,
                uncovered=is_major and account.covering_rm_id is None and not case.replacement_id,
            )
        )
    return lines


def coverage_history(case: DepartureCase, *, limit: int = 50) -> list[CoverageChange]:
    return list(
        case.coverage_changes.select_related(
            "account", "previous_covering", "new_covering", "changed_by"
        ).order_by("-changed_at", "-pk")[:limit]
    )


# --- the handover ------------------------------------------------------------------------------


@dataclass
class HandoverLine:
    account: Account
    review: HandoverReview | None = None
    activities: list = field(default_factory=list)
    opportunities: list = field(default_factory=list)
    pipeline: Decimal = Decimal("0")
    positions: list = field(default_factory=list)  # [(family label, balance, revenue)]
    ratings: list = field(default_factory=list)


def handover(case: DepartureCase) -> tuple[list[HandoverLine], datetime.date | None]:
    """Each major account of the case with its history; a fixed number of queries."""
    accounts = list(
        rules.major(rules.case_accounts(case))
        .select_related("tier", "owner", "segment")
        .order_by("tier__code", "name", "pk")
    )
    lines = {a.pk: HandoverLine(a) for a in accounts}
    ids = list(lines)
    if not ids:
        return [], None
    for review in HandoverReview.objects.filter(case=case, account_id__in=ids).select_related(
        "reviewed_by"
    ):
        lines[review.account_id].review = review
    recent = (
        Activity.objects.filter(account_id__in=ids)
        .annotate(
            n=Window(
                RowNumber(),
                partition_by=[F("account_id")],
                order_by=[F("date").desc(), F("pk").desc()],
            )
        )
        .filter(n__lte=HANDOVER_ACTIVITIES)
        .select_related("rm")
        .order_by("account_id", "-date", "-pk")
    )
    for activity in recent:
        lines[activity.account_id].activities.append(activity)
    for opp in (
        Opportunity.objects.filter(account_id__in=ids, status=OpportunityStatus.OPEN)
        .select_related("product")
        .order_by("expected_close", "pk")
    ):
        line = lines[opp.account_id]
        line.opportunities.append(opp)
        line.pipeline += opp.amount
    month = latest_month()
    if month:
        rows = (
            Position.objects.filter(account_id__in=ids, month=month)
            .values("account_id", "product__family")
            .annotate(balance=Sum("balance"), revenue=Sum("revenue"))
            .order_by("account_id", "product__family")
        )
        for row in rows:
            lines[row["account_id"]].positions.append(
                (ProductFamily(row["product__family"]).label, row["balance"], row["revenue"])
            )
    ratings = (
        CustomerRating.objects.filter(account_id__in=ids)
        .annotate(
            n=Window(
                RowNumber(),
                partition_by=[F("account_id")],
                order_by=[F("month").desc(), F("pk").desc()],
            )
        )
        .filter(n__lte=HANDOVER_RATINGS)
        .select_related("behaviour")
        .order_by("account_id", "-month", "pk")
    )
    for rating in ratings:
        lines[rating.account_id].ratings.append(rating)
    return list(lines.values()), month


# --- early warnings ------------------------------------------------------------------------------


@dataclass
class WarningLine:
    warning: EarlyWarning
    signals: list[dict]


def current_warnings(user: User, *, team: Team | None = None, today=None) -> QuerySet:
    """The early warnings of the latest nightly run the user sees, if it is recent."""
    today = today or timezone.localdate()
    latest = (
        EarlyWarning.objects.filter(computed_on__lte=today)
        .order_by("-computed_on")
        .values("computed_on")[:1]
    )
    qs = visible_early_warnings(user).filter(
        computed_on=Subquery(latest),
        computed_on__gte=today - datetime.timedelta(days=WARNING_FRESH_DAYS),
    )
    if team is not None:
        qs = qs.filter(rm__team=team)
    return qs


def warning_lines(user: User, *, today=None) -> list[WarningLine]:
    qs = (
        current_warnings(user, today=today)
        .select_related("rm", "rm__team")
        .order_by("rm__team__name", "rm__last_name", "rm__first_name", "rm__username")
    )
    return [
        WarningLine(
            w,
            [
                {**s, "label": SIGNAL_LABELS.get(s.get("code"), s.get("code", ""))}
                for s in w.signals
            ],
        )
        for w in qs
    ]


def sees_early_warnings(user: User) -> bool:
    """The RM's own leader and executives; never RMs, and administrators run the job but
    do not read the signals (a 403 on the page)."""
    return user.is_authenticated and user.role in (Role.LEADER, Role.EXECUTIVE)


@dataclass
class OverviewFlags:
    """The two lines of the team and bank overviews."""

    uncovered: int
    cases: list[CaseLine]
    warnings: int | None  # None: the viewer does not see early warnings


def overview_flags(user: User, *, team: Team | None = None, today=None) -> OverviewFlags:
    """Uncovered major accounts of the open cases, and the number of current early
    warnings: two queries."""
    lines = [line for line in open_cases(user, team=team, today=today) if line.uncovered]
    sees_warnings = sees_early_warnings(user)
    warnings = current_warnings(user, team=team, today=today).count() if sees_warnings else None
    return OverviewFlags(sum(line.uncovered for line in lines), lines, warnings)


def coverage_prefetch() -> Prefetch:
    """For the account page: the coverage part of the ownership history."""
    return Prefetch(
        "coverage_changes",
        queryset=CoverageChange.objects.select_related(
            "previous_covering", "new_covering", "changed_by"
        ).order_by("-changed_at", "-pk"),
    )
