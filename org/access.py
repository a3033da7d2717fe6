"""Who may see what. The one place that decides it.

Every page, API endpoint, export and job starts from these querysets. A record that is
not in the user's queryset does not exist for them (404); one that is, but that they may
not change, is a 403 decided by the service that changes it.

    RM         own accounts and the accounts they cover
    leader     everything of their team's RMs (owned or covered by a member)
    executive  the whole bank, read-only
    admin      the whole bank (the Django admin is their tool)
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from accounts.models import Account, Activity, Opportunity
from coaching.models import CheckIn, Commitment, CustomerRating, ImprovementPlan
from org.models import Role, Team, User
from planning.models import (
    DevelopmentPlan,
    ForecastSubmission,
    RelationshipPlan,
    Scope,
    TargetSet,
    TeamForecastSubmission,
    TerritoryPlan,
    Variance,
)
from retention.models import (
    Campaign,
    CampaignAccount,
    DepartureCase,
    EarlyWarning,
    RiskScore,
)


def sees_whole_bank(user: User) -> bool:
    return user.is_superuser or user.role in (Role.EXECUTIVE, Role.ADMIN)


def visible_accounts(user: User) -> QuerySet[Account]:
    """Accounts `user` may see."""
    qs = Account.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_whole_bank(user):
        return qs
    if user.role == Role.LEADER:
        return qs.filter(Q(owner__team__leader=user) | Q(covering_rm__team__leader=user))
    return qs.filter(Q(owner=user) | Q(covering_rm=user))


def visible_opportunities(user: User) -> QuerySet[Opportunity]:
    """Deals on the accounts `user` sees: the RM's own book, the leader's team's, the
    bank's for executives and administrators."""
    return Opportunity.objects.filter(account__in=visible_accounts(user).values("pk"))


def visible_activities(user: User) -> QuerySet[Activity]:
    """Activities `user` may see: those on the accounts they see (the account page's
    history), those of the RMs they see (their own, their team's, the bank's), and the
    joint calls they went along on (docs/activities.md)."""
    qs = Activity.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_whole_bank(user):
        return qs
    joint = Q(pk__in=Activity.participants.through.objects.filter(user=user).values("activity_id"))
    if user.role == Role.LEADER:
        return qs.filter(
            Q(rm__team__leader=user)
            | Q(account__owner__team__leader=user)
            | Q(account__covering_rm__team__leader=user)
            | joint
        )
    return qs.filter(Q(rm=user) | Q(account__owner=user) | Q(account__covering_rm=user) | joint)


def visible_teams(user: User) -> QuerySet[Team]:
    """Teams whose overview `user` may open."""
    qs = Team.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_whole_bank(user):
        return qs
    if user.role == Role.LEADER:
        return qs.filter(leader=user)
    return qs.none()


def visible_people(user: User) -> QuerySet[User]:
    """People (RMs, leaders) whose work `user` may see: themselves, their team, or everyone."""
    qs = User.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_whole_bank(user):
        return qs
    if user.role == Role.LEADER:
        return qs.filter(Q(team__leader=user) | Q(pk=user.pk))
    return qs.filter(pk=user.pk)


def _own_or_team(qs, user: User, rm_field: str):
    """Records of one RM: the RM's own, their leader's team's, or all for the whole bank."""
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_whole_bank(user):
        return qs
    if user.role == Role.LEADER:
        return qs.filter(**{f"{rm_field}__team__leader": user})
    return qs.filter(**{rm_field: user})


def visible_territory_plans(user: User) -> QuerySet[TerritoryPlan]:
    return _own_or_team(TerritoryPlan.objects.all(), user, "rm")


def visible_development_plans(user: User) -> QuerySet[DevelopmentPlan]:
    return _own_or_team(DevelopmentPlan.objects.all(), user, "rm")


def visible_relationship_plans(user: User) -> QuerySet[RelationshipPlan]:
    """A relationship plan is seen by whoever sees its account."""
    return RelationshipPlan.objects.filter(account__in=visible_accounts(user).values("pk"))


def visible_forecast_submissions(user: User) -> QuerySet[ForecastSubmission]:
    """An RM's forecasts: theirs, their leader's, or the whole bank's (read-only)."""
    return _own_or_team(ForecastSubmission.objects.all(), user, "rm")


def visible_team_forecasts(user: User) -> QuerySet[TeamForecastSubmission]:
    """A team's forecast: its leader's and the whole bank's."""
    return TeamForecastSubmission.objects.filter(team__in=visible_teams(user).values("pk"))


def visible_checkins(user: User) -> QuerySet[CheckIn]:
    """An RM's check-ins: theirs, their leader's, or the whole bank's (read-only)."""
    return _own_or_team(CheckIn.objects.all(), user, "rm")


def visible_commitments(user: User) -> QuerySet[Commitment]:
    return _own_or_team(Commitment.objects.all(), user, "rm")


def visible_ratings(user: User) -> QuerySet[CustomerRating]:
    """Customer ratings of an RM: seen by the RM, their leader and the whole bank."""
    return _own_or_team(CustomerRating.objects.all(), user, "rm")


def visible_improvement_plans(user: User) -> QuerySet[ImprovementPlan]:
    return _own_or_team(ImprovementPlan.objects.all(), user, "rm")


def visible_risk_scores(user: User) -> QuerySet[RiskScore]:
    """An account's risk is seen by whoever sees the account."""
    return RiskScore.objects.filter(account__in=visible_accounts(user).values("pk"))


def visible_departure_cases(user: User) -> QuerySet[DepartureCase]:
    """The leaving RM's leader and the whole bank; the replacement sees their own case (to
    hand the accounts over); the leaving RM does not see the case about them."""
    qs = DepartureCase.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_whole_bank(user):
        return qs
    if user.role == Role.LEADER:
        return qs.filter(rm__team__leader=user)
    return qs.filter(replacement=user)


def visible_early_warnings(user: User) -> QuerySet[EarlyWarning]:
    """Only the RM's own leader and executives: a prompt for a conversation, never a
    league table (administrators run the job but do not read the signals)."""
    qs = EarlyWarning.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser or user.role == Role.EXECUTIVE:
        return qs
    if user.role == Role.LEADER:
        return qs.filter(rm__team__leader=user)
    return qs.none()


def visible_campaigns(user: User) -> QuerySet[Campaign]:
    """Campaigns are the bank's: everyone sees them; their accounts are filtered below."""
    if not user.is_authenticated or not user.is_active:
        return Campaign.objects.none()
    return Campaign.objects.all()


def visible_campaign_accounts(user: User) -> QuerySet[CampaignAccount]:
    """A campaign's accounts as far as the user sees the accounts (RMs work their own)."""
    return CampaignAccount.objects.filter(account__in=visible_accounts(user).values("pk"))


def visible_target_sets(user: User) -> QuerySet[TargetSet]:
    """Everyone sees the bank's targets; a team's and an RM's are seen down the line.

    RM: the bank's, their team's and their own. Leader: the bank's, their teams' and their
    RMs'. Executive and administrator: all.
    """
    qs = TargetSet.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_whole_bank(user):
        return qs
    bank = Q(scope=Scope.BANK)
    if user.role == Role.LEADER:
        return qs.filter(bank | Q(team__leader=user) | Q(rm__team__leader=user))
    return qs.filter(bank | Q(rm=user) | Q(team__isnull=False, team=user.team_id))


def visible_variances(user: User) -> QuerySet[Variance]:
    """Stored plan versus actual: an RM's own rows; a leader's RMs' and their teams'; the
    whole bank's (bank rows included) for executives and administrators."""
    qs = Variance.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if sees_whole_bank(user):
        return qs
    return qs.filter(
        Q(scope=Scope.RM, rm__in=visible_people(user).filter(role=Role.RM).values("pk"))
        | Q(scope=Scope.TEAM, team__in=visible_teams(user).values("pk"))
    )


def require_role(user: User, *roles: str) -> None:
    """Inside the app but not allowed here: a 403, never a 404."""
    if not (user.is_superuser or user.role in roles):
        raise PermissionDenied("Your role does not give access to this page.")


def still_here(people: QuerySet, *, today=None) -> QuerySet:
    """The people who have not left: no departure on or before `today`, whatever is_active
    says (a leaver's history stays readable; they are only out of choices and to-do lists)."""
    from django.utils import timezone

    day = today or timezone.localdate()
    return people.filter(Q(departed_on__isnull=True) | Q(departed_on__gt=day))
