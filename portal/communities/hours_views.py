"""Pages: the training-hours ledger (mine, or someone's I may see), its Excel export, and the
bureau's entry and removal of external hours."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.authz import PRINCIPAL, RESEARCHER, TEACHER, require
from ..core.errors import DomainError
from ..core.exports import XLSX_MIMETYPE
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.pagination import page_of
from ..core.templating import nav_item
from ..extensions import db
from . import hours
from .blueprint import bp
from .hours_forms import ExternalHoursForm
from .models import Activity, TrainingRecord, hours_text
from .permissions import can_record_hours, can_view_hours

EXPORT_LIMIT = 10_000

nav_item("communities.hours", _l("Training hours"), (TEACHER, PRINCIPAL, RESEARCHER), after="org.terms")


def _person(user_id: int) -> User:
    person = db.session.execute(
        select(User).where(User.id == user_id).options(joinedload(User.school))
    ).scalar_one_or_none()
    if person is None:
        abort(404)
    require(can_view_hours(current_user, person))
    return person


# The page's lines of the ledger (the order of records_query), built once with bound values, as
# rows: whether the activity still exists rather than the whole activity.
_RECORDS = (
    select(TrainingRecord.id, TrainingRecord.earned_on, TrainingRecord.title, TrainingRecord.source,
           TrainingRecord.hours_tenths, TrainingRecord.school_year, TrainingRecord.activity_id,
           Activity.id.label("linked_activity_id"))
    .outerjoin(Activity, Activity.id == TrainingRecord.activity_id)
    .where(TrainingRecord.user_id == bindparam("user_id"))
    .order_by(TrainingRecord.earned_on.desc(), TrainingRecord.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_RECORD_COUNT = select(func.count()).where(TrainingRecord.user_id == bindparam("user_id"))


def _page(person: User, form: ExternalHoursForm | None = None):
    data = hours.ledger(person)
    page = page_of(db.session, _RECORDS, _RECORD_COUNT, {"user_id": person.id}, default_per_page=50)
    may_record = can_record_hours(current_user, person)
    return render_template(
        "communities/hours.html",
        person=person,
        own=person.id == current_user.id,
        ledger=data,
        page=page,
        sources=hours.SOURCE_LABELS,
        hours_text=hours_text,
        can_record=may_record,
        form=(form or ExternalHoursForm()) if may_record else None,
    )


@bp.route("/training-hours", endpoint="hours")
@login_required
def my_hours():
    return _page(current_user)


@bp.route("/users/<id:user_id>/training-hours")
@login_required
def user_hours(user_id: int):
    return _page(_person(user_id))


def _export(person: User):
    data = hours.ledger(person)
    records = db.session.execute(hours.records_query(person).limit(EXPORT_LIMIT)).scalars().all()
    workbook = hours.export_workbook(person, data, records)
    return send_file(
        io.BytesIO(workbook),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"training-hours-{person.username}-{data.today.isoformat()}.xlsx",
    )


@bp.route("/training-hours/export.xlsx")
@login_required
def hours_export():
    return _export(current_user)


@bp.route("/users/<id:user_id>/training-hours/export.xlsx")
@login_required
def user_hours_export(user_id: int):
    return _export(_person(user_id))


@bp.route("/users/<id:user_id>/training-hours", methods=["POST"])
@login_required
def record_hours(user_id: int):
    person = _person(user_id)
    require(can_record_hours(current_user, person))
    form = ExternalHoursForm()
    if form.validate_on_submit():
        try:
            hours.record_external_hours(current_user, person, title=form.title.data, hours_tenths=form.hours_tenths,
                                        earned_on=form.earned_on.data)
        except DomainError as exc:
            db.session.rollback()
            field = getattr(form, exc.field or "title", None) or form.title
            field.errors = list(field.errors) + [str(exc.message)]
            return _page(person, form), 400
        db.session.commit()
        flash(_("The hours were recorded."), "success")
        return redirect(url_for("communities.user_hours", user_id=person.id))
    flash(_("The hours were not recorded; please correct the form."), "error")
    return _page(person, form), 400


@bp.route("/training-records/<id:record_id>/delete", methods=["POST"])
@login_required
def delete_training_record(record_id: int):
    record = db.get_or_404(TrainingRecord, record_id)
    person = _person(record.user_id)
    require(can_record_hours(current_user, person))
    try:
        hours.delete_external_record(current_user, record, person)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return _page(person), exc.status
    db.session.commit()
    flash(_("The record was removed."), "success")
    return redirect(url_for("communities.user_hours", user_id=person.id))
