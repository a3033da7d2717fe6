"""Back office for the book. Built to stay quick with 100,000 accounts and millions of
positions: foreign keys are autocompletes or raw ids, lists join what they show, and
no filter offers an unbounded drop-down."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Account,
    Activity,
    LostReason,
    Opportunity,
    OpportunityChange,
    OwnershipChange,
    Position,
    Product,
    Segment,
    Tier,
)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "retention_target_pct")
    search_fields = ("code", "name")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "family")
    list_filter = ("family",)
    search_fields = ("code", "name")


class OwnershipChangeInline(admin.TabularInline):
    model = OwnershipChange
    extra = 0
    fields = ("changed_at", "previous_owner", "new_owner", "changed_by", "reason")
    raw_id_fields = ("previous_owner", "new_owner", "changed_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = ("number", "name", "tier", "segment", "status", "owner", "covering_rm")
    list_filter = ("status", "tier", "segment", "owner__team")
    list_select_related = ("tier", "segment", "owner", "covering_rm")
    search_fields = ("number", "name")
    autocomplete_fields = ("owner", "covering_rm", "segment", "tier")
    inlines = [OwnershipChangeInline]
    show_full_result_count = False
    list_per_page = 50


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ("account", "product", "month", "balance", "revenue")
    list_filter = ("product__family", "product")
    list_select_related = ("account", "product")
    search_fields = ("account__number",)
    raw_id_fields = ("account",)
    show_full_result_count = False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "rm", "account", "outcome")
    list_filter = ("kind",)
    list_select_related = ("rm", "account")
    search_fields = ("account__number", "account__name", "rm__username")
    raw_id_fields = ("account",)
    autocomplete_fields = ("rm",)
    show_full_result_count = False


class OpportunityChangeInline(admin.TabularInline):
    """The deal's stage history, as the pipeline services wrote it: read only."""

    model = OpportunityChange
    extra = 0
    fields = (
        "changed_at",
        "changed_by",
        "from_stage",
        "to_stage",
        "from_status",
        "to_status",
        "from_amount",
        "to_amount",
        "from_expected_close",
        "to_expected_close",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(SimpleHistoryAdmin):
    list_display = (
        "account",
        "product",
        "kind",
        "stage",
        "amount",
        "probability",
        "forecast_category",
        "status",
    )
    list_filter = ("status", "kind", "stage", "forecast_category", "product__family")
    list_select_related = ("account", "product", "rm")
    search_fields = ("account__number", "account__name")
    raw_id_fields = ("account",)
    autocomplete_fields = ("rm",)
    inlines = [OpportunityChangeInline]
    show_full_result_count = False


@admin.register(LostReason)
class LostReasonAdmin(SimpleHistoryAdmin):
    """The reasons an RM may give for a lost deal. Retire one (inactive) rather than delete
    it: the deals lost for it keep it."""

    list_display = ("name", "active", "position")
    list_editable = ("active", "position")
    list_filter = ("active",)
    search_fields = ("name",)
