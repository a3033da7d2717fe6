"""What the pipeline tests share: a deal on the RM's account, lost reasons, and a way to
write stage history with chosen dates (the services stamp `now`)."""

import datetime

import factory
import pytest
from django.utils import timezone

from accounts.models import LostReason, OpportunityChange
from tests.factories import OpportunityFactory

TODAY = datetime.date(2026, 12, 4)


class OpportunityChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpportunityChange

    opportunity = factory.SubFactory(OpportunityFactory)
    changed_by = factory.LazyAttribute(lambda c: c.opportunity.rm)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """A moment on `day`, local time."""
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def deal(account):
    return OpportunityFactory(account=account, stage="qualified", probability=25)


@pytest.fixture
def reason(db):
    return LostReason.objects.create(name="Priced out", position=1)


@pytest.fixture
def retired_reason(db):
    return LostReason.objects.create(name="Old reason", active=False, position=9)
