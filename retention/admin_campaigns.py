"""Back office for campaigns: the campaign with its prequalified list inline.

Imported at the bottom of retention/admin.py. The list is normally built on the campaign
page (a filter or an import); here an administrator can correct one entry.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Campaign, CampaignAccount


class CampaignAccountInline(admin.TabularInline):
    model = CampaignAccount
    raw_id_fields = ("account",)
    fields = ("account", "reason", "source", "added_at")
    readonly_fields = ("added_at",)
    extra = 0
    show_change_link = False


@admin.register(Campaign)
class CampaignAdmin(SimpleHistoryAdmin):
    list_display = ("name", "starts_on", "ends_on", "goal", "product_family", "target_value")
    list_filter = ("goal",)
    date_hierarchy = "starts_on"
    search_fields = ("name",)
    raw_id_fields = ("created_by",)
    readonly_fields = ("created_at",)
    inlines = [CampaignAccountInline]
