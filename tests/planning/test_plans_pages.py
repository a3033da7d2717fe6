"""The plan screens: My plan, a plan page, Team plans. Who sees what (404), who may act
(403), inline saves with htmx and without, the optimistic version, submitting, deciding."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from planning.models import ActivityStandard, Comment, TerritoryPlan
from planning.services import plans as services

from ..factories import (
    AccountFactory,
    CommentFactory,
    CompleteTerritoryPlanFactory,
    ExecutiveFactory,
    PlanYearFactory,
    RelationshipPlanFactory,
    RmFactory,
    TargetLineFactory,
    TargetSetFactory,
    TerritoryPlanFactory,
    TierFactory,
    metric,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = TerritoryPlan.Status


@pytest.fixture
def plan_year():
    year = PlanYearFactory(year=2027)
    for style, calls, visits, reviews in (
        ("finder", 12, 5, 2),
        ("minder", 8, 4, 4),
        ("both", 10, 4, 2),
    ):
        ActivityStandard.objects.create(
            plan_year=year,
            rm_style=style,
            calls_per_week=calls,
            visits_per_week=visits,
            reviews_per_week=reviews,
        )
    return year


@pytest.fixture
def plan(rm, plan_year):
    return TerritoryPlanFactory(rm=rm, plan_year=plan_year)


@pytest.fixture
def complete_plan(rm, plan_year):
    return CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)


@pytest.fixture
def submitted_plan(complete_plan, rm):
    return services.territory_plan_submit(plan_id=complete_plan.pk, by=rm)


@pytest.fixture
def endorsed_plan(submitted_plan, leader):
    return services.territory_plan_endorse(plan_id=submitted_plan.pk, by=leader)


def section_url(plan, section):
    return reverse("planning:plan_section", args=[plan.pk, section])


def goals_post(version, **overrides):
    data = {
        "goals-version": version,
        "goals-goals_personal": "Be the go-to banker for family firms.",
        "goals-goals_business": "Grow loans 10 %.",
        "goals-goals_compensation": "Full product bonus.",
        "goals-goals_market": "Three new relationships in the harbour.",
    }
    data.update(overrides)
    return data


# --- My plan -------------------------------------------------------------------------------


def test_my_plan_starts_the_rms_plan_for_the_current_year_on_first_visit(client, rm, plan_year):
    client.force_login(rm)
    response = client.get(reverse("planning:my_plan"))
    plan = TerritoryPlan.objects.get(rm=rm, plan_year=plan_year)
    assert response.context["plan"] == plan
    assert plan.status == Status.DRAFT
    assert "My plan 2027" in response.text


def test_my_plan_reopens_the_same_plan_on_the_next_visit(client, rm, plan):
    client.force_login(rm)
    client.get(reverse("planning:my_plan"))
    assert client.get(reverse("planning:my_plan")).context["plan"] == plan
    assert TerritoryPlan.objects.filter(rm=rm).count() == 1


def test_my_plan_without_an_open_year_is_a_friendly_page(client, rm):
    client.force_login(rm)
    response = client.get(reverse("planning:my_plan"))
    assert response.status_code == 200
    assert "No plan year is open yet" in response.text
    assert not TerritoryPlan.objects.exists()


def test_my_plan_sends_a_leader_to_team_plans(client, leader, plan_year):
    client.force_login(leader)
    response = client.get(reverse("planning:my_plan"))
    assert response.url == reverse("planning:team_plans")


def test_my_plan_is_not_for_administrators(client, administrator, plan_year):
    client.force_login(administrator)
    assert client.get(reverse("planning:my_plan")).status_code == 403


def test_my_plan_shows_every_section_as_a_labelled_form(client, rm, plan):
    client.force_login(rm)
    text = client.get(reverse("planning:my_plan")).text
    for key, spec in services.SECTIONS.items():
        assert f'id="section-{key}"' in text
        assert f"Save {spec['title'].lower()}" in text
    for field_id in re.findall(r'<(?:input|textarea)[^>]*id="(id_[^"]+)"', text):
        if field_id.endswith("-version"):
            continue
        assert f'for="{field_id}"' in text, f"{field_id} has no label"


def test_my_plan_shows_progress(client, rm, complete_plan):
    complete_plan.risks = ""
    complete_plan.save()
    client.force_login(rm)
    response = client.get(reverse("planning:my_plan"))
    assert response.context["sections_done"] == 6
    assert "<strong>6 of 7</strong> sections complete" in response.text


def test_measures_offer_the_rms_latest_target_lines_only(client, rm, plan, plan_year, team):
    old = TargetSetFactory(
        plan_year=plan_year, scope="rm", team=None, rm=rm, created_by=team.leader
    )
    old_line = TargetLineFactory(target_set=old, metric=metric("loan_growth"))
    new = TargetSetFactory(
        plan_year=plan_year, scope="rm", team=None, rm=rm, created_by=team.leader, revision=2
    )
    new_line = TargetLineFactory(target_set=new, metric=metric("deposit_growth"))
    TargetLineFactory(target_set__team=team)  # the team's, not the RM's
    client.force_login(rm)
    form = client.get(reverse("planning:my_plan")).context["sections"][2].form
    assert list(form.fields["measured_lines"].queryset) == [new_line]
    assert old_line not in form.fields["measured_lines"].queryset


def test_top_accounts_are_chosen_from_the_rms_own_book(client, rm, plan, teammate):
    mine = AccountFactory(owner=rm, name="Harbor Logistics")
    covered = AccountFactory(owner=teammate, covering_rm=rm, name="Alpine Dairy")
    AccountFactory(owner=teammate, name="Not Mine Ltd")
    client.force_login(rm)
    sections = client.get(reverse("planning:my_plan")).context["sections"]
    choices = set(sections[4].form.fields["top_accounts"].queryset)
    assert choices == {mine, covered}


# --- saving a section inline ---------------------------------------------------------------


def test_rm_saves_a_section_with_htmx_and_gets_the_section_back(client, rm, plan):
    client.force_login(rm)
    response = client.post(section_url(plan, "goals"), goals_post(plan.version), **HTMX)
    plan.refresh_from_db()
    assert response.status_code == 200
    assert plan.goals_market == "Three new relationships in the harbour."
    assert "Saved." in response.text
    assert "<html" not in response.text
    assert 'id="plan-sidebar" hx-swap-oob="true"' in response.text
    assert "<strong>1 of 7</strong> sections complete" in response.text


def test_rm_saves_a_section_without_javascript(client, rm, plan):
    client.force_login(rm)
    response = client.post(
        section_url(plan, "strategies"),
        {
            "strategies-version": plan.version,
            "strategies-strategies": "Referrals from accountants.",
        },
    )
    plan.refresh_from_db()
    assert response.status_code == 302
    assert response.url == f"{plan.get_absolute_url()}#section-strategies"
    assert plan.strategies == "Referrals from accountants."
    assert "Strategies: saved." in client.get(response.url).text


def test_saving_one_section_leaves_the_others_untouched(client, rm, complete_plan):
    client.force_login(rm)
    client.post(
        section_url(complete_plan, "risks"),
        {
            "risks-version": complete_plan.version,
            "risks-risks": "A rival bank courts the harbour firms.",
        },
    )
    complete_plan.refresh_from_db()
    assert complete_plan.strategies.startswith("Quarterly reviews")
    assert complete_plan.top_accounts.count() == 1


def test_saving_catches_up_the_other_forms_read_at_the_same_version(client, rm, plan):
    """Two sections saved one after the other from the same page both go through."""
    client.force_login(rm)
    v = plan.version
    response = client.post(
        section_url(plan, "goals"),
        {**goals_post(v), "strategies-version": v, "risks-version": v - 1, "submit-version": v},
        **HTMX,
    )
    assert f'name="strategies-version" id="id_strategies-version" value="{v + 1}"' in response.text
    assert 'name="risks-version"' not in response.text  # already behind: stays behind
    second = client.post(
        section_url(plan, "strategies"),
        {"strategies-version": v + 1, "strategies-strategies": "Accountant referrals."},
        **HTMX,
    )
    assert second.status_code == 200
    plan.refresh_from_db()
    assert (plan.goals_personal != "", plan.strategies) == (True, "Accountant referrals.")


def test_stale_save_is_refused_and_shows_the_current_text(client, rm, plan):
    read_at = plan.version
    services.territory_plan_save_section(
        plan_id=plan.pk,
        section="strategies",
        data={"strategies": "Written in the other tab."},
        by=rm,
        expected_version=read_at,
    )
    client.force_login(rm)
    response = client.post(
        section_url(plan, "strategies"),
        {"strategies-version": read_at, "strategies-strategies": "Written in this tab."},
        **HTMX,
    )
    plan.refresh_from_db()
    assert response.status_code == 409
    assert plan.strategies == "Written in the other tab."
    assert "changed after you opened it" in response.text
    assert "Written in the other tab." in response.text  # the current value, in the form
    assert "Written in this tab." in response.text  # what they typed, kept to copy back
    assert f'value="{plan.version}"' in response.text


def test_stale_save_without_javascript_re_renders_the_page_with_the_conflict(client, rm, plan):
    read_at = plan.version
    services.territory_plan_save_section(
        plan_id=plan.pk, section="risks", data={"risks": "Theirs."}, by=rm, expected_version=None
    )
    client.force_login(rm)
    response = client.post(
        section_url(plan, "risks"), {"risks-version": read_at, "risks-risks": "Mine."}
    )
    assert response.status_code == 409
    assert "changed after you opened it" in response.text
    assert "My plan 2027" in response.text


def test_invalid_section_re_renders_with_the_reason(client, rm, plan):
    client.force_login(rm)
    response = client.post(
        section_url(plan, "activity"),
        {
            "activity-version": plan.version,
            "activity-planned_calls_per_week": "-3",
            "activity-planned_visits_per_week": "lots",
            "activity-planned_reviews_per_week": "2",
        },
        **HTMX,
    )
    plan.refresh_from_db()
    assert response.status_code == 400
    assert "greater than or equal to 0" in response.text
    assert "Enter a number." in response.text
    assert plan.planned_reviews_per_week is None


def test_top_account_outside_the_book_is_refused(client, rm, plan, other_rm):
    foreign = AccountFactory(owner=other_rm)
    client.force_login(rm)
    response = client.post(
        section_url(plan, "top_accounts"),
        {"top_accounts-version": plan.version, "top_accounts-top_accounts": [foreign.pk]},
        **HTMX,
    )
    assert response.status_code == 400
    assert not plan.top_accounts.exists()


def test_unknown_section_is_404(client, rm, plan):
    client.force_login(rm)
    assert client.post(section_url(plan, "salary"), {}).status_code == 404


def test_leader_cannot_edit_an_rms_plan(client, leader, plan):
    client.force_login(leader)
    response = client.post(section_url(plan, "goals"), goals_post(plan.version), **HTMX)
    plan.refresh_from_db()
    assert response.status_code == 403
    assert plan.goals_personal == ""


def test_leader_sees_no_section_forms(client, leader, complete_plan):
    client.force_login(leader)
    response = client.get(complete_plan.get_absolute_url())
    assert all(s.form is None for s in response.context["sections"])
    assert "Save goals" not in response.text
    assert complete_plan.goals_personal in response.text


def test_rm_cannot_edit_a_submitted_plan(client, rm, submitted_plan):
    client.force_login(rm)
    response = client.post(section_url(submitted_plan, "goals"), goals_post(submitted_plan.version))
    assert response.status_code == 409
    assert "can be changed again only if it is returned" in response.text


# --- submitting ----------------------------------------------------------------------------


def test_submit_with_missing_sections_names_them_in_each_section(client, rm, plan):
    client.force_login(rm)
    plan.strategies = "Referrals."
    plan.save()
    response = client.post(
        reverse("planning:plan_submit", args=[plan.pk]), {"submit-version": plan.version}
    )
    plan.refresh_from_db()
    assert response.status_code == 400
    assert plan.status == Status.DRAFT
    assert set(response.context["missing_shown"]) == set(services.SECTIONS) - {"strategies"}
    assert "Not submitted yet: Goals, Measures" in response.text
    assert "Name at least one top account." in response.text
    assert "Plan your calls, visits and reviews per week." in response.text
    sections = {s.key: s for s in response.context["sections"]}
    assert sections["strategies"].missing is None
    assert sections["top_accounts"].highlight_missing


def test_complete_plan_is_submitted_and_becomes_read_only(client, rm, complete_plan):
    client.force_login(rm)
    response = client.post(
        reverse("planning:plan_submit", args=[complete_plan.pk]),
        {"submit-version": complete_plan.version, "submit-comment": "Ready for you."},
        follow=True,
    )
    complete_plan.refresh_from_db()
    assert complete_plan.status == Status.SUBMITTED
    assert "Submitted." in response.text
    assert "Save goals" not in response.text
    assert "Ready for you." in response.text
    assert Comment.objects.get(territory_plan=complete_plan).kind == Comment.Kind.SUBMITTED


def test_submitting_a_plan_that_changed_in_another_tab_is_refused(client, rm, complete_plan):
    read_at = complete_plan.version
    services.territory_plan_save_section(
        plan_id=complete_plan.pk,
        section="risks",
        data={"risks": ""},
        by=rm,
        expected_version=read_at,
    )
    client.force_login(rm)
    response = client.post(
        reverse("planning:plan_submit", args=[complete_plan.pk]), {"submit-version": read_at}
    )
    complete_plan.refresh_from_db()
    assert response.status_code == 409
    assert "Read it once more, then submit" in response.text
    assert complete_plan.status == Status.DRAFT


def test_leader_cannot_submit_an_rms_plan(client, leader, complete_plan):
    client.force_login(leader)
    response = client.post(
        reverse("planning:plan_submit", args=[complete_plan.pk]),
        {"submit-version": complete_plan.version},
    )
    assert response.status_code == 403


# --- the leader's review ---------------------------------------------------------------------


def test_leader_endorses_a_submitted_plan_via_the_page(client, leader, submitted_plan):
    client.force_login(leader)
    page = client.get(submitted_plan.get_absolute_url())
    assert "endorse" in page.context["actions"]
    assert ">Endorse</button>" in page.text
    response = client.post(
        reverse("planning:plan_endorse", args=[submitted_plan.pk]),
        {"endorse-comment": "Solid."},
        follow=True,
    )
    submitted_plan.refresh_from_db()
    assert (submitted_plan.status, submitted_plan.endorsed_by) == (Status.ENDORSED, leader)
    assert "Endorsed: the plan goes to the executives." in response.text


def test_endorsing_twice_endorses_once_and_says_why(client, leader, submitted_plan):
    client.force_login(leader)
    url = reverse("planning:plan_endorse", args=[submitted_plan.pk])
    client.post(url, {})
    second = client.post(url, {})
    assert second.status_code == 409
    assert "only a submitted plan is endorsed" in second.text
    assert Comment.objects.filter(kind=Comment.Kind.ENDORSED).count() == 1


def test_leader_returns_a_plan_with_a_comment_the_rm_sees_at_the_top(
    client, leader, rm, submitted_plan
):
    client.force_login(leader)
    client.post(
        reverse("planning:plan_return", args=[submitted_plan.pk]),
        {"return-comment": "Name the harbour prospects."},
    )
    submitted_plan.refresh_from_db()
    assert submitted_plan.status == Status.RETURNED
    client.force_login(rm)
    response = client.get(reverse("planning:my_plan"))
    assert response.context["return_comment"].text == "Name the harbour prospects."
    assert re.search(r'id="return-comment".*Name the harbour prospects', response.text, re.S)
    assert "Save goals" in response.text  # editable again


def test_return_needs_a_comment(client, leader, submitted_plan):
    client.force_login(leader)
    response = client.post(
        reverse("planning:plan_return", args=[submitted_plan.pk]), {"return-comment": "  "}
    )
    submitted_plan.refresh_from_db()
    assert response.status_code == 400
    assert "Say why the plan goes back" in response.text
    assert submitted_plan.status == Status.SUBMITTED


def test_rm_cannot_endorse_or_return_their_own_plan(client, rm, submitted_plan):
    client.force_login(rm)
    assert (
        client.post(reverse("planning:plan_endorse", args=[submitted_plan.pk])).status_code == 403
    )
    response = client.post(
        reverse("planning:plan_return", args=[submitted_plan.pk]), {"return-comment": "x"}
    )
    assert response.status_code == 403


def test_executive_approves_an_endorsed_plan_via_the_page(client, executive, endorsed_plan):
    client.force_login(executive)
    page = client.get(endorsed_plan.get_absolute_url())
    assert {"approve", "return"} <= page.context["actions"]
    client.post(reverse("planning:plan_approve", args=[endorsed_plan.pk]), {})
    endorsed_plan.refresh_from_db()
    assert (endorsed_plan.status, endorsed_plan.approved_by) == (Status.APPROVED, executive)


def test_executive_cannot_approve_a_plan_not_yet_endorsed(client, executive, submitted_plan):
    client.force_login(executive)
    response = client.post(reverse("planning:plan_approve", args=[submitted_plan.pk]), {})
    assert response.status_code == 409
    assert "only a plan endorsed by its leader is approved" in response.text


def test_leader_cannot_approve(client, leader, endorsed_plan):
    client.force_login(leader)
    assert client.post(reverse("planning:plan_approve", args=[endorsed_plan.pk])).status_code == 403


# --- comments and history --------------------------------------------------------------------


def test_leader_comments_on_a_plan_with_htmx(client, leader, submitted_plan):
    client.force_login(leader)
    response = client.post(
        reverse("planning:plan_comment", args=[submitted_plan.pk]),
        {"comment-text": "What about Harbor Logistics?"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "What about Harbor Logistics?" in response.text
    assert "<html" not in response.text
    assert Comment.objects.filter(author=leader, kind=Comment.Kind.COMMENT).count() == 1


def test_empty_comment_is_refused_with_the_reason(client, rm, plan):
    client.force_login(rm)
    response = client.post(reverse("planning:plan_comment", args=[plan.pk]), {"comment-text": ""})
    assert response.status_code == 400
    assert "This field is required." in response.text


def test_history_shows_who_changed_which_field_from_what_to_what(client, rm, leader, plan):
    client.force_login(rm)
    client.post(
        section_url(plan, "strategies"),
        {"strategies-version": plan.version, "strategies-strategies": "First idea."},
    )
    plan.refresh_from_db()
    client.post(
        section_url(plan, "strategies"),
        {"strategies-version": plan.version, "strategies-strategies": "Better idea."},
    )
    account = AccountFactory(owner=rm, name="Harbor Logistics")
    plan.refresh_from_db()
    client.post(
        section_url(plan, "top_accounts"),
        {"top_accounts-version": plan.version, "top_accounts-top_accounts": [account.pk]},
    )
    client.force_login(leader)
    history = client.get(plan.get_absolute_url()).context["history"]
    changes = [(e.who, c.label, c.old, c.new) for e in history for c in e.changes]
    assert (rm, "Strategies", "First idea.", "Better idea.") in changes
    assert (rm, "Strategies", "—", "First idea.") in changes
    assert (rm, "Top accounts", "—", "Harbor Logistics") in changes
    assert history[-1].created


def test_history_shows_decisions(client, leader, submitted_plan):
    client.force_login(leader)
    client.post(reverse("planning:plan_endorse", args=[submitted_plan.pk]), {})
    history = client.get(submitted_plan.get_absolute_url()).context["history"]
    newest = {(c.label, c.new) for c in history[0].changes}
    assert ("Status", "Endorsed by leader") in newest
    assert ("Endorsed by", str(leader)) in newest


# --- Team plans ------------------------------------------------------------------------------


def test_team_plans_lists_every_rm_of_the_team_with_status_coverage_and_disconnects(
    client, leader, rm, teammate, other_rm, plan_year, submitted_plan
):
    a_tier = TierFactory(code="A")
    covered = AccountFactory(owner=rm, tier=a_tier)
    AccountFactory(owner=rm, tier=a_tier)
    RelationshipPlanFactory(account=covered, plan_year=plan_year)
    client.force_login(leader)
    response = client.get(reverse("planning:team_plans"))
    rows = {row.rm: row for row in response.context["rows"]}
    assert set(rows) == {rm, teammate}
    assert rows[rm].plan == submitted_plan
    assert str(rows[rm].coverage) == "1 of 2"
    assert [d.kind for d in rows[rm].disconnects] == ["tier_a_without_relationship_plan"]
    assert rows[teammate].plan is None
    assert "Not started" in response.text
    assert "1 waiting for your review" in response.text


def test_team_plans_is_for_leaders_and_executives(client, rm, plan_year):
    client.force_login(rm)
    assert client.get(reverse("planning:team_plans")).status_code == 403


def test_executive_sees_every_rm_on_team_plans(client, executive, rm, other_rm, plan_year):
    client.force_login(executive)
    rms = {row.rm for row in client.get(reverse("planning:team_plans")).context["rows"]}
    assert {rm, other_rm} <= rms


# --- outside scope: 404 ----------------------------------------------------------------------

OUTSIDERS = ["other_rm", "other_leader", "teammate"]


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_on_a_plan_page(client, request, complete_plan, outsider):
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(complete_plan.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plan_submit", {"submit-version": 1}),
        ("plan_comment", {"comment-text": "Hello"}),
        ("plan_endorse", {}),
        ("plan_approve", {}),
        ("plan_return", {"return-comment": "No."}),
    ],
)
def test_outsider_gets_404_on_every_plan_action(
    client, request, complete_plan, outsider, name, data
):
    client.force_login(request.getfixturevalue(outsider))
    assert (
        client.post(reverse(f"planning:{name}", args=[complete_plan.pk]), data).status_code == 404
    )


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_gets_404_on_a_section_save(client, request, plan, outsider):
    client.force_login(request.getfixturevalue(outsider))
    assert client.post(section_url(plan, "goals"), goals_post(plan.version)).status_code == 404


def test_another_teams_plans_are_not_on_team_plans(client, other_leader, rm, submitted_plan):
    client.force_login(other_leader)
    rows = client.get(reverse("planning:team_plans")).context["rows"]
    assert rm not in {row.rm for row in rows}


def test_teammate_my_plan_is_their_own(client, teammate, complete_plan, plan_year):
    client.force_login(teammate)
    assert client.get(reverse("planning:my_plan")).context["plan"].rm == teammate


# --- query counts: flat in the number of accounts, plans and history ---------------------------


def _busy_plan(rm, plan_year, n):
    a_tier = TierFactory(code="A")
    accounts = AccountFactory.create_batch(n, owner=rm, tier=a_tier)
    lines_set = TargetSetFactory(
        plan_year=plan_year, scope="rm", team=None, rm=rm, created_by=rm.team.leader
    )
    TargetLineFactory(target_set=lines_set, metric=metric("loan_growth"))
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year, top_accounts=accounts[: n // 2])
    for account in accounts[: n // 2]:
        RelationshipPlanFactory(account=account, plan_year=plan_year)
    for i in range(n // 5):
        services.territory_plan_save_section(
            plan_id=plan.pk,
            section="strategies",
            data={"strategies": f"Idea {i}"},
            by=rm,
            expected_version=None,
        )
        CommentFactory(territory_plan=plan, author=rm, text=f"Note {i}")
    return plan


@pytest.mark.parametrize("n", [5, 50])
def test_my_plan_query_count_is_flat(client, rm, plan_year, n, django_assert_max_num_queries):
    _busy_plan(rm, plan_year, n)
    client.force_login(rm)
    # +1: the bell's unread count (org.context_processors).
    with django_assert_max_num_queries(27):
        response = client.get(reverse("planning:my_plan"))
    assert response.status_code == 200


@pytest.mark.parametrize("n", [5, 50])
def test_plan_page_query_count_is_flat_for_the_leader(
    client, leader, rm, plan_year, n, django_assert_max_num_queries
):
    plan = _busy_plan(rm, plan_year, n)
    services.territory_plan_submit(plan_id=plan.pk, by=rm)
    client.force_login(leader)
    with django_assert_max_num_queries(20):
        response = client.get(plan.get_absolute_url())
    assert "endorse" in response.context["actions"]


@pytest.mark.parametrize("n", [5, 50])
def test_section_save_query_count_is_flat(client, rm, plan_year, n, django_assert_max_num_queries):
    plan = _busy_plan(rm, plan_year, n)
    client.force_login(rm)
    with django_assert_max_num_queries(28):
        response = client.post(
            section_url(plan, "top_accounts"),
            {
                "top_accounts-version": plan.version + n // 5,
                "top_accounts-top_accounts": list(plan.top_accounts.values_list("pk", flat=True)),
            },
            **HTMX,
        )
    assert response.status_code == 200


@pytest.mark.parametrize("n", [5, 50])
def test_team_plans_query_count_is_flat(
    client, leader, team, plan_year, n, django_assert_max_num_queries
):
    a_tier = TierFactory(code="A")
    growth_set = TargetSetFactory(plan_year=plan_year, team=team)
    for i in range(n):
        member = RmFactory(team=team, rm_style=["finder", "minder", "both"][i % 3])
        AccountFactory(owner=member, tier=a_tier)
        plan = CompleteTerritoryPlanFactory(
            rm=member, plan_year=plan_year, planned_calls_per_week=Decimal(i % 12)
        )
        ts = TargetSetFactory(
            plan_year=plan_year, scope="rm", team=None, rm=member, created_by=leader
        )
        TargetLineFactory(target_set=ts, metric=metric("new_relationships"))
        if i % 2:
            services.territory_plan_submit(plan_id=plan.pk, by=member)
    assert growth_set
    client.force_login(leader)
    # +1: the bell's unread count (org.context_processors).
    with django_assert_max_num_queries(15):
        response = client.get(reverse("planning:team_plans"))
    assert len(response.context["rows"]) == n


def test_plan_page_for_an_executive_from_the_sign_off_queue(client, endorsed_plan):
    second = ExecutiveFactory(username="exec_two")
    client.force_login(second)
    response = client.get(endorsed_plan.get_absolute_url())
    assert ">Approve</button>" in response.text
    assert "Sign-off" in response.text
    assert "Save goals" not in response.text


def test_a_closed_years_plan_is_read_only_for_everyone(client, rm, leader, submitted_plan):
    submitted_plan.plan_year.is_open = False
    submitted_plan.plan_year.save()
    client.force_login(leader)
    page = client.get(submitted_plan.get_absolute_url())
    assert page.context["actions"] == {"comment"}
    assert ">Endorse</button>" not in page.text
    assert "FY 2027 is closed" in page.text
    response = client.post(reverse("planning:plan_endorse", args=[submitted_plan.pk]), {})
    assert response.status_code == 409
    assert "FY 2027 is closed" in response.text
