"""The back office imports customer ratings from a CSV file (administrators only).

All or nothing: a refused file re-renders the page with every bad row in a table, and the
same report as a CSV download. The work is the service's (coaching.services.rating_import).
"""

from __future__ import annotations

import base64
import csv
import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from org.access import require_role
from org.models import Role

from ..services import rating_import as services

MAX_UPLOAD_MB = 10
# The page lists this many bad rows; the downloadable report has all of them.
SHOWN_ERRORS = 200


class RatingImportForm(forms.Form):
    file = forms.FileField(
        label="Ratings file (CSV)",
        help_text=f"UTF-8, comma-separated, with the header row; at most {MAX_UPLOAD_MB} MB.",
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


def _report_href(errors: list[services.RowError]) -> str:
    """The error report as a data: link the browser saves as a CSV file."""
    out = io.StringIO()
    csv.writer(out).writerows(services.error_report_rows(errors))
    payload = base64.b64encode(("\ufeff" + out.getvalue()).encode()).decode()
    return f"data:text/csv;charset=utf-8;base64,{payload}"


@login_required
def ratings_import(request):
    require_role(request.user, Role.ADMIN)
    form = RatingImportForm(request.POST or None, request.FILES or None)
    context = {"form": form, "columns": services.COLUMNS, "shown": SHOWN_ERRORS}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.import_ratings(upload, by=request.user)
        except services.ImportFileError as error:
            form.add_error("file", str(error))
        except services.ImportRefused as refused:
            context.update(
                refused=refused,
                errors=refused.errors[:SHOWN_ERRORS],
                error_count=len(refused.errors),
                report_href=_report_href(refused.errors),
                file_name=upload.name,
            )
        else:
            messages.success(
                request,
                f"Imported {upload.name}: {result.created} new, {result.updated} changed, "
                f"{result.unchanged} unchanged ratings.",
            )
            return redirect("coaching:ratings_import")
    status = 400 if request.method == "POST" else 200
    return render(request, "coaching/ratings/import.html", context, status=status)
