"""The bureau's rubric templates: the list, a version, and editing (which saves a new version;
records keep the version they were scored with)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.authz import BUREAU, ROLES, require, require_roles
from ..core.errors import DomainError
from ..core.i18n import gettext as _
from ..core.locking import StaleEdit
from ..core.sqlite import writes_on_get
from ..extensions import db
from .forms import RubricForm
from .models import RubricTemplate
from .rubrics import can_edit_rubrics, ensure_default_template, parse_levels, save_template_version
from .views import bp


@bp.route("/observations/rubrics")
@writes_on_get  # the default rubric on its first use
@require_roles(*ROLES)
def rubrics():
    ensure_default_template()
    db.session.commit()  # the default rubric, when this is its first use
    versions = db.session.execute(
        select(RubricTemplate).options(joinedload(RubricTemplate.created_by))
        .order_by(RubricTemplate.family, RubricTemplate.version.desc())
    ).scalars().all()
    return render_template("observations/rubrics.html", versions=versions, can_edit=can_edit_rubrics(current_user))


@bp.route("/observations/rubrics/<id:template_id>")
@require_roles(*ROLES)
def rubric(template_id: int):
    template = db.session.get(RubricTemplate, template_id)
    if template is None:
        abort(404)
    return render_template("observations/rubric.html", template=template, can_edit=can_edit_rubrics(current_user))


BLANK_ROWS = 2


def _dimension_rows(template: RubricTemplate) -> list[dict]:
    if request.method == "POST":
        rows = []
        for i in range(int(request.form.get("rows", "0") or 0) if (request.form.get("rows") or "").isdigit() else 0):
            if i >= 40:
                break
            rows.append({k: request.form.get(f"d{i}-{k}", "") for k in
                         ("code", "label", "weight", "min", "max", "levels", "description")})
        return rows
    rows = [{"code": d["code"], "label": d["label"], "weight": str(d["weight"]), "min": str(d["min"]),
             "max": str(d["max"]), "description": d.get("description", ""),
             "levels": "; ".join(f"{lv['score']}={lv['label']}" for lv in d.get("levels") or [])}
            for d in template.dimensions]
    return rows + [{"code": "", "label": "", "weight": "", "min": "1", "max": "5", "levels": "", "description": ""}
                   for _i in range(BLANK_ROWS)]


@bp.route("/observations/rubrics/<id:template_id>/edit", methods=["GET", "POST"])
@require_roles(BUREAU)
def edit_rubric(template_id: int):
    template = db.session.get(RubricTemplate, template_id)
    if template is None:
        abort(404)
    require(can_edit_rubrics(current_user))
    if not template.is_current and request.method == "GET":
        flash(_("This is an old version; edit the current one."), "info")
        current = db.session.execute(select(RubricTemplate).where(
            RubricTemplate.family == template.family, RubricTemplate.is_current.is_(True))).scalar_one()
        return redirect(url_for("observations.edit_rubric", template_id=current.id))
    form = RubricForm()
    rows = _dimension_rows(template)
    error, status = None, 400
    if request.method == "GET":
        form.name.data, form.description.data = template.name, template.description
    elif form.validate_on_submit():
        try:
            dimensions = []
            for row_number, row in enumerate(rows, start=1):
                if not (row["code"].strip() or row["label"].strip()):
                    continue  # an empty row (or a cleared one: the dimension is dropped)
                dimensions.append({**row, "levels": parse_levels(row["levels"], row_number)})
            version = save_template_version(current_user, template, name=form.name.data or "",
                                            description=form.description.data or "", dimensions=dimensions)
            db.session.commit()
            flash(_("Saved as version %(v)d; records keep the version they were scored with.", v=version.version),
                  "success")
            return redirect(url_for("observations.rubric", template_id=version.id))
        except DomainError as exc:
            db.session.rollback()
            # A version saved by someone else meanwhile: 409, with the rows as typed.
            error, status = str(exc.message), (409 if isinstance(exc, StaleEdit) else 400)
    else:
        error = _("The form has expired; please try again.")
    return render_template("observations/rubric_form.html", form=form, template=template, rows=rows,
                           error=error), (status if error else 200)
