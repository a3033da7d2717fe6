"""Back office for coaching: cadences, check-ins, the RB behaviours and customer ratings.

What the app's workflows decide is not decided here. A check-in's state, snapshot and
acknowledgement change only through the check-in services, so check-ins, their ratings
and commitments are read-only (a completed check-in never changes). A behaviour set is
edited here only while it is a draft or returned; proposing and approving go through the
four-eyes sign-off. Customer ratings are entered here by the back office (source "admin")
or imported from CSV (the "Import from CSV" button on the ratings list); a customer's own
survey answers are read-only. Foreign keys are autocompletes or raw ids and lists join
what they show, so the pages stay quick with a large bank.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Behaviour,
    BehaviourSet,
    Cadence,
    CheckIn,
    Commitment,
    CustomerContact,
    CustomerRating,
    ImprovementPlan,
    LineRating,
    SurveyInvitation,
    _new_nonce,
)
from .services.surveys import approved_set_for


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """Shown to the back office for support; changed only by the app's services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _short(text: str, words: int = 12) -> str:
    return Truncator(text).words(words)


# --- check-ins -----------------------------------------------------------------------------


@admin.register(Cadence)
class CadenceAdmin(SimpleHistoryAdmin):
    list_display = (
        "team",
        "weekly",
        "weekly_day",
        "weekly_time",
        "monthly",
        "quarterly",
        "semi_annual",
        "monthly_day",
        "horizon_days",
    )
    list_filter = ("weekly", "weekly_day", "monthly", "quarterly", "semi_annual")
    list_select_related = ("team",)
    search_fields = ("team__name",)
    autocomplete_fields = ("team",)


class LineRatingInline(ReadOnlyInline):
    model = LineRating
    fields = ("metric", "rating", "comment")
    readonly_fields = fields


class CommitmentInline(ReadOnlyInline):
    model = Commitment
    fields = ("text", "owner", "due_on", "done", "done_at")
    readonly_fields = fields


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("rm", "leader", "kind", "period_start", "scheduled_at", "status")
    list_filter = ("status", "kind", "rm__team")
    list_select_related = ("rm", "leader")
    search_fields = ("rm__username", "rm__last_name", "leader__username")
    date_hierarchy = "scheduled_at"
    readonly_fields = ("snapshot",)
    inlines = [LineRatingInline, CommitmentInline]
    show_full_result_count = False


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyAdmin):
    list_display = ("short_text", "rm", "owner", "due_on", "done")
    list_filter = ("done", "rm__team")
    list_select_related = ("rm", "owner")
    search_fields = ("text", "rm__username", "owner__username")
    show_full_result_count = False

    @admin.display(description="text")
    def short_text(self, obj):
        return _short(obj.text)


@admin.register(LineRating)
class LineRatingAdmin(ReadOnlyAdmin):
    list_display = ("checkin", "metric", "rating")
    list_filter = ("rating", "metric")
    list_select_related = ("checkin__rm", "metric")
    search_fields = ("checkin__rm__username",)
    show_full_result_count = False


# --- the RB report card --------------------------------------------------------------------


class BehaviourInline(admin.TabularInline):
    model = Behaviour
    extra = 0
    fields = ("position", "name", "description", "weight", "objective_pct")

    def _editable(self, obj):
        return obj is None or obj.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(BehaviourSet)
class BehaviourSetAdmin(SimpleHistoryAdmin):
    """Edited while a draft or returned; proposed and approved on the sign-off screens."""

    list_display = ("plan_year", "status", "proposed_by", "decided_by", "decided_at")
    list_filter = ("status",)
    list_select_related = ("plan_year", "proposed_by", "decided_by")
    fields = (
        "plan_year",
        "status",
        "min_ratings_for_ranking",
        "created_by",
        "last_edited_by",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_comment",
        "version",
    )
    readonly_fields = (
        "status",
        "created_by",
        "last_edited_by",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_comment",
        "version",
    )
    inlines = [BehaviourInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (*self.readonly_fields, "plan_year")
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.last_edited_by = request.user
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)


@admin.register(Behaviour)
class BehaviourAdmin(ReadOnlyAdmin):
    """For finding behaviours (autocomplete); they are edited with their set."""

    list_display = ("name", "behaviour_set", "weight", "objective_pct", "position")
    list_filter = ("behaviour_set__plan_year", "behaviour_set__status")
    list_select_related = ("behaviour_set__plan_year",)
    search_fields = ("name",)

    def get_search_results(self, request, queryset, search_term):
        queryset = queryset.select_related("behaviour_set__plan_year")
        return super().get_search_results(request, queryset, search_term)


@admin.register(CustomerContact)
class CustomerContactAdmin(SimpleHistoryAdmin):
    list_display = ("name", "email", "account", "surveys_enabled")
    list_filter = ("surveys_enabled",)
    list_select_related = ("account",)
    search_fields = ("name", "email", "account__number", "account__name")
    autocomplete_fields = ("account",)
    show_full_result_count = False


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    """Created by the monthly job; here the back office sees them and can revoke a link."""

    list_display = ("contact", "account", "rm", "month", "expires_at", "used_at")
    list_filter = (("used_at", admin.EmptyFieldListFilter),)
    date_hierarchy = "month"
    list_select_related = ("contact__account", "rm")
    search_fields = ("contact__name", "contact__email", "contact__account__number")
    readonly_fields = ("contact", "rm", "month", "expires_at", "used_at", "created_at")
    exclude = ("nonce",)
    actions = ["revoke_links"]
    show_full_result_count = False

    @admin.display(ordering="contact__account__name")
    def account(self, obj):
        return obj.contact.account

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected links (they stop working at once)")
    def revoke_links(self, request, queryset):
        # A new nonce: the signed token of the old link no longer matches.
        open_ones = list(
            queryset.select_related(None).filter(used_at__isnull=True).only("pk", "nonce")
        )
        for invitation in open_ones:
            invitation.nonce = _new_nonce()
        SurveyInvitation.objects.bulk_update(open_ones, ["nonce"], batch_size=500)
        self.message_user(request, f"{len(open_ones)} link(s) revoked.", messages.SUCCESS)


class CustomerRatingForm(forms.ModelForm):
    """A rating entered by the back office: the month's first day, a behaviour approved
    for that month's plan year."""

    class Meta:
        model = CustomerRating
        fields = ("account", "rm", "behaviour", "month", "rating", "comment")

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month and month.day != 1:
            raise ValidationError("Give the first day of the month rated, e.g. 2027-03-01.")
        return month

    def clean(self):
        data = super().clean()
        month, behaviour = data.get("month"), data.get("behaviour")
        if month and behaviour:
            approved = approved_set_for(month)
            if approved is None:
                self.add_error("month", "No approved RB behaviours for this month's plan year.")
            elif behaviour.behaviour_set_id != approved.pk:
                self.add_error(
                    "behaviour", f"Choose a behaviour approved for {approved.plan_year}."
                )
        return data


@admin.register(CustomerRating)
class CustomerRatingAdmin(SimpleHistoryAdmin):
    form = CustomerRatingForm
    change_list_template = "admin/coaching/customerrating/change_list.html"
    list_display = ("month", "account", "rm", "behaviour", "rating", "source", "short_comment")
    list_filter = ("source", "rating", "behaviour__behaviour_set__plan_year")
    list_select_related = ("account", "rm", "behaviour")
    search_fields = ("account__number", "account__name", "rm__username", "rm__last_name")
    autocomplete_fields = ("account", "rm", "behaviour")
    raw_id_fields = ("contact",)
    readonly_fields = ("source", "contact", "created_at")
    date_hierarchy = "month"
    show_full_result_count = False

    @admin.display(description="comment")
    def short_comment(self, obj):
        return _short(obj.comment)

    def get_fields(self, request, obj=None):
        entered = ("account", "rm", "behaviour", "month", "rating", "comment")
        return entered if obj is None else (*entered, *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # A customer's own answers are theirs; the back office corrects only its own.
        if obj is not None and obj.source == CustomerRating.Source.SURVEY:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.source = CustomerRating.Source.ADMIN
        super().save_model(request, obj, form, change)


@admin.register(ImprovementPlan)
class ImprovementPlanAdmin(SimpleHistoryAdmin):
    list_display = ("rm", "behaviour", "review_on", "closed", "updated_at")
    list_filter = ("closed", "behaviour__behaviour_set__plan_year")
    list_select_related = ("rm", "behaviour")
    search_fields = ("rm__username", "rm__last_name", "behaviour__name")
    autocomplete_fields = ("rm", "behaviour")
    readonly_fields = ("version", "created_at", "updated_at")
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)
