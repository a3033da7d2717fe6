"""Forecast submissions: the RM's month and quarter numbers, the leader's adjustment, the
team's forecast (docs/forecast.md). Pages and the API call these; the rules live here.

    forecast_submit(*, rm, period, period_start, amount, note, expected_version)
    forecast_adjust(*, submission_id, by, amount, note, expected_version)
    team_forecast_submit(*, team_id, by, period, period_start, note, expected_version)

An RM submits only their own; the leader of the RM's team adjusts (the RM's number stays
beside it) and submits the team's; an executive reads everything and changes nothing.
Nothing is submitted or adjusted once the period's month is frozen (its ForecastSnapshot
exists, or it began before this month). Outside scope → DoesNotExist (404), wrong person
→ PermissionDenied (403), frozen → InvalidTransition (409), stale → StaleEdit (409), bad
input → ValidationError naming the field (400).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from org.access import visible_forecast_submissions, visible_teams
from org.models import Role, User
from salesmgmt.workflow import InvalidTransition, StaleEdit, check_version

from ..models import ForecastSubmission, TeamForecastSubmission
from ..selectors.forecasts import (
    Period,
    frozen_for,
    is_frozen,
    open_periods,
    period_of,
    proposed_commit,
    team_rms,
)

STALE = "Somebody saved this forecast since you opened it: the current numbers are shown."
MAX_NOTE = 2000


def _period(kind: str, start: datetime.date) -> Period:
    try:
        return period_of(kind, start)
    except ValueError as exc:
        raise ValidationError({"period_start": str(exc)}) from None


def _require_open(period: Period, rm_ids: list[int], today: datetime.date) -> None:
    """Refuse a period that is frozen for any of `rm_ids` (409), or not open yet (400)."""
    frozen = frozen_for(rm_ids, [period]) if rm_ids else set()
    if period.freezes_on < today.replace(day=1) or any(
        is_frozen(period, frozen, rm, today) for rm in rm_ids
    ):
        raise InvalidTransition(f"The forecast for {period.label} is frozen.")
    if period not in open_periods(today):
        raise ValidationError({"period_start": f"{period.label} is not open for forecasts yet."})


def _amount(value, field: str = "amount") -> Decimal:
    if value is None:
        raise ValidationError({field: "Give a number."})
    value = Decimal(value)
    if value < 0:
        raise ValidationError({field: "A forecast cannot be negative."})
    return value.quantize(Decimal("0.01"))


def _note(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_NOTE:
        raise ValidationError({field: f"At most {MAX_NOTE} characters."})
    return value


def _expect_new(expected_version: int | None) -> None:
    # The caller saw no submission (version 0) but one exists: a second tab submitted.
    if expected_version == 0:
        raise StaleEdit(STALE)


@transaction.atomic
def forecast_submit(
    *,
    rm: User,
    period: str,
    period_start: datetime.date,
    amount,
    note: str = "",
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> ForecastSubmission:
    """The RM's forecast for a month or a quarter, created or (before it freezes) updated.
    The commit total proposed is recorded as it is now; a number that differs from it
    needs a note. `expected_version`: 0 when the caller saw no submission, else the
    version they read (None: not checked)."""
    if rm.role != Role.RM:
        raise PermissionDenied("Only an RM submits a forecast, and only their own.")
    today = today or timezone.localdate()
    p = _period(period, period_start)
    _require_open(p, [rm.pk], today)
    amount = _amount(amount)
    note = _note(note, "note")
    proposed = proposed_commit(rm, p)
    if amount != proposed and not note:
        raise ValidationError(
            {"note": f"Say why your number differs from the proposed commit total ({proposed})."}
        )
    now = timezone.now()
    existing = (
        ForecastSubmission.objects.select_for_update()
        .filter(rm=rm, period=p.kind, period_start=p.start)
        .first()
    )
    if existing is None:
        if expected_version not in (None, 0):
            raise StaleEdit(STALE)
        submission = ForecastSubmission(
            rm=rm,
            period=p.kind,
            period_start=p.start,
            proposed_amount=proposed,
            amount=amount,
            note=note,
            submitted_at=now,
        )
        submission.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                submission.save()
        except IntegrityError:  # a second tab created it a moment ago
            raise StaleEdit(STALE) from None
        return submission
    _expect_new(expected_version)
    check_version(existing, expected_version, STALE)
    existing.proposed_amount, existing.amount, existing.note = proposed, amount, note
    existing.submitted_at = now
    existing.version += 1
    existing.full_clean(validate_unique=False)
    existing.save()
    return existing


@transaction.atomic
def forecast_adjust(
    *,
    submission_id: int,
    by: User,
    amount,
    note: str,
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> ForecastSubmission:
    """The leader of the RM's team sets their own number for the RM's forecast, with a
    note; the RM's number stays as they submitted it."""
    if not visible_forecast_submissions(by).filter(pk=submission_id).exists():
        raise ForecastSubmission.DoesNotExist("No such forecast.")
    submission = ForecastSubmission.objects.select_for_update().get(pk=submission_id)
    rm = User.objects.select_related("team").get(pk=submission.rm_id)
    if not by.leads(rm):
        raise PermissionDenied(f"Only the leader of {rm}'s team adjusts their forecast.")
    today = today or timezone.localdate()
    _require_open(_period(submission.period, submission.period_start), [rm.pk], today)
    amount = _amount(amount)
    note = _note(note, "note")
    if not note:
        raise ValidationError({"note": "Say why you adjust the RM's number."})
    check_version(submission, expected_version, STALE)
    submission.adjusted_amount, submission.adjustment_note = amount, note
    submission.adjusted_by, submission.adjusted_at = by, timezone.now()
    submission.version += 1
    submission.full_clean(validate_unique=False)
    submission.save()
    return submission


@transaction.atomic
def team_forecast_submit(
    *,
    team_id: int,
    by: User,
    period: str,
    period_start: datetime.date,
    note: str = "",
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> TeamForecastSubmission:
    """The leader submits the team's forecast: Σ of the RMs' numbers as the leader left
    them (adjusted where adjusted), as they are now. RMs who have not submitted count
    nothing; at least one must have."""
    team = visible_teams(by).get(pk=team_id)  # DoesNotExist → 404
    if team.leader_id != by.pk:
        raise PermissionDenied("Only the team's leader submits the team's forecast.")
    today = today or timezone.localdate()
    p = _period(period, period_start)
    rm_ids = list(team_rms([team.pk], p).values_list("pk", flat=True))
    _require_open(p, rm_ids, today)
    note = _note(note, "note")
    submissions = list(
        ForecastSubmission.objects.select_for_update().filter(
            rm_id__in=rm_ids, period=p.kind, period_start=p.start
        )
    )
    if not submissions:
        raise ValidationError(
            {"period_start": f"None of the team's RMs has submitted a forecast for {p.label}."}
        )
    amount = sum((s.effective_amount for s in submissions), Decimal("0"))
    now = timezone.now()
    existing = (
        TeamForecastSubmission.objects.select_for_update()
        .filter(team=team, period=p.kind, period_start=p.start)
        .first()
    )
    if existing is None:
        if expected_version not in (None, 0):
            raise StaleEdit(STALE)
        record = TeamForecastSubmission(
            team=team,
            period=p.kind,
            period_start=p.start,
            amount=amount,
            note=note,
            submitted_by=by,
            submitted_at=now,
        )
        record.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            raise StaleEdit(STALE) from None
        return record
    _expect_new(expected_version)
    check_version(existing, expected_version, STALE)
    existing.amount, existing.note, existing.submitted_by, existing.submitted_at = (
        amount,
        note,
        by,
        now,
    )
    existing.version += 1
    existing.full_clean(validate_unique=False)
    existing.save()
    return existing
