"""What must always hold is held by the database, whatever code path writes."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError

from accounts.models import AccountStatus, OpportunityStatus

from .factories import (
    AccountFactory,
    OpportunityFactory,
    OwnershipChangeFactory,
    PositionFactory,
)

pytestmark = pytest.mark.django_db


def test_account_number_is_unique(account):
    with pytest.raises(IntegrityError):
        AccountFactory(number=account.number)


def test_position_is_unique_per_account_product_and_month():
    position = PositionFactory()
    with pytest.raises(IntegrityError):
        PositionFactory(account=position.account, product=position.product, month=position.month)


def test_position_balance_cannot_be_negative():
    with pytest.raises(IntegrityError):
        PositionFactory(balance=Decimal("-0.01"))


def test_position_month_is_the_first_of_the_month():
    with pytest.raises(IntegrityError):
        PositionFactory(month=datetime.date(2026, 10, 31))


def test_opportunity_probability_is_between_0_and_100():
    with pytest.raises(IntegrityError):
        OpportunityFactory(probability=101)


def test_opportunity_amount_cannot_be_negative():
    with pytest.raises(IntegrityError):
        OpportunityFactory(amount=Decimal("-1"))


def test_won_opportunity_has_a_closing_date():
    with pytest.raises(IntegrityError):
        OpportunityFactory(status=OpportunityStatus.WON, closed_on=None)


def test_lost_account_states_why():
    with pytest.raises(IntegrityError):
        AccountFactory(
            status=AccountStatus.LOST, lost_reason="", closed_on=datetime.date(2026, 1, 31)
        )


def test_closed_account_has_a_closing_date():
    with pytest.raises(IntegrityError):
        AccountFactory(status=AccountStatus.CLOSED, closed_on=None)


def test_owner_cannot_also_be_the_covering_rm(rm):
    with pytest.raises(IntegrityError):
        AccountFactory(owner=rm, covering_rm=rm)


def test_ownership_change_changes_the_owner(account):
    with pytest.raises(IntegrityError):
        OwnershipChangeFactory(account=account, previous_owner=account.owner)
