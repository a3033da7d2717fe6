"""Back office for planning reference data. Decisions (approve / return) are not made
here: they go through the services, with four eyes, on the sign-off screens."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    ActivityStandard,
    Metric,
    PlanYear,
    ProductMixStandard,
    SteeringStandard,
    TargetSet,
    TerritoryPlan,
)


class ActivityStandardInline(admin.TabularInline):
    model = ActivityStandard
    extra = 0


class ProductMixStandardInline(admin.TabularInline):
    model = ProductMixStandard
    extra = 0


class SteeringStandardInline(admin.StackedInline):
    model = SteeringStandard
    extra = 0
    raw_id_fields = ("updated_by",)


@admin.register(PlanYear)
class PlanYearAdmin(SimpleHistoryAdmin):
    list_display = (
        "year",
        "starts_on",
        "ends_on",
        "is_open",
        "product_weight_pct",
        "rb_weight_pct",
    )
    list_filter = ("is_open",)
    inlines = [SteeringStandardInline, ActivityStandardInline, ProductMixStandardInline]


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "unit", "direction", "category", "position")
    list_filter = ("category", "unit")
    search_fields = ("name", "code")


class ReadOnlyWorkflowAdmin(SimpleHistoryAdmin):
    """Visible to the back office for support, never decided or edited there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TargetSet)
class TargetSetAdmin(ReadOnlyWorkflowAdmin):
    list_display = ("__str__", "scope", "status", "revision", "proposed_by", "decided_by")
    list_filter = ("plan_year", "scope", "status")
    list_select_related = ("plan_year", "team", "rm", "proposed_by", "decided_by")
    search_fields = ("team__name", "rm__username", "rm__last_name")


@admin.register(TerritoryPlan)
class TerritoryPlanAdmin(ReadOnlyWorkflowAdmin):
    list_display = ("rm", "plan_year", "status", "submitted_at", "endorsed_by", "approved_by")
    list_filter = ("plan_year", "status")
    list_select_related = ("rm", "plan_year", "endorsed_by", "approved_by")
    search_fields = ("rm__username", "rm__last_name")
