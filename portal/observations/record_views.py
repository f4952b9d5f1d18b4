"""The observation record once written: reading it, deleting a draft, amendments of a final
record, the observed teacher's acknowledgement and reply, action steps, and attached files."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..core.authz import require
from ..core.errors import DomainError
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.timeutil import local_today
from ..core.uploads import send_upload
from ..extensions import db
from . import services
from .forms import AmendForm, AttachmentForm, ReplyForm
from .models import (
    ActionStep,
    ObservationAttachment,
)
from .permissions import (
    can_amend_observation,
    can_edit_observation,
    can_respond_to_observation,
    can_see_private_notes,
)
from .rubrics import level_label
from .views import bp, edit_page, fill_form, json_error, load_observation, prepare_form, raw_values


@bp.route("/observations/<id:observation_id>")
@login_required
def record(observation_id: int):
    return render_record(load_observation(observation_id))


def render_record(observation, reply_form=None, status: int = 200):
    checked = db.session.execute(
        select(ActionStep).where(ActionStep.checked_in_id == observation.id).order_by(ActionStep.id)
    ).scalars().all()
    return render_template(
        "observations/record.html", o=observation, template=observation.rubric_template, level_label=level_label,
        checked=checked, reply_form=reply_form or ReplyForm(),
        editable=can_edit_observation(current_user, observation),
        amendable=can_amend_observation(current_user, observation),
        respond=can_respond_to_observation(current_user, observation),
        private=can_see_private_notes(current_user, observation)), status


@bp.route("/observations/drafts/<id:draft_id>/delete", methods=["POST"])
@login_required
def delete(draft_id: int):
    observation = load_observation(draft_id)
    require(can_edit_observation(current_user, observation))
    services.delete_draft(current_user, observation)
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("observations.index"))


@bp.route("/observations/<id:observation_id>/amend", methods=["GET", "POST"])
@login_required
def amend(observation_id: int):
    observation = load_observation(observation_id)
    require(can_amend_observation(current_user, observation))
    template = observation.rubric_template
    form = AmendForm()
    if request.method == "GET":
        fill_form(form, observation)
    form.school_id.data = str(observation.school_id)  # fixed: only the class within it may change
    prepare_form(form, observation.observed_teacher)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            raw = raw_values(form, template)
            for name in ("observed_teacher_id", "live_session_id"):
                raw.pop(name)
            try:
                rows = services.amend_observation(current_user, observation, raw, form.reason.data or "")
                db.session.commit()
                flash(_("Corrected: %(fields)s. The correction is kept with the record.",
                        fields=", ".join(r.field for r in rows)), "success")
                return redirect(url_for("observations.record", observation_id=observation.id))
            except DomainError as exc:
                db.session.rollback()
                form_error(form, exc, "reason")
                observation = load_observation(observation_id)
                status = exc.status
        else:
            status = 400
    scores = ({d["code"]: request.form.get(f"score-{d['code']}", "") for d in template.dimensions}
              if request.method == "POST" else {k: str(v) for k, v in (observation.scores or {}).items()})
    return render_template("observations/amend.html", form=form, o=observation, template=template,
                           scores=scores, today=local_today().isoformat()), status


@bp.route("/observations/<id:observation_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(observation_id: int):
    observation = load_observation(observation_id)
    require(can_respond_to_observation(current_user, observation))
    services.acknowledge_observation(current_user, observation)
    db.session.commit()
    flash(_("Acknowledged; the observer was told."), "success")
    return redirect(url_for("observations.record", observation_id=observation.id))


@bp.route("/observations/<id:observation_id>/reply", methods=["POST"])
@login_required
def reply(observation_id: int):
    observation = load_observation(observation_id)
    require(can_respond_to_observation(current_user, observation))
    form = ReplyForm()
    if not form.validate_on_submit():
        return render_record(observation, form, 400)
    try:
        services.reply_to_observation(current_user, observation, form.reply.data or "")
    except DomainError as exc:
        # The page again with the message under the field and the text as typed: nothing is lost.
        db.session.rollback()
        form_error(form, exc, "reply")
        return render_record(load_observation(observation_id), form, exc.status if exc.status < 500 else 400)
    db.session.commit()
    flash(_("Reply sent."), "success")
    return redirect(url_for("observations.record", observation_id=observation.id))


@bp.route("/observations/drafts/<id:draft_id>/steps/<id:step_id>", methods=["POST"])
@login_required
def check_step(draft_id: int, step_id: int):
    observation = load_observation(draft_id)
    require(can_edit_observation(current_user, observation))
    step = db.session.get(ActionStep, step_id)
    if step is None:
        abort(404)
    services.check_action_step(current_user, observation, step, request.form.get("status", ""))
    db.session.commit()
    return redirect(url_for("observations.edit", observation_id=observation.id) + "#steps")


# --- attachments ---------------------------------------------------------------------------------


@bp.route("/observations/<id:observation_id>/attachments", methods=["POST"])
@login_required
def add_attachment(observation_id: int):
    observation = load_observation(observation_id)
    require(can_edit_observation(current_user, observation))
    form = AttachmentForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return edit_page(observation, 400)
    try:
        attachment = services.add_attachment(current_user, observation, form.file.data)
    except DomainError as exc:
        db.session.rollback()
        if request.accept_mimetypes.best == "application/json":
            return json_error(exc)
        flash(str(exc.message), "error")  # shown on the page below, which answers the refusal's 4xx
        return edit_page(load_observation(observation_id), exc.status if 400 <= exc.status < 500 else 400)
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"id": attachment.id, "name": attachment.original_name,
                        "url": url_for("observations.attachment", file_id=attachment.id)}), 201
    flash(_("File attached."), "success")
    return redirect(url_for("observations.edit", observation_id=observation.id) + "#files")


def _load_attachment(attachment_id: int) -> ObservationAttachment:
    attachment = db.session.get(ObservationAttachment, attachment_id)
    if attachment is None:
        abort(404)
    load_observation(attachment.observation_id)  # 404 for those who may not read the record
    return attachment


@bp.route("/observations/files/<id:file_id>")
@login_required
def attachment(file_id: int):
    attachment = _load_attachment(file_id)
    return send_upload(attachment.stored_name, attachment.original_name, attachment.content_type)


@bp.route("/observations/files/<id:file_id>/delete", methods=["POST"])
@login_required
def delete_attachment(file_id: int):
    attachment = _load_attachment(file_id)
    require(can_edit_observation(current_user, attachment.observation))
    observation_id = attachment.observation_id
    services.remove_attachment(current_user, attachment)
    db.session.commit()
    flash(_("File removed."), "success")
    return redirect(url_for("observations.edit", observation_id=observation_id) + "#files")
