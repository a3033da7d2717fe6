"""Retention's nightly jobs: a few lines each, the work is in the services (docs/jobs.md)."""

from celery import shared_task

from org.jobs import run_named_job


@shared_task(acks_late=True)
def score_risk(triggered_by="celery"):
    """Attrition risk of every active account → RiskScore rows."""
    return run_named_job("score_risk", triggered_by=triggered_by).outcome


@shared_task(acks_late=True)
def flag_uncovered(triggered_by="celery"):
    """Major accounts of leaving RMs still without cover → flagged on their cases."""
    return run_named_job("flag_uncovered", triggered_by=triggered_by).outcome


@shared_task(acks_late=True)
def compute_early_warnings(triggered_by="celery"):
    """RMs' activity, pipeline, ratings and check-ins against their baseline → EarlyWarning."""
    return run_named_job("compute_early_warnings", triggered_by=triggered_by).outcome
