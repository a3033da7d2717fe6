"""The check-in screens: the leader's check-in screen, This week, My check-ins; who sees
and does what on them, htmx and plain posts, conflicts, and their query counts."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ProductFamily
from coaching.models import CheckIn, Commitment
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CadenceFactory,
    CheckInFactory,
    CommitmentFactory,
    ExecutiveFactory,
    ImprovementPlanFactory,
    OpportunityFactory,
    PositionFactory,
    ProductFactory,
    RmFactory,
    TargetLineFactory,
    TargetSetFactory,
    metric,
)

pytestmark = pytest.mark.django_db

WEEK = datetime.date(2027, 3, 8)
HTMX = {"HTTP_HX_REQUEST": "true"}


def at(day, hour=9):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def checkin(rm, leader):
    return CheckInFactory(rm=rm, period_start=WEEK)


@pytest.fixture
def earlier(rm):
    return CheckInFactory(
        rm=rm,
        period_start=WEEK - datetime.timedelta(days=7),
        status="completed",
        completed_at=at(WEEK - datetime.timedelta(days=7), 10),
        snapshot={},
    )


def url(name, *args):
    return reverse(f"coaching:{name}", args=args)


def approved_targets(rm, plan_year, codes):
    leader = rm.team.leader
    target_set = TargetSetFactory(
        plan_year=plan_year,
        scope="rm",
        team=None,
        rm=rm,
        created_by=leader,
        last_edited_by=leader,
        proposed_by=leader,
        status="approved",
        decided_by=ExecutiveFactory(username="exec_decides"),
    )
    for code in codes:
        TargetLineFactory(target_set=target_set, metric=metric(code), weight=100 // len(codes))


def notes_post(checkin, **notes):
    return {"version": checkin.version, **notes}


def forms_in(html: str) -> list[str]:
    """The action of every form on a page but the log-out form."""
    return [a for a in re.findall(r'<form[^>]*action="([^"]*)"', html) if a != reverse("logout")]


# --- the leader's check-in screen ----------------------------------------------------------------


def test_the_leaders_screen_has_everything_for_the_conversation(client, leader, checkin):
    client.force_login(leader)
    response = client.get(checkin.get_absolute_url())
    text = response.text
    for heading in (
        "Commitments",
        "Plan versus actual",
        "Activities against the standard",
        "Pipeline since",
        "The conversation",
        "New commitment",
        "Complete the check-in",
        "Cancel this check-in",
    ):
        assert heading in text
    for label in ("Deals", "Activities against the standard", "Field observation"):
        assert label in text
    assert response.context["live"] is True


def test_open_commitments_are_shown_first_carried_over_before_new_ones(
    client, leader, checkin, earlier
):
    CommitmentFactory(checkin=earlier, text="Carried: send the term sheet")
    CommitmentFactory(checkin=checkin, text="New: call the CFO")
    client.force_login(leader)
    text = client.get(checkin.get_absolute_url()).text
    assert (
        text.index('id="commitments"')
        < text.index("Carried: send the term sheet")
        < text.index("New: call the CFO")
        < text.index('id="plan"')
    )


def test_a_semi_annual_review_asks_for_a_rating_per_target_line_rb_and_overall(client, rm, leader):
    review = CheckInFactory(
        rm=rm,
        kind="semi_annual",
        period_start=datetime.date(2027, 1, 1),
        period_end=datetime.date(2027, 6, 30),
        scheduled_at=at(datetime.date(2027, 7, 5), 14),
    )
    client.force_login(leader)
    text = client.get(review.get_absolute_url()).text
    assert 'name="rb_rating"' in text
    assert 'name="overall_rating"' in text
    assert "Review summary" in text


def test_the_rms_open_improvement_plans_appear_for_coaching(client, leader, checkin, behaviours):
    ImprovementPlanFactory(rm=checkin.rm, behaviour=behaviours[0], actions="Ask two questions")
    client.force_login(leader)
    text = client.get(checkin.get_absolute_url()).text
    assert "Improvement plans to coach" in text
    assert "Ask two questions" in text


def test_customer_and_leader_text_is_escaped(client, leader, checkin):
    CommitmentFactory(checkin=checkin, text="<script>alert(1)</script>")
    client.force_login(leader)
    text = client.get(checkin.get_absolute_url()).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# --- ticking, adding, saving ------------------------------------------------------------------


def test_the_leader_ticks_a_carried_over_commitment_inline(client, leader, checkin, earlier):
    c = CommitmentFactory(checkin=earlier)
    client.force_login(leader)
    response = client.post(
        url("commitment_tick", c.pk), {"done": "1", "checkin": checkin.pk}, **HTMX
    )
    c.refresh_from_db()
    assert c.done
    assert response.text.strip().startswith(f'<tr id="commitment-{c.pk}"')
    assert "Saved" in response.text


def test_ticking_without_htmx_goes_back_to_the_check_in(client, rm, checkin):
    c = CommitmentFactory(checkin=checkin)
    client.force_login(rm)
    response = client.post(url("commitment_tick", c.pk), {"done": "1", "checkin": checkin.pk})
    assert response.status_code == 302
    assert response.url == checkin.get_absolute_url() + "#commitments"


def test_the_leader_adds_a_commitment_for_the_rm(client, leader, checkin):
    client.force_login(leader)
    response = client.post(
        url("commitment_add", checkin.pk),
        {"new-owner": "rm", "new-text": "Visit Harbor Logistics", "new-due_on": "2027-03-15"},
        **HTMX,
    )
    added = Commitment.objects.get()
    assert (added.owner, added.text, added.checkin) == (
        checkin.rm,
        "Visit Harbor Logistics",
        checkin,
    )
    assert "Visit Harbor Logistics" in response.text
    assert "Commitment recorded" in response.text


def test_a_commitment_without_text_is_refused_with_the_reason(client, leader, checkin):
    client.force_login(leader)
    response = client.post(
        url("commitment_add", checkin.pk),
        {"new-owner": "leader", "new-text": "", "new-due_on": "2027-03-15"},
        **HTMX,
    )
    assert response.status_code == 400
    assert "This field is required" in response.text
    assert not Commitment.objects.exists()


def test_saving_notes_with_htmx_answers_the_conversation_card(client, leader, checkin):
    client.force_login(leader)
    response = client.post(
        url("checkin_notes", checkin.pk),
        notes_post(checkin, deals_notes="Harbor renewal moved to closing"),
        **HTMX,
    )
    checkin.refresh_from_db()
    assert checkin.deals_notes == "Harbor renewal moved to closing"
    assert checkin.status == "in_progress"
    assert 'id="conversation"' in response.text
    assert f'value="{checkin.version}"' in response.text
    # the heading's status badge follows out of band: the first save started the check-in
    assert '<span id="checkin-status" hx-swap-oob="true">' in response.text
    assert "In progress" in response.text


def test_a_stale_notes_save_shows_the_conflict_and_what_was_typed(client, leader, checkin):
    client.force_login(leader)
    stale = notes_post(checkin, deals_notes="From the first tab")
    client.post(url("checkin_notes", checkin.pk), notes_post(checkin, deals_notes="Second tab"))
    response = client.post(url("checkin_notes", checkin.pk), stale, **HTMX)
    assert response.status_code == 409
    assert "Not saved." in response.text
    assert "From the first tab" in response.text  # what was typed, to copy back
    checkin.refresh_from_db()
    assert checkin.deals_notes == "Second tab"


def test_completing_saves_the_notes_and_shows_the_read_only_snapshot(client, leader, checkin):
    client.force_login(leader)
    response = client.post(
        url("checkin_complete", checkin.pk), notes_post(checkin, deals_notes="All on track")
    )
    assert response.status_code == 302
    checkin.refresh_from_db()
    assert (checkin.status, checkin.deals_notes) == ("completed", "All on track")
    page = client.get(checkin.get_absolute_url())
    assert page.context["live"] is False
    assert "snapshot of" in page.text
    assert forms_in(page.text) == []  # read-only: no form left for the leader


def test_a_completed_check_in_shows_the_snapshot_not_todays_figures(client, leader, rm):
    # Held on last week's Monday, so its window has elapsed when it is completed today (a
    # check-in of 2027 completed today would count nothing yet: issue 13, elapsed days only).
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday() + 7)
    checkin = CheckInFactory(rm=rm, period_start=monday)
    account = AccountFactory(owner=rm)
    ActivityFactory(account=account, date=monday, kind="call")
    client.force_login(leader)
    client.post(url("checkin_complete", checkin.pk), notes_post(checkin))
    ActivityFactory.create_batch(6, account=account, date=monday, kind="call")
    figures = client.get(checkin.get_absolute_url()).context["figures"]
    assert figures["activities"]["rows"][0]["count"] == 1


def test_completing_a_review_without_its_ratings_is_refused_and_keeps_the_typing(
    client, rm, leader
):
    review = CheckInFactory(
        rm=rm,
        kind="semi_annual",
        period_start=datetime.date(2027, 1, 1),
        period_end=datetime.date(2027, 6, 30),
        scheduled_at=at(datetime.date(2027, 7, 5), 14),
    )
    client.force_login(leader)
    response = client.post(
        url("checkin_complete", review.pk),
        notes_post(review, review_summary="A strong half", rb_rating="4"),
    )
    assert response.status_code == 400
    assert "The review needs an overall rating." in response.text
    assert "A strong half" in response.text
    review.refresh_from_db()
    assert review.status == "scheduled"


def test_a_posted_notes_save_to_a_completed_check_in_is_a_conflict(client, leader, checkin):
    client.force_login(leader)
    page_version = checkin.version
    client.post(url("checkin_complete", checkin.pk), notes_post(checkin))
    response = client.post(
        url("checkin_notes", checkin.pk), {"version": page_version, "deals_notes": "late"}
    )
    assert response.status_code == 409
    assert "completed" in response.text


def test_the_leader_cancels_with_a_reason(client, leader, checkin):
    client.force_login(leader)
    refused = client.post(url("checkin_cancel", checkin.pk), {"cancel-reason": ""})
    assert refused.status_code == 400
    client.post(url("checkin_cancel", checkin.pk), {"cancel-reason": "RM on holiday"})
    checkin.refresh_from_db()
    assert (checkin.status, checkin.cancel_reason) == ("cancelled", "RM on holiday")


# --- the RM ----------------------------------------------------------------------------------


@pytest.fixture
def completed(client, leader, checkin):
    client.force_login(leader)
    client.post(url("checkin_complete", checkin.pk), notes_post(checkin, deals_notes="Done"))
    checkin.refresh_from_db()
    return checkin


def test_the_rm_acknowledges_once_with_a_comment(client, rm, completed):
    client.force_login(rm)
    page = client.get(completed.get_absolute_url()).text
    assert forms_in(page) == [url("checkin_acknowledge", completed.pk)]
    client.post(url("checkin_acknowledge", completed.pk), {"ack-comment": "Agreed"})
    completed.refresh_from_db()
    assert (completed.acknowledged_at is not None, completed.rm_comment) == (True, "Agreed")
    again = client.post(url("checkin_acknowledge", completed.pk), {"ack-comment": ""})
    assert again.status_code == 409
    assert "Acknowledged by" in client.get(completed.get_absolute_url()).text


def test_the_rm_reads_an_open_check_in_and_may_tick_but_not_write(client, rm, checkin):
    c = CommitmentFactory(checkin=checkin)
    client.force_login(rm)
    page = client.get(checkin.get_absolute_url()).text
    assert forms_in(page) == [url("commitment_tick", c.pk)]
    refused = client.post(url("checkin_notes", checkin.pk), notes_post(checkin, deals_notes="x"))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("checkin_complete", {}),
        ("checkin_cancel", {"cancel-reason": "No"}),
        ("commitment_add", {"new-owner": "rm", "new-text": "x", "new-due_on": "2027-03-15"}),
    ],
)
def test_the_rm_cannot_run_their_own_check_in(client, rm, checkin, name, data):
    client.force_login(rm)
    data = {"version": checkin.version, **data}
    assert client.post(url(name, checkin.pk), data).status_code == 403
    checkin.refresh_from_db()
    assert checkin.status == "scheduled"


def test_the_leader_cannot_acknowledge_for_the_rm(client, leader, completed):
    client.force_login(leader)
    assert client.post(url("checkin_acknowledge", completed.pk), {}).status_code == 403


# --- executives: read-only --------------------------------------------------------------------


def test_an_executive_opens_any_check_in_read_only(client, executive, checkin):
    c = CommitmentFactory(checkin=checkin)
    client.force_login(executive)
    response = client.get(checkin.get_absolute_url())
    assert response.status_code == 200
    assert "Plan versus actual" in response.text
    assert forms_in(response.text) == []
    assert client.post(url("checkin_notes", checkin.pk), notes_post(checkin)).status_code == 403
    assert client.post(url("commitment_tick", c.pk), {"done": "1"}).status_code == 403


# --- outside scope: 404 on every page and post -------------------------------------------------


def _every_checkin_request(checkin, commitment):
    v = checkin.version
    return [
        ("get", url("checkin", checkin.pk), {}),
        ("post", url("checkin_notes", checkin.pk), {"version": v}),
        ("post", url("checkin_complete", checkin.pk), {"version": v}),
        ("post", url("checkin_cancel", checkin.pk), {"cancel-reason": "x"}),
        ("post", url("checkin_acknowledge", checkin.pk), {}),
        (
            "post",
            url("commitment_add", checkin.pk),
            {"new-owner": "rm", "new-text": "x", "new-due_on": "2027-03-15"},
        ),
        ("post", url("commitment_tick", commitment.pk), {"done": "1"}),
    ]


@pytest.mark.parametrize("who", ["other_rm", "other_leader", "teammate"])
def test_someone_outside_scope_gets_404_on_every_check_in_page_and_post(
    client, request, checkin, who
):
    commitment = CommitmentFactory(checkin=checkin)
    client.force_login(request.getfixturevalue(who))
    for method, path, data in _every_checkin_request(checkin, commitment):
        assert getattr(client, method)(path, data).status_code == 404, path
    checkin.refresh_from_db()
    commitment.refresh_from_db()
    assert (checkin.status, commitment.done) == ("scheduled", False)


def test_another_teams_leader_cannot_create_this_teams_check_ins(client, team, rm, other_leader):
    client.force_login(other_leader)
    response = client.post(url("checkins_create"), {"team": team.pk})
    assert response.status_code == 404
    assert not CheckIn.objects.exists()


# --- This week ---------------------------------------------------------------------------------


def test_this_week_lists_every_rm_of_the_team_with_this_weeks_check_ins(
    client, leader, rm, teammate, other_rm
):
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    this_week = CheckInFactory(
        rm=rm, period_start=monday, scheduled_at=at(monday) + datetime.timedelta(days=7 * 0)
    )
    CheckInFactory(rm=other_rm, period_start=monday)
    client.force_login(leader)
    rows = {row.rm: row for row in client.get(url("this_week")).context["rows"]}
    assert set(rows) == {rm, teammate}
    assert rows[rm].this_week == [this_week]
    assert rows[teammate].this_week == []


def test_this_week_highlights_overdue_and_missed_check_ins(client, leader, rm, teammate):
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    overdue = CheckInFactory(rm=rm, period_start=monday - datetime.timedelta(days=7))
    missed = CheckInFactory(
        rm=teammate, period_start=monday - datetime.timedelta(days=14), status="missed"
    )
    CheckInFactory(
        rm=teammate, period_start=monday - datetime.timedelta(days=70), status="missed"
    )  # long ago: no longer shown
    client.force_login(leader)
    response = client.get(url("this_week"))
    rows = {row.rm: row for row in response.context["rows"]}
    assert (rows[rm].overdue, rows[teammate].missed) == ([overdue], [missed])
    assert f'class="table-warning" id="rm-{rm.pk}"' in response.text
    assert f'class="table-danger" id="rm-{teammate.pk}"' in response.text


def test_the_create_button_creates_the_teams_coming_check_ins(client, leader, team, rm):
    client.force_login(leader)
    response = client.post(url("checkins_create"), {"team": team.pk}, follow=True)
    assert CheckIn.objects.filter(rm=rm).exists()
    assert "check-in(s) created" in response.text


@pytest.mark.parametrize("who", ["rm", "executive"])
def test_this_week_is_for_leaders(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("this_week")).status_code == 403


# --- My check-ins -------------------------------------------------------------------------------


def test_my_check_ins_lists_upcoming_past_and_my_open_commitments(
    client, rm, checkin, completed, teammate
):
    upcoming = CheckInFactory(rm=rm, period_start=WEEK + datetime.timedelta(days=7))
    CheckInFactory(rm=teammate, period_start=WEEK)
    open_one = CommitmentFactory(checkin=completed, text="Send the offer")
    CommitmentFactory(checkin=completed, done=True, done_at=timezone.now(), text="Done one")
    client.force_login(rm)
    response = client.get(url("my_checkins"))
    assert response.context["upcoming"] == [upcoming]
    assert response.context["past"] == [completed]
    assert [c["id"] for c in response.context["commitments"]] == [open_one.pk]
    assert forms_in(response.text) == [url("commitment_tick", open_one.pk)]


@pytest.mark.parametrize("who", ["leader", "executive"])
def test_my_check_ins_is_for_rms(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("my_checkins")).status_code == 403


# --- query counts: the same at few and many rows -------------------------------------------------


@pytest.mark.parametrize("commitments", [3, 30])
def test_check_in_screen_query_count_is_the_same_for_3_and_30_open_commitments(
    client, leader, checkin, earlier, commitments, behaviours, plan_year, django_assert_num_queries
):
    CommitmentFactory.create_batch(commitments, checkin=earlier)
    CommitmentFactory.create_batch(commitments, checkin=checkin)
    for behaviour in behaviours:
        ImprovementPlanFactory(rm=checkin.rm, behaviour=behaviour)
    approved_targets(checkin.rm, plan_year, ("loan_growth", "retention", "activities_per_week"))
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    for account in AccountFactory.create_batch(commitments, owner=checkin.rm):
        PositionFactory(account=account, product=loan, month=datetime.date(2026, 12, 1))
        PositionFactory(account=account, product=loan, month=datetime.date(2027, 2, 1))
        ActivityFactory(account=account, date=WEEK)
        OpportunityFactory(account=account, created_on=WEEK)
    client.force_login(leader)
    with django_assert_num_queries(CHECKIN_SCREEN_QUERIES):
        client.get(checkin.get_absolute_url())


@pytest.mark.parametrize("commitments", [3, 30])
def test_completed_check_in_screen_query_count_does_not_grow(
    client, leader, checkin, commitments, django_assert_num_queries
):
    CommitmentFactory.create_batch(commitments, checkin=checkin)
    client.force_login(leader)
    client.post(url("checkin_complete", checkin.pk), notes_post(checkin))
    with django_assert_num_queries(COMPLETED_SCREEN_QUERIES):
        client.get(checkin.get_absolute_url())


@pytest.mark.parametrize("rms", [2, 12])
def test_this_week_query_count_does_not_grow_with_rms(
    client, leader, team, rms, django_assert_num_queries
):
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    CadenceFactory(team=team)  # adherence counts what the cadence required
    for rm in RmFactory.create_batch(rms, team=team):
        CheckInFactory(rm=rm, period_start=monday)
        CheckInFactory(rm=rm, period_start=monday - datetime.timedelta(days=7))
    client.force_login(leader)
    with django_assert_num_queries(THIS_WEEK_QUERIES):
        client.get(url("this_week"))


@pytest.mark.parametrize("rows", [2, 20])
def test_my_check_ins_query_count_does_not_grow(client, rm, rows, django_assert_num_queries):
    for i in range(rows):
        checkin = CheckInFactory(rm=rm, period_start=WEEK + datetime.timedelta(days=7 * i))
        CommitmentFactory(checkin=checkin)
    client.force_login(rm)
    with django_assert_num_queries(MY_CHECKINS_QUERIES):
        client.get(url("my_checkins"))


# session, user, check-in; live figures: plan year, the last completed check-in, plan versus
# actual (closed month, target sets, lines, book, positions, activities), opportunities,
# activities by kind, the standard, the joint calls with the leader, commitments,
# improvement plans; the product mix against the standard (+3: closed month with the
# year's standard, the RM's target line, won new business); the bell's unread count
# (org.context_processors, +1 since the notifications).
CHECKIN_SCREEN_QUERIES = 22
# session, user, check-in: the figures come from the snapshot; the bell's unread count.
COMPLETED_SCREEN_QUERIES = 4
# session, user, teams, RMs, check-ins, adherence (the cadences, their RMs, the check-ins:
# 3 since issue 13, was 1); the bell's unread count.
THIS_WEEK_QUERIES = 9
# session, user, upcoming, past, open commitments; the bell's unread count.
MY_CHECKINS_QUERIES = 6
