"""API: schools, their classrooms, the current term."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from sqlalchemy import bindparam, func, select

from ..core.api import api, error_response, listing, login_required
from ..core.i18n import gettext as _
from ..core.pagination import page_of
from ..core.validate import query_choice
from ..extensions import db
from .models import SCHOOL_KINDS, Classroom, County, School
from .permissions import can_manage_school
from .services import current_term

_SCHOOLS = (
    select(School.id, School.name, School.kind, County.name.label("county_name"), School.county_id,
           School.stage, School.is_weak)
    .join(County, School.county_id == County.id)
    .where(School.is_active.is_(True))
    .order_by(School.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_SCHOOLS_OF_KIND = _SCHOOLS.where(School.kind == bindparam("kind"))
_SCHOOL_COUNT = (
    select(func.count()).select_from(School).join(County, School.county_id == County.id)
    .where(School.is_active.is_(True))
)
_SCHOOL_COUNT_OF_KIND = _SCHOOL_COUNT.where(School.kind == bindparam("kind"))


def school_json(row) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "county": row.county_name,
        "county_id": row.county_id,
        "stage": row.stage,
        "is_weak": row.is_weak,
    }


@api.route("/schools")
@login_required
def list_schools():
    kind = query_choice("kind", SCHOOL_KINDS)
    if kind:
        page = page_of(db.session, _SCHOOLS_OF_KIND, _SCHOOL_COUNT_OF_KIND, {"kind": kind})
    else:
        page = page_of(db.session, _SCHOOLS, _SCHOOL_COUNT, {})
    return jsonify(listing(page, school_json))


_CLASSROOMS = (
    select(Classroom.id, Classroom.name, Classroom.grade, Classroom.student_count)
    .where(Classroom.school_id == bindparam("school_id"), Classroom.is_active.is_(True))
    .order_by(Classroom.grade, Classroom.name)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_CLASSROOM_COUNT = select(func.count()).select_from(Classroom).where(
    Classroom.school_id == bindparam("school_id"), Classroom.is_active.is_(True)
)


@api.route("/schools/<id:school_id>/classrooms")
@login_required
def list_classrooms(school_id: int):
    school = db.session.get(School, school_id)
    # As on the school's page: a deactivated school is gone for everyone but its managers.
    if school is None or (not school.is_active and not can_manage_school(current_user, school)):
        return error_response(404, "not_found", _("There is no school with this id."))
    return jsonify(
        listing(
            page_of(db.session, _CLASSROOMS, _CLASSROOM_COUNT, {"school_id": school_id}, default_per_page=100),
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
