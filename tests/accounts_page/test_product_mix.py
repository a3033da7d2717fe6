"""Product mix against the product-mix standard: each family's share of an RM's won new
business against its standard share, and the overall fit (docs/metrics.md,
"Product-mix share"), the same figure the plan versus actual stores."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import OpportunityKind, OpportunityStatus, ProductFamily
from planning.models import ProductMixStandard, TargetSet, Variance
from planning.selectors.product_mix import rm_product_mix
from planning.services.variances import variances_recompute
from tests.factories import (
    AccountFactory,
    CheckInFactory,
    ExecutiveFactory,
    OpportunityFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    TargetLineFactory,
    TargetSetFactory,
    metric,
)

pytestmark = pytest.mark.django_db

D = Decimal
JUN = datetime.date(2027, 6, 1)
TODAY = datetime.date(2027, 7, 5)  # June 2027 is the closed month
JAN_2026, MAR_2026, APR_2026 = (datetime.date(2026, m, 5) for m in (1, 3, 4))


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


@pytest.fixture
def standard(plan_year):
    for family, share in ((ProductFamily.LOAN, "60"), (ProductFamily.DEPOSIT, "40")):
        ProductMixStandard.objects.create(
            plan_year=plan_year, family=family, target_share_pct=D(share)
        )


def close(month=JUN):
    PositionFactory(month=month, balance=D("1"))


def target(rm, plan_year, value="80"):
    author = ExecutiveFactory()
    target_set = TargetSetFactory(
        plan_year=plan_year,
        scope="rm",
        team=None,
        rm=rm,
        created_by=author,
        last_edited_by=author,
        proposed_by=author,
        status=TargetSet.Status.APPROVED,
        decided_by=ExecutiveFactory(),
    )
    TargetLineFactory(target_set=target_set, metric=metric("product_mix_share"), value=D(value))


def won(rm, family, amount, *, kind=OpportunityKind.NEW_BUSINESS, closed_on=None, **extra):
    return OpportunityFactory(
        account=AccountFactory(owner=rm),
        rm=rm,
        product=ProductFactory(family=family),
        amount=D(amount),
        kind=kind,
        status=extra.pop("status", OpportunityStatus.WON),
        closed_on=closed_on or datetime.date(2027, 5, 10),
        probability=100,
        **extra,
    )


def by_family(mix):
    return {f.family: f for f in mix.families}


@pytest.fixture
def year_of_business(rm, other_rm, plan_year, standard):
    won(rm, ProductFamily.LOAN, "300")
    won(rm, ProductFamily.DEPOSIT, "100", kind=OpportunityKind.CROSS_SELL)
    won(rm, ProductFamily.CARD, "100")  # no standard: takes share, earns none
    won(rm, ProductFamily.LOAN, "1000", kind=OpportunityKind.RENEWAL)  # keeps, adds nothing
    won(rm, ProductFamily.DEPOSIT, "1000", status=OpportunityStatus.LOST)
    won(other_rm, ProductFamily.DEPOSIT, "1000")  # someone else's
    won(rm, ProductFamily.DEPOSIT, "1000", closed_on=datetime.date(2027, 7, 1))  # after E
    target(rm, plan_year, "80")
    close()


def test_each_familys_share_of_won_new_business_is_set_against_its_standard(
    rm, plan_year, year_of_business
):
    mix = rm_product_mix(rm, plan_year=plan_year)

    families = by_family(mix)
    # new business won January to June: loan 300, deposit 100, card 100 = 500
    assert mix.won_total == D("500")
    assert [f.family for f in mix.families] == [
        ProductFamily.LOAN,
        ProductFamily.DEPOSIT,
        ProductFamily.CARD,
    ]
    assert (families["loan"].share, families["loan"].standard) == (D("60.00"), D("60"))
    assert (families["deposit"].share, families["deposit"].standard) == (D("20.00"), D("40"))
    assert families["deposit"].difference == D("-20.00")
    assert (families["card"].share, families["card"].standard) == (D("20.00"), None)
    assert [f.family for f in mix.short] == [ProductFamily.DEPOSIT]
    assert (mix.period_start, mix.period_end) == (
        datetime.date(2027, 1, 1),
        datetime.date(2027, 6, 30),
    )


def test_the_overall_fit_is_the_overlap_with_the_standard_against_the_target(
    rm, plan_year, year_of_business
):
    mix = rm_product_mix(rm, plan_year=plan_year)

    # min(60, 60) + min(20, 40) = 80 of the standard's 100
    assert (mix.actual, mix.target, mix.on_course) == (D("80.00"), D("80.00"), True)


@pytest.mark.parametrize("period", ["ytd", "quarter", "month"])
def test_the_overall_fit_equals_the_stored_variance_for_the_same_rm_and_period(
    rm, plan_year, year_of_business, period
):
    won(rm, ProductFamily.DEPOSIT, "77", closed_on=datetime.date(2027, 6, 2))
    variances_recompute(today=TODAY)
    stored = Variance.objects.get(
        scope="rm",
        rm=rm,
        metric__code="product_mix_share",
        period=period,
        period_end=JUN.replace(day=30),
    )

    mix = rm_product_mix(rm, plan_year=plan_year, period=period)

    assert (mix.period_start, mix.period_end) == (stored.period_start, stored.period_end)
    assert (mix.actual, mix.target) == (stored.actual, stored.planned)


def test_without_won_new_business_there_is_no_figure_and_it_says_why(rm, plan_year, standard):
    won(rm, ProductFamily.LOAN, "1000", kind=OpportunityKind.RENEWAL)
    close()

    mix = rm_product_mix(rm, plan_year=plan_year)

    assert mix.actual is None
    assert mix.note == "no new business won in the period"
    assert [(f.family, f.share) for f in mix.families] == [("loan", None), ("deposit", None)]


def test_without_a_standard_there_is_no_figure(rm, plan_year):
    won(rm, ProductFamily.LOAN, "300")
    close()

    mix = rm_product_mix(rm, plan_year=plan_year)

    assert mix.actual is None
    assert not mix.has_standard
    assert mix.note == "no product-mix standard for the year"


def test_before_the_first_closed_month_the_standard_is_shown_without_figures(
    rm, plan_year, standard
):
    mix = rm_product_mix(rm, plan_year=plan_year)

    assert mix.period_end is None
    assert [f.standard for f in mix.families] == [D("60"), D("40")]
    assert mix.note == "no month closed in the plan year yet"


def test_the_json_form_keeps_every_figure_as_text(rm, plan_year, year_of_business):
    data = rm_product_mix(rm, plan_year=plan_year).as_json()

    assert data["actual"] == "80.00"
    assert data["families"][1] == {
        "family": "deposit",
        "label": "Deposit (DDA)",
        "won": "100.00",
        "share": "20.00",
        "standard": "40.00",
        "difference": "-20.00",
        "met": False,
        "shortfall": "20.00",
    }


@pytest.mark.parametrize("deals", [3, 60])
def test_product_mix_costs_three_queries_whatever_the_number_of_deals(
    rm, plan_year, standard, deals, django_assert_num_queries
):
    for i in range(deals):
        won(rm, ProductFamily.values[i % 5], "100")
    target(rm, plan_year)
    close()

    with django_assert_num_queries(3):
        rm_product_mix(rm, plan_year=plan_year)


# --- where it is shown -----------------------------------------------------------------------


def test_the_rms_home_shows_their_product_mix_for_the_year_to_date(client, rm, other_rm):
    this_year = PlanYearFactory(year=2026)
    ProductMixStandard.objects.create(
        plan_year=this_year, family=ProductFamily.LOAN, target_share_pct=D("50")
    )
    won(rm, ProductFamily.LOAN, "300", closed_on=MAR_2026, created_on=JAN_2026)
    won(rm, ProductFamily.CARD, "100", closed_on=APR_2026, created_on=JAN_2026)
    won(other_rm, ProductFamily.CARD, "900", closed_on=APR_2026, created_on=JAN_2026)
    close(datetime.date(2026, 11, 1))
    client.force_login(rm)

    response = client.get(reverse("accounts:my_week"))

    mix = response.context["product_mix"]
    assert mix.won_total == D("400.00")  # only the RM's own new business
    assert mix.actual == D("100.00")  # loan 75 % of a 50 % ask
    text = response.text
    assert re.search(r'id="product-mix-slot">\s*<section[^>]*id="product-mix"', text)
    assert "Fit with the standard: <strong>100.00\u00a0%</strong>" in text
    assert "75.00\u00a0%" in text  # loan's share


def test_the_check_in_shows_the_rms_product_mix_and_freezes_it_with_the_figures(
    client, rm, plan_year, year_of_business
):
    # a weekly check-in in July 2027 discusses the year to date at the closed month, June
    checkin = CheckInFactory(rm=rm, period_start=datetime.date(2027, 7, 5))
    client.force_login(rm.team.leader)

    response = client.get(checkin.get_absolute_url())

    mix = response.context["figures"]["product_mix"]
    assert (mix["actual"], mix["target"]) == ("80.00", "80.00")
    assert 'id="product-mix"' in response.text
    assert "Deposit (DDA): 20.00\u00a0% of new business, 20.00 points short" in response.text

    client.post(
        reverse("coaching:checkin_complete", args=[checkin.pk]),
        {"version": checkin.version},
    )
    checkin.refresh_from_db()
    assert checkin.status == "completed"
    assert checkin.snapshot["product_mix"]["actual"] == "80.00"
    frozen = client.get(checkin.get_absolute_url()).text
    assert "Deposit (DDA): 20.00\u00a0% of new business, 20.00 points short" in frozen
