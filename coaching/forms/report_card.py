"""Forms of the report-card, improvement-plan and behaviour sign-off pages.

They read and check what was typed; who may do what, four eyes, "weights add up to 100
to propose" and the review date's rules are the services' (coaching.services).
"""

from __future__ import annotations

from django import forms

from planning.forms.targets import BootstrapForm

from ..models import BehaviourSet
from ..services.behaviours import BehaviourInput


class BehaviourForm(BootstrapForm):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label="Behaviour", max_length=80)
    description = forms.CharField(
        label="What customers are asked about",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    weight = forms.IntegerField(label="Weight %", min_value=0, max_value=100)
    objective_pct = forms.IntegerField(
        label="Year-end objective %", min_value=0, max_value=100, initial=80
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "description"):
            self.fields[name].widget.attrs["class"] += " form-control-sm"
        for name in ("weight", "objective_pct"):
            self.fields[name].widget.attrs["class"] += " form-control-sm text-end"


class BaseBehaviourFormSet(forms.BaseFormSet):
    def _kept(self):
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            if not form.cleaned_data.get("name"):  # a blank extra row
                continue
            yield form

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self._kept():
            name = form.cleaned_data["name"].strip().lower()
            if name in seen:
                raise forms.ValidationError(
                    f"{form.cleaned_data['name']} appears twice: one row per behaviour."
                )
            seen.add(name)

    def inputs(self) -> list[BehaviourInput]:
        return [
            BehaviourInput(
                name=form.cleaned_data["name"],
                weight=form.cleaned_data["weight"],
                objective_pct=form.cleaned_data["objective_pct"],
                description=form.cleaned_data.get("description") or "",
                id=form.cleaned_data.get("id"),
            )
            for form in self._kept()
        ]


BehaviourFormSet = forms.formset_factory(
    BehaviourForm,
    formset=BaseBehaviourFormSet,
    extra=2,
    can_delete=True,
    can_delete_extra=False,
    max_num=20,
    validate_max=True,
)


def behaviour_formset(bs: BehaviourSet, data=None, behaviours=None) -> BaseBehaviourFormSet:
    """The set's behaviours as a formset (`behaviours`: the rows already read, if any)."""
    initial = [
        {
            "id": b.pk,
            "name": b.name,
            "description": b.description,
            "weight": b.weight,
            "objective_pct": b.objective_pct,
        }
        for b in (bs.behaviours.all() if behaviours is None else behaviours)
    ]
    return BehaviourFormSet(data, initial=initial, prefix="behaviours")


class BehaviourSetForm(BootstrapForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    min_ratings_for_ranking = forms.IntegerField(
        label="Ratings needed for “most improved”",
        min_value=1,
        max_value=1000,
        help_text="An RM is ranked only with at least this many ratings in both months "
        "compared (one customer rating six behaviours gives six ratings).",
    )

    @classmethod
    def for_set(cls, bs: BehaviourSet, data=None) -> BehaviourSetForm:
        return cls(
            data,
            initial={"version": bs.version, "min_ratings_for_ranking": bs.min_ratings_for_ranking},
        )


class DecisionForm(BootstrapForm):
    action = forms.ChoiceField(choices=[("approve", "Approve"), ("return", "Return")])
    comment = forms.CharField(
        label="Comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to return: say what should change.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].widget = forms.HiddenInput()


class ImprovementPlanForm(BootstrapForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    actions = forms.CharField(
        label="What I will do",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Concrete actions, e.g. “send a written summary within a day of every review”.",
    )
    support = forms.CharField(
        label="Support I need",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="From your leader or colleagues: joint visits, training, feedback.",
    )
    review_on = forms.DateField(
        label="Review date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="When you and your leader look at it again (a check-in date is a good choice).",
    )
