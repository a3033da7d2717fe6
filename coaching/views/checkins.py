"""The check-in screens: the leader's check-in screen, This week, My check-ins.

Views read through coaching.selectors.checkins (which start from org.access: outside scope
is a 404), change state only through coaching.services.checkins (PermissionDenied → 403,
InvalidTransition / StaleEdit → 409, Incomplete / ValidationError → 400), and re-render
forms with the reason. htmx requests get the changed fragment; plain posts a redirect or
the whole page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from org.access import require_role, visible_teams
from org.models import Role
from salesmgmt.exports import export_format, export_response
from salesmgmt.workflow import Incomplete, InvalidTransition, StaleEdit

from ..forms.checkins import (
    AcknowledgeForm,
    CancelForm,
    CheckInNotesForm,
    CommitmentForm,
    TickForm,
)
from ..models import CheckIn
from ..selectors import checkins as selectors
from ..services import checkins as services

BAD_INPUT = 400
CONFLICT = 409


def _checkin(request, pk) -> CheckIn:
    return get_object_or_404(selectors.checkin_page(request.user), pk=pk)


@dataclass
class NotesView:
    """What the conversation card shows: the form, and how the last save went."""

    form: CheckInNotesForm | None
    state: str = ""  # "", "saved", "stale", "invalid", "refused"
    message: str = ""
    typed: list[tuple[str, str]] = field(default_factory=list)


def _notes_form(checkin, *, data=None):
    semi_annual = checkin.kind == CheckIn.Kind.SEMI_ANNUAL
    return CheckInNotesForm(
        data,
        checkin=checkin,
        metrics=selectors.rating_metrics(checkin) if semi_annual else (),
        line_ratings=selectors.line_ratings(checkin) if semi_annual else None,
    )


def _can_tick(checkin: CheckIn, user) -> bool:
    return not checkin.is_completed and (
        user.pk == checkin.rm_id or services.is_leader_of(user, checkin)
    )


def _note_values(checkin: CheckIn) -> list[tuple[str, str]]:
    return [
        (str(CheckIn._meta.get_field(name).verbose_name).capitalize(), getattr(checkin, name))
        for name in checkin.note_fields
    ]


def _review_ratings(checkin: CheckIn):
    if checkin.kind != CheckIn.Kind.SEMI_ANNUAL:
        return []
    return list(checkin.line_ratings.select_related("metric"))


def _page_context(
    request,
    checkin: CheckIn,
    *,
    notes: NotesView | None = None,
    commitment_form=None,
    cancel_form=None,
    acknowledge_form=None,
    error="",
):
    user = request.user
    actions = services.checkin_actions(checkin, user)
    if checkin.is_completed:
        figures, live = checkin.snapshot or {}, False
    else:
        figures, live = selectors.checkin_figures(checkin, viewer=user), True
    if notes is None:
        notes = NotesView(form=_notes_form(checkin) if "edit" in actions else None)
    is_rm = user.pk == checkin.rm_id
    return {
        "nav": "my_checkins" if is_rm else "this_week" if user.role == Role.LEADER else "",
        "checkin": checkin,
        "actions": actions,
        "figures": figures,
        "live": live,
        "is_rm": is_rm,
        "can_tick": _can_tick(checkin, user),
        "now": timezone.now(),
        "notes": notes,
        "note_values": _note_values(checkin),
        "review_ratings": _review_ratings(checkin),
        "commitment_form": commitment_form
        or (CommitmentForm(checkin=checkin, prefix="new") if "commit" in actions else None),
        "cancel_form": cancel_form or CancelForm(prefix="cancel"),
        "acknowledge_form": acknowledge_form or AcknowledgeForm(prefix="ack"),
        "error": error,
    }


def _render_page(request, checkin, *, status=200, **kwargs):
    return render(
        request,
        "coaching/checkins/checkin.html",
        _page_context(request, checkin, **kwargs),
        status=status,
    )


@login_required
def checkin_detail(request, pk):
    """The check-in screen: everything for the conversation; read-only once completed (the
    figures then come from the snapshot), and for executives."""
    return _render_page(request, _checkin(request, pk))


def _render_notes(request, checkin, notes: NotesView, status=200):
    context = {
        "checkin": checkin,
        "actions": services.checkin_actions(checkin, request.user),
        "notes": notes,
        "note_values": _note_values(checkin),
        "review_ratings": _review_ratings(checkin),
        "oob_status": True,  # the first save starts the check-in: the heading's badge follows
        "now": timezone.now(),
    }
    return render(request, "coaching/checkins/_notes.html", context, status=status)


def _stale_notes(request, pk, form, exc) -> tuple[CheckIn, NotesView]:
    current = _checkin(request, pk)
    actions = services.checkin_actions(current, request.user)
    return current, NotesView(
        form=_notes_form(current) if "edit" in actions else None,
        state="stale",
        message=str(exc),
        typed=form.typed(),
    )


@login_required
@require_POST
def checkin_notes(request, pk):
    """Save the conversation's notes (and the review's ratings): the card for htmx, else
    the page."""
    checkin = _checkin(request, pk)
    form = _notes_form(checkin, data=request.POST)
    status, notes = 200, None
    if not form.is_valid():
        status = BAD_INPUT
        notes = NotesView(form=form, state="invalid", message="Not saved: see below.")
    else:
        try:
            saved = services.checkin_save_notes(
                checkin_id=checkin.pk,
                by=request.user,
                notes=form.notes(),
                ratings=form.ratings(),
                line_ratings=form.line_ratings(),
                expected_version=form.cleaned_data["version"],
            )
        except StaleEdit as exc:
            status = CONFLICT
            checkin, notes = _stale_notes(request, pk, form, exc)
        except InvalidTransition as exc:
            status = CONFLICT
            checkin = _checkin(request, pk)
            if not request.htmx:
                return _render_page(request, checkin, error=str(exc), status=status)
            notes = NotesView(form=None, state="refused", message=str(exc))
        except ValidationError as exc:
            status = BAD_INPUT
            form.add_error(None, exc)
            notes = NotesView(form=form, state="invalid", message="Not saved: see below.")
        else:
            if not request.htmx:
                messages.success(request, "Notes saved.")
                return redirect(f"{saved.get_absolute_url()}#conversation")
            checkin = _checkin(request, pk)
            notes = NotesView(form=_notes_form(checkin), state="saved", message="Saved.")
    if not request.htmx:
        return _render_page(request, checkin, notes=notes, status=status)
    return _render_notes(request, checkin, notes, status)


@login_required
@require_POST
def checkin_complete(request, pk):
    """Save what the notes form holds and complete: the figures are frozen."""
    checkin = _checkin(request, pk)
    form = _notes_form(checkin, data=request.POST)
    if not form.is_valid():
        notes = NotesView(form=form, state="invalid", message="Not completed: see below.")
        return _render_page(request, checkin, notes=notes, status=BAD_INPUT)
    try:
        services.checkin_complete(
            checkin_id=checkin.pk,
            by=request.user,
            expected_version=form.cleaned_data["version"],
            notes=form.notes(),
            ratings=form.ratings(),
            line_ratings=form.line_ratings(),
        )
    except Incomplete as exc:
        for name, why in exc.missing.items():
            form.add_error(name if name in form.fields else None, why)
        notes = NotesView(
            form=form, state="invalid", message="Not completed: " + " ".join(exc.missing.values())
        )
        return _render_page(request, checkin, notes=notes, status=BAD_INPUT)
    except StaleEdit as exc:
        checkin, notes = _stale_notes(request, pk, form, exc)
        notes.message = (
            "Not completed: this check-in changed after you opened it (saved in another window "
            "or tab). Read it once more, then complete."
        )
        return _render_page(request, checkin, notes=notes, status=CONFLICT)
    except InvalidTransition as exc:
        return _render_page(request, _checkin(request, pk), error=str(exc), status=CONFLICT)
    except ValidationError as exc:
        form.add_error(None, exc)
        notes = NotesView(form=form, state="invalid", message="Not completed: see below.")
        return _render_page(request, checkin, notes=notes, status=BAD_INPUT)
    messages.success(
        request,
        f"Completed. The figures are frozen as shown; {checkin.rm} can now read and "
        "acknowledge it.",
    )
    return redirect(checkin.get_absolute_url())


@login_required
@require_POST
def checkin_cancel(request, pk):
    checkin = _checkin(request, pk)
    form = CancelForm(request.POST, prefix="cancel")
    if not form.is_valid():
        return _render_page(request, checkin, cancel_form=form, status=BAD_INPUT)
    try:
        services.checkin_cancel(
            checkin_id=checkin.pk, by=request.user, reason=form.cleaned_data["reason"]
        )
    except InvalidTransition as exc:
        return _render_page(request, _checkin(request, pk), error=str(exc), status=CONFLICT)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _render_page(request, checkin, cancel_form=form, status=BAD_INPUT)
    messages.success(request, "Check-in cancelled.")
    return redirect(checkin.get_absolute_url())


@login_required
@require_POST
def checkin_acknowledge(request, pk):
    checkin = _checkin(request, pk)
    form = AcknowledgeForm(request.POST, prefix="ack")
    if not form.is_valid():
        return _render_page(request, checkin, acknowledge_form=form, status=BAD_INPUT)
    try:
        services.checkin_acknowledge(
            checkin_id=checkin.pk, by=request.user, comment=form.cleaned_data["comment"]
        )
    except InvalidTransition as exc:
        return _render_page(request, _checkin(request, pk), error=str(exc), status=CONFLICT)
    messages.success(request, "Acknowledged. Your leader sees that you have read it.")
    return redirect(checkin.get_absolute_url())


# --- commitments --------------------------------------------------------------------------------


def _commitments_card(request, checkin, *, form=None, just_added=None, status=200):
    figures = {"commitments": selectors.checkin_commitments(checkin)}
    actions = services.checkin_actions(checkin, request.user)
    context = {
        "checkin": checkin,
        "figures": figures,
        "actions": actions,
        "live": True,
        "can_tick": _can_tick(checkin, request.user),
        "commitment_form": form
        or (CommitmentForm(checkin=checkin, prefix="new") if "commit" in actions else None),
        "just_added": just_added,
    }
    return render(request, "coaching/checkins/_commitments.html", context, status=status)


@login_required
@require_POST
def commitment_add(request, pk):
    """The leader records a commitment (the RM's or their own)."""
    checkin = _checkin(request, pk)
    form = CommitmentForm(request.POST, checkin=checkin, prefix="new")
    status = BAD_INPUT
    if form.is_valid():
        owner = checkin.rm if form.cleaned_data["owner"] == "rm" else request.user
        try:
            added = services.commitment_add(
                checkin_id=checkin.pk,
                by=request.user,
                owner=owner,
                text=form.cleaned_data["text"],
                due_on=form.cleaned_data["due_on"],
            )
        except InvalidTransition as exc:
            return _render_page(request, _checkin(request, pk), error=str(exc), status=CONFLICT)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            if not request.htmx:
                messages.success(request, "Commitment recorded.")
                return redirect(f"{checkin.get_absolute_url()}#commitments")
            return _commitments_card(request, _checkin(request, pk), just_added=added.pk)
    if not request.htmx:
        return _render_page(request, checkin, commitment_form=form, status=status)
    return _commitments_card(request, checkin, form=form, status=status)


@login_required
@require_POST
def commitment_tick(request, pk):
    """Tick a commitment off (or back on): the RM or their leader. htmx gets the row."""
    commitment = get_object_or_404(selectors.commitment_page(request.user), pk=pk)
    form = TickForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Say whether the commitment is done.")
    services.commitment_set_done(
        commitment_id=commitment.pk, by=request.user, done=form.cleaned_data["done"]
    )
    on_checkin = request.POST.get("checkin", "")
    checkin_id = int(on_checkin) if on_checkin.isdigit() else None
    if not request.htmx:
        messages.success(request, "Commitment updated.")
        if checkin_id is not None:
            return redirect(reverse("coaching:checkin", args=[checkin_id]) + "#commitments")
        return redirect(reverse("coaching:my_checkins") + "#commitments")
    commitment = get_object_or_404(selectors.commitment_page(request.user), pk=pk)
    item = selectors.commitment_item(commitment, checkin_id=checkin_id, today=timezone.localdate())
    return render(
        request,
        "coaching/checkins/_commitment_row.html",
        {"c": item, "can_tick": True, "checkin_id": checkin_id, "just_saved": True},
    )


# --- This week (leaders) and My check-ins (RMs) -----------------------------------------


@login_required
def this_week(request):
    user = request.user
    require_role(user, Role.LEADER)
    teams = list(visible_teams(user).filter(leader=user).order_by("name"))
    rows = selectors.this_week(user)
    monday, sunday = selectors.week_of(timezone.localdate())
    if export_format(request):
        return export_response(
            request,
            f"this-week-{monday}",
            WEEK_HEADER,
            _week_rows(rows),
            sheet_title=f"Week of {monday}",
        )
    return render(
        request,
        "coaching/checkins/this_week.html",
        {
            "nav": "this_week",
            "teams": teams,
            "rows": rows,
            "monday": monday,
            "sunday": sunday,
            "adherence": selectors.adherence(user, leader=user),
            "adherence_weeks": selectors.ADHERENCE_WINDOW.days // 7,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def checkins_create(request):
    """The leader's button: create the coming check-ins of their team from its cadence."""
    require_role(request.user, Role.LEADER)
    team_id = request.POST.get("team", "")
    team = get_object_or_404(
        visible_teams(request.user), pk=int(team_id) if team_id.isdigit() else 0
    )
    created = services.checkins_create_for_team(team_id=team.pk, by=request.user)
    if created:
        messages.success(request, f"{created} check-in(s) created for {team}.")
    else:
        messages.info(request, f"Nothing new: {team}'s coming check-ins were already there.")
    return redirect("coaching:this_week")


COMMITMENTS_CSV_HEADER = ("Commitment", "Who", "Due", "Overdue", "From check-in")
CHECKINS_HEADER = ("Check-in", "Period", "Scheduled", "With", "Status", "Acknowledged")
# This week: one line per check-in shown, under the heading the page shows it in.
WEEK_HEADER = ("RM", "Team", "Style", "Shown as", "Check-in", "Period", "Scheduled", "Status")


def _week_rows(rows):
    """This week's table, one line per check-in it shows (an RM without any: one line)."""
    for row in rows:
        rm = row.rm
        who = (str(rm), rm.team.name if rm.team else "", rm.get_rm_style_display())
        shown = [
            *(("This week", c) for c in row.this_week),
            *(("Overdue", c) for c in row.overdue),
            *(("Missed", c) for c in row.missed),
            *([("Next", row.next_checkin)] if row.next_checkin else []),
        ]
        if not shown:
            yield (*who, "Nothing this week", "", "", None, "")
        for heading, c in shown:
            yield (
                *who,
                heading,
                selectors.checkin_name(c),
                c.period_label,
                c.scheduled_at,
                c.get_status_display(),
            )


def _commitments_csv_rows(commitments, *, today):
    """The RM's open commitments as on My check-ins (oldest first), one at a time."""
    for c in commitments.iterator(chunk_size=500):
        item = selectors.commitment_item(c, checkin_id=None, today=today)
        yield (item["text"], item["owner"], c.due_on, item["overdue"], item["from_checkin"])


def _checkins_rows(mine):
    """My check-ins as the page lists them: upcoming (soonest first), then past."""
    for c in (*mine.upcoming, *mine.past):
        yield (
            selectors.checkin_name(c),
            c.period_label,
            c.scheduled_at,
            str(c.leader),
            c.get_status_display(),
            c.acknowledged_at,
        )


@login_required
def my_checkins(request):
    """The RM's check-ins and open commitments. Downloads: `?format=csv|xlsx` the open
    commitments, with `&list=checkins` the check-ins."""
    user = request.user
    require_role(user, Role.RM)
    today = timezone.localdate()
    if export_format(request) and request.GET.get("list") == "checkins":
        return export_response(
            request,
            f"checkins-{user.username}-{today}",
            CHECKINS_HEADER,
            _checkins_rows(selectors.my_checkins(user)),
            sheet_title="My check-ins",
        )
    if export_format(request):
        return export_response(
            request,
            f"commitments-{user.username}-{today}",
            COMMITMENTS_CSV_HEADER,
            _commitments_csv_rows(selectors.open_commitments(user), today=today),
            sheet_title="Open commitments",
        )
    mine = selectors.my_checkins(user)
    commitments = [
        selectors.commitment_item(c, checkin_id=None, today=today)
        for c in selectors.open_commitments(user)
    ]
    return render(
        request,
        "coaching/checkins/my_checkins.html",
        {
            "nav": "my_checkins",
            "upcoming": mine.upcoming,
            "past": mine.past,
            "commitments": commitments,
            "now": timezone.now(),
        },
    )
