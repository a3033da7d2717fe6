"""Screenshots of the figures printed by salesmgmt/formatting.py (the sign-off and a target
set of the small bank), at a laptop's and a phone's width, to look at."""

import datetime
import os

import pytest

from planning.services.variances import variances_recompute
from tests.factories import PASSWORD
from tests.test_figures_by_hand import bank as bank_fixture
from tests.test_figures_by_hand import today  # noqa: F401 (the small bank's today)
from tests.test_formatting import targets as targets_fixture

SHOTS = "/tmp/shots/format13"
bank = bank_fixture
targets = targets_fixture
pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_the_sign_off_and_a_target_set_print_their_figures(page, live_server, bank, targets):
    os.makedirs(SHOTS, exist_ok=True)
    variances_recompute(today=datetime.date(2027, 7, 5))
    log_in(page, live_server, bank["executive"].username)
    pages = (("signoff", "/planning/signoff/"), ("targets", f"/planning/targets/{targets.pk}/"))
    for name, url in pages:
        page.goto(live_server.url + url)
        text = page.inner_text("main")
        # The figures as the formatting layer prints them: no exponent, a true minus sign.
        assert "E+" not in text
        if name == "signoff":  # the small bank's loans fell: -28.50 % year to date
            assert "\u221228.50" in text
        else:  # the target set's 10 % loan growth
            assert "10.00" in text
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(150)
            page.screenshot(path=f"{SHOTS}/{name}_{width}.png", full_page=True)
