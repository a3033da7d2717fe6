"""Forms of the campaign pages. They only shape input: the rules are the services'."""

from __future__ import annotations

from django import forms

from accounts.models import ProductFamily, Segment, Tier

from ..models import Campaign

MAX_UPLOAD_MB = 10
FAMILY_CHOICES = [("", "—"), *ProductFamily.choices]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the campaign offers and why now (RMs read it on the campaign page).",
    )
    starts_on = forms.DateField(label="Starts on", widget=DATE)
    ends_on = forms.DateField(label="Ends on", widget=DATE)
    goal = forms.ChoiceField(
        choices=Campaign.Goal.choices,
        help_text="Relationships, never one product: new customers, products per customer, "
        "or customers won to a product family.",
    )
    product_family = forms.ChoiceField(
        label="Product family",
        choices=FAMILY_CHOICES,
        required=False,
        help_text="Only for a product-family goal.",
    )
    target_value = forms.DecimalField(
        label="Target",
        max_digits=12,
        decimal_places=2,
        help_text="New relationships: accounts opened. Cross-sell: products per active "
        "listed account (e.g. 2.5). Product family: accounts newly holding the family.",
    )

    @classmethod
    def of(cls, campaign: Campaign, data=None):
        initial = {
            f: getattr(campaign, f)
            for f in (
                "name",
                "description",
                "starts_on",
                "ends_on",
                "goal",
                "product_family",
                "target_value",
            )
        }
        return cls(data, initial=initial)


class BuildFromFilterForm(forms.Form):
    segments = forms.ModelMultipleChoiceField(
        queryset=Segment.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Any of these; none ticked: every segment.",
    )
    tiers = forms.ModelMultipleChoiceField(
        queryset=Tier.objects.order_by("code"),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Any of these; none ticked: every tier.",
    )
    holds = forms.MultipleChoiceField(
        label="Holds",
        choices=ProductFamily.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every family ticked, in the latest closed month.",
    )
    lacks = forms.MultipleChoiceField(
        label="Does not hold",
        choices=ProductFamily.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None of the families ticked.",
    )


class ImportListForm(forms.Form):
    file = forms.FileField(
        label="Account list (CSV)",
        help_text=f"UTF-8, comma-separated, header account_number,reason; at most "
        f"{MAX_UPLOAD_MB} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_MB} MB. "
                "Split it into smaller files."
            )
        return upload
