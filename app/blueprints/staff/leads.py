"""The staff console's leads: list, detail, actions, the CSV export and the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.datastructures import MultiDict

from app.blueprints.staff.lead_rows import lead_rows
from app.blueprints.staff.list_query import filters_from, per_page_from, query_of
from app.extensions import db
from app.forms.common import ConfirmForm
from app.forms.staff import DashboardRangeForm, SavedViewForm, StaffMessageForm
from app.models import LeadAttachment, LeadStatus
from app.models.base import utcnow
from app.services import audit
from app.services.accounts.staff import active_staff
from app.services.clinics.catalog import procedures_by_name
from app.services.clinics.directory import approved_clinics
from app.services.conversations import staff_messages
from app.services.conversations.snippets import SNIPPETS, snippet_for
from app.services.conversations.threads import MessageRefused
from app.services.integrations.partners import all_partners
from app.services.leads import actions, lifecycle, saved_views, tags
from app.services.leads.dashboard import Period, build_dashboard
from app.services.leads.detail import lead_for_page, lead_history, quoted_answers
from app.services.leads.export import csv_chunks, record_export
from app.services.leads.queries import (
    FLAGS,
    PAGE_SIZES,
    assignee_emails,
    list_page,
    resolve_tag,
    status_counts,
)
from app.web.actions import explained, run_confirmed, run_form
from app.web.downloads import send_attachment
from app.web.sign_in import current_staff, safe_next

bp = Blueprint("leads", __name__)


def _list_page(
    args: MultiDict[str, str], view_form: SavedViewForm | None = None, status: int = 200
) -> ResponseReturnValue:
    filters = resolve_tag(db.session, filters_from(args))
    per_page = per_page_from(args)
    staff = current_staff()
    page = list_page(db.session, filters, staff.id, cursor=args.get("after"), page_size=per_page)
    query_args = args.to_dict(flat=False)
    query_args.pop("after", None)
    current_query = query_of(filters, per_page)
    if view_form is None:
        view_form = SavedViewForm(formdata=None, query=current_query)
    html = render_template(
        "staff/leads.html",
        page=page,
        filters=filters,
        per_page=per_page,
        page_sizes=PAGE_SIZES,
        tabs=status_counts(db.session, filters, staff.id),
        tab_args={k: v for k, v in query_args.items() if k != "status"},
        query_args=query_args,
        current_query=current_query,
        views=saved_views.visible_views(db.session, staff.id),
        view_form=view_form,
        rows=lead_rows(page.leads, assignee_emails(db.session, page.leads), utcnow()),
        procedures=procedures_by_name(db.session),
        clinics=approved_clinics(db.session),
        partners=all_partners(db.session),
        staff_users=active_staff(db.session),
        all_tags=tags.all_tags(db.session),
        bulk_statuses=[s.value for s in LeadStatus if s not in lifecycle.NOT_CHOSEN_BY_STAFF],
        flags=FLAGS,
        form=ConfirmForm(),
        staff_id=staff.id,
    )
    return html, status


@bp.get("/leads")
def leads() -> ResponseReturnValue:
    return _list_page(request.args)


@bp.post("/leads/views")
def save_view() -> ResponseReturnValue:
    """Save the list's current filters, sort and page size (re-read, so only what the list
    understands is kept) as a tab."""
    form = SavedViewForm()
    listed = MultiDict(parse_qsl(form.query.data or ""))
    query = query_of(filters_from(listed), per_page_from(listed))
    return run_form(
        form,
        form.name,
        lambda: saved_views.save_view(
            db.session, current_staff().id, form.name.data, query, form.shared.data
        ),
        saved_views.ViewRefused,
        _("View saved."),
        f"{url_for('staff.leads.leads')}?{query}",
        lambda refused: _list_page(listed, refused, 422),
    )


@bp.post("/leads/views/<int:view_id>/delete")
def delete_view(view_id: int) -> ResponseReturnValue:
    run_confirmed(
        lambda: saved_views.delete_view(db.session, current_staff().id, view_id),
        lambda name: _("View %(name)s deleted.", name=name),
        {},
    )
    return redirect(url_for("staff.leads.leads"))


@bp.get("/leads/<int:lead_id>")
def lead_detail(lead_id: int) -> ResponseReturnValue:
    return _lead_page(lead_id, StaffMessageForm())


def _lead_page(lead_id: int, message_form: StaffMessageForm) -> ResponseReturnValue:
    """The lead page, everything on it read in a fixed number of queries; `?snippet=<code>`
    fills the message box with that snippet in the patient's language (a link, no script)."""
    try:
        actions.record_view(db.session, lead_id, current_staff().id)
    except LookupError:
        abort(404)
    lead = lead_for_page(db.session, lead_id)
    if lead is None:
        abort(404)
    snippet = request.args.get("snippet", "")
    if not message_form.is_submitted() and (text := snippet_for(snippet, lead)):
        message_form.body.data = text
    history = lead_history(db.session, lead.id)
    now = utcnow()
    return render_template(
        "staff/lead_detail.html",
        lead=lead,
        now=now,
        history=history,
        timeline=history.timeline(lead.staff_messages),
        quoted=quoted_answers(lead, now.date()),
        statuses=[s.value for s in lifecycle.staff_choices(lead)],
        can_reroute=lifecycle.can_take_clinics(lead),
        can_message=staff_messages.can_write_to(lead),
        clinics=approved_clinics(db.session),
        staff_users=active_staff(db.session),
        snippets=SNIPPETS,
        message_form=message_form,
        form=ConfirmForm(),
    ), (422 if message_form.errors else 200)


@bp.post("/leads/<int:lead_id>/messages")
def message_patient(lead_id: int) -> ResponseReturnValue:
    """A message to the patient: stored, shown on their page, and announced by one email."""
    form = StaffMessageForm()
    return run_form(
        form,
        form.body,
        lambda: staff_messages.send_to_patient(
            db.session, lead_id, current_staff().id, form.body.data, form.submission_id.data
        ),
        MessageRefused,
        _("Message sent; the patient is emailed a link to read it."),
        url_for("staff.leads.lead_detail", lead_id=lead_id, _anchor="timeline"),
        lambda f: _lead_page(lead_id, f),
    )


def _act(
    lead_id: int | None, do: Callable[[int], Any], done: Callable[[Any], str]
) -> ResponseReturnValue:
    """Run one staff action (`do` gets the staff id), flash `done(result)`, go back."""
    run_confirmed(
        lambda: do(current_staff().id),
        done,
        explained(actions.ActionRefused, tags.TagRefused),
    )
    if lead_id is None:
        return redirect(safe_next(request.form.get("back"), url_for("staff.leads.leads")))
    return redirect(url_for("staff.leads.lead_detail", lead_id=lead_id))


def _assignee() -> int | None:
    value = request.form.get("assignee", "")
    return int(value) if value.isdigit() else None


def _status() -> LeadStatus:
    try:
        return LeadStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)


@bp.post("/leads/<int:lead_id>/status")
def set_status(lead_id: int) -> ResponseReturnValue:
    status = _status()
    return _act(
        lead_id,
        lambda staff: actions.change_status(
            db.session, [lead_id], staff, status, request.form.get("reason")
        ),
        lambda _n: _("Status changed."),
    )


@bp.post("/leads/<int:lead_id>/assign")
def assign(lead_id: int) -> ResponseReturnValue:
    return _act(
        lead_id,
        lambda staff: actions.assign_to(db.session, [lead_id], staff, _assignee()),
        lambda _n: _("Assigned."),
    )


@bp.post("/leads/<int:lead_id>/notes")
def add_note(lead_id: int) -> ResponseReturnValue:
    return _act(
        lead_id,
        lambda staff: actions.add_note(db.session, lead_id, staff, request.form.get("body", "")),
        lambda _note: _("Note added."),
    )


@bp.post("/leads/<int:lead_id>/tags")
def add_tag(lead_id: int) -> ResponseReturnValue:
    return _act(
        lead_id,
        lambda staff: tags.add_tag(db.session, lead_id, staff, request.form.get("tag", "")),
        lambda _n: _("Tag added."),
    )


@bp.post("/leads/<int:lead_id>/tags/<int:tag_id>/remove")
def remove_tag(lead_id: int, tag_id: int) -> ResponseReturnValue:
    return _act(
        lead_id,
        lambda staff: tags.remove_tag(db.session, lead_id, staff, tag_id),
        lambda _none: _("Tag removed."),
    )


@bp.post("/leads/<int:lead_id>/reroute")
def reroute(lead_id: int) -> ResponseReturnValue:
    clinic_ids = [int(v) for v in request.form.getlist("clinic") if v.isdigit()]
    return _act(
        lead_id,
        lambda staff: actions.reroute(db.session, lead_id, staff, clinic_ids),
        lambda n: ngettext("%(num)d clinic added.", "%(num)d clinics added.", n),
    )


@bp.post("/leads/<int:lead_id>/resend-confirmation")
def resend_confirmation(lead_id: int) -> ResponseReturnValue:
    return _act(
        lead_id,
        lambda staff: actions.resend_confirmation(db.session, lead_id, staff),
        lambda _none: _("The confirmation will be sent again."),
    )


@bp.post("/leads/<int:lead_id>/not-spam")
def not_spam(lead_id: int) -> ResponseReturnValue:
    return _act(
        lead_id,
        lambda staff: actions.mark_not_spam(db.session, lead_id, staff),
        lambda _none: _("Marked as a real inquiry; it will be routed."),
    )


@bp.post("/leads/bulk")
def bulk() -> ResponseReturnValue:
    """Assign, tag, change status or mark spam for the leads ticked in the list."""
    lead_ids = [int(v) for v in request.form.getlist("lead") if v.isdigit()]
    action = request.form.get("action")
    if action == "assign":
        return _act(
            None,
            lambda staff: actions.assign_to(db.session, lead_ids, staff, _assignee()),
            lambda n: ngettext("%(num)d lead assigned.", "%(num)d leads assigned.", n),
        )
    if action == "tag":
        return _act(
            None,
            lambda staff: tags.add_to_leads(
                db.session, lead_ids, staff, request.form.get("tag", "")
            ),
            lambda n: ngettext("%(num)d lead tagged.", "%(num)d leads tagged.", n),
        )
    if action in ("spam", "status"):
        status = LeadStatus.SPAM if action == "spam" else _status()
        return _act(
            None,
            lambda staff: actions.change_status(
                db.session, lead_ids, staff, status, request.form.get("reason")
            ),
            lambda n: ngettext("%(num)d lead changed.", "%(num)d leads changed.", n),
        )
    abort(400)


@bp.get("/leads/<int:lead_id>/attachments/<int:attachment_id>")
def lead_attachment(lead_id: int, attachment_id: int) -> ResponseReturnValue:
    """Staff download of a patient's file; every download is an audit event."""
    attachment = db.session.get(LeadAttachment, attachment_id)
    if attachment is None or attachment.lead_id != lead_id:
        abort(404)
    audit.record(
        db.session,
        audit.Actor.staff(current_staff()),
        "lead.attachment_downloaded",
        lead=lead_id,
        changes={"attachment_id": attachment.id},
    )
    db.session.commit()
    return send_attachment(current_app.config["UPLOAD_DIR"], attachment, attachment.lead.reference)


@bp.get("/leads.csv")
def leads_csv() -> ResponseReturnValue:
    """Streamed as the database produces it: memory stays flat however many leads match."""
    filters = filters_from(request.args)
    staff = current_staff()
    record_export(db.session, filters, audit.Actor.staff(staff))
    chunks = csv_chunks(db.session, filters, staff.id)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=careroute-leads.csv"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/dashboard")
def dashboard() -> ResponseReturnValue:
    """A range that makes no sense is said next to its field; the last 30 days show
    meanwhile."""
    form = DashboardRangeForm(formdata=request.args)
    valid = form.validate()
    today = utcnow().date()
    period = form.period(today) if valid else Period.ending(today)
    if valid:
        form.first.data, form.last.data = period.first, period.last
    return render_template(
        "staff/dashboard.html",
        board=build_dashboard(db.session, period),
        form=form,
        partner_names={f"partner-{p.id}": p.name for p in all_partners(db.session)},
    ), (200 if valid else 422)
