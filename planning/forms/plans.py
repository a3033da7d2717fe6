"""Forms of the plan screens. They clean and explain input; the services decide."""

from __future__ import annotations

from django import forms
from django.core.validators import MinValueValidator

from accounts.models import Account

from ..models import (
    DevelopmentPlan,
    PlannedAction,
    RelationshipPlan,
    TargetLine,
    TerritoryPlan,
)
from ..selectors.plans import target_line_label
from ..services.plans import SECTIONS

TEXTAREA = {"rows": 3}
DATE = {"type": "date"}

# Section fields' labels and help, where the model's verbose name is not what an RM reads.
SECTION_LABELS = {
    "goals_personal": "Goals for myself",
    "goals_business": "Goals for my business",
    "goals_compensation": "Goals for my compensation",
    "goals_market": "Goals for my market",
    "strategies": "Strategies",
    "measures": "How I will measure progress",
    "measured_lines": "Target lines these measures track",
    "planned_calls_per_week": "Calls per week",
    "planned_visits_per_week": "Visits per week",
    "planned_reviews_per_week": "Reviews per week",
    "top_accounts": "Top accounts",
    "resources_needed": "Resources needed",
    "risks": "Risks and expected surprises",
}


class AccountChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Account) -> str:
        return f"{obj.tier.code} · {obj.name} ({obj.number})"


class TargetLineChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: TargetLine) -> str:
        label = target_line_label(obj)
        return (
            label
            if obj.target_set.status == "approved"
            else f"{label} ({obj.target_set.get_status_display().lower()})"
        )


class TargetLineSingleField(forms.ModelChoiceField):
    def label_from_instance(self, obj: TargetLine) -> str:
        return target_line_label(obj)


class SectionForm(forms.ModelForm):
    """One section of a territory plan plus the version it was read at.

    Built for a section key with `section_form_class(key)`; each form on the page has the
    section as its prefix, so field ids and names never clash.
    """

    # Marked so that every section's save can tell the server which version each form on
    # the page was read at (hx-include="[data-plan-version]").
    version = forms.IntegerField(
        widget=forms.HiddenInput(attrs={"data-plan-version": ""}), min_value=1
    )

    def __init__(self, *args, line_choices=None, account_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, f in self.fields.items():
            if name in SECTION_LABELS:
                f.label = SECTION_LABELS[name]
            if isinstance(f.widget, forms.Textarea):
                f.widget.attrs.update(TEXTAREA)
        if "measured_lines" in self.fields:
            self.fields["measured_lines"].queryset = line_choices
        if "top_accounts" in self.fields:
            self.fields["top_accounts"].queryset = account_choices

    def section_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


ACTIVITY_FIELD = {
    "max_digits": 5,
    "decimal_places": 1,
    "required": False,
    "validators": [MinValueValidator(0)],
    "widget": forms.NumberInput(attrs={"step": "0.5", "min": "0"}),
}


def section_form_class(key: str) -> type[SectionForm]:
    spec = SECTIONS[key]
    attrs: dict = {
        "Meta": type(
            "Meta",
            (),
            {"model": TerritoryPlan, "fields": [*spec["fields"], *spec["m2m"]]},
        )
    }
    if "measured_lines" in spec["m2m"]:
        attrs["measured_lines"] = TargetLineChoiceField(
            queryset=TargetLine.objects.none(),
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
    if "top_accounts" in spec["m2m"]:
        attrs["top_accounts"] = AccountChoiceField(
            queryset=Account.objects.none(),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text="Choose from your own book. Type to narrow the list.",
        )
    for name in spec["fields"]:
        if name.startswith("planned_"):
            attrs[name] = forms.DecimalField(label=SECTION_LABELS[name], **ACTIVITY_FIELD)
    return type(f"{key.title().replace('_', '')}SectionForm", (SectionForm,), attrs)


SECTION_FORMS = {key: section_form_class(key) for key in SECTIONS}


class CommentForm(forms.Form):
    text = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
    )


class DecisionForm(forms.Form):
    """Endorse, approve or return, by its prefix. Whether a comment is needed is the
    service's rule (a return needs one); the form only labels it and caps its length."""

    LABELS = {
        "endorse": ("Comment with your endorsement (optional)", ""),
        "approve": ("Comment with your approval (optional)", ""),
        "return": ("Why it goes back (required)", "The RM sees this at the top of the plan."),
    }

    comment = forms.CharField(
        label="Comment", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label, help_text = self.LABELS.get(self.prefix, ("Comment", ""))
        self.fields["comment"].label = label
        self.fields["comment"].help_text = help_text
        if self.prefix == "return":
            self.fields["comment"].widget.attrs["required"] = True


class SubmitForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput(attrs={"data-plan-version": ""}), min_value=1
    )
    comment = forms.CharField(
        label="Note to your leader (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
    )


class RelationshipPlanForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = RelationshipPlan
        fields = [
            "intent",
            "objectives",
            "expected_results",
            "expected_balance",
            "resources",
            "review_on",
        ]
        widgets = {
            "intent": forms.RadioSelect,
            "objectives": forms.Textarea(attrs=TEXTAREA),
            "expected_results": forms.Textarea(attrs=TEXTAREA),
            "resources": forms.Textarea(attrs=TEXTAREA),
            "review_on": forms.DateInput(attrs=DATE),
        }
        labels = {"expected_balance": "Expected balance", "review_on": "Review date"}
        help_texts = {
            "intent": "Must keep: protect the relationship. Must grow: win more of its business.",
            "expected_balance": "The total balance you expect by the review date.",
            "resources": "Specialists, time or approvals you will need.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["intent"].choices = RelationshipPlan.Intent.choices  # no blank radio
        self.fields["expected_balance"].min_value = 0
        self.fields["expected_balance"].validators.append(MinValueValidator(0))
        self.fields["expected_balance"].widget.attrs.update({"min": "0", "step": "1000"})

    def plan_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class PlannedActionForm(forms.ModelForm):
    class Meta:
        model = PlannedAction
        fields = ["description", "due_on", "owner"]
        widgets = {"due_on": forms.DateInput(attrs=DATE)}
        labels = {"description": "Action", "due_on": "Due date"}

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].empty_label = None


class DevelopmentPlanForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = DevelopmentPlan
        fields = ["support_needed", "review_on"]
        widgets = {
            "support_needed": forms.Textarea(attrs=TEXTAREA),
            "review_on": forms.DateInput(attrs=DATE),
        }
        labels = {"review_on": "Review date"}
        help_texts = {
            "support_needed": "Coaching, training or joint visits you ask of your leader.",
        }

    def plan_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


# The RB behaviours customers rate; a model of their own comes with the coaching issue.
RB_BEHAVIOURS = ["Listening", "Empathy", "Follow-up", "Consultation", "Responsiveness", "Trust"]


class DevelopmentGoalForm(forms.Form):
    """A plain form: the model's check constraint would repeat `clean`'s message in its own
    words."""

    skill = forms.CharField(label="Skill or behaviour to improve", max_length=200)
    target_line = TargetLineSingleField(
        label="Tied to my target line",
        queryset=TargetLine.objects.none(),
        required=False,
        empty_label="— none —",
        help_text="The result this skill should move.",
    )
    behaviour = forms.CharField(
        label="…or to the RB behaviour",
        max_length=100,
        required=False,
        help_text="A relationship-building behaviour your customers rate, e.g. Listening.",
        widget=forms.TextInput(attrs={"list": "rb-behaviours"}),
    )
    actions = forms.CharField(
        label="Actions", required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        if lines is not None:
            self.fields["target_line"].queryset = lines

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("target_line") and not (cleaned.get("behaviour") or "").strip():
            raise forms.ValidationError(
                "Tie the goal to one of your target lines or name an RB behaviour."
            )
        return cleaned

    def goal_data(self) -> dict:
        return dict(self.cleaned_data)
