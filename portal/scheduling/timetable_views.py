"""Pages: week timetables of a teacher, a classroom and a school with each school's own period
numbers, and a school's term overview of planned and delivered periods (with its Excel export)."""

from __future__ import annotations

import io
from datetime import date

from flask import abort, render_template, request, send_file
from flask_babel import get_locale
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import select

from ..accounts.models import User
from ..core import cache
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, require, require_roles
from ..core.errors import NotFound
from ..core.exports import XLSX_MIMETYPE, cell_text, header_row
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SUBJECT_LABELS, label
from ..core.models import utcnow
from ..core.templating import nav_item
from ..core.timeutil import local_today
from ..core.validate import BadRequest, query_int
from ..extensions import db
from ..org.models import Classroom, School, Term
from ..org.services import current_term
from . import timetable
from .views import bp
from .week_page import week_grid, week_head

ALL_ROLES = (TEACHER, PRINCIPAL, RESEARCHER, BUREAU)

nav_item("scheduling.my_timetable", _l("My timetable"), (TEACHER, PRINCIPAL), after="org.terms")


def _monday():
    """The Monday of the week asked for (?week=any date of it), or of this week."""
    raw = request.args.get("week")
    if not raw:
        return timetable.monday_of(local_today())
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise BadRequest(_l("week must be a date like 2026-09-07."), field="week")
    return timetable.monday_of(day)


def _render(kind: str, subject, load_week, school, *, mine: bool = False):
    """The week page. Its heading and days are kept (``cache.kept``) per view, week, viewer, day
    and language until a record they show changes: a school's week reaches dozens of schools,
    classrooms and people, and is opened again and again while nothing in it changes."""
    user = current_user._get_current_object()
    monday = _monday()

    def build():
        week = load_week(monday)
        can_school = school is not None and timetable.can_view_school_week(user, school)
        head = week_head(kind, subject, week, school, mine=mine, can_school=can_school)
        return head, week_grid(user, week, school.id if school else None, head.words)

    # The viewer by what the links and the school's-week link depend on (role, school, county).
    key = ("week", request.endpoint, kind, subject.id, mine, monday, user.id, user.role, user.school_id, user.county_id,
           str(get_locale()), local_today(), request.script_root)
    head, grid = cache.kept(key, build)
    return render_template("scheduling/week.html", head=head, grid=grid)


@bp.route("/timetable")
@require_roles(TEACHER, PRINCIPAL)
def my_timetable():
    """One's own week: the classes one teaches or assists, with one's school's periods."""
    return _teacher_week(current_user, mine=True)


@bp.route("/timetable/teachers/<id:user_id>")
@require_roles(*ALL_ROLES)
def teacher_timetable(user_id: int):
    teacher = db.get_or_404(User, user_id)
    if teacher.role not in (TEACHER, PRINCIPAL):
        raise NotFound(_l("Only teachers and principals have a timetable."))
    require(timetable.can_view_teacher_week(current_user, teacher))
    return _teacher_week(teacher, mine=teacher.id == current_user.id)


def _teacher_week(teacher: User, *, mine: bool):
    school = timetable.week_school(teacher.school_id)
    return _render("teacher", teacher, lambda monday: timetable.week_of(
        timetable.TEACHER_CLASSES, monday, teacher.school_id, school.county_id if school else None,
        {"owner": teacher.id}), school, mine=mine)


@bp.route("/timetable/classrooms/<id:classroom_id>")
@require_roles(*ALL_ROLES)
def classroom_timetable(classroom_id: int):
    classroom = db.get_or_404(Classroom, classroom_id)
    require(timetable.can_view_classroom_week(current_user, classroom))
    return _render("classroom", classroom, lambda monday: timetable.week_of(
        timetable.CLASSROOM_CLASSES, monday, classroom.school_id, classroom.school.county_id,
        {"owner": classroom.id}), classroom.school)


@bp.route("/timetable/schools/<id:school_id>")
@require_roles(*ALL_ROLES)
def school_timetable(school_id: int):
    school = timetable.week_school(school_id)
    if school is None:
        abort(404)
    require(timetable.can_view_school_week(current_user, school))
    return _render("school", school, lambda monday: timetable.week_of(
        timetable.SCHOOL_CLASSES, monday, school.id, school.county_id, {"owner": school.id}), school)


def _term() -> Term:
    term_id = query_int("term")
    if term_id is not None:
        term = db.session.get(Term, term_id)
        if term is None:
            raise NotFound(_l("There is no term with this id."), field="term")
        return term
    term = current_term()
    if term is None:
        raise NotFound(_l("No term has been set up yet: the bureau adds the terms first."))
    return term


@bp.route("/timetable/schools/<id:school_id>/term")
@require_roles(*ALL_ROLES)
def term_overview(school_id: int):
    school = db.get_or_404(School, school_id)
    require(timetable.can_view_term_overview(current_user, school))
    term = _term()
    overview = timetable.term_overview(school.id, term, utcnow())
    terms = db.session.execute(select(Term).order_by(Term.start_date.desc()).limit(12)).scalars().all()
    totals = {role: timetable.totals(rows, role) for role, rows in overview.items()}
    return render_template("scheduling/overview.html", school=school, term=term, terms=terms, overview=overview,
                           totals=totals)


@bp.route("/timetable/schools/<id:school_id>/term.xlsx")
@require_roles(*ALL_ROLES)
def term_overview_export(school_id: int):
    school = db.get_or_404(School, school_id)
    require(timetable.can_view_term_overview(current_user, school))
    term = _term()
    overview = timetable.term_overview(school.id, term, utcnow())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Term overview"))
    sheet.append([cell_text(school.name), cell_text(term.name), term.start_date.isoformat(),
                  term.end_date.isoformat()])
    header_row(sheet, [_("As"), _("Subject"), _("Planned periods"), _("Delivered"), _("Cancelled"),
                       _("Not recorded"), _("Still to come"), _("Share delivered")])
    roles = {"main": _("Main school"), "receiving": _("Receiving school")}
    for role in ("main", "receiving"):
        for row in overview[role]:
            sheet.append([cell_text(roles[role]), cell_text(label(SUBJECT_LABELS, row.subject)), row.planned,
                          row.delivered, row.cancelled, row.missing, row.upcoming, row.percent])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"term-overview-{school.id}-{term.id}.xlsx")
