"""What each role sees on its home page, the account list and the account page."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountStatus, ProductFamily
from retention.models import CoverageChange, EarlyWarning

from .factories import (
    AccountFactory,
    ActivityFactory,
    BehaviourFactory,
    BehaviourSetFactory,
    CadenceFactory,
    CustomerRatingFactory,
    DepartureCaseFactory,
    ExecutiveFactory,
    OpportunityFactory,
    OwnershipChangeFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    RmFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2026, 10, 1)
YEAR_AGO = datetime.date(2025, 10, 1)


@pytest.fixture
def loan():
    return ProductFactory(code="TL", family=ProductFamily.LOAN)


@pytest.fixture
def deposit():
    return ProductFactory(code="DDA", family=ProductFamily.DEPOSIT)


def hold(account, product, *, now, year_ago):
    PositionFactory(account=account, product=product, month=MONTH, balance=Decimal(now))
    PositionFactory(account=account, product=product, month=YEAR_AGO, balance=Decimal(year_ago))


# --- landing pages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_fixture", "landing"),
    [
        ("rm", "/accounts/week/"),
        ("executive", "/bank/"),
        ("administrator", "/admin/"),
    ],
)
def test_each_role_lands_on_its_home(client, request, role_fixture, landing):
    client.force_login(request.getfixturevalue(role_fixture))
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == landing


def test_leader_lands_on_their_team_overview(client, leader, team):
    client.force_login(leader)
    response = client.get("/", follow=True)
    assert response.context["team"] == team


def test_leader_without_team_is_told_so(client, leader, team):
    team.leader = None
    team.save()
    client.force_login(leader)
    response = client.get(reverse("org:my_team"))
    assert "You do not lead a team yet" in response.text


def test_login_page_has_labelled_fields(client):
    response = client.get(reverse("login"))
    assert re.search(r'<label\s+for="id_username"', response.text)
    assert re.search(r'<label\s+for="id_password"', response.text)


def test_logging_in_with_the_form_lands_an_rm_on_my_week(client, rm):
    response = client.post(
        reverse("login"),
        {"username": rm.username, "password": "correct-horse-battery"},
        follow=True,
    )
    assert response.request["PATH_INFO"] == reverse("accounts:my_week")
    assert "My week" in response.text


def test_repeated_failed_logins_lock_the_login(client, rm, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": rm.username, "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": rm.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "Too many failed logins" in response.text


# --- My book -------------------------------------------------------------------------------


def test_book_totals_loan_and_deposit_balances_and_change_against_a_year_before(
    client, rm, loan, deposit
):
    first, second = AccountFactory.create_batch(2, owner=rm)
    hold(first, loan, now="1100.00", year_ago="1000.00")
    hold(second, loan, now="900.00", year_ago="1000.00")
    hold(first, deposit, now="300.00", year_ago="400.00")
    client.force_login(rm)
    balances = client.get(reverse("accounts:book")).context["summary"].balances
    assert (balances.loan, balances.loan_year_ago) == (Decimal("2000.00"), Decimal("2000.00"))
    assert balances.loan_change_pct == 0
    assert balances.deposit == Decimal("300.00")
    assert balances.deposit_change_pct == Decimal(-25)


def test_book_counts_accounts_by_tier(client, rm):
    AccountFactory.create_batch(2, owner=rm, tier=TierFactory(code="A"))
    AccountFactory(owner=rm, tier=TierFactory(code="C"), status=AccountStatus.PROSPECT)
    client.force_login(rm)
    tiers = {
        t["tier"].code: t for t in client.get(reverse("accounts:book")).context["summary"].tiers
    }
    assert (tiers["A"]["total"], tiers["C"]["total"], tiers["C"]["active"]) == (2, 1, 0)


def test_book_shows_no_change_where_there_was_no_balance_a_year_before(client, rm, loan):
    hold(AccountFactory(owner=rm), loan, now="500.00", year_ago="0")
    client.force_login(rm)
    assert client.get(reverse("accounts:book")).context["summary"].balances.loan_change_pct is None


def test_book_filters_by_tier(client, rm):
    a = AccountFactory(owner=rm, tier=TierFactory(code="A"))
    AccountFactory(owner=rm, tier=TierFactory(code="B"))
    client.force_login(rm)
    page = client.get(reverse("accounts:book"), {"tier": "A"}).context["page"]
    assert list(page.object_list) == [a]


def test_book_filters_by_status_and_segment(client, rm):
    lost = AccountFactory(
        owner=rm,
        status=AccountStatus.LOST,
        lost_reason="Moved to a rival",
        closed_on=datetime.date(2026, 6, 30),
    )
    AccountFactory(owner=rm, segment=lost.segment)
    client.force_login(rm)
    page = client.get(
        reverse("accounts:book"), {"status": "lost", "segment": lost.segment.pk}
    ).context["page"]
    assert list(page.object_list) == [lost]


def test_book_searches_by_name_or_number_prefix(client, rm):
    harbor = AccountFactory(owner=rm, name="Harbor Logistics", number="CB55500001")
    other = AccountFactory(owner=rm, name="Alpine Dairy", number="CB11100001")
    client.force_login(rm)
    by_name = client.get(reverse("accounts:book"), {"q": "harbor"}).context["page"]
    by_number = client.get(reverse("accounts:book"), {"q": "CB111"}).context["page"]
    assert list(by_name.object_list) == [harbor]
    assert list(by_number.object_list) == [other]


def test_book_sorts_by_loan_balance_descending(client, rm, loan):
    small, big = AccountFactory.create_batch(2, owner=rm)
    hold(small, loan, now="10.00", year_ago="10.00")
    hold(big, loan, now="99999.00", year_ago="10.00")
    client.force_login(rm)
    page = client.get(reverse("accounts:book"), {"sort": "-loan"}).context["page"]
    assert list(page.object_list)[:2] == [big, small]


def test_book_pages_by_fifty(client, rm):
    AccountFactory.create_batch(51, owner=rm)
    client.force_login(rm)
    first = client.get(reverse("accounts:book")).context["page"]
    second = client.get(reverse("accounts:book"), {"page": 2}).context["page"]
    assert (len(first.object_list), len(second.object_list)) == (50, 1)
    assert not set(first.object_list) & set(second.object_list)


@pytest.mark.parametrize(
    "params",
    [
        {"tier": "Z"},
        {"segment": "not-a-number"},
        {"status": "bankrupt"},
        {"sort": "password"},
        {"page": "-3"},
        {"page": "abc"},
        {"page": "999999"},
        {"owner": "x"},
        {"q": "\x00"},
    ],
)
def test_nonsense_filters_still_render_the_list(client, rm, account, params):
    client.force_login(rm)
    response = client.get(reverse("accounts:book"), params)
    assert response.status_code == 200
    assert account in response.context["page"].object_list


def test_nonsense_filter_is_reported_to_the_user(client, rm, account):
    client.force_login(rm)
    response = client.get(reverse("accounts:book"), {"tier": "Z"})
    assert "Some filters were not understood" in response.text


def test_htmx_filter_request_returns_only_the_table(client, rm, account):
    client.force_login(rm)
    response = client.get(reverse("accounts:book"), {"q": account.name}, HTTP_HX_REQUEST="true")
    assert "<table" in response.text
    assert "<html" not in response.text


# --- account page --------------------------------------------------------------------------


def test_account_page_shows_36_months_of_loan_and_deposit_balances(client, rm, loan, deposit):
    account = AccountFactory(owner=rm)
    month = datetime.date(2023, 11, 1)
    for _ in range(40):
        PositionFactory(account=account, product=loan, month=month, balance=Decimal("10.00"))
        PositionFactory(account=account, product=deposit, month=month, balance=Decimal("20.00"))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    client.force_login(rm)
    history = client.get(account.get_absolute_url()).context["history"]
    assert len(history["labels"]) == 36
    assert history["labels"][-1] == "Feb 2027"
    assert set(history["loan"]) == {10.0}
    assert set(history["deposit"]) == {20.0}


def test_account_page_shows_owner_covering_rm_activities_opportunities_and_history(
    client, rm, teammate
):
    account = AccountFactory(owner=rm, covering_rm=teammate)
    ActivityFactory(account=account, outcome="Walked the plant with the CFO")
    OpportunityFactory(account=account, amount=Decimal("750000.00"))
    OwnershipChangeFactory(account=account, previous_owner=teammate, reason="Territory split")
    client.force_login(rm)
    text = client.get(account.get_absolute_url()).text
    for expected in (str(rm), str(teammate), "Walked the plant", "750,000", "Territory split"):
        assert expected in text


def test_account_page_leaves_out_won_and_lost_opportunities(client, rm):
    account = AccountFactory(owner=rm)
    open_one = OpportunityFactory(account=account)
    OpportunityFactory(account=account, status="won", closed_on=datetime.date(2026, 10, 2))
    client.force_login(rm)
    assert client.get(account.get_absolute_url()).context["opportunities"] == [open_one]


# --- team and bank overviews ---------------------------------------------------------------


def test_team_overview_lists_each_rm_with_book_balances_and_recent_activity(
    client, leader, rm, teammate, loan
):
    account = AccountFactory(owner=rm)
    hold(account, loan, now="1500.00", year_ago="1000.00")
    ActivityFactory(account=account)
    ActivityFactory(account=account, date=datetime.date(2020, 1, 1))  # long ago: not counted
    client.force_login(leader)
    lines = {
        line.subject: line
        for line in client.get(reverse("org:my_team"), follow=True).context["lines"]
    }
    assert set(lines) == {rm, teammate}
    assert (lines[rm].accounts, lines[rm].activities_4w) == (1, 1)
    assert lines[rm].balances.loan_change_pct == 50
    assert lines[teammate].accounts == 0


def test_bank_overview_sums_each_team(client, executive, rm, other_rm, loan):
    hold(AccountFactory(owner=rm), loan, now="100.00", year_ago="100.00")
    hold(AccountFactory(owner=rm), loan, now="300.00", year_ago="100.00")
    hold(AccountFactory(owner=other_rm), loan, now="50.00", year_ago="100.00")
    client.force_login(executive)
    lines = {line.subject.name: line for line in client.get(reverse("org:bank")).context["lines"]}
    assert lines["North"].balances.loan == Decimal("400.00")
    assert lines["North"].balances.loan_change_pct == 100
    assert lines["South"].balances.loan_change_pct == -50
    assert (lines["North"].rms, lines["North"].accounts) == (1, 2)


def test_executive_has_no_edit_controls_on_the_bank_overview(client, executive, team):
    client.force_login(executive)
    text = client.get(reverse("org:bank")).text
    assert "<form" in text  # the log-out form only
    assert text.count("<form") == 1


# --- query counts: the same ceiling at 10 and at 200 rows ---------------------------------


def _book_of(rm, n, loan, deposit):
    accounts = AccountFactory.create_batch(n, owner=rm)
    for account in accounts:
        hold(account, loan, now="100.00", year_ago="90.00")
        PositionFactory(account=account, product=deposit, month=MONTH)
    return accounts


@pytest.mark.parametrize("rows", [10, 200])
def test_book_query_count_does_not_grow_with_rows(
    client, rm, loan, deposit, rows, django_assert_max_num_queries
):
    _book_of(rm, rows, loan, deposit)
    client.force_login(rm)
    # +1: the bell's unread count (org.context_processors).
    with django_assert_max_num_queries(11):
        client.get(reverse("accounts:book"))


@pytest.mark.parametrize("rows", [10, 200])
def test_leaders_account_list_query_count_does_not_grow_with_rows(
    client, leader, rm, loan, deposit, rows, django_assert_max_num_queries
):
    _book_of(rm, rows, loan, deposit)
    client.force_login(leader)
    # +1: the bell's unread count (org.context_processors).
    with django_assert_max_num_queries(13):
        client.get(reverse("accounts:book"))


@pytest.mark.parametrize("rows", [10, 200])
def test_account_page_query_count_does_not_grow_with_rows(
    client, rm, teammate, loan, deposit, rows, django_assert_max_num_queries
):
    account = AccountFactory(owner=rm)
    for _ in range(rows):
        ActivityFactory(account=account)
        OpportunityFactory(account=account, product=loan)
        OwnershipChangeFactory(account=account, previous_owner=teammate)
        CoverageChange.objects.create(
            account=account, new_covering=teammate, changed_at=timezone.now()
        )
    for i in range(min(rows, 36)):
        PositionFactory(
            account=account, product=loan, month=datetime.date(2024 + i // 12, i % 12 + 1, 1)
        )
    client.force_login(rm)
    # 10, with the coverage history (retention.CoverageChange), the latest attrition risk
    # score (retention.RiskScore) and the bell's unread count.
    with django_assert_max_num_queries(10):
        client.get(account.get_absolute_url())


@pytest.mark.parametrize("rows", [10, 200])
def test_team_overview_query_count_does_not_grow_with_rows(
    client, leader, team, loan, deposit, rows, django_assert_max_num_queries
):
    rms = RmFactory.create_batch(rows // 10, team=team)
    CadenceFactory(team=team)  # adherence counts what the cadence required
    behaviours = _rated_year()
    for rm in rms:
        _book_of(rm, 10, loan, deposit)
        _ratings_of(rm, behaviours)
    _leaving(rms)
    client.force_login(leader)
    # 15: the 8 of the overview, one grouped query for check-in adherence, and six for the
    # report card's most improved (plan year, the team's RMs, behaviour set, latest month
    # rated, one grouped count of the ratings, behaviours).
    # +1: the bell's unread count (org.context_processors).
    # +2: the retention flags (uncovered major accounts of leaving RMs, early warnings).
    # +2: adherence counts what the cadence required (the cadences, their RMs; issue 13).
    with django_assert_max_num_queries(20):
        response = client.get(reverse("org:team", args=[team.pk]))
    assert len(response.context["card"].improved_month) == _ranked(len(rms))
    assert response.context["flags"].uncovered == rms[0].owned_accounts.count()
    assert response.context["flags"].warnings == len(rms)


@pytest.mark.parametrize("rows", [10, 200])
def test_bank_overview_query_count_does_not_grow_with_rows(
    client, executive, loan, deposit, rows, django_assert_max_num_queries
):
    behaviours = _rated_year()
    rms = []
    for _ in range(rows // 10):
        rm = RmFactory()
        rms.append(rm)
        _book_of(rm, 10, loan, deposit)
        _ratings_of(rm, behaviours)
    _leaving(rms)
    client.force_login(executive)
    # 16: the 8 of the overview, one grouped query for check-in adherence, and seven for
    # the report card's most improved (plan year, RMs, teams, behaviour set, latest month
    # rated, one grouped count of the ratings, behaviours).
    # +1: the bell's unread count (org.context_processors).
    # +2: the retention flags (uncovered major accounts of leaving RMs, early warnings).
    # +2: adherence counts what the cadence required (the cadences, their RMs; issue 13).
    with django_assert_max_num_queries(21):
        response = client.get(reverse("org:bank"))
    assert len(response.context["card"].improved_month) == _ranked(rows // 10)
    assert response.context["flags"].uncovered == rms[0].owned_accounts.count()
    assert response.context["flags"].warnings == len(rms)


def _leaving(rms):
    """The first RM is leaving with their tier-B accounts uncovered; every RM has an
    early warning from tonight's run."""
    DepartureCaseFactory(rm=rms[0])
    signals = [{"code": "checkins_missed", "detail": "2 check-ins missed in 8 weeks"}]
    EarlyWarning.objects.bulk_create(
        EarlyWarning(rm=rm, computed_on=timezone.localdate(), signals=signals) for rm in rms
    )


def _ranked(rms: int) -> int:
    """In January the month before lies in last year: nobody is ranked month on month."""
    return rms if timezone.localdate().month > 1 else 0


def _rated_year():
    """This year with approved behaviours (Listening 60 %, Follow-up 40 %)."""
    today = timezone.localdate()
    plan_year = PlanYearFactory(
        year=today.year,
        starts_on=datetime.date(today.year, 1, 1),
        ends_on=datetime.date(today.year, 12, 31),
    )
    author, approver = ExecutiveFactory(), ExecutiveFactory()
    bs = BehaviourSetFactory(
        plan_year=plan_year,
        created_by=author,
        last_edited_by=author,
        proposed_by=author,
        status="approved",
        decided_by=approver,
    )
    return [
        BehaviourFactory(behaviour_set=bs, name="Listening", weight=60),
        BehaviourFactory(behaviour_set=bs, name="Follow-up", weight=40),
    ]


def _ratings_of(rm, behaviours):
    """Five ratings per behaviour in each of the last two months, enough to be ranked."""
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    customers = AccountFactory.create_batch(5, owner=rm)
    for month in {last_month, this_month}:
        if month.year != this_month.year:
            continue
        for behaviour in behaviours:
            for n, account in enumerate(customers):
                CustomerRatingFactory(
                    account=account, rm=rm, behaviour=behaviour, month=month, rating=3 + n % 3
                )
