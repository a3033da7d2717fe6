"""Who sees what: outside one's scope a record does not exist (404); inside scope but not
allowed, 403. These pin org.access, the one place that decides it."""

import pytest
from django.urls import reverse

from org.access import visible_accounts, visible_people, visible_teams

from .factories import AccountFactory, RmFactory

pytestmark = pytest.mark.django_db


# --- the access layer itself -------------------------------------------------------------


def test_rm_sees_accounts_they_own(rm, account):
    assert list(visible_accounts(rm)) == [account]


def test_rm_sees_accounts_they_cover(rm, teammate):
    covered = AccountFactory(owner=teammate, covering_rm=rm)
    assert covered in visible_accounts(rm)


def test_rm_does_not_see_teammates_accounts(teammate, account):
    assert account not in visible_accounts(teammate)


def test_leader_sees_every_account_of_their_team(leader, account, teammate):
    teammates_account = AccountFactory(owner=teammate)
    assert set(visible_accounts(leader)) == {account, teammates_account}


def test_leader_sees_account_of_another_team_covered_by_their_rm(leader, rm, other_rm):
    covered = AccountFactory(owner=other_rm, covering_rm=rm)
    assert covered in visible_accounts(leader)


def test_leader_does_not_see_another_teams_accounts(other_leader, account):
    assert account not in visible_accounts(other_leader)


def test_executive_sees_every_account(executive, account, other_rm):
    others = AccountFactory(owner=other_rm)
    assert set(visible_accounts(executive)) == {account, others}


def test_anonymous_user_sees_nothing(account):
    from django.contrib.auth.models import AnonymousUser

    assert not visible_accounts(AnonymousUser()).exists()


def test_inactive_user_sees_nothing(rm, account):
    rm.is_active = False
    rm.save()
    assert not visible_accounts(rm).exists()


def test_leader_sees_only_their_own_team(leader, team, other_team):
    assert list(visible_teams(leader)) == [team]


def test_rm_sees_no_team_overview(rm):
    assert not visible_teams(rm).exists()


def test_leader_sees_themselves_and_their_rms_only(leader, rm, teammate, other_rm):
    assert set(visible_people(leader)) == {leader, rm, teammate}


# --- pages: outside scope is a 404 --------------------------------------------------------

OUTSIDERS = ["other_rm", "other_leader", "teammate"]


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_on_account_page(client, request, account, outsider):
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(account.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_does_not_find_account_in_their_list(client, request, account, outsider):
    client.force_login(request.getfixturevalue(outsider))
    response = client.get(reverse("accounts:book"), {"q": account.number})
    assert response.status_code == 200
    assert account not in response.context["page"].object_list
    assert account.name not in response.text


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_account_count_leaves_out_the_account(client, request, account, outsider):
    client.force_login(request.getfixturevalue(outsider))
    response = client.get(reverse("accounts:book"))
    assert response.context["summary"].account_count == 0


def test_leader_filtering_by_another_teams_rm_sees_none_of_their_accounts(
    client, leader, rm, other_rm
):
    foreign = AccountFactory(owner=other_rm)
    client.force_login(leader)
    response = client.get(reverse("accounts:book"), {"owner": other_rm.pk})
    assert foreign not in response.context["page"].object_list
    assert "owner" in response.context["filterset"].errors


@pytest.mark.parametrize("outsider", ["other_rm", "other_leader", "teammate", "rm"])
def test_outsider_gets_404_on_team_overview(client, request, team, rm, outsider):
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(reverse("org:team", args=[team.pk])).status_code == 404


def test_unknown_account_id_is_404(client, rm):
    client.force_login(rm)
    assert client.get(reverse("accounts:detail", args=[987654321])).status_code == 404


def test_account_id_beyond_the_integer_range_is_404(client, rm):
    client.force_login(rm)
    assert client.get("/accounts/99999999999999999999999/").status_code == 404


# --- pages: inside the app but not allowed is a 403 ---------------------------------------


@pytest.mark.parametrize("role_fixture", ["rm", "leader"])
def test_bank_overview_is_403_below_executive(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(reverse("org:bank")).status_code == 403


def test_my_team_is_403_for_an_rm(client, rm):
    client.force_login(rm)
    assert client.get(reverse("org:my_team")).status_code == 403


# --- who may open what --------------------------------------------------------------------


def test_rm_opens_account_they_cover(client, rm, teammate):
    covered = AccountFactory(owner=teammate, covering_rm=rm)
    client.force_login(rm)
    assert client.get(covered.get_absolute_url()).context["account"] == covered


def test_leader_opens_any_account_of_their_team(client, leader, teammate):
    accounts = [AccountFactory(owner=teammate) for _ in range(3)]
    client.force_login(leader)
    for account in accounts:
        assert client.get(account.get_absolute_url()).context["account"] == account


def test_executive_opens_any_team_overview(client, executive, other_team):
    client.force_login(executive)
    assert client.get(reverse("org:team", args=[other_team.pk])).context["team"] == other_team


def test_anonymous_visitor_is_sent_to_login(client, account):
    response = client.get(account.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_departed_rm_cannot_log_in(client, rm):
    rm.is_active = False
    rm.save()
    response = client.post(
        reverse("login"), {"username": rm.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_rm_of_another_team_not_in_a_leaders_rm_filter(client, leader, rm, other_rm):
    RmFactory(team=rm.team)
    client.force_login(leader)
    choices = client.get(reverse("accounts:book")).context["filterset"].form.fields["owner"]
    assert other_rm not in choices.queryset
    assert rm in choices.queryset
