"""The back office's import pages (administrators only): month-end positions and accounts,
and a page listing every import (these two, customer ratings, campaign lists).

All or nothing: a refused file re-renders the page with the bad rows in a table and the
whole report as a CSV download. The work is the service's (accounts.imports), the same the
management commands call.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from org.access import require_role
from org.models import Role
from salesmgmt import imports as core

from . import imports
from .services import activity_import

# The page lists this many bad rows; the downloadable report has all of them.
SHOWN_ERRORS = 200


@dataclass(frozen=True)
class Kind:
    slug: str
    title: str
    noun: str
    label: str
    columns: tuple[str, ...]
    example: str
    service: str  # the function of accounts.imports, looked up when called


KINDS = {
    "positions": Kind(
        "positions",
        "Import month-end positions",
        "positions",
        "Positions file (CSV)",
        imports.POSITION_COLUMNS,
        "CB00000001,TL,2026-10,1250000.00,4180.25",
        "import_positions",
    ),
    "accounts": Kind(
        "accounts",
        "Import accounts",
        "accounts",
        "Accounts file (CSV)",
        imports.ACCOUNT_COLUMNS,
        "CB00000001,Harbour Foods Ltd,Professional services,A,rm1,active,2019-03-01,,,2027-06-30",
        "import_accounts",
    ),
    "activities": Kind(
        "activities",
        "Import activities from a CRM export",
        "activities",
        "Activities file (CSV)",
        activity_import.COLUMNS,
        "rm1,CB00000001,visit,2026-11-30,done,Reviewed the credit line,Send the term sheet,"
        "2026-12-07",
        "import_activities",
    ),
}


class ImportForm(forms.Form):
    file = forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def __init__(self, *args, label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_mb = core.max_upload_mb()
        self.fields["file"].label = label
        self.fields[
            "file"
        ].help_text = f"UTF-8, comma-separated, with the header row; at most {self.limit_mb} MB."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.limit_mb * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{self.limit_mb} MB. Split it into smaller files."
            )
        return upload


@login_required
def imports_index(request):
    require_role(request.user, Role.ADMIN)
    return render(request, "accounts/imports.html", {"kinds": KINDS.values(), "nav": "imports"})


def _import_page(request, kind: Kind):
    require_role(request.user, Role.ADMIN)
    form = ImportForm(request.POST or None, request.FILES or None, label=kind.label)
    context = {"form": form, "kind": kind, "shown": SHOWN_ERRORS, "nav": "imports"}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # The activities' import is the activity services' (accounts.services).
            module = activity_import if kind.slug == "activities" else imports
            result = getattr(module, kind.service)(upload, by=request.user)
        except core.ImportFileError as error:
            form.add_error("file", str(error))
        except core.ImportRefused as refused:
            context.update(
                refused=refused,
                errors=refused.errors[:SHOWN_ERRORS],
                error_count=len(refused.errors),
                report_href=core.report_href(refused.errors),
                file_name=upload.name,
            )
        else:
            messages.success(
                request,
                f"Imported {upload.name}: {result.created} new, {result.updated} changed, "
                f"{result.unchanged} unchanged {kind.noun}.",
            )
            return redirect(f"accounts:import_{kind.slug}")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/import_form.html", context, status=status)


@login_required
def positions_import(request):
    return _import_page(request, KINDS["positions"])


@login_required
def accounts_import(request):
    return _import_page(request, KINDS["accounts"])


@login_required
def activities_import(request):
    return _import_page(request, KINDS["activities"])
