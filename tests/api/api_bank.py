"""A small bank with one record of every API resource in each of two teams, for the tests
that walk the whole API (schemathesis)."""

import datetime

from org.models import Role
from planning.models import Variance
from planning.services.variances import variances_recompute
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignAccountFactory,
    CampaignFactory,
    CheckInFactory,
    CommitmentFactory,
    CompleteTerritoryPlanFactory,
    CustomerRatingFactory,
    DepartureCaseFactory,
    DevelopmentPlanFactory,
    OpportunityFactory,
    PositionFactory,
    RelationshipPlanFactory,
    RiskScoreFactory,
    RmFactory,
    TargetLineFactory,
    TargetSetFactory,
    TeamFactory,
    UserFactory,
)


def _team(name: str) -> dict:
    team = TeamFactory(name=name, leader=UserFactory(username=f"leader_{name}", role=Role.LEADER))
    rm = RmFactory(username=f"rm_{name}", team=team)
    leaver = RmFactory(username=f"leaver_{name}", team=team)
    account = AccountFactory(owner=rm)
    target_set = TargetSetFactory(team=team)
    TargetLineFactory(target_set=target_set)
    checkin = CheckInFactory(rm=rm)
    campaign = CampaignFactory()
    return {
        "team": team,
        "leader": team.leader,
        "rm": rm,
        "records": {
            "accounts": account,
            "positions": PositionFactory(account=account),
            "activities": ActivityFactory(account=account, rm=rm),
            "opportunities": OpportunityFactory(account=account, rm=rm),
            "target-sets": target_set,
            "territory-plans": CompleteTerritoryPlanFactory(rm=rm),
            "relationship-plans": RelationshipPlanFactory(account__owner=rm),
            "development-plans": DevelopmentPlanFactory(rm=rm),
            "check-ins": checkin,
            "commitments": CommitmentFactory(checkin=checkin),
            "ratings": CustomerRatingFactory(account=account),
            "risk-scores": RiskScoreFactory(account=account),
            "departure-cases": DepartureCaseFactory(rm=leaver),
            "campaigns": CampaignAccountFactory(campaign=campaign, account=account).campaign,
        },
    }


def small_bank() -> dict:
    """Two teams ("north" is the callers', "south" another team's): users by role and,
    per resource URL prefix, the ids of its records in both teams."""
    north, south = _team("north"), _team("south")
    ids = {
        prefix: [north["records"][prefix].pk, south["records"][prefix].pk]
        for prefix in north["records"]
    }
    variances_recompute(today=datetime.date(2027, 4, 10))
    ids["variances"] = list(Variance.objects.values_list("pk", flat=True)[:50])
    return {"users": {"rm": north["rm"], "leader": north["leader"]}, "ids": ids}
