"""Reading people and teams: the team and bank overviews.

Each overview is a fixed number of grouped queries, whatever the number of RMs,
accounts or positions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Account, AccountStatus, Activity, ActivityStatus
from accounts.selectors import Balances, balances_by, latest_month
from coaching.selectors.checkins import (
    ADHERENCE_WINDOW,
    Adherence,
    adherence_by_leader,
    adherence_by_rm,
)

from .access import visible_accounts, visible_teams
from .models import Role, Team, User

ACTIVITY_WINDOW_DAYS = 28


@dataclass
class BookLine:
    """One line of an overview: an RM, or a whole team."""

    subject: User | Team
    accounts: int
    active_accounts: int
    balances: Balances
    activities_4w: int
    rms: int = 1


def _activity_since(today: datetime.date | None) -> datetime.date:
    return (today or timezone.localdate()) - datetime.timedelta(days=ACTIVITY_WINDOW_DAYS)


def team_page(user: User) -> QuerySet[Team]:
    return visible_teams(user).select_related("leader")


def team_overview(
    viewer: User, team: Team, *, today: datetime.date | None = None
) -> tuple[list[BookLine], datetime.date | None]:
    """Each RM of `team` with book size, balances, change and recent activity."""
    month = latest_month()
    rms = list(team.members.filter(role=Role.RM).order_by("username"))
    accounts = visible_accounts(viewer).filter(owner__team=team)
    counts = {
        row["owner"]: row
        for row in accounts.values("owner")
        .annotate(total=Count("pk"), active=Count("pk", filter=Q(status=AccountStatus.ACTIVE)))
        .order_by()
    }
    balances = balances_by(accounts, group_by="owner", month=month)
    activities = dict(
        Activity.objects.filter(
            rm__team=team,
            rm__role=Role.RM,
            status=ActivityStatus.DONE,
            date__gte=_activity_since(today),
        )
        .values("rm")
        .annotate(n=Count("pk"))
        .values_list("rm", "n")
        .order_by()
    )
    lines = [
        BookLine(
            subject=rm,
            accounts=counts.get(rm.pk, {}).get("total", 0),
            active_accounts=counts.get(rm.pk, {}).get("active", 0),
            balances=balances.get(rm.pk, Balances()),
            activities_4w=activities.get(rm.pk, 0),
        )
        for rm in rms
    ]
    return lines, month


@dataclass
class BankActivities:
    """The bank's activities of the window, so that the parts add up: the teams' lines, the
    RMs without a team, and apart the leaders' and others' own activities, which count in
    no team's figure (docs/metrics.md, "Activities: the parts add up")."""

    teams: int = 0
    rms_without_team: int = 0
    others: int = 0

    @property
    def rms(self) -> int:
        """The bank's RMs' activities: the bank's activity figure."""
        return self.teams + self.rms_without_team


def bank_overview(
    viewer: User, *, today: datetime.date | None = None
) -> tuple[list[BookLine], datetime.date | None, BankActivities]:
    """Each team of the bank with the same figures as a team overview, summed; and the
    bank's activities split so that they add up."""
    month = latest_month()
    teams = list(visible_teams(viewer).select_related("leader"))
    accounts: QuerySet[Account] = visible_accounts(viewer)
    counts = {
        row["owner__team"]: row
        for row in accounts.values("owner__team")
        .annotate(total=Count("pk"), active=Count("pk", filter=Q(status=AccountStatus.ACTIVE)))
        .order_by()
    }
    balances = balances_by(accounts, group_by="owner__team", month=month)
    activities: dict[int, int] = {}
    split = BankActivities()
    for team_id, role, n in (
        Activity.objects.filter(status=ActivityStatus.DONE, date__gte=_activity_since(today))
        .values("rm__team", "rm__role")
        .annotate(n=Count("pk"))
        .values_list("rm__team", "rm__role", "n")
        .order_by()
    ):
        if role != Role.RM:
            split.others += n
        elif team_id is None:
            split.rms_without_team += n
        else:
            activities[team_id] = activities.get(team_id, 0) + n
    rm_counts = dict(
        User.objects.filter(role=Role.RM, team__isnull=False)
        .values("team")
        .annotate(n=Count("pk"))
        .values_list("team", "n")
        .order_by()
    )
    lines = [
        BookLine(
            subject=team,
            accounts=counts.get(team.pk, {}).get("total", 0),
            active_accounts=counts.get(team.pk, {}).get("active", 0),
            balances=balances.get(team.pk, Balances()),
            activities_4w=activities.get(team.pk, 0),
            rms=rm_counts.get(team.pk, 0),
        )
        for team in teams
    ]
    split.teams = sum(line.activities_4w for line in lines)
    return lines, month, split


# --- check-in adherence (docs/checkins.md) ---------------------------------------------------

ADHERENCE_WEEKS = ADHERENCE_WINDOW.days // 7


@dataclass
class TeamAdherence:
    """The team's check-ins with its leader held on time: the team's total and each RM's."""

    total: Adherence
    by_rm: list[tuple[User, Adherence]]


def team_adherence(viewer: User, team: Team, rms: list[User]) -> TeamAdherence:
    """One grouped query, whatever the number of RMs and check-ins."""
    per_rm = adherence_by_rm(viewer, team=team)
    return TeamAdherence(
        total=Adherence(
            due=sum(a.due for a in per_rm.values()), held=sum(a.held for a in per_rm.values())
        ),
        by_rm=[(rm, per_rm.get(rm.pk, Adherence())) for rm in rms],
    )


@dataclass
class LeaderAdherence:
    leader: User
    teams: list[Team]
    adherence: Adherence


def leader_adherence(viewer: User, teams: list[Team]) -> list[LeaderAdherence]:
    """Each leader of `teams` with their check-in adherence. One grouped query."""
    by_leader: dict[int, LeaderAdherence] = {}
    figures = adherence_by_leader(viewer, leaders=[t.leader_id for t in teams if t.leader_id])
    for team in teams:
        if team.leader is None:
            continue
        line = by_leader.setdefault(
            team.leader_id,
            LeaderAdherence(team.leader, [], figures.get(team.leader_id, Adherence())),
        )
        line.teams.append(team)
    return sorted(by_leader.values(), key=lambda line: str(line.leader))
