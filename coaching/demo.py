"""The coaching part of the demo bank: a year of check-ins and of customer ratings.

`seed_coaching(as_of=..., seed=...)` runs after planning.demo, in the same transaction,
and is as deterministic. It creates

* the year's six RB behaviours, written and proposed by exec1 and approved by exec2
  through the services (four eyes);
* a cadence for every team (each team meets on another weekday);
* every RM's check-ins from the cadence: the monthly, quarterly and semi-annual reviews
  of the year so far, the weekly ones of the last six weeks, and the coming ones up to
  the cadence's horizon. Past ones are mostly completed (notes, commitments, a frozen
  snapshot, most acknowledged by the RM), a few missed or cancelled. rm1's last weekly
  check-in left a commitment open, which carries into this week's;
* one survey contact for every active tier-A and tier-B account, and the ratings they gave
  in each month of the year so far (tier A answers more often than tier B). Most RMs hold
  steady; a few improve through the year (rm2, rm5, rm13, rm24) and two slip (rm7, rm18),
  so "most improved" and "below target" have something to show. rm1 is strong on
  everything but follow-up, and has an improvement plan for it;
* this month's survey invitations, so the back office can see links waiting;
* the contact met on most of the activities at those accounts (org.demo wrote the
  activities before the contacts existed).

Check-ins and commitments are written in bulk, with their history rows, like relationship
plans; ratings in bulk without history rows (answers are never edited); the snapshot of
each completed check-in is the real `checkin_figures`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from unittest import mock

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Account, AccountStatus, Activity, ActivityKind
from accounts.selectors import add_months
from org.models import Role, Team, User
from planning.demo import _acting
from planning.models import PlanYear

from .models import (
    Behaviour,
    Cadence,
    CheckIn,
    Commitment,
    CustomerContact,
    CustomerRating,
    ImprovementPlan,
    LineRating,
    SurveyInvitation,
)
from .services import behaviours as behaviour_services
from .services.checkins import occurrences
from .services.surveys import expiry_of

BEHAVIOURS = [
    (
        "Listening",
        20,
        "Lets me explain my business before proposing anything; asks good questions.",
    ),
    ("Follow-up", 20, "Does what was promised, when it was promised, without my chasing."),
    ("Consultation", 20, "Brings ideas for my business, not just products."),
    ("Responsiveness", 15, "Answers the same day; I know who to call when they are away."),
    ("Empathy", 10, "Understands the pressure I am under and what matters to me."),
    ("Business knowledge", 15, "Knows my industry, my numbers and my competitors."),
]
IMPROVING = {"rm2", "rm5", "rm13", "rm24"}
SLIPPING = {"rm7", "rm18"}
WEEKLY_WEEKS = 6

DEALS = [
    "Term loan for the new warehouse moved to credit review; decision due next week.",
    "Cash-management proposal stalled: the CFO is away until month-end.",
    "Two renewals due this month; both customers confirmed they are staying.",
    "Equipment finance won; drawdown planned for the first of next month.",
    "Merchant services lost on price; asked for a debrief to learn why.",
]
ACTIVITY = [
    "Eleven calls and three visits against a standard of ten and four: on course.",
    "Light week (training two days): six calls, one visit; catching up next week.",
    "Visits ahead of standard, reviews behind: two annual reviews to book.",
]
OBSERVATIONS = [
    "Joined the review at the brewery: strong opening, let the owner talk about expansion.",
    "Observed a prospect call: good questions, but closed too early on pricing.",
    "Sat in on a renewal: prepared well, summarised the customer's needs back clearly.",
]
SKILLS = [
    "Listening: practise summarising before proposing.",
    "Follow-up: send the written summary the same day.",
    "Consultation: bring one idea about the customer's industry to each review.",
]
PROGRESS = [
    "Loans ahead of plan after the two drawdowns; deposits slightly behind.",
    "New relationships on plan; cross-sell behind because cash management stalled.",
    "Behind on loan growth: one large repayment; pipeline should close the gap next quarter.",
]
CORRECTIONS = [
    "Concentrate on deposit gathering with the tier-A manufacturers next month.",
    "Book the annual reviews that slipped; two a week until done.",
    "Ask the treasury specialist for joint visits on the three cash-management leads.",
]
SURPRISES = [
    "A tier-A customer asked for an urgent overdraft increase for a seasonal order.",
    "A competitor offered a prospect a rate we cannot match.",
    "",
]
RESPONSES = [
    "Credit approved a temporary limit within two days; renewal review brought forward.",
    "Compete on service and advice, not price; leader to join the next meeting.",
    "",
]
COMMITMENTS = [
    ("rm", "Send the cash-management proposal to the CFO"),
    ("rm", "Book the annual review with the owner"),
    ("rm", "Ask the accountant for two referrals"),
    ("rm", "Call the three customers whose contracts end in spring"),
    ("leader", "Join the next review at the customer's site"),
    ("leader", "Get a pricing exception from credit for the renewal"),
    ("rm", "Write the relationship plan for the new tier-A account"),
]
COMMENTS = {
    1: ["We had to chase twice for the same document.", "Hard to reach this month."],
    2: ["Slow to come back on our overdraft question.", "Meetings felt rushed."],
    3: ["Fine, nothing special.", "Helpful but did not know our sector well."],
    4: ["Always well prepared.", "Good ideas for our export business."],
    5: ["Best banker we have had.", "Understood our cash cycle immediately."],
}


@dataclasses.dataclass(frozen=True)
class CoachingSummary:
    checkins: int
    commitments: int
    ratings: int


def seed_coaching(*, as_of: dt.date, seed: int) -> CoachingSummary:
    return _CoachingBuilder(as_of=as_of, seed=seed).build()


class _CoachingBuilder:
    def __init__(self, *, as_of: dt.date, seed: int):
        self.as_of = as_of
        self.rng = random.Random(f"coaching-{seed}")
        self.plan_year = PlanYear.objects.get(starts_on__lte=as_of, ends_on__gte=as_of)
        self.now = timezone.make_aware(dt.datetime.combine(as_of, dt.time(8, 0)))

    def build(self) -> CoachingSummary:
        self.behaviours = self._behaviours()
        checkins, commitments = self._checkins()
        ratings = self._ratings()
        self._contacts_met()
        self._improvement_plans()
        return CoachingSummary(checkins=checkins, commitments=commitments, ratings=ratings)

    # --- behaviours ---------------------------------------------------------------------
    def _behaviours(self) -> list[Behaviour]:
        exec1 = User.objects.get(username="exec1")
        exec2 = User.objects.get(username="exec2")
        written = timezone.make_aware(dt.datetime(self.plan_year.year - 1, 11, 20, 10))
        with _acting(exec1, written):
            bs = behaviour_services.behaviour_set_start(plan_year=self.plan_year, by=exec1)
            behaviour_services.behaviour_set_save(
                set_id=bs.pk,
                by=exec1,
                behaviours=[
                    behaviour_services.BehaviourInput(name, weight, 80, description)
                    for name, weight, description in BEHAVIOURS
                ],
            )
            behaviour_services.behaviour_set_propose(set_id=bs.pk, by=exec1)
        with _acting(exec2, written + dt.timedelta(days=4, hours=2)):
            behaviour_services.behaviour_set_approve(
                set_id=bs.pk, by=exec2, comment="Same six as last year; objectives 80 %."
            )
        return list(bs.behaviours.order_by("position"))

    # --- check-ins ----------------------------------------------------------------------
    def _checkins(self) -> tuple[int, int]:
        teams = list(Team.objects.filter(leader__isnull=False).order_by("pk"))
        rms_by_team: dict[int, list[User]] = {}
        for rm in User.objects.filter(role=Role.RM, team__in=teams, is_active=True).order_by("pk"):
            rms_by_team.setdefault(rm.team_id, []).append(rm)
        weekly_from = self.as_of - dt.timedelta(weeks=WEEKLY_WEEKS)
        checkins: list[CheckIn] = []
        for index, team in enumerate(teams):
            cadence = Cadence.objects.create(
                team=team,
                weekly_day=index % 5,
                weekly_time=dt.time(9 if index % 2 == 0 else 8, 30 if index % 3 else 0),
            )
            horizon = self.as_of + dt.timedelta(days=cadence.horizon_days)
            for o in occurrences(cadence, self.plan_year.starts_on, horizon):
                if o.kind == CheckIn.Kind.WEEKLY and o.when.date() < weekly_from:
                    continue
                for rm in rms_by_team.get(team.pk, []):
                    if rm.departed_on and rm.departed_on < o.when.date():
                        continue
                    checkins.append(self._checkin(rm, team.leader_id, o))
        rows = bulk_create_with_history(checkins, CheckIn, batch_size=500)
        # bulk_create_with_history returns the objects with their keys on both databases.
        rows = list(CheckIn.objects.filter(pk__in=[c.pk for c in rows]).select_related("rm"))
        commitments = self._commitments(rows)
        self._review_ratings(rows)
        self._snapshots(rows)
        return len(rows), commitments

    def _checkin(self, rm: User, leader_id: int, o) -> CheckIn:
        rng = self.rng
        c = CheckIn(
            rm=rm,
            leader_id=leader_id,
            kind=o.kind,
            period_start=o.period_start,
            period_end=o.period_end,
            scheduled_at=o.when,
        )
        c._history_date = min(o.when, self.now) - dt.timedelta(days=20)
        if o.when >= self.now - dt.timedelta(days=1):
            return c  # still to come (or today): scheduled
        roll = rng.random()
        if rm.username == "rm1" and o.kind == CheckIn.Kind.WEEKLY:
            roll = 0.5  # rm1's weekly conversations are all held: the journey builds on them
        if roll < 0.03:
            c.status, c.cancel_reason = CheckIn.Status.CANCELLED, "Leader on a credit committee."
            return c
        if roll < 0.10 and o.when < self.now - dt.timedelta(days=7):
            c.status = CheckIn.Status.MISSED
            return c
        c.status = CheckIn.Status.COMPLETED
        c.started_at = o.when
        c.completed_at = o.when + dt.timedelta(minutes=rng.choice((30, 40, 45, 55)))
        c.completed_by_id = leader_id
        c.snapshot = {}
        if rng.random() < 0.75:
            c.acknowledged_at = c.completed_at + dt.timedelta(hours=rng.randint(2, 30))
            c.rm_comment = rng.choice(("", "", "Agreed.", "Thanks, useful conversation."))
        if o.kind == CheckIn.Kind.WEEKLY:
            c.deals_notes = rng.choice(DEALS)
            c.activity_notes = rng.choice(ACTIVITY)
            c.field_observation = rng.choice(OBSERVATIONS)
            c.behaviours_skills = rng.choice(SKILLS)
        else:
            c.progress_notes = rng.choice(PROGRESS)
            if o.kind == CheckIn.Kind.SEMI_ANNUAL:
                c.review_summary = (
                    "A solid half year: relationships kept, pipeline healthy; the second "
                    "half needs more deposit growth and faster follow-up."
                )
                c.rb_rating = rng.choice((3, 3, 4, 4, 5))
                c.overall_rating = rng.choice((3, 3, 4, 4, 5))
            else:
                c.course_corrections = rng.choice(CORRECTIONS)
                pick = rng.randrange(len(SURPRISES))
                c.surprises, c.surprise_response = SURPRISES[pick], RESPONSES[pick]
        return c

    def _commitments(self, checkins: list[CheckIn]) -> int:
        rng = self.rng
        rows = []
        today = self.as_of
        last_rm1_weekly = max(
            (
                c
                for c in checkins
                if c.rm.username == "rm1"
                and c.kind == CheckIn.Kind.WEEKLY
                and c.status == CheckIn.Status.COMPLETED
            ),
            key=lambda c: c.scheduled_at,
            default=None,
        )
        for c in checkins:
            if c.status != CheckIn.Status.COMPLETED:
                continue
            for owner_kind, text in rng.sample(COMMITMENTS, rng.choice((1, 1, 2))):
                due = c.scheduled_at.date() + dt.timedelta(days=rng.choice((7, 10, 14, 21)))
                done = due < today - dt.timedelta(days=3) and rng.random() < 0.85
                if c is last_rm1_weekly:
                    done = False  # carries into this week's check-in
                owner_id = c.rm_id if owner_kind == "rm" else c.leader_id
                row = Commitment(
                    checkin=c,
                    rm_id=c.rm_id,
                    owner_id=owner_id,
                    text=text,
                    due_on=due,
                    done=done,
                    done_at=(
                        timezone.make_aware(dt.datetime.combine(due, dt.time(16)))
                        - dt.timedelta(days=rng.randint(0, 5))
                        if done
                        else None
                    ),
                    done_by_id=owner_id if done else None,
                    created_by_id=c.leader_id,
                )
                row._history_date = c.completed_at
                rows.append(row)
        bulk_create_with_history(rows, Commitment, batch_size=500)
        return len(rows)

    def _review_ratings(self, checkins: list[CheckIn]) -> None:
        """The semi-annual reviews rate each line of the RM's approved targets."""
        from planning.models import TargetLine, TargetSet

        reviews = [
            c
            for c in checkins
            if c.kind == CheckIn.Kind.SEMI_ANNUAL and c.status == CheckIn.Status.COMPLETED
        ]
        if not reviews:
            return
        lines: dict[int, list[int]] = {}
        for rm_id, metric_id in TargetLine.objects.filter(
            target_set__plan_year=self.plan_year,
            target_set__scope="rm",
            target_set__status=TargetSet.Status.APPROVED,
        ).values_list("target_set__rm_id", "metric_id"):
            lines.setdefault(rm_id, []).append(metric_id)
        rows = [
            LineRating(
                checkin=c,
                metric_id=metric_id,
                rating=self.rng.choice((2, 3, 3, 4, 4, 5)),
                comment="",
            )
            for c in reviews
            for metric_id in lines.get(c.rm_id, [])
        ]
        bulk_create_with_history(rows, LineRating, batch_size=500)

    def _snapshots(self, checkins: list[CheckIn]) -> None:
        """Freeze what each completed check-in showed, as completing it does."""
        from .selectors import checkins as figures

        # The same RM, period and month give the same plan versus actual: compute each
        # once (an RM's weekly check-ins all show the year to date of the closed month).
        computed = {}
        real = figures.rm_plan_versus_actual

        def once(rm, *, plan_year, period, month):
            key = (rm.pk, plan_year.pk, period, month)
            if key not in computed:
                computed[key] = real(rm, plan_year=plan_year, period=period, month=month)
            return computed[key]

        done = [c for c in checkins if c.status == CheckIn.Status.COMPLETED]
        with mock.patch.object(figures, "rm_plan_versus_actual", once):
            for c in done:
                c.snapshot = figures.checkin_figures(c, now=c.completed_at)
        CheckIn.objects.bulk_update(done, ["snapshot"], batch_size=200)

    # --- customer ratings ---------------------------------------------------------------
    def _ratings(self) -> int:
        rng = self.rng
        accounts = list(
            Account.objects.filter(status=AccountStatus.ACTIVE, tier__code__in=("A", "B"))
            .select_related("owner", "tier")
            .order_by("pk")
        )
        contacts = [
            CustomerContact(
                account=a,
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                email=f"owner@{a.number.lower()}.customer.example",
            )
            for a in accounts
        ]
        contacts = bulk_create_with_history(contacts, CustomerContact, batch_size=500)
        last_closed = add_months(self.as_of, -1)
        months = []
        month = self.plan_year.starts_on
        while month <= last_closed:
            months.append(month)
            month = add_months(month, 1)
        quality: dict[int, float] = {}
        rows = []
        for contact, account in zip(contacts, accounts, strict=True):
            owner = account.owner
            if owner.role != Role.RM:
                continue
            base = quality.setdefault(owner.pk, self._quality(owner))
            answers = 0.6 if account.tier.code == "A" else 0.3
            for i, month in enumerate(months):
                if rng.random() > answers:
                    continue
                progress = i / max(len(months) - 1, 1)
                for behaviour in self.behaviours:
                    p = self._p_good(owner.username, base, behaviour.name, progress)
                    rating = self._rating(p)
                    comment = ""
                    if behaviour.position == 0 and rng.random() < 0.25:
                        comment = rng.choice(COMMENTS[rating])
                    row = CustomerRating(
                        account=account,
                        rm=owner,
                        behaviour=behaviour,
                        month=month,
                        rating=rating,
                        comment=comment,
                        contact=contact,
                        source=CustomerRating.Source.SURVEY,
                    )
                    rows.append(row)
        # Survey answers are written once and never edited, so the seed leaves out their
        # history rows (creation is in created_at): a third of the seed's time otherwise.
        CustomerRating.objects.bulk_create(rows, batch_size=1000)
        # This month's links are out and waiting for the customers' answers.
        expires = expiry_of(last_closed)
        SurveyInvitation.objects.bulk_create(
            [
                SurveyInvitation(
                    contact=contact,
                    rm=account.owner,
                    month=last_closed,
                    expires_at=expires,
                    used_at=None,
                )
                for contact, account in zip(contacts, accounts, strict=True)
                if account.owner.role == Role.RM
            ],
            batch_size=500,
        )
        return len(rows)

    def _contacts_met(self) -> int:
        """Whom the RM met: the account's contact on most visits, meetings and reviews and
        on a third of the calls, planned or done. Set here because the contacts are created
        here, after org.demo wrote the activities. By the day of the month rather than at
        random: one UPDATE, and the same activities on every database."""
        contact = CustomerContact.objects.filter(account=OuterRef("account")).order_by("pk")
        calls = Q(kind=ActivityKind.CALL, date__day__in=range(3, 32, 3))
        others = ~Q(kind=ActivityKind.CALL) & ~Q(date__day__in=range(4, 32, 4))
        return (
            Activity.objects.filter(calls | others)
            .filter(Exists(contact))
            .update(contact=Subquery(contact.values("pk")[:1]))
        )

    def _quality(self, rm: User) -> float:
        return 0.86 if rm.username == "rm1" else self.rng.uniform(0.62, 0.9)

    def _p_good(self, username: str, base: float, behaviour: str, progress: float) -> float:
        if username in IMPROVING:
            base = 0.45 + 0.45 * progress
        elif username in SLIPPING:
            base = 0.85 - 0.3 * progress
        if username == "rm1" and behaviour == "Follow-up":
            base = 0.55
        return min(max(base, 0.05), 0.97)

    def _rating(self, p_good: float) -> int:
        if self.rng.random() < p_good:
            return 5 if self.rng.random() < 0.4 else 4
        return self.rng.choice((1, 2, 3, 3, 3))

    def _improvement_plans(self) -> None:
        rm1 = User.objects.filter(username="rm1").first()
        follow_up = next((b for b in self.behaviours if b.name == "Follow-up"), None)
        if rm1 is None or follow_up is None:
            return
        with _acting(rm1, self.now - dt.timedelta(days=12)):
            ImprovementPlan.objects.create(
                rm=rm1,
                behaviour=follow_up,
                actions=(
                    "Send a written summary of every review within one working day; keep a "
                    "promise list in the CRM and clear it every Friday."
                ),
                support="Leader reviews the promise list in the weekly check-in.",
                review_on=self.as_of + dt.timedelta(days=45),
            )


FIRST_NAMES = [
    "Anna", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hugo", "Ines", "Jonas",
    "Karin", "Luis", "Maya", "Nils", "Olga", "Paul", "Rita", "Sven", "Tara", "Viktor",
]  # fmt: skip
LAST_NAMES = [
    "Berger", "Costa", "Dahl", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen",
    "Keller", "Larsen", "Moreau", "Novak", "Olsen", "Petrov", "Quinn", "Rossi", "Schmidt",
]  # fmt: skip
