import pytest
from django.utils import timezone

from planning.models import ActivityStandard
from tests.factories import CustomerContactFactory, PlanYearFactory


@pytest.fixture
def contact(account):
    return CustomerContactFactory(account=account, name="Karin Ito")


@pytest.fixture
def standard(db):
    """The plan year's standard for 'finder and minder' RMs: 8 calls, 3 visits, 2 reviews."""
    year = PlanYearFactory(year=timezone.localdate().year)
    return ActivityStandard.objects.create(
        plan_year=year, rm_style="both", calls_per_week=8, visits_per_week=3, reviews_per_week=2
    )
