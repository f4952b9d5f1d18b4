"""Pages of the pairing activity log: a partnership's log, one entry, the entry form, files."""

from __future__ import annotations

import logging
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.services import user_ids_from_list
from ..core.authz import require
from ..core.errors import DomainError, Invalid, UploadRefused
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.pagination import paginate
from ..core.timeutil import local_today, school_year_of
from ..core.uploads import extensions_of, send_upload
from ..extensions import db
from . import log as services
from .blueprint import bp
from .log_forms import AttachmentForm, LogEntryForm, LogFilterForm
from .models import (
    ACTIVITY_KINDS,
    PairingActivity,
    PairingActivityPerson,
    PairingActivitySchool,
    PairingAttachment,
    Partnership,
    PartnershipSchool,
)
from .permissions import can_edit_log_entry, can_log_activity, can_view_log_entry, can_view_partnership

audit = logging.getLogger("portal.audit")
MAX_FILES_AT_ONCE = services.MAX_ATTACHMENTS


def _load_partnership(partnership_id: int) -> Partnership:
    partnership = db.session.execute(
        select(Partnership).where(Partnership.id == partnership_id)
        .options(joinedload(Partnership.lead_school),
                 selectinload(Partnership.members).joinedload(PartnershipSchool.school))
    ).scalar_one_or_none()
    if partnership is None:
        abort(404)
    # As on the partnership's own page: outsiders are not told that it exists.
    require(can_view_partnership(current_user, partnership), hide=True)
    return partnership


def _load_entry(entry_id: int) -> PairingActivity:
    entry = db.session.execute(
        select(PairingActivity).where(PairingActivity.id == entry_id)
        .options(joinedload(PairingActivity.partnership).joinedload(Partnership.lead_school),
                 joinedload(PairingActivity.author),
                 selectinload(PairingActivity.schools).joinedload(PairingActivitySchool.school),
                 selectinload(PairingActivity.people).joinedload(PairingActivityPerson.user),
                 selectinload(PairingActivity.attachments))
    ).scalar_one_or_none()
    if entry is None:
        abort(404)
    require(can_view_partnership(current_user, entry.partnership), hide=True)
    require(can_view_log_entry(current_user, entry, entry.partnership))
    return entry


def _schools_of(partnership: Partnership) -> list:
    return [partnership.lead_school] + [m.school for m in partnership.members]


# --- the log -------------------------------------------------------------------------------------


def _year_choices(partnership: Partnership) -> list[tuple[str, str]]:
    first = school_year_of(partnership.start_date - services.EARLIEST)
    today = local_today()
    last_day = min(today, partnership.end_date) if partnership.end_date else today
    last = max(first, school_year_of(last_day))
    return [(str(y), f"{y}–{y + 1}") for y in range(last, first - 1, -1)]


@bp.route("/partnerships/<id:partnership_id>/log", endpoint="log")
@login_required
def log_list(partnership_id: int):
    partnership = _load_partnership(partnership_id)
    form = LogFilterForm(request.args)
    form.year.choices = [("", _("All years"))] + _year_choices(partnership)
    stmt = (
        select(PairingActivity)
        .where(PairingActivity.partnership_id == partnership.id, services.visible_entries(current_user, partnership))
        .options(joinedload(PairingActivity.author),
                 selectinload(PairingActivity.schools).joinedload(PairingActivitySchool.school),
                 selectinload(PairingActivity.people).joinedload(PairingActivityPerson.user),
                 selectinload(PairingActivity.attachments))
        .order_by(PairingActivity.happened_on.desc(), PairingActivity.id.desc())
    )
    if form.kind.data in ACTIVITY_KINDS:
        stmt = stmt.where(PairingActivity.kind == form.kind.data)
    year = form.year.data or ""
    if year in {value for value, _label in form.year.choices if value}:  # not 0000 or 9999: no such date
        start = date(int(year), 9, 1)
        stmt = stmt.where(PairingActivity.happened_on >= start,
                          PairingActivity.happened_on < date(int(year) + 1, 9, 1))
    page = paginate(db.session, stmt)
    return render_template("partnerships/log.html", partnership=partnership, page=page, form=form,
                           can_log=can_log_activity(current_user, partnership))


# --- the entry form ------------------------------------------------------------------------------


def _prepare(form: LogEntryForm, partnership: Partnership) -> None:
    form.schools.choices = [(s.id, s.name) for s in _schools_of(partnership)]


def _people_ids(raw: str) -> list[int]:
    return user_ids_from_list(raw, field="people", max_count=services.MAX_PEOPLE)


def _values(form: LogEntryForm) -> dict:
    return dict(kind=form.kind.data, title=form.title.data or "", happened_on=form.happened_on.data,
                notes=form.notes.data or "", school_ids=form.schools.data or [],
                person_ids=_people_ids(form.people.data), other_people=form.other_people.data or "")


def _chosen_files(form: LogEntryForm) -> list:
    return [f for f in (form.files.data or []) if f is not None and getattr(f, "filename", "")]


def _render_form(form, partnership, entry, status=200):
    return render_template("partnerships/log_form.html", form=form, partnership=partnership, entry=entry,
                           accept=",".join("." + e for e in extensions_of(services.ATTACHMENT_KINDS)),
                           max_mb=services.attachment_max_bytes() // (1024 * 1024)), status


@bp.route("/partnerships/<id:partnership_id>/log/new", methods=["GET", "POST"])
@login_required
def new_log_entry(partnership_id: int):
    partnership = _load_partnership(partnership_id)
    require(can_log_activity(current_user, partnership))
    form = LogEntryForm()
    _prepare(form, partnership)
    if request.method == "GET":
        form.happened_on.data = min(local_today(), partnership.end_date or local_today())
        if request.args.get("kind") in ACTIVITY_KINDS:
            form.kind.data = request.args["kind"]
        ids = {s.id for s in _schools_of(partnership)}
        form.schools.data = [i for i in (current_user.school_id, partnership.lead_school_id) if i in ids]
        return _render_form(form, partnership, None)
    if form.validate_on_submit():
        files = _chosen_files(form)
        try:
            if len(files) > MAX_FILES_AT_ONCE:
                raise Invalid(_l("An entry has at most %(n)d files.", n=MAX_FILES_AT_ONCE), field="files")
            entry = services.log_activity(current_user, partnership, **_values(form))
            for file in files:
                services.add_attachment(current_user, entry, file)
        except DomainError as exc:
            db.session.rollback()  # an entry whose file is refused is not kept either
            form_error(form, exc, "files" if isinstance(exc, UploadRefused) else "title")
            return _render_form(form, partnership, None, exc.status if isinstance(exc, UploadRefused) else 400)
        db.session.commit()
        flash(_("Logged; the principals of the other schools named were told."), "success")
        return redirect(url_for("partnerships.log_entry", entry_id=entry.id))
    return _render_form(form, partnership, None, 400)


@bp.route("/log/<id:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit_log_entry(entry_id: int):
    entry = _load_entry(entry_id)
    partnership = entry.partnership
    require(can_edit_log_entry(current_user, entry, partnership))
    partnership = _load_partnership(partnership.id)  # with its member schools for the choices
    form = LogEntryForm()
    _prepare(form, partnership)
    if request.method == "GET":
        form.kind.data, form.title.data, form.happened_on.data = entry.kind, entry.title, entry.happened_on
        form.schools.data = [s.school_id for s in entry.schools]
        form.people.data = " ".join(p.user.username for p in entry.people)
        form.other_people.data, form.notes.data = entry.other_people, entry.notes_html
        return _render_form(form, partnership, entry)
    if form.validate_on_submit():
        try:
            services.update_entry(current_user, entry, **_values(form))
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "title")
            return _render_form(form, partnership, entry, 400)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("partnerships.log_entry", entry_id=entry.id))
    return _render_form(form, partnership, entry, 400)


# --- one entry -----------------------------------------------------------------------------------


def _render_entry(entry: PairingActivity, attachment_form: AttachmentForm | None = None, status: int = 200):
    editable = can_edit_log_entry(current_user, entry, entry.partnership)
    return render_template(
        "partnerships/log_entry.html", entry=entry, partnership=entry.partnership, editable=editable,
        attachment_form=attachment_form or AttachmentForm(),
        accept=",".join("." + e for e in extensions_of(services.ATTACHMENT_KINDS)),
        max_mb=services.attachment_max_bytes() // (1024 * 1024), max_files=services.MAX_ATTACHMENTS,
    ), status


@bp.route("/log/<id:entry_id>")
@login_required
def log_entry(entry_id: int):
    return _render_entry(_load_entry(entry_id))


@bp.route("/log/<id:entry_id>/delete", methods=["POST"])
@login_required
def delete_log_entry(entry_id: int):
    entry = _load_entry(entry_id)
    partnership_id = entry.partnership_id
    require(can_edit_log_entry(current_user, entry, entry.partnership))
    services.delete_entry(current_user, entry)
    db.session.commit()
    flash(_("The entry is deleted."), "success")
    return redirect(url_for("partnerships.log", partnership_id=partnership_id))


@bp.route("/log/<id:entry_id>/attachments", methods=["POST"])
@login_required
def add_log_attachment(entry_id: int):
    entry = _load_entry(entry_id)
    require(can_edit_log_entry(current_user, entry, entry.partnership))
    form = AttachmentForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("Choose a file to upload."), field="file")
        attachment = services.add_attachment(current_user, entry, form.file.data)
    except DomainError as exc:
        db.session.rollback()
        form_error(form, exc, "file")
        return _render_entry(_load_entry(entry_id), form, exc.status if exc.status in (400, 409, 413) else 400)
    db.session.commit()
    flash(_("%(name)s is attached.", name=attachment.original_name), "success")
    return redirect(url_for("partnerships.log_entry", entry_id=entry_id) + "#files")


def _load_attachment(attachment_id: int) -> tuple[PairingAttachment, PairingActivity]:
    attachment = db.session.get(PairingAttachment, attachment_id)
    if attachment is None:
        abort(404)
    return attachment, _load_entry(attachment.activity_id)


@bp.route("/attachments/<id:attachment_id>")
@login_required
def log_attachment(attachment_id: int):
    attachment, _entry = _load_attachment(attachment_id)
    audit.info("pairing attachment downloaded id=%s by=%s", attachment.id, current_user.id)
    return send_upload(attachment.stored_name, attachment.original_name, attachment.content_type)


@bp.route("/attachments/<id:attachment_id>/delete", methods=["POST"])
@login_required
def delete_log_attachment(attachment_id: int):
    attachment, entry = _load_attachment(attachment_id)
    require(can_edit_log_entry(current_user, entry, entry.partnership))
    name = attachment.original_name
    services.remove_attachment(current_user, attachment)
    db.session.commit()
    flash(_("%(name)s is removed.", name=name), "success")
    return redirect(url_for("partnerships.log_entry", entry_id=entry.id) + "#files")

