"""Back office for departures: cases with their handover reviews, the coverage history and
the nightly early warnings. Imported at the bottom of retention/admin.py.

Cases are opened and moved on through the departure pages (the services keep the rules:
ownership and coverage history, one open case per RM); here administrators read them and
correct dates. Coverage history and early warnings are written by the app only.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import CoverageChange, DepartureCase, EarlyWarning, HandoverReview


class HandoverReviewInline(admin.TabularInline):
    model = HandoverReview
    extra = 0
    fields = ("account", "reviewed_by", "reviewed_at", "note")
    readonly_fields = ("account", "reviewed_by", "reviewed_at", "note")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DepartureCase)
class DepartureCaseAdmin(SimpleHistoryAdmin):
    list_display = ("rm", "notice_on", "last_day", "replacement", "closed_on")
    list_select_related = ("rm", "replacement")
    list_filter = ("closed_on",)
    date_hierarchy = "last_day"
    search_fields = ("rm__username", "rm__last_name", "replacement__last_name")
    raw_id_fields = ("rm", "replacement", "opened_by")
    readonly_fields = ("replacement", "replacement_assigned_on", "closed_on", "opened_by")
    inlines = [HandoverReviewInline]

    def has_add_permission(self, request):
        # A case opens with the notice, through the departure pages (retention:departures).
        return False


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CoverageChange)
class CoverageChangeAdmin(_ReadOnly):
    list_display = ("account", "previous_covering", "new_covering", "changed_at", "changed_by")
    list_select_related = ("account", "previous_covering", "new_covering", "changed_by")
    date_hierarchy = "changed_at"
    search_fields = ("account__name", "account__number")
    show_full_result_count = False


@admin.register(EarlyWarning)
class EarlyWarningAdmin(_ReadOnly):
    """Administrators see that the job wrote warnings (and how many signals), not what they
    say: the signals are for the RM's own leader and executives (org.access)."""

    list_display = ("rm", "computed_on", "signal_count")
    list_select_related = ("rm",)
    date_hierarchy = "computed_on"
    fields = ("rm", "computed_on")
    show_full_result_count = False

    @admin.display(description="signals")
    def signal_count(self, obj):
        return len(obj.signals)
