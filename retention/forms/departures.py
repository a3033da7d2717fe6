"""Forms of the departure pages. They clean and explain input; the services decide."""

from __future__ import annotations

from django import forms

DATE = {"type": "date"}


class BootstrapMixin:
    """Bootstrap classes on every widget (errors are shown under the field)."""

    def style(self):
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput | forms.CheckboxSelectMultiple):
                continue
            css = (
                "form-select form-select-sm"
                if isinstance(widget, forms.Select)
                else ("form-control form-control-sm")
            )
            widget.attrs["class"] = css


def _person_choices(people, *, blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(str(p.pk), _label(p)) for p in people]


def _label(person) -> str:
    return f"{person} (leader)" if person.role == "leader" else str(person)


class NoticeForm(BootstrapMixin, forms.Form):
    """Record an RM's notice: opens their departure case."""

    rm = forms.TypedChoiceField(label="Relationship manager", coerce=int)
    notice_on = forms.DateField(label="Notice given on", widget=forms.DateInput(attrs=DATE))
    last_day = forms.DateField(label="Last day", widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, rms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rm"].choices = _person_choices(rms, blank="— choose an RM —")
        self.style()

    def clean(self):
        data = super().clean()
        notice_on, last_day = data.get("notice_on"), data.get("last_day")
        if notice_on and last_day and last_day < notice_on:
            self.add_error("last_day", "The last day cannot be before the notice was given.")
        return data


class CoverageForm(BootstrapMixin, forms.Form):
    """The coverage board: a covering-RM select per account, and "assign the selected to".

    `action` "rows" applies every row's select; "bulk" gives the ticked accounts to
    `bulk_to` (empty: removes their cover).
    """

    ACTIONS = (("rows", "Save the cover of each row"), ("bulk", "Assign the selected"))

    action = forms.ChoiceField(choices=ACTIONS)
    selected = forms.TypedMultipleChoiceField(label="Selected accounts", coerce=int, required=False)
    bulk_to = forms.ChoiceField(label="Assign the selected to", required=False)

    def __init__(self, *args, lines, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        choices = _person_choices(candidates, blank="— no cover —")
        self.fields["selected"].choices = [(line.account.pk, line.account.name) for line in lines]
        self.fields["bulk_to"].choices = choices
        for line in lines:
            self.fields[self.row_name(line.account)] = forms.ChoiceField(
                label=f"Covering RM for {line.account.name}",
                choices=choices,
                required=False,
                initial=str(line.account.covering_rm_id or ""),
            )
        self.style()

    @staticmethod
    def row_name(account) -> str:
        return f"cover_{account.pk}"

    def rows(self):
        """(line, bound select field) for the template."""
        return [(line, self[self.row_name(line.account)]) for line in self.lines]

    def clean(self):
        data = super().clean()
        if data.get("action") == "bulk" and not data.get("selected"):
            raise forms.ValidationError("Tick the accounts to assign first.")
        return data

    def assignments(self) -> dict[int, int | None]:
        data = self.cleaned_data
        if data["action"] == "bulk":
            to = int(data["bulk_to"]) if data.get("bulk_to") else None
            return {pk: to for pk in data["selected"]}
        result = {}
        for line in self.lines:
            value = data.get(self.row_name(line.account))
            result[line.account.pk] = int(value) if value else None
        return result


class ReplacementForm(BootstrapMixin, forms.Form):
    replacement = forms.TypedChoiceField(label="Replacement RM", coerce=int)
    on = forms.DateField(label="Starts on", widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replacement"].choices = _person_choices(
            candidates, blank="— choose the replacement —"
        )
        self.style()


class ReviewForm(BootstrapMixin, forms.Form):
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()
