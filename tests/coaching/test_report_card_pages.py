"""The report-card pages: who lands where, what they show, 404 outside scope, and query
counts that do not grow with RMs or ratings."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching.models import SurveyInvitation
from org.models import Role
from tests.factories import (
    AccountFactory,
    CustomerContactFactory,
    ImprovementPlanFactory,
    RmFactory,
    TeamFactory,
    UserFactory,
)

from .report_card_helpers import FEB, MAR, rate, rate_good

pytestmark = pytest.mark.django_db

YEAR = "?year=2027"


def url(name, *args, query=YEAR):
    return reverse(f"coaching:{name}", args=args) + query


@pytest.fixture
def listening(behaviours):
    return behaviours[0]


# --- landing -------------------------------------------------------------------------------


def test_rm_report_card_link_shows_the_rms_own_card(client, rm, listening):
    rate(rm, listening, MAR, 4, 2)
    client.force_login(rm)
    response = client.get(url("report_card"))
    assert response.context["card"].rm == rm
    assert "My report card" in response.content.decode()


def test_leader_report_card_link_goes_to_their_team(client, leader, team, plan_year):
    client.force_login(leader)
    response = client.get(url("report_card"))
    assert response.status_code == 302
    assert response.url == url("team_report_card", team.pk)


def test_executive_report_card_link_goes_to_the_bank(client, executive, plan_year):
    client.force_login(executive)
    response = client.get(url("report_card"))
    assert response.url == url("bank_report_card")


def test_leader_without_a_team_is_told_so(client, plan_year):
    client.force_login(UserFactory(username="teamless", role=Role.LEADER))
    assert "You do not lead a team" in client.get(url("report_card")).content.decode()


def test_unknown_plan_year_is_404(client, rm, plan_year):
    client.force_login(rm)
    assert client.get(url("report_card", query="?year=1999")).status_code == 404


# --- what the RM card shows ----------------------------------------------------------------


def test_customer_comment_is_shown_escaped(client, rm, listening):
    rate(rm, listening, MAR, 2, comment="<script>alert('x')</script> slow to answer")
    client.force_login(rm)
    body = client.get(url("report_card")).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; slow to answer" in body
    assert "<script>alert(" not in body


def test_the_surveys_general_comment_reads_as_the_surveys_not_as_one_on_listening(
    client, rm, behaviours
):
    follow_up = behaviours[1]
    contact = CustomerContactFactory(account=AccountFactory(owner=rm))
    SurveyInvitation.objects.create(
        contact=contact,
        rm=rm,
        month=MAR,
        expires_at=timezone.now(),
        used_at=timezone.now(),
        comment="Our RM understands the farm.",
    )
    rate(rm, follow_up, MAR, 2, comment="Took a week to call back")
    client.force_login(rm)
    response = client.get(url("report_card"))
    card = response.context["card"]
    assert sorted((c.behaviour, c.rating, c.text) for c in card.comments) == [
        ("", None, "Our RM understands the farm."),
        ("Follow-up", 2, "Took a week to call back"),
    ]
    assert card.comments_total == 2
    assert "on the survey" in response.text
    assert "Listening · " not in response.text


def test_comments_are_listed_latest_first(client, rm, listening):
    rate(rm, listening, FEB, 4, comment="February words")
    rate(rm, listening, MAR, 4, comment="March words")
    client.force_login(rm)
    body = client.get(url("report_card")).content.decode()
    assert body.index("March words") < body.index("February words")


def test_the_rm_does_not_see_which_customer_commented_but_the_leader_does(
    client, rm, leader, listening
):
    (rating,) = rate(rm, listening, MAR, 2, comment="Never calls back")
    name = rating.account.name
    client.force_login(rm)
    assert name not in client.get(url("report_card")).content.decode()
    client.force_login(leader)
    assert name in client.get(url("rm_report_card", rm.pk)).content.decode()


def test_behaviour_below_target_is_highlighted_with_a_prompt_for_a_plan(client, rm, listening):
    rate(rm, listening, MAR, 4, 2, 2)  # 33.33 % against 80 %
    client.force_login(rm)
    body = client.get(url("report_card")).content.decode()
    assert 'id="below-target"' in body
    assert 'class="table-warning" data-behaviour="Listening"' in body
    assert reverse("coaching:improvement_plan", args=[listening.pk]) in body


def test_the_chart_data_holds_twelve_months_per_behaviour(client, rm, listening):
    rate(rm, listening, MAR, 4, 2)
    client.force_login(rm)
    chart = client.get(url("report_card")).context["chart"]
    assert len(chart["labels"]) == 12
    assert chart["behaviours"][0]["shares"][-1] == 50.0
    assert chart["behaviours"][0]["objective"] == 80


def test_the_leader_sees_the_rms_improvement_plans_read_only(client, rm, leader, listening):
    ImprovementPlanFactory(rm=rm, behaviour=listening, actions="Summarise every call in writing")
    client.force_login(leader)
    body = client.get(url("rm_report_card", rm.pk)).content.decode()
    assert "Summarise every call in writing" in body
    assert reverse("coaching:improvement_plan", args=[listening.pk]) not in body


def test_team_card_lists_each_rm_with_score_and_most_improved(
    client, leader, team, rm, teammate, listening
):
    rate_good(rm, [listening], FEB, 1, 5)
    rate_good(rm, [listening], MAR, 4, 5)
    rate_good(teammate, [listening], MAR, 5, 5)
    client.force_login(leader)
    response = client.get(url("team_report_card", team.pk, query="?year=2027&month=2027-03"))
    body = response.content.decode()
    assert [line.subject for line in response.context["card"].lines] == sorted(
        [rm, teammate], key=lambda u: (u.last_name, u.first_name)
    )
    assert 'id="improved-month"' in body
    assert f'data-rm="{rm.username}"' in body


def test_bank_card_lists_the_teams(client, executive, rm, other_rm, listening):
    rate(rm, listening, MAR, 4)
    rate(other_rm, listening, MAR, 2)
    client.force_login(executive)
    body = client.get(url("bank_report_card")).content.decode()
    assert "North" in body
    assert "South" in body


# --- scope: 404 outside, 403 for the wrong role --------------------------------------------


def test_rm_gets_404_on_another_rms_card(client, rm, teammate, plan_year):
    client.force_login(rm)
    assert client.get(url("rm_report_card", teammate.pk)).status_code == 404


def test_leader_gets_404_on_another_teams_rm(client, leader, other_rm, plan_year):
    client.force_login(leader)
    assert client.get(url("rm_report_card", other_rm.pk)).status_code == 404


def test_leader_gets_404_on_another_teams_card(client, leader, other_team, plan_year):
    client.force_login(leader)
    assert client.get(url("team_report_card", other_team.pk)).status_code == 404


def test_rm_gets_404_on_their_own_teams_card(client, rm, team, plan_year):
    client.force_login(rm)
    assert client.get(url("team_report_card", team.pk)).status_code == 404


def test_leader_gets_404_on_another_leaders_page_as_an_rm(client, leader, other_leader, plan_year):
    # Only RMs have report cards: a leader's id is not an RM card, even one's own.
    client.force_login(leader)
    assert client.get(url("rm_report_card", leader.pk)).status_code == 404
    assert client.get(url("rm_report_card", other_leader.pk)).status_code == 404


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_bank_card_is_403_below_the_executives(client, request, who, plan_year):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("bank_report_card")).status_code == 403


def test_executive_sees_any_rms_card(client, executive, other_rm, listening):
    rate(other_rm, listening, MAR, 4)
    client.force_login(executive)
    assert client.get(url("rm_report_card", other_rm.pk)).context["card"].rm == other_rm


def test_anonymous_is_sent_to_log_in(client, rm, plan_year):
    response = client.get(url("rm_report_card", rm.pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- query counts --------------------------------------------------------------------------


def _team_of(n, behaviours):
    """A team of `n` RMs, each rated on every behaviour in February and March."""
    team = TeamFactory(leader=UserFactory(role=Role.LEADER))
    rms = RmFactory.create_batch(n, team=team)
    for rm_ in rms:
        for month in (FEB, MAR):
            rate_good(rm_, behaviours, month, 3, 5)
    return team, rms


def _count(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Session, user, the team or RM, plan year, plan years, behaviour set, RMs, latest month,
# ratings counted, behaviours (+ the RM card: improvement plans, comments, their count);
# the bell's unread count (org.context_processors, +1 since the notifications); the RM
# card + 1 for the year's relationship metric (none chosen here; with one, its line's
# queries: tests/planning/test_relationship_metric.py pins them).
TEAM_PAGE_QUERIES = 11
BANK_PAGE_QUERIES = 11
RM_PAGE_QUERIES = 13


def test_team_card_query_count_is_the_same_for_3_and_30_rms(client, behaviours):
    small, _ = _team_of(3, behaviours)
    large, _ = _team_of(30, behaviours)
    counts = []
    for team_ in (small, large):
        client.force_login(team_.leader)
        counts.append(_count(client, url("team_report_card", team_.pk)))
    assert counts[0] == counts[1] <= TEAM_PAGE_QUERIES


def test_bank_card_query_count_is_the_same_for_3_and_30_rms(client, executive, behaviours):
    _team_of(3, behaviours)
    client.force_login(executive)
    few = _count(client, url("bank_report_card"))
    _team_of(27, behaviours)
    assert few == _count(client, url("bank_report_card")) <= BANK_PAGE_QUERIES


def test_rm_card_query_count_is_the_same_for_3_and_30_ratings_with_comments(client, rm, behaviours):
    listening, follow_up = behaviours
    ImprovementPlanFactory(rm=rm, behaviour=listening, review_on=datetime.date(2027, 9, 1))
    rate(rm, listening, FEB, 4, 2, 5, comment="Helpful")
    client.force_login(rm)
    few = _count(client, url("report_card"))
    rate(rm, listening, MAR, *([4] * 15), comment="Very helpful")
    rate(rm, follow_up, MAR, *([2] * 12), comment="Slow")
    ImprovementPlanFactory(rm=rm, behaviour=follow_up, review_on=datetime.date(2027, 9, 1))
    assert few == _count(client, url("report_card")) <= RM_PAGE_QUERIES
