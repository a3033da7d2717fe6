"""Multiple connections: who may add or remove a secondary contact, and the share of major
accounts known by two or more people at the bank."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import AccountStatus
from org.models import Role
from retention.models import SecondaryContact
from retention.selectors.risk import connection_share, held_alone
from retention.services.connections import secondary_contact_add
from tests.factories import (
    AccountFactory,
    RmFactory,
    SecondaryContactFactory,
    TierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 3, 10)


@pytest.fixture
def major(rm):
    return AccountFactory(owner=rm, tier=TierFactory(code="A"), name="Harbor Logistics")


@pytest.fixture
def specialist(db):
    return RmFactory(username="treasury_specialist")


def page(account):
    return reverse("retention:account_connections", args=[account.pk])


def add(client, account, person, role="Treasury specialist"):
    return client.post(page(account), {"person": person.pk, "role": role})


# --- who may add -------------------------------------------------------------------------------


def test_owners_leader_adds_a_secondary_contact(client, leader, major, specialist):
    client.force_login(leader)
    response = add(client, major, specialist)
    assert response.status_code == 302
    contact = SecondaryContact.objects.get()
    assert (contact.account, contact.person, contact.role) == (
        major,
        specialist,
        "Treasury specialist",
    )
    assert contact.since is not None


def test_administrator_adds_a_secondary_contact(client, administrator, major, specialist):
    client.force_login(administrator)
    assert add(client, major, specialist).status_code == 302
    assert SecondaryContact.objects.filter(account=major, person=specialist).exists()


def test_another_teams_leader_gets_404(client, other_leader, major, specialist):
    client.force_login(other_leader)
    assert client.get(page(major)).status_code == 404
    assert add(client, major, specialist).status_code == 404
    assert not SecondaryContact.objects.exists()


@pytest.mark.parametrize("who", ["rm", "other_rm"])
def test_rms_get_403(client, request, who, major, specialist):
    client.force_login(request.getfixturevalue(who))
    assert client.get(page(major)).status_code == 403
    assert add(client, major, specialist).status_code == 403
    assert client.get(reverse("retention:connections")).status_code == 403


def test_executive_sees_the_contacts_but_cannot_add(client, executive, major, specialist):
    client.force_login(executive)
    response = client.get(page(major))
    assert "Add a secondary contact" not in response.text
    assert add(client, major, specialist).status_code == 403
    assert not SecondaryContact.objects.exists()


def test_leader_who_sees_the_account_through_a_covering_rm_may_not_add(
    other_leader, other_rm, major, specialist
):
    major.covering_rm = other_rm
    major.save()
    with pytest.raises(PermissionDenied):
        secondary_contact_add(
            account_id=major.pk, person_id=specialist.pk, role="Specialist", by=other_leader
        )


# --- what may be added -------------------------------------------------------------------------


def test_tier_c_account_has_no_connections_page(client, leader, rm):
    account = AccountFactory(owner=rm, tier=TierFactory(code="C"))
    client.force_login(leader)
    assert client.get(page(account)).status_code == 404


def test_owner_cannot_be_their_own_secondary_contact(client, leader, rm, major):
    client.force_login(leader)
    response = add(client, major, rm)
    assert response.status_code == 400
    assert "owns this account already" in response.text


def test_same_person_is_not_added_twice(client, leader, major, specialist):
    SecondaryContactFactory(account=major, person=specialist)
    client.force_login(leader)
    response = add(client, major, specialist)
    assert response.status_code == 400
    assert SecondaryContact.objects.count() == 1


def test_person_who_left_the_bank_cannot_be_added(leader, major, specialist):
    specialist.departed_on = TODAY - datetime.timedelta(days=1)
    specialist.save()
    with pytest.raises(ValidationError):
        secondary_contact_add(
            account_id=major.pk, person_id=specialist.pk, role="x", by=leader, today=TODAY
        )


def test_executives_are_not_secondary_contacts(leader, major, executive):
    with pytest.raises(ValidationError):
        secondary_contact_add(
            account_id=major.pk, person_id=executive.pk, role="x", by=leader, today=TODAY
        )


def test_a_role_is_required(client, leader, major, specialist):
    client.force_login(leader)
    assert add(client, major, specialist, role="").status_code == 400
    assert not SecondaryContact.objects.exists()


# --- remove ------------------------------------------------------------------------------------


def test_owners_leader_removes_a_secondary_contact(client, leader, major, specialist):
    contact = SecondaryContactFactory(account=major, person=specialist)
    client.force_login(leader)
    response = client.post(reverse("retention:contact_remove", args=[contact.pk]))
    assert response.status_code == 302
    assert not SecondaryContact.objects.exists()


def test_another_teams_leader_cannot_remove_a_contact(client, other_leader, major, specialist):
    contact = SecondaryContactFactory(account=major, person=specialist)
    client.force_login(other_leader)
    response = client.post(reverse("retention:contact_remove", args=[contact.pk]))
    assert response.status_code == 404
    assert SecondaryContact.objects.exists()


# --- the share ---------------------------------------------------------------------------------


@pytest.fixture
def majors(rm, teammate, specialist, leader):
    """Seven major accounts and a tier C one; who knows each is in its name."""
    tier_a, tier_b = TierFactory(code="A"), TierFactory(code="B")
    gone = RmFactory(username="gone", team=rm.team, departed_on=TODAY - datetime.timedelta(days=10))
    AccountFactory(owner=rm, tier=tier_a, name="1 owner alone")
    SecondaryContactFactory(
        account=AccountFactory(owner=rm, tier=tier_a, name="2 owner and secondary"),
        person=specialist,
    )
    AccountFactory(owner=rm, tier=tier_b, covering_rm=teammate, name="2 owner and covering")
    AccountFactory(owner=gone, tier=tier_b, covering_rm=teammate, name="1 covering, owner left")
    SecondaryContactFactory(
        account=AccountFactory(owner=rm, tier=tier_a, name="1 owner, secondary left"),
        person=UserFactory(username="left", role=Role.LEADER, departed_on=TODAY),
    )
    SecondaryContactFactory(
        account=AccountFactory(owner=rm, tier=tier_b, covering_rm=teammate, name="2 same twice"),
        person=teammate,
    )
    AccountFactory(owner=gone, tier=tier_a, name="0 owner left")
    AccountFactory(owner=rm, tier=TierFactory(code="C"), name="tier C: not major")
    AccountFactory(
        owner=rm,
        tier=tier_a,
        name="lost: not counted",
        status=AccountStatus.LOST,
        closed_on=TODAY,
        lost_reason="Moved",
    )


def test_share_of_major_accounts_with_two_or_more_contacts(leader, majors):
    share = connection_share(leader, today=TODAY)
    assert (share.total, share.connected, share.alone) == (7, 3, 4)
    assert round(share.share_pct, 1) == Decimal("42.9")


def test_accounts_held_alone_are_listed(leader, majors):
    names = sorted(a.name for a in held_alone(leader, today=TODAY))
    assert names == [
        "0 owner left",
        "1 covering, owner left",
        "1 owner alone",
        "1 owner, secondary left",
    ]


def test_another_teams_leader_counts_none_of_them(other_leader, majors):
    assert connection_share(other_leader, today=TODAY).total == 0


def test_connections_page_lists_accounts_held_alone(client, leader, majors, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: TODAY)
    client.force_login(leader)
    response = client.get(reverse("retention:connections"))
    assert [a.name for a in response.context["alone"]] == [
        "0 owner left",
        "1 owner alone",
        "1 owner, secondary left",
        "1 covering, owner left",
    ]
    assert "43\u00a0%" in response.text


@pytest.mark.parametrize("rows", [5, 40])
def test_connections_page_query_count_does_not_grow(
    client, leader, rm, rows, django_assert_max_num_queries
):
    tier = TierFactory(code="A")
    for i in range(rows):
        account = AccountFactory(owner=rm, tier=tier)
        if i % 2:
            SecondaryContactFactory(account=account, person=RmFactory())
    client.force_login(leader)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("retention:connections"))
    assert response.context["share"].total == rows
