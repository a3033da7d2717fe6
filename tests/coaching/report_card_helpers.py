"""Making customer ratings for the report-card tests: a few lines per month and RM."""

import datetime

from accounts.models import Account
from coaching.models import CustomerRating
from tests.factories import AccountFactory, SegmentFactory, TierFactory

JAN, FEB, MAR, APR = (datetime.date(2027, m, 1) for m in (1, 2, 3, 4))


def accounts(n: int, owner) -> list[Account]:
    """`n` accounts to hang ratings on (new ones owned by `owner`). A rating's natural key
    is (account, RM, behaviour, month), so the same accounts serve every RM, behaviour and
    month."""
    have = list(Account.objects.order_by("pk")[:n])
    if len(have) < n:
        segment, tier = SegmentFactory(name="Rated"), TierFactory(code="B")
        have += AccountFactory.create_batch(n - len(have), segment=segment, tier=tier, owner=owner)
    return have


def rate(rm, behaviour, month, *scores, comment=""):
    """One rating of `rm` on `behaviour` in `month` per score (1 poor … 5 excellent)."""
    return CustomerRating.objects.bulk_create(
        CustomerRating(
            account=account,
            rm=rm,
            behaviour=behaviour,
            month=month,
            rating=score,
            comment=comment,
        )
        for account, score in zip(accounts(len(scores), rm), scores, strict=True)
    )


def rate_good(rm, behaviours, month, good: int, of: int):
    """`of` ratings on each behaviour, the first `good` of them good (4), the rest fair."""
    for b in behaviours:
        rate(rm, b, month, *([4] * good + [2] * (of - good)))
