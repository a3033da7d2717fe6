"""The back office stays usable with a large book: no unbounded drop-down, no N+1."""

import re

import pytest
from django.urls import reverse

from .factories import AccountFactory, OpportunityFactory, PositionFactory, RmFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["account", "position", "activity", "opportunity", "product", "segment", "tier"]
)
def test_admin_add_form_offers_no_drop_down_of_accounts_or_people(
    client, administrator, team, model
):
    RmFactory.create_batch(5, team=team)
    AccountFactory.create_batch(5)
    client.force_login(administrator)
    response = client.get(reverse(f"admin:accounts_{model}_add"))
    assert response.status_code == 200
    for name, tag, options in re.findall(
        r'<select name="(\w+)"([^>]*)>(.*?)</select>', response.text, flags=re.S
    ):
        if name in {"account", "owner", "covering_rm", "rm"}:
            # An autocomplete asks the server as you type; it ships no list of options.
            assert "admin-autocomplete" in tag, name
            assert options.count("<option") <= 1, name


@pytest.mark.parametrize("rows", [10, 100])
def test_admin_account_list_query_count_does_not_grow_with_rows(
    client, administrator, rows, django_assert_max_num_queries
):
    AccountFactory.create_batch(rows)
    client.force_login(administrator)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:accounts_account_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("model", "factory"), [("position", PositionFactory), ("opportunity", OpportunityFactory)]
)
@pytest.mark.parametrize("rows", [10, 100])
def test_admin_lists_of_the_book_join_what_they_show(
    client, administrator, model, factory, rows, django_assert_max_num_queries
):
    factory.create_batch(rows)
    client.force_login(administrator)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(f"admin:accounts_{model}_changelist"))
    assert response.status_code == 200


def test_admin_account_search_finds_by_core_banking_number(client, administrator):
    account = AccountFactory(number="CB42424242")
    AccountFactory.create_batch(3)
    client.force_login(administrator)
    response = client.get(reverse("admin:accounts_account_changelist"), {"q": "CB42424242"})
    assert list(response.context["cl"].result_list) == [account]


def test_rm_cannot_open_the_admin(client, rm):
    client.force_login(rm)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url
