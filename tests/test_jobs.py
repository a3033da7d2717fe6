"""Nightly jobs: run_job's record and lock, the tasks and commands through it, the default
schedule, the status page for administrators (docs/jobs.md)."""

from __future__ import annotations

import datetime
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from coaching.models import CheckIn
from org import jobs
from org.models import JobRun

pytestmark = pytest.mark.django_db

Outcome = JobRun.Outcome


def boom(**kwargs):
    raise RuntimeError("the service broke")


# --- run_job -------------------------------------------------------------------------------


def test_a_successful_run_records_rows_duration_and_who_started_it():
    run = jobs.run_job("demo", lambda **kw: 42, triggered_by="command")
    run.refresh_from_db()
    assert (run.job, run.outcome, run.rows, run.triggered_by) == (
        "demo",
        Outcome.SUCCEEDED,
        42,
        "command",
    )
    assert run.finished_at >= run.started_at
    assert run.duration_ms is not None


def test_run_job_passes_its_keyword_arguments_to_the_service():
    seen = {}

    def service(*, today):
        seen["today"] = today
        return 0

    jobs.run_job("demo", service, today=datetime.date(2027, 3, 1))
    assert seen == {"today": datetime.date(2027, 3, 1)}


def test_a_failed_run_records_the_traceback_and_re_raises():
    with pytest.raises(RuntimeError, match="the service broke"):
        jobs.run_job("demo", boom)
    run = JobRun.objects.get(job="demo")
    assert run.outcome == Outcome.FAILED
    assert "Traceback" in run.error
    assert "the service broke" in run.error
    assert run.finished_at is not None
    assert run.rows is None


def test_a_run_while_the_same_job_runs_is_skipped_and_does_not_call_the_service():
    calls = []

    def inner(**kw):
        calls.append("inner")
        return 1

    def outer(**kw):
        inner_run = jobs.run_job("demo", inner)
        calls.append(inner_run.outcome)
        return 7

    outer_run = jobs.run_job("demo", outer)
    assert calls == [Outcome.SKIPPED]
    assert outer_run.outcome == Outcome.SUCCEEDED
    assert sorted(JobRun.objects.values_list("outcome", flat=True)) == [
        Outcome.SKIPPED,
        Outcome.SUCCEEDED,
    ]


def test_another_job_is_not_blocked_by_a_running_one():
    inner = []
    jobs.run_job("demo", lambda **kw: inner.append(jobs.run_job("other", lambda **k: 3)) or 1)
    assert inner[0].outcome == Outcome.SUCCEEDED


def test_a_run_left_running_long_ago_is_marked_interrupted_by_the_next_run():
    dead = JobRun.objects.create(
        job="demo", started_at=timezone.now() - datetime.timedelta(hours=7)
    )
    run = jobs.run_job("demo", lambda **kw: 1)
    dead.refresh_from_db()
    assert run.outcome == Outcome.SUCCEEDED
    assert dead.outcome == Outcome.FAILED
    assert dead.error.startswith("interrupted")


def test_the_lock_key_is_stable_and_differs_between_jobs():
    assert jobs.lock_key("score_risk") == jobs.lock_key("score_risk")
    assert jobs.lock_key("score_risk") != jobs.lock_key("flag_uncovered")
    assert -(2**63) <= jobs.lock_key("score_risk") < 2**63


def test_a_service_that_cannot_be_imported_is_recorded_as_a_failed_run(monkeypatch):
    monkeypatch.setitem(
        jobs.JOBS, "demo", jobs.Job("demo", "Demo", "no.such.module.fn", "no.such.task", "-")
    )
    with pytest.raises(ImportError):
        jobs.run_named_job("demo")
    assert JobRun.objects.get(job="demo").outcome == Outcome.FAILED


# --- every job is a task and a command -----------------------------------------------------


def test_every_job_names_an_importable_task_with_acks_late():
    from django.utils.module_loading import import_string

    for job in jobs.JOBS.values():
        task = import_string(job.task)
        assert task.name == job.task
        assert task.acks_late is True


@pytest.fixture
def no_broker(settings):
    """As on a first look without CELERY_BROKER_URL: tasks run in-process. CI sets a broker
    for the whole suite, so the tests of the in-process path say so themselves."""
    from salesmgmt.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_every_job_has_a_management_command_of_its_name():
    from django.core.management import get_commands

    assert set(jobs.JOBS) <= set(get_commands())


def test_the_create_checkins_task_runs_in_process_without_a_broker_and_records_its_run(
    team, rm, no_broker
):
    from coaching.tasks import create_checkins

    assert create_checkins.delay().get() == Outcome.SUCCEEDED
    run = JobRun.objects.get(job="create_checkins")
    assert (run.triggered_by, run.rows) == ("celery", CheckIn.objects.count())
    assert run.rows > 0


def test_the_create_checkins_command_goes_through_run_job(team, rm):
    call_command("create_checkins", "--today", "2027-03-01", stdout=StringIO())
    run = JobRun.objects.get(job="create_checkins")
    assert (run.outcome, run.triggered_by, run.rows) == (Outcome.SUCCEEDED, "command", 8)


def test_the_reminders_command_records_a_run(team, rm):
    out = StringIO()
    call_command("send_checkin_reminders", stdout=out)
    assert JobRun.objects.get(job="send_checkin_reminders").triggered_by == "command"
    assert "send_checkin_reminders: 0 row(s)" in out.getvalue()


def test_a_command_refuses_a_malformed_day():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("create_checkins", "--today", "1 March", stdout=StringIO())


# --- the default schedule ------------------------------------------------------------------


def test_the_migration_schedules_every_job_once_with_a_crontab():
    tasks = PeriodicTask.objects.filter(task__in=[j.task for j in jobs.JOBS.values()])
    assert sorted(t.task for t in tasks) == sorted(j.task for j in jobs.JOBS.values())
    assert all(t.crontab_id and t.enabled for t in tasks)


@pytest.mark.parametrize(
    ("task", "minute", "hour", "day"),
    [
        ("planning.tasks.recompute_variances", "30", "1", "*"),
        ("planning.tasks.snapshot_forecasts", "15", "0", "1"),
        ("retention.tasks.score_risk", "30", "2", "*"),
        ("retention.tasks.flag_uncovered", "0", "6", "*"),
        ("retention.tasks.compute_early_warnings", "0", "3", "*"),
        ("coaching.tasks.create_checkins", "0", "5", "*"),
        ("coaching.tasks.send_checkin_reminders", "*/15", "*", "*"),
        ("coaching.tasks.issue_report_cards", "0", "7", "2"),
    ],
)
def test_default_schedule_of_each_job(task, minute, hour, day, settings):
    crontab = PeriodicTask.objects.get(task=task).crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month) == (minute, hour, day)
    assert str(crontab.timezone) == settings.TIME_ZONE


# --- the status page -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rm", "leader", "executive"])
def test_job_status_page_is_403_for_everyone_but_administrators(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("org:jobs")).status_code == 403


def test_run_now_is_403_for_a_leader(client, leader):
    client.force_login(leader)
    response = client.post(reverse("org:job_run_now", args=["create_checkins"]))
    assert response.status_code == 403
    assert not JobRun.objects.exists()


def test_job_status_page_shows_each_job_with_its_schedule(client, administrator):
    client.force_login(administrator)
    response = client.get(reverse("org:jobs"))
    statuses = response.context["statuses"]
    assert [s.job.name for s in statuses] == list(jobs.JOBS)
    assert all(len(s.schedules) == 1 for s in statuses)
    assert "Every 15 minutes" in response.content.decode()


def test_a_job_whose_last_run_failed_is_highlighted_the_next_morning(client, administrator):
    with pytest.raises(RuntimeError):
        jobs.run_job("score_risk", boom)
    jobs.run_job("create_checkins", lambda **kw: 3)
    client.force_login(administrator)
    response = client.get(reverse("org:jobs"))
    assert [s.job.name for s in response.context["failing"]] == ["score_risk"]
    html = response.content.decode()
    assert 'id="job-score_risk" class="table-danger"' in html
    assert "RuntimeError: the service broke" in html


def test_a_failure_followed_by_a_success_is_no_longer_failing(client, administrator):
    with pytest.raises(RuntimeError):
        jobs.run_job("score_risk", boom)
    jobs.run_job("score_risk", lambda **kw: 5)
    status = next(s for s in jobs.job_statuses() if s.job.name == "score_risk")
    assert (status.failing, status.failure_is_news, status.last.rows) == (False, False, 5)
    assert status.last_failure is not None


def test_run_now_runs_the_job_in_process_without_a_broker_once_the_request_commits(
    client, administrator, team, rm, django_capture_on_commit_callbacks, no_broker
):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(reverse("org:job_run_now", args=["create_checkins"]))
    assert response.status_code == 302
    assert len(queued) == 1
    run = JobRun.objects.get(job="create_checkins")
    assert (run.outcome, run.triggered_by) == (Outcome.SUCCEEDED, administrator.username)


@pytest.mark.django_db(transaction=True)  # autocommit: on_commit runs inside the view
def test_run_now_of_a_failing_job_says_so_and_keeps_the_record(client, administrator, no_broker):
    client.force_login(administrator)
    with mock.patch.dict(
        jobs.JOBS,
        {
            "compute_early_warnings": jobs.Job(
                "compute_early_warnings",
                "Early warnings",
                "tests.test_jobs.boom",
                "retention.tasks.compute_early_warnings",
                "-",
            )
        },
    ):
        response = client.post(
            reverse("org:job_run_now", args=["compute_early_warnings"]), follow=True
        )
    assert "Early warnings failed: the service broke" in response.content.decode()
    assert JobRun.objects.get(job="compute_early_warnings").outcome == Outcome.FAILED


def test_run_now_of_an_unknown_job_is_404(client, administrator):
    client.force_login(administrator)
    assert client.post(reverse("org:job_run_now", args=["nothing"])).status_code == 404


@pytest.mark.parametrize("runs", [2, 40])
def test_job_status_page_query_count_does_not_grow_with_runs(
    client, administrator, runs, django_assert_num_queries
):
    now = timezone.now()
    JobRun.objects.bulk_create(
        JobRun(job=name, started_at=now - datetime.timedelta(minutes=i), outcome=outcome)
        for i in range(runs)
        for name in jobs.JOBS
        for outcome in (Outcome.SUCCEEDED, Outcome.FAILED)
    )
    client.force_login(administrator)
    # session, user, last runs, last failures, last successes, schedules, recent runs, the
    # bell's unread count.
    with django_assert_num_queries(8):
        client.get(reverse("org:jobs"))


def test_job_runs_in_the_admin_are_read_only(admin_client):
    jobs.run_job("demo", lambda **kw: 1)
    run = JobRun.objects.get()
    assert admin_client.get(reverse("admin:org_jobrun_changelist")).status_code == 200
    response = admin_client.post(
        reverse("admin:org_jobrun_change", args=[run.pk]), {"outcome": "failed"}
    )
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.outcome == Outcome.SUCCEEDED
