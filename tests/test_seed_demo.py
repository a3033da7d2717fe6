"""The demo bank: the same seed and day give the same bank, and the bank is well formed.

Seeding takes a few seconds, so one bank is seeded for the whole module and committed;
each test runs inside a transaction that is rolled back, and the module wipes the bank
when it is done so no other test module sees it.
"""

import datetime as dt
import hashlib
import statistics
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import global_settings
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Max, Min, Sum
from django.db.models.functions import TruncMonth
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    Activity,
    ActivityKind,
    ActivityStatus,
    ForecastCategory,
    LostReason,
    Opportunity,
    OpportunityChange,
    OpportunityStage,
    OpportunityStatus,
    OwnershipChange,
    Position,
    ProductFamily,
)
from coaching.models import (
    Behaviour,
    BehaviourSet,
    Cadence,
    CheckIn,
    Commitment,
    CustomerContact,
    CustomerRating,
    ImprovementPlan,
    SurveyInvitation,
)
from coaching.selectors.report_card import rm_report_card
from org.demo import DEMO_PASSWORD, DemoBankExists, seed_demo, wipe_demo_bank
from org.models import Role, Team, User
from planning.demo import _Story
from planning.models import (
    ActivityStandard,
    Comment,
    DevelopmentPlan,
    ForecastPeriod,
    ForecastSnapshot,
    ForecastSubmission,
    Metric,
    PlannedAction,
    PlanYear,
    ProductMixStandard,
    RelationshipPlan,
    TargetLine,
    TargetSet,
    TeamForecastSubmission,
    TerritoryPlan,
    Variance,
)
from planning.selectors.variances import rm_plan_versus_actual, scope_plan_versus_actual
from planning.services.plans import missing_sections

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
    return (
        digest,
        money,
        pipeline,
        Activity.objects.count(),
        people,
        planning_fingerprint(),
        coaching_fingerprint(),
        working_week_fingerprint(),
    )


def working_week_fingerprint() -> str:
    """The diary, the follow-ups, the joint visits, the deals' history and the forecasts,
    by natural keys."""
    activity = ("rm__username", "date", "kind", "account__number", "status")
    activities = Activity.objects.order_by(*activity, "outcome", "next_step").values_list(
        *activity, "outcome", "contact__email", "next_step", "next_step_due",
        "next_step_done_on", "created_at",
    )  # fmt: skip
    joint = Activity.participants.through.objects.order_by(
        *(f"activity__{f}" for f in activity), "user__username"
    ).values_list(*(f"activity__{f}" for f in activity), "user__username")
    deal = ("opportunity__account__number", "opportunity__product__code", "opportunity__created_on")
    changes = OpportunityChange.objects.order_by(*deal, "changed_at").values_list(
        *deal, "changed_at", "changed_by__username", "from_stage", "to_stage", "from_status",
        "to_status", "from_amount", "to_amount", "from_expected_close", "to_expected_close",
    )  # fmt: skip
    by_deal = ("account__number", "product__code", "created_on")
    deals = Opportunity.objects.order_by(*by_deal).values_list(
        *by_deal, "stage", "forecast_category", "next_step", "expected_close",
        "lost_reason__name", "lost_note",
    )  # fmt: skip
    submissions = ForecastSubmission.objects.order_by(
        "rm__username", "period", "period_start"
    ).values_list(
        "rm__username", "period", "period_start", "proposed_amount", "amount", "note",
        "submitted_at", "adjusted_amount", "adjusted_by__username", "adjusted_at",
    )  # fmt: skip
    teams = TeamForecastSubmission.objects.order_by("team__name", "period", "period_start")
    snapshots = ForecastSnapshot.objects.order_by("rm__username", "month").values_list(
        "rm__username", "month", "amount", "adjusted_amount", "source", "taken_at"
    )
    # Sorted as text: rows that tie on the ordering columns (two deals of one account and
    # product opened the same day) come back in the database's physical order, which a
    # reseed on PostgreSQL does not keep.
    everything = [
        sorted(map(repr, q))
        for q in (
            activities,
            joint,
            changes,
            deals,
            submissions,
            teams.values_list("team__name", "period", "period_start", "amount", "submitted_at"),
            snapshots,
        )
    ]
    return hashlib.sha256(repr(everything).encode()).hexdigest()


def coaching_fingerprint() -> str:
    """Check-ins, commitments and ratings by natural keys, with their times."""
    checkins = CheckIn.objects.order_by("rm__username", "kind", "period_start").values_list(
        "rm__username", "kind", "period_start", "scheduled_at", "status", "completed_at",
        "acknowledged_at", "deals_notes", "progress_notes", "overall_rating",
    )  # fmt: skip
    commitments = Commitment.objects.order_by(
        "rm__username", "checkin__kind", "checkin__period_start", "text"
    ).values_list("rm__username", "owner__username", "text", "due_on", "done", "done_at")
    ratings = CustomerRating.objects.order_by(
        "account__number", "behaviour__name", "month"
    ).values_list("account__number", "rm__username", "behaviour__name", "month", "rating",
                  "comment")  # fmt: skip
    everything = [list(q) for q in (checkins, commitments, ratings)]
    return hashlib.sha256(repr(everything).encode()).hexdigest()


def planning_fingerprint() -> str:
    """The year's targets and plans, with who did what when: the story, to the minute.

    By natural keys, never by id: on PostgreSQL a rolled-back test does not roll back the
    sequences, so the same bank may get other ids in another run.
    """
    subject = ("scope", "team__name", "rm__username", "revision")
    target_sets = TargetSet.objects.order_by(*subject).values_list(
        *subject,
        "status",
        "version",
        "proposed_by__username",
        "proposed_at",
        "decided_by__username",
        "decided_at",
        "growth_share_pct",
    )
    lines = TargetLine.objects.order_by(
        *(f"target_set__{f}" for f in subject), "metric__code"
    ).values_list(*(f"target_set__{f}" for f in subject), "metric__code", "value", "weight")
    plans = TerritoryPlan.objects.order_by("rm__username").values_list(
        "rm__username",
        "status",
        "version",
        "goals_business",
        "strategies",
        "planned_calls_per_week",
        "risks",
        "submitted_at",
        "endorsed_by__username",
        "approved_by__username",
        "approved_at",
    )
    comments = Comment.objects.order_by(
        "created_at", "author__username", "kind", "text"
    ).values_list(
        "territory_plan__rm__username",
        "target_set__scope",
        "target_set__team__name",
        "target_set__rm__username",
        "author__username",
        "kind",
        "text",
        "created_at",
    )
    relationship = RelationshipPlan.objects.order_by("account__number").values_list(
        "account__number", "intent", "objectives", "expected_balance", "review_on", "updated_at"
    )
    actions = PlannedAction.objects.order_by(
        "relationship_plan__account__number", "due_on", "description"
    ).values_list(
        "relationship_plan__account__number", "description", "due_on", "owner__username", "done"
    )
    everything = [list(q) for q in (target_sets, lines, plans, comments, relationship, actions)]
    return hashlib.sha256(repr(everything).encode()).hexdigest()


@pytest.mark.django_db
def test_same_seed_and_as_of_give_the_identical_bank(demo_bank):
    first = bank_fingerprint()

    seed_demo(as_of=AS_OF, seed=SEED, reset=True)

    assert bank_fingerprint() == first


@pytest.mark.django_db
def test_summary_counts_what_is_in_the_database(demo_bank):
    assert demo_bank.users == User.objects.count() == 36
    assert demo_bank.teams == Team.objects.count() == 3
    assert demo_bank.accounts == Account.objects.count()
    assert 1_300 <= demo_bank.accounts <= 1_700
    assert demo_bank.positions == Position.objects.count()
    assert demo_bank.activities == Activity.objects.count()
    assert demo_bank.opportunities == Opportunity.objects.count()
    assert demo_bank.ownership_changes == OwnershipChange.objects.count() > 0
    assert demo_bank.plan_year == AS_OF.year
    assert demo_bank.target_sets == TargetSet.objects.count()
    assert demo_bank.territory_plans == TerritoryPlan.objects.count() == 28  # 30 less 2 leavers
    assert demo_bank.relationship_plans == RelationshipPlan.objects.count()
    assert demo_bank.development_plans == DevelopmentPlan.objects.count()
    assert demo_bank.checkins == CheckIn.objects.count() > 0
    assert demo_bank.commitments == Commitment.objects.count() > 0
    assert demo_bank.customer_ratings == CustomerRating.objects.count() > 0


@pytest.mark.django_db
def test_demo_users_exist_with_their_roles(demo_bank):
    roles = dict(User.objects.values_list("username", "role"))
    assert roles.pop("admin") == Role.ADMIN
    assert roles.pop("exec1") == Role.EXECUTIVE
    assert roles.pop("exec2") == Role.EXECUTIVE
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
def test_every_rm_has_activities_in_the_last_four_weeks_and_none_done_after_as_of(demo_bank):
    recent = Activity.objects.filter(date__gt=AS_OF - dt.timedelta(weeks=4), date__lte=AS_OF)
    active_rms = set(recent.values_list("rm__username", flat=True))
    assert active_rms == set(User.objects.filter(role=Role.RM).values_list("username", flat=True))
    # Only planned activities lie ahead: nothing is done before it happened.
    assert not Activity.objects.filter(date__gt=AS_OF, status=ActivityStatus.DONE).exists()


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
    for expected in (
        "positions",
        "territory plans",
        "FY 2025",
        "exec1",
        "exec2",
        "leader3",
        "rm1-rm10",
        "rm21-rm30",
        "'flightpath'",
    ):
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


# --- the plan year --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_plan_year_of_as_of_exists_with_its_standards(demo_bank):
    year = PlanYear.objects.get()
    assert (year.year, year.starts_on, year.ends_on) == (
        2025,
        dt.date(2025, 1, 1),
        AS_OF.replace(month=12, day=31),
    )
    assert year.is_open
    assert (year.product_weight_pct, year.rb_weight_pct) == (80, 20)
    assert year.standard.forecast_accuracy_pct == 85
    assert year.standard.relationship_metric == "retention"
    standards = {
        s.rm_style: (s.calls_per_week, s.visits_per_week, s.reviews_per_week)
        for s in ActivityStandard.objects.filter(plan_year=year)
    }
    assert standards == {"finder": (12, 3, 1), "minder": (5, 4, 3), "both": (8, 3, 2)}
    mix = dict(ProductMixStandard.objects.values_list("family", "target_share_pct"))
    assert set(mix) == set(ProductFamily.values)
    assert sum(mix.values()) == 100


@pytest.mark.django_db
def test_bank_targets_are_approved_by_an_executive_who_did_not_propose_them(demo_bank):
    bank = TargetSet.objects.get(scope="bank")
    assert bank.status == TargetSet.Status.APPROVED
    assert bank.growth_share_pct == 60
    assert (bank.created_by.username, bank.proposed_by.username) == ("exec1", "exec1")
    assert bank.decided_by.username == "exec2"
    assert bank.decided_by_id not in (bank.proposed_by_id, bank.last_edited_by_id)
    weights = list(bank.lines.values_list("weight", flat=True))
    assert len(weights) >= 5
    assert sum(weights) == 100
    growth = bank.lines.filter(metric__category="growth").aggregate(w=Sum("weight"))["w"]
    assert growth == bank.growth_share_pct
    kinds = list(bank.comments.values_list("kind", "author__username"))
    assert kinds == [("proposed", "exec1"), ("approved", "exec2")]


@pytest.mark.django_db
def test_four_eyes_holds_for_every_decided_target_set(demo_bank):
    decided = TargetSet.objects.filter(status__in=["approved", "returned"])
    assert decided.exists()
    for ts in decided.select_related("decided_by"):
        assert ts.decided_by.role == Role.EXECUTIVE
        assert ts.decided_by_id not in (ts.proposed_by_id, ts.last_edited_by_id)


@pytest.mark.django_db
def test_team_targets_one_approved_one_waiting_for_sign_off_one_draft(demo_bank):
    states = dict(
        TargetSet.objects.filter(scope="team").values_list("team__leader__username", "status")
    )
    assert states == {"leader1": "approved", "leader2": "proposed", "leader3": "draft"}
    waiting = TargetSet.objects.get(scope="team", status="proposed")
    assert waiting.proposed_by == waiting.team.leader
    assert waiting.lines.aggregate(w=Sum("weight"))["w"] == 100
    draft = TargetSet.objects.get(scope="team", status="draft")
    assert draft.lines.aggregate(w=Sum("weight"))["w"] < 100  # the screen has a problem to show


@pytest.mark.django_db
def test_rm_targets_of_team_one_are_decided_and_of_team_two_proposed(demo_bank):
    rm_sets = TargetSet.objects.filter(scope="rm").select_related("rm__team__leader")
    by_team = {}
    for ts in rm_sets:
        by_team.setdefault(ts.rm.team.leader.username, set()).add(ts.status)
        assert ts.proposed_by == ts.rm.team.leader
        assert sum(ts.lines.values_list("weight", flat=True)) == 100
    assert by_team == {
        "leader1": {"approved", "proposed", "returned"},
        "leader2": {"proposed"},
    }
    returned = rm_sets.get(status="returned")
    assert returned.comments.filter(kind="returned").exclude(text="").exists()
    assert rm_sets.get(rm__username="rm1").status == "approved"


@pytest.mark.django_db
def test_territory_plans_are_in_every_state(demo_bank):
    states = set(TerritoryPlan.objects.values_list("status", flat=True))
    assert states == set(TerritoryPlan.Status.values)
    for plan in TerritoryPlan.objects.exclude(status__in=["draft"]).select_related("rm"):
        assert not missing_sections(plan), plan  # only complete plans were ever submitted


@pytest.mark.django_db
def test_rm1_plan_is_a_started_draft_with_targets_to_measure_against(demo_bank):
    plan = TerritoryPlan.objects.get(rm__username="rm1")
    assert plan.status == TerritoryPlan.Status.DRAFT
    assert plan.goals_business
    assert plan.strategies
    assert {"measures", "activity", "top_accounts"} <= set(missing_sections(plan))
    rm1_targets = TargetSet.objects.get(rm__username="rm1")
    assert rm1_targets.lines.exists()


@pytest.mark.django_db
def test_decided_plans_were_endorsed_by_the_leader_and_approved_by_an_executive(demo_bank):
    for plan in TerritoryPlan.objects.filter(status__in=["endorsed", "approved"]).select_related(
        "rm__team", "endorsed_by", "approved_by"
    ):
        assert plan.endorsed_by_id == plan.rm.team.leader_id
        if plan.status == "approved":
            assert plan.approved_by.role == Role.EXECUTIVE
    for plan in TerritoryPlan.objects.filter(status="returned"):
        returned = plan.comments.filter(kind="returned")
        assert returned.exclude(text="").exists()
        assert returned.first().author.role in (Role.LEADER, Role.EXECUTIVE)
    leavers = User.objects.filter(notice_given_on__isnull=False)
    assert not TerritoryPlan.objects.filter(rm__in=leavers).exists()


@pytest.mark.django_db
def test_everything_planned_happened_before_as_of(demo_bank):
    cutoff = dt.datetime.combine(AS_OF, dt.time(), tzinfo=dt.UTC)
    assert not Comment.objects.filter(created_at__gte=cutoff).exists()
    assert not TargetSet.objects.filter(decided_at__gte=cutoff).exists()
    assert not TerritoryPlan.objects.filter(approved_at__gte=cutoff).exists()
    assert not TerritoryPlan.history.filter(history_date__gte=cutoff).exists()
    assert not TerritoryPlan.history.filter(history_user__isnull=True).exists()
    assert not TargetSet.history.filter(history_user__isnull=True).exists()


@pytest.mark.django_db
def test_most_but_not_all_tier_a_accounts_have_a_relationship_plan(demo_bank):
    tier_a = Account.objects.filter(tier__code="A", status=AccountStatus.ACTIVE)
    planned = tier_a.filter(relationship_plans__isnull=False).distinct().count()
    assert 0.75 * tier_a.count() <= planned < tier_a.count()
    rm1_tier_a = tier_a.filter(owner__username="rm1")
    assert 0 < rm1_tier_a.filter(relationship_plans__isnull=False).count() < rm1_tier_a.count()
    assert not RelationshipPlan.objects.filter(actions__isnull=True).exists()
    assert RelationshipPlan.objects.filter(intent="must_grow").exists()
    assert PlannedAction.objects.filter(done=True, due_on__lt=AS_OF).exists()
    assert not PlannedAction.objects.filter(done=True, due_on__gte=AS_OF).exists()


@pytest.mark.django_db
def test_some_rms_have_a_development_plan_tied_to_their_targets(demo_bank):
    plans = DevelopmentPlan.objects.all()
    assert 0 < plans.count() < User.objects.filter(role=Role.RM).count()
    rm1 = plans.get(rm__username="rm1")
    assert rm1.goals.filter(target_line__target_set__rm__username="rm1").exists()


@pytest.mark.django_db
def test_reset_keeps_the_metric_catalogue_and_wipes_the_plans(demo_bank):
    catalogue = set(Metric.objects.values_list("code", flat=True))
    wipe_demo_bank()
    assert set(Metric.objects.values_list("code", flat=True)) == catalogue
    assert len(catalogue) == 12  # the nine and the three relationship metrics (0006)
    assert not TargetSet.objects.exists()
    assert not TerritoryPlan.objects.exists()
    assert not PlanYear.objects.exists()


@pytest.mark.parametrize("as_of", [dt.date(2026, 1, 2), dt.date(2026, 3, 1), dt.date(2026, 12, 30)])
def test_the_planning_story_lies_between_november_and_as_of(as_of):
    story = _Story(PlanYear(starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31)), as_of)
    moments = [story.at(f / 100) for f in range(101)]
    assert moments == sorted(moments)
    assert moments[0].date() >= dt.date(2025, 11, 1)
    assert moments[-1].date() < as_of
    assert moments[-1].date() <= dt.date(2026, 4, 30)
    assert all(8 <= m.hour <= 17 and m.weekday() < 5 for m in moments)


# --- coaching ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_behaviours_are_six_weighing_100_approved_by_another_executive(demo_bank):
    bs = BehaviourSet.objects.get(plan_year__year=AS_OF.year)
    assert bs.status == BehaviourSet.Status.APPROVED
    assert (bs.proposed_by.username, bs.decided_by.username) == ("exec1", "exec2")
    assert Behaviour.objects.filter(behaviour_set=bs).count() == 6
    assert sum(Behaviour.objects.filter(behaviour_set=bs).values_list("weight", flat=True)) == 100


@pytest.mark.django_db
def test_every_team_has_a_cadence_and_every_staying_rm_check_ins(demo_bank):
    assert Cadence.objects.count() == Team.objects.count()
    staying = User.objects.filter(role=Role.RM, departed_on__isnull=True)
    assert set(staying.values_list("pk", flat=True)) <= set(
        CheckIn.objects.values_list("rm", flat=True)
    )


@pytest.mark.django_db
def test_past_check_ins_are_held_or_missed_and_coming_ones_scheduled(demo_bank):
    as_of = timezone.make_aware(dt.datetime.combine(AS_OF, dt.time(0)))
    past = CheckIn.objects.filter(scheduled_at__lt=as_of - dt.timedelta(days=1))
    assert not past.filter(status=CheckIn.Status.SCHEDULED).exists()
    completed = past.filter(status=CheckIn.Status.COMPLETED)
    assert completed.count() > 0.8 * past.count()
    assert past.filter(status=CheckIn.Status.MISSED).exists()
    assert CheckIn.objects.filter(scheduled_at__gt=as_of, status=CheckIn.Status.SCHEDULED).exists()
    assert not completed.filter(snapshot={}).exists()
    kinds = set(completed.values_list("kind", flat=True))
    assert {"weekly", "monthly", "quarterly"} <= kinds


@pytest.mark.django_db
def test_rm1_has_a_coming_weekly_check_in_and_a_commitment_carried_into_it(demo_bank):
    as_of = timezone.make_aware(dt.datetime.combine(AS_OF, dt.time(0)))
    assert CheckIn.objects.filter(
        rm__username="rm1", kind="weekly", status="scheduled", scheduled_at__gte=as_of
    ).exists()
    assert Commitment.objects.filter(
        rm__username="rm1", done=False, checkin__status="completed", checkin__kind="weekly"
    ).exists()


@pytest.mark.django_db
def test_ratings_cover_each_month_of_the_year_before_as_of(demo_bank):
    months = set(CustomerRating.objects.values_list("month", flat=True))
    assert months == {dt.date(AS_OF.year, m, 1) for m in range(1, AS_OF.month)}
    assert CustomerContact.objects.exists()
    assert SurveyInvitation.objects.filter(month=dt.date(AS_OF.year, AS_OF.month - 1, 1)).exists()


@pytest.mark.django_db
def test_the_improving_rms_score_higher_at_the_end_than_at_the_start(demo_bank):
    exec1 = User.objects.get(username="exec1")
    plan_year = PlanYear.objects.get(year=AS_OF.year)
    for username in ("rm2", "rm5"):
        card = rm_report_card(exec1, User.objects.get(username=username), plan_year, today=AS_OF)
        scores = [s for s in card.overall_trend if s is not None]
        assert scores[-1] > scores[0], username


@pytest.mark.django_db
def test_rm1_has_an_improvement_plan_for_follow_up(demo_bank):
    assert ImprovementPlan.objects.filter(rm__username="rm1", behaviour__name="Follow-up").exists()


# --- retention and the first night ----------------------------------------------------------


@pytest.mark.django_db
def test_one_leaver_is_in_vacancy_with_major_accounts_uncovered_the_other_working_notice(
    demo_bank,
):
    from retention.models import DepartureCase
    from retention.services.departures import case_accounts, major

    phases = {}
    for case in DepartureCase.objects.all():
        uncovered = major(case_accounts(case)).filter(covering_rm__isnull=True).count()
        phases[case.phase_on(AS_OF)] = uncovered
    assert set(phases) == {"vacancy", "withdrawal"}
    assert phases["vacancy"] > 0


@pytest.mark.django_db
def test_a_campaign_is_running_with_its_prequalified_list(demo_bank):
    from retention.models import Campaign

    running = Campaign.objects.filter(starts_on__lte=AS_OF, ends_on__gte=AS_OF).get()
    assert running.goal == Campaign.Goal.PRODUCT_FAMILY
    assert running.entries.count() > 0


@pytest.mark.django_db
def test_the_first_night_scored_risk_stored_variances_and_logged_its_runs(demo_bank):
    from org.models import JobRun
    from planning.models import Variance
    from retention.models import RiskScore

    assert (
        RiskScore.objects.filter(scored_on=AS_OF).count()
        == Account.objects.filter(status=AccountStatus.ACTIVE).count()
    )
    assert RiskScore.objects.values("scored_on").distinct().count() == 3
    assert Variance.objects.filter(scope="rm").exists()
    assert Variance.objects.filter(scope="bank").exists()
    assert set(JobRun.objects.values_list("outcome", flat=True)) == {"succeeded"}
    assert {"score_risk", "recompute_variances", "compute_early_warnings", "flag_uncovered"} <= set(
        JobRun.objects.values_list("job", flat=True)
    )


# --- the RM's working week: the diary, the pipeline's history, the forecasts ---------------

MONDAY = AS_OF - dt.timedelta(days=AS_OF.weekday())
NEXT_MONDAY = MONDAY + dt.timedelta(days=7)
YEAR_MONTHS = [dt.date(AS_OF.year, m, 1) for m in range(1, AS_OF.month + 1)]
NEXT_MONTH = dt.date(AS_OF.year, AS_OF.month + 1, 1)
QUARTER = dt.date(AS_OF.year, (AS_OF.month - 1) // 3 * 3 + 1, 1)


def staying_rms():
    return User.objects.filter(role=Role.RM, departed_on__isnull=True)


@pytest.mark.django_db
def test_every_staying_rm_has_planned_activities_this_week_and_next(demo_bank):
    planned = Activity.objects.filter(status=ActivityStatus.PLANNED)
    this_week = planned.filter(date__gte=MONDAY, date__lt=NEXT_MONDAY)
    next_week = planned.filter(date__gte=NEXT_MONDAY, date__lt=NEXT_MONDAY + dt.timedelta(days=7))
    staying = set(staying_rms().values_list("username", flat=True))
    assert set(this_week.values_list("rm__username", flat=True)) == staying
    assert set(next_week.values_list("rm__username", flat=True)) == staying
    # A realistic few a day, not a handful a week.
    assert next_week.count() >= 4 * len(staying)
    assert set(next_week.values_list("kind", flat=True)) == set(ActivityKind.values)


@pytest.mark.django_db
def test_planned_activities_have_no_outcome_and_are_on_the_rms_own_accounts(demo_bank):
    planned = Activity.objects.filter(status=ActivityStatus.PLANNED)
    assert not planned.exclude(outcome="").exists()
    assert not planned.exclude(account__owner=F("rm")).exists()
    assert not planned.filter(date__gt=NEXT_MONDAY + dt.timedelta(days=6)).exists()
    left = User.objects.filter(role=Role.RM, departed_on__isnull=False)
    assert left.exists()
    assert not planned.filter(rm__in=left).exists()  # nobody plans for an RM who has gone


@pytest.mark.django_db
def test_activities_were_logged_by_as_of_and_done_ones_on_their_own_day(demo_bank):
    cutoff = timezone.make_aware(dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time()))
    assert not Activity.objects.filter(created_at__gte=cutoff).exists()
    assert not Activity.objects.exclude(updated_at=F("created_at")).exists()
    done = Activity.objects.filter(status=ActivityStatus.DONE).only("date", "created_at")
    assert all(timezone.localtime(a.created_at).date() == a.date for a in done)
    planned = Activity.objects.filter(status=ActivityStatus.PLANNED).only("date", "created_at")
    assert all(timezone.localtime(a.created_at).date() < a.date for a in planned)


@pytest.mark.django_db
def test_rm1_has_a_few_overdue_follow_ups_and_old_ones_are_mostly_done(demo_bank):
    open_follow_ups = Activity.objects.filter(
        next_step_due__isnull=False, next_step_done_on__isnull=True
    )
    overdue = open_follow_ups.filter(rm__username="rm1", next_step_due__lt=AS_OF)
    assert 3 <= overdue.count() <= 10
    assert not overdue.filter(next_step="").exists()
    assert not open_follow_ups.filter(next_step_due__lt=AS_OF - dt.timedelta(days=31)).exists()
    assert open_follow_ups.filter(next_step_due__gte=AS_OF).exists()  # some still ahead
    done = Activity.objects.filter(next_step_done_on__isnull=False)
    assert not done.filter(next_step_done_on__lt=F("date")).exists()
    assert not done.filter(next_step_done_on__gt=AS_OF).exists()


@pytest.mark.django_db
def test_some_activities_name_the_contact_met_at_the_account(demo_bank):
    with_contact = Activity.objects.filter(contact__isnull=False)
    assert with_contact.filter(status=ActivityStatus.DONE).count() > 1_000
    assert not with_contact.exclude(contact__account=F("account")).exists()
    assert (
        with_contact.filter(kind=ActivityKind.CALL).count()
        < with_contact.exclude(kind=ActivityKind.CALL).count()
    )


@pytest.mark.django_db
def test_every_team_leader_went_on_joint_visits_in_the_last_six_weeks(demo_bank):
    joint = Activity.participants.through.objects.select_related("activity__rm__team", "user")
    assert joint.exists()
    for row in joint:
        assert row.user == row.activity.rm.team.leader  # the RM's own leader, not the RM
        assert row.activity.kind != ActivityKind.CALL
    recent = Activity.objects.filter(
        participants__isnull=False,
        status=ActivityStatus.DONE,
        date__gt=AS_OF - dt.timedelta(weeks=6),
    )
    per_team = dict(recent.values_list("rm__team__name").annotate(n=Count("pk")))
    assert set(per_team) == set(Team.objects.values_list("name", flat=True))
    assert all(3 <= n <= 12 for n in per_team.values()), per_team
    assert recent.filter(rm__username="rm1", date__gte=AS_OF - dt.timedelta(days=14)).exists()
    leader_names = set(Team.objects.values_list("leader__first_name", flat=True))
    assert any(any(n in a.outcome for n in leader_names) for a in recent)
    assert Activity.objects.filter(participants__isnull=False, status="planned").exists()


@pytest.mark.django_db
def test_every_rm_has_open_deals_in_every_stage(demo_bank):
    stages = (
        Opportunity.objects.filter(status=OpportunityStatus.OPEN)
        .values("rm__username")
        .annotate(n=Count("stage", distinct=True))
    )
    assert {row["n"] for row in stages} == {len(OpportunityStage.values)}
    assert {row["rm__username"] for row in stages} == set(
        User.objects.filter(role=Role.RM).values_list("username", flat=True)
    )
    assert not Opportunity.objects.filter(status=OpportunityStatus.OPEN, next_step="").exists()


@pytest.mark.django_db
def test_forecast_categories_commit_mostly_the_late_deals_closing_soon(demo_bank):
    open_deals = Opportunity.objects.filter(status=OpportunityStatus.OPEN)
    assert set(open_deals.values_list("forecast_category", flat=True)) == set(
        ForecastCategory.values
    )
    commit = open_deals.filter(forecast_category=ForecastCategory.COMMIT)
    late = [OpportunityStage.NEGOTIATION, OpportunityStage.CLOSING]
    soon = commit.filter(stage__in=late, expected_close__lt=dt.date(AS_OF.year, AS_OF.month + 2, 1))
    assert soon.count() > 0.6 * commit.count()
    omitted = open_deals.filter(forecast_category=ForecastCategory.OMITTED).count()
    assert 0 < omitted < 0.15 * open_deals.count()
    won = Opportunity.objects.filter(status=OpportunityStatus.WON)
    assert set(won.values_list("forecast_category", flat=True)) == {ForecastCategory.COMMIT}


@pytest.mark.django_db
def test_lost_deals_have_a_reason_from_the_administrators_list(demo_bank):
    lost = Opportunity.objects.filter(status=OpportunityStatus.LOST)
    assert lost.exists()
    assert not lost.filter(lost_reason__isnull=True).exists()
    assert lost.values("lost_reason").distinct().count() > 1
    assert set(lost.values_list("lost_reason__name", flat=True)) <= set(
        LostReason.objects.values_list("name", flat=True)
    )
    assert lost.exclude(lost_note="").exists()
    assert (
        not Opportunity.objects.exclude(status=OpportunityStatus.LOST)
        .exclude(lost_note="")
        .exists()
    )


@pytest.mark.django_db
def test_stage_history_replays_to_every_deal_as_it_stands(demo_bank):
    deals = {o.pk: o for o in Opportunity.objects.all()}
    history: dict[int, list[OpportunityChange]] = {}
    for change in OpportunityChange.objects.order_by("opportunity", "changed_at", "pk"):
        history.setdefault(change.opportunity_id, []).append(change)
    assert set(history) == set(deals)
    for pk, changes in history.items():
        deal, first = deals[pk], changes[0]
        assert (first.from_stage, first.from_status, first.from_amount) == ("", "", None)
        assert first.changed_at.date() == deal.created_on
        assert first.changed_by_id == deal.rm_id
        state = {
            "stage": first.to_stage,
            "status": first.to_status,
            "amount": first.to_amount,
            "expected_close": first.to_expected_close,
        }
        for change in changes[1:]:
            assert change.changed_at > first.changed_at
            for field in state:
                before, after = getattr(change, f"from_{field}"), getattr(change, f"to_{field}")
                if after not in ("", None):
                    assert before == state[field], (pk, field)
                    state[field] = after
        assert state == {
            "stage": deal.stage,
            "status": deal.status,
            "amount": deal.amount,
            "expected_close": deal.expected_close,
        }, pk
        assert changes[-1].changed_at.date() <= (deal.closed_on or AS_OF)
        if deal.closed_on:
            assert changes[-1].to_status == deal.status
            assert changes[-1].changed_at.date() == deal.closed_on


@pytest.mark.django_db
def test_deals_moved_through_stages_and_some_slipped(demo_bank):
    changes = OpportunityChange.objects.all()
    moves = changes.exclude(from_stage="").filter(opportunity__status=OpportunityStatus.OPEN)
    assert moves.filter(to_stage=OpportunityStage.CLOSING).exists()
    slipped = [c for c in changes.exclude(from_expected_close=None) if c.slipped]
    deals = Opportunity.objects.count()
    assert 0.1 * deals < len({c.opportunity_id for c in slipped}) < 0.5 * deals
    assert changes.exclude(from_amount=None).count() > 0.1 * deals
    # Each RM's pipeline has a story of its own: stage moves in the last month.
    recent = moves.filter(changed_at__date__gte=AS_OF - dt.timedelta(days=30))
    assert recent.values("opportunity__rm").distinct().count() > 25


@pytest.mark.django_db
def test_every_rm_submitted_a_forecast_for_every_month_so_far_before_it_began(demo_bank):
    monthly = ForecastSubmission.objects.filter(period=ForecastPeriod.MONTH)
    for rm in staying_rms():
        months = set(monthly.filter(rm=rm).values_list("period_start", flat=True))
        assert set(YEAR_MONTHS) <= months, rm.username
    for s in monthly:
        start = timezone.make_aware(dt.datetime.combine(s.period_start, dt.time()))
        assert s.submitted_at < min(
            start, timezone.make_aware(dt.datetime.combine(AS_OF, dt.time(23)))
        )
    assert monthly.exclude(note="").exists()
    # A few have sent next month's already; rm1 still has to.
    early = monthly.filter(period_start=NEXT_MONTH)
    assert 0 < early.count() < staying_rms().count() / 2
    assert not early.filter(rm__username="rm1").exists()
    assert not monthly.filter(period_start__gt=NEXT_MONTH).exists()


@pytest.mark.django_db
def test_every_rm_submitted_the_current_quarter(demo_bank):
    quarterly = ForecastSubmission.objects.filter(period=ForecastPeriod.QUARTER)
    assert set(quarterly.values_list("period_start", flat=True)) == {QUARTER}
    assert set(quarterly.values_list("rm", flat=True)) >= set(
        staying_rms().values_list("pk", flat=True)
    )


def bias_of_each_rm() -> dict[str, float]:
    """Per RM, the median of submitted / won over the year's closed months they won in."""
    closed = YEAR_MONTHS[:-1]
    won: dict[tuple, Decimal] = {}
    for rm, month, total in (
        Opportunity.objects.filter(
            status=OpportunityStatus.WON, closed_on__gte=closed[0], closed_on__lt=YEAR_MONTHS[-1]
        )
        .annotate(month=TruncMonth("closed_on"))
        .values("rm__username", "month")
        .annotate(total=Sum("amount"))
        .values_list("rm__username", "month", "total")
        .order_by()
    ):
        won[(rm, month)] = total
    ratios: dict[str, list[float]] = {}
    for rm, month, amount in ForecastSubmission.objects.filter(
        period=ForecastPeriod.MONTH, period_start__in=closed
    ).values_list("rm__username", "period_start", "amount"):
        if won.get((rm, month)):
            ratios.setdefault(rm, []).append(float(amount / won[(rm, month)]))
    return {rm: statistics.median(r) for rm, r in ratios.items()}


@pytest.mark.django_db
def test_some_rms_forecast_optimistically_some_cautiously_most_close_to_the_mark(demo_bank):
    bias = bias_of_each_rm()
    assert len(bias) >= 25
    optimistic = [rm for rm, b in bias.items() if b > 1.12]
    cautious = [rm for rm, b in bias.items() if b < 0.92]
    close = [rm for rm, b in bias.items() if 0.9 <= b <= 1.1]
    assert len(optimistic) >= 3, bias
    assert len(cautious) >= 3, bias
    assert len(close) > len(bias) / 3, bias


@pytest.mark.django_db
def test_leaders_adjusted_some_numbers_with_a_note_and_the_rms_number_stays(demo_bank):
    adjusted = ForecastSubmission.objects.exclude(adjusted_amount=None).select_related(
        "rm__team", "adjusted_by"
    )
    assert 10 <= adjusted.count() < 0.5 * ForecastSubmission.objects.count()
    for s in adjusted:
        assert s.adjusted_by == s.rm.team.leader
        assert s.adjustment_note
        assert s.adjusted_amount != s.amount
        assert s.submitted_at < s.adjusted_at
        assert s.adjusted_at.date() < s.period_start
        assert s.history.count() == 2  # submitted, then adjusted
    assert adjusted.filter(adjusted_amount__lt=F("amount")).exists()
    assert adjusted.filter(adjusted_amount__gt=F("amount")).exists()


@pytest.mark.django_db
def test_each_teams_forecast_is_the_sum_of_its_rms_numbers_as_the_leader_left_them(demo_bank):
    team_rows = TeamForecastSubmission.objects.select_related("team", "submitted_by")
    expected_periods = {("month", m) for m in YEAR_MONTHS} | {("quarter", QUARTER)}
    for team in Team.objects.all():
        periods = {(t.period, t.period_start) for t in team_rows if t.team == team}
        assert periods == expected_periods, team.name
    for t in team_rows:
        assert t.submitted_by == t.team.leader
        subs = ForecastSubmission.objects.filter(
            rm__team=t.team, period=t.period, period_start=t.period_start
        )
        assert t.amount == sum(s.effective_amount for s in subs)
        assert all(s.submitted_at <= t.submitted_at for s in subs)


@pytest.mark.django_db
def test_each_month_so_far_is_frozen_from_the_submitted_forecast(demo_bank):
    snapshots = ForecastSnapshot.objects.all()
    assert set(snapshots.values_list("month", flat=True)) == set(YEAR_MONTHS)
    assert set(snapshots.values_list("source", flat=True)) == {ForecastSnapshot.Source.SUBMITTED}
    submitted = {
        (s.rm_id, s.period_start): s
        for s in ForecastSubmission.objects.filter(period=ForecastPeriod.MONTH)
    }
    for snap in snapshots:
        s = submitted[(snap.rm_id, snap.month)]
        assert (snap.amount, snap.adjusted_amount) == (s.amount, s.adjusted_amount)
        assert timezone.localtime(snap.taken_at).date() == snap.month
    assert snapshots.exclude(adjusted_amount=None).exists()


@pytest.mark.django_db
def test_forecast_accuracy_has_figures_for_every_rm_team_and_the_bank(demo_bank):
    accuracy = Variance.objects.filter(metric__code="forecast_accuracy", period="ytd")
    rms = accuracy.filter(scope="rm")
    assert rms.count() == User.objects.filter(role=Role.RM).count()
    assert not rms.filter(actual=None).exists()
    assert accuracy.filter(scope="team").count() == Team.objects.count()
    assert not accuracy.filter(scope="team", actual=None).exists()
    bank = accuracy.get(scope="bank")
    assert 70 < bank.actual <= 100
    # Some RMs forecast well, some are below the standard of 85 %: the screens show both.
    assert rms.filter(actual__gte=85).exists()
    assert rms.filter(actual__lt=85).exists()
    monthly = Variance.objects.filter(
        metric__code="forecast_accuracy", period="month", scope="bank"
    )
    assert monthly.count() == len(YEAR_MONTHS) - 1
    assert not monthly.filter(actual=None).exists()


@pytest.mark.django_db
def test_rm1_check_in_and_plan_versus_actual_show_a_forecast_accuracy_figure(demo_bank):
    rm1 = User.objects.get(username="rm1")
    plan_year = PlanYear.objects.get(year=AS_OF.year)
    pva = rm_plan_versus_actual(rm1, plan_year=plan_year, period="ytd")
    line = next(line for line in pva.lines if line.metric.code == "forecast_accuracy")
    assert line.actual is not None
    bank = scope_plan_versus_actual(plan_year=plan_year, team=None, period="ytd")
    assert next(x for x in bank.lines if x.metric.code == "forecast_accuracy").actual is not None
    last_weekly = (
        CheckIn.objects.filter(rm=rm1, kind="weekly", status="completed")
        .order_by("-scheduled_at")
        .first()
    )
    shown = {x["metric"]: x["actual"] for x in last_weekly.snapshot["plan"]["lines"]}
    assert shown["forecast_accuracy"] is not None
