"""The API's foundation and the book of business over it (docs/api.md).

The same access layer as the pages: outside scope is 404, inside scope but not allowed is
403; errors name the field; lists are paginated and cost the same queries for any size.
"""

import datetime

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.throttling import UserRateThrottle

from accounts.models import Activity, Opportunity, OpportunityStatus, ProductFamily
from tests.api.urls import detail_url, ids, list_url
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    OpportunityFactory,
    PositionFactory,
    ProductFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

RESOURCES = ["account", "position", "activity", "opportunity"]


@pytest.fixture
def book(account):
    """One of each record on `account` (owned by `rm`)."""
    return {
        "account": account,
        "position": PositionFactory(account=account),
        "activity": ActivityFactory(account=account),
        "opportunity": OpportunityFactory(account=account),
    }


# --- IDOR matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("outsider", ["other_rm", "other_leader", "teammate"])
def test_another_teams_user_gets_404_for_the_detail(api, book, resource, outsider, request):
    response = api(request.getfixturevalue(outsider)).get(detail_url(resource, book[resource].pk))
    assert response.status_code == 404


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("outsider", ["other_rm", "other_leader", "teammate"])
def test_the_list_leaves_out_what_another_team_owns(api, book, resource, outsider, request):
    response = api(request.getfixturevalue(outsider)).get(list_url(resource))
    assert response.status_code == 200
    assert book[resource].pk not in ids(response)


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("insider", ["rm", "leader", "executive", "administrator"])
def test_owner_leader_and_whole_bank_see_the_record(api, book, resource, insider, request):
    client = api(request.getfixturevalue(insider))
    assert book[resource].pk in ids(client.get(list_url(resource)))
    assert client.get(detail_url(resource, book[resource].pk)).json()["id"] == book[resource].pk


def test_the_covering_rm_sees_the_covered_account(api, account, other_rm):
    account.covering_rm = other_rm
    account.save()
    response = api(other_rm).get(detail_url("account", account.pk))
    assert response.json()["covering_rm_username"] == other_rm.username


@pytest.mark.parametrize("resource", ["activity", "opportunity"])
def test_updating_a_record_outside_scope_is_404(api, book, resource, other_rm):
    response = api(other_rm).patch(
        detail_url(resource, book[resource].pk), {}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("resource", ["account", "position"])
def test_read_only_resources_refuse_writes(api, book, resource, rm):
    client = api(rm)
    assert client.post(list_url(resource), {}, content_type="application/json").status_code == 405
    response = client.delete(detail_url(resource, book[resource].pk))
    assert response.status_code == 405


# --- authentication ------------------------------------------------------------------------


def test_anonymous_gets_401_with_the_token_scheme_named():
    response = Client().get(list_url("account"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_a_token_authenticates_an_integration_user(account, rm):
    token = Token.objects.create(user=rm)
    response = Client().get(list_url("account"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ids(response) == {account.pk}


def test_a_deleted_token_is_revoked(account, rm):
    token = Token.objects.create(user=rm)
    key = token.key
    token.delete()
    response = Client().get(list_url("account"), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(account, rm):
    token = Token.objects.create(user=rm)
    rm.is_active = False
    rm.save()
    response = Client().get(list_url("account"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 401


def test_a_session_post_without_csrf_token_is_403(account, rm):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rm)
    response = client.post(
        list_url("activity"),
        {"kind": "call", "date": "2026-11-02", "account": account.pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Activity.objects.exists()


def test_a_token_post_needs_no_csrf_token(account, rm):
    token = Token.objects.create(user=rm)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        list_url("activity"),
        {"kind": "call", "date": "2026-11-02", "account": account.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 201


def test_the_api_answers_json_by_default(api, account, rm):
    response = api(rm).get(list_url("account"), HTTP_ACCEPT="*/*")
    assert response.headers["Content-Type"] == "application/json"


def test_a_user_over_the_rate_is_throttled_429(api, account, rm, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min"})
    client = api(rm)
    statuses = [client.get(list_url("account")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- activities ----------------------------------------------------------------------------


def post(client, resource, body):
    return client.post(list_url(resource), body, content_type="application/json")


def activity_body(account, **changes):
    return {"kind": "visit", "date": "2026-11-02", "account": account.pk, "outcome": "x"} | (
        changes
    )


def test_rm_records_an_activity_on_an_own_account(api, account, rm):
    response = post(api(rm), "activity", activity_body(account))
    assert response.status_code == 201
    activity = Activity.objects.get()
    assert (activity.rm, activity.account, activity.date) == (
        rm,
        account,
        datetime.date(2026, 11, 2),
    )
    assert response.json()["id"] == activity.pk


def test_the_covering_rm_records_an_activity_on_the_covered_account(api, account, other_rm):
    account.covering_rm = other_rm
    account.save()
    assert post(api(other_rm), "activity", activity_body(account)).status_code == 201


def test_rm_in_the_body_is_ignored_the_record_is_the_request_users(api, account, rm, teammate):
    response = post(api(rm), "activity", activity_body(account, rm=teammate.pk))
    assert response.json()["rm"] == rm.pk
    assert Activity.objects.get().rm == rm


def test_an_account_outside_scope_is_400_on_account_as_if_it_did_not_exist(api, rm, other_rm):
    foreign = AccountFactory(owner=other_rm)
    response = post(api(rm), "activity", activity_body(foreign))
    assert response.status_code == 400
    assert "does not exist" in response.json()["account"][0]
    assert not Activity.objects.exists()


def test_a_leader_seeing_the_account_may_not_record_on_it_403(api, account, leader):
    response = post(api(leader), "activity", activity_body(account))
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_a_bad_date_is_400_naming_the_field(api, account, rm):
    response = post(api(rm), "activity", activity_body(account, date="2026-02-30"))
    assert response.status_code == 400
    assert list(response.json()) == ["date"]


def test_an_unknown_kind_is_400_naming_the_field(api, account, rm):
    response = post(api(rm), "activity", activity_body(account, kind="lunch"))
    assert response.status_code == 400
    assert list(response.json()) == ["kind"]


def test_rm_changes_an_own_activity(api, account, rm):
    activity = ActivityFactory(account=account, outcome="old")
    response = api(rm).patch(
        detail_url("activity", activity.pk), {"outcome": "new"}, content_type="application/json"
    )
    assert response.json()["outcome"] == "new"
    activity.refresh_from_db()
    assert activity.outcome == "new"


def test_changing_somebody_elses_visible_activity_is_403(api, account, leader):
    activity = ActivityFactory(account=account, outcome="old")
    response = api(leader).patch(
        detail_url("activity", activity.pk), {"outcome": "new"}, content_type="application/json"
    )
    assert response.status_code == 403
    activity.refresh_from_db()
    assert activity.outcome == "old"


def test_moving_an_activity_to_an_account_outside_scope_is_400(api, account, rm, other_rm):
    activity = ActivityFactory(account=account)
    foreign = AccountFactory(owner=other_rm)
    response = api(rm).patch(
        detail_url("activity", activity.pk),
        {"account": foreign.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["account"]


def test_the_rm_deletes_an_own_activity_over_the_api_within_the_lock_window(api, account, rm):
    # Issue 12: an RM deletes their own activity for ACTIVITY_EDIT_DAYS, then it is locked
    # (tests/activities/test_api.py); before, activities could not be deleted at all.
    activity = ActivityFactory(account=account)
    assert api(rm).delete(detail_url("activity", activity.pk)).status_code == 204


# --- opportunities -------------------------------------------------------------------------


def opportunity_body(account, **changes):
    product = ProductFactory(code="LOAN1", family=ProductFamily.LOAN)
    return {
        "account": account.pk,
        "product": product.code,
        "amount": "150000.00",
        "stage": "qualified",
        "probability": 50,
        "expected_close": "2027-03-31",
        "kind": "cross_sell",
    } | changes


def test_rm_opens_an_opportunity_created_today_in_their_name(api, account, rm, teammate):
    response = post(api(rm), "opportunity", opportunity_body(account, rm=teammate.pk))
    assert response.status_code == 201
    opportunity = Opportunity.objects.get()
    assert opportunity.rm == rm
    assert opportunity.status == OpportunityStatus.OPEN
    assert response.json()["created_on"] == opportunity.created_on.isoformat()


def test_a_probability_over_100_is_400_naming_the_field(api, account, rm):
    response = post(api(rm), "opportunity", opportunity_body(account, probability=120))
    assert response.status_code == 400
    assert list(response.json()) == ["probability"]


def test_an_unknown_product_is_400_naming_the_field(api, account, rm):
    response = post(api(rm), "opportunity", opportunity_body(account, product="NOPE"))
    assert response.status_code == 400
    assert list(response.json()) == ["product"]


def test_winning_an_opportunity_closes_it_today(api, account, rm):
    opportunity = OpportunityFactory(account=account)
    response = api(rm).patch(
        detail_url("opportunity", opportunity.pk),
        {"status": "won"},
        content_type="application/json",
    )
    assert response.json()["status"] == "won"
    opportunity.refresh_from_db()
    assert opportunity.closed_on is not None


def test_a_closed_opportunity_is_final_409(api, account, rm):
    opportunity = OpportunityFactory(
        account=account, status=OpportunityStatus.LOST, closed_on=datetime.date(2026, 10, 1)
    )
    response = api(rm).patch(
        detail_url("opportunity", opportunity.pk),
        {"amount": "1.00"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def test_changing_somebody_elses_visible_opportunity_is_403(api, account, executive):
    opportunity = OpportunityFactory(account=account)
    response = api(executive).patch(
        detail_url("opportunity", opportunity.pk),
        {"amount": "1.00"},
        content_type="application/json",
    )
    assert response.status_code == 403


# --- pagination, filtering, ordering -------------------------------------------------------


def test_lists_are_paginated_50_a_page_by_default(api, rm):
    AccountFactory.create_batch(55, owner=rm)
    body = api(rm).get(list_url("account")).json()
    assert (body["count"], len(body["results"])) == (55, 50)
    assert body["next"] is not None


def test_page_size_is_capped_at_200(api, rm):
    AccountFactory.create_batch(205, owner=rm)
    body = api(rm).get(list_url("account"), {"page_size": 1000}).json()
    assert len(body["results"]) == 200


def test_page_size_asks_for_fewer(api, rm):
    AccountFactory.create_batch(5, owner=rm)
    assert len(api(rm).get(list_url("account"), {"page_size": 2}).json()["results"]) == 2


def test_a_page_past_the_end_is_404(api, account, rm):
    assert api(rm).get(list_url("account"), {"page": 9}).status_code == 404


def test_accounts_filter_by_tier_and_status(api, rm):
    a = AccountFactory(owner=rm, tier=TierFactory(code="A"))
    AccountFactory(owner=rm, tier=TierFactory(code="B"))
    AccountFactory(owner=rm, tier=TierFactory(code="A"), status="prospect")
    response = api(rm).get(list_url("account"), {"tier": "A", "status": "active"})
    assert ids(response) == {a.pk}


def test_accounts_search_by_name_or_number(api, rm):
    acme = AccountFactory(owner=rm, name="Acme Tools GmbH")
    other = AccountFactory(owner=rm, name="Zeta AG", number="ZZ123")
    client = api(rm)
    assert ids(client.get(list_url("account"), {"search": "acme"})) == {acme.pk}
    assert ids(client.get(list_url("account"), {"search": "ZZ12"})) == {other.pk}


def test_accounts_order_by_name_descending(api, rm):
    for name in ["Beta", "Alpha", "Gamma"]:
        AccountFactory(owner=rm, name=name)
    rows = api(rm).get(list_url("account"), {"ordering": "-name"}).json()["results"]
    assert [r["name"] for r in rows] == ["Gamma", "Beta", "Alpha"]


def test_positions_filter_by_month_and_family(api, account, rm):
    wanted = PositionFactory(
        account=account,
        month=datetime.date(2026, 9, 1),
        product=ProductFactory(code="L1", family=ProductFamily.LOAN),
    )
    PositionFactory(account=account, month=datetime.date(2026, 10, 1), product=wanted.product)
    PositionFactory(
        account=account,
        month=datetime.date(2026, 9, 1),
        product=ProductFactory(code="D1", family=ProductFamily.DEPOSIT),
    )
    response = api(rm).get(list_url("position"), {"month": "2026-09-01", "family": "loan"})
    assert ids(response) == {wanted.pk}


@pytest.mark.parametrize(
    ("resource", "params", "field"),
    [
        ("position", {"month": "garbage"}, "month"),
        ("position", {"family": "gold"}, "family"),
        ("account", {"status": "sleeping"}, "status"),
        ("account", {"owner": "me"}, "owner"),
        ("activity", {"date_from": "2026-13-01"}, "date_from"),
        ("opportunity", {"stage": "dreaming"}, "stage"),
    ],
)
def test_a_junk_filter_value_is_400_naming_the_parameter(api, account, rm, resource, params, field):
    response = api(rm).get(list_url(resource), params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    "params",
    [
        {"ordering": "owner__password"},
        {"ordering": "';drop"},
        {"page_size": "many"},
        {"unknown": "x"},
    ],
)
def test_junk_ordering_page_size_or_unknown_params_are_ignored(api, account, rm, params):
    response = api(rm).get(list_url("account"), params)
    assert ids(response) == {account.pk}


def test_search_treats_wildcards_as_plain_text(api, rm):
    AccountFactory(owner=rm, name="Acme")
    response = api(rm).get(list_url("account"), {"search": "%_\\"})
    assert response.json()["count"] == 0


@pytest.mark.parametrize("page", ["x", "0", "-1"])
def test_a_junk_page_number_is_404_never_500(api, account, rm, page):
    assert api(rm).get(list_url("account"), {"page": page}).status_code == 404


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999"])
def test_a_junk_id_is_404_never_500(api, rm, pk):
    assert api(rm).get(f"/api/v1/accounts/{pk}/").status_code == 404


# --- query counts --------------------------------------------------------------------------

# Session (1) + user (1) + COUNT (1) + rows (1), with everything a row shows joined in.
LIST_QUERIES = 4


def _fill(rm, rows):
    for _ in range(rows):
        account = AccountFactory(owner=rm)
        PositionFactory(account=account)
        ActivityFactory(account=account)
        OpportunityFactory(account=account)


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("rows", [10, 60])
@pytest.mark.parametrize("who", ["rm", "leader"])
def test_list_query_count_does_not_grow_with_rows(
    api, request, resource, rows, who, django_assert_num_queries
):
    rm = request.getfixturevalue("rm")
    _fill(rm, rows)
    client = api(request.getfixturevalue(who))
    # Activities also prefetch who went along on a joint call (issue 12): one more query.
    with django_assert_num_queries(LIST_QUERIES + (resource == "activity")):
        response = client.get(list_url(resource))
    assert response.json()["count"] == rows
