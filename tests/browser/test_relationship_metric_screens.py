"""The relationship metric's line on My week, the report card and compensation, in the
browser at a laptop's and a phone's width (screenshots for a person to look at)."""

import os

import pytest

from tests.factories import PASSWORD, BehaviourFactory, BehaviourSetFactory, ExecutiveFactory
from tests.planning.test_relationship_metric import book as book_fixture
from tests.planning.test_relationship_metric import choose
from tests.planning.test_relationship_metric import plan_year as plan_year_fixture

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("FLIGHTPATH_SHOTS", "/tmp/shots/relmetric13")

book = book_fixture
plan_year = plan_year_fixture


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def shoot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        page.screenshot(path=f"{SHOTS}/{name}_{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_the_chosen_metric_reads_the_same_on_the_three_screens(
    page, live_server, rm, plan_year, book
):
    BehaviourFactory(behaviour_set=BehaviourSetFactory(plan_year=plan_year))
    choose(plan_year, "retention")
    executive = ExecutiveFactory(username="exec_shots")
    log_in(page, live_server, rm.username)
    page.goto(live_server.url + "/accounts/week/")
    assert "25.00" in page.locator("#relationship-metric").inner_text()
    shoot(page, "my_week")
    page.goto(live_server.url + "/coaching/report-card/?year=2027")
    assert "25.00" in page.locator("#relationship-metric").inner_text()
    shoot(page, "report_card")
    page.context.clear_cookies()
    log_in(page, live_server, executive.username)
    page.goto(live_server.url + "/coaching/report-card/compensation/?year=2027")
    assert "25.00" in page.locator(f'tr[data-rm="{rm.username}"] .relationship-metric').inner_text()
    shoot(page, "compensation")
