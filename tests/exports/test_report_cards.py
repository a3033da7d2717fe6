"""Downloads of the report cards' tables: an RM's card (one line per behaviour), a team's
(one per RM), the bank's (one per team), and the team's or bank's shares per behaviour
(`?list=behaviours`). The month chosen, only what the user sees, shares as numbers."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from org.models import Role
from tests.coaching.report_card_helpers import FEB, MAR, rate_good
from tests.factories import (
    BehaviourFactory,
    BehaviourSetFactory,
    ExecutiveFactory,
    ImprovementPlanFactory,
    PlanYearFactory,
    RmFactory,
    TeamFactory,
    UserFactory,
)

from .download import cells, column, fetch, filename, get_csv, get_xlsx, queries, xlsx_rows

pytestmark = pytest.mark.django_db

MARCH = {"year": "2027", "month": "2027-03"}


@pytest.fixture
def plan_year(db):
    return PlanYearFactory(year=2027)


@pytest.fixture
def behaviours(plan_year, executive):
    """Listening 60 %, Follow-up 40 %, objective 80 %, approved."""
    bs = BehaviourSetFactory(
        plan_year=plan_year,
        created_by=executive,
        last_edited_by=executive,
        proposed_by=executive,
        status="approved",
        decided_by=ExecutiveFactory(username="exec_second"),
    )
    return [
        BehaviourFactory(behaviour_set=bs, name="Listening", weight=60, position=0),
        BehaviourFactory(behaviour_set=bs, name="=Follow-up", weight=40, position=1),
    ]


def card_url(name, *args):
    return reverse(f"coaching:{name}", args=args)


# --- an RM's card ------------------------------------------------------------------------------


def test_the_rms_card_downloads_one_line_per_behaviour(client, rm, behaviours):
    rate_good(rm, behaviours, MAR, 3, 5)
    rows = get_csv(client, rm, card_url("report_card"), **MARCH)
    assert rows[0][:5] == ["Behaviour", "Weight %", "Objective %", "Month", "Month %"]
    assert column(rows, "Behaviour") == ["Listening", "'=Follow-up"]
    assert column(rows, "Month") == ["2027-03-01", "2027-03-01"]
    assert column(rows, "Month %") == ["60.00", "60.00"]
    assert column(rows, "Status") == ["Below target", "Below target"]


def test_the_rms_card_in_excel_keeps_shares_as_numbers_and_names_as_text(client, rm, behaviours):
    rate_good(rm, behaviours, MAR, 4, 5)
    ws = get_xlsx(client, rm, card_url("report_card"), **MARCH)
    assert [c.value for c in cells(ws, "Year to date %")] == [80, 80]
    assert all(c.data_type == "n" for c in cells(ws, "Year to date %"))
    follow_up = cells(ws, "Behaviour")[1]
    assert (follow_up.value, follow_up.data_type, follow_up.quotePrefix) == (
        "=Follow-up",
        "s",
        True,
    )


def test_the_rms_card_download_carries_the_improvement_plan(client, rm, behaviours):
    ImprovementPlanFactory(rm=rm, behaviour=behaviours[0])
    rows = xlsx_rows(get_xlsx(client, rm, card_url("report_card"), **MARCH))
    assert column(rows, "Improvement plan") == ["Open", None]
    assert column(rows, "Review on")[0] == datetime.datetime(2027, 6, 30)


def test_the_rms_card_download_follows_the_chosen_month(client, rm, behaviours):
    rate_good(rm, behaviours, FEB, 5, 5)
    rate_good(rm, behaviours, MAR, 1, 5)
    feb = get_csv(client, rm, card_url("report_card"), year="2027", month="2027-02")
    assert column(feb, "Month %") == ["100.00", "100.00"]
    response = fetch(client, rm, card_url("report_card"), "xlsx", year="2027", month="2027-02")
    assert filename(response) == f"report-card-{rm.username}-2027-02.xlsx"


def test_another_teams_rm_card_download_is_404(client, leader, other_rm, behaviours):
    client.force_login(leader)
    url = card_url("rm_report_card", other_rm.pk)
    assert client.get(url, {"format": "csv", **MARCH}).status_code == 404


# --- a team's card -----------------------------------------------------------------------------


def test_the_team_card_downloads_one_line_per_rm_of_the_team(
    client, leader, team, rm, teammate, other_rm, behaviours
):
    rate_good(rm, behaviours, MAR, 4, 5)
    rate_good(other_rm, behaviours, MAR, 4, 5)
    rows = get_csv(client, leader, card_url("team_report_card", team.pk), **MARCH)
    assert rows[0][:4] == ["RM", "Username", "Month", "Score %"]
    assert sorted(column(rows, "Username")) == sorted([rm.username, teammate.username])
    scores = dict(zip(column(rows, "Username"), column(rows, "Score %"), strict=True))
    assert scores == {rm.username: "80.00", teammate.username: ""}


def test_the_team_card_in_excel_counts_ratings_as_numbers(client, leader, team, rm, behaviours):
    rate_good(rm, behaviours, MAR, 4, 5)
    rows = xlsx_rows(get_xlsx(client, leader, card_url("team_report_card", team.pk), **MARCH))
    (line,) = [r for r in rows[1:] if r[1] == rm.username]
    assert line[rows[0].index("Ratings")] == 10
    assert line[rows[0].index("Score %")] == 80


def test_the_teams_shares_per_behaviour_download_with_list_behaviours(
    client, leader, team, rm, behaviours
):
    rate_good(rm, behaviours, MAR, 4, 5)
    rows = get_csv(
        client, leader, card_url("team_report_card", team.pk), list="behaviours", **MARCH
    )
    assert rows[0] == ["Behaviour", "Weight %", "Objective %", "Year to date %", "Status"]
    assert column(rows, "Year to date %") == ["80.00", "80.00"]
    assert column(rows, "Status") == ["On target", "On target"]


def test_another_teams_card_download_is_404(client, leader, other_team, behaviours):
    client.force_login(leader)
    url = card_url("team_report_card", other_team.pk)
    assert client.get(url, {"format": "xlsx", **MARCH}).status_code == 404


def _team_of(n, behaviours):
    team = TeamFactory(leader=UserFactory(role=Role.LEADER))
    for rm in RmFactory.create_batch(n, team=team):
        rate_good(rm, behaviours, MAR, 3, 5)
    return team


def test_the_team_card_download_queries_do_not_grow_with_rms(client, behaviours):
    counts = []
    for team in (_team_of(2, behaviours), _team_of(25, behaviours)):
        client.force_login(team.leader)
        counts.append(queries(client, card_url("team_report_card", team.pk), "xlsx", **MARCH))
    assert counts[0] == counts[1] == 8


# --- the bank's card ---------------------------------------------------------------------------


def test_the_bank_card_downloads_one_line_per_team(
    client, executive, team, other_team, rm, other_rm, behaviours
):
    rate_good(rm, behaviours, MAR, 4, 5)
    rows = get_csv(client, executive, card_url("bank_report_card"), **MARCH)
    assert rows[0][:3] == ["Team", "Leader", "RMs"]
    assert sorted(column(rows, "Team")) == sorted([team.name, other_team.name])
    scores = dict(zip(column(rows, "Team"), column(rows, "Score %"), strict=True))
    assert scores[team.name] == "80.00"


def test_the_banks_shares_per_behaviour_in_excel(client, executive, rm, behaviours):
    rate_good(rm, behaviours, MAR, 4, 5)
    ws = get_xlsx(client, executive, card_url("bank_report_card"), list="behaviours", **MARCH)
    assert [c.value for c in cells(ws, "Weight %")] == [60, 40]
    assert [c.value for c in cells(ws, "Objective %")] == [80, 80]


def test_a_leader_gets_403_on_the_bank_card_download(client, leader, behaviours):
    client.force_login(leader)
    assert client.get(card_url("bank_report_card"), {"format": "csv"}).status_code == 403


def test_the_bank_card_download_queries_do_not_grow_with_teams(client, executive, behaviours):
    client.force_login(executive)
    _team_of(2, behaviours)
    few = queries(client, card_url("bank_report_card"), "csv", **MARCH)
    for _ in range(5):
        _team_of(4, behaviours)
    assert queries(client, card_url("bank_report_card"), "csv", **MARCH) == few == 8


def test_the_team_card_offers_both_tables_for_download(client, leader, team, behaviours):
    client.force_login(leader)
    url = card_url("team_report_card", team.pk)
    body = client.get(url, MARCH).content.decode()
    assert f'href="{url}?year=2027&amp;month=2027-03&amp;format=xlsx"' in body
    assert f'href="{url}?year=2027&amp;month=2027-03&amp;list=behaviours&amp;format=csv"' in body


def test_shares_are_decimals_in_the_csv(client, rm, behaviours):
    rate_good(rm, behaviours, MAR, 2, 3)
    (share, _) = column(get_csv(client, rm, card_url("report_card"), **MARCH), "Month %")
    assert Decimal(share) == Decimal("66.67")
