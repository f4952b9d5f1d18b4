"""API: schools, their classrooms, the current term."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select

from ..core.api import api, error_response, listing, login_required
from ..core.i18n import gettext as _
from ..core.pagination import paginate
from ..core.validate import query_choice
from ..extensions import db
from .models import SCHOOL_KINDS, Classroom, County, School
from .permissions import can_manage_school
from .services import current_term


def school_json(row) -> dict:
    school, county_name = row
    return {
        "id": school.id,
        "name": school.name,
        "kind": school.kind,
        "county": county_name,
        "county_id": school.county_id,
        "stage": school.stage,
        "is_weak": school.is_weak,
    }


@api.route("/schools")
@login_required
def list_schools():
    stmt = (
        select(School, County.name)
        .join(County, School.county_id == County.id)
        .where(School.is_active.is_(True))
        .order_by(School.id)
    )
    kind = query_choice("kind", SCHOOL_KINDS)
    if kind:
        stmt = stmt.where(School.kind == kind)
    return jsonify(listing(paginate(db.session, stmt, scalars=False), school_json))


@api.route("/schools/<id:school_id>/classrooms")
@login_required
def list_classrooms(school_id: int):
    school = db.session.get(School, school_id)
    # As on the school's page: a deactivated school is gone for everyone but its managers.
    if school is None or (not school.is_active and not can_manage_school(current_user, school)):
        return error_response(404, "not_found", _("There is no school with this id."))
    stmt = (
        select(Classroom)
        .where(Classroom.school_id == school_id, Classroom.is_active.is_(True))
        .order_by(Classroom.grade, Classroom.name)
    )
    return jsonify(
        listing(
            paginate(db.session, stmt, default_per_page=100),
            lambda c: {"id": c.id, "name": c.name, "grade": c.grade, "student_count": c.student_count},
        )
    )


@api.route("/terms/current")
@login_required
def get_current_term():
    term = current_term()
    if term is None:
        return error_response(404, "not_found", _("No term has been set up yet."))
    return jsonify(
        {
            "id": term.id,
            "name": term.name,
            "school_year": term.school_year,
            "semester": term.semester,
            "start_date": term.start_date.isoformat(),
            "end_date": term.end_date.isoformat(),
        }
    )
