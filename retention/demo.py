"""The retention part of the demo bank, and a first night of jobs.

`seed_retention(as_of=..., seed=...)` runs last, after coaching.demo, in the same
transaction. Through the services, as the people would, it

* opens the departure cases of the two RMs who gave notice (org.demo): rm27's last day has
  passed and nobody replaces them yet (vacancy: some of their major accounts are still
  uncovered), rm14 is working their notice (withdrawal); rm27's check-ins after their last
  day are cancelled;
* gives most tier-A accounts a second bank contact (the team's leader) and a few tier-B
  ones a treasury specialist, so that "multiple connections" has both kinds to show;
* runs a campaign that started last month (cash management for tier-B relationships that
  have none: a product-family goal) and plans one for next month (new relationships);
* runs the nightly jobs once as of `as_of` (and the risk scoring a week and two weeks
  before, so the trend has points): variances, attrition risk, early warnings, the
  uncovered-accounts flag. Their runs are in the job log like any night's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from accounts.models import Account, AccountStatus, ProductFamily
from accounts.selectors import add_months
from coaching.models import CheckIn
from org.models import Role, User
from planning.demo import _acting

from .models import Campaign, DepartureCase, SecondaryContact

NOTICE_DAYS = 30  # the demo bank's notice period


@dataclasses.dataclass(frozen=True)
class RetentionSummary:
    departure_cases: int
    campaigns: int
    risk_scores: int
    variances: int


def seed_retention(*, as_of: dt.date, seed: int) -> RetentionSummary:
    return _RetentionBuilder(as_of=as_of, seed=seed).build()


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


class _RetentionBuilder:
    def __init__(self, *, as_of: dt.date, seed: int):
        self.as_of = as_of
        self.rng = random.Random(f"retention-{seed}")
        self.admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
        self.exec1 = User.objects.get(username="exec1")

    def build(self) -> RetentionSummary:
        cases = self._departures()
        self._secondary_contacts()
        campaigns = self._campaigns()
        risk, variances = self._night()
        return RetentionSummary(
            departure_cases=cases, campaigns=campaigns, risk_scores=risk, variances=variances
        )

    # --- departures ---------------------------------------------------------------------
    def _departures(self) -> int:
        from .services.departures import departure_open, record_departures

        leavers = User.objects.filter(role=Role.RM, notice_given_on__isnull=False).select_related(
            "team__leader"
        )
        opened = 0
        for rm in leavers.order_by("notice_given_on", "pk"):
            leader = rm.team.leader if rm.team else self.admin
            with _acting(leader, _at(rm.notice_given_on + dt.timedelta(days=1))):
                departure_open(
                    rm_id=rm.pk,
                    by=leader,
                    notice_on=rm.notice_given_on,
                    last_day=rm.notice_given_on + dt.timedelta(days=NOTICE_DAYS),
                )
            opened += 1
        record_departures(today=self.as_of)
        # Nobody meets an RM who has left.
        for case in DepartureCase.objects.filter(last_day__lt=self.as_of):
            CheckIn.objects.filter(
                rm=case.rm_id,
                status__in=CheckIn.OPEN,
                scheduled_at__gt=_at(case.last_day, 23),
            ).update(status=CheckIn.Status.CANCELLED, cancel_reason="The RM has left the bank.")
        return opened

    def _secondary_contacts(self) -> None:
        rng = self.rng
        accounts = (
            Account.objects.filter(status=AccountStatus.ACTIVE, tier__code__in=("A", "B"))
            .select_related("tier", "owner__team")
            .order_by("pk")
        )
        specialists = list(
            User.objects.filter(role=Role.RM, departed_on__isnull=True).order_by("pk")
        )
        rows = []
        for account in accounts:
            team = account.owner.team
            if account.tier.code == "A" and team and team.leader_id and rng.random() < 0.55:
                rows.append(
                    SecondaryContact(
                        account=account,
                        person_id=team.leader_id,
                        role="Team leader",
                        since=self.as_of - dt.timedelta(days=rng.randint(60, 700)),
                    )
                )
            elif account.tier.code == "B" and rng.random() < 0.08:
                person = rng.choice(specialists)
                if person.pk != account.owner_id:
                    rows.append(
                        SecondaryContact(
                            account=account,
                            person=person,
                            role="Treasury specialist",
                            since=self.as_of - dt.timedelta(days=rng.randint(30, 400)),
                        )
                    )
        SecondaryContact.objects.bulk_create(rows, batch_size=500)

    # --- campaigns ----------------------------------------------------------------------
    def _campaigns(self) -> int:
        from .services.campaigns import campaign_create, prequalified_from_filter

        start = add_months(self.as_of, -1)
        with _acting(self.exec1, _at(start - dt.timedelta(days=10))):
            running = campaign_create(
                by=self.exec1,
                name="Cash management for growing businesses",
                description=(
                    "Tier-B relationships that hold no treasury product yet: a cash-management "
                    "conversation at the next review, not a product push."
                ),
                starts_on=start,
                ends_on=add_months(self.as_of, 2) - dt.timedelta(days=1),
                goal=Campaign.Goal.PRODUCT_FAMILY,
                product_family=ProductFamily.TREASURY,
                target_value=Decimal("25"),
            )
            prequalified_from_filter(
                campaign_id=running.pk,
                by=self.exec1,
                tier_codes=["B"],
                lacks_families=[ProductFamily.TREASURY],
                today=start - dt.timedelta(days=10),
            )
        with _acting(self.exec1, _at(self.as_of - dt.timedelta(days=3))):
            campaign_create(
                by=self.exec1,
                name="New relationships in the harbour district",
                description="Referrals from accountants and lawyers for the harbour's firms.",
                starts_on=add_months(self.as_of, 1),
                ends_on=add_months(self.as_of, 4) - dt.timedelta(days=1),
                goal=Campaign.Goal.NEW_RELATIONSHIPS,
                target_value=Decimal("12"),
            )
        return Campaign.objects.count()

    # --- the night's jobs ---------------------------------------------------------------
    def _night(self) -> tuple[int, int]:
        from org.jobs import run_job
        from planning.services.variances import variances_recompute

        from .services.departures import uncovered_flag
        from .services.early_warning import early_warnings_compute
        from .services.risk import risk_scores_compute

        def night(name, fn, day):
            return run_job(name, fn, triggered_by="seed", today=day).rows or 0

        risk = sum(
            night("score_risk", risk_scores_compute, self.as_of - dt.timedelta(days=back))
            for back in (14, 7, 0)
        )
        variances = night("recompute_variances", variances_recompute, self.as_of)
        night("compute_early_warnings", early_warnings_compute, self.as_of)
        night("flag_uncovered", uncovered_flag, self.as_of)
        return risk, variances
