"""Retention over the API (docs/api.md): risk scores, departure cases and campaigns.

The same access layer and services as the pages: outside scope is 404 (a row absent from a
list), inside scope but not allowed is 403, the wrong state is 409, bad input is 400 naming
the field; lists are paginated and cost the same queries for any size.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import Account
from retention.models import Campaign, CoverageChange, DepartureCase, HandoverReview
from retention.services import departures as departure_services
from tests.api.urls import detail_url, ids, list_url
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignAccountFactory,
    CampaignFactory,
    DepartureCaseFactory,
    RiskScoreFactory,
    RmFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

NOTICE = datetime.date(2027, 3, 1)
LAST_DAY = datetime.date(2027, 3, 31)
OUTSIDERS = ["other_rm", "other_leader"]


@pytest.fixture
def score(account):
    return RiskScoreFactory(account=account, score=55)


@pytest.fixture
def case(rm, leader, account):
    """`rm` (owner of `account`, a major tier-B account) is leaving; opened by the leader."""
    return DepartureCaseFactory(rm=rm, opened_by=leader)


@pytest.fixture
def replaced_case(case, leader, teammate):
    """The teammate replaces `rm`: onboarding, `account` waits for its review."""
    return departure_services.replacement_assign(
        case_id=case.pk, by=leader, replacement_id=teammate.pk, on=datetime.date(2027, 3, 15)
    )


@pytest.fixture
def closed_case(replaced_case, teammate, account):
    departure_services.handover_review(case_id=replaced_case.pk, by=teammate, account_id=account.pk)
    replaced_case.refresh_from_db()
    assert replaced_case.closed_on is not None
    return replaced_case


@pytest.fixture
def campaign():
    return CampaignFactory(name="Spring cash management")


@pytest.fixture
def entry(campaign, account):
    return CampaignAccountFactory(campaign=campaign, account=account)


def action_url(pk, name):
    return reverse(f"api:departure-case-{name}", args=[pk])


def board_url(case):
    return reverse("api:case-account-list", kwargs={"case_pk": case.pk})


def entries_url(campaign):
    return reverse("api:campaign-account-list", kwargs={"campaign_pk": campaign.pk})


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def coverage_body(*accounts, to=None):
    return {"accounts": [a.pk for a in accounts], "covering_rm": to.pk if to else None}


# --- IDOR matrix: risk scores ---------------------------------------------------------------


@pytest.mark.parametrize("outsider", [*OUTSIDERS, "teammate"])
def test_another_teams_user_gets_404_for_a_risk_score(api, score, outsider, request):
    client = api(request.getfixturevalue(outsider))
    assert client.get(detail_url("risk-score", score.pk)).status_code == 404
    assert score.pk not in ids(client.get(list_url("risk-score")))


@pytest.mark.parametrize("insider", ["rm", "leader", "executive", "administrator"])
def test_whoever_sees_the_account_sees_its_risk_score(api, score, insider, request):
    client = api(request.getfixturevalue(insider))
    assert score.pk in ids(client.get(list_url("risk-score")))
    assert client.get(detail_url("risk-score", score.pk)).json()["score"] == 55


def test_the_covering_rm_sees_the_covered_accounts_score(api, score, account, other_rm):
    account.covering_rm = other_rm
    account.save()
    assert api(other_rm).get(detail_url("risk-score", score.pk)).status_code == 200


def test_risk_scores_are_read_only(api, score, leader):
    client = api(leader)
    assert post(client, list_url("risk-score"), {}).status_code == 405
    assert client.delete(detail_url("risk-score", score.pk)).status_code == 405


# --- IDOR matrix: departure cases -----------------------------------------------------------


@pytest.mark.parametrize("outsider", [*OUTSIDERS, "teammate", "rm"])
def test_a_departure_case_outside_scope_is_404_and_absent(api, case, outsider, request):
    # The leaving RM does not see the case about them either.
    client = api(request.getfixturevalue(outsider))
    assert client.get(detail_url("departure-case", case.pk)).status_code == 404
    assert case.pk not in ids(client.get(list_url("departure-case")))


@pytest.mark.parametrize("insider", ["leader", "executive", "administrator"])
def test_the_leader_and_the_whole_bank_see_the_case(api, case, insider, request):
    client = api(request.getfixturevalue(insider))
    assert case.pk in ids(client.get(list_url("departure-case")))
    assert client.get(detail_url("departure-case", case.pk)).json()["id"] == case.pk


def test_the_replacement_sees_their_case(api, replaced_case, teammate):
    assert replaced_case.pk in ids(api(teammate).get(list_url("departure-case")))


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("assign-coverage", {"accounts": [1], "covering_rm": None}),
        ("assign-replacement", {"replacement": 1, "on": "2027-03-15"}),
        ("review-handover", {"account": 1}),
    ],
)
def test_every_action_on_a_case_outside_scope_is_404(
    api, replaced_case, outsider, name, body, request
):
    response = post(
        api(request.getfixturevalue(outsider)), action_url(replaced_case.pk, name), body
    )
    assert response.status_code == 404


@pytest.mark.parametrize("outsider", [*OUTSIDERS, "teammate", "rm"])
def test_a_cases_accounts_outside_scope_are_404(api, case, outsider, request):
    client = api(request.getfixturevalue(outsider))
    assert client.get(board_url(case)).status_code == 404
    assert client.get(action_url(case.pk, "candidates")).status_code == 404


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_an_action_outside_scope_changes_nothing(api, case, account, outsider, request, teammate):
    client = api(request.getfixturevalue(outsider))
    post(client, action_url(case.pk, "assign-coverage"), coverage_body(account, to=teammate))
    account.refresh_from_db()
    assert account.covering_rm is None


# --- IDOR matrix: campaigns -----------------------------------------------------------------


@pytest.mark.parametrize("outsider", [*OUTSIDERS, "teammate"])
def test_a_campaigns_list_leaves_out_accounts_the_viewer_does_not_see(
    api, entry, campaign, outsider, request
):
    assert entry.pk not in ids(api(request.getfixturevalue(outsider)).get(entries_url(campaign)))


@pytest.mark.parametrize("insider", ["rm", "leader", "executive", "administrator"])
def test_the_owner_leader_and_whole_bank_see_the_listed_account(
    api, entry, campaign, insider, request
):
    assert entry.pk in ids(api(request.getfixturevalue(insider)).get(entries_url(campaign)))


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_campaigns_are_the_banks_but_count_only_the_viewers_accounts(
    api, entry, campaign, outsider, request
):
    client = api(request.getfixturevalue(outsider))
    rows = client.get(list_url("campaign")).json()["results"]
    assert [(r["id"], r["listed"]) for r in rows] == [(campaign.pk, 0)]
    detail = client.get(detail_url("campaign", campaign.pk)).json()
    assert (detail["listed"], detail["figures"]["listed"]) == (0, 0)


def test_the_owner_counts_their_listed_account(api, entry, campaign, rm):
    detail = api(rm).get(detail_url("campaign", campaign.pk)).json()
    assert (detail["listed"], detail["figures"]["listed"], detail["figures"]["scope"]) == (
        1,
        1,
        "own",
    )


def test_the_list_of_a_campaign_that_does_not_exist_is_404(api, rm):
    assert api(rm).get("/api/v1/campaigns/999999/accounts/").status_code == 404


# --- 403 inside scope -----------------------------------------------------------------------


def notice_body(rm, **changes):
    return {"rm": rm.pk, "notice_on": "2027-03-01", "last_day": "2027-03-31"} | changes


@pytest.mark.parametrize("who", ["rm", "teammate", "executive"])
def test_only_a_leader_or_an_administrator_opens_a_case_403(api, rm, who, request):
    response = post(api(request.getfixturevalue(who)), list_url("departure-case"), notice_body(rm))
    assert response.status_code == 403
    assert not DepartureCase.objects.exists()


def test_the_role_is_checked_before_the_body_403_not_400(api, teammate):
    response = post(api(teammate), list_url("departure-case"), {"rm": "junk"})
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["assign-coverage", "assign-replacement"])
def test_an_executive_reads_a_case_but_does_not_run_it_403(api, case, executive, name):
    response = post(api(executive), action_url(case.pk, name), {})
    assert response.status_code == 403


def test_an_executive_is_not_offered_the_candidates_403(api, case, executive):
    assert api(executive).get(action_url(case.pk, "candidates")).status_code == 403


def test_the_leader_does_not_mark_the_handover_reviewed_403(api, replaced_case, leader, account):
    response = post(api(leader), action_url(replaced_case.pk, "review-handover"), {"account": 1})
    assert response.status_code == 403
    assert not HandoverReview.objects.exists()


def campaign_body(**changes):
    return {
        "name": "Autumn deposits",
        "starts_on": "2027-09-01",
        "ends_on": "2027-11-30",
        "goal": "new_relationships",
        "target_value": "40",
    } | changes


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_only_executives_and_administrators_set_up_a_campaign_403(api, who, request):
    response = post(api(request.getfixturevalue(who)), list_url("campaign"), campaign_body())
    assert response.status_code == 403
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_only_executives_and_administrators_edit_a_campaign_403(api, campaign, who, request):
    response = api(request.getfixturevalue(who)).patch(
        detail_url("campaign", campaign.pk), {"name": "Mine now"}, content_type="application/json"
    )
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Spring cash management"


# --- 409: the wrong state -------------------------------------------------------------------


def test_cover_on_a_closed_case_is_409(api, closed_case, account, leader):
    response = post(
        api(leader),
        action_url(closed_case.pk, "assign-coverage"),
        coverage_body(account, to=leader),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def test_a_second_replacement_is_409(api, replaced_case, leader, team):
    another = RmFactory(team=team)
    response = post(
        api(leader),
        action_url(replaced_case.pk, "assign-replacement"),
        {"replacement": another.pk, "on": "2027-03-20"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def test_a_second_open_case_for_the_same_rm_is_409(api, case, rm, leader):
    response = post(api(leader), list_url("departure-case"), notice_body(rm))
    assert response.status_code == 409
    assert DepartureCase.objects.count() == 1


def test_reviewing_an_account_twice_is_409(api, case, rm, leader, teammate, account):
    AccountFactory(owner=rm, tier=TierFactory(code="A"))  # keeps the case open after one
    departure_services.replacement_assign(
        case_id=case.pk, by=leader, replacement_id=teammate.pk, on=datetime.date(2027, 3, 15)
    )
    client = api(teammate)
    url = action_url(case.pk, "review-handover")
    assert post(client, url, {"account": account.pk}).status_code == 201
    response = post(client, url, {"account": account.pk})
    assert response.status_code == 409
    assert HandoverReview.objects.count() == 1


def test_reviewing_on_a_closed_case_is_409(api, closed_case, teammate, account):
    response = post(
        api(teammate), action_url(closed_case.pk, "review-handover"), {"account": account.pk}
    )
    assert response.status_code == 409


# --- 400: bad input names the field ---------------------------------------------------------


def test_an_account_that_is_not_the_cases_is_400_on_accounts(api, case, leader, teammate):
    stranger = AccountFactory(owner=teammate)
    response = post(
        api(leader), action_url(case.pk, "assign-coverage"), coverage_body(stranger, to=teammate)
    )
    assert response.status_code == 400
    assert list(response.json()) == ["accounts"]
    assert str(stranger.pk) in response.json()["accounts"][0]


def test_another_teams_rm_as_cover_is_400_on_covering_rm(api, case, account, leader, other_rm):
    response = post(
        api(leader), action_url(case.pk, "assign-coverage"), coverage_body(account, to=other_rm)
    )
    assert response.status_code == 400
    assert list(response.json()) == ["covering_rm"]
    assert not CoverageChange.objects.exists()


def test_the_leaving_rm_cannot_cover_their_own_accounts_400(api, case, account, leader, rm):
    response = post(
        api(leader), action_url(case.pk, "assign-coverage"), coverage_body(account, to=rm)
    )
    assert response.status_code == 400
    assert "leaving RM" in response.json()["covering_rm"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"covering_rm": None}, "accounts"),
        ({"accounts": [], "covering_rm": None}, "accounts"),
        ({"accounts": ["x"], "covering_rm": None}, "accounts"),
        ({"accounts": [1]}, "covering_rm"),
    ],
)
def test_a_malformed_coverage_body_is_400_naming_the_field(api, case, leader, body, field):
    response = post(api(leader), action_url(case.pk, "assign-coverage"), body)
    assert response.status_code == 400
    assert field in response.json()


def test_a_replacement_from_another_team_is_400_on_replacement(api, case, leader, other_rm):
    response = post(
        api(leader),
        action_url(case.pk, "assign-replacement"),
        {"replacement": other_rm.pk, "on": "2027-03-15"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["replacement"]


def test_a_replacement_starting_before_the_notice_is_400_on_on(api, case, leader, teammate):
    response = post(
        api(leader),
        action_url(case.pk, "assign-replacement"),
        {"replacement": teammate.pk, "on": "2027-02-01"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["on"]


def test_reviewing_an_account_that_is_not_major_is_400_on_account(api, case, leader, teammate, rm):
    minor = AccountFactory(owner=rm, tier=TierFactory(code="C"))
    departure_services.replacement_assign(
        case_id=case.pk, by=leader, replacement_id=teammate.pk, on=datetime.date(2027, 3, 15)
    )
    response = post(api(teammate), action_url(case.pk, "review-handover"), {"account": minor.pk})
    assert response.status_code == 400
    assert list(response.json()) == ["account"]


def test_a_notice_for_another_teams_rm_is_400_on_rm(api, leader, other_rm):
    response = post(api(leader), list_url("departure-case"), notice_body(other_rm))
    assert response.status_code == 400
    assert list(response.json()) == ["rm"]


def test_a_last_day_before_the_notice_is_400_on_last_day(api, leader, rm):
    response = post(api(leader), list_url("departure-case"), notice_body(rm, last_day="2027-02-01"))
    assert response.status_code == 400
    assert list(response.json()) == ["last_day"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_on": "2027-08-01"}, "ends_on"),
        ({"name": "spring CASH management"}, "name"),
        ({"goal": "product_family"}, "product_family"),
        ({"goal": "product_family", "product_family": "gold"}, "product_family"),
        ({"target_value": "0"}, "target_value"),
        ({"target_value": "2.5"}, "target_value"),
        ({"goal": "one_product"}, "goal"),
    ],
)
def test_a_bad_campaign_is_400_naming_the_field(api, campaign, executive, changes, field):
    response = post(api(executive), list_url("campaign"), campaign_body(**changes))
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize(
    ("resource", "params", "field"),
    [
        ("risk-score", {"min_score": "high"}, "min_score"),
        ("risk-score", {"scored_on": "2027-02-30"}, "scored_on"),
        ("departure-case", {"last_day_from": "soon"}, "last_day_from"),
        ("campaign", {"state": "sleeping"}, "state"),
        ("campaign", {"goal": "one_product"}, "goal"),
    ],
)
def test_a_junk_filter_value_is_400_naming_the_parameter(api, leader, resource, params, field):
    response = api(leader).get(list_url(resource), params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("resource", "param"),
    [("risk-score", "account"), ("departure-case", "rm"), ("departure-case", "team")],
)
def test_an_id_filter_past_the_databases_range_is_400_never_500(api, leader, resource, param):
    response = api(leader).get(list_url(resource), {param: "99999999999999999999"})
    assert response.status_code == 400
    assert param in response.json()


def test_another_teams_rm_as_risk_filter_is_refused_400(api, score, leader, other_rm):
    response = api(leader).get(list_url("risk-score"), {"rm": other_rm.pk})
    assert response.status_code == 400
    assert "rm" in response.json()


def test_a_junk_show_on_a_campaigns_list_is_400(api, entry, campaign, rm):
    response = api(rm).get(entries_url(campaign), {"show": "everything"})
    assert response.status_code == 400
    assert "show" in response.json()


# --- happy paths ----------------------------------------------------------------------------


def test_the_leader_records_a_notice_and_the_case_opens(api, leader, rm):
    response = post(api(leader), list_url("departure-case"), notice_body(rm))
    assert response.status_code == 201
    case = DepartureCase.objects.get()
    rm.refresh_from_db()
    assert (case.rm, case.opened_by, rm.notice_given_on) == (rm, leader, NOTICE)
    body = response.json()
    assert (body["id"], body["phase"], body["accounts"]) == (case.pk, "withdrawal", 0)


def test_an_administrator_records_a_notice(api, administrator, rm):
    response = post(api(administrator), list_url("departure-case"), notice_body(rm))
    assert response.status_code == 201


def test_the_leader_gives_cover_to_a_staying_teammate(api, case, account, leader, teammate):
    response = post(
        api(leader), action_url(case.pk, "assign-coverage"), coverage_body(account, to=teammate)
    )
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.covering_rm == teammate
    change = CoverageChange.objects.get()
    assert (change.case, change.new_covering, change.changed_by) == (case, teammate, leader)
    assert response.json()["changed"] == 1
    assert response.json()["changes"][0]["new_covering"] == teammate.pk


def test_null_cover_removes_it(api, case, account, leader, teammate):
    account.covering_rm = teammate
    account.save()
    response = post(api(leader), action_url(case.pk, "assign-coverage"), coverage_body(account))
    assert response.json()["changed"] == 1
    account.refresh_from_db()
    assert account.covering_rm is None


def test_the_leader_reads_who_may_cover_and_who_may_replace(api, case, leader, teammate):
    body = api(leader).get(action_url(case.pk, "candidates")).json()
    assert {p["id"] for p in body["covering"]} == {leader.pk, teammate.pk}
    assert [p["id"] for p in body["replacement"]] == [teammate.pk]


def test_the_detail_counts_accounts_and_uncovered_major_ones(api, case, rm, leader):
    AccountFactory(owner=rm, tier=TierFactory(code="C"))
    body = api(leader).get(detail_url("departure-case", case.pk)).json()
    assert (body["accounts"], body["major_accounts"], body["uncovered"]) == (2, 1, 1)


def test_the_list_counts_uncovered_major_accounts(api, case, leader):
    row = api(leader).get(list_url("departure-case")).json()["results"][0]
    assert (row["id"], row["uncovered"], row["phase"]) == (case.pk, 1, "withdrawal")


def test_the_leader_assigns_the_replacement_and_onboarding_starts(
    api, case, account, leader, teammate
):
    response = post(
        api(leader),
        action_url(case.pk, "assign-replacement"),
        {"replacement": teammate.pk, "on": "2027-03-15"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["replacement"], body["phase"], body["closed_on"]) == (
        teammate.pk,
        "onboarding",
        None,
    )
    assert Account.objects.get(pk=account.pk).owner == teammate


def test_the_replacement_reviews_the_last_major_account_and_the_case_closes(
    api, replaced_case, teammate, account
):
    response = post(
        api(teammate),
        action_url(replaced_case.pk, "review-handover"),
        {"account": account.pk, "note": "Read the plan."},
    )
    assert response.status_code == 201
    body = response.json()
    review = HandoverReview.objects.get()
    assert (body["id"], body["account"], body["note"]) == (review.pk, account.pk, "Read the plan.")
    assert body["case_closed_on"] is not None


def test_an_executive_sets_up_a_campaign(api, executive):
    response = post(api(executive), list_url("campaign"), campaign_body(description="Grow."))
    assert response.status_code == 201
    campaign = Campaign.objects.get()
    assert (campaign.created_by, campaign.name) == (executive, "Autumn deposits")
    body = response.json()
    assert (body["id"], body["state"], body["figures"]["listed"]) == (campaign.pk, "upcoming", 0)


def test_an_administrator_changes_one_field_of_a_campaign(api, campaign, administrator):
    response = api(administrator).patch(
        detail_url("campaign", campaign.pk),
        {"target_value": "3.10"},
        content_type="application/json",
    )
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert str(campaign.target_value) == "3.10"
    assert campaign.name == "Spring cash management"


def test_a_product_family_goal_keeps_its_family(api, executive):
    body = campaign_body(goal="product_family", product_family="loan", target_value="12")
    response = post(api(executive), list_url("campaign"), body)
    assert response.json()["product_family"] == "loan"


def test_campaigns_cannot_be_deleted_over_the_api(api, campaign, administrator):
    assert api(administrator).delete(detail_url("campaign", campaign.pk)).status_code == 405


def test_the_campaign_list_marks_contacted_accounts_and_filters_on_it(
    api, campaign, entry, rm, account
):
    quiet = CampaignAccountFactory(campaign=campaign, account=AccountFactory(owner=rm))
    ActivityFactory(account=account, date=datetime.date(2027, 3, 10))
    client = api(rm)
    rows = {r["id"]: r for r in client.get(entries_url(campaign)).json()["results"]}
    assert (rows[entry.pk]["contacted"], rows[quiet.pk]["contacted"]) == (False, False)
    # Before the campaign runs nothing is counted; while it runs, the visit counts.
    campaign.starts_on = datetime.date(2026, 1, 1)
    campaign.save()
    ActivityFactory(account=account, date=datetime.date(2026, 2, 1))
    assert ids(client.get(entries_url(campaign), {"show": "contacted"})) == {entry.pk}
    assert ids(client.get(entries_url(campaign), {"show": "not_contacted"})) == {quiet.pk}


def test_the_board_lists_the_cases_accounts_major_first_with_the_uncovered_flagged(
    api, case, account, rm, leader
):
    minor = AccountFactory(owner=rm, tier=TierFactory(code="C"), name="Aardvark")
    AccountFactory(
        owner=rm, status="closed", closed_on=datetime.date(2026, 1, 31)
    )  # stays in the RM's history
    rows = api(leader).get(board_url(case)).json()["results"]
    assert [(r["id"], r["major"], r["uncovered"]) for r in rows] == [
        (account.pk, True, True),
        (minor.pk, False, False),
    ]
    assert ids(api(leader).get(board_url(case), {"major": "false"})) == {minor.pk}


def test_after_the_replacement_the_board_marks_what_was_reviewed(
    api, replaced_case, account, teammate
):
    departure_services.handover_review(case_id=replaced_case.pk, by=teammate, account_id=account.pk)
    row = api(teammate).get(board_url(replaced_case)).json()["results"][0]
    assert (row["id"], row["owner"], row["reviewed"], row["uncovered"]) == (
        account.pk,
        teammate.pk,
        True,
        False,
    )


# --- filters and ordering -------------------------------------------------------------------


def test_latest_keeps_each_accounts_most_recent_score(api, account, rm):
    RiskScoreFactory(account=account, scored_on=datetime.date(2027, 3, 9), score=30)
    newest = RiskScoreFactory(account=account, scored_on=datetime.date(2027, 3, 10), score=35)
    other = RiskScoreFactory(account=AccountFactory(owner=rm), scored_on=datetime.date(2027, 3, 1))
    response = api(rm).get(list_url("risk-score"), {"latest": "true"})
    assert ids(response) == {newest.pk, other.pk}


def test_risk_scores_filter_by_min_score_and_tier(api, rm):
    high_a = RiskScoreFactory(
        account=AccountFactory(owner=rm, tier=TierFactory(code="A")), score=80
    )
    RiskScoreFactory(account=AccountFactory(owner=rm, tier=TierFactory(code="A")), score=20)
    RiskScoreFactory(account=AccountFactory(owner=rm, tier=TierFactory(code="C")), score=90)
    response = api(rm).get(list_url("risk-score"), {"min_score": 50, "tier": "A"})
    assert ids(response) == {high_a.pk}


def test_risk_scores_filter_by_rm_and_team(api, leader, rm, teammate, team):
    mine = RiskScoreFactory(account=AccountFactory(owner=rm))
    RiskScoreFactory(account=AccountFactory(owner=teammate))
    client = api(leader)
    assert ids(client.get(list_url("risk-score"), {"rm": rm.pk})) == {mine.pk}
    assert len(ids(client.get(list_url("risk-score"), {"team": team.pk}))) == 2


def test_risk_scores_search_by_account_name(api, rm):
    acme = RiskScoreFactory(account=AccountFactory(owner=rm, name="Acme Tools GmbH"))
    RiskScoreFactory(account=AccountFactory(owner=rm, name="Zeta AG"))
    assert ids(api(rm).get(list_url("risk-score"), {"search": "acme"})) == {acme.pk}


def test_risk_scores_order_by_score(api, rm):
    for value in (10, 90, 50):
        RiskScoreFactory(account=AccountFactory(owner=rm), score=value)
    rows = api(rm).get(list_url("risk-score"), {"ordering": "-score"}).json()["results"]
    assert [r["score"] for r in rows] == [90, 50, 10]


def test_risk_scores_carry_their_reasons_typed(api, score, rm):
    row = api(rm).get(detail_url("risk-score", score.pk)).json()
    assert row["reasons"] == [
        {"code": "no_contact", "points": 20, "detail": "No contact for 45 days"}
    ]


def test_departure_cases_filter_open_and_by_rm(api, closed_case, leader, team):
    still_open = DepartureCaseFactory(rm=RmFactory(team=team), opened_by=leader)
    client = api(leader)
    assert ids(client.get(list_url("departure-case"), {"open": "true"})) == {still_open.pk}
    assert ids(client.get(list_url("departure-case"), {"open": "false"})) == {closed_case.pk}
    assert ids(client.get(list_url("departure-case"), {"rm": still_open.rm_id})) == {still_open.pk}


def test_campaigns_filter_by_state_and_goal(api, rm):
    today = datetime.date.today()
    running = CampaignFactory(starts_on=today - datetime.timedelta(days=5), goal="cross_sell")
    CampaignFactory(
        starts_on=today + datetime.timedelta(days=5), ends_on=today.replace(year=today.year + 1)
    )
    client = api(rm)
    assert ids(client.get(list_url("campaign"), {"state": "running"})) == {running.pk}
    assert ids(client.get(list_url("campaign"), {"goal": "new_relationships"})) == set()


def test_campaigns_order_by_name(api, rm):
    for name in ("Beta", "Alpha", "Gamma"):
        CampaignFactory(name=name)
    rows = api(rm).get(list_url("campaign"), {"ordering": "name"}).json()["results"]
    assert [r["name"] for r in rows] == ["Alpha", "Beta", "Gamma"]


# --- authentication -------------------------------------------------------------------------


def test_a_token_reads_the_cases_of_the_leader(case, leader):
    token = Token.objects.create(user=leader)
    response = Client().get(list_url("departure-case"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ids(response) == {case.pk}


def test_a_token_runs_an_action_without_csrf(case, account, leader, teammate):
    token = Token.objects.create(user=leader)
    response = Client(enforce_csrf_checks=True).post(
        action_url(case.pk, "assign-coverage"),
        coverage_body(account, to=teammate),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 200


def test_a_session_action_without_csrf_is_403(case, account, leader, teammate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(leader)
    response = post(
        client, action_url(case.pk, "assign-coverage"), coverage_body(account, to=teammate)
    )
    assert response.status_code == 403
    assert not CoverageChange.objects.exists()


def test_a_revoked_token_is_refused(case, leader):
    token = Token.objects.create(user=leader)
    key = token.key
    token.delete()
    response = Client().get(list_url("departure-case"), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


# --- query counts ---------------------------------------------------------------------------

# Session (1) + user (1) + COUNT (1) + rows (1), with everything a row shows joined in.
LIST_QUERIES = 4
# The campaign's list also reads the campaign and the latest closed month.
ENTRIES_QUERIES = 6
# A case's accounts also read the case.
BOARD_QUERIES = 5


def _fill(team, leader, rows):
    rm = RmFactory(team=team)
    campaign = CampaignFactory(name="Counted")
    for _ in range(rows):
        account = AccountFactory(owner=rm)
        RiskScoreFactory(account=account)
        CampaignAccountFactory(campaign=campaign, account=account)
        CampaignFactory()
        leaver = RmFactory(team=team)
        AccountFactory(owner=leaver, tier=TierFactory(code="A"))
        DepartureCaseFactory(rm=leaver, opened_by=leader)
    return rm, campaign


@pytest.mark.parametrize("resource", ["risk-score", "departure-case", "campaign"])
@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("who", ["leader", "executive"])
def test_list_query_count_does_not_grow_with_rows(
    api, request, team, leader, resource, rows, who, django_assert_max_num_queries
):
    _fill(team, leader, rows)
    client = api(request.getfixturevalue(who))
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(list_url(resource))
    assert response.json()["count"] >= rows


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("who", ["leader", "rm"])
def test_a_campaigns_list_query_count_does_not_grow_with_rows(
    api, request, team, leader, rows, who, django_assert_max_num_queries
):
    rm, campaign = _fill(team, leader, rows)
    client = api(rm if who == "rm" else leader)
    with django_assert_max_num_queries(ENTRIES_QUERIES):
        response = client.get(entries_url(campaign))
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("who", ["leader", "executive"])
def test_a_cases_accounts_query_count_does_not_grow_with_rows(
    api, request, case, rm, rows, who, django_assert_max_num_queries
):
    AccountFactory.create_batch(rows - 1, owner=rm, covering_rm=request.getfixturevalue("teammate"))
    client = api(request.getfixturevalue(who))
    with django_assert_max_num_queries(BOARD_QUERIES):
        response = client.get(board_url(case))
    assert response.json()["count"] == rows
