"""How numbers are printed (docs/metrics.md, "How numbers are printed"): one module,
salesmgmt/formatting.py, on Django's localisation; every page's figures through it."""

import datetime
import re
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from planning.models import TargetSet
from planning.services.variances import variances_recompute
from salesmgmt import exports, formatting

from .factories import ExecutiveFactory, TargetLineFactory, TargetSetFactory, metric
from .test_figures_by_hand import bank, today  # noqa: F401 (fixtures: the small bank)

D = Decimal
MINUS = "\u2212"
NBSP = "\u00a0"


# --- the module ---------------------------------------------------------------------------------


def test_a_normalised_decimal_prints_in_digits_never_as_an_exponent():
    # Decimal("10.00").normalize() is Decimal("1E+1"): str() of it printed "1E+1 %".
    assert formatting.percent(D("10.00").normalize()) == f"10.00{NBSP}%"
    assert formatting.number(D("1E+1"), 0) == "10"
    assert formatting.figure(D("1.5E+3"), "money") == "1,500"


def test_a_whole_count_prints_without_decimals():
    assert formatting.count(D("10.0")) == "10"
    assert formatting.figure(D("10.00"), "count") == "10"
    assert formatting.count(D("2.5")) == "2.50"


def test_a_negative_figure_carries_a_true_minus_sign():
    assert formatting.money(D("-1234.4")) == f"{MINUS}1,234"
    assert formatting.signed(D("-3"), "count") == f"{MINUS}3"
    assert formatting.points(D("-2.6")) == f"{MINUS}2.60{NBSP}pp"
    assert formatting.signed_percent(D("-2")) == f"{MINUS}2.0{NBSP}%"


def test_what_rounds_to_nothing_has_no_sign():
    assert formatting.number(D("-0.004"), 2) == "0.00"
    assert formatting.signed(D("-0.004"), "percent") == f"0.00{NBSP}%"
    assert formatting.signed(D("0.004"), "count") == "0.00"


def test_money_is_grouped_in_thousands_and_names_the_banks_currency_where_asked():
    assert formatting.money(D("1234567.5")) == "1,234,568"
    assert formatting.money(D("1234567.5"), currency=True) == f"1,234,568{NBSP}EUR"


@override_settings(BANK_CURRENCY="CHF")
def test_the_currency_is_a_setting():
    assert formatting.money(1000, currency=True) == f"1,000{NBSP}CHF"


def test_a_figure_has_the_decimals_of_its_metrics_unit():
    assert formatting.figure(D("4.256"), "percent") == f"4.26{NBSP}%"
    assert formatting.figure(D("4.256"), "%") == f"4.26{NBSP}%"  # the unit as displayed
    assert formatting.figure(D("2.5"), "ratio") == "2.50"
    assert formatting.figure(D("1250000.40"), "money") == "1,250,000"


def test_nothing_prints_as_a_dash():
    assert formatting.figure(None, "money") == "—"
    assert formatting.signed("", "percent") == "—"


def test_a_date_prints_in_the_one_format_of_the_locale():
    assert formatting.date(datetime.date(2026, 12, 4)) == "4 Dec 2026"
    assert formatting.date("2026-12-04") == "4 Dec 2026"


@override_settings(LANGUAGE_CODE="de")
def test_a_bank_in_another_locale_changes_one_setting():
    with translation.override("de"):
        assert formatting.money(D("1234567.5"), currency=True) == f"1.234.568{NBSP}EUR"
        assert formatting.percent(D("4.25")) == f"4,25{NBSP}%"
        assert formatting.points(D("-2.6")) == f"{MINUS}2,60{NBSP}pp"
        assert formatting.date(datetime.date(2026, 12, 4)) == "4. Dezember 2026"


def test_a_csv_cell_is_plain_digits_for_a_machine():
    assert exports.neutralise(D("1E+1")) == "10"
    assert exports.neutralise(D("-1.50")) == "-1.50"  # machine-readable: an ASCII minus


# --- the pages ----------------------------------------------------------------------------------

EXPONENT = re.compile(r"\d[eE][+-]\d")
# A figure cell's text (the num and figure classes carry the numbers of every page).
FIGURE_CELL = re.compile(r'class="[^"]*\b(?:num|figure)\b[^"]*"[^>]*>(.*?)</(?:td|div|th)>', re.S)
TAG = re.compile(r"<[^>]+>")


def figures(html: str) -> list[str]:
    return [TAG.sub("", cell).strip() for cell in FIGURE_CELL.findall(html)]


@pytest.fixture
def targets(bank):  # noqa: F811
    """A second bank target set with a count line and a whole percentage (10 %, 12 new)."""
    author = ExecutiveFactory()
    team_set = TargetSetFactory(
        plan_year=bank["plan_year"],
        scope="team",
        team=bank["north"],
        created_by=author,
        last_edited_by=author,
        status=TargetSet.Status.DRAFT,
    )
    TargetLineFactory(target_set=team_set, metric=metric("loan_growth"), value=D("10.00"))
    TargetLineFactory(target_set=team_set, metric=metric("new_relationships"), value=D("12.00"))
    return team_set


@pytest.mark.django_db
def test_the_main_pages_print_no_exponent_no_point_zero_count_and_no_hyphen_minus(
    client,
    bank,  # noqa: F811
    targets,
):
    variances_recompute(today=datetime.date(2027, 7, 5))
    client.force_login(bank["executive"])
    pages = [
        reverse("planning:signoff"),
        reverse("planning:target_set", args=[targets.pk]),
        reverse("retention:retention"),
        reverse("org:bank"),
    ]
    negatives = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not EXPONENT.search(html), url
        assert ".0 count" not in html, url
        assert ".00 count" not in html, url
        for cell in figures(html):
            assert not re.search(r"(?<![\w-])-\d", cell), (url, cell)
            negatives += MINUS in cell
    assert negatives  # the bank's loans fell: the sign-off shows it with a true minus
    detail = client.get(pages[1]).content.decode()
    assert f"10.00{NBSP}%" in detail  # the whole percentage at its unit's decimals
    assert ">12<" in detail.replace(" ", "")  # the count, whole
