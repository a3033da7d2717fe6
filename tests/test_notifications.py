"""The bell and the notifications page: each person sees and marks only their own."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from org.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_the_notifications_page_lists_only_mine(client, rm, other_rm):
    mine = NotificationFactory(user=rm, subject="Mine: check-in tomorrow")
    NotificationFactory(user=other_rm, subject="Theirs: check-in tomorrow")
    client.force_login(rm)
    response = client.get(reverse("org:notifications"))
    assert list(response.context["notifications"]) == [mine]
    assert "Theirs" not in response.content.decode()


def test_marking_another_persons_notification_read_is_404(client, rm, other_rm):
    theirs = NotificationFactory(user=other_rm)
    client.force_login(rm)
    response = client.post(reverse("org:notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_one_read_sets_its_time_and_leaves_the_others(client, rm):
    one, other = NotificationFactory(user=rm), NotificationFactory(user=rm)
    client.force_login(rm)
    response = client.post(reverse("org:notification_read", args=[one.pk]))
    assert response.status_code == 302
    one.refresh_from_db()
    other.refresh_from_db()
    assert one.read_at is not None
    assert other.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_where_it_points(client, rm):
    note = NotificationFactory(user=rm, url="/coaching/report-card/")
    client.force_login(rm)
    response = client.post(reverse("org:notification_read", args=[note.pk]), {"open": "1"})
    assert response.url == "/coaching/report-card/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_opening_a_notification_never_redirects_off_site(client, rm):
    note = NotificationFactory(user=rm, url="https://evil.example/")
    client.force_login(rm)
    response = client.post(reverse("org:notification_read", args=[note.pk]), {"open": "1"})
    assert response.url == reverse("org:notifications")


def test_mark_all_read_marks_only_mine(client, rm, other_rm):
    NotificationFactory.create_batch(3, user=rm)
    theirs = NotificationFactory(user=other_rm)
    client.force_login(rm)
    client.post(reverse("org:notifications_read_all"))
    assert not Notification.objects.filter(user=rm, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_wants_a_post(client, rm):
    note = NotificationFactory(user=rm)
    client.force_login(rm)
    assert client.get(reverse("org:notification_read", args=[note.pk])).status_code == 405


def test_the_bell_shows_my_unread_count(client, rm, other_rm):
    NotificationFactory.create_batch(2, user=rm)
    NotificationFactory(user=rm, read_at=timezone.now())
    NotificationFactory.create_batch(5, user=other_rm)
    client.force_login(rm)
    html = client.get(reverse("accounts:book")).content.decode()
    assert "Notifications, 2 unread" in html


def test_the_bell_without_unread_says_only_notifications(client, rm):
    client.force_login(rm)
    html = client.get(reverse("accounts:book")).content.decode()
    assert "Notifications</span>" in html
    assert "unread" not in html


def test_an_anonymous_visitor_gets_no_bell_and_the_page_asks_for_a_login(client):
    response = client.get(reverse("org:notifications"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "Notifications" not in client.get(reverse("login")).content.decode()


@pytest.mark.parametrize("rows", [3, 60])
def test_notifications_page_query_count_does_not_grow_with_rows(
    client, rm, rows, django_assert_num_queries
):
    NotificationFactory.create_batch(rows, user=rm)
    client.force_login(rm)
    # session, user, count (paginator), the page, the bell's unread count.
    with django_assert_num_queries(5):
        client.get(reverse("org:notifications"))
