"""Roster import pages: bureau admins upload an .xlsx or .csv of schools, classes or accounts."""

from __future__ import annotations

import io
import logging

from flask import abort, render_template, send_file
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from ..core.authz import BUREAU, require_roles
from ..core.errors import DomainError
from ..core.exports import XLSX_MIMETYPE
from ..core.forms import SelectField
from ..core.i18n import lazy_gettext as _l
from ..extensions import db
from . import roster
from .views import bp

log = logging.getLogger("portal.audit")

KIND_CHOICES = [("schools", _l("Schools")), ("classrooms", _l("Classes")), ("users", _l("Users"))]
TEMPLATE_NAMES = {"schools": "学校导入模板.xlsx", "classrooms": "班级导入模板.xlsx", "users": "用户导入模板.xlsx"}


class RosterImportForm(FlaskForm):
    kind = SelectField(_l("What the file holds"), choices=KIND_CHOICES)
    file = FileField(
        _l("File (.xlsx or .csv, at most 5 MB)"),
        validators=[FileRequired(_l("Please choose a file."))],
        render_kw={"accept": ".xlsx,.csv"},
    )


def _render(form: RosterImportForm, status: int = 200, *, errors=None, result=None):
    return render_template(
        "org/roster_import.html",
        form=form,
        errors=errors or [],
        result=result,
        columns=roster.COLUMNS,
        kinds=KIND_CHOICES,
        max_rows=roster.MAX_ROWS,
    ), status


@bp.route("/admin/roster", methods=["GET", "POST"])
@require_roles(BUREAU)
def roster_import():
    form = RosterImportForm()
    if not form.validate_on_submit():
        return _render(form, 400 if form.errors else 200)
    upload = form.file.data
    # Read one byte past the limit: enough to tell "too large" without holding a huge body.
    data = upload.stream.read(roster.MAX_BYTES + 1)
    try:
        table = roster.read_table(upload.filename or "", data)
        result = roster.import_roster(current_user, form.kind.data, table)
    except roster.RosterInvalid as exc:
        db.session.rollback()
        log.info("roster import refused kind=%s problems=%d by=%s", form.kind.data, len(exc.errors), current_user.id)
        return _render(form, exc.status, errors=exc.errors)
    except DomainError as exc:
        db.session.rollback()
        form.file.errors = [str(exc.message)]
        return _render(form, exc.status)
    db.session.commit()
    return _render(RosterImportForm(formdata=None, kind=form.kind.data), result=result)


@bp.route("/admin/roster/template/<kind>")
@require_roles(BUREAU)
def roster_template(kind: str):
    if kind not in roster.KINDS:
        abort(404)
    return send_file(
        io.BytesIO(roster.template_workbook(kind)),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=TEMPLATE_NAMES[kind],
    )
