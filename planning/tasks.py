"""Planning's nightly jobs: a few lines each, the work is in the services (docs/jobs.md)."""

from celery import shared_task

from org.jobs import run_named_job


@shared_task(acks_late=True)
def recompute_variances(triggered_by="celery"):
    """Plan versus actual for every RM, team and the bank → Variance rows."""
    return run_named_job("recompute_variances", triggered_by=triggered_by).outcome


@shared_task(acks_late=True)
def snapshot_forecasts(triggered_by="celery"):
    """The month's forecast, frozen → ForecastSnapshot rows."""
    return run_named_job("snapshot_forecasts", triggered_by=triggered_by).outcome
