"""Downloads of the planning lists: Team plans, relationship plans, the targets list and the
bank against its targets (plan versus actual, on the sign-off page). The page's rows, only
what the user sees, the year chosen, formulas neutralised, numbers kept, queries fixed."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from planning.models import ActivityStandard, TargetSet
from planning.services import targets as target_services
from tests.factories import (
    AccountFactory,
    ExecutiveFactory,
    PlanYearFactory,
    RelationshipPlanFactory,
    RmFactory,
    TargetLineFactory,
    TargetSetFactory,
    TerritoryPlanFactory,
    TierFactory,
    metric,
)

from .download import (
    cells,
    column,
    fetch,
    filename,
    get_csv,
    get_xlsx,
    no_formula_in_csv,
    queries,
    xlsx_rows,
)

pytestmark = pytest.mark.django_db

TEAM_PLANS = reverse("planning:team_plans")
RELATIONSHIP_PLANS = reverse("planning:relationship_plans")
TARGETS = reverse("planning:target_sets")
SIGNOFF = reverse("planning:signoff")


@pytest.fixture
def plan_year():
    year = PlanYearFactory(year=2027)
    for style in ("finder", "minder", "both"):
        ActivityStandard.objects.create(
            plan_year=year, rm_style=style, calls_per_week=10, visits_per_week=4, reviews_per_week=2
        )
    return year


# --- Team plans --------------------------------------------------------------------------------


def test_team_plans_download_has_the_leaders_rms_only(
    client, leader, rm, teammate, other_rm, plan_year
):
    TerritoryPlanFactory(rm=rm, plan_year=plan_year)
    rows = get_csv(client, leader, TEAM_PLANS)
    assert rows[0][:6] == ["RM", "Team", "Style", "Plan", "Sections done", "Sections"]
    assert sorted(column(rows, "RM")) == sorted([str(rm), str(teammate)])
    assert str(other_rm) not in column(rows, "RM")


def test_team_plans_download_says_which_plans_are_not_started(
    client, leader, rm, teammate, plan_year
):
    TerritoryPlanFactory(rm=rm, plan_year=plan_year)
    rows = get_csv(client, leader, TEAM_PLANS)
    status = dict(zip(column(rows, "RM"), column(rows, "Plan"), strict=True))
    assert status == {str(rm): "Draft", str(teammate): "Not started"}


def test_team_plans_in_excel_keep_counts_as_numbers(client, leader, rm, plan_year):
    TerritoryPlanFactory(rm=rm, plan_year=plan_year)
    rows = xlsx_rows(get_xlsx(client, leader, TEAM_PLANS))
    (line,) = [r for r in rows[1:] if r[0] == str(rm)]
    header = rows[0]
    assert line[header.index("Sections done")] == 0
    assert line[header.index("Sections")] > 0
    assert isinstance(line[header.index("Last change")], datetime.datetime)


def test_team_plans_download_neutralises_a_formula_in_a_name(client, leader, team, plan_year):
    RmFactory(team=team, first_name="=cmd|' /C calc'!A0", last_name="x")
    rows = get_csv(client, leader, TEAM_PLANS)
    assert "'=cmd|' /C calc'!A0 x" in column(rows, "RM")
    assert no_formula_in_csv(rows)


def test_an_executive_downloads_every_teams_plans(client, executive, rm, other_rm, plan_year):
    rows = get_csv(client, executive, TEAM_PLANS)
    assert {str(rm), str(other_rm)} <= set(column(rows, "RM"))


def test_an_rm_gets_403_on_the_team_plans_download(client, rm, plan_year):
    client.force_login(rm)
    assert client.get(TEAM_PLANS, {"format": "csv"}).status_code == 403


def test_team_plans_download_queries_do_not_grow_with_rms(client, leader, team, plan_year):
    client.force_login(leader)
    for _ in range(2):
        TerritoryPlanFactory(rm=RmFactory(team=team), plan_year=plan_year)
    few = queries(client, TEAM_PLANS, "xlsx")
    for _ in range(20):
        TerritoryPlanFactory(rm=RmFactory(team=team), plan_year=plan_year)
    assert queries(client, TEAM_PLANS, "xlsx") == few == 14  # as the page's selector


def test_team_plans_page_offers_both_downloads(client, leader, plan_year):
    client.force_login(leader)
    body = client.get(TEAM_PLANS).content.decode()
    assert f'href="{TEAM_PLANS}?format=csv"' in body
    assert f'href="{TEAM_PLANS}?format=xlsx"' in body


# --- relationship plans ------------------------------------------------------------------------


def test_relationship_plans_download_has_the_leaders_team_only(
    client, leader, rm, other_rm, plan_year
):
    mine = RelationshipPlanFactory(account__owner=rm, plan_year=plan_year)
    RelationshipPlanFactory(account__owner=other_rm, plan_year=plan_year)
    rows = get_csv(client, leader, RELATIONSHIP_PLANS)
    assert rows[0][:5] == ["Tier", "Number", "Account", "Owner", "Plan"]
    assert column(rows, "Number") == [mine.account.number]
    assert column(rows, "Intent") == ["Must keep"]


def test_an_rms_relationship_plans_download_lists_their_accounts_plan_or_not(client, rm, plan_year):
    planned = RelationshipPlanFactory(account__owner=rm, plan_year=plan_year).account
    bare = AccountFactory(owner=rm, tier=TierFactory(code="A"), name="Zeta Farms")
    rows = get_csv(client, rm, RELATIONSHIP_PLANS)
    assert column(rows, "Number") == [planned.number, bare.number]
    assert column(rows, "Plan") == ["yes", "no"]


def test_relationship_plans_in_excel_count_actions_as_numbers(client, leader, rm, plan_year):
    RelationshipPlanFactory(account__owner=rm, plan_year=plan_year)
    rows = xlsx_rows(get_xlsx(client, leader, RELATIONSHIP_PLANS))
    assert (column(rows, "Open actions"), column(rows, "Actions")) == ([0], [0])


def test_relationship_plans_download_queries_do_not_grow_with_plans(client, leader, rm, plan_year):
    client.force_login(leader)
    RelationshipPlanFactory.create_batch(2, account__owner=rm, plan_year=plan_year)
    few = queries(client, RELATIONSHIP_PLANS, "csv")
    RelationshipPlanFactory.create_batch(25, account__owner=rm, plan_year=plan_year)
    assert queries(client, RELATIONSHIP_PLANS, "csv") == few == 5


# --- the targets list --------------------------------------------------------------------------


def test_targets_download_lists_the_bank_the_leaders_team_and_its_rms(
    client, leader, team, rm, teammate, other_team, other_rm, plan_year
):
    TargetSetFactory(plan_year=plan_year, team=team)
    TargetSetFactory(plan_year=plan_year, team=other_team)
    rows = get_csv(client, leader, TARGETS)
    assert rows[0][:4] == ["Scope", "Subject", "Team", "Status"]
    subjects = list(zip(column(rows, "Scope"), column(rows, "Subject"), strict=True))
    assert ("Team", team.name) in subjects
    assert ("Bank", "Bank") in subjects
    assert {("RM", str(rm)), ("RM", str(teammate))} <= set(subjects)
    assert ("Team", other_team.name) not in subjects
    assert ("RM", str(other_rm)) not in subjects


def test_targets_download_says_status_revision_and_weights(client, leader, team, plan_year):
    ts = TargetSetFactory(plan_year=plan_year, team=team)
    TargetLineFactory(target_set=ts, weight=60)
    TargetLineFactory(target_set=ts, weight=40, metric=metric("deposit_growth"))
    ws = get_xlsx(client, leader, TARGETS)
    rows = xlsx_rows(ws)
    (line,) = [r for r in rows[1:] if r[0] == "Team"]
    header = rows[0]
    assert line[header.index("Status")] == "Draft"
    assert line[header.index("Revision")] == 1
    assert line[header.index("Lines")] == 2
    assert line[header.index("Weights %")] == 100


def test_targets_download_follows_the_chosen_year(client, leader, team, plan_year):
    other_year = PlanYearFactory(year=2026)
    TargetSetFactory(plan_year=other_year, team=team)
    response = fetch(client, leader, TARGETS, "csv", year="2026")
    assert filename(response) == "targets-2026.csv"
    rows = get_csv(client, leader, TARGETS, year="2026")
    (team_row,) = [r for r in rows[1:] if r[0] == "Team"]
    assert team_row[3] == "Draft"
    rows = get_csv(client, leader, TARGETS, year="2027")
    (team_row,) = [r for r in rows[1:] if r[0] == "Team"]
    assert team_row[3] == "No targets yet"


def rm_targets(plan_year, rm, leader):
    return TargetSetFactory(
        plan_year=plan_year, scope="rm", team=None, rm=rm, created_by=leader, last_edited_by=leader
    )


def test_targets_download_queries_do_not_grow_with_rms(client, leader, team, plan_year):
    client.force_login(leader)
    for _ in range(2):
        rm_targets(plan_year, RmFactory(team=team), leader)
    few = queries(client, TARGETS, "csv")
    for _ in range(20):
        rm_targets(plan_year, RmFactory(team=team), leader)
    assert queries(client, TARGETS, "csv") == few == 7


# --- the bank against its targets (plan versus actual) -----------------------------------------


def approved_bank_set(plan_year, executive):
    proposer = ExecutiveFactory(username="exec_proposer")
    bank = target_services.target_set_create(plan_year=plan_year, scope="bank", by=proposer)
    TargetLineFactory(target_set=bank, value=Decimal("12.50"))
    TargetSet.objects.filter(pk=bank.pk).update(growth_share_pct=60)
    target_services.target_set_propose(target_set_id=bank.pk, by=proposer)
    return target_services.target_set_approve(target_set_id=bank.pk, by=executive)


def test_the_bank_against_its_targets_downloads_for_the_executive(client, executive, plan_year):
    approved_bank_set(plan_year, executive)
    rows = get_csv(client, executive, SIGNOFF)
    assert rows[0] == [
        "Metric",
        "Unit",
        "Target",
        "Planned to date",
        "Actual",
        "Difference",
        "Difference in",
        "Source",
        "As of",
        "Revision",
    ]
    assert column(rows, "Metric") == [metric("loan_growth").name]
    assert column(rows, "Target") == ["12.50"]
    assert column(rows, "Source") == ["live"]


def test_the_bank_against_its_targets_in_excel_keeps_the_target_a_number(
    client, executive, plan_year
):
    approved_bank_set(plan_year, executive)
    (target,) = cells(get_xlsx(client, executive, SIGNOFF), "Target")
    assert (target.value, target.data_type) == (12.5, "n")


def test_without_approved_bank_targets_the_download_has_only_the_header(
    client, executive, plan_year
):
    assert len(get_csv(client, executive, SIGNOFF)) == 1


@pytest.mark.parametrize("who", ["rm", "leader", "administrator"])
def test_only_executives_download_the_bank_against_its_targets(client, request, who, plan_year):
    client.force_login(request.getfixturevalue(who))
    assert client.get(SIGNOFF, {"format": "csv"}).status_code == 403
