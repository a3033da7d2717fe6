"""The pipeline's figures (accounts.selectors.pipeline.pipeline_figures), worked out by hand
(docs/metrics.md, "Pipeline")."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.selectors import pipeline as selectors
from tests.factories import AccountFactory, OpportunityFactory

from .conftest import OpportunityChangeFactory, at

pytestmark = pytest.mark.django_db

START, END = datetime.date(2026, 1, 1), datetime.date(2026, 12, 4)


def figures(user):
    return selectors.pipeline_figures(selectors.pipeline_list(user), start=START, end=END)


def closed(account, status, on, amount="1000"):
    return OpportunityFactory(
        account=account,
        status=status,
        closed_on=on,
        created_on=min(on, datetime.date(2026, 1, 5)),
        amount=Decimal(amount),
    )


def test_win_rate_is_won_over_won_and_lost_closed_in_the_period(rm, account):
    closed(account, "won", datetime.date(2026, 3, 1), amount="500")
    closed(account, "won", datetime.date(2026, 6, 1), amount="700")
    closed(account, "lost", datetime.date(2026, 7, 1))
    closed(account, "lost", datetime.date(2026, 8, 1))
    closed(account, "won", datetime.date(2025, 12, 31))  # the year before: left out
    OpportunityFactory(account=account)  # open: neither
    f = figures(rm)
    # 2 won, 2 lost in the period: 2 / (2 + 2) = 50 %.
    assert (f.won, f.lost, f.win_rate, f.won_amount) == (2, 2, Decimal(50), Decimal("1200.00"))


def test_no_closed_deal_has_no_win_rate(rm, account):
    assert figures(rm).win_rate is None


def test_days_per_stage_counts_the_stages_a_deal_has_left(rm, account):
    deal = OpportunityFactory(account=account)
    # Opened at lead on 1 Mar, qualified on 11 Mar (10 days at lead), proposal on 11 Apr
    # (31 days qualified), won on 21 Apr (10 days at proposal).
    OpportunityChangeFactory(
        opportunity=deal,
        changed_at=at(datetime.date(2026, 3, 1)),
        to_stage="lead",
        to_status="open",
    )
    OpportunityChangeFactory(
        opportunity=deal,
        changed_at=at(datetime.date(2026, 3, 11)),
        from_stage="lead",
        to_stage="qualified",
    )
    OpportunityChangeFactory(
        opportunity=deal,
        changed_at=at(datetime.date(2026, 4, 11)),
        from_stage="qualified",
        to_stage="proposal",
    )
    OpportunityChangeFactory(
        opportunity=deal,
        changed_at=at(datetime.date(2026, 4, 21)),
        from_status="open",
        to_status="won",
    )
    other = OpportunityFactory(account=account)
    # A second deal: 20 days at lead, still qualified (a stage not yet left: not counted).
    OpportunityChangeFactory(
        opportunity=other, changed_at=at(datetime.date(2026, 5, 1)), to_stage="lead"
    )
    OpportunityChangeFactory(
        opportunity=other,
        changed_at=at(datetime.date(2026, 5, 21)),
        from_stage="lead",
        to_stage="qualified",
    )
    days = {s.stage: (s.stints, s.average) for s in figures(rm).stage_days}
    # Lead: (10 + 20) / 2 = 15; qualified: 31 / 1; proposal: 10 / 1.
    assert days["lead"] == (2, Decimal(15))
    assert days["qualified"] == (1, Decimal(31))
    assert days["proposal"] == (1, Decimal(10))
    assert days["negotiation"] == (0, None)


def test_a_deal_whose_close_date_moved_out_slipped(rm, account):
    slipped = OpportunityFactory(account=account)
    OpportunityChangeFactory(
        opportunity=slipped,
        changed_at=at(datetime.date(2026, 6, 1)),
        from_expected_close=datetime.date(2026, 9, 30),
        to_expected_close=datetime.date(2026, 12, 31),
    )
    pulled_in = OpportunityFactory(account=account)
    OpportunityChangeFactory(
        opportunity=pulled_in,
        changed_at=at(datetime.date(2026, 6, 1)),
        from_expected_close=datetime.date(2026, 12, 31),
        to_expected_close=datetime.date(2026, 9, 30),
    )
    assert [o.pk for o in figures(rm).slipped] == [slipped.pk]


def test_figures_follow_the_viewers_scope(rm, other_rm, account):
    closed(account, "won", datetime.date(2026, 3, 1))
    closed(AccountFactory(owner=other_rm), "lost", datetime.date(2026, 3, 1))
    assert (figures(rm).won, figures(rm).lost) == (1, 0)
    assert (figures(other_rm).won, figures(other_rm).lost) == (0, 1)


def test_the_list_page_shows_the_figures_for_the_rm_chosen(client, leader, rm, teammate):
    closed(AccountFactory(owner=rm), "won", datetime.date(2026, 3, 1))
    closed(AccountFactory(owner=teammate), "lost", datetime.date(2026, 3, 1))
    client.force_login(leader)
    team = client.get(reverse("accounts:pipeline")).context["figures"]
    one = client.get(reverse("accounts:pipeline"), {"rm": rm.pk}).context["figures"]
    assert (team.won, team.lost) == (1, 1)
    assert (one.won, one.lost) == (1, 0)
