"""The year's steering standards: executives set them in one validated save with history;
everyone else reads them; nothing silently overwritten."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from planning.models import (
    ActivityStandard,
    PlanYear,
    ProductMixStandard,
    SteeringStandard,
)
from planning.services import standards
from salesmgmt.workflow import InvalidTransition

from ..factories import ExecutiveFactory, PlanYearFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


def url(plan_year):
    return reverse("planning:standards", args=[plan_year.year])


def form_data(version=0, **overrides):
    data = {
        "version": version,
        "forecast_accuracy_pct": "85",
        "relationship_metric": "retention",
        "mix_loan": "50",
        "mix_deposit": "30",
        "mix_treasury": "",
        "mix_card": "",
        "mix_other": "",
    }
    for style, (calls, visits, reviews) in {
        "finder": ("15", "5", "1"),
        "minder": ("6", "3", "4"),
        "both": ("10", "4", "2"),
    }.items():
        data.update(
            {f"calls_{style}": calls, f"visits_{style}": visits, f"reviews_{style}": reviews}
        )
    data.update(overrides)
    return data


def test_executive_sets_the_standards_of_the_year(client, executive, plan_year):
    client.force_login(executive)
    response = client.post(url(plan_year), form_data())
    assert response.status_code == 302
    steering = SteeringStandard.objects.get(plan_year=plan_year)
    assert (steering.forecast_accuracy_pct, steering.relationship_metric, steering.updated_by) == (
        Decimal("85.00"),
        "retention",
        executive,
    )
    finder = ActivityStandard.objects.get(plan_year=plan_year, rm_style="finder")
    assert (finder.calls_per_week, finder.visits_per_week, finder.reviews_per_week) == (15, 5, 1)
    assert dict(
        ProductMixStandard.objects.filter(plan_year=plan_year).values_list(
            "family", "target_share_pct"
        )
    ) == {"loan": Decimal("50.00"), "deposit": Decimal("30.00")}


def test_each_change_is_in_the_audit_history_with_who(client, executive, plan_year):
    client.force_login(executive)
    client.post(url(plan_year), form_data())
    version = client.get(url(plan_year)).context["form"].initial["version"]
    client.post(url(plan_year), form_data(version, calls_finder="20", mix_deposit=""))
    finder = ActivityStandard.objects.get(plan_year=plan_year, rm_style="finder")
    new, old = finder.history.all()[:2]
    assert (old.calls_per_week, new.calls_per_week, new.history_user) == (15, 20, executive)
    # Unchanged rows are not rewritten; a blank family's standard is removed, on record.
    assert ActivityStandard.objects.get(rm_style="minder").history.count() == 1
    assert not ProductMixStandard.objects.filter(family="deposit").exists()
    assert ProductMixStandard.history.filter(family="deposit", history_type="-").exists()


def test_product_mix_above_100_re_renders_with_the_reason_and_saves_nothing(
    client, executive, plan_year
):
    client.force_login(executive)
    response = client.post(url(plan_year), form_data(mix_loan="60", mix_deposit="50"))
    assert response.status_code == 400
    assert "The product-mix shares add up to 110 %" in response.text
    assert not SteeringStandard.objects.exists()
    assert not ActivityStandard.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("calls_finder", "-1", "greater than or equal to 0"),
        ("forecast_accuracy_pct", "101", "less than or equal to 100"),
        ("visits_minder", "lots", "Enter a number"),
        ("relationship_metric", "vibes", "Select a valid choice"),
        ("mix_card", "-5", "greater than or equal to 0"),
        ("reviews_both", "", "This field is required"),
    ],
)
def test_a_bad_value_re_renders_with_the_reason(client, executive, plan_year, field, value, reason):
    client.force_login(executive)
    response = client.post(url(plan_year), form_data(**{field: value}))
    assert response.status_code == 400
    assert reason in response.text
    assert f'id="id_{field}-error"' in response.text
    assert not SteeringStandard.objects.exists()


def test_a_stale_form_does_not_overwrite_another_executives_save(client, executive, plan_year):
    other = ExecutiveFactory(username="exec_two")
    client.force_login(executive)
    opened = client.get(url(plan_year)).context["form"].initial["version"]
    client.force_login(other)
    client.post(url(plan_year), form_data(opened, forecast_accuracy_pct="90"))
    client.force_login(executive)
    response = client.post(url(plan_year), form_data(opened, forecast_accuracy_pct="70"))
    assert response.status_code == 409
    assert "Someone saved these standards after you opened them" in response.text
    assert SteeringStandard.objects.get().forecast_accuracy_pct == Decimal("90.00")
    assert response.context["form"].initial["forecast_accuracy_pct"] == Decimal("90.00")


@pytest.mark.parametrize("role", ["leader", "rm", "administrator"])
def test_others_read_the_standards_and_get_403_on_post(client, request, role, executive, plan_year):
    standards.standards_save(
        plan_year_id=plan_year.pk, by=executive, data=_input(forecast_accuracy_pct=Decimal(85))
    )
    client.force_login(request.getfixturevalue(role))
    page = client.get(url(plan_year))
    assert page.status_code == 200
    assert not page.context["can_set"]
    assert "Save standards" not in page.text
    assert "85" in page.text
    response = client.post(url(plan_year), form_data(forecast_accuracy_pct="10"))
    assert response.status_code == 403
    assert SteeringStandard.objects.get().forecast_accuracy_pct == Decimal("85.00")


def test_an_unknown_year_is_404(client, executive, plan_year):
    client.force_login(executive)
    assert client.get(reverse("planning:standards", args=[1999])).status_code == 404


def test_the_current_years_standards_are_one_link_away(client, rm, plan_year):
    client.force_login(rm)
    response = client.get(reverse("planning:standards_current"))
    assert response.url == url(plan_year)


def test_a_closed_year_is_read_only_and_refuses_a_save(client, executive, plan_year):
    PlanYear.objects.filter(pk=plan_year.pk).update(is_open=False)
    client.force_login(executive)
    assert not client.get(url(plan_year)).context["can_set"]
    response = client.post(url(plan_year), form_data())
    assert response.status_code == 409
    assert "is closed" in response.text
    assert not SteeringStandard.objects.exists()


def test_standards_page_query_count(client, executive, plan_year, django_assert_max_num_queries):
    standards.standards_save(plan_year_id=plan_year.pk, by=executive, data=_input())
    client.force_login(executive)
    # +1: the bell's unread count (org.context_processors).
    with django_assert_max_num_queries(9):
        client.get(url(plan_year))


# --- the service ----------------------------------------------------------------------------------


def _input(**overrides):
    values = {
        "forecast_accuracy_pct": Decimal(80),
        "relationship_metric": "retention",
        "activity": [
            standards.ActivityInput(style, Decimal(10), Decimal(4), Decimal(2))
            for style in ("finder", "minder", "both")
        ],
        "product_mix": {"loan": Decimal(60), "deposit": Decimal(40)},
    }
    values.update(overrides)
    return standards.StandardsInput(**values)


def test_only_executives_save_standards(leader, plan_year):
    with pytest.raises(PermissionDenied):
        standards.standards_save(plan_year_id=plan_year.pk, by=leader, data=_input())


def test_service_refuses_a_product_mix_above_100(executive, plan_year):
    with pytest.raises(ValidationError, match="more than 100"):
        standards.standards_save(
            plan_year_id=plan_year.pk,
            by=executive,
            data=_input(product_mix={"loan": Decimal(70), "card": Decimal("30.01")}),
        )
    assert not SteeringStandard.objects.exists()


def test_service_refuses_a_closed_year(executive, plan_year):
    PlanYear.objects.filter(pk=plan_year.pk).update(is_open=False)
    with pytest.raises(InvalidTransition):
        standards.standards_save(plan_year_id=plan_year.pk, by=executive, data=_input())


def test_service_refuses_negative_activity_and_rolls_back(executive, plan_year):
    bad = [standards.ActivityInput("finder", Decimal(-1), Decimal(4), Decimal(2))]
    with pytest.raises(ValidationError):
        standards.standards_save(plan_year_id=plan_year.pk, by=executive, data=_input(activity=bad))
    assert not SteeringStandard.objects.exists()
