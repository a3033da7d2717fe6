"""The planning part of the demo bank: a year of targets and flight plans.

`seed_planning(as_of=..., seed=...)` runs after org.demo has built the bank, in the same
transaction, and is as deterministic: the same seed and as_of give the same plans, down to
their timestamps. It creates

* the plan year that contains as_of (1 January to 31 December, compensation 80/20) with
  its standards: calls, visits and reviews per week for finders, minders and both, the
  product mix, forecast accuracy 85 % and retention as the relationship metric;
* the bank's targets (growth 60 / retention 40), written and proposed by exec1 and
  approved by exec2: four eyes;
* in each block of three teams: the first team's targets approved, the second's proposed
  and waiting for sign-off, the third's a draft whose weights do not add up yet; RM
  targets for the RMs of the first team (approved, proposed, one returned) and of the
  second (proposed);
* a territory plan for every RM who is staying, in a state that depends on their seat in
  the team (`SEAT_PLANS`): drafts, submitted, endorsed, approved, returned by the leader
  and returned by an executive, with their comment threads. rm1's plan is a draft with
  goals and strategies written, for the browser journey to finish and submit. The RMs who
  gave notice have no plan for a year they will not finish;
* relationship plans for most active tier-A accounts (not all: coverage has something to
  show) and a few "must grow" tier-B ones, each with planned actions;
* development plans for four RMs of each team;
* every RM's forecast for each month of the year so far and for the current quarter, a few
  for next month (`_Forecasts`), around what they then won with a bias of their own (two
  optimists and two cautious RMs per team), some adjusted by the leader, the teams' sums,
  and each month's frozen into its ForecastSnapshot, so forecast accuracy has figures.

Workflow steps go through planning.services, so four eyes, versions, comments and the
audit history are the real thing. Each step runs as its actor at a moment of the story
(`_Story`): the clock the services and the audit history read (django.utils.timezone.now)
is held at a working hour between November before the year and as_of, and the history's
user is the actor. Relationship plans and their actions, which have no workflow, are
written in bulk, with their history rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import importlib
import random
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

from django.apps import apps as global_apps
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from accounts.models import (
    Account,
    AccountStatus,
    ForecastCategory,
    Opportunity,
    OpportunityStatus,
    ProductFamily,
)
from accounts.selectors import add_months, month_end
from org.models import Market, RmStyle, Role, Team, User
from salesmgmt import formatting

from .models import (
    ActivityStandard,
    ForecastPeriod,
    ForecastSnapshot,
    ForecastSubmission,
    Metric,
    PlannedAction,
    PlanYear,
    ProductMixStandard,
    RelationshipMetric,
    RelationshipPlan,
    Scope,
    SteeringStandard,
    TargetSet,
    TeamForecastSubmission,
    TerritoryPlan,
)
from .services import plans as plan_services
from .services import targets as target_services

PRODUCT_WEIGHT_PCT, RB_WEIGHT_PCT = 80, 20
FORECAST_ACCURACY_PCT = Decimal("85.00")
# Calls, visits and reviews per week: finders hunt, minders look after the book.
ACTIVITY_STANDARDS = {
    RmStyle.FINDER: (12, 3, 1),
    RmStyle.MINDER: (5, 4, 3),
    RmStyle.BOTH: (8, 3, 2),
}
PRODUCT_MIX = {
    ProductFamily.LOAN: 45,
    ProductFamily.DEPOSIT: 35,
    ProductFamily.TREASURY: 10,
    ProductFamily.CARD: 5,
    ProductFamily.OTHER: 5,
}

# The bank's balance between growth and retention, and its lines: metric, value, weight.
# The growth lines weigh 60 and the retention lines 40, as the balance says. None: the
# number of new relationships is last year's plus a tenth, counted from the book.
GROWTH_SHARE_PCT = 60
BANK_TARGETS = (
    ("loan_growth", Decimal("8.00"), 25),
    ("deposit_growth", Decimal("6.00"), 20),
    ("new_relationships", None, 15),
    ("tier_a_retention", Decimal("100.00"), 20),
    ("retention", Decimal("90.00"), 15),
    ("forecast_accuracy", FORECAST_ACCURACY_PCT, 5),
)
# A draft team set stops before its last two lines: its weights add up to 80 %.
DRAFT_TEAM_LINES = 4
# An RM's lines weigh differently by style; activities per week is their style's standard.
RM_WEIGHTS = {
    RmStyle.FINDER: {
        "loan_growth": 20,
        "deposit_growth": 15,
        "new_relationships": 25,
        "tier_a_retention": 15,
        "retention": 5,
        "activities_per_week": 15,
        "forecast_accuracy": 5,
    },
    RmStyle.MINDER: {
        "loan_growth": 20,
        "deposit_growth": 20,
        "new_relationships": 5,
        "tier_a_retention": 25,
        "retention": 15,
        "activities_per_week": 10,
        "forecast_accuracy": 5,
    },
    RmStyle.BOTH: {
        "loan_growth": 25,
        "deposit_growth": 20,
        "new_relationships": 15,
        "tier_a_retention": 20,
        "retention": 5,
        "activities_per_week": 10,
        "forecast_accuracy": 5,
    },
}

# Target sets by a team's place in its block of three: approved, waiting, being written.
TEAM_SET_STATES = ("approved", "proposed", "draft")
# RM target sets of an approved team by seat (an RM's place in the team), and of a team
# whose own set waits for sign-off: all proposed with it. A draft team has none yet.
APPROVED_TEAM_RM_SETS = ("approved",) * 6 + ("proposed",) * 3 + ("returned",)

# What the RM in each seat of a team has done with their territory plan by as_of. The
# seats below the standard plan fewer calls than their style's standard: a disconnect.
SEAT_PLANS = (
    "started",  # goals and strategies written; rm1's, for the browser journey to finish
    "submitted",
    "submitted",
    "endorsed",
    "resubmitted",  # returned by the leader once, rewritten, submitted again, endorsed
    "approved",
    "approved",
    "returned",  # by the leader: too few calls
    "returned_by_executive",  # endorsed, then returned by an executive
    "barely_started",  # two goals written
)
BELOW_STANDARD_SEATS = (2, 7)
DEVELOPMENT_PLAN_SEATS = (0, 2, 5, 7)
# Share of tier-A accounts left without a relationship plan, and of tier-B ones given one.
TIER_A_UNPLANNED = 0.12
TIER_B_PLANNED = 0.06


@dataclasses.dataclass(frozen=True)
class PlanningSummary:
    plan_year: int
    target_sets: int
    territory_plans: int
    relationship_plans: int
    development_plans: int
    forecast_submissions: int = 0
    forecast_snapshots: int = 0


def seed_planning(*, as_of: dt.date, seed: int) -> PlanningSummary:
    """The plan year containing `as_of`, its targets and plans, on top of the demo bank."""
    return _PlanningBuilder(as_of=as_of, seed=seed).build()


class _Story:
    """When things happened: `at(0)` is the first working day of November before the year,
    `at(1)` the last working day before as_of or the end of April, whichever comes first.

    A larger fraction is never an earlier moment, so a step given a larger fraction than
    another happens after it; the time of day runs from 08:00 to 17:00 in the bank's zone.
    """

    def __init__(self, plan_year: PlanYear, as_of: dt.date):
        first = plan_year.starts_on - dt.timedelta(days=61)
        last = min(as_of - dt.timedelta(days=1), plan_year.starts_on + dt.timedelta(days=119))
        days = [first + dt.timedelta(days=d) for d in range((last - first).days + 1)]
        self.days = [d for d in days if d.weekday() < 5] or days

    def at(self, fraction: float) -> dt.datetime:
        x = min(max(fraction, 0.0), 0.999_999) * len(self.days)
        day = self.days[int(x)]
        minutes = round((x - int(x)) * 9 * 60)
        return timezone.make_aware(
            dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=minutes)
        )


@contextlib.contextmanager
def _acting(user: User, moment: dt.datetime) -> Iterator[None]:
    """Run a step as `user` at `moment`: the services stamp their times with
    timezone.now(), and the audit history takes its user from the request in flight."""
    context = HistoricalRecords.context
    previous = getattr(context, "request", None)
    context.request = SimpleNamespace(user=user)
    try:
        with mock.patch("django.utils.timezone.now", return_value=moment):
            yield
    finally:
        if previous is None:
            del context.request
        else:
            context.request = previous


def _catalogue() -> dict[str, Metric]:
    """The metric catalogue. A test database that was flushed lost what the migration
    wrote; the migration's own function writes it again."""
    metrics = {m.code: m for m in Metric.objects.all()}
    migration = importlib.import_module("planning.migrations.0002_metric_catalogue")
    relationship = importlib.import_module("planning.migrations.0006_relationship_metrics")
    codes = {code for code, *_ in migration.METRICS} | {code for code, *_ in relationship.METRICS}
    if not codes <= metrics.keys():
        migration.add_metrics(global_apps, None)
        # ... the later migration that made forecast accuracy and activities per week
        # steering standards (neither growth nor retention), and the one that added the
        # metrics behind the relationship-metric choices.
        steering = importlib.import_module("planning.migrations.0005_steering_standard_category")
        steering.to_steering(global_apps, None)
        relationship.add_metrics(global_apps, None)
        metrics = {m.code: m for m in Metric.objects.all()}
    return metrics


def ensure_metric_catalogue() -> dict[str, Metric]:
    """The metric catalogue, written again where a flushed test database lost it."""
    return _catalogue()


def _pct(value: float) -> Decimal:
    return Decimal(str(round(value * 2) / 2)).quantize(Decimal("0.01"))


def _new_relationships(count: Decimal) -> str:
    return f"{count:.0f} new relationship" + ("" if count == 1 else "s")


def _pct(value: Decimal) -> str:
    """A growth percentage in the plan's words as every page prints it (10.00, never the
    "1E+1" a normalised Decimal gives)."""
    return formatting.number(value, formatting.UNIT_PLACES["percent"])


def _money(value: Decimal | float) -> Decimal:
    return Decimal(round(float(value), -3)).quantize(Decimal("0.01"))


# --- words ---------------------------------------------------------------------------------

GOALS_PERSONAL = {
    RmStyle.FINDER: (
        "Become the banker {region}'s accountants and lawyers send their clients to, "
        "and win {new} this year."
    ),
    RmStyle.MINDER: (
        "Know every tier-A owner's plans for the next three years, and keep every one of them."
    ),
    RmStyle.BOTH: (
        "Keep all my tier-A relationships and bring in {new} through referrals in {region}."
    ),
}
GOALS_BUSINESS = (
    "Grow loans {loan} % and deposits {deposit} % on last year, win {new} and lose no "
    "tier-A relationship."
)
GOALS_COMPENSATION = (
    "Earn the full product bonus ({product} % of my variable pay) and a relationship-"
    "building rating of good or better for the other {rb} %."
)
GOALS_MARKET = {
    Market.SMALL_BUSINESS: (
        "Be known on {region}'s high streets: practices and professional firms with "
        "1-5 million in fees that still bank with whoever opened their first account."
    ),
    Market.COMMERCIAL: (
        "Win the manufacturers and distributors in {region} that have outgrown their local bank."
    ),
    Market.CORPORATE: (
        "Lead the treasury conversation with the {region} corporates we lend to but whose "
        "cash we do not yet run."
    ),
}
STRATEGIES = {
    RmStyle.FINDER: (
        "Two referral lunches a month with accountants; a list of 40 firms that fit the "
        "profile, called in turn; the treasury specialist on every new deal."
    ),
    RmStyle.MINDER: (
        "A review with every tier-A owner each quarter, with their relationship plan on the "
        "table; renewals started six months before maturity; cash management offered "
        "wherever deposits sit idle."
    ),
    RmStyle.BOTH: (
        "Quarterly reviews with tier-A owners; renewals started six months ahead; one "
        "referral lunch a month to keep the pipeline full."
    ),
}
STRATEGIES_AFTER_RETURN = (
    " Every tier-A owner gets a review before their renewal date, and I will keep "
    "{account} with an early renewal offer."
)
MEASURES = (
    "Loan and deposit growth each month against my targets; tier-A retention each month; "
    "new relationships and the pipeline each quarter; my calls, visits and reviews each week."
)
RESOURCES = (
    "A treasury specialist for two joint visits a month.",
    "Credit analyst time for the renewals due this year.",
    "Marketing support for an owners' seminar in {region}.",
    "Nothing beyond the team's usual support.",
)
RISKS_MATURING = (
    "{account}'s facility matures on {date:%d %B %Y}: a competitor may bid for it, so the "
    "renewal starts early."
)
RISKS_GENERAL = (
    "Deposits dip in the summer as customers draw on their cash for stock and wages.",
    "Two competitors are hiring relationship managers in {region} and will call my book.",
    "Rates may fall, and with them the margin on my deposit book.",
)

LEADER_RETURNS = (
    "Your planned calls ({calls} a week) are below the {style} standard of {standard}. And "
    "which accounts are behind the {loan} % loan growth? Name them under top accounts."
)
LEADER_RETURNS_ONCE = "Strategies are thin on retention: how will you keep {account}?"
RM_RESUBMITS = "Added reviews before every tier-A renewal, and the plan for {account}."
RM_REPLIES = "Fair point: I will add the prospects and lift the calls before I resubmit."
EXECUTIVE_RETURNS = (
    "The plan counts on {new} but names no prospects or opportunities "
    "behind them. Show where they will come from."
)
LEADER_COMMENTS = "Read it: we go through it at our check-in this week, then I decide."
ENDORSEMENTS = (
    "Solid plan; keep the renewals on the agenda of our monthly check-in.",
    "Endorsed. The tier-A reviews are the heart of it.",
    "Good balance of hunting and minding.",
)
APPROVALS = ("Approved.", "Approved: ambitious but grounded in the book.", "Approved, thank you.")
TARGET_PROPOSALS = {
    Scope.BANK: (
        "Growth 60 / retention 40: grow loans and deposits while we keep every tier-A relationship."
    ),
    Scope.TEAM: "Our share of the bank's targets, set against last year's book.",
    Scope.RM: "Set with {first} at our planning check-in.",
}
TARGET_APPROVALS = {
    Scope.BANK: "Approved. The 60/40 balance is what the board asked for.",
    Scope.TEAM: "Approved: adds up to the bank's numbers.",
    Scope.RM: "Approved.",
}
RM_SET_RETURNED = (
    "Loan growth of {loan} % is well below the team's {team_loan} %. Say where the rest of "
    "the team's growth comes from, or lift it."
)

DEVELOPMENT_SUPPORT = (
    "Two joint visits a month with {leader}, and a place on the spring negotiation course."
)
DEVELOPMENT_GOALS = (
    # skill, metric code of the RM's target line (or None), RB behaviour, actions
    (
        "Asking for the deposit business",
        "deposit_growth",
        "Consultation",
        "Bring a cash-flow view to every review and ask where the rest of the cash sits.",
    ),
    (
        "Listening before proposing",
        None,
        "Listening",
        "Prepare five open questions before every visit; no product in the first half hour.",
    ),
)

RELATIONSHIP_OBJECTIVES = {
    RelationshipPlan.Intent.MUST_KEEP: (
        "Keep the whole relationship with {account}: renew on time, see the owner every "
        "quarter, and know their plans before a competitor does.",
        "Hold {account}'s balances through the year and add cash management if their "
        "payments grow.",
    ),
    RelationshipPlan.Intent.MUST_GROW: (
        "Become {account}'s main bank: win the operating account and the next loan.",
        "Add treasury and card to {account}'s relationship this year.",
    ),
}
RELATIONSHIP_RESULTS = {
    RelationshipPlan.Intent.MUST_KEEP: "Balances of at least {balance:,.0f} at the review.",
    RelationshipPlan.Intent.MUST_GROW: "Balances of {balance:,.0f} and one more product.",
}
RELATIONSHIP_RESOURCES = (
    "Treasury specialist for one visit.",
    "",
    "Credit analyst for the renewal.",
)
ACTIONS = (
    "Quarterly review with the owner",
    "Present the cash management proposal",
    "Introduce the treasury specialist",
    "Check covenants and the year's financials",
)
RENEWAL_ACTION = "Start the renewal of the facility"
JOINT_VISIT = "Joint visit with the team leader"


# --- the builder -----------------------------------------------------------------------------


@dataclasses.dataclass
class _Rm:
    user: User
    team: Team
    team_index: int
    seat: int
    books: list[Account]  # active accounts owned, largest first
    new_last_year: int
    target_set: TargetSet | None = None
    values: dict[str, Decimal] = dataclasses.field(default_factory=dict)


class _PlanningBuilder:
    def __init__(self, *, as_of: dt.date, seed: int):
        self.as_of = as_of
        self.seed = seed
        self.target_sets = 0

    def rng(self, part: str) -> random.Random:
        return random.Random(f"flightpath-demo:{self.seed}:planning:{part}")

    def build(self) -> PlanningSummary:
        self._load()
        self._plan_year()
        self._bank_targets()
        self._team_and_rm_targets()
        plans = self._territory_plans()
        relationship_plans = self._relationship_plans()
        development_plans = self._development_plans()
        submissions, snapshots = _Forecasts(self).build()
        return PlanningSummary(
            plan_year=self.plan_year.year,
            target_sets=self.target_sets,
            territory_plans=plans,
            relationship_plans=relationship_plans,
            development_plans=development_plans,
            forecast_submissions=submissions,
            forecast_snapshots=snapshots,
        )

    def acting(self, user: User, fraction: float):
        return _acting(user, self.story.at(fraction))

    # ---------------------------------------------------------------------------------
    def _load(self) -> None:
        """Who is who, and the books: the people by username, the RMs by team and seat."""
        people = {u.username: u for u in User.objects.select_related("team").order_by("pk")}
        self.exec1, self.exec2 = people["exec1"], people["exec2"]
        self.teams = list(Team.objects.select_related("leader").order_by("pk"))
        self.metrics = _catalogue()

        last_month = (self.as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        accounts = (
            Account.objects.filter(status=AccountStatus.ACTIVE)
            .select_related("tier")
            .annotate(
                balance=Sum("positions__balance", filter=Q(positions__month=last_month)),
            )
            .order_by("pk")
        )
        books: dict[int, list[Account]] = {}
        for account in accounts:
            account.balance = account.balance or Decimal(0)
            books.setdefault(account.owner_id, []).append(account)
        for book in books.values():
            book.sort(key=lambda a: (-a.balance, a.pk))
        self.accounts = [a for book in books.values() for a in book]
        self.accounts.sort(key=lambda a: a.pk)

        year_ago = self.as_of - dt.timedelta(days=365)
        new = dict(
            Account.objects.filter(opened_on__gt=year_ago, opened_on__lte=self.as_of)
            .values_list("owner")
            .annotate(n=Count("pk"))
        )
        team_index = {team.pk: t for t, team in enumerate(self.teams)}
        self.rms: list[_Rm] = []
        seats: dict[int, int] = {}
        for user in people.values():
            if user.role != Role.RM or user.team_id is None:
                continue
            seat = seats.setdefault(user.team_id, 0)
            seats[user.team_id] += 1
            self.rms.append(
                _Rm(
                    user=user,
                    team=user.team,
                    team_index=team_index[user.team_id],
                    seat=seat,
                    books=books.get(user.pk, []),
                    new_last_year=new.get(user.pk, 0),
                )
            )
        self.rms_of: dict[int, list[_Rm]] = {}
        for rm in self.rms:
            self.rms_of.setdefault(rm.team_index, []).append(rm)

    # ---------------------------------------------------------------------------------
    def _plan_year(self) -> None:
        year = self.as_of.year
        starts_on, ends_on = dt.date(year, 1, 1), dt.date(year, 12, 31)
        self.story = _Story(PlanYear(starts_on=starts_on, ends_on=ends_on), self.as_of)
        with self.acting(self.exec1, 0.0):
            self.plan_year = PlanYear.objects.create(
                year=year,
                starts_on=starts_on,
                ends_on=ends_on,
                product_weight_pct=PRODUCT_WEIGHT_PCT,
                rb_weight_pct=RB_WEIGHT_PCT,
            )
            SteeringStandard.objects.create(
                plan_year=self.plan_year,
                forecast_accuracy_pct=FORECAST_ACCURACY_PCT,
                relationship_metric=RelationshipMetric.RETENTION,
                updated_by=self.exec1,
            )
            for style, (calls, visits, reviews) in ACTIVITY_STANDARDS.items():
                ActivityStandard.objects.create(
                    plan_year=self.plan_year,
                    rm_style=style,
                    calls_per_week=calls,
                    visits_per_week=visits,
                    reviews_per_week=reviews,
                )
            for family, share in PRODUCT_MIX.items():
                ProductMixStandard.objects.create(
                    plan_year=self.plan_year, family=family, target_share_pct=share
                )

    # ---------------------------------------------------------------------------------
    def _write_set(
        self, *, scope: str, by: User, fraction: float, lines, team=None, rm=None, growth=None
    ) -> TargetSet:
        with self.acting(by, fraction):
            ts = target_services.target_set_create(
                plan_year=self.plan_year, scope=scope, by=by, team=team, rm=rm
            )
            ts = target_services.target_set_save(
                target_set_id=ts.pk,
                by=by,
                growth_share_pct=growth,
                lines=[
                    target_services.LineInput(self.metrics[code], value, weight)
                    for code, value, weight in lines
                ],
            )
        self.target_sets += 1
        return ts

    def _decide_set(self, ts: TargetSet, outcome: str, *, by: User, fraction: float, comment):
        """Propose the set (as its writer) and, unless it waits, approve or return it."""
        writer = ts.last_edited_by
        proposal = TARGET_PROPOSALS[ts.scope].format(first=ts.rm.first_name if ts.rm else "")
        with self.acting(writer, fraction):
            target_services.target_set_propose(target_set_id=ts.pk, by=writer, comment=proposal)
        if outcome == "approved":
            with self.acting(by, fraction + 0.03):
                target_services.target_set_approve(target_set_id=ts.pk, by=by, comment=comment)
        elif outcome == "returned":
            with self.acting(by, fraction + 0.03):
                target_services.target_set_return(target_set_id=ts.pk, by=by, comment=comment)

    def _bank_targets(self) -> None:
        new = round(sum(rm.new_last_year for rm in self.rms) * 1.1)
        self.bank_values = {
            code: Decimal(new) if value is None else value for code, value, _ in BANK_TARGETS
        }
        lines = [(code, self.bank_values[code], weight) for code, _, weight in BANK_TARGETS]
        ts = self._write_set(
            scope=Scope.BANK, by=self.exec1, fraction=0.01, lines=lines, growth=GROWTH_SHARE_PCT
        )
        # Four eyes: exec1 wrote and proposed the bank's targets, so exec2 approves them.
        self._decide_set(
            ts, "approved", by=self.exec2, fraction=0.04, comment=TARGET_APPROVALS[Scope.BANK]
        )

    def _team_and_rm_targets(self) -> None:
        rng = self.rng("targets")
        bank = self.bank_values
        self.team_values: list[dict[str, Decimal]] = []
        for t, team in enumerate(self.teams):
            state = TEAM_SET_STATES[t % len(TEAM_SET_STATES)]
            rms = self.rms_of.get(t, [])
            values = {
                "loan_growth": _pct(float(bank["loan_growth"]) + rng.choice((-1.5, -1, 0, 1, 2))),
                "deposit_growth": _pct(
                    float(bank["deposit_growth"]) + rng.choice((-1, -0.5, 0, 1, 1.5))
                ),
                "new_relationships": Decimal(
                    max(len(rms), round(sum(rm.new_last_year for rm in rms) * 1.1))
                ),
                "tier_a_retention": bank["tier_a_retention"],
                "retention": _pct(float(bank["retention"]) + rng.choice((-2, -1, 0, 1))),
                "forecast_accuracy": bank["forecast_accuracy"],
            }
            self.team_values.append(values)
            lines = [(code, values[code], weight) for code, _, weight in BANK_TARGETS]
            if state == "draft":
                lines = lines[:DRAFT_TEAM_LINES]
            ts = self._write_set(
                scope=Scope.TEAM, by=team.leader, team=team, fraction=0.08 + t * 0.001, lines=lines
            )
            if state != "draft":
                self._decide_set(
                    ts,
                    state,
                    by=self.exec1,
                    fraction=0.12 + t * 0.001,
                    comment=TARGET_APPROVALS[Scope.TEAM],
                )
            if state == "draft":
                continue
            for rm in rms:
                outcome = (
                    APPROVED_TEAM_RM_SETS[rm.seat % len(APPROVED_TEAM_RM_SETS)]
                    if state == "approved"
                    else "proposed"
                )
                self._rm_targets(rng, rm, team, values, outcome)

    def _rm_targets(self, rng, rm: _Rm, team: Team, team_values, outcome: str) -> None:
        style = rm.user.rm_style or RmStyle.BOTH
        loan = float(team_values["loan_growth"]) + rng.choice((-2, -1, -0.5, 0, 0.5, 1, 2))
        if outcome == "returned":
            loan = float(team_values["loan_growth"]) - 4  # what the executive sends back
        rm.values = {
            "loan_growth": _pct(max(loan, 0)),
            "deposit_growth": _pct(
                max(float(team_values["deposit_growth"]) + rng.choice((-1, 0, 1)), 0)
            ),
            "new_relationships": Decimal(max(1, round(rm.new_last_year * 1.1))),
            "tier_a_retention": team_values["tier_a_retention"],
            "retention": team_values["retention"],
            "activities_per_week": Decimal(sum(ACTIVITY_STANDARDS[style])),
            "forecast_accuracy": team_values["forecast_accuracy"],
        }
        lines = [(code, rm.values[code], weight) for code, weight in RM_WEIGHTS[style].items()]
        fraction = 0.15 + rm.seat * 0.002 + rm.team_index * 0.0001
        rm.target_set = self._write_set(
            scope=Scope.RM, by=team.leader, rm=rm.user, fraction=fraction, lines=lines
        )
        decider = (self.exec1, self.exec2)[rm.seat % 2]
        comment = (
            RM_SET_RETURNED.format(
                loan=_pct(rm.values["loan_growth"]), team_loan=_pct(team_values["loan_growth"])
            )
            if outcome == "returned"
            else TARGET_APPROVALS[Scope.RM]
        )
        self._decide_set(
            rm.target_set, outcome, by=decider, fraction=fraction + 0.02, comment=comment
        )

    # ---------------------------------------------------------------------------------
    def _goal_values(self, rm: _Rm) -> dict[str, Decimal]:
        """The numbers an RM plans for: their own targets, else their team's growth rates
        and last year's new relationships plus a tenth."""
        if rm.values:
            return rm.values
        values = dict(self.team_values[rm.team_index])
        values["new_relationships"] = Decimal(max(1, round(rm.new_last_year * 1.1)))
        return values

    def _sections(self, rng, rm: _Rm) -> dict[str, dict]:
        """What the RM writes in each section of their territory plan."""
        user, team = rm.user, rm.team
        style = user.rm_style or RmStyle.BOTH
        region = team.name.split()[0]
        values = self._goal_values(rm)
        words = {
            "region": region,
            "new": _new_relationships(values["new_relationships"]),
            "loan": _pct(values["loan_growth"]),
            "deposit": _pct(values["deposit_growth"]),
            "product": self.plan_year.product_weight_pct,
            "rb": self.plan_year.rb_weight_pct,
        }
        calls, visits, reviews = ACTIVITY_STANDARDS[style]
        if rm.seat in BELOW_STANDARD_SEATS:
            calls = calls * 2 // 3
        top = rm.books[: rng.randint(3, 5)]
        maturing = sorted(
            (a for a in rm.books if a.contract_until and a.contract_until > self.as_of),
            key=lambda a: (a.contract_until, a.pk),
        )
        risks = (
            RISKS_MATURING.format(account=maturing[0].name, date=maturing[0].contract_until) + " "
            if maturing
            else ""
        ) + rng.choice(RISKS_GENERAL).format(**words)
        lines = list(rm.target_set.lines.all()) if rm.target_set else []
        return {
            "goals": {
                "goals_personal": GOALS_PERSONAL[style].format(**words),
                "goals_business": GOALS_BUSINESS.format(**words),
                "goals_compensation": GOALS_COMPENSATION.format(**words),
                "goals_market": GOALS_MARKET[team.market].format(**words),
            },
            "strategies": {"strategies": STRATEGIES[style]},
            "measures": {"measures": MEASURES, "measured_lines": lines},
            "activity": {
                "planned_calls_per_week": Decimal(calls),
                "planned_visits_per_week": Decimal(visits),
                "planned_reviews_per_week": Decimal(reviews),
            },
            "top_accounts": {"top_accounts": top},
            "resources": {"resources_needed": rng.choice(RESOURCES).format(**words)},
            "risks": {"risks": risks},
        }

    def _territory_plans(self) -> int:
        rng = self.rng("territory plans")
        count = 0
        for rm in self.rms:
            if rm.user.notice_given_on is not None:
                continue  # a leaver does not plan a year they will not finish
            self._territory_plan(rng, rm)
            count += 1
        return count

    def _territory_plan(self, rng: random.Random, rm: _Rm) -> None:
        user, leader = rm.user, rm.team.leader
        story = SEAT_PLANS[rm.seat % len(SEAT_PLANS)]
        sections = self._sections(rng, rm)
        if story == "started":
            sections = {k: sections[k] for k in ("goals", "strategies")}
        elif story == "barely_started":
            goals = sections["goals"]
            sections = {"goals": {k: goals[k] for k in ("goals_personal", "goals_business")}}
        at = 0.30 + rng.random() * 0.1
        with self.acting(user, at):
            plan = plan_services.territory_plan_start(rm=user, plan_year=self.plan_year)
        if story in ("started", "barely_started"):
            for name, data in sections.items():
                at += 0.004
                self._save_section(plan, name, data, at)
            return
        # A finished plan's text is written in one save rather than seven section saves
        # (each of which copies the plan and its accounts into the history): the same
        # record and one history entry, at a fraction of the seeding time. Its workflow
        # goes through the services.
        with self.acting(user, at + 0.02):
            plan.skip_history_when_saving = True  # the save below records the lists too
            plan.measured_lines.set(sections["measures"]["measured_lines"])
            plan.top_accounts.set(sections["top_accounts"]["top_accounts"])
            del plan.skip_history_when_saving
            for data in sections.values():
                for name, value in data.items():
                    if name not in ("measured_lines", "top_accounts"):
                        setattr(plan, name, value)
            plan.version += 1
            plan.save()

        at = 0.50 + rng.random() * 0.08
        self._act(plan_services.territory_plan_submit, plan, user, at, comment="")
        first_account = rm.books[0].name if rm.books else "my largest relationship"
        if story == "resubmitted":
            comment = LEADER_RETURNS_ONCE.format(account=first_account)
            self._act(plan_services.territory_plan_return, plan, leader, at + 0.04, comment=comment)
            strategies = sections["strategies"]["strategies"] + STRATEGIES_AFTER_RETURN.format(
                account=first_account
            )
            self._save_section(plan, "strategies", {"strategies": strategies}, at + 0.06)
            comment = RM_RESUBMITS.format(account=first_account)
            self._act(plan_services.territory_plan_submit, plan, user, at + 0.07, comment=comment)
            at += 0.07
        if story == "submitted":
            if rm.seat == 1:
                self._remark(plan, leader, at + 0.05, LEADER_COMMENTS)
            return
        if story == "returned":
            style = user.rm_style or RmStyle.BOTH
            comment = LEADER_RETURNS.format(
                calls=sections["activity"]["planned_calls_per_week"],
                style=RmStyle(style).label.lower(),
                standard=ACTIVITY_STANDARDS[style][0],
                loan=_pct(self._goal_values(rm)["loan_growth"]),
            )
            self._act(plan_services.territory_plan_return, plan, leader, at + 0.06, comment=comment)
            self._remark(plan, user, at + 0.08, RM_REPLIES)
            return

        at += 0.1 + rng.random() * 0.05
        comment = rng.choice(ENDORSEMENTS)
        self._act(plan_services.territory_plan_endorse, plan, leader, at, comment=comment)
        executive = (self.exec1, self.exec2)[rm.seat % 2]
        at += 0.1 + rng.random() * 0.05
        if story == "returned_by_executive":
            comment = EXECUTIVE_RETURNS.format(
                new=_new_relationships(self._goal_values(rm)["new_relationships"])
            )
            self._act(plan_services.territory_plan_return, plan, executive, at, comment=comment)
        elif story == "approved":
            comment = rng.choice(APPROVALS)
            self._act(plan_services.territory_plan_approve, plan, executive, at, comment=comment)

    def _save_section(self, plan: TerritoryPlan, section: str, data: dict, at: float) -> None:
        with self.acting(plan.rm, at):
            plan_services.territory_plan_save_section(
                plan_id=plan.pk, section=section, data=data, by=plan.rm, expected_version=None
            )

    def _act(self, service, plan: TerritoryPlan, by: User, at: float, *, comment: str) -> None:
        """One workflow step on a plan: submit, endorse, approve or return."""
        with self.acting(by, at):
            service(plan_id=plan.pk, by=by, comment=comment)

    def _remark(self, plan: TerritoryPlan, by: User, at: float, text: str) -> None:
        with self.acting(by, at):
            plan_services.plan_comment_add(plan_id=plan.pk, by=by, text=text)

    # ---------------------------------------------------------------------------------
    def _relationship_plans(self) -> int:
        """Most tier-A accounts and a few tier-B ones, written in bulk with their history."""
        rng = self.rng("relationship plans")
        rms = {rm.user.pk: rm for rm in self.rms}
        year = self.plan_year.year
        quarter_ends = [dt.date(year, m, d) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))]
        # The first seat of each team (rm1) leaves its smallest tier-A account unplanned.
        unplanned = {
            rm.user.pk: [a for a in rm.books if a.tier.code == "A"][-1].pk
            for rm in self.rms
            if rm.seat == 0 and sum(a.tier.code == "A" for a in rm.books) > 1
        }
        plans: list[RelationshipPlan] = []
        actions: list[list[PlannedAction]] = []
        for account in self.accounts:
            tier = account.tier.code
            if tier == "A":
                if account.pk == unplanned.get(account.owner_id) or rng.random() < TIER_A_UNPLANNED:
                    continue
                intent = RelationshipPlan.Intent.MUST_KEEP
            elif tier == "B" and rng.random() < TIER_B_PLANNED:
                intent = RelationshipPlan.Intent.MUST_GROW
            else:
                continue
            owner = rms[account.owner_id]
            # A leaver's accounts are planned by the teammate who covers them.
            author = owner.user
            if author.notice_given_on and account.covering_rm_id in rms:
                author = rms[account.covering_rm_id].user
            growth = (
                Decimal("1.05") if intent == RelationshipPlan.Intent.MUST_KEEP else Decimal("1.20")
            )
            balance = _money(account.balance * growth)
            moment = self.story.at(0.20 + rng.random() * 0.15)
            plan = RelationshipPlan(
                account=account,
                plan_year=self.plan_year,
                intent=intent,
                objectives=rng.choice(RELATIONSHIP_OBJECTIVES[intent]).format(account=account.name),
                expected_results=RELATIONSHIP_RESULTS[intent].format(balance=balance),
                expected_balance=balance,
                resources=rng.choice(RELATIONSHIP_RESOURCES),
                review_on=rng.choice(quarter_ends[1:]),
                author=author,
                updated_at=moment,
            )
            plan._history_user, plan._history_date = author, moment
            plans.append(plan)
            actions.append(self._planned_actions(rng, plan, account, author, owner.team))
        with self.acting(self.exec1, 0.35):
            plans = bulk_create_with_history(plans, RelationshipPlan)
            # bulk_create's auto_now wrote the step's moment; each plan keeps its own.
            for plan in plans:
                plan.updated_at = plan._history_date
            RelationshipPlan.objects.bulk_update(plans, ["updated_at"])
            rows = []
            for plan, planned in zip(plans, actions, strict=True):
                for action in planned:
                    action.relationship_plan = plan
                    rows.append(action)
            bulk_create_with_history(rows, PlannedAction)
        return len(plans)

    def _planned_actions(self, rng, plan, account, author, team) -> list[PlannedAction]:
        year = self.plan_year.year
        start = dt.date(year, 1, 15)

        def due(earliest: dt.date) -> dt.date:
            return earliest + dt.timedelta(days=rng.randint(0, 300))

        items = [(desc, due(start), author) for desc in rng.sample(ACTIONS, rng.randint(1, 2))]
        if account.contract_until and account.contract_until.year <= year + 1:
            renewal = max(start, account.contract_until - dt.timedelta(days=180))
            items.append((RENEWAL_ACTION, min(renewal, dt.date(year, 12, 31)), author))
        if rng.random() < 0.3:
            items.append((JOINT_VISIT, due(start), team.leader))
        items.sort(key=lambda item: item[1])
        actions = []
        for description, due_on, owner in items:
            action = PlannedAction(
                description=description,
                due_on=due_on,
                owner=owner,
                done=due_on < self.as_of and rng.random() < 0.75,
            )
            action._history_user, action._history_date = author, plan._history_date
            actions.append(action)
        return actions

    # ---------------------------------------------------------------------------------
    def _development_plans(self) -> int:
        rng = self.rng("development plans")
        count = 0
        for rm in self.rms:
            if rm.seat not in DEVELOPMENT_PLAN_SEATS or rm.user.notice_given_on:
                continue
            user = rm.user
            lines = {
                line.metric.code: line
                for line in (rm.target_set.lines.select_related("metric") if rm.target_set else [])
            }
            with self.acting(user, 0.40 + rng.random() * 0.1):
                plan = plan_services.development_plan_save(
                    rm=user,
                    plan_year=self.plan_year,
                    by=user,
                    data={
                        "support_needed": DEVELOPMENT_SUPPORT.format(
                            leader=rm.team.leader.first_name
                        ),
                        "review_on": dt.date(self.plan_year.year, 6, 30),
                    },
                )
                for skill, code, behaviour, actions in DEVELOPMENT_GOALS:
                    plan_services.development_goal_add(
                        plan_id=plan.pk,
                        by=user,
                        data={
                            "skill": skill,
                            "target_line": lines.get(code),
                            "behaviour": behaviour,
                            "actions": actions,
                        },
                    )
            count += 1
        return count


# --- forecasts ---------------------------------------------------------------------------------

# How far an RM's own number runs from what they win: in each team two optimists, two
# cautious RMs and the rest close to the mark; each month adds its noise.
OPTIMISTIC_BIAS, CAUTIOUS_BIAS, STEADY_BIAS = (0.15, 0.30), (-0.20, -0.10), (-0.08, 0.08)
MONTHLY_NOISE = 0.07
# A month in which the RM won nothing: most said so, some counted a deal that slipped.
SLIPPED_FORECAST_SHARE = 0.15
# Share of an RM's months the leader adjusts, by temperament.
ADJUSTED_SHARE = {"optimistic": 0.5, "cautious": 0.3, "steady": 0.08}
FORECAST_NOTES = {
    "over": (
        "Counting the renewal as well: the owner said yes on the phone.",
        "Two deals are at the credit committee this week; I expect both.",
        "Adding the equipment loan: the order for the machine is signed.",
    ),
    "under": (
        "Holding one deal back until credit has signed it off.",
        "Leaving the renewal out: the pricing is still open.",
        "The CFO is away for half the month; one deal may slip.",
    ),
    "nothing": ("Nothing closes this month; the renewals are next quarter.",),
}
ADJUSTMENT_NOTES = {
    "down": (
        "Trimmed: one of these has not been to credit yet.",
        "Brought down to what you have closed in the last three months.",
        "The renewal is priced above the competitor's offer: left out for now.",
    ),
    "up": (
        "Raised: the term loan is as good as signed, I spoke to the owner.",
        "Counting the card programme: the customer confirmed it at our joint visit.",
    ),
}
TEAM_NOTES = (
    "",
    "",
    "Two large renewals carry the month.",
    "Adjusted the two most optimistic numbers; the rest as submitted.",
    "Pipeline thin in the small-business book; the corporate renewals make up for it.",
)


def _working_days_before(day: dt.date, count: int) -> list[dt.date]:
    """The last `count` working days before `day`, latest first."""
    days, d = [], day
    while len(days) < count:
        d -= dt.timedelta(days=1)
        if d.weekday() < 5:
            days.append(d)
    return days


def _thousands(value: float) -> Decimal:
    return Decimal(max(0, round(value, -3))).quantize(Decimal("0.01"))


class _Forecasts:
    """Every RM's forecast for each month of the year so far (the current one included),
    the next month's for a few, and the current quarter's: submitted in the last working
    days before the period begins, adjusted now and then by the leader, the team's
    submitted by the leader, and each month's frozen into its snapshot on the 1st.

    A past month's number is built around what the RM then won in it (A(m), the won
    deals' amounts closing in the month), with the RM's own bias and the month's noise;
    the current and next month's around the deals they have committed. Written in bulk,
    with their history rows (the RM's submission, then the leader's adjustment).
    """

    def __init__(self, planning: _PlanningBuilder):
        self.p = planning
        self.as_of = planning.as_of
        self.rng = planning.rng("forecasts")
        self.current = self.as_of.replace(day=1)
        self.next_month = add_months(self.current, 1)
        first = planning.plan_year.starts_on
        self.months = [add_months(first, i) for i in range(self._months_between(first))]

    def _months_between(self, first: dt.date) -> int:
        return (self.current.year - first.year) * 12 + self.current.month - first.month + 1

    def build(self) -> tuple[int, int]:
        from retention.demo import NOTICE_DAYS  # the demo bank's notice period

        self.notice_days = NOTICE_DAYS
        self._read_pipeline()
        self._temperaments()
        submissions = self._monthly() + self._quarterly()
        self._write(submissions)
        snapshots = self._snapshots(submissions)
        return len(submissions), snapshots

    # ---------------------------------------------------------------------------------
    def _read_pipeline(self) -> None:
        """A(m) by RM and month, what an RM's deal is typically worth, and the open deals
        committed for the current and the next month."""
        self.won: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
        for rm, month, total in (
            Opportunity.objects.filter(
                status=OpportunityStatus.WON,
                closed_on__gte=self.months[0],
                closed_on__lte=month_end(self.current),
            )
            .annotate(m=TruncMonth("closed_on"))
            .values("rm", "m")
            .annotate(total=Sum("amount"))
            .values_list("rm", "m", "total")
            .order_by()
        ):
            month = month.date() if isinstance(month, dt.datetime) else month
            self.won[(rm, month)] += total
        amounts: dict[int, list[Decimal]] = defaultdict(list)
        for rm, amount in Opportunity.objects.filter(status=OpportunityStatus.WON).values_list(
            "rm", "amount"
        ):
            amounts[rm].append(amount)
        self.typical = {rm: sorted(a)[len(a) // 2] for rm, a in amounts.items()}
        self.committed: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
        for rm, close, amount in Opportunity.objects.filter(
            status=OpportunityStatus.OPEN,
            forecast_category=ForecastCategory.COMMIT,
            expected_close__gte=self.current,
            expected_close__lte=month_end(self.next_month),
        ).values_list("rm", "expected_close", "amount"):
            self.committed[(rm, close.replace(day=1))] += amount

    def _temperaments(self) -> None:
        """A stable bias per RM; two optimists and two cautious RMs in every team."""
        self.temper: dict[int, str] = {}
        self.bias: dict[int, float] = {}
        for rms in self.p.rms_of.values():
            seats = [rm.user.pk for rm in rms]
            self.rng.shuffle(seats)
            for i, pk in enumerate(seats):
                temper = "optimistic" if i < 2 else "cautious" if i < 4 else "steady"
                low, high = {
                    "optimistic": OPTIMISTIC_BIAS,
                    "cautious": CAUTIOUS_BIAS,
                    "steady": STEADY_BIAS,
                }[temper]
                self.temper[pk] = temper
                self.bias[pk] = self.rng.uniform(low, high)

    def _here_on(self, user: User, day: dt.date) -> bool:
        """Still at the bank on `day` (a leaver goes a notice period after giving it)."""
        if user.notice_given_on is None:
            return True
        return user.notice_given_on + dt.timedelta(days=self.notice_days) >= day

    # ---------------------------------------------------------------------------------
    def _submission(
        self, rm, period: str, start: dt.date, proposed, amount, at
    ) -> ForecastSubmission:
        rng = self.rng
        note = ""
        if amount == 0 and proposed == 0:
            note = rng.choice(FORECAST_NOTES["nothing"]) if rng.random() < 0.5 else ""
        elif proposed and abs(amount - proposed) > proposed * Decimal("0.1"):
            note = rng.choice(FORECAST_NOTES["over" if amount > proposed else "under"])
        submission = ForecastSubmission(
            rm=rm.user,
            period=period,
            period_start=start,
            proposed_amount=proposed,
            amount=amount,
            note=note,
            submitted_at=at,
        )
        submission._history_user, submission._history_date = rm.user, at
        return submission

    def _submitted_at(self, start: dt.date) -> dt.datetime:
        """An RM submits in the last working days before the period begins (not the very
        last: the leader reviews and submits the team's on that one)."""
        day = self.rng.choice(_working_days_before(start, 4)[1:])
        return timezone.make_aware(
            dt.datetime.combine(day, dt.time(self.rng.randint(9, 16), self.rng.choice((0, 20, 40))))
        )

    def _monthly(self) -> list[ForecastSubmission]:
        rng = self.rng
        rows = []
        for rm in self.p.rms:
            pk = rm.user.pk
            bias = self.bias[pk]
            for month in self.months:
                if not self._here_on(rm.user, month):
                    continue
                won = float(self.won.get((pk, month), 0))
                if month == self.current:
                    # Proposed before the month began: the deals committed for it (those
                    # won since were committed too).
                    won += float(self.committed.get((pk, month), 0))
                if won:
                    proposed = _thousands(won * rng.uniform(0.85, 1.1))
                    amount = _thousands(won * (1 + bias + rng.gauss(0, MONTHLY_NOISE)))
                elif rng.random() < SLIPPED_FORECAST_SHARE and pk in self.typical:
                    slipped = float(self.typical[pk]) * rng.uniform(0.3, 0.7)
                    proposed = _thousands(slipped)
                    amount = _thousands(slipped * (1 + bias))
                else:
                    proposed = amount = _thousands(0)
                rows.append(
                    self._submission(
                        rm, ForecastPeriod.MONTH, month, proposed, amount, self._submitted_at(month)
                    )
                )
        # Next month's: a few RMs with deals committed for it are early (not rm1, who has
        # theirs still to submit).
        early = [
            rm
            for rm in self.p.rms
            if rm.seat > 0
            and self.committed.get((rm.user.pk, self.next_month))
            and self._here_on(rm.user, self.next_month)
        ]
        early = [rm for t in sorted({rm.team_index for rm in early}) for rm in self._few(early, t)]
        days = _working_days_before(self.as_of, 3)
        for rm in early:
            pk = rm.user.pk
            committed = float(self.committed.get((pk, self.next_month), 0))
            proposed = _thousands(committed)
            amount = _thousands(committed * (1 + self.bias[pk] + rng.gauss(0, MONTHLY_NOISE)))
            at = timezone.make_aware(
                dt.datetime.combine(rng.choice(days), dt.time(rng.randint(9, 16), 30))
            )
            rows.append(
                self._submission(rm, ForecastPeriod.MONTH, self.next_month, proposed, amount, at)
            )
        return rows

    def _few(self, rms: list[_Rm], team_index: int) -> list[_Rm]:
        """Three of a team's RMs, the same ones for the same bank."""
        of_team = [rm for rm in rms if rm.team_index == team_index]
        return self.rng.sample(of_team, min(3, len(of_team)))

    def _quarterly(self) -> list[ForecastSubmission]:
        """The current quarter's, submitted before it began: the RM's months of it (their
        own numbers where they have them, else the committed deals) with a little noise."""
        rng = self.rng
        quarter = self.current.replace(month=(self.current.month - 1) // 3 * 3 + 1)
        months = [add_months(quarter, i) for i in range(3)]
        rows = []
        for rm in self.p.rms:
            pk = rm.user.pk
            if not self._here_on(rm.user, quarter):
                continue
            won = sum(
                float(self.won.get((pk, m), 0) + self.committed.get((pk, m), 0)) for m in months
            )
            proposed = _thousands(won * rng.uniform(0.85, 1.05))
            amount = _thousands(won * (1 + self.bias[pk] + rng.gauss(0, MONTHLY_NOISE / 2)))
            rows.append(
                self._submission(
                    rm,
                    ForecastPeriod.QUARTER,
                    quarter,
                    proposed,
                    amount,
                    self._submitted_at(quarter),
                )
            )
        return rows

    # ---------------------------------------------------------------------------------
    def _write(self, submissions: list[ForecastSubmission]) -> None:
        """The RMs' submissions, the leaders' adjustments a day later, and the teams'."""
        rng = self.rng
        submissions[:] = bulk_create_with_history(submissions, ForecastSubmission, batch_size=500)
        rm_of = {rm.user.pk: rm for rm in self.p.rms}
        adjusted = []
        for s in submissions:
            if s.amount == 0 or s.period_start > self.current:
                continue  # next month's: the leader has not looked yet
            if rng.random() >= ADJUSTED_SHARE[self.temper[s.rm_id]]:
                continue
            leader = self.p.teams[rm_of[s.rm_id].team_index].leader
            down = self.temper[s.rm_id] == "optimistic" or (
                self.temper[s.rm_id] == "steady" and rng.random() < 0.5
            )
            factor = rng.uniform(0.8, 0.92) if down else rng.uniform(1.08, 1.2)
            s.adjusted_amount = _thousands(float(s.amount) * factor)
            s.adjustment_note = rng.choice(ADJUSTMENT_NOTES["down" if down else "up"])
            s.adjusted_by = leader
            last_day = _working_days_before(s.period_start, 1)[0]
            s.adjusted_at = timezone.make_aware(
                dt.datetime.combine(last_day, dt.time(11, rng.choice((0, 15, 30, 45))))
            )
            s.version += 1
            s._history_user, s._history_date = leader, s.adjusted_at
            adjusted.append(s)
        bulk_update_with_history(
            adjusted,
            ForecastSubmission,
            ["adjusted_amount", "adjustment_note", "adjusted_by", "adjusted_at", "version"],
            batch_size=500,
        )
        teams: dict[tuple, Decimal] = defaultdict(Decimal)
        for s in submissions:
            if s.period_start <= self.current:
                teams[(rm_of[s.rm_id].team_index, s.period, s.period_start)] += s.effective_amount
        rows = []
        for (t, period, start), amount in sorted(teams.items()):
            team = self.p.teams[t]
            last_day = _working_days_before(start, 1)[0]
            at = timezone.make_aware(dt.datetime.combine(last_day, dt.time(16, 0)))
            row = TeamForecastSubmission(
                team=team,
                period=period,
                period_start=start,
                amount=amount,
                note=rng.choice(TEAM_NOTES),
                submitted_by=team.leader,
                submitted_at=at,
            )
            row._history_user, row._history_date = team.leader, at
            rows.append(row)
        bulk_create_with_history(rows, TeamForecastSubmission, batch_size=500)

    def _snapshots(self, submissions: list[ForecastSubmission]) -> int:
        """Each month's submitted numbers, frozen early on its first day."""
        rows = [
            ForecastSnapshot(
                rm_id=s.rm_id,
                month=s.period_start,
                amount=s.amount,
                adjusted_amount=s.adjusted_amount,
                source=ForecastSnapshot.Source.SUBMITTED,
                taken_at=timezone.make_aware(dt.datetime.combine(s.period_start, dt.time(5))),
            )
            for s in submissions
            if s.period == ForecastPeriod.MONTH and s.period_start <= self.current
        ]
        ForecastSnapshot.objects.bulk_create(rows, batch_size=500)
        return len(rows)
