"""The activity pages: log (htmx and plain POST), My week, the list, detail and edit;
who sees what (docs/activities.md)."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity
from tests.factories import AccountFactory, ActivityFactory, CustomerContactFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def today():
    return timezone.localdate()


def monday():
    return today() - datetime.timedelta(days=today().weekday())


def label(account):
    return f"{account.name} ({account.number})"


def log_body(chosen, /, **changes):
    return {
        "kind": "call",
        "date": today().isoformat(),
        "account": label(chosen),
        "outcome": "Talked about the renewal",
    } | changes


# --- logging -------------------------------------------------------------------------------


def test_the_log_form_loads_into_the_modal_with_the_account_chosen(client, rm, account, contact):
    client.force_login(rm)
    response = client.get(
        reverse("accounts:activity_log"), {"account": account.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "<html" not in response.text  # the fragment, not the page
    assert f'value="{label(account)}"' in response.text
    assert "Karin Ito" in response.text  # the account's contacts are offered


def test_an_rm_logs_a_call_with_htmx_and_the_page_is_told_to_refresh(client, rm, account):
    client.force_login(rm)
    response = client.post(
        reverse("accounts:activity_log"), log_body(account), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "activities-changed"
    activity = Activity.objects.get()
    assert (activity.rm, activity.account, activity.kind, activity.status) == (
        rm,
        account,
        "call",
        "done",
    )


def test_an_rm_logs_a_call_with_a_plain_post_and_returns_where_they_were(client, rm, account):
    client.force_login(rm)
    response = client.post(
        reverse("accounts:activity_log"), log_body(account, next=account.get_absolute_url())
    )
    assert response.status_code == 302
    assert response.url == account.get_absolute_url()
    assert Activity.objects.count() == 1


def test_the_account_can_be_named_by_its_number(client, rm, account):
    client.force_login(rm)
    client.post(reverse("accounts:activity_log"), log_body(account, account=account.number))
    assert Activity.objects.get().account == account


def test_a_call_dated_tomorrow_re_renders_the_form_with_the_reason(client, rm, account):
    client.force_login(rm)
    response = client.post(
        reverse("accounts:activity_log"),
        log_body(account, date=(today() + DAY).isoformat(), outcome="Typed text kept"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.text
    assert "Typed text kept" in response.text
    assert not Activity.objects.exists()


def test_an_account_of_another_team_is_not_offered_and_refused(client, rm, other_rm):
    foreign = AccountFactory(owner=other_rm)
    client.force_login(rm)
    page = client.get(reverse("accounts:activity_log"))
    assert foreign.number not in page.text
    response = client.post(reverse("accounts:activity_log"), log_body(foreign))
    assert response.status_code == 400
    assert not Activity.objects.exists()


def test_a_contact_of_another_account_is_refused_on_the_field(client, rm, account):
    elsewhere = CustomerContactFactory(account=AccountFactory(owner=rm))
    client.force_login(rm)
    response = client.post(
        reverse("accounts:activity_log"), log_body(account, contact=elsewhere.pk)
    )
    assert response.status_code == 400
    assert not Activity.objects.exists()


def test_the_contact_options_follow_the_account_typed(client, rm, account, contact):
    client.force_login(rm)
    response = client.get(reverse("accounts:activity_contacts"), {"account": label(account)})
    assert f'value="{contact.pk}"' in response.text


def test_a_plan_is_logged_without_an_outcome(client, rm, account):
    client.force_login(rm)
    body = log_body(account, kind="visit", date=(today() + 3 * DAY).isoformat())
    del body["outcome"]
    client.post(reverse("accounts:activity_plan"), body)
    assert Activity.objects.get().status == "planned"


def test_a_plan_is_marked_done_with_its_outcome(client, rm, account):
    plan = ActivityFactory(account=account, status="planned", outcome="", date=today())
    client.force_login(rm)
    response = client.post(
        reverse("accounts:activity_complete", args=[plan.pk]),
        {"date": today().isoformat(), "outcome": "Signed", "version": plan.version},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.outcome) == ("done", "Signed")


# --- edit: lock, stale, someone else's ---------------------------------------------------------


def test_a_stale_edit_shows_the_conflict_and_keeps_what_was_typed(client, rm, account):
    activity = ActivityFactory(account=account, outcome="first")
    client.force_login(rm)
    url = reverse("accounts:activity_edit", args=[activity.pk])
    body = log_body(account, outcome="tab one", version=1)
    assert client.post(url, body).status_code == 302
    response = client.post(url, log_body(account, outcome="tab two", version=1))
    assert response.status_code == 409
    assert "tab two" in response.text  # what the user typed
    assert "tab one" in response.text  # what is saved now
    activity.refresh_from_db()
    assert activity.outcome == "tab one"


def test_a_locked_activity_answers_403_with_the_reason(client, rm, account):
    activity = ActivityFactory(
        account=account, date=today() - 30 * DAY, created_at=timezone.now() - 30 * DAY
    )
    client.force_login(rm)
    response = client.get(reverse("accounts:activity_edit", args=[activity.pk]))
    assert response.status_code == 403
    assert "locked" in response.text


def test_an_rm_cannot_edit_a_teammates_activity_they_see_403(client, rm, teammate, account):
    """A teammate who went along sees the activity but does not change it."""
    activity = ActivityFactory(account=account)
    activity.participants.add(teammate)
    client.force_login(teammate)
    assert client.get(reverse("accounts:activity", args=[activity.pk])).status_code == 200
    url = reverse("accounts:activity_edit", args=[activity.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, log_body(account, version=1)).status_code == 403


def test_an_rm_does_not_see_a_teammates_activity_404(client, rm, teammate):
    activity = ActivityFactory(account=AccountFactory(owner=teammate))
    client.force_login(rm)
    assert client.get(reverse("accounts:activity", args=[activity.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("accounts:activity", "get"),
        ("accounts:activity_edit", "get"),
        ("accounts:activity_edit", "post"),
        ("accounts:activity_complete", "get"),
        ("accounts:activity_delete", "post"),
        ("accounts:activity_follow_up_done", "post"),
    ],
)
@pytest.mark.parametrize("outsider", ["other_rm", "other_leader"])
def test_another_teams_user_gets_404_on_every_activity_url(
    client, account, name, method, outsider, request
):
    activity = ActivityFactory(account=account, next_step="x", next_step_due=today())
    client.force_login(request.getfixturevalue(outsider))
    response = getattr(client, method)(reverse(name, args=[activity.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("outsider", ["other_rm", "other_leader"])
def test_another_teams_activities_are_not_in_the_list(client, account, outsider, request):
    activity = ActivityFactory(account=account, outcome="Secret renewal talk")
    client.force_login(request.getfixturevalue(outsider))
    response = client.get(reverse("accounts:activities"))
    assert response.status_code == 200
    assert activity not in response.context["page"].object_list
    assert "Secret renewal talk" not in response.text
    export = client.get(reverse("accounts:activities"), {"format": "csv"})
    assert "Secret renewal talk" not in b"".join(export.streaming_content).decode()


def test_the_leader_sees_the_team_and_filters_per_rm(client, leader, rm, teammate, account):
    mine = ActivityFactory(account=account)
    theirs = ActivityFactory(account=AccountFactory(owner=teammate))
    client.force_login(leader)
    everyone = client.get(reverse("accounts:activities")).context["page"].object_list
    assert set(everyone) == {mine, theirs}
    one = client.get(reverse("accounts:activities"), {"rm": teammate.pk})
    assert list(one.context["page"].object_list) == [theirs]


def test_the_executive_sees_the_bank(client, executive, account, other_rm):
    ours = ActivityFactory(account=account)
    theirs = ActivityFactory(account=AccountFactory(owner=other_rm))
    client.force_login(executive)
    listed = client.get(reverse("accounts:activities")).context["page"].object_list
    assert set(listed) == {ours, theirs}


def test_the_list_downloads_as_excel(client, leader, account):
    ActivityFactory(account=account)
    client.force_login(leader)
    response = client.get(reverse("accounts:activities"), {"format": "xlsx"})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]


# --- My week -------------------------------------------------------------------------------


def test_an_rm_lands_on_my_week(client, rm):
    client.force_login(rm)
    assert client.get("/").url == reverse("accounts:my_week")


def test_my_week_states_the_gap_in_words(client, rm, account, standard):
    ActivityFactory.create_batch(8, account=account, kind="call", date=monday())
    ActivityFactory(account=account, kind="visit", date=monday())
    ActivityFactory.create_batch(2, account=account, kind="review", date=monday())
    client.force_login(rm)
    response = client.get(reverse("accounts:my_week"))
    assert response.context["week"].gap == "2 visits short of the standard this week"
    assert "2 visits short of the standard this week" in response.text


def test_planned_activities_do_not_count_but_show_what_they_would_make(
    client, rm, account, standard
):
    ActivityFactory.create_batch(8, account=account, kind="call", date=monday())
    ActivityFactory.create_batch(2, account=account, kind="review", date=monday())
    ActivityFactory.create_batch(
        3, account=account, kind="visit", status="planned", outcome="", date=monday() + 6 * DAY
    )
    client.force_login(rm)
    week = client.get(reverse("accounts:my_week")).context["week"]
    assert week.gap == "3 visits short of the standard this week"
    assert week.gap_with_planned == "With what is planned: on standard."


def test_a_week_on_standard_says_so(client, rm, account, standard):
    ActivityFactory.create_batch(8, account=account, kind="call", date=monday())
    ActivityFactory.create_batch(3, account=account, kind="meeting", date=monday())
    ActivityFactory.create_batch(2, account=account, kind="review", date=monday())
    client.force_login(rm)
    assert client.get(reverse("accounts:my_week")).context["week"].gap == "On standard this week"


def test_my_week_navigates_to_the_previous_week(client, rm, account, standard):
    last_week = monday() - 7 * DAY
    ActivityFactory(account=account, kind="call", date=last_week + DAY, outcome="Last week's")
    client.force_login(rm)
    response = client.get(reverse("accounts:my_week"), {"week": last_week.isoformat()})
    assert response.context["week"].start == last_week
    assert "that week" in response.context["week"].gap
    assert "Last week&#x27;s" in response.text or "Last week's" in response.text


def test_follow_ups_due_are_listed_and_overdue_ones_marked(client, rm, account):
    ActivityFactory(account=account, next_step="Send the offer", next_step_due=today() - 2 * DAY)
    client.force_login(rm)
    response = client.get(reverse("accounts:my_week"))
    assert [f.next_step for f in response.context["week"].follow_ups] == ["Send the offer"]
    assert "overdue" in response.text


def test_a_follow_up_is_ticked_off_from_my_week(client, rm, account):
    activity = ActivityFactory(account=account, next_step="Send", next_step_due=today())
    client.force_login(rm)
    response = client.post(
        reverse("accounts:activity_follow_up_done", args=[activity.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    activity.refresh_from_db()
    assert activity.next_step_done_on == today()
    assert client.get(reverse("accounts:my_week")).context["week"].follow_ups == []


def test_my_week_leaves_a_slot_for_the_product_mix(client, rm):
    client.force_login(rm)
    assert 'id="product-mix-slot"' in client.get(reverse("accounts:my_week")).text


def test_a_leader_is_sent_from_my_week_to_the_team_list(client, leader):
    client.force_login(leader)
    assert client.get(reverse("accounts:my_week")).url == reverse("accounts:activities")


# --- query counts --------------------------------------------------------------------------

# session, user, the account the field names (once), the RM and account exist (full_clean's
# foreign keys), the database checks full_clean validates (3, each in a savepoint: 9
# statements), the insert, its history row and the history's participants; savepoints
# of the transaction. The same for a book of 3 and of 60 accounts.
LOG_QUERIES = 19
# session, user, the plan year and the style's standard, the week's activities, their
# participants, the follow-ups due; the product mix slot (its plan year, the closed month,
# the RM's target line: planning.selectors.product_mix); the bell's unread count. The same
# for 3 and 60 activities.
MY_WEEK_QUERIES = 11


@pytest.mark.parametrize("rows", [3, 60])
def test_logging_an_activity_costs_the_same_queries_for_any_book(
    client, rm, rows, django_assert_max_num_queries
):
    accounts = AccountFactory.create_batch(rows, owner=rm)
    client.force_login(rm)
    cache.clear()
    with django_assert_max_num_queries(LOG_QUERIES):
        response = client.post(reverse("accounts:activity_log"), log_body(accounts[0]))
    assert response.status_code == 302


@pytest.mark.parametrize("rows", [3, 60])
def test_my_week_costs_the_same_queries_for_few_and_many_activities(
    client, rm, leader, account, standard, rows, django_assert_max_num_queries
):
    for i in range(rows):
        a = ActivityFactory(
            account=account,
            kind=["call", "visit", "review"][i % 3],
            date=monday() + (i % 5) * DAY,
            next_step="Follow up",
            next_step_due=today() + (i % 3) * DAY,
        )
        a.participants.add(leader)
    client.force_login(rm)
    with django_assert_max_num_queries(MY_WEEK_QUERIES):
        response = client.get(reverse("accounts:my_week"))
    assert response.context["week"].done == rows
