"""Forms of the check-in screens. They clean and explain input; the services decide."""

from __future__ import annotations

import datetime

from django import forms

from ..models import CheckIn

TEXTAREA = {"rows": 3}
DATE = {"type": "date"}
RATING_CHOICES = [("", "— not rated yet —"), *CheckIn.Rating.choices]

# What the leader reads above each notes field (the model's verbose names are short).
NOTE_HELP = {
    "deals_notes": "Opportunities that moved, stalled or are due: what happens next?",
    "activity_notes": "Calls, visits and reviews against the standard: why, and what now?",
    "field_observation": "What you saw on a joint visit or call.",
    "behaviours_skills": "Relationship-building behaviours and skills to practise.",
    "progress_notes": "Plan versus actual for each target line.",
    "course_corrections": "What changes for the next period.",
    "surprises": "Unexpected requests or events of the period.",
    "surprise_response": "How the RM will respond to them.",
    "review_summary": "The review's conclusions, in words the RM will read.",
}


def _rating_field(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=RATING_CHOICES, coerce=int, empty_value=None, required=False
    )


class CheckInNotesForm(forms.Form):
    """The notes fields of the check-in's kind (CheckIn.NOTES), the version they were read
    at, and for the semi-annual review the ratings: one per target line, RB competency and
    overall."""

    version = forms.IntegerField(widget=forms.HiddenInput(attrs={"data-checkin-version": ""}))

    def __init__(self, *args, checkin: CheckIn, metrics=(), line_ratings=None, **kwargs):
        self.checkin = checkin
        self.metrics = list(metrics)
        line_ratings = line_ratings or {}
        initial = {"version": checkin.version}
        initial.update({name: getattr(checkin, name) for name in checkin.note_fields})
        if checkin.kind == CheckIn.Kind.SEMI_ANNUAL:
            initial.update(rb_rating=checkin.rb_rating, overall_rating=checkin.overall_rating)
            for metric in self.metrics:
                rated = line_ratings.get(metric.pk)
                if rated is not None:
                    initial[f"line_{metric.pk}"] = rated.rating
                    initial[f"line_{metric.pk}_comment"] = rated.comment
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for name in checkin.note_fields:
            model_field = CheckIn._meta.get_field(name)
            self.fields[name] = forms.CharField(
                label=str(model_field.verbose_name).capitalize(),
                required=False,
                widget=forms.Textarea(attrs=TEXTAREA),
                help_text=NOTE_HELP.get(name, ""),
            )
        if checkin.kind == CheckIn.Kind.SEMI_ANNUAL:
            for metric in self.metrics:
                self.fields[f"line_{metric.pk}"] = _rating_field(metric.name)
                self.fields[f"line_{metric.pk}_comment"] = forms.CharField(
                    label=f"Comment on {metric.name}",
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 1}),
                )
            self.fields["rb_rating"] = _rating_field("RB competency")
            self.fields["overall_rating"] = _rating_field("Overall rating")

    @property
    def note_bound_fields(self):
        return [self[name] for name in self.checkin.note_fields]

    @property
    def line_bound_fields(self):
        return [
            (metric, self[f"line_{metric.pk}"], self[f"line_{metric.pk}_comment"])
            for metric in self.metrics
        ]

    def notes(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in self.checkin.note_fields}

    def ratings(self) -> dict[str, int | None] | None:
        if self.checkin.kind != CheckIn.Kind.SEMI_ANNUAL:
            return None
        return {name: self.cleaned_data.get(name) for name in ("rb_rating", "overall_rating")}

    def line_ratings(self) -> dict[int, tuple[int | None, str]] | None:
        if self.checkin.kind != CheckIn.Kind.SEMI_ANNUAL:
            return None
        return {
            metric.pk: (
                self.cleaned_data.get(f"line_{metric.pk}"),
                (self.cleaned_data.get(f"line_{metric.pk}_comment") or "").strip(),
            )
            for metric in self.metrics
        }

    def typed(self) -> list[tuple[str, str]]:
        """What the user wrote in the text fields, so that a refused save loses nothing."""
        typed = []
        for name, form_field in self.fields.items():
            if not isinstance(form_field.widget, forms.Textarea):
                continue
            value = self.data.get(self.add_prefix(name), "")
            if isinstance(value, str) and value.strip():
                typed.append((str(form_field.label), value))
        return typed


class CommitmentForm(forms.Form):
    """A new commitment: the RM's or the leader's, what, by when."""

    owner = forms.ChoiceField(label="Who", choices=[("rm", "RM"), ("leader", "Leader")])
    text = forms.CharField(label="What will be done", max_length=500)
    due_on = forms.DateField(label="Due", widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, checkin: CheckIn, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "owner": "rm",
                "due_on": checkin.scheduled_at.date() + datetime.timedelta(days=7),
            },
        )
        super().__init__(*args, **kwargs)
        self.checkin = checkin
        self.fields["owner"].choices = [
            ("rm", f"{checkin.rm} (RM)"),
            ("leader", f"{checkin.leader} (leader)"),
        ]


class TickForm(forms.Form):
    done = forms.TypedChoiceField(choices=[("1", "done"), ("0", "open")], coerce=lambda v: v == "1")


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label="Your comment (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs=TEXTAREA),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="Why is it cancelled?", max_length=200)
