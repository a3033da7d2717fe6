"""Back office for retention.

Each part of retention keeps its registrations in its own marked block below.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import RiskFactor, RiskScore, SecondaryContact

# --- attrition risk and multiple connections (owner: risk) ------------------------------------
# The weights and thresholds are the bank's to tune; the scores are written by the nightly
# job only (read-only here); secondary contacts may be kept here as well as on the
# Connections page (retention:connections).


@admin.register(RiskFactor)
class RiskFactorAdmin(SimpleHistoryAdmin):
    list_display = ("code", "weight", "threshold", "active")
    list_editable = ("weight", "threshold", "active")
    list_filter = ("active",)
    fields = ("code", "weight", "threshold", "active")

    def get_readonly_fields(self, request, obj=None):
        # The codes are fixed: the scoring service knows what each one means.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        # Switch a reason off with "active"; deleting it would only bring the default back.
        return False


@admin.register(RiskScore)
class RiskScoreAdmin(admin.ModelAdmin):
    list_display = ("account", "scored_on", "score")
    list_select_related = ("account",)
    list_filter = ("scored_on",)
    date_hierarchy = "scored_on"
    search_fields = ("account__name", "account__number")
    raw_id_fields = ("account",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecondaryContact)
class SecondaryContactAdmin(SimpleHistoryAdmin):
    list_display = ("account", "person", "role", "since")
    list_select_related = ("account", "person")
    search_fields = ("account__name", "account__number", "person__username", "person__last_name")
    autocomplete_fields = ("account", "person")


# --- end of attrition risk and multiple connections --------------------------------------------

from . import admin_campaigns  # noqa: E402,F401

# isort: split
from . import admin_departures  # noqa: E402,F401
