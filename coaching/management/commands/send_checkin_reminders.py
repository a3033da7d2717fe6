"""Send the check-in reminders and overdue notices that are due, each exactly once.

    manage.py send_checkin_reminders

The same service as the task that runs every 15 minutes, through org.jobs.run_job;
docs/jobs.md.
"""

from org.jobs import JobCommand


class Command(JobCommand):
    job = "send_checkin_reminders"
