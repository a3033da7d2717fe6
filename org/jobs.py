"""Running a background job: one `JobRun` per run, and never two runs of a job at once.

Every nightly job is a service function that returns the number of rows it wrote. A
Celery task and a management command both call it through `run_job`, which

- records a `JobRun` (started, finished, duration, rows, outcome, the traceback of a
  failure; a failure is re-raised after it is recorded, so Celery and the command see it);
- holds a lock for the run's duration, so a second run of the same job while one is
  running does not run: it records outcome "skipped" and returns.

The lock. On PostgreSQL a session-level advisory lock (`pg_try_advisory_lock` on a stable
64-bit hash of the job's name), taken on a dedicated connection that lives exactly as long
as the run and is unlocked and closed in `finally`. If the process is killed, PostgreSQL
drops the connection and the lock with it. While we hold the lock no other run of the job
can be alive, so any other "running" row of the job was left by a killed process: it is
marked failed ("interrupted").

On SQLite (the first look, one machine) a conditional claim: one INSERT ... WHERE NOT
EXISTS a "running" row of the job younger than `STALE_AFTER`. SQLite runs one writer at a
time, so two claims cannot both succeed. A "running" row older than `STALE_AFTER` is taken
to be a killed run: it is marked failed ("interrupted") and no longer blocks. See
docs/jobs.md.
"""

from __future__ import annotations

import datetime
import hashlib
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import JobRun

Outcome = JobRun.Outcome

# On SQLite, a "running" row older than this no longer blocks a run and is marked failed.
STALE_AFTER = datetime.timedelta(hours=6)
INTERRUPTED = "interrupted: the process running this job stopped before it finished"


@dataclass(frozen=True)
class Job:
    """One nightly job: its service, the Celery task and command that run it."""

    name: str
    title: str
    service: str  # dotted path of the service function
    task: str  # dotted path of the Celery task (also its registered name)
    writes: str
    takes_today: bool = True


# The jobs, in the order of the night. The default schedules are created by the migration
# org/0003_default_job_schedules (editable in the admin, django-celery-beat).
JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "snapshot_forecasts",
            "Forecast snapshots",
            "planning.services.variances.forecasts_snapshot",
            "planning.tasks.snapshot_forecasts",
            "ForecastSnapshot",
        ),
        Job(
            "recompute_variances",
            "Plan versus actual",
            "planning.services.variances.variances_recompute",
            "planning.tasks.recompute_variances",
            "Variance",
        ),
        Job(
            "score_risk",
            "Attrition risk",
            "retention.services.risk.risk_scores_compute",
            "retention.tasks.score_risk",
            "RiskScore",
        ),
        Job(
            "compute_early_warnings",
            "Early warnings",
            "retention.services.early_warning.early_warnings_compute",
            "retention.tasks.compute_early_warnings",
            "EarlyWarning",
        ),
        Job(
            "create_checkins",
            "Check-ins from the cadences",
            "coaching.tasks.daily_checkins",
            "coaching.tasks.create_checkins",
            "CheckIn (new ones; open ones a week late marked missed)",
        ),
        Job(
            "flag_uncovered",
            "Uncovered accounts",
            "retention.services.departures.uncovered_flag",
            "retention.tasks.flag_uncovered",
            "DepartureCase (uncovered major accounts flagged)",
        ),
        Job(
            "issue_report_cards",
            "Monthly report cards",
            "coaching.services.reminders.report_cards_issue",
            "coaching.tasks.issue_report_cards",
            "Notification (+ e-mail)",
            takes_today=False,
        ),
        Job(
            "send_checkin_reminders",
            "Check-in reminders",
            "coaching.services.reminders.checkin_reminders_send",
            "coaching.tasks.send_checkin_reminders",
            "Notification (+ e-mail)",
            takes_today=False,
        ),
    )
}


def lock_key(name: str) -> int:
    """A stable signed 64-bit number for the job's name (PostgreSQL's advisory lock key);
    Python's hash() changes from one process to the next, so it cannot serve."""
    digest = hashlib.blake2b(f"flightpath.job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _elapsed_ms(start: float) -> int:
    return max(0, round((time.monotonic() - start) * 1000))


def _interrupt(queryset) -> int:
    now = timezone.now()
    return queryset.filter(outcome=Outcome.RUNNING).update(
        outcome=Outcome.FAILED, finished_at=now, error=INTERRUPTED
    )


@contextmanager
def _postgres_lock(name: str):
    """Yield True while this process holds the job's advisory lock, False if another does."""
    lock = connections.create_connection(DEFAULT_DB_ALIAS)
    key = lock_key(name)
    held = False
    try:
        with lock.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = bool(cursor.fetchone()[0])
        yield held
    finally:
        try:
            if held:
                with lock.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        finally:
            lock.close()  # closing alone would release it too


def _sqlite_claim(name: str, triggered_by: str) -> JobRun | None:
    """Insert the run's "running" row unless a live one exists; None when one does."""
    now = timezone.now()
    _interrupt(JobRun.objects.filter(job=name, started_at__lt=now - STALE_AFTER))
    table = JobRun._meta.db_table
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (job, started_at, outcome, error, triggered_by) "
            f"SELECT %s, %s, %s, '', %s WHERE NOT EXISTS (SELECT 1 FROM {table} "
            "WHERE job = %s AND outcome = %s AND started_at >= %s)",
            [
                name,
                ops.adapt_datetimefield_value(now),
                Outcome.RUNNING,
                triggered_by,
                name,
                Outcome.RUNNING,
                ops.adapt_datetimefield_value(now - STALE_AFTER),
            ],
        )
        if cursor.rowcount != 1:
            return None
        return JobRun.objects.get(pk=cursor.lastrowid)


def _skipped(name: str, triggered_by: str) -> JobRun:
    now = timezone.now()
    return JobRun.objects.create(
        job=name,
        started_at=now,
        finished_at=now,
        duration_ms=0,
        outcome=Outcome.SKIPPED,
        triggered_by=triggered_by,
    )


def _run(run: JobRun, fn: Callable[..., int], kwargs: dict) -> JobRun:
    start = time.monotonic()
    try:
        rows = fn(**kwargs)
    except BaseException:
        run.outcome = Outcome.FAILED
        run.error = traceback.format_exc()
        run.finished_at = timezone.now()
        run.duration_ms = _elapsed_ms(start)
        run.save(update_fields=["outcome", "error", "finished_at", "duration_ms"])
        raise
    run.outcome = Outcome.SUCCEEDED
    run.rows = rows if isinstance(rows, int) and rows >= 0 else None
    run.finished_at = timezone.now()
    run.duration_ms = _elapsed_ms(start)
    run.save(update_fields=["outcome", "rows", "finished_at", "duration_ms"])
    return run


def run_job(name: str, fn: Callable[..., int], *, triggered_by: str = "celery", **kwargs) -> JobRun:
    """Run `fn(**kwargs)` as the job `name` under its lock and record the run.

    Returns the JobRun (outcome succeeded, or skipped when another run holds the lock); a
    failure is recorded with its traceback and re-raised. Call it outside a transaction
    (a task, a command): the JobRun rows are meant to be committed on their own.
    """
    triggered_by = triggered_by[:40]
    if connection.vendor == "postgresql":
        with _postgres_lock(name) as held:
            if not held:
                return _skipped(name, triggered_by)
            # We hold the lock: any other "running" row of this job was left by a dead process.
            _interrupt(JobRun.objects.filter(job=name))
            run = JobRun.objects.create(
                job=name, started_at=timezone.now(), triggered_by=triggered_by
            )
            return _run(run, fn, kwargs)
    run = _sqlite_claim(name, triggered_by)
    if run is None:
        return _skipped(name, triggered_by)
    return _run(run, fn, kwargs)


def run_named_job(name: str, *, triggered_by: str = "celery", **kwargs) -> JobRun:
    """Run one of `JOBS` by its name; the service is imported only now (tasks stay light)."""
    service = JOBS[name].service

    def call(**kw):
        # Imported inside the run, so a broken import is recorded as the run's failure.
        return import_string(service)(**kw)

    return run_job(name, call, triggered_by=triggered_by, **kwargs)


def queue_job(name: str, *, triggered_by: str) -> None:
    """Queue a run of the job once the current transaction commits (an admin's "run now").
    Without a broker the task runs in-process at that moment."""
    from django.db import transaction

    task = import_string(JOBS[name].task)
    transaction.on_commit(lambda: task.delay(triggered_by=triggered_by))


# --- the management commands ---------------------------------------------------------------


def parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today wants a date as YYYY-MM-DD, not {value!r}.") from exc


class JobCommand(BaseCommand):
    """`manage.py <job> [--today YYYY-MM-DD]`: the job's service through run_job."""

    job: str = ""

    @property
    def help(self):
        job = JOBS[self.job]
        return f"{job.title}: run the nightly job now (writes {job.writes}); see docs/jobs.md."

    def add_arguments(self, parser):
        if JOBS[self.job].takes_today:
            parser.add_argument(
                "--today",
                type=str,
                default=None,
                help="Run as if today were this day (YYYY-MM-DD); default: today.",
            )

    def service_kwargs(self, options) -> dict:
        if JOBS[self.job].takes_today and options.get("today"):
            return {"today": parse_day(options["today"])}
        return {}

    def handle(self, *args, **options):
        run = run_named_job(self.job, triggered_by="command", **self.service_kwargs(options))
        if run.outcome == Outcome.SKIPPED:
            self.stdout.write(f"{self.job}: skipped, another run of it is still running.")
        else:
            self.stdout.write(f"{self.job}: {run.rows} row(s) in {run.duration_ms} ms.")


# --- the status page -----------------------------------------------------------------------


@dataclass
class JobStatus:
    job: Job
    last: JobRun | None
    last_failure: JobRun | None
    last_success: JobRun | None
    schedules: list

    @property
    def failing(self) -> bool:
        """The last finished run failed: what an administrator must see in the morning."""
        return self.last is not None and self.last.outcome == Outcome.FAILED

    @property
    def failure_is_news(self) -> bool:
        """A failure with no success after it."""
        return self.last_failure is not None and (
            self.last_success is None or self.last_success.started_at < self.last_failure.started_at
        )


def _latest(outcome: str | None = None):
    from django.db.models import OuterRef, Subquery

    inner = JobRun.objects.filter(job=OuterRef("job"))
    outer = JobRun.objects.filter(job__in=JOBS)
    if outcome:
        inner, outer = inner.filter(outcome=outcome), outer.filter(outcome=outcome)
    latest = inner.order_by("-started_at", "-pk").values("pk")[:1]
    return {run.job: run for run in outer.filter(pk=Subquery(latest))}


def job_statuses() -> list[JobStatus]:
    """Each job with its last run, last failure, last success and schedules: four queries
    whatever the number of runs."""
    from django_celery_beat.models import PeriodicTask

    last, failed, succeeded = _latest(), _latest(Outcome.FAILED), _latest(Outcome.SUCCEEDED)
    schedules = defaultdict(list)
    for task in (
        PeriodicTask.objects.filter(task__in=[j.task for j in JOBS.values()])
        .select_related("crontab", "interval")
        .order_by("name")
    ):
        schedules[task.task].append(task)
    return [
        JobStatus(job, last.get(name), failed.get(name), succeeded.get(name), schedules[job.task])
        for name, job in JOBS.items()
    ]


def recent_runs(limit: int = 30) -> list[JobRun]:
    return list(JobRun.objects.order_by("-started_at", "-pk")[:limit])
