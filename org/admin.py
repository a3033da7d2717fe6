from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from . import jobs, services
from .models import JobRun, Notification, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "first_name", "last_name", "role", "rm_style", "team", "is_active")
    list_filter = ("role", "rm_style", "team", "is_active")
    list_select_related = ("team",)
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("team",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Sales force",
            {"fields": ("role", "rm_style", "team", "hired_on", "notice_given_on", "departed_on")},
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Sales force", {"fields": ("first_name", "last_name", "role", "rm_style", "team")}),
    )

    def save_model(self, request, obj, form, change):
        # A team change goes through the membership history (team figures per period).
        team = obj.team
        if change and "team" in form.changed_data:
            obj.team = User.objects.get(pk=obj.pk).team
            super().save_model(request, obj, form, change)
            services.team_move(user=obj, team=team, by=request.user)
            return
        super().save_model(request, obj, form, change)
        if not change and team is not None:
            services.team_join(user=obj, on=obj.hired_on)


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "market", "leader")
    list_filter = ("market",)
    list_select_related = ("leader",)
    search_fields = ("name",)
    autocomplete_fields = ("leader",)


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Read-only: runs are written by org.jobs.run_job. "Run again now" queues the job."""

    list_display = (
        "job",
        "started_at",
        "duration",
        "rows",
        "outcome",
        "triggered_by",
        "error_excerpt",
    )
    list_filter = ("job", "outcome", "triggered_by")
    date_hierarchy = "started_at"
    search_fields = ("job", "error")
    actions = ["run_again_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, run):
        return "—" if run.duration_ms is None else f"{run.duration_ms:,} ms"

    @admin.display(description="error")
    def error_excerpt(self, run):
        lines = run.error.strip().splitlines()
        return lines[-1][:120] if lines else ""

    @admin.action(description="Run these jobs again now")
    def run_again_now(self, request, queryset):
        asked = set(queryset.values_list("job", flat=True))
        names = sorted(name for name in asked if name in jobs.JOBS)
        with transaction.atomic():
            for name in names:
                jobs.queue_job(name, triggered_by=request.user.username)
        self.message_user(request, f"Queued: {', '.join(names) or 'nothing'}.")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: what was sent to whom, and when it was e-mailed and read."""

    list_display = ("user", "subject", "key", "created_at", "emailed_at", "read_at")
    list_filter = ("created_at", "emailed_at", "read_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "key", "subject")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
