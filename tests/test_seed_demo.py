"""The demo bank: the same seed and day give the same bank, and the bank is well formed.

Seeding takes a few seconds, so one bank is seeded for the whole module and committed;
each test runs inside a transaction that is rolled back, and the module wipes the bank
when it is done so no other test module sees it.
"""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.conf import global_settings
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Max, Min, Sum
from django.db.models.functions import TruncMonth
from django.test import RequestFactory

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    Opportunity,
    OpportunityStatus,
    OwnershipChange,
    Position,
    ProductFamily,
)
from org.demo import DEMO_PASSWORD, DemoBankExists, seed_demo, wipe_demo_bank
from org.models import Role, Team, User

AS_OF = dt.date(2025, 6, 15)
SEED = 7
FIRST_MONTH = dt.date(2022, 6, 1)
LAST_MONTH = dt.date(2025, 5, 1)  # the last complete month before AS_OF


@pytest.fixture(scope="module")
def demo_bank(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        summary = seed_demo(as_of=AS_OF, seed=SEED)
    yield summary
    with django_db_blocker.unblock(), transaction.atomic():
        wipe_demo_bank()


def bank_fingerprint() -> tuple:
    """What a demo shows: who owns which account, its tier and status, and the money."""
    accounts = Account.objects.order_by("number").values_list(
        "number",
        "name",
        "tier__code",
        "segment__name",
        "owner__username",
        "covering_rm__username",
        "status",
        "opened_on",
        "closed_on",
        "contract_until",
    )
    digest = hashlib.sha256(repr(list(accounts)).encode()).hexdigest()
    money = Position.objects.aggregate(
        balance=Sum("balance"), revenue=Sum("revenue"), rows=Count("id")
    )
    pipeline = Opportunity.objects.aggregate(amount=Sum("amount"), rows=Count("id"))
    people = list(User.objects.order_by("username").values_list("username", "role", "team__name"))
    return digest, money, pipeline, Activity.objects.count(), people


@pytest.mark.django_db
def test_same_seed_and_as_of_give_the_identical_bank(demo_bank):
    first = bank_fingerprint()

    seed_demo(as_of=AS_OF, seed=SEED, reset=True)

    assert bank_fingerprint() == first


@pytest.mark.django_db
def test_summary_counts_what_is_in_the_database(demo_bank):
    assert demo_bank.users == User.objects.count() == 35
    assert demo_bank.teams == Team.objects.count() == 3
    assert demo_bank.accounts == Account.objects.count()
    assert 1_300 <= demo_bank.accounts <= 1_700
    assert demo_bank.positions == Position.objects.count()
    assert demo_bank.activities == Activity.objects.count()
    assert demo_bank.opportunities == Opportunity.objects.count()
    assert demo_bank.ownership_changes == OwnershipChange.objects.count() > 0


@pytest.mark.django_db
def test_demo_users_exist_with_their_roles(demo_bank):
    roles = dict(User.objects.values_list("username", "role"))
    assert roles.pop("admin") == Role.ADMIN
    assert roles.pop("exec1") == Role.EXECUTIVE
    for i in range(1, 4):
        assert roles.pop(f"leader{i}") == Role.LEADER
    for i in range(1, 31):
        assert roles.pop(f"rm{i}") == Role.RM
    assert roles == {}

    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert not User.objects.exclude(username="admin").filter(is_superuser=True).exists()
    styles = set(User.objects.filter(role=Role.RM).values_list("rm_style", flat=True))
    assert styles == {"finder", "minder", "both"}
    assert not User.objects.filter(hired_on__gte=AS_OF).exists()
    leaving = User.objects.filter(notice_given_on__isnull=False)
    assert 1 <= leaving.count() <= 2
    assert all(u.role == Role.RM and u.notice_given_on < AS_OF for u in leaving)


@pytest.mark.django_db
def test_every_rm_belongs_to_a_team_led_by_a_leader(demo_bank):
    rms = User.objects.filter(role=Role.RM).select_related("team__leader")
    assert all(rm.team and rm.team.leader.role == Role.LEADER for rm in rms)
    for i in range(1, 4):
        team = Team.objects.get(leader__username=f"leader{i}")
        members = set(team.members.values_list("username", flat=True))
        assert members == {f"rm{n}" for n in range(10 * i - 9, 10 * i + 1)}


@pytest.mark.django_db
def test_every_account_is_owned_by_an_rm_and_covered_only_by_a_teammate(demo_bank):
    assert not Account.objects.exclude(owner__role=Role.RM).exists()
    covered = Account.objects.filter(covering_rm__isnull=False)
    assert covered.exists()
    assert not covered.exclude(covering_rm__team=F("owner__team")).exists()
    assert not covered.filter(owner__notice_given_on__isnull=True).exists()


@pytest.mark.django_db
def test_account_numbers_are_core_banking_numbers_and_tiers_are_spread(demo_bank):
    numbers = list(Account.objects.values_list("number", flat=True))
    assert all(n.startswith("CB") and len(n) == 10 and n[2:].isdigit() for n in numbers)
    tiers = dict(Account.objects.values_list("tier__code").annotate(n=Count("id")))
    total = sum(tiers.values())
    assert 0.10 < tiers["A"] / total < 0.20
    assert 0.28 < tiers["B"] / total < 0.42
    assert 0.42 < tiers["C"] / total < 0.58


@pytest.mark.django_db
def test_positions_cover_36_months_ending_the_month_before_as_of(demo_bank):
    months = Position.objects.aggregate(first=Min("month"), last=Max("month"))
    assert months == {"first": FIRST_MONTH, "last": LAST_MONTH}
    assert Position.objects.values("month").distinct().count() == 36
    # An account older than the window has an operating-account position every month.
    per_account = (
        Position.objects.filter(
            product__code="DDA",
            account__status=AccountStatus.ACTIVE,
            account__opened_on__lt=FIRST_MONTH,
        )
        .values("account")
        .annotate(n=Count("id"))
    )
    assert per_account
    assert {row["n"] for row in per_account} == {36}


@pytest.mark.django_db
def test_position_months_are_first_days_and_money_is_non_negative(demo_bank):
    assert not Position.objects.exclude(month__day=1).exists()
    assert not Position.objects.filter(balance__lt=0).exists()
    assert not Position.objects.filter(revenue__lt=0).exists()


@pytest.mark.django_db
def test_every_active_account_holds_a_deposit_and_prospects_hold_nothing(demo_bank):
    active = Account.objects.filter(status=AccountStatus.ACTIVE)
    with_deposit = active.filter(positions__product__family=ProductFamily.DEPOSIT).distinct()
    assert with_deposit.count() == active.count()
    assert not Position.objects.filter(account__status=AccountStatus.PROSPECT).exists()
    held = active.annotate(n=Count("positions__product", distinct=True))
    assert set(held.values_list("n", flat=True)) <= {1, 2, 3, 4}


@pytest.mark.django_db
def test_lost_accounts_have_a_reason_and_no_balance_from_their_closing_month(demo_bank):
    gone = Account.objects.filter(status__in=[AccountStatus.LOST, AccountStatus.CLOSED])
    assert gone.filter(status=AccountStatus.LOST).exists()
    assert not gone.filter(closed_on__isnull=True).exists()
    assert not gone.filter(status=AccountStatus.LOST, lost_reason="").exists()
    assert not Position.objects.filter(
        account__in=gone, month__gte=TruncMonth(F("account__closed_on")), balance__gt=0
    ).exists()


@pytest.mark.django_db
def test_every_rm_has_activities_in_the_last_four_weeks_and_none_after_as_of(demo_bank):
    recent = Activity.objects.filter(date__gt=AS_OF - dt.timedelta(weeks=4), date__lte=AS_OF)
    active_rms = set(recent.values_list("rm__username", flat=True))
    assert active_rms == set(User.objects.filter(role=Role.RM).values_list("username", flat=True))
    assert not Activity.objects.filter(date__gt=AS_OF).exists()


@pytest.mark.django_db
def test_pipeline_has_open_deals_ahead_and_closed_ones_behind(demo_bank):
    open_deals = Opportunity.objects.filter(status=OpportunityStatus.OPEN)
    assert open_deals.exists()
    assert not open_deals.filter(expected_close__lt=AS_OF).exists()
    assert not open_deals.filter(closed_on__isnull=False).exists()
    closed = Opportunity.objects.exclude(status=OpportunityStatus.OPEN)
    assert not closed.filter(closed_on__gt=AS_OF).exists()
    assert not Opportunity.objects.filter(created_on__gt=AS_OF).exists()
    assert set(Opportunity.objects.values_list("kind", flat=True)) == {
        "new_business",
        "cross_sell",
        "renewal",
    }


@pytest.mark.django_db
def test_ownership_changes_lie_in_the_past_between_rms(demo_bank):
    for change in OwnershipChange.objects.select_related("previous_owner", "new_owner"):
        assert change.changed_at.tzinfo is not None
        assert change.changed_at.date() < AS_OF
        assert change.previous_owner.role == change.new_owner.role == Role.RM
        assert change.previous_owner != change.new_owner


@pytest.mark.django_db
def test_the_demo_password_works_for_every_demo_user(demo_bank, settings):
    # The module's bank was hashed with the real hashers, not the suite's fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    # One hash serves every user, so checking it once checks them all.
    assert User.objects.values("password").distinct().count() == 1
    request = RequestFactory().post("/accounts/login/")
    user = authenticate(request=request, username="rm1", password=DEMO_PASSWORD)
    assert user is not None
    assert user.username == "rm1"


@pytest.mark.django_db
def test_seeding_refuses_a_database_that_has_users_without_reset(demo_bank):
    with pytest.raises(DemoBankExists):
        seed_demo(as_of=AS_OF, seed=SEED)
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo", "--as-of", "2025-06-15", stdout=StringIO())


@pytest.mark.django_db
def test_if_empty_does_nothing_when_users_exist(demo_bank):
    before = bank_fingerprint()
    out = StringIO()
    call_command("seed_demo", "--if-empty", "--seed", "99", stdout=out)
    assert "already has users" in out.getvalue()
    assert bank_fingerprint() == before


@pytest.mark.django_db
def test_if_empty_seeds_an_empty_database_and_prints_the_logins(demo_bank, monkeypatch):
    # The command is thin: hand it the module's bank instead of seeding a second one.
    calls = []

    def fake_seed_demo(**kwargs):
        calls.append(kwargs)
        return demo_bank

    monkeypatch.setattr("org.management.commands.seed_demo.seed_demo", fake_seed_demo)
    wipe_demo_bank()
    out = StringIO()

    call_command("seed_demo", "--if-empty", "--as-of", "2025-06-15", "--seed", "3", stdout=out)

    assert calls == [{"scale": 1, "as_of": AS_OF, "seed": 3, "reset": False}]
    text = out.getvalue()
    for expected in ("positions", "exec1", "leader3", "rm1-rm10", "rm21-rm30", "'flightpath'"):
        assert expected in text
    assert "demo only" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "15/06/2025"], "YYYY-MM-DD"),
        (["--scale", "0"], "--scale"),
    ],
)
def test_bad_arguments_are_a_clear_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *args, stdout=StringIO())
