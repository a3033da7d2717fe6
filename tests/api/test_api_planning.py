"""Planning over the API (docs/api.md): target sets, territory / relationship / development
plans and the stored variances.

The same access layer and the same services as the pages: outside scope is 404, inside
scope but not allowed is 403, an action invalid from the state is 409, four eyes is 403,
what a submission still needs is 400 with the sections named.
"""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from planning.models import (
    Comment,
    DevelopmentPlan,
    RelationshipPlan,
    TargetSet,
    TerritoryPlan,
    Variance,
)
from tests.api.urls import detail_url, ids, list_url
from tests.factories import (
    AccountFactory,
    CompleteTerritoryPlanFactory,
    DevelopmentGoalFactory,
    DevelopmentPlanFactory,
    ExecutiveFactory,
    PlannedActionFactory,
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

RESOURCES = [
    "target-set",
    "territory-plan",
    "relationship-plan",
    "development-plan",
    "variance",
]


@pytest.fixture
def plan_year():
    return PlanYearFactory()


def rm_targets(rm, plan_year, **fields):
    """The RM's draft targets, written by their leader, with one line of weight 100."""
    leader = rm.team.leader
    ts = TargetSetFactory(
        plan_year=plan_year,
        scope="rm",
        team=None,
        rm=rm,
        created_by=leader,
        last_edited_by=leader,
        **fields,
    )
    TargetLineFactory(target_set=ts)
    return ts


def variance(plan_year, *, code="loan_growth", month=1, **subject):
    start = datetime.date(plan_year.year, month, 1)
    scope = "rm" if "rm" in subject else "team" if "team" in subject else "bank"
    return Variance.objects.create(
        plan_year=plan_year,
        scope=scope,
        metric=metric(code),
        period="month",
        period_start=start,
        period_end=start.replace(day=28),
        planned=Decimal("10.00"),
        actual=Decimal("12.00"),
        difference=Decimal("2.00"),
        percent=Decimal("20.00"),
        as_of=start,
        computed_at=timezone.now(),
        **subject,
    )


@pytest.fixture
def records(rm, plan_year):
    """One record of each resource belonging to `rm` (team North)."""
    return {
        "target-set": rm_targets(rm, plan_year),
        "territory-plan": TerritoryPlanFactory(rm=rm, plan_year=plan_year),
        "relationship-plan": RelationshipPlanFactory(
            account=AccountFactory(owner=rm, tier=TierFactory(code="A")), plan_year=plan_year
        ),
        "development-plan": DevelopmentPlanFactory(rm=rm, plan_year=plan_year),
        "variance": variance(plan_year, rm=rm),
    }


def action_url(resource, pk, name):
    return reverse(f"api:{resource}-{name}", args=[pk])


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def put(client, url, body):
    return client.put(url, body, content_type="application/json")


def patch(client, url, body):
    return client.patch(url, body, content_type="application/json")


# --- IDOR matrix ---------------------------------------------------------------------------

OUTSIDERS = ["other_rm", "other_leader", "teammate"]


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_another_teams_user_gets_404_for_the_detail(api, records, resource, outsider, request):
    client = api(request.getfixturevalue(outsider))
    assert client.get(detail_url(resource, records[resource].pk)).status_code == 404


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_the_list_leaves_out_another_teams_record(api, records, resource, outsider, request):
    client = api(request.getfixturevalue(outsider))
    assert records[resource].pk not in ids(client.get(list_url(resource)))


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("insider", ["rm", "leader", "executive", "administrator"])
def test_the_rm_their_leader_and_the_whole_bank_see_the_record(
    api, records, resource, insider, request
):
    client = api(request.getfixturevalue(insider))
    pk = records[resource].pk
    assert pk in ids(client.get(list_url(resource)))
    assert client.get(detail_url(resource, pk)).json()["id"] == pk


# Every write and every action: (resource, method, url name, body).
WRITES = [
    ("target-set", "put", "detail", {"version": 1, "lines": []}),
    ("target-set", "post", "propose", {}),
    ("target-set", "post", "approve", {}),
    ("target-set", "post", "return", {"comment": "No."}),
    ("target-set", "post", "revise", {}),
    ("territory-plan", "post", "submit", {}),
    ("territory-plan", "post", "endorse", {}),
    ("territory-plan", "post", "approve", {}),
    ("territory-plan", "post", "return", {"comment": "No."}),
    ("territory-plan", "put", "section", {"version": 1, "risks": "x"}),
    ("relationship-plan", "patch", "detail", {"version": 1, "objectives": "x"}),
    ("development-plan", "patch", "detail", {"version": 1, "support_needed": "x"}),
]


def write_url(resource, pk, name):
    if name == "detail":
        return detail_url(resource, pk)
    if name == "section":
        return reverse(f"api:{resource}-section", args=[pk, "risks"])
    return action_url(resource, pk, name)


@pytest.mark.parametrize(("resource", "method", "name", "body"), WRITES)
@pytest.mark.parametrize("outsider", ["other_rm", "other_leader"])
def test_every_write_and_action_outside_scope_is_404_and_changes_nothing(
    api, records, resource, method, name, body, outsider, request
):
    record = records[resource]
    client = api(request.getfixturevalue(outsider))
    response = getattr(client, method)(
        write_url(resource, record.pk, name), body, content_type="application/json"
    )
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.version == 1


def test_variances_are_read_only(api, records, rm):
    client = api(rm)
    assert post(client, list_url("variance"), {}).status_code == 405
    assert client.delete(detail_url("variance", records["variance"].pk)).status_code == 405


@pytest.mark.parametrize("resource", ["territory-plan", "target-set"])
def test_plans_and_targets_cannot_be_deleted(api, records, resource, rm):
    assert api(rm).delete(detail_url(resource, records[resource].pk)).status_code == 405


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_a_junk_id_is_404_never_500(api, rm, resource, pk):
    assert api(rm).get(f"{list_url(resource)}{pk}/").status_code == 404


# --- authentication ------------------------------------------------------------------------


def test_a_token_authenticates_and_sees_what_its_user_sees(records, rm, other_rm):
    mine = Client().get(
        list_url("territory-plan"),
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=rm).key}",
    )
    theirs = Client().get(
        list_url("territory-plan"),
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other_rm).key}",
    )
    assert ids(mine) == {records["territory-plan"].pk}
    assert ids(theirs) == set()


def test_a_token_transition_needs_no_csrf_token(rm, plan_year):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        action_url("territory-plan", plan.pk, "submit"),
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=rm).key}",
    )
    assert response.status_code == 200


def test_a_session_transition_without_csrf_token_is_403(rm, plan_year):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    client = Client(enforce_csrf_checks=True)
    client.force_login(rm)
    response = client.post(
        action_url("territory-plan", plan.pk, "submit"), {}, content_type="application/json"
    )
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.status == TerritoryPlan.Status.DRAFT


def test_anonymous_gets_401(records):
    assert Client().get(list_url("target-set")).status_code == 401


# --- target sets ---------------------------------------------------------------------------


def test_a_target_set_shows_its_lines(api, records, rm):
    body = api(rm).get(detail_url("target-set", records["target-set"].pk)).json()
    assert body["plan_year"] == 2027
    assert body["rm_username"] == rm.username
    assert [(line["metric"], line["value"], line["weight"]) for line in body["lines"]] == [
        ("loan_growth", "10.00", 100)
    ]


def test_everyone_sees_the_banks_targets(api, plan_year, executive, other_rm):
    bank = TargetSetFactory(
        plan_year=plan_year,
        scope="bank",
        team=None,
        created_by=executive,
        last_edited_by=executive,
    )
    assert bank.pk in ids(api(other_rm).get(list_url("target-set")))


def test_a_leader_starts_an_rms_targets_201(api, leader, rm, plan_year):
    response = post(
        api(leader), list_url("target-set"), {"plan_year": 2027, "scope": "rm", "rm": rm.pk}
    )
    assert response.status_code == 201, response.content
    ts = TargetSet.objects.get()
    assert (ts.rm, ts.status, ts.created_by) == (rm, "draft", leader)
    assert response.json()["id"] == ts.pk


def test_starting_targets_of_a_foreign_rm_is_400_as_if_they_did_not_exist(
    api, leader, other_rm, plan_year
):
    response = post(
        api(leader), list_url("target-set"), {"plan_year": 2027, "scope": "rm", "rm": other_rm.pk}
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["rm"][0]
    assert not TargetSet.objects.exists()


def test_team_targets_without_a_team_are_400_naming_team(api, leader, plan_year):
    response = post(api(leader), list_url("target-set"), {"plan_year": 2027, "scope": "team"})
    assert response.status_code == 400
    assert list(response.json()) == ["team"]


def test_an_rm_may_not_start_targets_403(api, rm, plan_year):
    response = post(
        api(rm), list_url("target-set"), {"plan_year": 2027, "scope": "rm", "rm": rm.pk}
    )
    assert response.status_code == 403
    assert not TargetSet.objects.exists()


def test_starting_targets_twice_is_409(api, records, leader, rm):
    response = post(
        api(leader), list_url("target-set"), {"plan_year": 2027, "scope": "rm", "rm": rm.pk}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def lines_body(version, *lines):
    return {"version": version, "lines": list(lines)}


def test_the_leader_saves_the_lines_and_the_version_counts_the_save(api, records, leader):
    ts = records["target-set"]
    response = put(
        api(leader),
        detail_url("target-set", ts.pk),
        lines_body(
            1,
            {"metric": "loan_growth", "value": "12.50", "weight": 60},
            {"metric": "retention", "value": "95", "weight": 40},
        ),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2
    assert {(line["metric"], line["weight"]) for line in body["lines"]} == {
        ("loan_growth", 60),
        ("retention", 40),
    }


def test_saving_with_a_stale_version_is_409_and_changes_nothing(api, records, leader):
    ts = records["target-set"]
    response = put(
        api(leader),
        detail_url("target-set", ts.pk),
        lines_body(7, {"metric": "retention", "value": "95", "weight": 100}),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "StaleEdit"
    assert [line.metric.code for line in ts.lines.all()] == ["loan_growth"]


def test_an_rm_may_not_edit_their_own_targets_403(api, records, rm):
    response = put(
        api(rm),
        detail_url("target-set", records["target-set"].pk),
        lines_body(1, {"metric": "retention", "value": "95", "weight": 100}),
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"metric": "no_such_metric", "value": "1", "weight": 100}, "metric"),
        ({"metric": "loan_growth", "value": "x", "weight": 100}, "value"),
        ({"metric": "loan_growth", "value": "1", "weight": 101}, "weight"),
    ],
)
def test_a_bad_line_is_400_naming_the_line_and_field(api, records, leader, line, field):
    response = put(
        api(leader), detail_url("target-set", records["target-set"].pk), lines_body(1, line)
    )
    assert response.status_code == 400
    assert field in response.json()["lines"]["0"]


def test_the_leader_proposes_the_targets(api, records, leader):
    ts = records["target-set"]
    response = post(api(leader), action_url("target-set", ts.pk, "propose"), {"version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "proposed"
    assert response.json()["proposed_by"] == leader.pk


def test_proposing_targets_with_weights_not_adding_up_is_400_naming_weights(api, records, leader):
    ts = records["target-set"]
    ts.lines.update(weight=70)
    response = post(api(leader), action_url("target-set", ts.pk, "propose"))
    assert response.status_code == 400
    assert response.json()["code"] == "Incomplete"
    assert list(response.json()["missing"]) == ["weights"]


def test_proposing_with_a_stale_version_is_409(api, records, leader):
    ts = records["target-set"]
    response = post(api(leader), action_url("target-set", ts.pk, "propose"), {"version": 9})
    assert response.status_code == 409
    ts.refresh_from_db()
    assert ts.status == "draft"


@pytest.fixture
def proposed(records, leader):
    ts = records["target-set"]
    ts.status, ts.proposed_by, ts.proposed_at = "proposed", leader, timezone.now()
    ts.save()
    return ts


def test_an_executive_approves_proposed_targets(api, proposed, executive):
    response = post(api(executive), action_url("target-set", proposed.pk, "approve"))
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["decided_by"]) == (
        "approved",
        executive.pk,
    )


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_an_rm_or_leader_approving_targets_is_403(api, proposed, who, request):
    response = post(
        api(request.getfixturevalue(who)), action_url("target-set", proposed.pk, "approve")
    )
    assert response.status_code == 403
    proposed.refresh_from_db()
    assert proposed.status == "proposed"


def test_approving_a_draft_is_409(api, records, executive):
    response = post(api(executive), action_url("target-set", records["target-set"].pk, "approve"))
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def test_four_eyes_the_executive_who_proposed_the_banks_targets_may_not_approve_them_403(
    api, plan_year, executive
):
    bank = TargetSetFactory(
        plan_year=plan_year,
        scope="bank",
        team=None,
        status="proposed",
        created_by=executive,
        last_edited_by=executive,
        proposed_by=executive,
    )
    response = post(api(executive), action_url("target-set", bank.pk, "approve"))
    assert response.status_code == 403
    assert response.json()["code"] == "FourEyesViolation"
    approved = post(api(ExecutiveFactory()), action_url("target-set", bank.pk, "approve"))
    assert approved.json()["status"] == "approved"


def test_an_executive_returns_targets_with_a_comment(api, proposed, executive):
    response = post(
        api(executive), action_url("target-set", proposed.pk, "return"), {"comment": "Too low."}
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_comment"]) == (
        "returned",
        "Too low.",
    )


def test_returning_targets_without_a_comment_is_400_naming_comment(api, proposed, executive):
    response = post(api(executive), action_url("target-set", proposed.pk, "return"))
    assert response.status_code == 400
    assert list(response.json()) == ["comment"]
    proposed.refresh_from_db()
    assert proposed.status == "proposed"


def test_revising_approved_targets_is_201_a_new_draft_with_the_lines(api, proposed, leader):
    post(api(ExecutiveFactory()), action_url("target-set", proposed.pk, "approve"))
    response = post(api(leader), action_url("target-set", proposed.pk, "revise"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["revision"], body["previous"], body["status"]) == (2, proposed.pk, "draft")
    assert [line["metric"] for line in body["lines"]] == ["loan_growth"]


def test_revising_a_draft_is_409(api, records, leader):
    response = post(api(leader), action_url("target-set", records["target-set"].pk, "revise"))
    assert response.status_code == 409


def test_target_sets_filter_by_scope_and_status(api, records, proposed, plan_year, executive):
    bank = TargetSetFactory(
        plan_year=plan_year, scope="bank", team=None, created_by=executive, last_edited_by=executive
    )
    client = api(executive)
    assert ids(client.get(list_url("target-set"), {"scope": "bank"})) == {bank.pk}
    assert ids(client.get(list_url("target-set"), {"status": "proposed"})) == {proposed.pk}
    assert client.get(list_url("target-set"), {"status": "asleep"}).status_code == 400


@pytest.mark.parametrize(
    ("resource", "params", "field"),
    [
        ("target-set", {"team": "1.5"}, "team"),
        ("territory-plan", {"team": "99999999999999999999999"}, "team"),
        ("relationship-plan", {"owner": "me"}, "owner"),
        ("development-plan", {"plan_year": "12345"}, "plan_year"),
        ("territory-plan", {"status": "asleep"}, "status"),
        ("relationship-plan", {"review_from": "2027-02-30"}, "review_from"),
    ],
)
def test_a_junk_filter_value_is_400_naming_the_parameter(api, rm, resource, params, field):
    response = api(rm).get(list_url(resource), params)
    assert response.status_code == 400
    assert field in response.json()


# --- territory plans -----------------------------------------------------------------------


def test_a_plan_shows_its_sections_and_what_is_missing(api, records, rm):
    body = api(rm).get(detail_url("territory-plan", records["territory-plan"].pk)).json()
    assert body["status"] == "draft"
    assert set(body["missing_sections"]) == {
        "goals",
        "strategies",
        "measures",
        "activity",
        "top_accounts",
        "resources",
        "risks",
    }


def test_an_rm_starts_their_plan_201_then_200(api, rm, plan_year):
    client = api(rm)
    first = post(client, list_url("territory-plan"), {"plan_year": 2027})
    again = post(client, list_url("territory-plan"), {"plan_year": 2027})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] == TerritoryPlan.objects.get(rm=rm).pk


def test_a_leader_may_not_start_a_plan_403(api, leader, plan_year):
    response = post(api(leader), list_url("territory-plan"), {"plan_year": 2027})
    assert response.status_code == 403


def section_url(plan, section):
    return reverse("api:territory-plan-section", args=[plan.pk, section])


def test_the_rm_saves_a_section(api, records, rm):
    plan = records["territory-plan"]
    response = put(api(rm), section_url(plan, "risks"), {"version": 1, "risks": "Rates rise."})
    assert response.status_code == 200, response.content
    assert (response.json()["risks"], response.json()["version"]) == ("Rates rise.", 2)
    assert "risks" not in response.json()["missing_sections"]


def test_saving_a_section_ignores_fields_of_other_sections(api, records, rm):
    plan = records["territory-plan"]
    put(api(rm), section_url(plan, "risks"), {"version": 1, "risks": "r", "strategies": "s"})
    plan.refresh_from_db()
    assert (plan.risks, plan.strategies) == ("r", "")


def test_top_accounts_from_another_book_are_400_naming_the_field(api, records, rm, other_rm):
    foreign = AccountFactory(owner=other_rm)
    response = put(
        api(rm),
        section_url(records["territory-plan"], "top_accounts"),
        {"version": 1, "top_accounts": [foreign.pk]},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["top_accounts"]


def test_saving_a_section_at_a_stale_version_is_409(api, records, rm):
    response = put(api(rm), section_url(records["territory-plan"], "risks"), {"version": 3})
    assert response.status_code == 409
    assert response.json()["code"] == "StaleEdit"


def test_an_unknown_section_is_404(api, records, rm):
    response = put(api(rm), section_url(records["territory-plan"], "nope"), {"version": 1})
    assert response.status_code == 404


def test_a_leader_writing_an_rms_section_is_403(api, records, leader):
    response = put(api(leader), section_url(records["territory-plan"], "risks"), {"version": 1})
    assert response.status_code == 403


def test_the_rm_submits_a_complete_plan(api, rm, plan_year):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    response = post(
        api(rm),
        action_url("territory-plan", plan.pk, "submit"),
        {"comment": "Ready.", "version": 1},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    assert Comment.objects.get(territory_plan=plan).text == "Ready."


def test_submitting_an_empty_plan_is_400_naming_every_missing_section(api, records, rm):
    response = post(api(rm), action_url("territory-plan", records["territory-plan"].pk, "submit"))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "Incomplete"
    assert set(body["missing"]) == {
        "goals",
        "strategies",
        "measures",
        "activity",
        "top_accounts",
        "resources",
        "risks",
    }


def test_submitting_a_half_written_plan_names_only_what_is_missing(api, rm, plan_year):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year, risks="", strategies=" ")
    response = post(api(rm), action_url("territory-plan", plan.pk, "submit"))
    assert set(response.json()["missing"]) == {"risks", "strategies"}


@pytest.fixture
def submitted(rm, plan_year):
    return CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year, status="submitted")


def test_submitting_an_already_submitted_plan_is_409(api, submitted, rm):
    response = post(api(rm), action_url("territory-plan", submitted.pk, "submit"))
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def test_submitting_with_a_stale_version_is_409(api, rm, plan_year):
    plan = CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year)
    response = post(api(rm), action_url("territory-plan", plan.pk, "submit"), {"version": 5})
    assert response.status_code == 409
    assert response.json()["code"] == "StaleEdit"


def test_the_leader_endorses_a_submitted_plan(api, submitted, leader):
    response = post(api(leader), action_url("territory-plan", submitted.pk, "endorse"))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["endorsed_by"]) == ("endorsed", leader.pk)


@pytest.mark.parametrize("who", ["rm", "teammate", "executive"])
def test_only_the_rms_leader_endorses_403(api, submitted, who, request):
    client = api(request.getfixturevalue(who))
    response = post(client, action_url("territory-plan", submitted.pk, "endorse"))
    # The teammate does not see the plan at all.
    assert response.status_code == (404 if who == "teammate" else 403)


def test_the_leader_returns_a_submitted_plan_with_a_comment(api, submitted, leader):
    response = post(
        api(leader), action_url("territory-plan", submitted.pk, "return"), {"comment": "More."}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "returned"


def test_returning_a_plan_without_a_comment_is_400_naming_comment(api, submitted, leader):
    response = post(api(leader), action_url("territory-plan", submitted.pk, "return"))
    assert response.status_code == 400
    assert list(response.json()) == ["comment"]


@pytest.fixture
def endorsed(submitted, leader):
    submitted.status, submitted.endorsed_by = "endorsed", leader
    submitted.endorsed_at = timezone.now()
    submitted.save()
    return submitted


def test_an_executive_approves_an_endorsed_plan(api, endorsed, executive):
    response = post(api(executive), action_url("territory-plan", endorsed.pk, "approve"))
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["approved_by"]) == (
        "approved",
        executive.pk,
    )


@pytest.mark.parametrize("who", ["rm", "leader"])
def test_an_rm_or_leader_approving_a_plan_is_403(api, endorsed, who, request):
    response = post(
        api(request.getfixturevalue(who)), action_url("territory-plan", endorsed.pk, "approve")
    )
    assert response.status_code == 403
    endorsed.refresh_from_db()
    assert endorsed.status == "endorsed"


def test_approving_a_draft_plan_is_409(api, records, executive):
    plan = records["territory-plan"]
    response = post(api(executive), action_url("territory-plan", plan.pk, "approve"))
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


def test_an_executive_returns_an_endorsed_plan(api, endorsed, executive):
    response = post(
        api(executive), action_url("territory-plan", endorsed.pk, "return"), {"comment": "Redo."}
    )
    assert response.json()["status"] == "returned"


def test_a_comment_over_4000_characters_is_400_naming_comment(api, submitted, leader):
    response = post(
        api(leader), action_url("territory-plan", submitted.pk, "endorse"), {"comment": "x" * 4001}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["comment"]


def test_territory_plans_filter_by_status_and_team(api, submitted, plan_year, leader, team):
    draft = TerritoryPlanFactory(rm=RmFactory(team=team), plan_year=plan_year)
    client = api(leader)
    assert ids(client.get(list_url("territory-plan"), {"status": "submitted"})) == {submitted.pk}
    assert ids(client.get(list_url("territory-plan"), {"team": team.pk})) == {
        submitted.pk,
        draft.pk,
    }


# --- relationship and development plans ----------------------------------------------------


def test_a_relationship_plan_shows_its_actions(api, records, rm):
    plan = records["relationship-plan"]
    action = PlannedActionFactory(relationship_plan=plan)
    body = api(rm).get(detail_url("relationship-plan", plan.pk)).json()
    assert [a["id"] for a in body["actions"]] == [action.pk]
    assert body["account"] == plan.account_id


def test_the_rm_writes_a_relationship_plan_for_a_tier_a_account(api, rm, plan_year):
    account = AccountFactory(owner=rm, tier=TierFactory(code="A"))
    response = post(
        api(rm),
        list_url("relationship-plan"),
        {"account": account.pk, "plan_year": 2027, "intent": "must_keep", "objectives": "Keep."},
    )
    assert response.status_code == 201, response.content
    assert RelationshipPlan.objects.get().author == rm


def test_a_relationship_plan_for_a_tier_c_account_is_400(api, rm, plan_year):
    account = AccountFactory(owner=rm, tier=TierFactory(code="C"))
    response = post(
        api(rm),
        list_url("relationship-plan"),
        {"account": account.pk, "plan_year": 2027, "intent": "must_keep"},
    )
    assert response.status_code == 400
    assert not RelationshipPlan.objects.exists()


def test_a_second_relationship_plan_for_the_same_account_and_year_is_409(api, records, rm):
    plan = records["relationship-plan"]
    response = post(
        api(rm),
        list_url("relationship-plan"),
        {"account": plan.account_id, "plan_year": 2027, "intent": "must_grow"},
    )
    assert response.status_code == 409


def test_a_relationship_plan_for_a_foreign_account_is_400_on_account(api, rm, other_rm, plan_year):
    foreign = AccountFactory(owner=other_rm, tier=TierFactory(code="A"))
    response = post(
        api(rm),
        list_url("relationship-plan"),
        {"account": foreign.pk, "plan_year": 2027, "intent": "must_keep"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["account"]


def test_the_rm_changes_a_relationship_plan_at_its_version(api, records, rm):
    plan = records["relationship-plan"]
    response = patch(
        api(rm), detail_url("relationship-plan", plan.pk), {"version": 1, "resources": "CFO"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["resources"], response.json()["version"]) == ("CFO", 2)


def test_changing_a_relationship_plan_without_a_version_is_400_naming_version(api, records, rm):
    plan = records["relationship-plan"]
    response = patch(api(rm), detail_url("relationship-plan", plan.pk), {"resources": "CFO"})
    assert response.status_code == 400
    assert list(response.json()) == ["version"]


def test_changing_a_relationship_plan_at_a_stale_version_is_409(api, records, rm):
    plan = records["relationship-plan"]
    response = patch(
        api(rm), detail_url("relationship-plan", plan.pk), {"version": 4, "resources": "x"}
    )
    assert response.status_code == 409


def test_a_leader_changing_a_relationship_plan_is_403(api, records, leader):
    plan = records["relationship-plan"]
    response = patch(api(leader), detail_url("relationship-plan", plan.pk), {"version": 1})
    assert response.status_code == 403


def test_a_development_plan_shows_its_goals(api, records, leader):
    plan = records["development-plan"]
    goal = DevelopmentGoalFactory(development_plan=plan)
    body = api(leader).get(detail_url("development-plan", plan.pk)).json()
    assert [g["skill"] for g in body["goals"]] == [goal.skill]


def test_the_rm_writes_their_development_plan_201(api, rm, plan_year):
    response = post(
        api(rm), list_url("development-plan"), {"plan_year": 2027, "support_needed": "Coaching."}
    )
    assert response.status_code == 201, response.content
    assert DevelopmentPlan.objects.get().rm == rm


def test_a_second_development_plan_for_the_year_is_409(api, records, rm):
    response = post(api(rm), list_url("development-plan"), {"plan_year": 2027})
    assert response.status_code == 409


def test_a_leader_may_not_write_a_development_plan_403(api, leader, plan_year):
    assert post(api(leader), list_url("development-plan"), {"plan_year": 2027}).status_code == 403


def test_the_rm_changes_their_development_plan(api, records, rm):
    plan = records["development-plan"]
    response = patch(
        api(rm), detail_url("development-plan", plan.pk), {"version": 1, "review_on": "2027-06-30"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["review_on"] == "2027-06-30"


def test_a_leader_changing_an_rms_development_plan_is_403(api, records, leader):
    plan = records["development-plan"]
    response = patch(api(leader), detail_url("development-plan", plan.pk), {"version": 1})
    assert response.status_code == 403


def test_an_unknown_plan_year_is_400_naming_it(api, rm):
    response = post(api(rm), list_url("development-plan"), {"plan_year": 1999})
    assert response.status_code == 400
    assert list(response.json()) == ["plan_year"]


# --- variances -----------------------------------------------------------------------------


@pytest.fixture
def spread(rm, teammate, team, other_rm, other_team, plan_year):
    """Rows of every scope: two RMs of North, North, an RM of South, South, the bank."""
    return {
        "rm": variance(plan_year, rm=rm),
        "teammate": variance(plan_year, rm=teammate),
        "team": variance(plan_year, team=team),
        "other_rm": variance(plan_year, rm=other_rm),
        "other_team": variance(plan_year, team=other_team),
        "bank": variance(plan_year),
    }


def seen(client, **params):
    return ids(client.get(list_url("variance"), params))


def test_an_rm_sees_only_their_own_variances(api, spread, rm):
    assert seen(api(rm)) == {spread["rm"].pk}


def test_a_leader_sees_their_rms_and_their_team_not_the_bank(api, spread, leader):
    assert seen(api(leader)) == {spread["rm"].pk, spread["teammate"].pk, spread["team"].pk}


@pytest.mark.parametrize("who", ["executive", "administrator"])
def test_the_whole_bank_sees_every_variance(api, spread, who, request):
    assert seen(api(request.getfixturevalue(who))) == {row.pk for row in spread.values()}


def test_variances_filter_by_rm_team_metric_and_period(api, spread, executive, rm, team, plan_year):
    quarter = variance(plan_year, rm=rm, code="retention", month=4)
    quarter.period = "quarter"
    quarter.save()
    client = api(executive)
    assert seen(client, rm=rm.pk) == {spread["rm"].pk, quarter.pk}
    assert seen(client, team=team.pk) == {spread["team"].pk}
    assert seen(client, metric="retention") == {quarter.pk}
    assert seen(client, period="quarter") == {quarter.pk}
    assert seen(client, scope="bank") == {spread["bank"].pk}


def test_variances_filter_by_month_and_period_range(api, rm, plan_year):
    jan, mar = variance(plan_year, rm=rm, month=1), variance(plan_year, rm=rm, month=3)
    client = api(rm)
    assert seen(client, month="2027-03-15") == {mar.pk}
    assert seen(client, period_from="2027-02-01") == {mar.pk}
    assert seen(client, period_to="2027-02-01") == {jan.pk}


def test_variances_order_by_percent(api, rm, plan_year):
    low, high = variance(plan_year, rm=rm, month=1), variance(plan_year, rm=rm, month=2)
    Variance.objects.filter(pk=low.pk).update(percent=Decimal("-5"))
    rows = api(rm).get(list_url("variance"), {"ordering": "-percent"}).json()["results"]
    assert [row["id"] for row in rows] == [high.pk, low.pk]


def test_a_variance_shows_counts_whole_and_whether_on_course(api, rm, plan_year):
    row = variance(plan_year, rm=rm, code="new_relationships")
    body = api(rm).get(detail_url("variance", row.pk)).json()
    assert (body["actual"], body["planned"], body["on_course"]) == ("12", "10.00", True)
    assert (body["metric"], body["rm_username"], body["scope"]) == (
        "new_relationships",
        rm.username,
        "rm",
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "decade"}, "period"),
        ({"month": "2027-13-01"}, "month"),
        ({"rm": "me"}, "rm"),
        ({"scope": "world"}, "scope"),
        ({"rm": "99999999999999999999999"}, "rm"),
        ({"plan_year": "1e38"}, "plan_year"),
    ],
)
def test_a_junk_variance_filter_is_400_naming_it(api, rm, params, field):
    response = api(rm).get(list_url("variance"), params)
    assert response.status_code == 400
    assert field in response.json()


# --- query counts --------------------------------------------------------------------------

# Session, user, COUNT, rows, plus one per prefetched relation: lines of a target set;
# measured lines and top accounts of a territory plan; actions; goals.
LIST_QUERIES = {
    "target-set": 5,
    "territory-plan": 6,
    "relationship-plan": 5,
    "development-plan": 5,
    "variance": 4,
}


def _fill(resource, team, plan_year, rows):
    if resource == "relationship-plan":
        rm = RmFactory(team=team)
        for _ in range(rows):
            plan = RelationshipPlanFactory(
                account=AccountFactory(owner=rm, tier=TierFactory(code="A")), plan_year=plan_year
            )
            PlannedActionFactory(relationship_plan=plan)
        return
    if resource == "variance":
        rm = RmFactory(team=team)
        codes = ["loan_growth", "deposit_growth", "retention"]
        for i in range(rows):
            variance(plan_year, rm=rm, code=codes[i % 3], month=i // 3 + 1)
        return
    for _ in range(rows):
        rm = RmFactory(team=team)
        if resource == "target-set":
            ts = rm_targets(rm, plan_year)
            TargetLineFactory(target_set=ts, metric=metric("retention"), weight=0)
        elif resource == "territory-plan":
            CompleteTerritoryPlanFactory(rm=rm, plan_year=plan_year).measured_lines.set(
                rm_targets(rm, plan_year).lines.all()
            )
        else:
            DevelopmentGoalFactory(
                development_plan=DevelopmentPlanFactory(rm=rm, plan_year=plan_year)
            )


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("who", ["leader", "executive"])
def test_list_query_count_does_not_grow_with_rows(
    api, request, team, plan_year, resource, rows, who, django_assert_max_num_queries
):
    _fill(resource, team, plan_year, rows)
    client = api(request.getfixturevalue(who))
    with django_assert_max_num_queries(LIST_QUERIES[resource]):
        response = client.get(list_url(resource))
    assert response.json()["count"] == rows
