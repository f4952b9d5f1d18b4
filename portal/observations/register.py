"""The register of lesson observations (听课记录台账) as a bureau prints it: one row per final
record, a title row, bold headings repeated on every printed page, set column widths, landscape
A4 fitted to the page width. Rows are the final records the viewer may read anyway
(``permissions.visible_observations``), of one school year, optionally of one observer, county
or observed school. Written in streaming (write-only) mode: a city-wide register stays light."""

from __future__ import annotations

import io
from datetime import date

from flask import request, send_file
from flask_login import current_user, login_required
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..core.authz import require
from ..core.errors import Invalid, NotAllowed, NotFound
from ..core.exports import XLSX_MIMETYPE, cell_text, print_setup
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import (
    GRADE_LABELS,
    OBSERVATION_GRADE_LABELS,
    OBSERVATION_KIND_LABELS,
    ROLE_LABELS,
    SUBJECT_LABELS,
    label,
)
from ..core.timeutil import local_today, school_year_of
from ..core.validate import BadRequest, query_int
from ..extensions import db
from ..org.models import Classroom, County, School
from .models import Observation
from .permissions import visible_observations
from .quota_permissions import can_export_register, can_view_progress
from .views import bp

YEARS_BACK = 4
# A register is printed per county or school; a city's whole year (~100,000 rows) is no document
# anyone prints and would take a minute to write, so it is refused with a request to narrow it.
MAX_ROWS = 10_000
# (heading, width): the columns a bureau's 听课记录台账 has.
COLUMNS = [
    (_l("No."), 6), (_l("Date"), 12), (_l("Observer"), 10), (_l("Position"), 10), (_l("School"), 22),
    (_l("Teacher"), 10), (_l("Subject"), 8), (_l("Grade / class"), 12), (_l("Topic"), 22),
    (_l("Kind of lesson"), 12), (_l("Periods"), 6), (_l("Overall grade"), 8), (_l("Main strengths"), 36),
    (_l("Problems"), 36), (_l("Suggestions"), 36),
]
WRAPPED = {"wrap": Alignment(wrap_text=True, vertical="top")}


def register_statement(viewer, school_year: int, *, observer_id: int | None = None, county_id: int | None = None,
                       school_id: int | None = None):
    """Rows for the register: final records the viewer may read, in date order. One query."""
    observer, teacher = aliased(User), aliased(User)
    stmt = (
        select(Observation.id, Observation.observed_on, observer.name, observer.role, School.name, teacher.name,
               Observation.subject, Classroom.grade, Classroom.name, Observation.topic, Observation.kind,
               Observation.periods, Observation.grade, Observation.strengths, Observation.problems,
               Observation.suggestions)
        .join(observer, observer.id == Observation.observer_id)
        .join(teacher, teacher.id == Observation.observed_teacher_id)
        .join(School, School.id == Observation.school_id)
        .outerjoin(Classroom, Classroom.id == Observation.classroom_id)
        .where(Observation.status == "final", visible_observations(viewer),
               Observation.observed_on >= date(school_year, 9, 1),
               Observation.observed_on <= date(school_year + 1, 8, 31))
        .order_by(Observation.observed_on, Observation.id)
    )
    if observer_id is not None:
        stmt = stmt.where(Observation.observer_id == observer_id)
    if county_id is not None:
        stmt = stmt.where(School.county_id == county_id)
    if school_id is not None:
        stmt = stmt.where(Observation.school_id == school_id)
    return stmt


def _wrapped(sheet, value):
    item = WriteOnlyCell(sheet, value=cell_text(value))
    item.alignment = WRAPPED["wrap"]
    return item


def build_register(rows, title: str, subtitle: str) -> io.BytesIO:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(cell_text(_("Observation register"))[:31])
    for i, (_heading, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    last = get_column_letter(len(COLUMNS))
    sheet.merged_cells.add(f"A1:{last}1")
    sheet.merged_cells.add(f"A2:{last}2")
    heading = WriteOnlyCell(sheet, value=cell_text(title))
    heading.font, heading.alignment = Font(bold=True, size=16), Alignment(horizontal="center")
    sheet.append([heading])
    sub = WriteOnlyCell(sheet, value=cell_text(subtitle))
    sub.alignment = Alignment(horizontal="center")
    sheet.append([sub])
    headers = []
    for text, _width in COLUMNS:
        item = WriteOnlyCell(sheet, value=cell_text(text))
        item.font = Font(bold=True)
        item.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        headers.append(item)
    sheet.append(headers)
    print_setup(sheet, header_row=3)
    sheet.print_options.gridLines = True
    for n, (_id, day, observer, role, school, teacher, subject, grade, class_name, topic, kind, periods,
            evaluation, strengths, problems, suggestions) in enumerate(rows, start=1):
        klass = f"{label(GRADE_LABELS, grade)} {class_name}" if grade else ""
        sheet.append([
            n, day.isoformat(), cell_text(observer), cell_text(label(ROLE_LABELS, role)), cell_text(school),
            cell_text(teacher), cell_text(label(SUBJECT_LABELS, subject)), cell_text(klass), _wrapped(sheet, topic),
            cell_text(label(OBSERVATION_KIND_LABELS, kind)), periods,
            cell_text(label(OBSERVATION_GRADE_LABELS, evaluation) if evaluation else ""),
            _wrapped(sheet, strengths), _wrapped(sheet, problems), _wrapped(sheet, suggestions),
        ])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _school_year() -> int:
    current = school_year_of(local_today())
    raw = request.args.get("year")
    if raw in (None, ""):
        return current
    if not (raw.isascii() and raw.isdigit()) or not current - YEARS_BACK <= int(raw) <= current:
        raise BadRequest(_l("Choose a school year from %(low)d to %(high)d.", low=current - YEARS_BACK, high=current),
                         field="year")
    return int(raw)


@bp.route("/observations/register.xlsx", endpoint="register_export")
@login_required
def register_export():
    """?year= (school year), ?observer_id=, ?county=, ?school= (the school observed)."""
    require(can_export_register(current_user))
    year = _school_year()
    observer_id, county_id, school_id = query_int("observer_id"), query_int("county"), query_int("school")
    parts = []
    if observer_id is not None:
        observer = db.session.get(User, observer_id)
        # Someone whose progress one may not see is not named in one's register (nor told to exist).
        if observer is None or not can_view_progress(current_user, observer):
            raise NotFound(_l("There is no account with this id."), field="observer_id")
        parts.append(observer.name)
    if county_id is not None:
        if current_user.county_id is not None and county_id != current_user.county_id:
            raise NotAllowed(_l("You can only see your own county."), field="county")
        county = db.session.get(County, county_id)
        if county is None:
            raise NotFound(_l("There is no county with this id."), field="county")
        parts.append(county.name)
    if school_id is not None:
        school = db.session.get(School, school_id)
        if school is None:
            raise NotFound(_l("There is no school with this id."), field="school")
        parts.append(school.name)
    stmt = register_statement(current_user, year, observer_id=observer_id, county_id=county_id, school_id=school_id)
    count = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    if count > MAX_ROWS:
        raise Invalid(_l("The register holds %(n)d records, more than %(max)d: choose a county, a school or a "
                         "person.", n=count, max=MAX_ROWS), field="county")
    rows = db.session.execute(stmt.execution_options(yield_per=2000))
    subtitle = " · ".join([*parts, _("%(start)d–%(end)d school year", start=year, end=year + 1),
                           _("Exported %(day)s", day=local_today().isoformat())])
    buffer = build_register(rows, _("Register of lesson observations"), subtitle)
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"observation-register-{year}.xlsx")
