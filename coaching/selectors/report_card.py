"""Reading the RB report card: monthly scores, trends, most improved, compensation.

Every figure comes from one grouped query of customer ratings, counted per RM, behaviour
and month (`_tallies`), read through the access layer (`visible_ratings`); the arithmetic
is done on those counts in Python, so a page reads a fixed number of queries whatever the
number of RMs, behaviours or ratings. The compensation view adds the product results,
read per RM through `planning.selectors.variances.rm_plan_versus_actual` (a fixed number
of queries per RM until the nightly variance job stores them). docs/report-card.md has
the rules with a worked example:

    share of a behaviour   100 * (ratings good or excellent) / (all ratings), 2 dp half up
    score                  Σ weight * share / Σ weight, over the behaviours that have
                           ratings in the period (the weights are renormalised); no
                           ratings → None. Computed from exact shares, rounded once.
    team / bank share      ratio of the sums: all the team's ratings of the behaviour
    below target           the year-to-date share is below the behaviour's objective
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db.models import CharField, Count, F, IntegerField, Q, QuerySet, Value

from accounts.selectors import add_months, month_start
from org.access import (
    visible_improvement_plans,
    visible_people,
    visible_ratings,
    visible_teams,
)
from org.models import Role, Team, User
from planning.models import Metric, PlanYear
from planning.selectors.common import current_plan_year

from ..models import Behaviour, BehaviourSet, CustomerRating, ImprovementPlan, SurveyInvitation

GOOD = CustomerRating.Score.GOOD
TREND_MONTHS = 12
COMMENTS_SHOWN = 50
ATTAINMENT_CAP = Decimal("150.00")
BANK_TOP = 10


# --- months --------------------------------------------------------------------------------


def month_range(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The first days of the months from `first` to `last`, both included."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def year_months(plan_year: PlanYear) -> tuple[datetime.date, datetime.date]:
    """The first and the last month of the plan year (a fiscal year may not be January)."""
    return month_start(plan_year.starts_on), month_start(plan_year.ends_on)


def clamp_month(month: datetime.date, plan_year: PlanYear) -> datetime.date:
    first, last = year_months(plan_year)
    return min(max(month_start(month), first), last)


def parse_month(value: str | None) -> datetime.date | None:
    """ "2027-03" → 1 March 2027; anything else → None (the page then picks the month)."""
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        return None


# --- the arithmetic ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """How many ratings, and how many of them good or excellent."""

    n: int = 0
    good: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.n + other.n, self.good + other.good)

    @property
    def fraction(self) -> Fraction | None:
        return Fraction(self.good, self.n) if self.n else None

    @property
    def share(self) -> Decimal | None:
        """100 * good / all, 2 dp half up; None without ratings."""
        return pct(self.fraction)


def pct(value: Fraction | None) -> Decimal | None:
    """100 * `value` rounded half up to 2 dp, exactly (no float, no double rounding)."""
    if value is None:
        return None
    scaled = value * 10000
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if rest * 2 >= scaled.denominator:
        whole += 1
    return Decimal(whole).scaleb(-2)


def total(tallies: Iterable[Tally]) -> Tally:
    result = Tally()
    for t in tallies:
        result += t
    return result


def weighted_score(tallies: Mapping[int, Tally], weights: Mapping[int, int]) -> Decimal | None:
    """Σ weight * share / Σ weight over the behaviours with ratings; None if there are none
    (or all of them weigh 0). Shares are exact fractions here; the result is rounded once."""
    rated = [(weights.get(b, 0), t.fraction) for b, t in tallies.items() if t.n]
    weight = sum(w for w, _ in rated)
    if not weight:
        return None
    return pct(sum((w * f for w, f in rated), Fraction(0)) / weight)


def weighted_objective(
    behaviours: Iterable[Behaviour], among: Iterable[int] | None = None
) -> Decimal | None:
    """Σ weight * objective / Σ weight, over all `behaviours` or only those `among` (the
    ones a score was computed over, so that the two compare like with like)."""
    keep = None if among is None else set(among)
    chosen = [b for b in behaviours if keep is None or b.pk in keep]
    weight = sum(b.weight for b in chosen)
    if not weight:
        return None
    return pct(Fraction(sum(b.weight * b.objective_pct for b in chosen), weight * 100))


def rated(tallies: Mapping[int, Tally]) -> list[int]:
    return [b for b, t in tallies.items() if t.n]


def arrow(now: Decimal | None, before: Decimal | None) -> str:
    """ "up", "down", "flat", or "" when one of the two is missing."""
    if now is None or before is None:
        return ""
    return "up" if now > before else "down" if now < before else "flat"


# --- reading the counts --------------------------------------------------------------------


Key = tuple[int, int, datetime.date]  # rm, behaviour, month
# Who answered: the contact, or the account where the rating has no contact (back office,
# imports key those by account). Six answers of one survey are one rater.
Rater = tuple[str, int]
Raters = dict[tuple[int, datetime.date], set[Rater]]  # (rm, month) -> raters


def _tallies(ratings: QuerySet[CustomerRating], first, last) -> tuple[dict[Key, Tally], Raters]:
    """One grouped query: ratings per RM, behaviour, month and rater from `first` to
    `last` (a rater answers a behaviour once a month, so the rows are at most the
    ratings); summed per RM, behaviour and month, and the raters per RM and month."""
    rows = (
        ratings.filter(month__gte=first, month__lte=last)
        .values("rm", "behaviour", "month", "contact", "account")
        .annotate(n=Count("pk"), good=Count("pk", filter=Q(rating__gte=GOOD)))
        .values_list("rm", "behaviour", "month", "contact", "account", "n", "good")
        .order_by()
    )
    tallies: dict[Key, Tally] = defaultdict(Tally)
    raters: Raters = defaultdict(set)
    for rm, b, month, contact, account, n, good in rows:
        tallies[rm, b, month] += Tally(n, good)
        raters[rm, month].add(("contact", contact) if contact else ("account", account))
    return dict(tallies), raters


class Scoreboard:
    """The counts of one query, summed the ways the pages need."""

    def __init__(
        self,
        tallies: Mapping[Key, Tally],
        weights: Mapping[int, int],
        raters: Raters | None = None,
    ):
        self.weights = weights
        self._raters = raters or {}
        self._by_rm_month: dict[tuple[int, datetime.date], dict[int, Tally]] = defaultdict(dict)
        for (rm, b, month), t in tallies.items():
            self._by_rm_month[rm, month][b] = t

    def raters(self, rms: Iterable[int], months: Iterable[datetime.date]) -> int:
        """How many customers rated `rms` in `months` (each counted once)."""
        months = list(months)
        seen: set[Rater] = set()
        for rm in rms:
            for month in months:
                seen |= self._raters.get((rm, month), set())
        return len(seen)

    def rm_month(self, rm: int, month: datetime.date) -> dict[int, Tally]:
        return self._by_rm_month.get((rm, month), {})

    def rms_months(self, rms: Iterable[int], months: Iterable[datetime.date]) -> dict[int, Tally]:
        """Per behaviour, the sum over `rms` and `months` (a ratio of sums, not of shares)."""
        summed: dict[int, Tally] = defaultdict(Tally)
        months = list(months)
        for rm in rms:
            for month in months:
                for b, t in self.rm_month(rm, month).items():
                    summed[b] += t
        return dict(summed)

    def count(self, rm: int, month: datetime.date) -> int:
        """Ratings (answers) of `rm` in `month`; shown beside the raters, decides nothing."""
        return sum(t.n for t in self.rm_month(rm, month).values())

    def rater_count(self, rm: int, month: datetime.date) -> int:
        return self.raters([rm], [month])

    def score(self, tallies: Mapping[int, Tally]) -> Decimal | None:
        return weighted_score(tallies, self.weights)


def _board(
    ratings: QuerySet[CustomerRating],
    first: datetime.date,
    last: datetime.date,
    behaviour_set: BehaviourSet | None,
) -> tuple[Scoreboard, dict[int, Behaviour]]:
    """The counts and every behaviour they name (with the year's set's behaviours): two
    queries. A month is scored with the weights of its own behaviours, so a window that
    reaches into the previous plan year uses that year's weights for those months."""
    tallies, raters = _tallies(ratings, first, last)
    ids = {b for _, b, _ in tallies}
    wanted = Q(pk__in=ids)
    if behaviour_set is not None:
        wanted |= Q(behaviour_set=behaviour_set)
    behaviours = {b.pk: b for b in Behaviour.objects.filter(wanted)}
    weights = {pk: b.weight for pk, b in behaviours.items()}
    return Scoreboard(tallies, weights, raters), behaviours


def behaviour_set_of(plan_year: PlanYear) -> BehaviourSet | None:
    return BehaviourSet.objects.filter(plan_year=plan_year).first()


def set_behaviours(behaviours: Mapping[int, Behaviour], bs: BehaviourSet | None) -> list:
    if bs is None:
        return []
    mine = [b for b in behaviours.values() if b.behaviour_set_id == bs.pk]
    return sorted(mine, key=lambda b: (b.position, b.name))


def min_ratings(bs: BehaviourSet | None) -> int:
    """How many customers must have rated an RM in a period for a score to count: the
    one rule for the score shown, compensation and most improved. The year's signed-off
    set says (its "ratings needed"); without one, settings.RB_MIN_RATERS."""
    return bs.min_ratings_for_ranking if bs is not None else settings.RB_MIN_RATERS


def choose_plan_year(year: str | None) -> PlanYear | None:
    """?year=2027 (None if there is no such year), else the current plan year."""
    if year:
        if not year.isdigit():
            return None
        return PlanYear.objects.filter(year=int(year)).first()
    return current_plan_year()


def choose_month(
    ratings: QuerySet[CustomerRating],
    plan_year: PlanYear,
    asked: datetime.date | None,
    today: datetime.date,
) -> datetime.date:
    """The month asked for when it lies in the plan year; else the latest month of the
    plan year with ratings in scope; else this month, kept inside the plan year."""
    first, last = year_months(plan_year)
    if asked is not None and first <= asked <= last:
        return asked
    latest = (
        ratings.filter(month__gte=first, month__lte=last)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    return latest or clamp_month(today, plan_year)


# --- one RM's report card ------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    """What a customer wrote: on one behaviour (with its rating), or the survey's general
    comment (`behaviour` empty, no rating): about the RM, not about a behaviour."""

    month: datetime.date
    behaviour: str
    rating: int | None
    text: str
    customer: str

    @property
    def on_survey(self) -> bool:
        return not self.behaviour

    def get_rating_display(self) -> str:
        return CustomerRating.Score(self.rating).label if self.rating else ""


_COMMENT_COLUMNS = ("c_month", "c_behaviour", "c_rating", "c_text", "c_customer", "c_at", "c_pk")


def _comments(ratings: QuerySet[CustomerRating], rm: User, first, last) -> QuerySet:
    """The comments on behaviours and the surveys' general comments of `rm`, as one
    UNION (latest first), so the list and its count stay two queries. The surveys are
    the RM's own: `rm` comes from visible_people, whose ratings the viewer sees."""
    on_behaviours = (
        ratings.filter(month__gte=first, month__lte=last)
        .exclude(comment="")
        .annotate(
            c_month=F("month"),
            c_behaviour=F("behaviour__name"),
            c_rating=F("rating"),
            c_text=F("comment"),
            c_customer=F("account__name"),
            c_at=F("created_at"),
            c_pk=F("pk"),
        )
        .values_list(*_COMMENT_COLUMNS)
        .order_by()
    )
    on_surveys = (
        SurveyInvitation.objects.filter(
            rm=rm, used_at__isnull=False, month__gte=first, month__lte=last
        )
        .exclude(comment="")
        .annotate(
            c_month=F("month"),
            c_behaviour=Value("", output_field=CharField()),
            c_rating=Value(None, output_field=IntegerField()),
            c_text=F("comment"),
            c_customer=F("contact__account__name"),
            c_at=F("used_at"),
            c_pk=-F("pk"),
        )
        .values_list(*_COMMENT_COLUMNS)
        .order_by()
    )
    return on_behaviours.union(on_surveys, all=True).order_by("-c_month", "-c_at", "-c_pk")


@dataclass
class BehaviourRow:
    behaviour: Behaviour
    month: Tally
    ytd: Tally
    trend: list[Decimal | None]
    plan: ImprovementPlan | None = None

    @property
    def month_share(self) -> Decimal | None:
        return self.month.share

    @property
    def ytd_share(self) -> Decimal | None:
        return self.ytd.share

    @property
    def below_target(self) -> bool:
        """Below target: the year-to-date share is below the objective (a behaviour
        without ratings this year is not rated, not below)."""
        share = self.ytd_share
        return share is not None and share < self.behaviour.objective_pct


@dataclass
class RmCard:
    rm: User
    plan_year: PlanYear
    behaviour_set: BehaviourSet | None
    month: datetime.date
    months: list[datetime.date]
    rows: list[BehaviourRow]
    overall_trend: list[Decimal | None]
    month_score: Decimal | None
    month_count: int
    ytd_score: Decimal | None
    ytd_count: int
    ytd_objective: Decimal | None
    objective: Decimal | None
    comments: list[Comment]
    comments_total: int
    other_plans: list[ImprovementPlan] = field(default_factory=list)
    minimum: int = 0
    month_raters: int = 0
    ytd_raters: int = 0

    @property
    def month_enough(self) -> bool:
        """Enough customers rated the month for its score to count (docs/report-card.md)."""
        return self.month_raters >= self.minimum

    @property
    def ytd_enough(self) -> bool:
        return self.ytd_raters >= self.minimum

    @property
    def below_target(self) -> list[BehaviourRow]:
        return [r for r in self.rows if r.below_target]

    @property
    def ytd_below_objective(self) -> bool:
        return (
            self.ytd_score is not None
            and self.ytd_objective is not None
            and self.ytd_score < self.ytd_objective
        )

    @property
    def plans(self) -> list[ImprovementPlan]:
        """Open plans first, then closed ones; those of behaviours no longer in the set last."""
        mine = [r.plan for r in self.rows if r.plan is not None]
        return sorted(mine, key=lambda p: p.closed) + self.other_plans

    @property
    def trend_table(self) -> list[tuple]:
        """(month, weighted score, [share of each behaviour]) for each month of the trend."""
        return [
            (m, self.overall_trend[i], [r.trend[i] for r in self.rows])
            for i, m in enumerate(self.months)
        ]

    def chart_data(self) -> dict:
        """What the page's chart script draws (numbers as floats, missing months null)."""

        def num(values):
            return [None if v is None else float(v) for v in values]

        return {
            "labels": [m.strftime("%b %Y") for m in self.months],
            "overall": {
                "name": "Weighted score",
                "objective": None if self.objective is None else float(self.objective),
                "shares": num(self.overall_trend),
            },
            "behaviours": [
                {
                    "name": r.behaviour.name,
                    "objective": r.behaviour.objective_pct,
                    "shares": num(r.trend),
                }
                for r in self.rows
            ],
        }


def rm_report_card(
    viewer: User,
    rm: User,
    plan_year: PlanYear,
    *,
    month: datetime.date | None = None,
    today: datetime.date | None = None,
) -> RmCard:
    """The RM's card for the month (default: the latest month of the plan year with
    ratings): 12-month trend per behaviour and overall, year-to-date shares, the
    comments of the 12 months, the improvement plans. `rm` comes from visible_people."""
    today = today or datetime.date.today()
    bs = behaviour_set_of(plan_year)
    ratings = visible_ratings(viewer).filter(rm=rm)
    month = choose_month(ratings, plan_year, month, today)
    first_of_year = year_months(plan_year)[0]
    months = [add_months(month, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    board, behaviours = _board(ratings, min(months[0], first_of_year), month, bs)
    own = set_behaviours(behaviours, bs)
    ytd_months = month_range(first_of_year, month)

    # The trend of a behaviour follows its name into the months of the previous plan year.
    by_name: dict[str, set[int]] = defaultdict(set)
    for b in behaviours.values():
        by_name[b.name.strip().lower()].add(b.pk)

    def share_in(b: Behaviour, m: datetime.date) -> Decimal | None:
        tallies = board.rm_month(rm.pk, m)
        return total(tallies[pk] for pk in by_name[b.name.strip().lower()] if pk in tallies).share

    plans = {
        p.behaviour_id: p
        for p in visible_improvement_plans(viewer)
        .filter(rm=rm, behaviour__behaviour_set__plan_year=plan_year)
        .select_related("behaviour")
    }
    month_tallies = board.rm_month(rm.pk, month)
    ytd_tallies = board.rms_months([rm.pk], ytd_months)
    rows = [
        BehaviourRow(
            behaviour=b,
            month=month_tallies.get(b.pk, Tally()),
            ytd=ytd_tallies.get(b.pk, Tally()),
            trend=[share_in(b, m) for m in months],
            plan=plans.pop(b.pk, None),
        )
        for b in own
    ]
    comments_qs = _comments(ratings, rm, months[0], month)
    return RmCard(
        rm=rm,
        plan_year=plan_year,
        behaviour_set=bs,
        month=month,
        months=months,
        rows=rows,
        overall_trend=[board.score(board.rm_month(rm.pk, m)) for m in months],
        month_score=board.score(month_tallies),
        month_count=sum(t.n for t in month_tallies.values()),
        ytd_score=board.score(ytd_tallies),
        ytd_count=sum(t.n for t in ytd_tallies.values()),
        ytd_objective=weighted_objective(own, among=rated(ytd_tallies)),
        objective=weighted_objective(own),
        comments=[Comment(*row[:5]) for row in comments_qs[:COMMENTS_SHOWN]],
        comments_total=comments_qs.count(),
        other_plans=list(plans.values()),
        minimum=min_ratings(bs),
        month_raters=board.rater_count(rm.pk, month),
        ytd_raters=board.raters([rm.pk], ytd_months),
    )


# --- most improved -------------------------------------------------------------------------


@dataclass
class Improvement:
    rank: int
    rm: User
    before_month: datetime.date
    before: Decimal
    after: Decimal
    before_count: int
    after_count: int

    @property
    def change(self) -> Decimal:
        return self.after - self.before


def _name_key(user: User) -> tuple:
    return (user.last_name.lower(), user.first_name.lower(), user.username.lower(), user.pk)


def rank(entries: list[Improvement]) -> list[Improvement]:
    """Largest change first; equal changes share a rank (1, 2, 2, 4) and are listed by
    name. Changes are differences of the 2-dp scores shown, so ties are what one sees."""
    entries.sort(key=lambda e: (-e.change, _name_key(e.rm)))
    for i, e in enumerate(entries):
        e.rank = entries[i - 1].rank if i and e.change == entries[i - 1].change else i + 1
    return entries


def most_improved_month_on_month(
    board: Scoreboard, rms: Sequence[User], month: datetime.date, minimum: int
) -> list[Improvement]:
    """`month` against the month before, for RMs with at least `minimum` ratings in both."""
    before_month = add_months(month, -1)
    entries = []
    for rm in rms:
        counts = board.rater_count(rm.pk, before_month), board.rater_count(rm.pk, month)
        if min(counts) < minimum:
            continue
        before = board.score(board.rm_month(rm.pk, before_month))
        after = board.score(board.rm_month(rm.pk, month))
        if before is None or after is None:
            continue
        entries.append(Improvement(0, rm, before_month, before, after, *counts))
    return rank(entries)


def most_improved_year_to_date(
    board: Scoreboard,
    rms: Sequence[User],
    month: datetime.date,
    first_of_year: datetime.date,
    minimum: int,
) -> list[Improvement]:
    """`month` against the RM's first month of the plan year with at least `minimum`
    ratings (their baseline), for RMs with at least `minimum` ratings in `month` too."""
    earlier = month_range(first_of_year, add_months(month, -1))
    entries = []
    for rm in rms:
        after_count = board.rater_count(rm.pk, month)
        if after_count < minimum:
            continue
        base = next((m for m in earlier if board.rater_count(rm.pk, m) >= minimum), None)
        if base is None:
            continue
        before = board.score(board.rm_month(rm.pk, base))
        after = board.score(board.rm_month(rm.pk, month))
        if before is None or after is None:
            continue
        entries.append(
            Improvement(0, rm, base, before, after, board.rater_count(rm.pk, base), after_count)
        )
    return rank(entries)


# --- a team's and the bank's report card ---------------------------------------------------


@dataclass
class ScoreLine:
    """One RM or one team: this month's score, last month's, and the year to date."""

    subject: User | Team
    score: Decimal | None
    previous: Decimal | None
    ytd: Decimal | None
    count: int
    ytd_count: int
    rms: int = 1
    below: int = 0
    raters: int = 0
    ytd_raters: int = 0
    minimum: int = 0

    @property
    def enough(self) -> bool:
        """Enough customers rated the month for the score to count."""
        return self.raters >= self.minimum

    @property
    def ytd_enough(self) -> bool:
        return self.ytd_raters >= self.minimum

    @property
    def trend(self) -> str:
        return arrow(self.score, self.previous)

    @property
    def change(self) -> Decimal | None:
        if self.score is None or self.previous is None:
            return None
        return self.score - self.previous


@dataclass
class GroupCard:
    plan_year: PlanYear
    behaviour_set: BehaviourSet | None
    month: datetime.date
    lines: list[ScoreLine]
    total: ScoreLine
    objective: Decimal | None
    behaviours: list[tuple[Behaviour, Decimal | None]]
    minimum: int
    improved_month: list[Improvement]
    improved_year: list[Improvement]
    team: Team | None = None

    @property
    def previous_month(self) -> datetime.date:
        return add_months(self.month, -1)

    @property
    def first_month(self) -> datetime.date:
        return year_months(self.plan_year)[0]


def _group_line(board, subject, rm_ids, month, ytd_months, own, rms=1, minimum=0) -> ScoreLine:
    now = board.rms_months(rm_ids, [month])
    ytd = board.rms_months(rm_ids, ytd_months)
    below = sum(
        1 for b in own if (s := ytd.get(b.pk, Tally()).share) is not None and s < b.objective_pct
    )
    return ScoreLine(
        subject=subject,
        score=board.score(now),
        previous=board.score(board.rms_months(rm_ids, [add_months(month, -1)])),
        ytd=board.score(ytd),
        count=sum(t.n for t in now.values()),
        ytd_count=sum(t.n for t in ytd.values()),
        rms=rms,
        below=below,
        raters=board.raters(rm_ids, [month]),
        ytd_raters=board.raters(rm_ids, ytd_months),
        minimum=minimum,
    )


def _group_card(viewer, rms: list[User], plan_year, month_asked, today, *, teams=None, team=None):
    today = today or datetime.date.today()
    bs = behaviour_set_of(plan_year)
    ratings = visible_ratings(viewer).filter(rm__in=[rm.pk for rm in rms])
    month = choose_month(ratings, plan_year, month_asked, today)
    first_of_year = year_months(plan_year)[0]
    board, behaviours = _board(ratings, min(add_months(month, -1), first_of_year), month, bs)
    own = set_behaviours(behaviours, bs)
    ytd_months = month_range(first_of_year, month)
    all_ids = [rm.pk for rm in rms]
    minimum = min_ratings(bs)
    if teams is None:
        lines = [
            _group_line(board, rm, [rm.pk], month, ytd_months, own, minimum=minimum) for rm in rms
        ]
    else:
        members = defaultdict(list)
        for rm in rms:
            members[rm.team_id].append(rm.pk)
        lines = [
            _group_line(
                board, t, members[t.pk], month, ytd_months, own, len(members[t.pk]), minimum
            )
            for t in teams
        ]
    summed = _group_line(board, team, all_ids, month, ytd_months, own, len(all_ids), minimum)
    ytd = board.rms_months(all_ids, ytd_months)
    return GroupCard(
        plan_year=plan_year,
        behaviour_set=bs,
        month=month,
        lines=lines,
        total=summed,
        objective=weighted_objective(own),
        behaviours=[(b, ytd.get(b.pk, Tally()).share) for b in own],
        minimum=minimum,
        improved_month=most_improved_month_on_month(board, rms, month, minimum),
        improved_year=most_improved_year_to_date(board, rms, month, first_of_year, minimum),
        team=team,
    )


def team_rms(team: Team) -> list[User]:
    return list(team.members.filter(role=Role.RM).order_by("last_name", "first_name", "username"))


def team_report_card(
    viewer: User,
    team: Team,
    plan_year: PlanYear,
    *,
    month: datetime.date | None = None,
    today: datetime.date | None = None,
) -> GroupCard:
    """Each RM of `team` (from visible_teams): score, trend, year to date; the team's
    shares per behaviour; most improved within the team."""
    return _group_card(viewer, team_rms(team), plan_year, month, today, team=team)


def bank_report_card(
    viewer: User,
    plan_year: PlanYear,
    *,
    month: datetime.date | None = None,
    today: datetime.date | None = None,
) -> GroupCard:
    """Each team of the bank (its current RMs' ratings), the bank, most improved across
    the bank. For executives and administrators (the view checks the role)."""
    rms = list(
        visible_people(viewer)
        .filter(role=Role.RM, team__isnull=False)
        .select_related("team")
        .order_by("last_name", "first_name", "username")
    )
    teams = list(
        visible_teams(viewer).filter(pk__in={rm.team_id for rm in rms}).select_related("leader")
    )
    return _group_card(viewer, rms, plan_year, month, today, teams=teams)


# --- compensation --------------------------------------------------------------------------


def cap(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return min(max(value, Decimal("0.00")), ATTAINMENT_CAP)


def ratio_pct(numerator, denominator) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return pct(Fraction(Decimal(numerator)) / Fraction(Decimal(denominator)))


# Attainment of a line measured in percentage points (retention, forecast accuracy,
# product-mix share): each point short of the planned share costs 100 / POINTS_FLOOR
# points of attainment, so POINTS_FLOOR points short (or more) is 0 % (docs/report-card.md).
POINTS_FLOOR = 10

RATIO, INVERSE, POINTS, POINTS_LOWER = "ratio", "inverse", "points", "points_lower"
_TIMES, _MINUS = "\u00d7", "\u2212"
RULES = {
    RATIO: "actual \u00f7 planned",
    INVERSE: "planned \u00f7 actual (lower is better)",
    POINTS: f"100 {_MINUS} {100 // POINTS_FLOOR} {_TIMES} points short"
    f" (0 at {POINTS_FLOOR} points short)",
    POINTS_LOWER: f"100 {_MINUS} {100 // POINTS_FLOOR} {_TIMES} points over"
    f" (lower is better; 0 at {POINTS_FLOOR} points over)",
}


def attainment_rule(metric) -> str:
    """Which rule a line's attainment follows, by its metric's unit, kind and direction.

    A share held against a planned share (a % metric of kind stock or level: retention,
    tier-A retention, forecast accuracy, product-mix share) is judged by the points it
    is short: 33 % retained against 90 % planned is 57 points short, 0 % attainment, where
    33 / 90 would pay 37 %. Money, counts, ratios and growth % (a flow: how much of the
    planned growth came) stay actual ÷ planned; lower is better inverts either."""
    from planning.selectors.variances import LEVEL, METRIC_KIND, STOCK

    lower = getattr(metric, "direction", None) == Metric.Direction.LOWER
    in_points = getattr(metric, "unit", None) == Metric.Unit.PERCENT and METRIC_KIND.get(
        getattr(metric, "code", None)
    ) in (STOCK, LEVEL)
    if in_points:
        return POINTS_LOWER if lower else POINTS
    return INVERSE if lower else RATIO


def line_attainment(line) -> Decimal | None:
    """The line's attainment by `attainment_rule`, kept between 0 and 150 %. No figure
    when either is missing, or, for a ratio, when the plan is not above zero."""
    planned, actual = getattr(line, "planned", None), getattr(line, "actual", None)
    if planned is None or actual is None:
        return None
    rule = attainment_rule(getattr(line, "metric", None))
    if rule in (POINTS, POINTS_LOWER):
        ahead = Fraction(Decimal(actual)) - Fraction(Decimal(planned))
        if rule == POINTS_LOWER:
            ahead = -ahead
        return cap(pct((100 + ahead * 100 / POINTS_FLOOR) / 100))
    if planned <= 0:
        return None
    if rule == INVERSE:
        return ATTAINMENT_CAP if actual <= 0 else cap(ratio_pct(planned, actual))
    if actual < 0:
        return Decimal("0.00")
    return cap(ratio_pct(actual, planned))


@dataclass
class ProductLine:
    metric: object
    weight: int
    planned: Decimal | None
    actual: Decimal | None
    attainment: Decimal | None
    rule: str = RATIO

    @property
    def rule_label(self) -> str:
        return RULES[self.rule]

    @property
    def in_points(self) -> bool:
        return self.rule in (POINTS, POINTS_LOWER)

    @property
    def points(self) -> Decimal | None:
        """For a points rule: actual - planned in points (negative when short)."""
        if not self.in_points or self.planned is None or self.actual is None:
            return None
        return Decimal(self.actual) - Decimal(self.planned)


def product_attainment(lines: Iterable) -> tuple[Decimal | None, list[ProductLine]]:
    """Σ weight * attainment / Σ weight over the lines that have a figure."""
    parts = [
        ProductLine(
            line.metric,
            line.weight,
            line.planned,
            line.actual,
            line_attainment(line),
            attainment_rule(line.metric),
        )
        for line in lines
    ]
    counted = [p for p in parts if p.attainment is not None and p.weight]
    weight = sum(p.weight for p in counted)
    if not weight:
        return None, parts
    value = sum((p.weight * Fraction(p.attainment) for p in counted), Fraction(0)) / weight
    return pct(value / 100), parts


def combine(
    product: Decimal | None, rb: Decimal | None, product_weight: int, rb_weight: int
) -> Decimal | None:
    """(product weight * product + RB weight * RB) / 100. A part whose weight is above
    zero must have a figure; otherwise there is no combined figure."""
    if (product is None and product_weight) or (rb is None and rb_weight):
        return None
    value = Fraction(product_weight) * Fraction(product or 0) + Fraction(rb_weight) * Fraction(
        rb or 0
    )
    return pct(value / 10000)


@dataclass
class CompensationRow:
    rm: User
    product: Decimal | None
    product_lines: list[ProductLine]
    rb_score: Decimal | None
    rb_objective: Decimal | None
    rb: Decimal | None
    rb_count: int
    combined: Decimal | None
    product_note: str = ""
    rb_raters: int = 0
    rb_note: str = ""
    # The year's relationship metric for the RM, for information (docs/metrics.md, "The
    # relationship metric"): paid only as a weighted line of their targets, in `product`.
    relationship: object = None


class Compensation:
    """The compensation view of a plan year. `iter_rows()` computes the rows one RM at a
    time (the CSV streams them); `rows` is the same, as a list (the page)."""

    def __init__(self, plan_year, rms, board, behaviours, plan_versus_actual, through_month):
        self.plan_year = plan_year
        self.product_weight = plan_year.product_weight_pct
        self.rb_weight = plan_year.rb_weight_pct
        self.through_month = through_month
        self.as_of = None
        self._rms, self._board, self._own = rms, board, behaviours
        self._pva = plan_versus_actual
        self._rows: list[CompensationRow] | None = None
        self.minimum = settings.RB_MIN_RATERS
        self.relationship = None  # planning.selectors.relationship.Choice of the year

    def iter_rows(self):
        first, last = year_months(self.plan_year)
        months = month_range(first, last)
        for rm in self._rms:
            pva = self._pva(rm, self.plan_year)
            self.as_of = self.as_of or getattr(pva, "as_of", None)
            relationship = self._relationship_line(pva)
            # The relationship line read along (`also`) is not a target: it pays nothing.
            lines = [line for line in getattr(pva, "lines", []) if not getattr(line, "extra", 0)]
            product, parts = product_attainment(lines)
            ytd = self._board.rms_months([rm.pk], months)
            score = self._board.score(ytd)
            objective = weighted_objective(self._own, among=rated(ytd))
            raters = self._board.raters([rm.pk], months)
            # Too few customers: the score is shown, but pays nothing either way.
            enough = raters >= self.minimum
            rb = cap(ratio_pct(score, objective)) if score is not None and enough else None
            rb_note = (
                ""
                if enough or not raters
                else (
                    f"not enough ratings: {raters} customer{'s' if raters != 1 else ''}, "
                    f"{self.minimum} needed"
                )
            )
            yield CompensationRow(
                rm=rm,
                product=product,
                product_lines=parts,
                rb_score=score,
                rb_objective=objective,
                rb=rb,
                rb_count=sum(t.n for t in ytd.values()),
                combined=combine(product, rb, self.product_weight, self.rb_weight),
                product_note=_why_no_product(lines) if product is None else "",
                rb_raters=raters,
                rb_note=rb_note,
                relationship=relationship,
            )

    def _relationship_line(self, pva):
        from planning.selectors.relationship import line_from

        choice = self.relationship
        if choice is None or not any(
            line.metric.pk == choice.metric.pk for line in getattr(pva, "lines", [])
        ):
            return None
        return line_from(choice, pva)

    @property
    def rows(self) -> list[CompensationRow]:
        if self._rows is None:
            self._rows = list(self.iter_rows())
        return self._rows


def _why_no_product(lines: list) -> str:
    """Why an RM has no product figure, in the variance lines' own words."""
    if not lines:
        return "no targets yet"
    notes = [getattr(line, "note", "") for line in lines]
    return next((n.split(";")[0] for n in notes if n), "no figures yet")


def _plan_versus_actual(rm: User, plan_year: PlanYear, also=None):
    """The RM's year-to-date plan versus actual: the one selector the nightly job will
    switch to stored variances. Imported here so a missing module fails only this page.
    `also`: the relationship metric, read along as an unpaid line."""
    from planning.selectors.variances import rm_plan_versus_actual

    return rm_plan_versus_actual(rm, plan_year=plan_year, period="ytd", also=also)


def compensation(
    viewer: User,
    plan_year: PlanYear,
    *,
    team: Team | None = None,
    today: datetime.date | None = None,
    plan_versus_actual: Callable | None = None,
) -> Compensation:
    """Per RM in scope (the RM: their own row; a leader: their team; the bank: every RM
    not gone before the year began; `team` narrows it): product attainment, RB
    attainment (all the plan year's ratings so far) and the two combined with the plan
    year's weighting.

    Queries: the RMs (1), the ratings' counts and behaviours (3), and per RM whatever
    `rm_plan_versus_actual` reads (a fixed number per RM; docs/report-card.md)."""
    today = today or datetime.date.today()
    rms_qs = visible_people(viewer).filter(role=Role.RM).select_related("team")
    rms_qs = rms_qs.exclude(departed_on__lt=plan_year.starts_on)
    if team is not None:
        rms_qs = rms_qs.filter(team=team)
    rms = list(rms_qs.order_by("team__name", "last_name", "first_name", "username"))
    first, last = year_months(plan_year)
    bs = behaviour_set_of(plan_year)
    ratings = visible_ratings(viewer).filter(rm__in=[rm.pk for rm in rms])
    ratings = ratings.filter(behaviour__behaviour_set__plan_year=plan_year)
    board, behaviours = _board(ratings, first, last, bs)
    view = Compensation(
        plan_year,
        rms,
        board,
        set_behaviours(behaviours, bs),
        plan_versus_actual or _plan_versus_actual,
        clamp_month(today, plan_year),
    )
    view.minimum = min_ratings(bs)
    from planning.selectors.relationship import relationship_choice

    view.relationship = relationship_choice(plan_year)
    if plan_versus_actual is None and view.relationship is not None:
        metric = view.relationship.metric
        view._pva = lambda rm, py: _plan_versus_actual(rm, py, also=metric)
    return view


# --- improvement plans ---------------------------------------------------------------------


def improvement_plan_of(rm: User, behaviour: Behaviour) -> ImprovementPlan | None:
    """`rm`'s own plan for the behaviour (the improvement-plan page is the RM's own)."""
    return visible_improvement_plans(rm).filter(rm=rm, behaviour=behaviour).first()


def behaviour_ytd(viewer: User, rm: User, behaviour: Behaviour) -> Tally:
    """The RM's ratings of the behaviour from the start of its plan year: one query."""
    plan_year = behaviour.behaviour_set.plan_year
    first, last = year_months(plan_year)
    row = (
        visible_ratings(viewer)
        .filter(rm=rm, behaviour=behaviour, month__gte=first, month__lte=last)
        .aggregate(n=Count("pk"), good=Count("pk", filter=Q(rating__gte=GOOD)))
    )
    return Tally(row["n"], row["good"])
