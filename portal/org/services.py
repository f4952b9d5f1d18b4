"""Organisation operations: schools, classrooms, terms, bell schedules. Never commit."""

from __future__ import annotations

import logging
import re
from datetime import date, time
from typing import NamedTuple

from sqlalchemy import bindparam, select

from ..core import cache
from ..core.errors import Conflict, Invalid
from ..core.i18n import lazy_gettext as _l
from ..core.models import plain_rows
from ..core.sanitize import clean_text
from ..core.timeutil import local_today
from ..extensions import db
from .models import SCHOOL_KINDS, SEMESTERS, STAGES, BellPeriod, BellSchedule, Classroom, County, School, Term

log = logging.getLogger("portal.audit")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


def get_or_create_county(name: str) -> County:
    name = clean_text(name, max_length=60)
    if not name:
        raise Invalid(_l("Please name the county."), field="county")
    county = db.session.execute(select(County).where(County.name == name)).scalar_one_or_none()
    if county is None:
        county = County(name=name)
        db.session.add(county)
        db.session.flush()
    return county


def _check_school_fields(name: str, kind: str, stage: str, student_count: int) -> str:
    name = clean_text(name, max_length=80)
    if not name:
        raise Invalid(_l("Please enter the school's name."), field="name")
    if kind not in SCHOOL_KINDS:
        raise Invalid(_l("Unknown kind of school."), field="kind")
    if stage not in STAGES:
        raise Invalid(_l("Unknown school stage."), field="stage")
    if not 0 <= student_count <= 100_000:
        raise Invalid(_l("The number of students must be from 0 to 100000."), field="student_count")
    return name


def save_school(
    actor,
    school: School | None,
    *,
    name: str,
    kind: str,
    stage: str,
    county: County,
    is_weak: bool = False,
    student_count: int = 0,
    address: str = "",
) -> School:
    name = _check_school_fields(name, kind, stage, student_count)
    clash = db.session.execute(
        select(School.id).where(School.county_id == county.id, School.name == name)
    ).scalar_one_or_none()
    if clash is not None and (school is None or clash != school.id):
        raise Conflict(_l("A school named %(name)s already exists in this county.", name=name), field="name")
    if school is None:
        school = School()
        db.session.add(school)
    school.name, school.kind, school.stage, school.county = name, kind, stage, county
    school.is_weak, school.student_count = is_weak, student_count
    school.address = clean_text(address, max_length=200)
    db.session.flush()
    log.info("school saved id=%s by=%s", school.id, getattr(actor, "id", "cli"))
    return school


def set_school_active(actor, school: School, active: bool) -> None:
    school.is_active = active
    log.info("school %s id=%s by=%s", "activated" if active else "deactivated", school.id, actor.id)


def save_classroom(
    actor, classroom: Classroom | None, *, school: School, grade: int, name: str, student_count: int = 0
) -> Classroom:
    name = clean_text(name, max_length=40)
    if not name:
        raise Invalid(_l("Please name the class."), field="name")
    if not 1 <= grade <= 12:
        raise Invalid(_l("The grade must be from 1 to 12."), field="grade")
    if not 0 <= student_count <= 200:
        raise Invalid(_l("A class has from 0 to 200 students."), field="student_count")
    clash = db.session.execute(
        select(Classroom.id).where(Classroom.school_id == school.id, Classroom.grade == grade, Classroom.name == name)
    ).scalar_one_or_none()
    if clash is not None and (classroom is None or clash != classroom.id):
        raise Conflict(_l("This school already has that class."), field="name")
    if classroom is None:
        classroom = Classroom(school=school)
        db.session.add(classroom)
    classroom.grade, classroom.name, classroom.student_count = grade, name, student_count
    db.session.flush()
    return classroom


def save_term(actor, term: Term | None, *, name: str, school_year: int, semester: str, start: date, end: date) -> Term:
    name = clean_text(name, max_length=60)
    if not name:
        raise Invalid(_l("Please name the term."), field="name")
    if semester not in SEMESTERS:
        raise Invalid(_l("Unknown semester."), field="semester")
    if not 2000 <= school_year <= 2100:
        raise Invalid(_l("The school year must be from 2000 to 2100."), field="school_year")
    if start >= end:
        raise Invalid(_l("The term must end after it starts."), field="end_date")
    if (end - start).days > 200:
        raise Invalid(_l("A term lasts at most 200 days."), field="end_date")
    overlapping = db.session.execute(
        select(Term.id).where(Term.start_date <= end, Term.end_date >= start)
    ).scalars().all()
    if any(term is None or other != term.id for other in overlapping):
        raise Conflict(_l("These dates overlap another term."), field="start_date")
    same = db.session.execute(
        select(Term.id).where(Term.school_year == school_year, Term.semester == semester)
    ).scalar_one_or_none()
    if same is not None and (term is None or same != term.id):
        raise Conflict(_l("This semester of that school year already exists."), field="semester")
    if term is None:
        term = Term()
        db.session.add(term)
    term.name, term.school_year, term.semester, term.start_date, term.end_date = name, school_year, semester, start, end
    db.session.flush()
    return term


# Built once, bound per call: several pages (homes, timetables, figures) ask on every visit.
_RUNNING_TERM = select(Term).where(Term.start_date <= bindparam("today"), Term.end_date >= bindparam("today"))
_NEXT_TERM = select(Term).where(Term.start_date > bindparam("today")).order_by(Term.start_date).limit(1)
_LATEST_TERM = select(Term).order_by(Term.end_date.desc()).limit(1)


class TermRow(NamedTuple):
    """A term's plain values, for the pages that only show or compare them (the home page asks on
    every visit; a Term object costs several times as much to load)."""

    id: int
    name: str
    start_date: date
    end_date: date


_TERM_COLUMNS = (Term.id, Term.name, Term.start_date, Term.end_date)
_RUNNING_TERM_ROW = select(*_TERM_COLUMNS).where(Term.start_date <= bindparam("today"),
                                                 Term.end_date >= bindparam("today"))
_NEXT_TERM_ROW = select(*_TERM_COLUMNS).where(Term.start_date > bindparam("today")).order_by(Term.start_date).limit(1)
_LATEST_TERM_ROW = select(*_TERM_COLUMNS).order_by(Term.end_date.desc()).limit(1)


def current_term_row(today: date | None = None) -> TermRow | None:
    """``current_term`` as plain values, kept per day until a term changes (core/cache.kept,
    TIMETABLES): asked by the homes of principals and researchers and the term pages."""
    today = today or local_today()

    def compute() -> TermRow | None:
        values = {"today": today}
        row = plain_rows(_RUNNING_TERM_ROW, values).one_or_none()
        if row is None:
            row = plain_rows(_NEXT_TERM_ROW, values).one_or_none()
        if row is None:
            row = plain_rows(_LATEST_TERM_ROW, {}).one_or_none()
        return TermRow(*row) if row is not None else None

    return cache.kept(("current-term", today), compute)


def current_term(today: date | None = None) -> Term | None:
    """The term running today; between terms, the next one (or else the latest past one)."""
    values = {"today": today or local_today()}
    running = db.session.execute(_RUNNING_TERM, values).scalar_one_or_none()
    if running is not None:
        return running
    upcoming = db.session.execute(_NEXT_TERM, values).scalar_one_or_none()
    if upcoming is not None:
        return upcoming
    return db.session.execute(_LATEST_TERM).scalar_one_or_none()


def parse_periods(rows: list[tuple[str, str, str]]) -> list[tuple[int, time, time]]:
    """Rows of (number, start, end) as typed; blank rows are skipped. Checks order and overlaps."""
    periods = []
    for number, start, end in rows:
        if not (number or start or end):
            continue
        try:
            n = int(number)
            t0, t1 = time.fromisoformat(start), time.fromisoformat(end)
        except (TypeError, ValueError):
            raise Invalid(_l("Each period needs a number and times like 08:00.")) from None
        if not 1 <= n <= 20:
            raise Invalid(_l("Period numbers run from 1 to 20."))
        if t0 >= t1:
            raise Invalid(_l("Period %(n)d must end after it starts.", n=n))
        periods.append((n, t0, t1))
    periods.sort()
    numbers = [p[0] for p in periods]
    if len(set(numbers)) != len(numbers):
        raise Invalid(_l("Each period number may appear only once."))
    for (n0, _s0, e0), (n1, s1, _e1) in zip(periods, periods[1:]):
        if s1 < e0:
            raise Invalid(_l("Periods %(a)d and %(b)d overlap.", a=n0, b=n1))
    if not periods:
        raise Invalid(_l("Enter at least one period."))
    return periods


def save_bell_schedule(
    actor,
    schedule: BellSchedule | None,
    *,
    school: School,
    name: str,
    from_month_day: str | None,
    to_month_day: str | None,
    periods: list[tuple[int, time, time]],
) -> BellSchedule:
    name = clean_text(name, max_length=40)
    if not name:
        raise Invalid(_l("Please name the bell schedule, for example 夏季作息."), field="name")
    bounds = [b or None for b in (from_month_day, to_month_day)]
    if (bounds[0] is None) != (bounds[1] is None) or any(b and not MONTH_DAY.match(b) for b in bounds):
        raise Invalid(_l("Give both dates of the yearly range as MM-DD, or neither."), field="from_month_day")
    if schedule is None:
        schedule = BellSchedule(school=school)
        db.session.add(schedule)
    schedule.name, schedule.from_month_day, schedule.to_month_day = name, bounds[0], bounds[1]
    schedule.periods.clear()
    db.session.flush()
    for n, t0, t1 in periods:
        schedule.periods.append(BellPeriod(number=n, start_time=t0, end_time=t1))
    db.session.flush()
    log.info("bell schedule saved school=%s by=%s", school.id, actor.id)
    return schedule


def schedule_for(school: School, day: date) -> BellSchedule | None:
    """The bell schedule in force at a school on a day: a seasonal one if it applies, else the default."""
    schedules = db.session.execute(
        select(BellSchedule).where(BellSchedule.school_id == school.id).order_by(BellSchedule.id)
    ).scalars().all()
    seasonal = [s for s in schedules if s.from_month_day and s.applies_on(day)]
    if seasonal:
        return seasonal[0]
    return next((s for s in schedules if not s.from_month_day), None)
