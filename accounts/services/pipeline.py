"""Working the pipeline: open, edit, move, win and lose an opportunity (docs/pipeline.md).

One service per change, used by the pages, the board's buttons and the API alike. Every
change of stage, status, amount or expected close writes one `OpportunityChange` row in
the same transaction (the row written at creation has no "from" values): the stage
history the win rate, days per stage and slipped deals are read from.

The probability follows the stage unless the RM says otherwise: a new deal without a
probability, or a deal whose stage changes without a new probability, takes the stage's
default from `STAGE_PROBABILITY`. Winning sets it to 100, losing to 0.

Won and lost are final: a closed deal is history the check-ins and figures report on
(409 on any change). Two tabs: a save with an out-of-date `expected_version` is refused
(409 StaleEdit) and nothing is written.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    Account,
    LostReason,
    Opportunity,
    OpportunityChange,
    OpportunityStage,
    OpportunityStatus,
)
from org.models import User
from salesmgmt import formatting
from salesmgmt.workflow import InvalidTransition, check_version

from . import require_own, require_works_on

# How likely a deal at each stage closes, unless the RM knows better (docs/metrics.md).
STAGE_PROBABILITY = {
    OpportunityStage.LEAD: 10,
    OpportunityStage.QUALIFIED: 25,
    OpportunityStage.PROPOSAL: 50,
    OpportunityStage.NEGOTIATION: 70,
    OpportunityStage.CLOSING: 90,
}
STAGES = list(OpportunityStage.values)
# The fields whose changes are the stage history.
TRACKED = ("stage", "status", "amount", "expected_close")
# What the edit form and the API may change; status goes through win / lose.
EDITABLE = (
    "account",
    "product",
    "amount",
    "kind",
    "stage",
    "probability",
    "expected_close",
    "next_step",
    "forecast_category",
)
STALE = "Somebody else saved this deal since you opened it; your change was not saved."


def default_probability(stage: str) -> int:
    return STAGE_PROBABILITY[OpportunityStage(stage)]


def next_stage(stage: str) -> str | None:
    """The stage after `stage` on the board, None for the last."""
    index = STAGES.index(stage)
    return STAGES[index + 1] if index + 1 < len(STAGES) else None


def previous_stage(stage: str) -> str | None:
    index = STAGES.index(stage)
    return STAGES[index - 1] if index > 0 else None


def _snapshot(opportunity: Opportunity) -> dict:
    return {name: getattr(opportunity, name) for name in TRACKED}


def _record_change(
    opportunity: Opportunity, before: dict | None, by: User
) -> OpportunityChange | None:
    """One history row for what changed since `before` (None: the deal was just created,
    every "to" filled, every "from" empty). Unchanged fields stay empty on the row."""
    after = _snapshot(opportunity)
    changed = [n for n in TRACKED if before is None or before[n] != after[n]]
    if not changed:
        return None
    row = OpportunityChange(opportunity=opportunity, changed_at=timezone.now(), changed_by=by)
    for name in changed:
        setattr(row, f"to_{name}", after[name])
        if before is not None:
            setattr(row, f"from_{name}", before[name])
    row.save()
    return row


def _validate(opportunity: Opportunity) -> None:
    """The rules with their reason on the field, before the model's own checks (which
    would name no field for a database constraint)."""
    errors = {}
    if opportunity.amount is not None and Decimal(opportunity.amount) < 0:
        errors["amount"] = "The amount cannot be negative."
    if opportunity.probability is not None and not 0 <= opportunity.probability <= 100:
        errors["probability"] = "The probability is a percentage from 0 to 100."
    if (
        opportunity.expected_close
        and opportunity.created_on
        and opportunity.expected_close < opportunity.created_on
    ):
        errors["expected_close"] = (
            f"The expected close cannot be before the deal was created "
            f"({formatting.date(opportunity.created_on)})."
        )
    if errors:
        raise ValidationError(errors)
    opportunity.full_clean()


def _lock(opportunity: Opportunity) -> Opportunity:
    return Opportunity.objects.select_for_update(of=("self",)).get(pk=opportunity.pk)


def _require_open(opportunity: Opportunity) -> None:
    if opportunity.status != OpportunityStatus.OPEN:
        raise InvalidTransition(
            f"This deal is {opportunity.get_status_display().lower()}; a closed deal is final."
        )


def _close_won(opportunity: Opportunity, today: datetime.date) -> None:
    opportunity.status = OpportunityStatus.WON
    opportunity.probability = 100
    opportunity.closed_on = today


def _close_lost(
    opportunity: Opportunity, today: datetime.date, reason: LostReason | None, note: str
) -> None:
    if reason is None:
        raise ValidationError({"lost_reason": "Say why the deal was lost: choose a reason."})
    if not reason.active:
        raise ValidationError(
            {"lost_reason": f"“{reason}” is no longer on the list of reasons; choose another."}
        )
    opportunity.status = OpportunityStatus.LOST
    opportunity.probability = 0
    opportunity.lost_reason = reason
    opportunity.lost_note = note or ""
    opportunity.closed_on = today


def _save(opportunity: Opportunity, before: dict | None, by: User) -> Opportunity:
    _validate(opportunity)
    if before is not None:
        opportunity.version += 1
    opportunity.save()
    _record_change(opportunity, before, by)
    return opportunity


@transaction.atomic
def opportunity_create(
    *,
    user: User,
    account: Account,
    today: datetime.date | None = None,
    probability: int | None = None,
    status: str = OpportunityStatus.OPEN,
    lost_reason: LostReason | None = None,
    lost_note: str = "",
    **fields,
) -> Opportunity:
    """A new deal in the RM's pipeline, created today. Without a probability it takes the
    stage's default. Recorded already won or lost, it closes today (lost needs a reason)."""
    require_works_on(user, account)
    today = today or timezone.localdate()
    opportunity = Opportunity(account=account, rm=user, created_on=today, **fields)
    opportunity.probability = (
        probability if probability is not None else default_probability(opportunity.stage)
    )
    if status == OpportunityStatus.WON:
        _close_won(opportunity, today)
    elif status == OpportunityStatus.LOST:
        _close_lost(opportunity, today, lost_reason, lost_note)
    return _save(opportunity, None, user)


@transaction.atomic
def opportunity_update(
    *,
    user: User,
    opportunity: Opportunity,
    expected_version: int | None = None,
    today: datetime.date | None = None,
    **changes,
) -> Opportunity:
    """Change one's own open deal (the fields of `EDITABLE`). A status of won or lost in
    `changes` closes it as `opportunity_win` / `opportunity_lose` do."""
    opportunity = _lock(opportunity)
    require_own(user, opportunity)
    _require_open(opportunity)
    check_version(opportunity, expected_version, STALE)
    today = today or timezone.localdate()
    status = changes.pop("status", OpportunityStatus.OPEN)
    reason, note = changes.pop("lost_reason", None), changes.pop("lost_note", "")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "account" in changes and changes["account"].pk != opportunity.account_id:
        require_works_on(user, changes["account"])
    before = _snapshot(opportunity)
    old_probability = opportunity.probability
    probability = changes.pop("probability", None)
    for name, value in changes.items():
        setattr(opportunity, name, value)
    if opportunity.stage != before["stage"] and probability in (None, old_probability):
        # A new stage and no new probability (the form sends the old one back): the
        # stage's default.
        opportunity.probability = default_probability(opportunity.stage)
    elif probability is not None:
        opportunity.probability = probability
    if status == OpportunityStatus.WON:
        _close_won(opportunity, today)
    elif status == OpportunityStatus.LOST:
        _close_lost(opportunity, today, reason, note)
    return _save(opportunity, before, user)


@transaction.atomic
def opportunity_move(
    *, user: User, opportunity: Opportunity, stage: str, expected_version: int | None = None
) -> Opportunity:
    """Move one's own open deal to another stage (the board's buttons); the probability
    becomes the new stage's default."""
    if stage not in STAGES:
        raise ValidationError({"stage": f"“{stage}” is not a stage of the pipeline."})
    opportunity = _lock(opportunity)
    require_own(user, opportunity)
    _require_open(opportunity)
    check_version(opportunity, expected_version, STALE)
    if stage == opportunity.stage:
        return opportunity
    before = _snapshot(opportunity)
    opportunity.stage = stage
    opportunity.probability = default_probability(stage)
    return _save(opportunity, before, user)


@transaction.atomic
def opportunity_win(
    *,
    user: User,
    opportunity: Opportunity,
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> Opportunity:
    """The deal is won: closed today at 100 %."""
    opportunity = _lock(opportunity)
    require_own(user, opportunity)
    _require_open(opportunity)
    check_version(opportunity, expected_version, STALE)
    before = _snapshot(opportunity)
    _close_won(opportunity, today or timezone.localdate())
    return _save(opportunity, before, user)


@transaction.atomic
def opportunity_lose(
    *,
    user: User,
    opportunity: Opportunity,
    lost_reason: LostReason | None,
    lost_note: str = "",
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> Opportunity:
    """The deal is lost, for a reason from the administrator's active list (and a note if
    the RM wants): closed today at 0 %."""
    opportunity = _lock(opportunity)
    require_own(user, opportunity)
    _require_open(opportunity)
    check_version(opportunity, expected_version, STALE)
    before = _snapshot(opportunity)
    _close_lost(opportunity, today or timezone.localdate(), lost_reason, lost_note)
    return _save(opportunity, before, user)
