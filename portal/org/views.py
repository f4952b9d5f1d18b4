"""Pages: schools and their classrooms, terms, bell schedules (roster import: roster_views)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import bindparam, func, select

from ..core.authz import BUREAU, require, require_roles
from ..core.errors import DomainError, Invalid
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.labels import GRADE_LABELS, SCHOOL_KIND_LABELS, STAGE_LABELS, translated
from ..core.pagination import page_of
from ..core.sanitize import LIKE_ESCAPE, like_text, strip_controls
from ..extensions import db
from ..resources.permissions import can_view_school_flows
from ..scheduling.timetable import can_view_school_week
from . import services
from .forms import BellScheduleForm, ClassroomForm, SchoolFilterForm, SchoolForm, TermForm
from .models import BellPeriod, BellSchedule, Classroom, County, School, Term
from .permissions import can_edit_bell_schedule, can_manage_school, can_manage_terms

bp = Blueprint("org", __name__)


# --- schools ---------------------------------------------------------------------------------


_SCHOOL_ORDER = (School.is_active.desc(), County.name, School.kind, School.name)


@cache
def _schools_statements(scoped: bool, active_only: bool, named: bool, of_kind: bool):
    """The list's page and count statements for one combination of filters, built once (building
    a statement and its cache key cost more than running it); values come in as bind parameters.
    The columns the list shows, as rows."""
    where = []
    if active_only:
        where.append(School.is_active.is_(True))
    if scoped:
        where.append(School.county_id == bindparam("county_id"))
    if named:
        where.append(School.name.contains(bindparam("q"), escape=LIKE_ESCAPE))
    if of_kind:
        where.append(School.kind == bindparam("kind"))
    stmt = (
        select(School.id, School.name, School.kind, School.stage, School.is_weak, School.is_active,
               School.student_count, County.name.label("county_name"))
        .join(County, School.county_id == County.id)
        .where(*where)
        .order_by(*_SCHOOL_ORDER)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    count = select(func.count()).select_from(School).join(County, School.county_id == County.id).where(*where)
    return stmt, count


# The page's schools' classrooms counted for those schools only: a join to the count of every
# school's classrooms made the city's list (2,000 schools) group 20,000 classrooms twice.
_CLASS_COUNTS = (
    select(Classroom.school_id, func.count())
    .where(Classroom.school_id.in_(bindparam("ids", expanding=True)), Classroom.is_active.is_(True))
    .group_by(Classroom.school_id)
)


@bp.route("/schools")
@login_required
def schools():
    form = SchoolFilterForm(request.args)
    params = {}
    active_only = current_user.role != BUREAU
    scoped = not active_only and current_user.county_id is not None
    if scoped:
        params["county_id"] = current_user.county_id
    query = strip_controls(form.q.data or "").strip()  # NUL would be a 500 on PostgreSQL
    if query:
        params["q"] = like_text(query)
    of_kind = form.kind.data in SCHOOL_KIND_LABELS
    if of_kind:
        params["kind"] = form.kind.data
    stmt, count = _schools_statements(scoped, active_only, bool(query), of_kind)
    page = page_of(db.session, stmt, count, params)
    ids = [row.id for row in page.items]
    counts = dict(db.session.execute(_CLASS_COUNTS, {"ids": ids}).all()) if ids else {}
    return render_template("org/schools.html", page=page, form=form, counts=counts,
                           kind_labels=translated(SCHOOL_KIND_LABELS),
                           stage_labels=translated(STAGE_LABELS))


_SCHOOL_PAGE = (
    select(School.id, School.name, School.kind, School.stage, School.county_id, School.is_weak,
           School.student_count, School.address, School.is_active, County.name.label("county_name"))
    .join(County, School.county_id == County.id)
    .where(School.id == bindparam("school_id"))
)
_SCHOOL_CLASSROOMS = (
    select(Classroom.id, Classroom.grade, Classroom.name, Classroom.student_count, Classroom.is_active)
    .where(Classroom.school_id == bindparam("school_id"))
    .order_by(Classroom.grade, Classroom.name)
)
# A school's few bell schedules with their periods in one statement (a schedule without periods
# comes once, with empty period columns).
_SCHOOL_BELLS = (
    select(BellSchedule.id, BellSchedule.name, BellSchedule.from_month_day, BellSchedule.to_month_day,
           BellPeriod.id.label("period_id"), BellPeriod.number, BellPeriod.start_time, BellPeriod.end_time)
    .outerjoin(BellPeriod, BellPeriod.schedule_id == BellSchedule.id)
    .where(BellSchedule.school_id == bindparam("school_id"))
    .order_by(BellSchedule.id, BellPeriod.number)
)


@dataclass
class _Schedule:
    id: int
    name: str
    from_month_day: str | None
    to_month_day: str | None
    periods: list = field(default_factory=list)


@bp.route("/schools/<id:school_id>")
@login_required
def school(school_id: int):
    school = db.session.execute(_SCHOOL_PAGE, {"school_id": school_id}).first()
    if school is None or (not school.is_active and not can_manage_school(current_user, school)):
        abort(404)
    classrooms = db.session.execute(_SCHOOL_CLASSROOMS, {"school_id": school_id}).all()
    schedules: dict[int, _Schedule] = {}
    for row in db.session.execute(_SCHOOL_BELLS, {"school_id": school_id}):
        schedule = schedules.get(row.id)
        if schedule is None:
            schedule = schedules[row.id] = _Schedule(row.id, row.name, row.from_month_day, row.to_month_day)
        if row.period_id is not None:
            schedule.periods.append(row)
    return render_template(
        "org/school.html",
        school=school,
        classrooms=classrooms,
        schedules=list(schedules.values()),
        classroom_form=ClassroomForm(),
        grade_labels={grade: str(GRADE_LABELS.get(grade, grade)) for grade in {c.grade for c in classrooms}},
        can_manage=can_manage_school(current_user, school),
        can_edit_bells=can_edit_bell_schedule(current_user, school),
        can_view_resources=can_view_school_flows(current_user, school),
        can_view_timetable=can_view_school_week(current_user, school),
    )


def _save_school_from_form(form: SchoolForm, school: School | None) -> School | None:
    try:
        county = services.get_or_create_county(form.county.data)
        if current_user.county_id is not None and county.id != current_user.county_id:
            raise Invalid(_("You can only manage schools of your own county."), field="county")
        return services.save_school(
            current_user,
            school,
            name=form.name.data,
            kind=form.kind.data,
            stage=form.stage.data,
            county=county,
            is_weak=form.is_weak.data,
            student_count=form.student_count.data or 0,
            address=form.address.data or "",
        )
    except DomainError as exc:
        db.session.rollback()
        form_error(form, exc, "name")
        return None


@bp.route("/admin/schools/new", methods=["GET", "POST"])
@require_roles(BUREAU)
def new_school():
    form = SchoolForm()
    if request.method == "GET" and current_user.county is not None:
        form.county.data = current_user.county.name
    if form.validate_on_submit():
        school = _save_school_from_form(form, None)
        if school is not None:
            db.session.commit()
            flash(_("School %(name)s created.", name=school.name), "success")
            return redirect(url_for("org.school", school_id=school.id))
    return render_template("org/school_form.html", form=form, school=None), 400 if form.errors else 200


@bp.route("/admin/schools/<id:school_id>", methods=["GET", "POST"])
@require_roles(BUREAU)
def edit_school(school_id: int):
    school = db.get_or_404(School, school_id)
    require(can_manage_school(current_user, school), hide=True)
    form = SchoolForm(obj=school)
    if request.method == "GET" or "county" not in request.form:
        # obj= fills the field with the County itself, which no validator can measure
        form.county.data = school.county.name
    if form.validate_on_submit():
        if _save_school_from_form(form, school) is not None:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("org.school", school_id=school.id))
    return render_template("org/school_form.html", form=form, school=school), 400 if form.errors else 200


@bp.route("/admin/schools/<id:school_id>/active", methods=["POST"])
@require_roles(BUREAU)
def set_school_active(school_id: int):
    school = db.get_or_404(School, school_id)
    require(can_manage_school(current_user, school), hide=True)
    services.set_school_active(current_user, school, request.form.get("active") == "1")
    db.session.commit()
    flash(_("The school was reactivated.") if school.is_active else _("The school was deactivated."), "success")
    return redirect(url_for("org.school", school_id=school.id))


# --- classrooms -----------------------------------------------------------------------------


@bp.route("/admin/schools/<id:school_id>/classrooms", methods=["POST"])
@require_roles(BUREAU)
def add_classroom(school_id: int):
    school = db.get_or_404(School, school_id)
    require(can_manage_school(current_user, school), hide=True)
    form = ClassroomForm()
    if form.validate_on_submit():
        try:
            services.save_classroom(
                current_user, None, school=school, grade=form.grade.data, name=form.name.data,
                student_count=form.student_count.data or 0,
            )
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(_("Class added."), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    return redirect(url_for("org.school", school_id=school.id) + "#classrooms")


@bp.route("/admin/classrooms/<id:classroom_id>", methods=["GET", "POST"])
@require_roles(BUREAU)
def edit_classroom(classroom_id: int):
    classroom = db.get_or_404(Classroom, classroom_id)
    require(can_manage_school(current_user, classroom.school), hide=True)
    form = ClassroomForm(obj=classroom)
    if form.validate_on_submit():
        try:
            services.save_classroom(
                current_user, classroom, school=classroom.school, grade=form.grade.data,
                name=form.name.data, student_count=form.student_count.data or 0,
            )
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "name")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("org.school", school_id=classroom.school_id) + "#classrooms")
    return render_template("org/classroom_form.html", form=form, classroom=classroom), 400 if form.errors else 200


@bp.route("/admin/classrooms/<id:classroom_id>/active", methods=["POST"])
@require_roles(BUREAU)
def set_classroom_active(classroom_id: int):
    classroom = db.get_or_404(Classroom, classroom_id)
    require(can_manage_school(current_user, classroom.school), hide=True)
    classroom.is_active = request.form.get("active") == "1"
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("org.school", school_id=classroom.school_id) + "#classrooms")


# --- terms ----------------------------------------------------------------------------------


@bp.route("/terms")
@login_required
def terms():
    rows = db.session.execute(select(Term).order_by(Term.start_date.desc()).limit(40)).scalars().all()
    return render_template(
        "org/terms.html", terms=rows, current=services.current_term(), can_manage=can_manage_terms(current_user)
    )


@bp.route("/admin/terms/new", methods=["GET", "POST"], defaults={"term_id": None})
@bp.route("/admin/terms/<id:term_id>", methods=["GET", "POST"])
@require_roles(BUREAU)
def edit_term(term_id: int | None):
    term = db.get_or_404(Term, term_id) if term_id else None
    form = TermForm(obj=term)
    if form.validate_on_submit():
        try:
            services.save_term(
                current_user, term, name=form.name.data, school_year=form.school_year.data,
                semester=form.semester.data, start=form.start_date.data, end=form.end_date.data,
            )
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "name")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("org.terms"))
    return render_template("org/term_form.html", form=form, term=term), 400 if form.errors else 200


# --- bell schedules --------------------------------------------------------------------------


@bp.route("/schools/<id:school_id>/bells/new", methods=["GET", "POST"], defaults={"schedule_id": None})
@bp.route("/schools/<id:school_id>/bells/<id:schedule_id>", methods=["GET", "POST"])
@login_required
def edit_bell_schedule(school_id: int, schedule_id: int | None):
    school = db.get_or_404(School, school_id)
    require(can_edit_bell_schedule(current_user, school))
    schedule = None
    if schedule_id is not None:
        schedule = db.get_or_404(BellSchedule, schedule_id)
        if schedule.school_id != school.id:
            abort(404)
    form = BellScheduleForm(obj=schedule)
    if request.method == "GET" and schedule is not None:
        for row, period in zip(form.periods, schedule.periods, strict=False):  # 10+ rows, fewer periods
            row.number.data = str(period.number)
            row.start.data = period.start_time.strftime("%H:%M")
            row.end.data = period.end_time.strftime("%H:%M")
    if form.validate_on_submit():
        try:
            periods = services.parse_periods([(r.number.data, r.start.data, r.end.data) for r in form.periods])
            services.save_bell_schedule(
                current_user, schedule, school=school, name=form.name.data,
                from_month_day=form.from_month_day.data, to_month_day=form.to_month_day.data, periods=periods,
            )
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "name")
        else:
            db.session.commit()
            flash(_("Bell schedule saved."), "success")
            return redirect(url_for("org.school", school_id=school.id) + "#bells")
    return render_template("org/bell_form.html", form=form, school=school, schedule=schedule), 400 if form.errors else 200


@bp.route("/schools/<id:school_id>/bells/<id:schedule_id>/delete", methods=["POST"])
@login_required
def delete_bell_schedule(school_id: int, schedule_id: int):
    school = db.get_or_404(School, school_id)
    require(can_edit_bell_schedule(current_user, school))
    schedule = db.get_or_404(BellSchedule, schedule_id)
    if schedule.school_id != school.id:
        abort(404)
    db.session.delete(schedule)
    db.session.commit()
    flash(_("Bell schedule deleted."), "success")
    return redirect(url_for("org.school", school_id=school.id) + "#bells")


from . import roster_views  # noqa: E402,F401  (adds the roster import routes to bp)
