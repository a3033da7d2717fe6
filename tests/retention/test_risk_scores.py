"""Attrition risk: each reason from its own data, the weights, the cap, the nightly rows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AccountStatus, OpportunityKind, OpportunityStatus
from retention.models import RiskFactor, RiskScore
from retention.services.risk import risk_scores_compute, shift_months
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    BehaviourFactory,
    CustomerRatingFactory,
    OpportunityFactory,
    PositionFactory,
    ProductFactory,
    RmFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 3, 10)


@pytest.fixture
def tier_b(db):
    tier = TierFactory(code="B")
    tier.max_days_without_contact = 60
    tier.save()
    return tier


@pytest.fixture
def quiet(rm, tier_b):
    """An active account with nothing wrong: seen last week, no contract, owner at work."""
    account = AccountFactory(owner=rm, tier=tier_b, name="Quiet Mills")
    ActivityFactory(account=account, date=TODAY - datetime.timedelta(days=7))
    return account


def score_of(account, day=TODAY):
    risk_scores_compute(today=day)
    return RiskScore.objects.get(account=account, scored_on=day)


def codes(score):
    return [r["code"] for r in score.reasons]


def set_factor(code, **changes):
    RiskFactor.objects.filter(code=code).update(**changes)


def test_quiet_account_scores_zero_with_no_reasons(quiet):
    score = score_of(quiet)
    assert (score.score, score.reasons) == (0, [])


def test_job_returns_rows_written_and_scores_only_active_accounts(quiet, rm, tier_b):
    AccountFactory(owner=rm, tier=tier_b, status=AccountStatus.PROSPECT)
    AccountFactory(
        owner=rm,
        tier=tier_b,
        status=AccountStatus.LOST,
        closed_on=datetime.date(2027, 1, 5),
        lost_reason="Moved to a competitor",
    )
    assert risk_scores_compute(today=TODAY) == 1
    assert list(RiskScore.objects.values_list("account", flat=True)) == [quiet.pk]


# --- balance decline ---------------------------------------------------------------------------


def _balances(account, amounts, last=datetime.date(2027, 2, 1)):
    """Month-end balances, oldest first, ending at `last` (the last closed month)."""
    product = ProductFactory(code="DDA")
    for i, amount in enumerate(reversed(amounts)):
        month = shift_months(last, -i)
        PositionFactory(account=account, product=product, month=month, balance=Decimal(amount))


def test_balance_decline_of_the_last_three_months_against_the_year_is_a_reason(quiet):
    _balances(quiet, [100_000] * 9 + [70_000] * 3)
    # Year's average (9 x 100k + 3 x 70k) / 12 = 92,500; last 3 months 70,000: down 24 %.
    score = score_of(quiet)
    assert score.reasons == [
        {
            "code": "balance_decline",
            "points": 25,
            "detail": "balances down 24 % (last 3 months against the year's average)",
        }
    ]


def test_steady_balances_are_no_reason(quiet):
    _balances(quiet, [100_000] * 10 + [95_000] * 2)
    assert codes(score_of(quiet)) == []


def test_balance_decline_below_the_threshold_is_no_reason(quiet):
    # Average 97,500 against 90,000 for the last 3 months: down 7.7 %, under 10 %.
    _balances(quiet, [100_000] * 9 + [90_000] * 3)
    assert codes(score_of(quiet)) == []


def test_balance_decline_needs_six_months_of_history(quiet):
    _balances(quiet, [100_000] * 2 + [10_000] * 3)
    assert codes(score_of(quiet)) == []


def test_balance_decline_threshold_comes_from_the_factor(quiet):
    _balances(quiet, [100_000] * 9 + [90_000] * 3)
    set_factor("balance_decline", threshold=Decimal("5"))
    assert codes(score_of(quiet)) == ["balance_decline"]


def test_balance_of_the_current_month_is_not_yet_closed(quiet):
    _balances(quiet, [100_000] * 12)
    # A March figure loaded early does not count: February is the last closed month.
    PositionFactory(
        account=quiet,
        product=ProductFactory(code="DDA"),
        month=TODAY.replace(day=1),
        balance=Decimal("0"),
    )
    assert codes(score_of(quiet)) == []


# --- contract or maturity ----------------------------------------------------------------------


def test_contract_ending_within_twelve_months_is_a_reason(quiet):
    quiet.contract_until = datetime.date(2027, 9, 30)
    quiet.save()
    assert score_of(quiet).reasons == [
        {"code": "contract_expiry", "points": 15, "detail": "contract ends 30 Sep 2027"}
    ]


@pytest.mark.parametrize("until", [datetime.date(2028, 3, 11), datetime.date(2027, 3, 9)])
def test_contract_ending_after_twelve_months_or_already_ended_is_no_reason(quiet, until):
    quiet.contract_until = until
    quiet.save()
    assert codes(score_of(quiet)) == []


def test_contract_ending_exactly_twelve_months_ahead_counts(quiet):
    quiet.contract_until = datetime.date(2028, 3, 10)
    quiet.save()
    assert codes(score_of(quiet)) == ["contract_expiry"]


# --- no contact --------------------------------------------------------------------------------


def test_no_contact_for_longer_than_the_tier_allows_is_a_reason(rm, tier_b):
    account = AccountFactory(owner=rm, tier=tier_b)
    ActivityFactory(account=account, date=TODAY - datetime.timedelta(days=74))
    assert score_of(account).reasons == [
        {"code": "no_contact", "points": 20, "detail": "no contact for 74 days (tier B allows 60)"}
    ]


def test_contact_within_the_tier_allowance_is_no_reason(rm, tier_b):
    account = AccountFactory(owner=rm, tier=tier_b)
    ActivityFactory(account=account, date=TODAY - datetime.timedelta(days=60))
    assert codes(score_of(account)) == []


def test_tier_allowance_decides_no_contact(rm):
    tier_a = TierFactory(code="A")
    tier_a.max_days_without_contact = 30
    tier_a.save()
    account = AccountFactory(owner=rm, tier=tier_a)
    ActivityFactory(account=account, date=TODAY - datetime.timedelta(days=45))
    assert score_of(account).reasons[0]["detail"] == "no contact for 45 days (tier A allows 30)"


def test_account_never_contacted_counts_from_its_opening(rm, tier_b):
    old = AccountFactory(owner=rm, tier=tier_b, opened_on=datetime.date(2026, 1, 4))
    new = AccountFactory(owner=rm, tier=tier_b, opened_on=TODAY - datetime.timedelta(days=20))
    risk_scores_compute(today=TODAY)
    assert RiskScore.objects.get(account=old).reasons[0]["detail"] == (
        "no contact recorded (tier B allows 60 days)"
    )
    assert RiskScore.objects.get(account=new).reasons == []


def test_activity_dated_after_the_scoring_day_does_not_count(rm, tier_b):
    account = AccountFactory(owner=rm, tier=tier_b)
    ActivityFactory(account=account, date=TODAY - datetime.timedelta(days=90))
    ActivityFactory(account=account, date=TODAY + datetime.timedelta(days=3))
    assert codes(score_of(account)) == ["no_contact"]


# --- owner departed ----------------------------------------------------------------------------


def test_owner_who_left_with_no_one_covering_is_a_reason(quiet, rm):
    rm.first_name, rm.last_name = "", ""
    rm.departed_on = datetime.date(2027, 2, 26)
    rm.save()
    assert score_of(quiet).reasons == [
        {
            "code": "owner_departed",
            "points": 20,
            "detail": "owner rm_north left on 26 Feb 2027; no one covers it",
        }
    ]


def test_owner_who_left_but_is_covered_weighs_half(quiet, rm, teammate):
    rm.departed_on = datetime.date(2027, 2, 26)
    rm.save()
    quiet.covering_rm = teammate
    quiet.save()
    reason = score_of(quiet).reasons[0]
    assert (reason["code"], reason["points"]) == ("owner_departed", 10)
    assert reason["detail"].endswith(f"covered by {teammate}")


def test_covering_rm_who_left_too_does_not_cover(quiet, rm, teammate):
    rm.departed_on = teammate.departed_on = datetime.date(2027, 2, 26)
    rm.save()
    teammate.save()
    quiet.covering_rm = teammate
    quiet.save()
    assert score_of(quiet).reasons[0]["points"] == 20


def test_owner_on_notice_with_no_cover_weighs_half(quiet, rm):
    rm.notice_given_on = datetime.date(2027, 3, 1)
    rm.departed_on = datetime.date(2027, 3, 31)
    rm.save()
    reason = score_of(quiet).reasons[0]
    assert (reason["code"], reason["points"]) == ("owner_departed", 10)
    assert "gave notice on 1 Mar 2027 (last day 31 Mar 2027)" in reason["detail"]


def test_owner_at_work_is_no_reason(quiet, rm):
    rm.departed_on = datetime.date(2027, 4, 30)  # leaves later, has not given notice yet
    rm.save()
    assert codes(score_of(quiet)) == []


# --- low ratings -------------------------------------------------------------------------------


def _ratings(account, values, months=(1, 2, 3)):
    behaviours = [BehaviourFactory() for _ in range(len(values) // len(months))]
    values = iter(values)
    for m in months:
        for b in behaviours:
            CustomerRatingFactory(
                account=account, behaviour=b, month=datetime.date(2027, m, 1), rating=next(values)
            )


def test_few_good_ratings_in_the_last_three_months_is_a_reason(quiet):
    _ratings(quiet, [4, 5, 2, 1, 2, 3, 2, 3, 1])
    assert score_of(quiet).reasons == [
        {
            "code": "low_ratings",
            "points": 10,
            "detail": "2 of 9 ratings good or excellent in the last 3 months",
        }
    ]


def test_mostly_good_ratings_are_no_reason(quiet):
    _ratings(quiet, [4, 5, 4, 1, 4, 3, 5, 4, 1])
    assert codes(score_of(quiet)) == []


def test_fewer_than_three_ratings_are_no_reason(quiet):
    _ratings(quiet, [1, 1], months=(2, 3))
    assert codes(score_of(quiet)) == []


def test_ratings_older_than_three_months_do_not_count(quiet):
    behaviour = BehaviourFactory()
    for month in (1, 2, 3):
        CustomerRatingFactory(
            account=quiet, behaviour=behaviour, month=datetime.date(2027, month, 1), rating=1
        )
    # The window starts on 10 Dec 2026: December's month (1 Dec) is before it.
    CustomerRatingFactory(
        account=quiet, behaviour=behaviour, month=datetime.date(2026, 12, 1), rating=5
    )
    score = score_of(quiet)
    assert score.reasons[0]["detail"] == "0 of 3 ratings good or excellent in the last 3 months"


# --- lost renewal ------------------------------------------------------------------------------


def _renewal(account, closed_on, kind=OpportunityKind.RENEWAL, status=OpportunityStatus.LOST):
    return OpportunityFactory(
        account=account,
        product=ProductFactory(code="TL", name="Term loan"),
        kind=kind,
        status=status,
        created_on=closed_on - datetime.timedelta(days=60),
        closed_on=closed_on,
    )


def test_renewal_lost_within_twelve_months_is_a_reason(quiet):
    _renewal(quiet, datetime.date(2027, 2, 3))
    assert score_of(quiet).reasons == [
        {"code": "lost_renewal", "points": 10, "detail": "renewal of Term loan lost on 3 Feb 2027"}
    ]


def test_renewal_lost_more_than_twelve_months_ago_is_no_reason(quiet):
    _renewal(quiet, datetime.date(2026, 3, 9))
    assert codes(score_of(quiet)) == []


@pytest.mark.parametrize(
    ("kind", "status"),
    [(OpportunityKind.CROSS_SELL, OpportunityStatus.LOST), (OpportunityKind.RENEWAL, "won")],
)
def test_lost_cross_sell_or_won_renewal_is_no_reason(quiet, kind, status):
    _renewal(quiet, datetime.date(2027, 2, 3), kind=kind, status=status)
    assert codes(score_of(quiet)) == []


def test_two_lost_renewals_name_the_latest(quiet):
    _renewal(quiet, datetime.date(2026, 10, 1))
    _renewal(quiet, datetime.date(2027, 2, 3))
    detail = score_of(quiet).reasons[0]["detail"]
    assert detail == "2 renewals lost in 12 months; the latest, Term loan, on 3 Feb 2027"


# --- weights, cap, order -----------------------------------------------------------------------


def _expiring_and_silent(rm, tier_b):
    account = AccountFactory(owner=rm, tier=tier_b, contract_until=datetime.date(2027, 6, 1))
    ActivityFactory(account=account, date=TODAY - datetime.timedelta(days=100))
    return account


def test_score_is_the_sum_of_the_reasons_points_biggest_first(rm, tier_b):
    account = _expiring_and_silent(rm, tier_b)
    score = score_of(account)
    assert score.score == 35
    assert [(r["code"], r["points"]) for r in score.reasons] == [
        ("no_contact", 20),
        ("contract_expiry", 15),
    ]


def test_weight_changed_in_the_admin_changes_the_score(client, administrator, rm, tier_b):
    account = _expiring_and_silent(rm, tier_b)
    factor = RiskFactor.objects.get(code="contract_expiry")
    client.force_login(administrator)
    response = client.post(
        reverse("admin:retention_riskfactor_change", args=[factor.pk]),
        {"weight": 40, "threshold": "12", "active": "on"},
    )
    assert response.status_code == 302
    assert score_of(account).score == 60


def test_inactive_factor_is_ignored(rm, tier_b):
    account = _expiring_and_silent(rm, tier_b)
    set_factor("no_contact", active=False)
    assert codes(score_of(account)) == ["contract_expiry"]


def test_score_is_capped_at_100(rm, tier_b):
    account = _expiring_and_silent(rm, tier_b)
    set_factor("no_contact", weight=70)
    set_factor("contract_expiry", weight=60)
    score = score_of(account)
    assert score.score == 100
    assert sum(r["points"] for r in score.reasons) == 130


def test_flushed_factors_are_recreated_with_the_default_weights(rm, tier_b):
    account = _expiring_and_silent(rm, tier_b)
    RiskFactor.objects.all().delete()
    assert score_of(account).score == 35
    assert RiskFactor.objects.count() == 6


# --- the nightly rows --------------------------------------------------------------------------


def test_running_twice_the_same_day_replaces_that_days_rows(rm, tier_b):
    account = _expiring_and_silent(rm, tier_b)
    risk_scores_compute(today=TODAY)
    set_factor("no_contact", weight=5)
    risk_scores_compute(today=TODAY)
    assert list(RiskScore.objects.values_list("account", "scored_on", "score")) == [
        (account.pk, TODAY, 20)
    ]


def test_each_night_keeps_its_own_rows_for_the_trend(rm, tier_b):
    account = _expiring_and_silent(rm, tier_b)
    risk_scores_compute(today=TODAY - datetime.timedelta(days=1))
    risk_scores_compute(today=TODAY)
    assert RiskScore.objects.filter(account=account).count() == 2


def _bank(n):
    """n active accounts, each with every kind of data the reasons read."""
    tier = TierFactory(code="B")
    product = ProductFactory(code="DDA")
    for i in range(n):
        account = AccountFactory(
            owner=RmFactory(departed_on=datetime.date(2027, 1, 1) if i % 2 else None),
            tier=tier,
            contract_until=datetime.date(2027, 8, 1),
        )
        ActivityFactory(account=account, date=TODAY - datetime.timedelta(days=i))
        for m in range(1, 13):
            PositionFactory(
                account=account,
                product=product,
                month=shift_months(datetime.date(2027, 2, 1), -m + 1),
                balance=Decimal(1000 * m),
            )
        CustomerRatingFactory(account=account, month=datetime.date(2027, 2, 1), rating=1)
        _renewal(account, datetime.date(2027, 1, 15))


def _queries_for(n):
    _bank(n)
    with CaptureQueriesContext(connection) as ctx:
        risk_scores_compute(today=TODAY)
    assert RiskScore.objects.filter(scored_on=TODAY).count() >= n
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_accounts():
    few = _queries_for(5)
    RiskScore.objects.all().delete()
    many = _queries_for(45)  # 50 accounts in all
    assert few == many
    assert many <= 12


# --- the admin ---------------------------------------------------------------------------------


def test_admin_lists_factors_with_editable_weights_and_scores_read_only(
    client, administrator, quiet
):
    risk_scores_compute(today=TODAY)
    client.force_login(administrator)
    factors = client.get(reverse("admin:retention_riskfactor_changelist"))
    assert 'name="form-0-weight"' in factors.text
    scores = client.get(reverse("admin:retention_riskscore_changelist"))
    assert "Quiet Mills" in scores.text
    assert client.get(reverse("admin:retention_riskscore_add")).status_code == 403
