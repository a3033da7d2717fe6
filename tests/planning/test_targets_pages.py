"""The target-set pages: the year's list, one set's page with its editor, sign-off,
revisions and history. 404 outside scope, 403 inside scope when not allowed, 409 when the
state does not allow it; nothing silently overwritten."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import ProductFamily
from planning.models import Comment, Metric, PlanYear, TargetSet
from planning.services import targets
from planning.services.targets import LineInput

from ..factories import (
    AccountFactory,
    ExecutiveFactory,
    PlanYearFactory,
    PositionFactory,
    ProductFactory,
    RmFactory,
    metric,
)

pytestmark = pytest.mark.django_db

Status = TargetSet.Status


@pytest.fixture
def plan_year():
    return PlanYearFactory(year=2027)


def make_set(
    by,
    plan_year,
    *,
    scope="team",
    team=None,
    rm=None,
    lines=(("loan_growth", 10, 100),),
    growth=None,
    propose=False,
):
    """Targets written through the services, as the pages would."""
    ts = targets.target_set_create(plan_year=plan_year, scope=scope, by=by, team=team, rm=rm)
    ts = targets.target_set_save(
        target_set_id=ts.pk,
        by=by,
        growth_share_pct=growth,
        lines=[LineInput(metric(code), Decimal(value), weight) for code, value, weight in lines],
    )
    if propose:
        ts = targets.target_set_propose(target_set_id=ts.pk, by=by)
    return ts


@pytest.fixture
def team_set(leader, team, plan_year):
    return make_set(leader, plan_year, team=team)


@pytest.fixture
def rm_set(leader, rm, plan_year):
    return make_set(leader, plan_year, scope="rm", rm=rm)


@pytest.fixture
def proposed_team_set(leader, team, plan_year):
    return make_set(leader, plan_year, team=team, propose=True)


@pytest.fixture
def bank_set(executive, plan_year):
    return make_set(executive, plan_year, scope="bank", growth=60)


def edit_data(ts, lines, *, version=None, growth=None, action="save", comment="", delete=()):
    """The editor's POST: the hidden version, the lines formset, the button pressed."""
    data = {
        "version": ts.version if version is None else version,
        "action": action,
        "comment": comment,
        "lines-TOTAL_FORMS": len(lines),
        "lines-INITIAL_FORMS": len(lines),
        "lines-MIN_NUM_FORMS": 0,
        "lines-MAX_NUM_FORMS": 1000,
    }
    if growth is not None:
        data["growth_share_pct"] = growth
    for i, (code, value, weight) in enumerate(lines):
        data[f"lines-{i}-metric"] = metric(code).pk if code else ""
        data[f"lines-{i}-value"] = value
        data[f"lines-{i}-weight"] = weight
        if i in delete:
            data[f"lines-{i}-DELETE"] = "on"
    return data


def saved_lines(ts):
    return sorted(
        (line.metric.code, line.value, line.weight)
        for line in TargetSet.objects.get(pk=ts.pk).lines.select_related("metric")
    )


# --- 404 outside scope -----------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["other_leader", "other_rm", "teammate"])
def test_outsiders_get_404_on_an_rm_set(client, request, rm_set, outsider):
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(rm_set.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("outsider", ["other_leader", "other_rm"])
def test_another_teams_leader_and_rm_get_404_on_a_team_set(client, request, team_set, outsider):
    client.force_login(request.getfixturevalue(outsider))
    assert client.get(team_set.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("action", ["target_set", "target_set_decide", "target_set_revise"])
def test_another_teams_leader_gets_404_posting_to_a_team_set(
    client, other_leader, proposed_team_set, action
):
    client.force_login(other_leader)
    url = reverse(f"planning:{action}", args=[proposed_team_set.pk])
    response = client.post(url, {"action": "approve", "version": 1})
    assert response.status_code == 404
    assert TargetSet.objects.get(pk=proposed_team_set.pk).status == Status.PROPOSED


@pytest.mark.parametrize("pk", [999999, 0])
def test_a_nonsense_id_is_404(client, leader, pk):
    client.force_login(leader)
    assert client.get(f"/planning/targets/{pk}/").status_code == 404


def test_another_teams_sets_are_not_in_the_list(client, other_leader, team_set, rm_set):
    client.force_login(other_leader)
    overview = client.get(reverse("planning:target_sets")).context["overview"]
    shown = [row.current for row in overview.teams] + [
        row.current for _, rows in overview.rms_by_team for row in rows
    ]
    assert team_set not in shown
    assert rm_set not in shown


def test_leader_cannot_start_targets_for_another_teams_rm(client, leader, other_rm, plan_year):
    client.force_login(leader)
    response = client.post(
        reverse("planning:target_set_start"),
        {"plan_year": plan_year.pk, "scope": "rm", "rm": other_rm.pk},
    )
    assert response.status_code == 404
    assert not TargetSet.objects.filter(rm=other_rm).exists()


def test_leader_cannot_start_targets_for_another_team(client, leader, other_team, plan_year):
    client.force_login(leader)
    response = client.post(
        reverse("planning:target_set_start"),
        {"plan_year": plan_year.pk, "scope": "team", "team": other_team.pk},
    )
    assert response.status_code == 404
    assert not TargetSet.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"scope": "galaxy"},
        {"scope": "rm", "rm": "abc"},
        {"scope": "team"},
        {"scope": "bank", "plan_year": "x"},
        {"scope": "bank", "plan_year": 999999},
    ],
)
def test_starting_with_nonsense_input_is_404(client, executive, plan_year, data):
    client.force_login(executive)
    response = client.post(
        reverse("planning:target_set_start"), {"plan_year": plan_year.pk, **data}
    )
    assert response.status_code == 404


# --- 403 inside scope, not allowed -----------------------------------------------------------


def test_rm_posting_propose_on_their_own_set_gets_403(client, rm, rm_set):
    client.force_login(rm)
    response = client.post(
        rm_set.get_absolute_url(), edit_data(rm_set, [("loan_growth", 10, 100)], action="propose")
    )
    assert response.status_code == 403
    assert TargetSet.objects.get(pk=rm_set.pk).status == Status.DRAFT


def test_rm_cannot_start_their_own_targets(client, rm, plan_year):
    client.force_login(rm)
    response = client.post(
        reverse("planning:target_set_start"),
        {"plan_year": plan_year.pk, "scope": "rm", "rm": rm.pk},
    )
    assert response.status_code == 403


def test_executive_cannot_write_a_teams_targets(client, executive, team, team_set):
    client.force_login(executive)
    start = client.post(
        reverse("planning:target_set_start"),
        {"plan_year": team_set.plan_year_id, "scope": "team", "team": team.pk},
    )
    edit = client.post(team_set.get_absolute_url(), edit_data(team_set, [("loan_growth", 1, 100)]))
    assert (start.status_code, edit.status_code) == (403, 403)
    assert saved_lines(team_set) == [("loan_growth", Decimal("10.00"), 100)]


def test_leader_cannot_approve_their_teams_targets(client, leader, proposed_team_set):
    client.force_login(leader)
    response = client.post(
        reverse("planning:target_set_decide", args=[proposed_team_set.pk]), {"action": "approve"}
    )
    assert response.status_code == 403
    assert TargetSet.objects.get(pk=proposed_team_set.pk).status == Status.PROPOSED


# --- the list --------------------------------------------------------------------------------


def test_list_groups_bank_teams_and_rms_with_status_and_revision(
    client, executive, team, rm, bank_set, proposed_team_set, rm_set
):
    client.force_login(executive)
    response = client.get(reverse("planning:target_sets"))
    overview = response.context["overview"]
    assert overview.bank.current == bank_set
    assert [(r.label, r.current) for r in overview.teams] == [(team.name, proposed_team_set)]
    rms = dict(overview.rms_by_team)[team.name]
    assert [(r.rm, r.current) for r in rms] == [(rm, rm_set)]
    assert "Proposed" in response.text
    assert "Draft" in response.text


def test_leader_may_start_their_team_and_each_rm_without_targets(
    client, leader, team, rm, teammate, rm_set, plan_year
):
    client.force_login(leader)
    response = client.get(reverse("planning:target_sets"))
    overview = response.context["overview"]
    assert [(r.team, r.can_start) for r in overview.teams] == [(team, True)]
    rows = {r.rm: r for r in dict(overview.rms_by_team)[team.name]}
    assert (rows[rm].can_start, rows[teammate].can_start) == (False, True)
    assert overview.bank.can_start is False
    assert f'Start draft<span class="visually-hidden"> targets for {teammate}' in response.text


def test_rm_reads_the_list_without_buttons(client, rm, team_set, rm_set, bank_set):
    client.force_login(rm)
    response = client.get(reverse("planning:target_sets"))
    overview = response.context["overview"]
    assert overview.bank.current == bank_set
    assert [r.current for r in overview.teams] == [team_set]
    assert not overview.can_start_any
    assert "Start draft" not in response.text


def test_executive_starts_the_bank_targets(client, executive, plan_year):
    client.force_login(executive)
    assert client.get(reverse("planning:target_sets")).context["overview"].bank.can_start
    response = client.post(
        reverse("planning:target_set_start"), {"plan_year": plan_year.pk, "scope": "bank"}
    )
    ts = TargetSet.objects.get(scope="bank")
    assert response.url == ts.get_absolute_url()
    assert (ts.status, ts.created_by) == (Status.DRAFT, executive)


def test_leader_starts_targets_for_their_rm(client, leader, rm, plan_year):
    client.force_login(leader)
    response = client.post(
        reverse("planning:target_set_start"),
        {"plan_year": plan_year.pk, "scope": "rm", "rm": rm.pk},
    )
    ts = TargetSet.objects.get(rm=rm)
    assert response.url == ts.get_absolute_url()
    assert ts.created_by == leader


def test_starting_targets_twice_is_409(client, leader, team, team_set):
    client.force_login(leader)
    response = client.post(
        reverse("planning:target_set_start"),
        {"plan_year": team_set.plan_year_id, "scope": "team", "team": team.pk},
    )
    assert response.status_code == 409
    assert "already has targets" in response.text
    assert TargetSet.objects.count() == 1


def test_list_shows_another_year_on_request(client, leader, team):
    old = PlanYearFactory(year=2026)
    PlanYearFactory(year=2027)
    ts = make_set(leader, old, team=team)
    client.force_login(leader)
    response = client.get(reverse("planning:target_sets"), {"year": 2026})
    assert response.context["plan_year"] == old
    assert response.context["overview"].teams[0].current == ts


@pytest.mark.parametrize("year", ["1999", "abc", "-1"])
def test_list_of_a_year_that_does_not_exist_is_404(client, leader, plan_year, year):
    client.force_login(leader)
    assert client.get(reverse("planning:target_sets"), {"year": year}).status_code == 404


def test_list_without_a_plan_year_says_so(client, leader):
    client.force_login(leader)
    response = client.get(reverse("planning:target_sets"))
    assert "No open plan year" in response.text


def test_anonymous_visitor_is_sent_to_log_in(client, team_set):
    response = client.get(team_set.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- editing a draft -------------------------------------------------------------------------


def test_leader_saves_draft_lines(client, leader, team_set):
    client.force_login(leader)
    response = client.post(
        team_set.get_absolute_url(),
        edit_data(team_set, [("loan_growth", "9.5", 60), ("new_relationships", "12", 20)]),
    )
    assert response.status_code == 302
    assert saved_lines(team_set) == [
        ("loan_growth", Decimal("9.50"), 60),
        ("new_relationships", Decimal("12.00"), 20),
    ]
    assert TargetSet.objects.get(pk=team_set.pk).version == team_set.version + 1


def test_editor_shows_lines_version_and_blank_rows(client, leader, team_set):
    client.force_login(leader)
    response = client.get(team_set.get_absolute_url())
    formset = response.context["formset"]
    assert len(formset.forms) == 1 + 2  # the line and two blank rows to add more
    assert f'name="version" value="{team_set.version}"' in response.text
    assert '<label class="visually-hidden" for="id_lines-0-metric">' in response.text


def test_a_blank_row_adds_a_line_and_the_remove_box_removes_one(client, leader, team_set):
    client.force_login(leader)
    data = edit_data(team_set, [("loan_growth", 10, 100)], delete=(0,))
    data.update(
        {
            "lines-TOTAL_FORMS": 3,
            "lines-1-metric": metric("deposit_growth").pk,
            "lines-1-value": "5",
            "lines-1-weight": "100",
            "lines-2-metric": "",
            "lines-2-value": "",
            "lines-2-weight": "",
        }
    )
    assert client.post(team_set.get_absolute_url(), data).status_code == 302
    assert saved_lines(team_set) == [("deposit_growth", Decimal("5.00"), 100)]


def test_saving_a_draft_never_fails_for_weights(client, leader, team_set):
    client.force_login(leader)
    response = client.post(
        team_set.get_absolute_url(), edit_data(team_set, [("loan_growth", 10, 30)])
    )
    assert response.status_code == 302
    page = client.get(team_set.get_absolute_url())
    assert page.context["problems"] == {"weights": "The weights add up to 30 %, not 100 %."}


def test_propose_with_weights_not_100_shows_the_reason_and_keeps_the_draft(
    client, leader, team_set
):
    client.force_login(leader)
    response = client.post(
        team_set.get_absolute_url(),
        edit_data(team_set, [("loan_growth", 10, 50), ("retention", 90, 30)], action="propose"),
    )
    assert response.status_code == 400
    assert "The weights add up to 80 %, not 100 %." in response.text
    assert "not proposed" in response.text
    ts = TargetSet.objects.get(pk=team_set.pk)
    assert ts.status == Status.DRAFT
    assert saved_lines(ts) == [
        ("loan_growth", Decimal("10.00"), 50),
        ("retention", Decimal("90.00"), 30),
    ]
    # The editor starts again from what was saved, with the new version.
    assert response.context["form"].initial["version"] == ts.version


def test_save_and_propose_proposes_with_the_note(client, leader, team_set):
    client.force_login(leader)
    response = client.post(
        team_set.get_absolute_url(),
        edit_data(
            team_set,
            [("loan_growth", 10, 70), ("retention", 90, 30)],
            action="propose",
            comment="Aligned with the bank's 60/40.",
        ),
    )
    assert response.status_code == 302
    ts = TargetSet.objects.get(pk=team_set.pk)
    assert (ts.status, ts.proposed_by) == (Status.PROPOSED, leader)
    comment = Comment.objects.get(target_set=ts)
    assert (comment.kind, comment.text) == (Comment.Kind.PROPOSED, "Aligned with the bank's 60/40.")


def test_bank_targets_need_the_growth_share_to_be_proposed(client, executive, plan_year):
    ts = make_set(executive, plan_year, scope="bank")
    client.force_login(executive)
    response = client.post(
        ts.get_absolute_url(), edit_data(ts, [("loan_growth", 10, 100)], action="propose")
    )
    assert response.status_code == 400
    assert "State the balance between growth and retention." in response.text
    response = client.post(
        ts.get_absolute_url(),
        edit_data(TargetSet.objects.get(pk=ts.pk), [("loan_growth", 10, 100)], growth=60),
    )
    assert TargetSet.objects.get(pk=ts.pk).growth_share_pct == 60


def test_stale_edit_shows_the_conflict_and_keeps_the_other_persons_data(
    client, executive, bank_set
):
    """Two executives open the bank's draft; the second to save is told, not obeyed."""
    other = ExecutiveFactory(username="exec_two")
    opened_version = bank_set.version
    targets.target_set_save(
        target_set_id=bank_set.pk,
        by=other,
        growth_share_pct=70,
        lines=[LineInput(metric("deposit_growth"), Decimal("7"), 100)],
        expected_version=opened_version,
    )
    client.force_login(executive)
    response = client.post(
        bank_set.get_absolute_url(),
        edit_data(bank_set, [("loan_growth", "12", 100)], version=opened_version, growth=50),
    )
    assert response.status_code == 409
    assert f"{other} saved these targets after you opened them" in response.text
    ts = TargetSet.objects.get(pk=bank_set.pk)
    assert saved_lines(ts) == [("deposit_growth", Decimal("7.00"), 100)]
    assert ts.growth_share_pct == 70
    # The page shows what they tried (not saved) and an editor on the current values.
    assert response.context["attempted"]["growth_share_pct"] == 50
    assert "Loan balance growth %: 12" in response.text
    assert response.context["form"].initial == {"version": ts.version, "growth_share_pct": 70}
    assert response.context["formset"].initial == [
        {"metric": metric("deposit_growth").pk, "value": Decimal("7.00"), "weight": 100}
    ]


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([("loan_growth", 10, 150)], "less than or equal to 100"),
        ([("loan_growth", "ten", 100)], "Enter a number"),
        ([("loan_growth", 10, 50), ("loan_growth", 5, 50)], "appears twice"),
        ([("", 10, 100)], "This field is required"),
    ],
)
def test_a_bad_line_re_renders_with_the_reason_and_saves_nothing(
    client, leader, team_set, lines, reason
):
    client.force_login(leader)
    response = client.post(team_set.get_absolute_url(), edit_data(team_set, lines))
    assert response.status_code == 400
    assert reason in response.text
    assert saved_lines(team_set) == [("loan_growth", Decimal("10.00"), 100)]


@pytest.mark.parametrize("version", ["abc", "", "-1"])
def test_a_tampered_version_re_renders_not_500(client, leader, team_set, version):
    client.force_login(leader)
    data = edit_data(team_set, [("loan_growth", 1, 100)])
    data["version"] = version
    response = client.post(team_set.get_absolute_url(), data)
    assert response.status_code == 400
    assert saved_lines(team_set) == [("loan_growth", Decimal("10.00"), 100)]


def test_a_missing_management_form_re_renders_not_500(client, leader, team_set):
    client.force_login(leader)
    response = client.post(team_set.get_absolute_url(), {"version": team_set.version})
    assert response.status_code == 400


def test_editing_proposed_targets_is_409(client, leader, proposed_team_set):
    client.force_login(leader)
    response = client.post(
        proposed_team_set.get_absolute_url(),
        edit_data(proposed_team_set, [("loan_growth", 1, 100)]),
    )
    assert response.status_code == 409
    assert "cannot be edited" in response.text


def test_proposed_targets_are_read_only_for_their_leader(client, leader, proposed_team_set):
    client.force_login(leader)
    response = client.get(proposed_team_set.get_absolute_url())
    assert "formset" not in response.context
    assert "Save draft" not in response.text


# --- sign-off --------------------------------------------------------------------------------


def test_executive_approves_through_the_page(client, executive, proposed_team_set):
    client.force_login(executive)
    page = client.get(proposed_team_set.get_absolute_url())
    assert page.context["can_decide"]
    assert ">Approve</button>" in page.text
    response = client.post(
        reverse("planning:target_set_decide", args=[proposed_team_set.pk]),
        {"action": "approve", "comment": "Ambitious and fair."},
    )
    assert response.status_code == 302
    ts = TargetSet.objects.get(pk=proposed_team_set.pk)
    assert (ts.status, ts.decided_by, ts.decision_comment) == (
        Status.APPROVED,
        executive,
        "Ambitious and fair.",
    )
    assert "Ambitious and fair." in client.get(ts.get_absolute_url()).text


def test_executive_returns_with_a_comment_and_the_leader_reads_it(
    client, executive, leader, proposed_team_set
):
    client.force_login(executive)
    client.post(
        reverse("planning:target_set_decide", args=[proposed_team_set.pk]),
        {"action": "return", "comment": "Loan growth too timid for the North."},
    )
    assert TargetSet.objects.get(pk=proposed_team_set.pk).status == Status.RETURNED
    client.force_login(leader)
    page = client.get(proposed_team_set.get_absolute_url())
    assert "Loan growth too timid for the North." in page.text
    assert "formset" in page.context  # returned targets are edited again


def test_returning_without_a_comment_re_renders_with_the_reason(
    client, executive, proposed_team_set
):
    client.force_login(executive)
    response = client.post(
        reverse("planning:target_set_decide", args=[proposed_team_set.pk]),
        {"action": "return", "comment": "  "},
    )
    assert response.status_code == 400
    assert "Say why the targets go back" in response.text
    assert TargetSet.objects.get(pk=proposed_team_set.pk).status == Status.PROPOSED


def test_an_unknown_decision_re_renders(client, executive, proposed_team_set):
    client.force_login(executive)
    response = client.post(
        reverse("planning:target_set_decide", args=[proposed_team_set.pk]), {"action": "delete"}
    )
    assert response.status_code == 400
    assert TargetSet.objects.get(pk=proposed_team_set.pk).status == Status.PROPOSED


def test_four_eyes_reason_instead_of_buttons(client, executive, plan_year):
    ts = make_set(executive, plan_year, scope="bank", growth=60, propose=True)
    client.force_login(executive)
    response = client.get(ts.get_absolute_url())
    assert not response.context["can_decide"]
    assert "Four eyes: You proposed these targets" in response.text
    assert ">Approve</button>" not in response.text


def test_four_eyes_holds_when_the_buttons_are_bypassed(client, executive, plan_year):
    ts = make_set(executive, plan_year, scope="bank", growth=60, propose=True)
    client.force_login(executive)
    response = client.post(
        reverse("planning:target_set_decide", args=[ts.pk]), {"action": "approve"}
    )
    assert response.status_code == 403
    assert "Four eyes" in response.text
    assert TargetSet.objects.get(pk=ts.pk).status == Status.PROPOSED


def test_another_executive_approves_the_bank_targets(client, executive, plan_year):
    ts = make_set(executive, plan_year, scope="bank", growth=60, propose=True)
    other = ExecutiveFactory(username="exec_two")
    client.force_login(other)
    assert client.get(ts.get_absolute_url()).context["can_decide"]
    client.post(reverse("planning:target_set_decide", args=[ts.pk]), {"action": "approve"})
    assert TargetSet.objects.get(pk=ts.pk).decided_by == other


def test_approving_twice_approves_once_and_says_so(client, executive, proposed_team_set):
    client.force_login(executive)
    url = reverse("planning:target_set_decide", args=[proposed_team_set.pk])
    client.post(url, {"action": "approve"})
    second = client.post(url, {"action": "approve"})
    assert second.status_code == 409
    assert "only proposed targets can be approved" in second.text
    assert Comment.objects.filter(kind=Comment.Kind.APPROVED).count() == 1


def test_an_api_style_client_gets_409_as_json(client, executive, proposed_team_set):
    client.force_login(executive)
    url = reverse("planning:target_set_decide", args=[proposed_team_set.pk])
    client.post(url, {"action": "approve"})
    response = client.post(url, {"action": "approve"}, headers={"accept": "application/json"})
    assert response.status_code == 409
    assert response.json()["code"] == "InvalidTransition"


# --- revisions -------------------------------------------------------------------------------


@pytest.fixture
def approved_team_set(executive, proposed_team_set):
    return targets.target_set_approve(target_set_id=proposed_team_set.pk, by=executive)


def test_approved_targets_are_read_only_with_a_new_revision_button(
    client, leader, approved_team_set
):
    client.force_login(leader)
    response = client.get(approved_team_set.get_absolute_url())
    assert response.context["can_revise"]
    assert "formset" not in response.context
    assert "Start a new revision" in response.text


def test_revision_flow(client, leader, executive, team, approved_team_set):
    client.force_login(leader)
    response = client.post(reverse("planning:target_set_revise", args=[approved_team_set.pk]))
    r2 = TargetSet.objects.get(team=team, revision=2)
    assert response.url == r2.get_absolute_url()
    assert (r2.status, r2.previous) == (Status.DRAFT, approved_team_set)
    assert saved_lines(r2) == saved_lines(approved_team_set)

    page = client.get(r2.get_absolute_url())
    assert [(r.revision, r.status) for r in page.context["revisions"]] == [
        (2, Status.DRAFT),
        (1, Status.APPROVED),
    ]
    assert "stays in force until this revision is approved" in page.text
    overview = client.get(reverse("planning:target_sets")).context["overview"]
    assert (overview.teams[0].current, overview.teams[0].in_force) == (r2, approved_team_set)

    client.post(r2.get_absolute_url(), edit_data(r2, [("loan_growth", 12, 100)], action="propose"))
    client.force_login(executive)
    client.post(reverse("planning:target_set_decide", args=[r2.pk]), {"action": "approve"})
    assert TargetSet.objects.get(pk=r2.pk).status == Status.APPROVED
    assert TargetSet.objects.get(pk=approved_team_set.pk).status == Status.SUPERSEDED


def test_revising_twice_is_409(client, leader, approved_team_set):
    client.force_login(leader)
    url = reverse("planning:target_set_revise", args=[approved_team_set.pk])
    client.post(url)
    response = client.post(url)
    assert response.status_code == 409
    assert TargetSet.objects.filter(revision=2).count() == 1


def test_revising_a_draft_is_409(client, leader, team_set):
    client.force_login(leader)
    response = client.post(reverse("planning:target_set_revise", args=[team_set.pk]))
    assert response.status_code == 409
    assert "Only approved targets are revised" in response.text


def test_a_closed_year_is_read_only(client, leader, team_set):
    PlanYear.objects.filter(pk=team_set.plan_year_id).update(is_open=False)
    client.force_login(leader)
    assert "formset" not in client.get(team_set.get_absolute_url()).context
    response = client.post(
        team_set.get_absolute_url(), edit_data(team_set, [("loan_growth", 1, 100)])
    )
    assert response.status_code == 409
    assert saved_lines(team_set) == [("loan_growth", Decimal("10.00"), 100)]


# --- history ---------------------------------------------------------------------------------


def test_history_shows_who_when_and_old_to_new(client, leader, executive, team_set):
    client.force_login(leader)
    client.post(
        team_set.get_absolute_url(),
        edit_data(team_set, [("loan_growth", "12", 60), ("retention", "95", 40)], action="propose"),
    )
    client.force_login(executive)
    client.post(
        reverse("planning:target_set_decide", args=[team_set.pk]),
        {"action": "return", "comment": "Too high"},
    )
    response = client.get(team_set.get_absolute_url())
    entries = [
        (e.who, e.what, [(c.field, c.old, c.new) for c in e.changes])
        for e in response.context["history"]
    ]
    assert entries[0] == (
        executive,
        "Returned",
        [
            ("status", "Proposed", "Returned"),
            ("decided by", "—", str(executive)),
            ("decision comment", "—", "Too high"),
        ],
    )
    assert (
        leader,
        "Line changed: Loan balance growth %",
        [("value", "10", "12"), ("weight %", "100", "60")],
    ) in entries
    assert (
        leader,
        "Line added: Overall retention %",
        [("value", "—", "95"), ("weight %", "—", "40")],
    ) in entries
    assert entries[-1][1] == "Revision 1 created as draft"
    assert "10 → 12" in response.text.replace("</span>", "")


def test_history_records_a_removed_line(client, leader, team_set):
    client.force_login(leader)
    data = edit_data(team_set, [("loan_growth", 10, 100), ("retention", 90, 0)])
    client.post(team_set.get_absolute_url(), data)
    ts = TargetSet.objects.get(pk=team_set.pk)
    client.post(ts.get_absolute_url(), edit_data(ts, [("loan_growth", 10, 100)]))
    history = client.get(ts.get_absolute_url()).context["history"]
    assert history[0].what == "Line removed: Overall retention %"


# --- query counts ----------------------------------------------------------------------------


def _bank_with_rms(leader, team, plan_year, n):
    """A team of `n` RMs, each with targets and a loan balance to weigh them by, and the
    team's targets."""
    make_set(
        leader, plan_year, team=team, lines=[("loan_growth", 9, 50), ("new_relationships", 12, 50)]
    )
    loan = ProductFactory(code="TL", family=ProductFamily.LOAN)
    for i in range(n):
        rm = RmFactory(username=f"rm_n{i}", team=team)
        make_set(leader, plan_year, scope="rm", rm=rm, lines=[("loan_growth", 8 + i % 3, 100)])
        PositionFactory(account=AccountFactory(owner=rm), product=loan, balance=1000 * (i + 1))


@pytest.mark.parametrize("n", [5, 50])
@pytest.mark.parametrize("role", ["leader", "executive", "rm"])
def test_target_set_list_query_count_does_not_grow_with_sets(
    client, request, team, plan_year, executive, role, n, django_assert_max_num_queries
):
    _bank_with_rms(team.leader, team, plan_year, n)
    make_set(executive, plan_year, scope="bank", growth=60)
    user = request.getfixturevalue(role) if role != "rm" else RmFactory(team=team)
    client.force_login(user)
    # +1: the bell's unread count (org.context_processors).
    with django_assert_max_num_queries(9):
        response = client.get(reverse("planning:target_sets"))
    assert response.status_code == 200


@pytest.mark.parametrize("n", [5, 50])
def test_target_set_detail_query_count_does_not_grow_with_parts_lines_or_history(
    client, leader, team, plan_year, n, django_assert_max_num_queries
):
    """A team set with `n` RMs' targets to roll up, every metric of the catalogue as lines
    and `n` saves in its history, opened by its leader in the editor."""
    _bank_with_rms(leader, team, plan_year, n)
    ts = TargetSet.objects.get(scope="team")
    codes = list(Metric.objects.values_list("code", flat=True))  # the whole catalogue
    for i in range(n):
        targets.target_set_save(
            target_set_id=ts.pk,
            by=leader,
            lines=[
                LineInput(metric(code), Decimal(i), 10 + (k == 0)) for k, code in enumerate(codes)
            ],
        )
    client.force_login(leader)
    with django_assert_max_num_queries(15):
        response = client.get(ts.get_absolute_url())
    assert len(response.context["lines"]) == len(codes)  # the twelve of the catalogue
    assert len(response.context["roll_up"]) == len(codes)
    assert response.context["roll_up"][0].parts_count == n


@pytest.mark.parametrize("n", [5, 50])
def test_target_set_detail_for_an_executive_deciding_is_flat(
    client, executive, leader, team, plan_year, n, django_assert_max_num_queries
):
    _bank_with_rms(leader, team, plan_year, n)
    ts = targets.target_set_propose(target_set_id=TargetSet.objects.get(scope="team").pk, by=leader)
    client.force_login(executive)
    # +1: the bell's unread count (org.context_processors).
    with django_assert_max_num_queries(16):
        response = client.get(ts.get_absolute_url())
    assert response.context["can_decide"]
