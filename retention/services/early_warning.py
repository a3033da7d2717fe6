"""Nightly early warning: an RM drifting against their own baseline, as a prompt to talk.

Four signals, each against the RM's own history (never a league table), each computed for
every RM at once in one grouped query:

    activity_falling       activity a week over the last 4 weeks below ACTIVITY_FALL_RATIO
                           of the weekly average of the 12 weeks before them
    activity_fluctuating   the weekly counts of the last 12 weeks vary strongly: their
                           coefficient of variation (standard deviation / mean) above
                           ACTIVITY_CV_LIMIT
    pipeline_shrinking     open pipeline today below (1 - PIPELINE_SHRINK) of the open
                           pipeline 4 weeks ago, reconstructed from created_on / closed_on
    ratings_dropping       share of good-or-excellent customer ratings in the last 3
                           complete months RATINGS_DROP_POINTS or more below the 3 before
    checkins_missed        CHECKINS_MISSED_LIMIT or more check-ins missed in 8 weeks

Only RMs with at least one signal get an EarlyWarning row for the day; a second run the same
day replaces that day's rows (idempotent). Thresholds are documented in docs/departures.md.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Activity, Opportunity
from accounts.selectors import add_months
from coaching.models import CheckIn, CustomerRating
from org.models import Role, User

from ..models import EarlyWarning

WEEK = datetime.timedelta(days=7)
RECENT_WEEKS = 4  # the weeks looked at
BASELINE_WEEKS = 12  # the RM's own baseline, the 12 weeks before the recent ones
ACTIVITY_FALL_RATIO = Decimal("0.70")  # recent weekly average below 70 % of the baseline
ACTIVITY_MIN_BASELINE = Decimal("2")  # activities a week: below this, too little to judge
ACTIVITY_CV_LIMIT = 0.6  # coefficient of variation of the last 12 weekly counts
PIPELINE_WEEKS = 4
PIPELINE_SHRINK = Decimal("0.25")  # open pipeline down by more than a quarter
RATING_MONTHS = 3  # the last 3 complete months against the 3 before
RATINGS_MIN = 5  # ratings needed in each window to compare
RATINGS_DROP_POINTS = Decimal("15")  # percentage points of good-or-excellent lost
CHECKIN_WEEKS = 8
CHECKINS_MISSED_LIMIT = 2

MONEY = DecimalField(max_digits=18, decimal_places=2)
ZERO = Decimal("0")


def _week(today: datetime.date, i: int) -> tuple[datetime.date, datetime.date]:
    """Week i (1 = the 7 days ending today) as [first, last] days."""
    last = today - (i - 1) * WEEK
    return last - datetime.timedelta(days=6), last


def _rms(today: datetime.date):
    """The RMs watched: active, not leaving (a leaving RM has a departure case instead)."""
    return User.objects.filter(
        role=Role.RM, is_active=True, notice_given_on__isnull=True, departed_on__isnull=True
    )


def _fmt(value: Decimal | float) -> str:
    """One decimal, without a trailing ".0" (6 a week, 5.5 a week)."""
    text = f"{Decimal(str(value)).quantize(Decimal('0.1'))}"
    return text[:-2] if text.endswith(".0") else text


def _weekly_activity(rms, today: datetime.date) -> dict[int, list[int]]:
    """Activities per RM per week, weeks 1..16 back from today, in one query."""
    weeks = RECENT_WEEKS + BASELINE_WEEKS
    annotations = {}
    for i in range(1, weeks + 1):
        first, last = _week(today, i)
        annotations[f"w{i}"] = Count("pk", filter=Q(date__gte=first, date__lte=last))
    first = _week(today, weeks)[0]
    rows = (
        Activity.objects.filter(rm__in=rms, date__gte=first, date__lte=today)
        .values("rm")
        .annotate(**annotations)
        .order_by()
    )
    return {row["rm"]: [row[f"w{i}"] for i in range(1, weeks + 1)] for row in rows}


def _activity_signals(counts: list[int]) -> list[dict]:
    signals = []
    recent = Decimal(sum(counts[:RECENT_WEEKS])) / RECENT_WEEKS
    baseline = Decimal(sum(counts[RECENT_WEEKS:])) / BASELINE_WEEKS
    if baseline >= ACTIVITY_MIN_BASELINE and recent < baseline * ACTIVITY_FALL_RATIO:
        signals.append(
            {
                "code": "activity_falling",
                "detail": f"{_fmt(recent)} activities a week over the last {RECENT_WEEKS} "
                f"weeks against a {BASELINE_WEEKS}-week baseline of {_fmt(baseline)}",
            }
        )
    last = counts[:BASELINE_WEEKS]
    mean = sum(last) / len(last)
    if mean >= float(ACTIVITY_MIN_BASELINE):
        sd = math.sqrt(sum((c - mean) ** 2 for c in last) / len(last))
        cv = sd / mean
        if cv > ACTIVITY_CV_LIMIT:
            signals.append(
                {
                    "code": "activity_fluctuating",
                    "detail": f"weekly activity swings between {min(last)} and {max(last)} "
                    f"over {BASELINE_WEEKS} weeks (variation {cv:.0%} of the average "
                    f"{_fmt(mean)})",
                }
            )
    return signals


def _pipeline(rms, today: datetime.date) -> dict[int, tuple[Decimal, Decimal]]:
    """Open pipeline amount per RM today and PIPELINE_WEEKS ago, in one query."""
    before = today - PIPELINE_WEEKS * WEEK

    def open_on(day):
        return Coalesce(
            Sum(
                "amount",
                filter=Q(created_on__lte=day) & (Q(closed_on__isnull=True) | Q(closed_on__gt=day)),
            ),
            Value(ZERO),
            output_field=MONEY,
        )

    rows = (
        Opportunity.objects.filter(rm__in=rms, created_on__lte=today)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=before))
        .values("rm")
        .annotate(now=open_on(today), before=open_on(before))
        .order_by()
    )
    return {row["rm"]: (row["now"], row["before"]) for row in rows}


def _pipeline_signal(now: Decimal, before: Decimal) -> dict | None:
    if before > 0 and now < before * (1 - PIPELINE_SHRINK):
        drop = (before - now) * 100 / before
        return {
            "code": "pipeline_shrinking",
            "detail": f"open pipeline {now:,.0f} against {before:,.0f} {PIPELINE_WEEKS} weeks "
            f"ago ({_fmt(drop)} % less)",
        }
    return None


def _ratings(rms, today: datetime.date) -> dict[int, dict]:
    """Ratings per RM: count and good-or-excellent in the last 3 complete months and the
    3 before, in one query."""
    this_month = today.replace(day=1)
    recent_from = add_months(this_month, -RATING_MONTHS)
    prior_from = add_months(this_month, -2 * RATING_MONTHS)
    recent = Q(month__gte=recent_from, month__lt=this_month)
    prior = Q(month__gte=prior_from, month__lt=recent_from)
    good = Q(rating__in=CustomerRating.GOOD_OR_BETTER)
    rows = (
        CustomerRating.objects.filter(rm__in=rms, month__gte=prior_from, month__lt=this_month)
        .values("rm")
        .annotate(
            recent=Count("pk", filter=recent),
            recent_good=Count("pk", filter=recent & good),
            prior=Count("pk", filter=prior),
            prior_good=Count("pk", filter=prior & good),
        )
        .order_by()
    )
    return {row["rm"]: row for row in rows}


def _ratings_signal(row: dict) -> dict | None:
    if row["recent"] < RATINGS_MIN or row["prior"] < RATINGS_MIN:
        return None
    recent = Decimal(row["recent_good"] * 100) / row["recent"]
    prior = Decimal(row["prior_good"] * 100) / row["prior"]
    if prior - recent >= RATINGS_DROP_POINTS:
        return {
            "code": "ratings_dropping",
            "detail": f"{_fmt(recent)} % of ratings good or excellent in the last "
            f"{RATING_MONTHS} months against {_fmt(prior)} % in the {RATING_MONTHS} before",
        }
    return None


def _missed_checkins(rms, today: datetime.date) -> dict[int, int]:
    since = timezone.make_aware(
        datetime.datetime.combine(today - CHECKIN_WEEKS * WEEK, datetime.time.min)
    )
    rows = (
        CheckIn.objects.filter(rm__in=rms, status=CheckIn.Status.MISSED, scheduled_at__gte=since)
        .values("rm")
        .annotate(missed=Count("pk"))
        .order_by()
    )
    return {row["rm"]: row["missed"] for row in rows}


SIGNAL_LABELS = {
    "activity_falling": "Activity falling",
    "activity_fluctuating": "Activity fluctuating",
    "pipeline_shrinking": "Pipeline shrinking",
    "ratings_dropping": "Ratings dropping",
    "checkins_missed": "Check-ins missed",
}


@transaction.atomic
def early_warnings_compute(*, today: datetime.date | None = None) -> int:
    """Compute the day's early warnings for every RM; returns the rows written.

    A fixed number of queries whatever the number of RMs: the four grouped reads, one
    delete of the day's rows, one insert.
    """
    today = today or timezone.localdate()
    rms = _rms(today).values("pk")
    activity = _weekly_activity(rms, today)
    pipeline = _pipeline(rms, today)
    ratings = _ratings(rms, today)
    missed = _missed_checkins(rms, today)
    rm_ids = set(activity) | set(pipeline) | set(ratings) | set(missed)
    rows = []
    for rm_id in sorted(rm_ids):
        signals = _activity_signals(activity.get(rm_id, [0] * 16))
        if rm_id in pipeline:
            signal = _pipeline_signal(*pipeline[rm_id])
            signals += [signal] if signal else []
        if rm_id in ratings:
            signal = _ratings_signal(ratings[rm_id])
            signals += [signal] if signal else []
        if missed.get(rm_id, 0) >= CHECKINS_MISSED_LIMIT:
            signals.append(
                {
                    "code": "checkins_missed",
                    "detail": f"{missed[rm_id]} check-ins missed in the last {CHECKIN_WEEKS} weeks",
                }
            )
        if signals:
            rows.append(EarlyWarning(rm_id=rm_id, computed_on=today, signals=signals))
    EarlyWarning.objects.filter(computed_on=today).delete()
    EarlyWarning.objects.bulk_create(rows)
    return len(rows)
