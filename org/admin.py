from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import Team, User


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


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "market", "leader")
    list_filter = ("market",)
    list_select_related = ("leader",)
    search_fields = ("name",)
    autocomplete_fields = ("leader",)
