"""Two submissions of the same survey link at once save one set of ratings.

Both threads open the survey and see it unanswered, wait for each other at a barrier, then
submit. The conditional UPDATE that claims the invitation lets exactly one through; the
other finds it answered and gets SurveyAlreadyAnswered (not an IntegrityError, not a
second set of ratings).

PostgreSQL only: SQLite lets one writer in at a time, so the race cannot happen there.
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from coaching.models import CustomerRating, SurveyInvitation
from coaching.services import surveys
from tests.factories import CustomerContactFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite runs one writer at a time, so two submissions "
        "cannot race there",
    ),
    pytest.mark.django_db(transaction=True),
]

MARCH = datetime.date(2027, 3, 1)
DURING_APRIL = timezone.make_aware(datetime.datetime(2027, 4, 15, 12, 0))


def test_two_simultaneous_submissions_of_one_link_save_one_set_of_ratings(
    behaviours, account, monkeypatch
):
    contact = CustomerContactFactory(account=account)
    surveys.invitations_create(MARCH, today=datetime.date(2027, 4, 2))
    token = surveys.survey_token(SurveyInvitation.objects.get(contact=contact))
    barrier = threading.Barrier(2)
    original = surveys.survey_behaviours

    def both_have_seen_it_open(invitation):
        found = original(invitation)
        barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(surveys, "survey_behaviours", both_have_seen_it_open)
    outcomes: list = [None, None]

    def submit(i, rating):
        try:
            answers = {b.pk: rating for b in behaviours}
            outcomes[i] = surveys.survey_submit(token, answers, now=DURING_APRIL)
        except Exception as exc:  # the outcome under test, reported to the main thread
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i, r)) for i, r in ((0, 5), (1, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)

    saved = [o for o in outcomes if isinstance(o, list)]
    refused = [o for o in outcomes if isinstance(o, surveys.SurveyAlreadyAnswered)]
    assert (len(saved), len(refused)) == (1, 1), outcomes
    assert CustomerRating.objects.count() == len(behaviours)
    assert len(set(CustomerRating.objects.values_list("rating", flat=True))) == 1
