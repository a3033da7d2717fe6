"""The pipeline's rules, as the services keep them (accounts.services.pipeline)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import OpportunityChange, OpportunityStatus
from accounts.services import pipeline as services
from salesmgmt.workflow import InvalidTransition, StaleEdit
from tests.factories import ProductFactory

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def create(rm, account, **fields):
    values = {
        "product": ProductFactory(code="LN1"),
        "amount": Decimal("100000.00"),
        "kind": "new_business",
        "stage": "lead",
        "expected_close": datetime.date(2027, 3, 31),
    } | fields
    return services.opportunity_create(user=rm, account=account, today=TODAY, **values)


def field_errors(excinfo) -> dict:
    return excinfo.value.message_dict


# --- creating ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "probability"),
    [("lead", 10), ("qualified", 25), ("proposal", 50), ("negotiation", 70), ("closing", 90)],
)
def test_a_new_deal_takes_its_stages_default_probability(rm, account, stage, probability):
    assert create(rm, account, stage=stage).probability == probability


def test_the_rm_may_override_the_stages_probability(rm, account):
    assert create(rm, account, stage="lead", probability=35).probability == 35


def test_a_new_deal_is_open_created_today_in_the_rms_name(rm, account):
    deal = create(rm, account)
    assert (deal.status, deal.created_on, deal.rm) == (OpportunityStatus.OPEN, TODAY, rm)


def test_creation_writes_one_history_row_without_from_values(rm, account):
    deal = create(rm, account, amount=Decimal("5000.00"))
    (row,) = deal.changes.all()
    assert (row.to_stage, row.to_status, row.to_amount, row.to_expected_close) == (
        "lead",
        "open",
        Decimal("5000.00"),
        datetime.date(2027, 3, 31),
    )
    assert (row.from_stage, row.from_status, row.from_amount, row.from_expected_close) == (
        "",
        "",
        None,
        None,
    )
    assert row.changed_by == rm


def test_a_negative_amount_is_refused_on_the_amount(rm, account):
    with pytest.raises(ValidationError) as excinfo:
        create(rm, account, amount=Decimal("-1.00"))
    assert list(field_errors(excinfo)) == ["amount"]


def test_a_probability_over_100_is_refused_on_the_probability(rm, account):
    with pytest.raises(ValidationError) as excinfo:
        create(rm, account, probability=101)
    assert list(field_errors(excinfo)) == ["probability"]


def test_an_expected_close_before_the_deal_was_created_is_refused_on_the_date(rm, account):
    with pytest.raises(ValidationError) as excinfo:
        create(rm, account, expected_close=TODAY - datetime.timedelta(days=1))
    assert list(field_errors(excinfo)) == ["expected_close"]


def test_an_expected_close_on_the_day_it_was_created_is_fine(rm, account):
    assert create(rm, account, expected_close=TODAY).expected_close == TODAY


def test_a_deal_recorded_lost_needs_a_reason(rm, account):
    with pytest.raises(ValidationError) as excinfo:
        create(rm, account, status="lost")
    assert list(field_errors(excinfo)) == ["lost_reason"]


def test_nothing_is_written_when_a_deal_is_refused(rm, account):
    with pytest.raises(ValidationError):
        create(rm, account, amount=Decimal("-5"))
    assert not OpportunityChange.objects.exists()


def test_an_rm_opens_deals_only_on_accounts_they_own_or_cover(teammate, account):
    with pytest.raises(PermissionDenied):
        create(teammate, account)


# --- editing -------------------------------------------------------------------------------


def test_editing_the_amount_writes_a_history_row_from_old_to_new(rm, deal):
    services.opportunity_update(user=rm, opportunity=deal, amount=Decimal("300000.00"))
    row = deal.changes.get()
    assert (row.from_amount, row.to_amount) == (Decimal("250000.00"), Decimal("300000.00"))
    assert (row.from_stage, row.to_stage) == ("", "")


def test_moving_the_close_date_out_is_a_slipped_deal(rm, deal):
    services.opportunity_update(
        user=rm, opportunity=deal, expected_close=datetime.date(2027, 6, 30)
    )
    row = deal.changes.get()
    assert (row.from_expected_close, row.to_expected_close, row.slipped) == (
        datetime.date(2027, 3, 31),
        datetime.date(2027, 6, 30),
        True,
    )


def test_editing_only_the_next_step_writes_no_history(rm, deal):
    services.opportunity_update(user=rm, opportunity=deal, next_step="Send the term sheet")
    assert not deal.changes.exists()


def test_each_save_counts_in_the_version(rm, deal):
    saved = services.opportunity_update(user=rm, opportunity=deal, next_step="Call back")
    assert saved.version == deal.version + 1


def test_a_stale_edit_is_refused_and_nothing_is_lost(rm, deal):
    services.opportunity_update(
        user=rm, opportunity=deal, expected_version=1, amount=Decimal("1000")
    )
    with pytest.raises(StaleEdit):
        services.opportunity_update(
            user=rm, opportunity=deal, expected_version=1, amount=Decimal("2000")
        )
    deal.refresh_from_db()
    assert (deal.amount, deal.version) == (Decimal("1000.00"), 2)


def test_a_new_stage_without_a_new_probability_takes_the_stages_default(rm, deal):
    saved = services.opportunity_update(
        user=rm, opportunity=deal, stage="negotiation", probability=deal.probability
    )
    assert saved.probability == 70


def test_a_new_stage_with_a_new_probability_keeps_the_rms_number(rm, deal):
    saved = services.opportunity_update(
        user=rm, opportunity=deal, stage="negotiation", probability=60
    )
    assert saved.probability == 60


def test_an_expected_close_moved_before_creation_is_refused(rm, deal):
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_update(
            user=rm, opportunity=deal, expected_close=deal.created_on - datetime.timedelta(1)
        )
    assert list(field_errors(excinfo)) == ["expected_close"]


def test_only_the_deals_rm_changes_it(leader, deal):
    with pytest.raises(PermissionDenied):
        services.opportunity_update(user=leader, opportunity=deal, next_step="x")


# --- moving, winning, losing ---------------------------------------------------------------


def test_moving_a_stage_records_from_and_to_and_the_new_default(rm, deal):
    moved = services.opportunity_move(user=rm, opportunity=deal, stage="proposal")
    assert moved.probability == 50
    row = moved.changes.get()
    assert (row.from_stage, row.to_stage, row.changed_by) == ("qualified", "proposal", rm)


def test_moving_to_an_unknown_stage_is_refused_on_the_stage(rm, deal):
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_move(user=rm, opportunity=deal, stage="dreaming")
    assert list(field_errors(excinfo)) == ["stage"]


def test_a_stale_move_is_refused(rm, deal):
    with pytest.raises(StaleEdit):
        services.opportunity_move(user=rm, opportunity=deal, stage="proposal", expected_version=0)


def test_winning_closes_the_deal_today_at_100_percent(rm, deal):
    won = services.opportunity_win(user=rm, opportunity=deal, today=TODAY)
    assert (won.status, won.probability, won.closed_on) == ("won", 100, TODAY)
    row = won.changes.get()
    assert (row.from_status, row.to_status) == ("open", "won")


def test_losing_needs_a_reason(rm, deal):
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_lose(user=rm, opportunity=deal, lost_reason=None)
    assert list(field_errors(excinfo)) == ["lost_reason"]
    deal.refresh_from_db()
    assert deal.status == "open"


def test_losing_needs_a_reason_still_on_the_administrators_list(rm, deal, retired_reason):
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_lose(user=rm, opportunity=deal, lost_reason=retired_reason)
    assert list(field_errors(excinfo)) == ["lost_reason"]


def test_losing_closes_the_deal_with_its_reason_and_note(rm, deal, reason):
    lost = services.opportunity_lose(
        user=rm, opportunity=deal, lost_reason=reason, lost_note="Bank B at 40 bp", today=TODAY
    )
    assert (lost.status, lost.lost_reason, lost.lost_note, lost.closed_on) == (
        "lost",
        reason,
        "Bank B at 40 bp",
        TODAY,
    )
    assert lost.probability == 0


def test_a_status_of_lost_through_the_edit_follows_the_same_rule(rm, deal):
    with pytest.raises(ValidationError) as excinfo:
        services.opportunity_update(user=rm, opportunity=deal, status="lost")
    assert list(field_errors(excinfo)) == ["lost_reason"]


@pytest.mark.parametrize("action", ["update", "move", "win", "lose"])
def test_a_closed_deal_is_final(rm, deal, reason, action):
    services.opportunity_win(user=rm, opportunity=deal)
    calls = {
        "update": lambda: services.opportunity_update(user=rm, opportunity=deal, next_step="x"),
        "move": lambda: services.opportunity_move(user=rm, opportunity=deal, stage="lead"),
        "win": lambda: services.opportunity_win(user=rm, opportunity=deal),
        "lose": lambda: services.opportunity_lose(user=rm, opportunity=deal, lost_reason=reason),
    }
    with pytest.raises(InvalidTransition):
        calls[action]()


def test_a_leader_cannot_move_their_rms_deal(leader, deal):
    with pytest.raises(PermissionDenied):
        services.opportunity_move(user=leader, opportunity=deal, stage="proposal")
