"""The pipeline pages: list, board, deal and forms (accounts/views_pipeline.py)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Opportunity, OpportunityChange
from tests.factories import (
    AccountFactory,
    ExecutiveFactory,
    OpportunityFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

BOARD = reverse("accounts:pipeline_board")
LIST = reverse("accounts:pipeline")


def deal_urls(deal):
    return {
        "deal": reverse("accounts:opportunity", args=[deal.pk]),
        "edit": reverse("accounts:opportunity_edit", args=[deal.pk]),
        "lose": reverse("accounts:opportunity_lose", args=[deal.pk]),
    }


def shown(response) -> set[int]:
    """The deals a board or list page shows."""
    context = response.context
    if "columns" in context:
        return {o.pk for c in context["columns"] for o in c.deals}
    return {o.pk for o in context["page"].object_list}


# --- who sees what -------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["deal", "edit", "lose"])
def test_another_teams_rm_gets_404_on_the_deal_pages(client, deal, other_rm, page):
    client.force_login(other_rm)
    assert client.get(deal_urls(deal)[page]).status_code == 404


@pytest.mark.parametrize("url", [BOARD, LIST])
def test_another_teams_rm_does_not_find_the_deal_on_board_or_list(client, deal, other_rm, url):
    client.force_login(other_rm)
    assert deal.pk not in shown(client.get(url))


@pytest.mark.parametrize("action", ["opportunity_move", "opportunity_win", "opportunity_lose"])
def test_another_teams_rm_gets_404_moving_the_deal(client, deal, other_rm, action):
    client.force_login(other_rm)
    response = client.post(reverse(f"accounts:{action}", args=[deal.pk]), {"stage": "proposal"})
    assert response.status_code == 404


def test_a_leader_reads_their_rms_deal_but_editing_it_is_403(client, deal, leader):
    client.force_login(leader)
    assert client.get(deal_urls(deal)["deal"]).status_code == 200
    assert client.get(deal_urls(deal)["edit"]).status_code == 403


@pytest.mark.parametrize("url", [BOARD, LIST])
def test_a_leader_sees_the_teams_deals_and_filters_per_rm(client, leader, rm, teammate, url):
    mine = OpportunityFactory(account=AccountFactory(owner=rm))
    theirs = OpportunityFactory(account=AccountFactory(owner=teammate))
    client.force_login(leader)
    assert shown(client.get(url)) == {mine.pk, theirs.pk}
    assert shown(client.get(url, {"rm": teammate.pk})) == {theirs.pk}


@pytest.mark.parametrize("url", [BOARD, LIST])
def test_an_executive_sees_the_banks_deals_and_filters_per_team(client, rm, other_rm, team, url):
    north = OpportunityFactory(account=AccountFactory(owner=rm))
    south = OpportunityFactory(account=AccountFactory(owner=other_rm))
    client.force_login(ExecutiveFactory())
    assert shown(client.get(url)) == {north.pk, south.pk}
    assert shown(client.get(url, {"team": team.pk})) == {north.pk}


def test_an_rm_sees_only_their_own_pipeline(client, rm, teammate):
    mine = OpportunityFactory(account=AccountFactory(owner=rm))
    OpportunityFactory(account=AccountFactory(owner=teammate))
    client.force_login(rm)
    assert shown(client.get(BOARD)) == {mine.pk}


# --- the board -----------------------------------------------------------------------------


def test_the_board_shows_a_column_per_stage_with_amount_and_weighted_totals(client, rm):
    account = AccountFactory(owner=rm)
    OpportunityFactory(account=account, stage="proposal", amount=Decimal("1000"), probability=50)
    OpportunityFactory(account=account, stage="proposal", amount=Decimal("3000"), probability=10)
    client.force_login(rm)
    columns = {c.stage: c for c in client.get(BOARD).context["columns"]}
    assert list(columns) == ["lead", "qualified", "proposal", "negotiation", "closing"]
    assert (columns["proposal"].amount, columns["proposal"].weighted) == (
        Decimal("4000.00"),
        Decimal("800.00"),
    )


def test_a_card_shows_account_product_amount_close_date_and_forecast_category(client, rm, deal):
    client.force_login(rm)
    html = client.get(BOARD).content.decode()
    assert deal.account.name in html
    assert deal.product.name in html
    assert "250,000" in html
    assert "31 Mar 2027" in html
    assert "Pipeline</span>" in html
    assert "Move to Proposal" in html


def test_moving_a_deal_by_plain_post_goes_back_to_the_board(client, rm, deal):
    client.force_login(rm)
    response = client.post(
        reverse("accounts:opportunity_move", args=[deal.pk]),
        {"stage": "proposal", "version": deal.version, "next": BOARD},
    )
    assert response.status_code == 302
    assert response.url == BOARD
    deal.refresh_from_db()
    assert (deal.stage, deal.probability) == ("proposal", 50)


def test_moving_a_deal_by_htmx_swaps_the_board_with_the_deal_in_its_new_column(client, rm, deal):
    client.force_login(rm)
    response = client.post(
        reverse("accounts:opportunity_move", args=[deal.pk]),
        {"stage": "proposal", "version": deal.version, "next": BOARD},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/pipeline/_board.html"
    columns = {c.stage: [o.pk for o in c.deals] for c in response.context["columns"]}
    assert columns["proposal"] == [deal.pk]


def test_a_stale_move_by_htmx_says_so_and_changes_nothing(client, rm, deal):
    client.force_login(rm)
    response = client.post(
        reverse("accounts:opportunity_move", args=[deal.pk]),
        {"stage": "proposal", "version": deal.version - 1 or 99},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "Somebody else saved this deal" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "qualified"


def test_winning_from_the_board_closes_the_deal(client, rm, deal):
    client.force_login(rm)
    client.post(reverse("accounts:opportunity_win", args=[deal.pk]), {"version": deal.version})
    deal.refresh_from_db()
    assert (deal.status, deal.probability) == ("won", 100)


def test_losing_without_a_reason_re_renders_the_form_with_the_reason(client, rm, deal, reason):
    client.force_login(rm)
    response = client.post(deal_urls(deal)["lose"], {"version": deal.version})
    assert response.status_code == 400
    assert response.context["form"].errors["lost_reason"]
    deal.refresh_from_db()
    assert deal.status == "open"


def test_losing_with_a_reason_closes_the_deal(client, rm, deal, reason):
    client.force_login(rm)
    client.post(
        deal_urls(deal)["lose"],
        {"version": deal.version, "lost_reason": reason.pk, "lost_note": "Price"},
    )
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason, deal.lost_note) == ("lost", reason, "Price")


def test_a_leader_sees_no_move_buttons_on_the_board(client, leader, deal):
    client.force_login(leader)
    assert "Move to" not in client.get(BOARD).content.decode()


def test_the_leader_moving_an_rms_deal_is_403(client, leader, deal):
    client.force_login(leader)
    response = client.post(
        reverse("accounts:opportunity_move", args=[deal.pk]),
        {"stage": "proposal"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 403


# --- forms ---------------------------------------------------------------------------------


def form_data(account, **changes):
    return {
        "account": account.pk,
        "product": ProductFactory(code="LN9").pk,
        "kind": "new_business",
        "amount": "120000",
        "stage": "proposal",
        "probability": "",
        "expected_close": "2027-02-28",
        "forecast_category": "best_case",
        "next_step": "Meet the CFO",
    } | changes


def test_the_account_page_offers_a_new_opportunity_and_links_its_deals(client, rm, deal):
    client.force_login(rm)
    html = client.get(deal.account.get_absolute_url()).content.decode()
    assert f"{reverse('accounts:opportunity_create')}?account={deal.account.pk}" in html
    assert reverse("accounts:opportunity", args=[deal.pk]) in html


def test_creating_a_deal_from_the_form_takes_the_stages_probability(client, rm, account):
    client.force_login(rm)
    response = client.post(reverse("accounts:opportunity_create"), form_data(account))
    deal = Opportunity.objects.get()
    assert response.url == reverse("accounts:opportunity", args=[deal.pk])
    assert (deal.probability, deal.forecast_category, deal.next_step) == (
        50,
        "best_case",
        "Meet the CFO",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", "-5"), ("probability", "120"), ("expected_close", "2020-01-01")],
)
def test_bad_input_re_renders_the_form_with_the_reason_on_the_field(
    client, rm, account, field, value
):
    client.force_login(rm)
    data = form_data(account, **{field: value})
    response = client.post(reverse("accounts:opportunity_create"), data)
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert not Opportunity.objects.exists()


def test_editing_in_two_tabs_shows_the_conflict_and_keeps_the_first_save(client, rm, deal):
    client.force_login(rm)
    url = deal_urls(deal)["edit"]
    first = form_data(deal.account, amount="111000", version=deal.version)
    second = form_data(deal.account, amount="222000", version=deal.version)
    client.post(url, first)
    response = client.post(url, second)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved." in html
    assert "222000" in html
    deal.refresh_from_db()
    assert deal.amount == Decimal("111000.00")


def test_the_deal_page_shows_its_stage_history(client, rm, deal):
    client.force_login(rm)
    client.post(reverse("accounts:opportunity_move", args=[deal.pk]), {"stage": "proposal"})
    html = client.get(deal_urls(deal)["deal"]).content.decode()
    assert "Stage: Qualified → Proposal" in html
    assert OpportunityChange.objects.filter(opportunity=deal).count() == 1


# --- list and export -----------------------------------------------------------------------


def test_the_list_totals_amount_and_weighted_amount(client, rm):
    account = AccountFactory(owner=rm)
    OpportunityFactory(account=account, amount=Decimal("1000"), probability=50)
    OpportunityFactory(account=account, amount=Decimal("2000"), probability=25)
    client.force_login(rm)
    totals = client.get(LIST).context["totals"]
    assert (totals.count, totals.amount, totals.weighted) == (
        2,
        Decimal("3000.00"),
        Decimal("1000.00"),
    )


def test_the_list_shows_open_deals_unless_asked_for_closed_ones(client, rm, deal):
    won = OpportunityFactory(
        account=deal.account, status="won", closed_on=datetime.date(2026, 10, 1)
    )
    client.force_login(rm)
    assert shown(client.get(LIST)) == {deal.pk}
    assert shown(client.get(LIST, {"status": "won"})) == {won.pk}
    assert shown(client.get(LIST, {"status": "all"})) == {deal.pk, won.pk}


def test_the_list_filters_by_forecast_category_family_and_close_dates(client, rm):
    account = AccountFactory(owner=rm)
    wanted = OpportunityFactory(
        account=account, forecast_category="commit", expected_close=datetime.date(2027, 1, 15)
    )
    OpportunityFactory(account=account, forecast_category="pipeline")
    OpportunityFactory(
        account=account, forecast_category="commit", expected_close=datetime.date(2027, 5, 1)
    )
    client.force_login(rm)
    response = client.get(
        LIST,
        {
            "forecast_category": "commit",
            "family": "loan",
            "close_from": "2027-01-01",
            "close_to": "2027-01-31",
        },
    )
    assert shown(response) == {wanted.pk}


def test_a_junk_filter_is_reported_and_ignored(client, rm, deal):
    client.force_login(rm)
    response = client.get(LIST, {"close_from": "someday"})
    assert response.status_code == 200
    assert "close_from" in response.context["filterset"].errors


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_list_downloads_as_csv_and_excel_with_the_filters(client, rm, deal, fmt):
    OpportunityFactory(account=deal.account, stage="closing")
    client.force_login(rm)
    response = client.get(LIST, {"stage": "qualified", "format": fmt})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="pipeline-')
    if fmt == "csv":
        lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
        assert lines[0].startswith("Account number,Account,RM,Product")
        assert len(lines) == 2
        assert "250000.00" in lines[1]
        assert "62500.00" in lines[1]


def test_another_teams_rm_downloads_none_of_the_deals(client, deal, other_rm):
    client.force_login(other_rm)
    response = client.get(LIST, {"format": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 1


# --- query counts --------------------------------------------------------------------------


def _open_deals(rm, n):
    accounts = AccountFactory.create_batch(max(1, n // 10), owner=rm)
    product = ProductFactory(code="QC1")
    stages = ["lead", "qualified", "proposal", "negotiation", "closing"]
    Opportunity.objects.bulk_create(
        Opportunity(
            account=accounts[i % len(accounts)],
            rm=rm,
            product=product,
            amount=Decimal("1000"),
            probability=20,
            stage=stages[i % 5],
            kind="new_business",
            expected_close=datetime.date(2027, 3, 31),
            created_on=datetime.date(2026, 9, 1),
        )
        for i in range(n)
    )


# Session, user, the deals (one query), the filter's choices (RMs; teams for the whole
# bank), and for the list its count, totals and the figures' three: the same at any size.
BOARD_QUERIES = {"rm": 5, "leader": 6, "executive": 7}
LIST_QUERIES = {"rm": 9, "leader": 10, "executive": 11}


@pytest.mark.parametrize("rows", [20, 500])
@pytest.mark.parametrize("who", ["rm", "leader", "executive"])
def test_board_query_count_does_not_grow_with_deals(
    client, request, rows, who, django_assert_num_queries
):
    _open_deals(request.getfixturevalue("rm"), rows)
    client.force_login(request.getfixturevalue(who))
    with django_assert_num_queries(BOARD_QUERIES[who]):
        response = client.get(BOARD)
    assert response.context["deal_count"] == rows


@pytest.mark.parametrize("rows", [20, 500])
@pytest.mark.parametrize("who", ["rm", "leader", "executive"])
def test_list_query_count_does_not_grow_with_deals(
    client, request, rows, who, django_assert_num_queries
):
    _open_deals(request.getfixturevalue("rm"), rows)
    client.force_login(request.getfixturevalue(who))
    with django_assert_num_queries(LIST_QUERIES[who]):
        response = client.get(LIST)
    assert response.context["totals"].count == rows
