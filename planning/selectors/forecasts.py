"""Reading forecasts: the periods open for submission, the pipeline behind a forecast, an
RM's and a team's submissions, and the forecast-accuracy history (docs/forecast.md).

The callers resolve the RM or the team through org.access first; a selector here takes
the subject as given. Every function runs a fixed number of queries, whatever the number
of RMs, opportunities or months.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import ForecastCategory, Opportunity, OpportunityStatus
from accounts.selectors import add_months, month_end, month_start
from org.models import Role, Team, User

from ..models import (
    ForecastPeriod,
    ForecastSnapshot,
    ForecastSubmission,
    PlanYear,
    Scope,
    SteeringStandard,
    TeamForecastSubmission,
)
from .variances import ZERO, _as_date, forecast_figure, frozen_forecast

HUNDRED = Decimal("100")
# Bias beyond ±10 % of what was won, over at least three complete months, is chronic.
BIAS_THRESHOLD_PCT = Decimal("10")
BIAS_MIN_MONTHS = 3


# --- periods --------------------------------------------------------------------------------


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A month or a quarter forecast is submitted for, named by its first day."""

    kind: str  # ForecastPeriod
    start: datetime.date

    @property
    def end(self) -> datetime.date:
        return month_end(add_months(self.start, 2 if self.kind == ForecastPeriod.QUARTER else 0))

    @property
    def months(self) -> list[datetime.date]:
        n = 3 if self.kind == ForecastPeriod.QUARTER else 1
        return [add_months(self.start, i) for i in range(n)]

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        if self.kind == ForecastPeriod.QUARTER:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return f"{self.start:%B %Y}"

    @property
    def freezes_on(self) -> datetime.date:
        """The month whose snapshot freezes the period: a quarter freezes as it begins."""
        return self.start


def period_of(kind: str, start: datetime.date) -> Period:
    """The period `kind` starting on `start`; ValueError if `start` does not begin one."""
    if kind not in ForecastPeriod.values:
        raise ValueError(f"period must be one of {ForecastPeriod.values}")
    if start.day != 1 or (kind == ForecastPeriod.QUARTER and start != quarter_start(start)):
        raise ValueError(f"a {kind} starts on the first day of its {kind}")
    return Period(kind, start)


def parse_period(key: str | None) -> Period | None:
    """A period from its key ("month-2027-01", "quarter-2027-01"); None if it names none."""
    try:
        kind, year, month = (key or "").split("-")
        return period_of(kind, datetime.date(int(year), int(month), 1))
    except ValueError:
        return None


def open_periods(today: datetime.date | None = None) -> list[Period]:
    """The periods a forecast may be submitted for: this month (until its snapshot is
    taken), next month, and the quarter that has not begun yet (this one on its first
    month's first days, before the snapshot)."""
    today = today or timezone.localdate()
    this = month_start(today)
    q = quarter_start(today)
    quarter = q if q == this else add_months(q, 3)
    return [
        Period(ForecastPeriod.MONTH, this),
        Period(ForecastPeriod.MONTH, add_months(this, 1)),
        Period(ForecastPeriod.QUARTER, quarter),
    ]


def frozen_for(rm_ids, periods: list[Period]) -> set[tuple[int, datetime.date]]:
    """(rm, month) pairs whose month's snapshot exists: nothing more is submitted or
    adjusted for a period that freezes on that month. One query."""
    months = {p.freezes_on for p in periods}
    return set(
        ForecastSnapshot.objects.filter(rm_id__in=rm_ids, month__in=months).values_list(
            "rm_id", "month"
        )
    )


def is_frozen(period: Period, frozen: set, rm_id: int, today: datetime.date) -> bool:
    """A period is frozen once its month's snapshot exists, or once it has begun before
    this month (a month the job did not run in is not reopened)."""
    return (rm_id, period.freezes_on) in frozen or period.freezes_on < month_start(today)


# --- what the pipeline says ---------------------------------------------------------------------


@dataclass
class Totals:
    """Σ amount of the open deals expected to close in a period, by forecast category."""

    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO


def _open_in(rm_ids, periods: list[Period]) -> QuerySet[Opportunity]:
    lo = min(p.start for p in periods)
    hi = max(p.end for p in periods)
    return Opportunity.objects.filter(
        rm_id__in=rm_ids,
        status=OpportunityStatus.OPEN,
        expected_close__gte=lo,
        expected_close__lte=hi,
    ).exclude(forecast_category=ForecastCategory.OMITTED)


def pipeline_totals(rm_ids, periods: list[Period]) -> dict[tuple[int, str], Totals]:
    """{(rm, period key): Totals}. The proposed commit total is `.commit`. One query."""
    if not periods:
        return {}
    by_month: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for rm, category, m, total in (
        _open_in(rm_ids, periods)
        .annotate(m=TruncMonth("expected_close"))
        .values("rm", "forecast_category", "m")
        .annotate(total=Sum("amount"))
        .values_list("rm", "forecast_category", "m", "total")
        .order_by()
    ):
        by_month[(rm, category, _as_date(m))] += total
    totals: dict[tuple[int, str], Totals] = defaultdict(Totals)
    for (rm, category, m), total in by_month.items():
        for p in periods:
            if p.start <= m <= p.end:
                t = totals[(rm, p.key)]
                setattr(t, category, getattr(t, category) + total)
    return totals


def proposed_commit(rm: User, period: Period) -> Decimal:
    """The system's proposal: Σ amount of the RM's open commit deals closing in the
    period. One query."""
    return pipeline_totals([rm.pk], [period]).get((rm.pk, period.key), Totals()).commit


# --- an RM's forecast page ------------------------------------------------------------------------


@dataclass
class PeriodForecast:
    period: Period
    totals: Totals
    frozen: bool
    submission: ForecastSubmission | None
    deals: list[Opportunity] = field(default_factory=list)  # the commit deals behind it

    @property
    def proposed(self) -> Decimal:
        return self.totals.commit


def rm_forecast(rm: User, today: datetime.date | None = None) -> list[PeriodForecast]:
    """The RM's open periods with what the pipeline proposes, the commit deals behind the
    proposal, and what they submitted. Three queries."""
    today = today or timezone.localdate()
    periods = open_periods(today)
    frozen = frozen_for([rm.pk], periods)
    submissions = {
        (s.period, s.period_start): s
        for s in ForecastSubmission.objects.filter(
            rm=rm, period_start__in={p.start for p in periods}
        ).select_related("adjusted_by")
    }
    opportunities = list(_open_in([rm.pk], periods).select_related("account", "product"))
    result = []
    for p in periods:
        in_period = [o for o in opportunities if p.start <= o.expected_close <= p.end]
        totals = Totals()
        for o in in_period:
            setattr(totals, o.forecast_category, getattr(totals, o.forecast_category) + o.amount)
        result.append(
            PeriodForecast(
                period=p,
                totals=totals,
                frozen=is_frozen(p, frozen, rm.pk, today),
                submission=submissions.get((p.kind, p.start)),
                deals=[o for o in in_period if o.forecast_category == ForecastCategory.COMMIT],
            )
        )
    return result


# --- a team's forecast ----------------------------------------------------------------------------


def team_rms(team_ids, period: Period) -> QuerySet[User]:
    """The RMs whose forecasts make up a team's: RMs of the team who have not left before
    the period begins."""
    return (
        User.objects.filter(role=Role.RM, team_id__in=team_ids, is_active=True)
        .filter(Q(departed_on__isnull=True) | Q(departed_on__gt=period.start))
        .order_by("last_name", "first_name", "username")
    )


@dataclass
class RmRow:
    rm: User
    totals: Totals
    submission: ForecastSubmission | None
    frozen: bool

    @property
    def effective(self) -> Decimal | None:
        return None if self.submission is None else self.submission.effective_amount


@dataclass
class TeamForecast:
    team: Team
    period: Period
    rows: list[RmRow]
    submission: TeamForecastSubmission | None
    frozen: bool

    @property
    def total(self) -> Decimal:
        """The team's number: Σ effective amounts of the RMs who submitted."""
        return sum((r.effective for r in self.rows if r.effective is not None), ZERO)

    @property
    def proposed(self) -> Decimal:
        return sum((r.totals.commit for r in self.rows), ZERO)

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.rows if r.submission is not None)

    @property
    def missing(self) -> int:
        return len(self.rows) - self.submitted


def team_forecasts(
    teams: list[Team], period: Period, today: datetime.date | None = None
) -> list[TeamForecast]:
    """Each team's RMs for the period: proposed, submitted and adjusted numbers, and the
    team's submission. Five queries, whatever the number of teams and RMs."""
    today = today or timezone.localdate()
    team_ids = [t.pk for t in teams]
    rms = list(team_rms(team_ids, period))
    rm_ids = [r.pk for r in rms]
    totals = pipeline_totals(rm_ids, [period])
    frozen = frozen_for(rm_ids, [period])
    submissions = {
        s.rm_id: s
        for s in ForecastSubmission.objects.filter(
            rm_id__in=rm_ids, period=period.kind, period_start=period.start
        ).select_related("adjusted_by")
    }
    team_submissions = {
        s.team_id: s
        for s in TeamForecastSubmission.objects.filter(
            team_id__in=team_ids, period=period.kind, period_start=period.start
        ).select_related("submitted_by")
    }
    result = []
    for team in teams:
        rows = [
            RmRow(
                rm=rm,
                totals=totals.get((rm.pk, period.key), Totals()),
                submission=submissions.get(rm.pk),
                frozen=is_frozen(period, frozen, rm.pk, today),
            )
            for rm in rms
            if rm.team_id == team.pk
        ]
        result.append(
            TeamForecast(
                team=team,
                period=period,
                rows=rows,
                submission=team_submissions.get(team.pk),
                # A team's period freezes with the first of its RMs' snapshots for it.
                frozen=period.freezes_on < month_start(today) or any(r.frozen for r in rows),
            )
        )
    return result


# --- forecast accuracy, month by month ------------------------------------------------------------


@dataclass(frozen=True)
class AccuracyMonth:
    month: datetime.date
    forecast: Decimal | None  # None: no frozen forecast for the month
    won: Decimal
    complete: bool  # the month is over: it counts in accuracy and bias
    accuracy: Decimal | None

    @property
    def over(self) -> Decimal | None:
        """Forecast - won: positive = more was forecast than won."""
        return None if self.forecast is None else self.forecast - self.won


@dataclass
class AccuracyHistory:
    scope: str  # Scope: rm, team or bank
    subject: object  # the RM, the team, or None for the bank
    plan_year: PlanYear
    months: list[AccuracyMonth]
    standard: Decimal | None  # SteeringStandard.forecast_accuracy_pct

    @property
    def counted(self) -> list[AccuracyMonth]:
        return [m for m in self.months if m.complete and m.forecast is not None]

    @property
    def accuracy(self) -> Decimal | None:
        """The year to date's accuracy on the complete months (docs/metrics.md)."""
        figure, _note = forecast_figure([(m.forecast, m.won) for m in self.counted])
        return None if figure is None else figure.quantize(Decimal("0.01"))

    @property
    def bias(self) -> Decimal | None:
        """100 x Σ(F - A) / Σ A over the complete months: positive = over-forecasting."""
        won = sum((m.won for m in self.counted), ZERO)
        if not won:
            return None
        over = sum((m.forecast - m.won for m in self.counted), ZERO)
        return (HUNDRED * over / won).quantize(Decimal("0.1"))

    @property
    def bias_words(self) -> str:
        bias, n = self.bias, len(self.counted)
        if bias is None:
            return "No bias figure yet: nothing won in the months forecast."
        if n < BIAS_MIN_MONTHS:
            return f"Too early to say: {n} complete month{'s' if n != 1 else ''} forecast."
        if bias >= BIAS_THRESHOLD_PCT:
            return f"Chronically optimistic: forecast {bias} % more than was won over {n} months."
        if bias <= -BIAS_THRESHOLD_PCT:
            return f"Chronically cautious: forecast {-bias} % less than was won over {n} months."
        return f"No chronic bias: within ±{BIAS_THRESHOLD_PCT} % over {n} months."

    @property
    def meets_standard(self) -> bool | None:
        if self.accuracy is None or self.standard is None:
            return None
        return self.accuracy >= self.standard

    def chart(self) -> dict:
        """What the chart draws (json_script): Decimals as floats for Chart.js only."""
        return {
            "labels": [f"{m.month:%b %Y}" for m in self.months],
            "forecast": [None if m.forecast is None else float(m.forecast) for m in self.months],
            "won": [float(m.won) for m in self.months],
            "accuracy": [None if m.accuracy is None else float(m.accuracy) for m in self.months],
            "standard": None if self.standard is None else float(self.standard),
        }


def accuracy_history(
    *,
    plan_year: PlanYear,
    rm: User | None = None,
    team: Team | None = None,
    today: datetime.date | None = None,
) -> AccuracyHistory:
    """An RM's (`rm`), a team's (`team`) or the bank's (neither) frozen forecast against
    what was won, for each month of the plan year up to this one. The forecast is the
    RM's own number for an RM, Σ coalesce(adjusted, amount) for a team and the bank; who
    counts where is the nightly job's rule (docs/metrics.md). Three queries."""
    today = today or timezone.localdate()
    scope = Scope.RM if rm is not None else Scope.TEAM if team is not None else Scope.BANK
    first = month_start(plan_year.starts_on)
    last = min(month_start(today), month_start(plan_year.ends_on))
    snapshots = ForecastSnapshot.objects.filter(month__gte=first, month__lte=last)
    won = Opportunity.objects.filter(
        status=OpportunityStatus.WON, closed_on__gte=first, closed_on__lte=month_end(last)
    )
    if rm is not None:
        snapshots, won = snapshots.filter(rm=rm), won.filter(rm=rm)
    elif team is not None:
        snapshots = snapshots.filter(rm__team=team, rm__role=Role.RM)
        won = won.filter(rm__team=team, rm__role=Role.RM)
    else:
        snapshots = snapshots.filter(rm__role=Role.RM)
    forecast: dict[datetime.date, Decimal] = {}
    for m, amount, adjusted in snapshots.values_list("month", "amount", "adjusted_amount"):
        forecast[m] = forecast.get(m, ZERO) + frozen_forecast(scope, amount, adjusted)
    won_in: dict[datetime.date, Decimal] = defaultdict(lambda: ZERO)
    for m, total in (
        won.annotate(m=TruncMonth("closed_on"))
        .values("m")
        .annotate(total=Sum("amount"))
        .values_list("m", "total")
        .order_by()
    ):
        won_in[_as_date(m)] += total
    standard = _standard(plan_year)
    months = _months(first, last, today, forecast, won_in)
    return AccuracyHistory(scope, rm or team, plan_year, months, standard)


def _standard(plan_year: PlanYear) -> Decimal | None:
    return (
        SteeringStandard.objects.filter(plan_year=plan_year)
        .values_list("forecast_accuracy_pct", flat=True)
        .first()
    )


def _months(first, last, today, forecast: dict, won_in: dict) -> list[AccuracyMonth]:
    months = []
    m = first
    while m <= last:
        f, a = forecast.get(m), won_in.get(m, ZERO)
        complete = m < month_start(today)
        # A month in progress has no accuracy yet: what is won so far is not its outcome.
        figure = forecast_figure([(f, a)])[0] if f is not None and complete else None
        months.append(
            AccuracyMonth(
                month=m,
                forecast=f,
                won=a,
                complete=complete,
                accuracy=None if figure is None else figure.quantize(Decimal("0.01")),
            )
        )
        m = add_months(m, 1)
    return months


def rm_accuracy_histories(
    *, plan_year: PlanYear, rms: list[User], today: datetime.date | None = None
) -> list[AccuracyHistory]:
    """`accuracy_history` of each of `rms` (a leader's team, for the table that compares
    them), in three queries whatever their number."""
    today = today or timezone.localdate()
    first = month_start(plan_year.starts_on)
    last = min(month_start(today), month_start(plan_year.ends_on))
    ids = [r.pk for r in rms]
    forecast: dict[int, dict] = defaultdict(dict)
    for rm, m, amount, adjusted in ForecastSnapshot.objects.filter(
        rm_id__in=ids, month__gte=first, month__lte=last
    ).values_list("rm_id", "month", "amount", "adjusted_amount"):
        forecast[rm][m] = frozen_forecast(Scope.RM, amount, adjusted)
    won_in: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for rm, m, total in (
        Opportunity.objects.filter(
            rm_id__in=ids,
            status=OpportunityStatus.WON,
            closed_on__gte=first,
            closed_on__lte=month_end(last),
        )
        .annotate(m=TruncMonth("closed_on"))
        .values("rm", "m")
        .annotate(total=Sum("amount"))
        .values_list("rm", "m", "total")
        .order_by()
    ):
        won_in[rm][_as_date(m)] += total
    standard = _standard(plan_year)
    return [
        AccuracyHistory(
            Scope.RM,
            rm,
            plan_year,
            _months(first, last, today, forecast.get(rm.pk, {}), won_in.get(rm.pk, {})),
            standard,
        )
        for rm in rms
    ]
