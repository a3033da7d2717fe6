"""Forms of the target-set screens and of the year's steering standards.

They read and check what was typed; who may do what, four eyes and "weights add up to
100 when proposed" are the services' rules (planning.services).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import ProductFamily
from org.models import RmStyle

from ..models import Metric, RelationshipMetric
from ..services.standards import ActivityInput, StandardsInput
from ..services.targets import LineInput


class BootstrapForm(forms.Form):
    """Bootstrap 5 classes on every widget; invalid fields marked and tied to their error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def _style(self):
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput | forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)
            if field.help_text:
                widget.attrs["aria-describedby"] = f"{self[name].auto_id}-help"

    def add_error(self, field, error):
        # Every error passes here: the field checks, clean() and a service's refusal.
        super().add_error(field, error)
        for name in self.errors:
            if name not in self.fields or isinstance(self.fields[name].widget, forms.HiddenInput):
                continue
            attrs = self.fields[name].widget.attrs
            if "is-invalid" not in attrs.get("class", ""):
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                described = f"{attrs.get('aria-describedby', '')} {self[name].auto_id}-error"
                attrs["aria-describedby"] = described.strip()


# --- target sets ------------------------------------------------------------------------------


class LineForm(BootstrapForm):
    metric = forms.TypedChoiceField(coerce=int, label="Metric")
    value = forms.DecimalField(label="Target", max_digits=16, decimal_places=2)
    weight = forms.IntegerField(label="Weight %", min_value=0, max_value=100)

    def __init__(self, *args, metrics: Sequence[Metric], **kwargs):
        super().__init__(*args, **kwargs)
        # Choices from a list read once: a ModelChoiceField would query once per line.
        self.fields["metric"].choices = [
            ("", "Choose a metric"),
            *((m.pk, m.name) for m in metrics),
        ]
        self.fields["metric"].widget.attrs["class"] += " form-select-sm"
        self.fields["value"].widget.attrs["class"] += " form-control-sm text-end"
        self.fields["weight"].widget.attrs["class"] += " form-control-sm text-end"


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, metrics: Sequence[Metric], **kwargs):
        self.metrics = {m.pk: m for m in metrics}
        super().__init__(*args, form_kwargs={"metrics": metrics}, **kwargs)

    def _kept(self):
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            if form.cleaned_data.get("metric") is None:  # a blank extra row
                continue
            yield form

    def clean(self):
        if any(self.errors):
            return
        seen: set[int] = set()
        for form in self._kept():
            metric_id = form.cleaned_data["metric"]
            if metric_id in seen:
                raise ValidationError(
                    f"{self.metrics[metric_id].name} appears twice: one line per metric."
                )
            seen.add(metric_id)

    def lines(self) -> list[LineInput]:
        return [
            LineInput(
                metric=self.metrics[form.cleaned_data["metric"]],
                value=form.cleaned_data["value"],
                weight=form.cleaned_data["weight"],
            )
            for form in self._kept()
        ]

    def weight_total(self) -> int:
        return sum(line.weight for line in self.lines())


LineFormSet = forms.formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=2,
    can_delete=True,
    can_delete_extra=False,
    max_num=30,
    validate_max=True,
)


def line_formset(target_set, metrics: Sequence[Metric], data=None) -> BaseLineFormSet:
    """The lines of `target_set` as a formset (bound to `data` when posted)."""
    initial = [
        {"metric": line.metric_id, "value": line.value, "weight": line.weight}
        for line in target_set.lines.all()
    ]
    return LineFormSet(data, initial=initial, metrics=metrics, prefix="lines")


class TargetSetForm(BootstrapForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    growth_share_pct = forms.IntegerField(
        label="Growth share %",
        min_value=0,
        max_value=100,
        required=False,
        help_text="The bank's balance between growth and retention: 60 means 60 / 40.",
    )
    comment = forms.CharField(
        label="Note for the approver",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional; sent with the proposal.",
    )

    def __init__(self, *args, bank: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not bank:
            del self.fields["growth_share_pct"]

    @classmethod
    def for_set(cls, target_set, data=None) -> TargetSetForm:
        return cls(
            data,
            bank=target_set.scope == "bank",
            initial={
                "version": target_set.version,
                "growth_share_pct": target_set.growth_share_pct,
            },
        )


class DecisionForm(BootstrapForm):
    action = forms.ChoiceField(choices=[("approve", "Approve"), ("return", "Return")])
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to return the targets: say what should change.",
    )


# --- steering standards -------------------------------------------------------------------------

ACTIVITY_KINDS = (("calls", "Calls"), ("visits", "Visits"), ("reviews", "Reviews"))


class StandardsForm(BootstrapForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    forecast_accuracy_pct = forms.DecimalField(
        label="Forecast accuracy standard %",
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        help_text="How close an RM's forecast must come to what closes, e.g. 85.",
    )
    relationship_metric = forms.ChoiceField(
        label="Relationship metric",
        choices=RelationshipMetric.choices,
        help_text="The one relationship measure the bank steers by this year.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for style, style_label in RmStyle.choices:
            for kind, kind_label in ACTIVITY_KINDS:
                self.fields[f"{kind}_{style}"] = forms.DecimalField(
                    label=f"{kind_label} per week, {style_label.lower()}",
                    min_value=0,
                    max_digits=5,
                    decimal_places=1,
                )
        for family, family_label in ProductFamily.choices:
            self.fields[f"mix_{family}"] = forms.DecimalField(
                label=f"{family_label} share %",
                min_value=0,
                max_value=100,
                max_digits=5,
                decimal_places=2,
                required=False,
            )
        self._style()

    @classmethod
    def initial_for(cls, standards, version: int) -> dict:
        """The form's initial values from a selectors.targets.YearStandards."""
        initial: dict = {"version": version}
        if standards.steering is not None:
            initial["forecast_accuracy_pct"] = standards.steering.forecast_accuracy_pct
            initial["relationship_metric"] = standards.steering.relationship_metric
        for row in standards.activity.values():
            for kind, _ in ACTIVITY_KINDS:
                initial[f"{kind}_{row.rm_style}"] = getattr(row, f"{kind}_per_week")
        for row in standards.product_mix.values():
            initial[f"mix_{row.family}"] = row.target_share_pct
        return initial

    def activity_rows(self):
        """[(style label, [bound fields calls, visits, reviews])] for a table."""
        return [
            (label, [self[f"{kind}_{style}"] for kind, _ in ACTIVITY_KINDS])
            for style, label in RmStyle.choices
        ]

    def mix_fields(self):
        return [self[f"mix_{family}"] for family, _ in ProductFamily.choices]

    def clean(self):
        cleaned = super().clean()
        total = sum(
            (cleaned.get(f"mix_{family}") or Decimal(0) for family, _ in ProductFamily.choices),
            Decimal(0),
        )
        if total > 100:
            raise ValidationError(
                f"The product-mix shares add up to {total.normalize():f} %: "
                "they may not exceed 100 % in total."
            )
        return cleaned

    def to_input(self) -> StandardsInput:
        data = self.cleaned_data
        return StandardsInput(
            forecast_accuracy_pct=data["forecast_accuracy_pct"],
            relationship_metric=data["relationship_metric"],
            activity=[
                ActivityInput(
                    rm_style=style,
                    calls_per_week=data[f"calls_{style}"],
                    visits_per_week=data[f"visits_{style}"],
                    reviews_per_week=data[f"reviews_{style}"],
                )
                for style, _ in RmStyle.choices
            ],
            product_mix={family: data.get(f"mix_{family}") for family, _ in ProductFamily.choices},
        )
