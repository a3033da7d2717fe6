"""Reading check-ins: the leader's check-in screen, This week, My check-ins, adherence.

Every list starts from org.access (a check-in outside the user's scope does not exist for
them). `checkin_figures` is everything the check-in screen shows as figures, as a plain
JSON-serialisable dict: the screen of an open check-in renders it live, completing the
check-in stores it in `CheckIn.snapshot`, and the screen of a completed check-in renders
the stored one, with the same template partials (docs/checkins.md).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Activity, ActivityStatus, Opportunity, OpportunityStatus
from accounts.selectors import month_start
from accounts.selectors.activities import STANDARD_MEASURES
from org.access import (
    still_here,
    visible_checkins,
    visible_commitments,
    visible_improvement_plans,
    visible_people,
    visible_teams,
)
from org.models import RmStyle, Role, Team, User
from planning.models import ActivityStandard, PlanYear
from planning.selectors.plans import rm_target_lines
from planning.selectors.product_mix import rm_product_mix
from planning.selectors.variances import rm_plan_versus_actual

from ..models import CheckIn, Commitment

Kind = CheckIn.Kind
Status = CheckIn.Status

# The snapshot's layout; a template meeting an older one can still tell.
FIGURES_VERSION = 1
# A check-in is held on time when it is completed at most this long after its time: the
# same week the missed rule gives (coaching.services.checkins.MISSED_AFTER).
GRACE = datetime.timedelta(days=7)
# Adherence on the overviews: the check-ins due in the last 13 weeks.
ADHERENCE_WINDOW = datetime.timedelta(weeks=13)
# This week: missed check-ins of the last four weeks are still shown.
MISSED_SHOWN_FOR = datetime.timedelta(weeks=4)
# Pipeline lists show at most this many opportunities each (their counts and sums are whole).
PIPELINE_SHOWN = 12
TWO_PLACES = Decimal("0.01")


def _round(value: Decimal) -> Decimal:
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _iso(value: datetime.date | datetime.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    return value.isoformat()


# --- the pages' querysets ----------------------------------------------------------------------


def checkin_page(user: User) -> QuerySet[CheckIn]:
    """Check-ins `user` may open, with what the screen shows about them."""
    return visible_checkins(user).select_related("rm__team__leader", "leader", "completed_by")


# --- This week (leaders) ----------------------------------------------------------------------


@dataclass
class WeekRow:
    """One RM of the leader's team on the This week page."""

    rm: User
    this_week: list[CheckIn] = field(default_factory=list)
    overdue: list[CheckIn] = field(default_factory=list)
    missed: list[CheckIn] = field(default_factory=list)
    next_checkin: CheckIn | None = None

    @property
    def needs_attention(self) -> bool:
        return bool(self.overdue or self.missed)


def week_of(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    monday = today - datetime.timedelta(days=today.weekday())
    return monday, monday + datetime.timedelta(days=6)


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def this_week(
    leader: User, today: datetime.date | None = None, *, now: datetime.datetime | None = None
) -> list[WeekRow]:
    """Every RM of the leader's teams with their check-ins of this week (Monday to Sunday),
    the overdue ones (still open, time passed) and the missed ones of the last four weeks.
    Two queries, whatever the number of RMs and check-ins."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    monday, sunday = week_of(today)
    week_from, week_to = _day_start(monday), _day_start(sunday + datetime.timedelta(days=1))
    rms = list(
        still_here(visible_people(leader), today=today)  # a leaver holds no more check-ins
        .filter(role=Role.RM, team__leader=leader, is_active=True)
        .select_related("team")
        .order_by("team__name", "last_name", "first_name", "username")
    )
    rows = {rm.pk: WeekRow(rm=rm) for rm in rms}
    checkins = (
        visible_checkins(leader)
        .filter(rm__in=rows)
        .filter(
            Q(scheduled_at__gte=week_from, scheduled_at__lt=week_to)
            | Q(status__in=CheckIn.OPEN)
            | Q(status=Status.MISSED, scheduled_at__gte=_day_start(today - MISSED_SHOWN_FOR))
        )
        .order_by("scheduled_at", "pk")
    )
    for checkin in checkins:
        row = rows[checkin.rm_id]
        in_week = week_from <= checkin.scheduled_at < week_to
        if checkin.is_open and checkin.scheduled_at < now and not in_week:
            row.overdue.append(checkin)
        elif checkin.status == Status.MISSED and not in_week:
            row.missed.append(checkin)
        elif in_week:
            row.this_week.append(checkin)
        elif checkin.is_open and row.next_checkin is None and checkin.scheduled_at >= week_to:
            row.next_checkin = checkin
    return list(rows.values())


def is_overdue(checkin: CheckIn, now: datetime.datetime | None = None) -> bool:
    return checkin.is_open and checkin.scheduled_at < (now or timezone.now())


# --- My check-ins (RMs) ------------------------------------------------------------------------


@dataclass
class MyCheckins:
    upcoming: list[CheckIn]
    past: list[CheckIn]


PAST_SHOWN = 60


def my_checkins(rm: User) -> MyCheckins:
    """The RM's open check-ins (soonest first, overdue ones included) and their last
    `PAST_SHOWN` completed, missed or cancelled ones (latest first). Two queries."""
    mine = visible_checkins(rm).filter(rm=rm).select_related("leader")
    upcoming = list(mine.filter(status__in=CheckIn.OPEN).order_by("scheduled_at", "pk"))
    past = list(mine.exclude(status__in=CheckIn.OPEN).order_by("-scheduled_at", "-pk")[:PAST_SHOWN])
    return MyCheckins(upcoming=upcoming, past=past)


def open_commitments(rm: User, *, viewer: User | None = None) -> QuerySet[Commitment]:
    """The RM's open commitments, oldest first: they carry over until ticked off."""
    return (
        visible_commitments(viewer or rm)
        .filter(rm=rm, done=False)
        .select_related("owner", "checkin")
        .order_by("checkin__scheduled_at", "created_at", "pk")
    )


# --- adherence ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adherence:
    """Check-ins due in a window and how many of them were held on time."""

    due: int = 0
    held: int = 0

    @property
    def pct(self) -> Decimal | None:
        if not self.due:
            return None
        return (Decimal(100) * self.held / self.due).quantize(Decimal("1"), ROUND_HALF_UP)


# A held, missed or open check-in counts by its row; one the cadence required that was
# never created counts as due and not held (issue 13, docs/checkins.md).
_LOOK_BACK = datetime.timedelta(days=200)  # a semi-annual review's period starts 6 months back


def _judged(status, scheduled_at, completed_at, now) -> tuple[int, int]:
    """(due, held) of one existing check-in: due when not cancelled and completed or past
    its grace week; held when completed no later than its time + GRACE."""
    if status == Status.CANCELLED or (status != Status.COMPLETED and scheduled_at >= now - GRACE):
        return 0, 0
    held = status == Status.COMPLETED and completed_at is not None
    return 1, int(held and completed_at <= scheduled_at + GRACE)


def _required(cadences, members, start, now):
    """What each team's cadence required of its RMs from `start` until a week before
    `now`: (rm id, leader id, kind, period start). From the day the cadence is first known
    (its first recorded version, or the team's first check-in with its leader, whichever
    is earlier: before it nothing was asked), within the RM's employment."""
    from ..services.checkins import occurrences

    until = now - GRACE
    for cadence in cadences:
        known = [d for d in (cadence.first_recorded, cadence.first_checkin) if d is not None]
        if not known or cadence.team.leader_id is None:
            continue
        since = max(start, min(known))
        if since >= until:
            continue
        due = [
            o
            for o in occurrences(
                cadence, timezone.localtime(since).date(), timezone.localtime(until).date()
            )
            if since <= o.when < until
        ]
        for rm in members.get(cadence.team_id, ()):
            if rm.pk == cadence.team.leader_id:
                continue
            for o in due:
                day = o.when.date()
                if rm.hired_on and day < rm.hired_on:
                    continue
                if rm.departed_on and day > rm.departed_on:
                    continue
                yield rm.pk, cadence.team.leader_id, o.kind, o.period_start


def _adherence(viewer: User, teams_qs, *, group_by: str, leaders=None, start, now):
    """Adherence per leader or per RM over check-ins scheduled in [start, now): those that
    exist, judged as they are, plus those the team's cadence required that were never
    created (due, not held). Three queries: the cadences (with their teams and when they
    are first known), the RMs, the check-ins."""
    from ..models import Cadence

    cadences = list(
        Cadence.objects.filter(team__in=teams_qs)
        .select_related("team")
        .annotate(
            first_recorded=Subquery(
                Cadence.history.filter(id=OuterRef("pk"))
                .order_by("history_date")
                .values("history_date")[:1]
            ),
            first_checkin=Subquery(
                CheckIn.objects.filter(rm__team=OuterRef("team"), leader=OuterRef("team__leader"))
                .order_by("scheduled_at")
                .values("scheduled_at")[:1]
            ),
        )
    )
    team_ids = [c.team_id for c in cadences]
    members: dict[int, list[User]] = {}
    for rm in User.objects.filter(team__in=team_ids, role=Role.RM).exclude(
        is_active=False, departed_on__isnull=True
    ):
        members.setdefault(rm.team_id, []).append(rm)
    rm_ids = [rm.pk for rms in members.values() for rm in rms]
    qs = visible_checkins(viewer)
    if leaders is not None:
        qs = qs.filter(leader__in=leaders)
    if group_by == "rm":
        qs = qs.filter(rm__team__in=teams_qs)
    rows = qs.filter(
        Q(scheduled_at__gte=start, scheduled_at__lt=now)
        | Q(rm__in=rm_ids, period_start__gte=(start - _LOOK_BACK).date(), scheduled_at__lt=now)
    ).values_list("rm", "leader", "kind", "period_start", "scheduled_at", "status", "completed_at")
    figures: dict[int, list[int]] = {}
    existing = set()
    for rm, leader, kind, period_start, scheduled_at, status, completed_at in rows:
        existing.add((rm, kind, period_start))
        if not start <= scheduled_at < now:
            continue
        due, held = _judged(status, scheduled_at, completed_at, now)
        if due:
            tally = figures.setdefault(rm if group_by == "rm" else leader, [0, 0])
            tally[0] += due
            tally[1] += held
    wanted = None if leaders is None else {getattr(x, "pk", x) for x in leaders}
    for rm, leader, kind, period_start in _required(cadences, members, start, now):
        if (rm, kind, period_start) in existing or (wanted is not None and leader not in wanted):
            continue
        figures.setdefault(rm if group_by == "rm" else leader, [0, 0])[0] += 1
    return {key: Adherence(due=due, held=held) for key, (due, held) in figures.items()}


def adherence_by_leader(
    viewer: User,
    *,
    leaders=None,
    now: datetime.datetime | None = None,
    window: datetime.timedelta = ADHERENCE_WINDOW,
) -> dict[int, Adherence]:
    """Check-in adherence per leader (the leader a check-in is with), over the check-ins
    due in the `window` before `now`, created or not: the share held on time. Three
    queries. `leaders` narrows to some leaders (ids or users)."""
    now = now or timezone.now()
    teams = visible_teams(viewer)
    if leaders is not None:
        teams = teams.filter(leader__in=leaders)
    return _adherence(
        viewer, teams, group_by="leader", leaders=leaders, start=now - window, now=now
    )


def adherence_by_rm(
    viewer: User,
    *,
    team: Team,
    now: datetime.datetime | None = None,
    window: datetime.timedelta = ADHERENCE_WINDOW,
) -> dict[int, Adherence]:
    """The same per RM of `team` (check-ins with the team's leader). Three queries."""
    now = now or timezone.now()
    teams = Team.objects.filter(pk=team.pk)
    return _adherence(
        viewer, teams, group_by="rm", leaders=[team.leader_id], start=now - window, now=now
    )


def adherence(
    viewer: User,
    *,
    leader: User | int,
    now: datetime.datetime | None = None,
    window: datetime.timedelta = ADHERENCE_WINDOW,
) -> Adherence:
    """One leader's adherence."""
    leader_id = getattr(leader, "pk", leader)
    return adherence_by_leader(viewer, leaders=[leader_id], now=now, window=window).get(
        leader_id, Adherence()
    )


# --- the figures of a check-in ----------------------------------------------------------------


def plan_year_for(checkin: CheckIn) -> PlanYear | None:
    """The plan year the check-in's figures belong to: the one holding the day a weekly
    check-in is held, or the last day of the period a review looks back on."""
    day = (
        timezone.localtime(checkin.scheduled_at).date()
        if checkin.kind == Kind.WEEKLY
        else checkin.period_end
    )
    return PlanYear.objects.filter(starts_on__lte=day, ends_on__gte=day).first()


PERIOD_LABELS = {"ytd": "Year to date", "month": "Month", "quarter": "Quarter"}


def plan_period(checkin: CheckIn) -> tuple[str, datetime.date | None]:
    """Which plan-versus-actual period the check-in discusses: (period, month).

    weekly       year to date at the closed month (month None: the selector takes it)
    monthly      the month reviewed
    quarterly    the quarter reviewed (its last month)
    semi-annual  year to date at the end of the half reviewed
    """
    if checkin.kind == Kind.WEEKLY:
        return "ytd", None
    if checkin.kind == Kind.MONTHLY:
        return "month", month_start(checkin.period_start)
    if checkin.kind == Kind.QUARTERLY:
        return "quarter", month_start(checkin.period_end)
    return "ytd", month_start(checkin.period_end)


def _json_ready(value):
    """Make a plan-versus-actual answer storable: Decimals and dates as strings."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return _iso(value)
    return value


def plan_figures(checkin: CheckIn, plan_year: PlanYear | None) -> dict:
    period, month = plan_period(checkin)
    base = {"period": period, "period_label": PERIOD_LABELS[period], "month": _iso(month)}
    if plan_year is None:
        return {**base, "available": False, "reason": "No plan year covers this check-in."}
    pva = rm_plan_versus_actual(checkin.rm, plan_year=plan_year, period=period, month=month)
    return {**base, "available": True, "plan_year": plan_year.year, **_json_ready(pva.as_json())}


def _last_completed(checkin: CheckIn) -> datetime.date | None:
    """The day the RM's last completed check-in before this one was completed. One query."""
    last = (
        CheckIn.objects.filter(
            rm=checkin.rm_id, status=Status.COMPLETED, scheduled_at__lt=checkin.scheduled_at
        )
        .exclude(pk=checkin.pk)
        .aggregate(at=Max("completed_at"))["at"]
    )
    return timezone.localtime(last).date() if last else None


def _since(checkin: CheckIn) -> datetime.date:
    """Pipeline changes are those since the RM's last completed check-in before this one;
    when there was none, since the activity window began (docs/checkins.md)."""
    return _last_completed(checkin) or activity_window(checkin)[0]


def _opportunity(o: Opportunity) -> dict:
    return {
        "id": o.pk,
        "account": o.account.name,
        "account_id": o.account_id,
        "product": o.product.name,
        "kind": o.get_kind_display(),
        "stage": o.get_stage_display(),
        "amount": str(o.amount),
        "probability": o.probability,
        "expected_close": _iso(o.expected_close),
        "created_on": _iso(o.created_on),
        "closed_on": _iso(o.closed_on),
    }


PIPELINE_GROUPS = (
    ("created", "New since then"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("stalled", "Stalled: expected close passed, still open"),
    ("due", "Due to close"),
)


def pipeline_figures(
    checkin: CheckIn, today: datetime.date, since: datetime.date, *, since_last: bool = True
) -> dict:
    """Opportunities of the RM created, won or lost since the last completed check-in;
    open ones whose expected close has passed (stalled), and open ones due to close in the
    coming period (as long as the period the check-in covers). One query."""
    length = (checkin.period_end - checkin.period_start).days + 1
    due_until = today + datetime.timedelta(days=length - 1)
    open_ = Q(status=OpportunityStatus.OPEN)
    opportunities = (
        Opportunity.objects.filter(rm=checkin.rm_id)
        .filter(
            Q(created_on__gte=since)
            | Q(closed_on__gte=since)
            | (open_ & Q(expected_close__lte=due_until))
        )
        .select_related("account", "product")
        .order_by("expected_close", "pk")
    )
    groups = {key: {"count": 0, "amount": Decimal(0), "items": []} for key, _ in PIPELINE_GROUPS}

    def put(key, o):
        group = groups[key]
        group["count"] += 1
        group["amount"] += o.amount
        if len(group["items"]) < PIPELINE_SHOWN:
            group["items"].append(_opportunity(o))

    for o in opportunities:
        if o.created_on >= since:
            put("created", o)
        if o.status == OpportunityStatus.WON and o.closed_on >= since:
            put("won", o)
        if o.status == OpportunityStatus.LOST and o.closed_on >= since:
            put("lost", o)
        if o.status == OpportunityStatus.OPEN and o.expected_close < today:
            put("stalled", o)
        elif o.status == OpportunityStatus.OPEN and o.expected_close <= due_until:
            put("due", o)
    return {
        "since": _iso(since),
        "since_last_checkin": since_last,
        "due_until": _iso(due_until),
        "groups": [
            {
                "key": key,
                "label": label,
                "count": groups[key]["count"],
                "amount": str(groups[key]["amount"]),
                "items": groups[key]["items"],
                "more": groups[key]["count"] - len(groups[key]["items"]),
            }
            for key, label in PIPELINE_GROUPS
        ],
    }


def activity_window(checkin: CheckIn) -> tuple[datetime.date, datetime.date]:
    """Weekly: the seven days up to and including the day the check-in is held (held on a
    Monday, that is mostly the week just ended). Reviews: the period they look back on."""
    if checkin.kind == Kind.WEEKLY:
        day = timezone.localtime(checkin.scheduled_at).date()
        return day - datetime.timedelta(days=6), day
    return checkin.period_start, checkin.period_end


# Activity kinds as the standard counts them (a meeting is a visit, docs/metrics.md):
# STANDARD_MEASURES, one table for the check-in and the RM's week.


def elapsed_window(
    checkin: CheckIn, today: datetime.date
) -> tuple[datetime.date, datetime.date, datetime.date]:
    """(start, end, through): the activity window and its last elapsed day. A rate divides
    by the weeks elapsed, never by weeks still to come: a semi-annual review read in its
    tenth week is judged over ten weeks, not 26 (docs/checkins.md). `through` is before
    `start` when nothing has elapsed yet."""
    start, end = activity_window(checkin)
    return start, end, min(end, today)


def activity_figures(
    checkin: CheckIn, plan_year: PlanYear | None, *, today: datetime.date | None = None
) -> dict:
    """The RM's activities in the window up to `today` by kind, per elapsed week, against
    the plan year's ActivityStandard for the RM's style ("finder and minder" if none). Two
    queries. No day elapsed → counts 0 and no rates (None), not 0 a week."""
    today = today or timezone.localdate()
    start, end, through = elapsed_window(checkin, today)
    elapsed_days = max((through - start).days + 1, 0)
    weeks = Decimal(elapsed_days) / 7
    counts = dict(
        # Only done activities count; a plan is not an activity yet (docs/metrics.md).
        Activity.objects.filter(
            rm=checkin.rm_id, status=ActivityStatus.DONE, date__gte=start, date__lte=through
        )
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
        .order_by()
    )
    style = checkin.rm.rm_style or RmStyle.BOTH
    standard = (
        ActivityStandard.objects.filter(plan_year=plan_year, rm_style=style).first()
        if plan_year
        else None
    )

    def rate(count):
        return _round(count / weeks) if weeks else None

    def on_course(per_week, expected):
        return None if expected is None or per_week is None else per_week >= expected

    rows = []
    total_actual, total_standard = 0, Decimal(0)
    for key, label, kinds, standard_field in STANDARD_MEASURES:
        actual = sum(counts.get(kind, 0) for kind in kinds)
        per_week = rate(actual)
        expected = getattr(standard, standard_field) if standard else None
        total_actual += actual
        if expected is not None:
            total_standard += expected
        rows.append(
            {
                "key": key,
                "label": label,
                "count": actual,
                "per_week": None if per_week is None else str(per_week),
                "standard": None if expected is None else str(expected),
                "expected": None if expected is None else str(_round(expected * weeks)),
                "on_course": on_course(per_week, expected),
            }
        )
    total_per_week = rate(total_actual)
    return {
        "start": _iso(start),
        "end": _iso(end),
        # the last day counted and the weeks elapsed to it (the rates' divisor), beside
        # the whole window's weeks
        "through": _iso(through) if elapsed_days else None,
        "weeks": str(_round(weeks)),
        "period_weeks": str(_round(Decimal((end - start).days + 1) / 7)),
        "style": RmStyle(style).label,
        "has_standard": standard is not None,
        "rows": rows,
        "total": {
            "count": total_actual,
            "per_week": None if total_per_week is None else str(total_per_week),
            "standard": str(total_standard) if standard else None,
            "expected": str(_round(total_standard * weeks)) if standard else None,
            "on_course": on_course(total_per_week, total_standard if standard else None),
        },
    }


def joint_calls(checkin: CheckIn) -> list[dict]:
    """The RM's done activities in the check-in's window that the check-in's leader went
    along on: what the leader's field observations are about. One query. They count for
    the RM (they are the RM's activity rows), once."""
    start, end = activity_window(checkin)
    rows = (
        Activity.objects.filter(
            rm=checkin.rm_id,
            status=ActivityStatus.DONE,
            date__gte=start,
            date__lte=end,
            participants=checkin.leader_id,
        )
        .select_related("account")
        .order_by("date", "pk")
    )
    return [
        {
            "id": a.pk,
            "date": _iso(a.date),
            "kind": a.get_kind_display(),
            "account": a.account.name,
            "outcome": a.outcome,
        }
        for a in rows
    ]


def checkin_name(checkin: CheckIn) -> str:
    """ "Weekly check-in", "Quarterly check-in", "Semi-annual review"."""
    if checkin.kind == Kind.SEMI_ANNUAL:
        return checkin.get_kind_display()
    return f"{checkin.get_kind_display()} check-in"


def commitment_item(c: Commitment, *, checkin_id: int | None, today: datetime.date) -> dict:
    """One commitment as the screens show it; `carried` when it comes from another check-in
    than `checkin_id`. Expects owner and checkin loaded."""
    return {
        "id": c.pk,
        "text": c.text,
        "owner": str(c.owner),
        "owner_is_rm": c.owner_id == c.rm_id,
        "due_on": _iso(c.due_on),
        "done": c.done,
        "done_at": _iso(c.done_at),
        "overdue": not c.done and c.due_on < today,
        "carried": c.checkin_id != checkin_id,
        "from_checkin": f"{checkin_name(c.checkin).lower()}, {c.checkin.period_label}",
        "from_checkin_id": c.checkin_id,
    }


def commitment_page(user: User) -> QuerySet[Commitment]:
    """Commitments `user` may see, with what a row shows."""
    return visible_commitments(user).select_related("owner", "checkin", "rm__team")


def checkin_commitments(
    checkin: CheckIn,
    *,
    now: datetime.datetime | None = None,
    since: datetime.date | None = None,
) -> list[dict]:
    """The commitments the check-in goes through: first those carried over (the RM's open
    commitments from earlier check-ins, and those ticked off since the RM's last completed
    check-in), oldest first; then the ones recorded in this check-in. One query (two when
    `since`, the day of the last completed check-in, is not given)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    since = since or _since(checkin)
    commitments = (
        Commitment.objects.filter(rm=checkin.rm_id)
        .filter(
            Q(checkin=checkin.pk)
            | Q(done=False, checkin__scheduled_at__lt=checkin.scheduled_at)
            | Q(done=True, done_at__date__gte=since, checkin__scheduled_at__lt=checkin.scheduled_at)
        )
        .select_related("owner", "checkin")
        .order_by("checkin__scheduled_at", "created_at", "pk")
    )
    carried, recorded = [], []
    for c in commitments:
        item = commitment_item(c, checkin_id=checkin.pk, today=today)
        (carried if item["carried"] else recorded).append(item)
    # Open carried-over ones first (oldest first), then those ticked off since.
    carried.sort(key=lambda i: i["done"])
    return carried + recorded


def improvement_plan_figures(checkin: CheckIn, viewer: User | None = None) -> list[dict]:
    """The RM's improvement plans still open, for coaching. One query."""
    plans = (
        visible_improvement_plans(viewer or checkin.rm)
        .filter(rm=checkin.rm_id, closed=False)
        .select_related("behaviour")
        .order_by("review_on", "pk")
    )
    return [
        {
            "id": p.pk,
            "behaviour": p.behaviour.name,
            "objective_pct": p.behaviour.objective_pct,
            "actions": p.actions,
            "support": p.support,
            "review_on": _iso(p.review_on),
        }
        for p in plans
    ]


def product_mix_figures(checkin: CheckIn, plan_year: PlanYear | None) -> dict | None:
    """The RM's product mix against the standard for the period the plan versus actual
    discusses (planning.selectors.product_mix). Three queries; None without a plan year."""
    if plan_year is None:
        return None
    period, month = plan_period(checkin)
    return rm_product_mix(checkin.rm, plan_year=plan_year, period=period, month=month).as_json()


def checkin_figures(
    checkin: CheckIn, *, viewer: User | None = None, now: datetime.datetime | None = None
) -> dict:
    """Everything the check-in screen shows as figures, JSON-serialisable. Stored as the
    snapshot when the check-in is completed. A fixed number of queries."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    plan_year = plan_year_for(checkin)
    last = _last_completed(checkin)
    since = last or activity_window(checkin)[0]
    return {
        "version": FIGURES_VERSION,
        "computed_at": _iso(now),
        "kind": checkin.kind,
        "plan_year": plan_year.year if plan_year else None,
        "plan": plan_figures(checkin, plan_year),
        "pipeline": pipeline_figures(checkin, today, since, since_last=last is not None),
        "activities": activity_figures(checkin, plan_year, today=today),
        "joint_calls": joint_calls(checkin),
        "commitments": checkin_commitments(checkin, now=now, since=since),
        "improvement_plans": improvement_plan_figures(checkin, viewer),
        "product_mix": product_mix_figures(checkin, plan_year),
    }


def rating_metrics(checkin: CheckIn) -> list:
    """The metrics of the RM's target lines a semi-annual review rates, one query."""
    plan_year = plan_year_for(checkin)
    if plan_year is None:
        return []
    return [line.metric for line in rm_target_lines(checkin.rm, plan_year=plan_year)]


def line_ratings(checkin: CheckIn) -> dict[int, object]:
    return {r.metric_id: r for r in checkin.line_ratings.select_related("metric")}
