"""Target-set rules the matrix does not show: four eyes on the last edit, revisions,
completeness, lost updates, a closed year, and what a return needs."""

from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist, ValidationError

from planning.models import Comment, TargetSet
from planning.services import targets
from salesmgmt.workflow import FourEyesViolation, Incomplete, InvalidTransition, StaleEdit

from ..factories import ExecutiveFactory, PlanYearFactory, TargetLineFactory, metric

pytestmark = pytest.mark.django_db

Status = TargetSet.Status


def line(code="loan_growth", value="10.00", weight=100):
    return targets.LineInput(metric(code), Decimal(value), weight)


@pytest.fixture
def plan_year():
    return PlanYearFactory()


@pytest.fixture
def exec_two():
    return ExecutiveFactory(username="exec_two")


@pytest.fixture
def exec_three():
    return ExecutiveFactory(username="exec_three")


@pytest.fixture
def team_draft(team, plan_year):
    ts = targets.target_set_create(plan_year=plan_year, scope="team", team=team, by=team.leader)
    return targets.target_set_save(target_set_id=ts.pk, by=team.leader, lines=[line()])


@pytest.fixture
def team_proposed(team_draft):
    return targets.target_set_propose(target_set_id=team_draft.pk, by=team_draft.created_by)


@pytest.fixture
def team_approved(team_proposed, executive):
    return targets.target_set_approve(target_set_id=team_proposed.pk, by=executive)


# --- four eyes ----------------------------------------------------------------------------


def test_an_executive_who_last_edited_the_bank_set_may_not_approve_it(
    plan_year, executive, exec_two, exec_three
):
    ts = targets.target_set_create(plan_year=plan_year, scope="bank", by=executive)
    # exec_two edits the draft, executive proposes it: exec_two's numbers, executive's name.
    targets.target_set_save(target_set_id=ts.pk, by=exec_two, lines=[line()], growth_share_pct=60)
    targets.target_set_propose(target_set_id=ts.pk, by=executive)

    with pytest.raises(FourEyesViolation):
        targets.target_set_approve(target_set_id=ts.pk, by=exec_two)
    with pytest.raises(FourEyesViolation):
        targets.target_set_return(target_set_id=ts.pk, by=exec_two, comment="Mine, so no.")

    approved = targets.target_set_approve(target_set_id=ts.pk, by=exec_three)
    assert approved.decided_by == exec_three


def test_approving_twice_approves_once(team_proposed, executive, exec_two):
    targets.target_set_approve(target_set_id=team_proposed.pk, by=executive)
    with pytest.raises(InvalidTransition):
        targets.target_set_approve(target_set_id=team_proposed.pk, by=exec_two)
    ts = TargetSet.objects.get(pk=team_proposed.pk)
    assert ts.decided_by == executive
    assert ts.comments.filter(kind=Comment.Kind.APPROVED).count() == 1


# --- completeness -------------------------------------------------------------------------


def test_a_set_whose_weights_do_not_add_up_is_saved_but_not_proposed(team, plan_year):
    ts = targets.target_set_create(plan_year=plan_year, scope="team", team=team, by=team.leader)
    half = [line("loan_growth", weight=50), line("deposit_growth", weight=30)]
    targets.target_set_save(target_set_id=ts.pk, by=team.leader, lines=half)

    with pytest.raises(Incomplete) as refused:
        targets.target_set_propose(target_set_id=ts.pk, by=team.leader)

    assert refused.value.missing == {"weights": "The weights add up to 80 %, not 100 %."}
    assert TargetSet.objects.get(pk=ts.pk).status == Status.DRAFT


def test_the_bank_set_states_the_balance_between_growth_and_retention(plan_year, executive):
    ts = targets.target_set_create(plan_year=plan_year, scope="bank", by=executive)
    targets.target_set_save(target_set_id=ts.pk, by=executive, lines=[line()])

    with pytest.raises(Incomplete) as refused:
        targets.target_set_propose(target_set_id=ts.pk, by=executive)

    assert set(refused.value.missing) == {"growth_share_pct"}


def test_a_metric_appears_once_in_a_set(team_draft):
    with pytest.raises(ValidationError):
        targets.target_set_save(
            target_set_id=team_draft.pk,
            by=team_draft.created_by,
            lines=[line(weight=50), line(weight=50)],
        )


def test_a_team_has_one_set_per_year_and_a_second_is_refused(team_draft, team, plan_year):
    with pytest.raises(InvalidTransition):
        targets.target_set_create(plan_year=plan_year, scope="team", team=team, by=team.leader)


# --- revisions ----------------------------------------------------------------------------


def test_a_revision_copies_the_lines_and_its_approval_supersedes_the_old_set(
    team_approved, executive
):
    leader = team_approved.created_by
    revision = targets.target_set_revise(target_set_id=team_approved.pk, by=leader)
    assert [(x.metric.code, x.value, x.weight) for x in revision.lines.all()] == [
        ("loan_growth", Decimal("10.00"), 100)
    ]
    assert TargetSet.objects.get(pk=team_approved.pk).status == Status.APPROVED  # until then

    targets.target_set_save(target_set_id=revision.pk, by=leader, lines=[line(value="12.00")])
    targets.target_set_propose(target_set_id=revision.pk, by=leader)
    targets.target_set_approve(target_set_id=revision.pk, by=executive)

    assert TargetSet.objects.get(pk=team_approved.pk).status == Status.SUPERSEDED
    assert TargetSet.objects.get(pk=revision.pk).status == Status.APPROVED
    # The old revision still reads as it was approved: history stays visible.
    assert TargetSet.objects.get(pk=team_approved.pk).lines.get().value == Decimal("10.00")


def test_an_approved_set_is_revised_once(team_approved):
    leader = team_approved.created_by
    targets.target_set_revise(target_set_id=team_approved.pk, by=leader)
    with pytest.raises(InvalidTransition):
        targets.target_set_revise(target_set_id=team_approved.pk, by=leader)


# --- lost updates -------------------------------------------------------------------------


def test_a_save_from_a_stale_page_is_refused_and_overwrites_nothing(team_draft):
    leader = team_draft.created_by
    read_at = team_draft.version
    targets.target_set_save(
        target_set_id=team_draft.pk,
        by=leader,
        lines=[line(value="11.00")],
        expected_version=read_at,
    )

    with pytest.raises(StaleEdit) as refused:
        targets.target_set_save(
            target_set_id=team_draft.pk,
            by=leader,
            lines=[line(value="99.00")],
            expected_version=read_at,
        )

    assert refused.value.current.pk == team_draft.pk
    assert TargetSet.objects.get(pk=team_draft.pk).lines.get().value == Decimal("11.00")


# --- returns ------------------------------------------------------------------------------


def test_a_return_says_why(team_proposed, executive):
    with pytest.raises(ValidationError):
        targets.target_set_return(target_set_id=team_proposed.pk, by=executive, comment="  ")
    assert TargetSet.objects.get(pk=team_proposed.pk).status == Status.PROPOSED


def test_a_return_by_someone_outside_scope_is_404_even_without_a_comment(team_proposed, other_rm):
    with pytest.raises(ObjectDoesNotExist):
        targets.target_set_return(target_set_id=team_proposed.pk, by=other_rm, comment="")


def test_returned_targets_go_back_to_draft_when_edited_and_keep_the_reason(
    team_proposed, executive
):
    leader = team_proposed.proposed_by
    targets.target_set_return(target_set_id=team_proposed.pk, by=executive, comment="Aim higher.")
    ts = targets.target_set_save(
        target_set_id=team_proposed.pk, by=leader, lines=[line(value="12.00")]
    )
    assert ts.status == Status.DRAFT
    kinds = list(ts.comments.values_list("kind", "text"))
    assert kinds == [("proposed", ""), ("returned", "Aim higher.")]


# --- a closed year ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "save",
        "revise",
        ("propose"),
        ("approve"),
        ("return"),
    ],
)
def test_the_targets_of_a_closed_year_no_longer_change(action, team, plan_year, executive):
    ts = TargetLineFactory(target_set__team=team, target_set__plan_year=plan_year).target_set
    leader = team.leader
    if action in ("approve", "return"):
        targets.target_set_propose(target_set_id=ts.pk, by=leader)
    if action == "revise":
        targets.target_set_propose(target_set_id=ts.pk, by=leader)
        targets.target_set_approve(target_set_id=ts.pk, by=executive)
    plan_year.is_open = False
    plan_year.save()
    before = TargetSet.objects.get(pk=ts.pk).status
    act = {
        "save": lambda: targets.target_set_save(target_set_id=ts.pk, by=leader, lines=[line()]),
        "revise": lambda: targets.target_set_revise(target_set_id=ts.pk, by=leader),
        "propose": lambda: targets.target_set_propose(target_set_id=ts.pk, by=leader),
        "approve": lambda: targets.target_set_approve(target_set_id=ts.pk, by=executive),
        "return": lambda: targets.target_set_return(
            target_set_id=ts.pk, by=executive, comment="No"
        ),
    }[action]

    with pytest.raises(InvalidTransition):
        act()

    assert TargetSet.objects.get(pk=ts.pk).status == before
