"""Week timetables (the "virtual timetable") and the term overview per school.

Every school keeps its own bell schedule, so one live session is period 3 at the urban main
school and period 4 at a village receiving school: each session is shown with the periods of the
school looking at it (and of every school it links). The week of sessions is one query for the
sessions with their classes, one for the receiving classrooms, one for the bell schedules of the
schools involved and one for their periods, and one for the calendar's special days, however
many sessions the week holds. Those queries select only the columns the page shows, as plain values
(a school's week reaches dozens of schools, classrooms and people: whole ORM rows cost more than
the rest of the page), and are built once and bound per request.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, case, func, literal, or_, select, union, union_all

from ..accounts.models import User
from ..core import cache
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, has_role
from ..core.i18n import gettext as _
from ..core.timeutil import portal_tz
from ..extensions import db
from ..org.models import Classroom, School, Term
from .bells import Schedule, periods_covering, schedule_on, schedules_of
from .models import CalendarDay, LiveClass, LiveSession, ReceivingClassroom, SessionAttendance

# --- who may see which timetable ------------------------------------------------------------


def _in_county(user, county_id: int | None) -> bool:
    return user.county_id is None or user.county_id == county_id


def can_view_teacher_week(user, teacher: User) -> bool:
    """Yourself; a principal their school's teachers; researchers and the bureau their county's."""
    if not has_role(user, TEACHER, PRINCIPAL, RESEARCHER, BUREAU):
        return False
    if teacher.id == user.id:
        return True
    if user.role == PRINCIPAL:
        return user.school_id is not None and teacher.school_id == user.school_id
    if user.role in (RESEARCHER, BUREAU):
        return teacher.school is not None and _in_county(user, teacher.school.county_id)
    return False


def can_view_classroom_week(user, classroom: Classroom) -> bool:
    """Teachers and principals the classrooms of their school; researchers and the bureau their county's."""
    if has_role(user, TEACHER, PRINCIPAL):
        return user.school_id is not None and classroom.school_id == user.school_id
    if has_role(user, RESEARCHER, BUREAU):
        return _in_county(user, classroom.school.county_id)
    return False


def can_view_school_week(user, school: School) -> bool:
    """The school's principal; researchers and the bureau of its county."""
    if has_role(user, PRINCIPAL):
        return user.school_id == school.id
    if has_role(user, RESEARCHER, BUREAU):
        return _in_county(user, school.county_id)
    return False


can_view_term_overview = can_view_school_week


# --- weeks in local time ------------------------------------------------------------------------


def monday_of(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """The week Monday 00:00 to the next Monday 00:00, local, as aware UTC instants."""
    tz = portal_tz()
    start = datetime.combine(monday, time(0, 0), tz).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0, 0), tz).astimezone(UTC)
    return start, end


# --- bell schedules ----------------------------------------------------------------------------


def period_numbers(schedule: Schedule | None, start: time, end: time) -> list[int] | None:
    """The period numbers a local start–end occupies at a school (the rule of the bell warnings:
    it starts inside a period and ends inside the same or a later one). None when the school has
    no bell schedule that day; [] when the session falls outside its periods."""
    if schedule is None or not schedule.periods:
        return None
    covering = periods_covering(schedule.periods, start, end)
    return [p.number for p in covering] if covering is not None else []


def period_label(numbers: list[int] | None) -> str:
    if numbers is None:
        return _("No bell schedule")
    if not numbers:
        return _("Outside periods")
    if len(numbers) == 1:
        return _("Period %(n)d", n=numbers[0])
    return _("Periods %(a)d–%(b)d", a=numbers[0], b=numbers[-1])


# --- the week ----------------------------------------------------------------------------------


# What a week page shows of a session, its class, classrooms, schools and people: plain values read
# by the same attribute names as the models (``e.live_class.main_classroom.school.name``), so the
# page and the predicates (``can_view_classroom_week``) read either. Tuples: a school's week makes
# a hundred of them.


class WeekSchool(NamedTuple):
    id: int
    name: str
    county_id: int | None


class WeekClassroom(NamedTuple):
    id: int
    name: str
    school_id: int
    school: WeekSchool


class WeekPerson(NamedTuple):
    id: int
    name: str


class WeekReceiving(NamedTuple):
    classroom_id: int
    classroom: WeekClassroom
    assistant_id: int
    assistant: WeekPerson


@dataclass(slots=True)
class WeekClass:
    id: int
    subject: str
    grade: int | None
    title: str
    main_teacher_id: int
    main_classroom_id: int
    main_teacher: WeekPerson
    main_classroom: WeekClassroom
    receiving: list[WeekReceiving] = field(default_factory=list)


class WeekSession(NamedTuple):
    id: int
    live_class_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    moved: bool
    note: str
    occurrence_date: date


@dataclass
class SchoolPeriods:
    school: School | WeekSchool
    role: str  # "main" or "receiving"
    periods: list[int] | None
    label: str = ""  # period_label(periods), given when known (a week repeats the same few)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = period_label(self.periods)


@dataclass
class Entry:
    session: WeekSession
    live_class: WeekClass
    start: datetime  # local
    end: datetime
    here: SchoolPeriods | None  # the viewed school's periods (None: the school is not in this class)
    schools: list[SchoolPeriods]  # the main school first, then the receiving schools

    @property
    def cancelled(self) -> bool:
        return self.session.status == "cancelled"

    @property
    def times(self) -> str:
        """Local "08:00–08:40" (strftime costs several times as much, twice for every session)."""
        start, end = self.start, self.end
        return f"{start.hour:02d}:{start.minute:02d}–{end.hour:02d}:{end.minute:02d}"


@dataclass
class Day:
    day: date
    entries: list[Entry] = field(default_factory=list)
    special: SpecialDay | None = None


@dataclass
class Week:
    monday: date
    days: list[Day]

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def count(self) -> int:
        return sum(len(d.entries) for d in self.days)


# The class ids of a person, a classroom or a school: the main side and the receiving side are two
# index lookups joined by UNION. (One WHERE with "a OR id IN (...)" made PostgreSQL read every class
# and walk the whole city's sessions in time order: 3 s for one teacher's calendar feed.)
def teacher_classes(user_id: int):
    return union(
        select(LiveClass.id).where(LiveClass.main_teacher_id == user_id),
        select(ReceivingClassroom.live_class_id).where(ReceivingClassroom.assistant_id == user_id),
    )


def classroom_classes(classroom_id: int):
    return union(
        select(LiveClass.id).where(LiveClass.main_classroom_id == classroom_id),
        select(ReceivingClassroom.live_class_id).where(ReceivingClassroom.classroom_id == classroom_id),
    )


def school_classes(school_id: int):
    rooms = select(Classroom.id).where(Classroom.school_id == school_id)
    return union(
        select(LiveClass.id).where(LiveClass.main_classroom_id.in_(rooms)),
        select(ReceivingClassroom.live_class_id).where(ReceivingClassroom.classroom_id.in_(rooms)),
    )


# The week's sessions with their class, main teacher and main classroom's school, and the receiving
# classrooms of those classes with their schools and assistants: columns, not entities (outer joins,
# as the eager loads they replace, so the plans stay the same).
def _sessions_of(class_ids):
    return (
        select(LiveSession.id, LiveSession.live_class_id, LiveSession.starts_at, LiveSession.ends_at,
               LiveSession.status, LiveSession.moved, LiveSession.note, LiveSession.occurrence_date,
               LiveClass.subject, LiveClass.grade, LiveClass.title, LiveClass.main_teacher_id,
               LiveClass.main_classroom_id, User.name, Classroom.name, Classroom.school_id, School.name,
               School.county_id)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .outerjoin(User, User.id == LiveClass.main_teacher_id)
        .outerjoin(Classroom, Classroom.id == LiveClass.main_classroom_id)
        .outerjoin(School, School.id == Classroom.school_id)
        .where(LiveSession.live_class_id.in_(class_ids), LiveSession.starts_at >= bindparam("start"),
               LiveSession.starts_at < bindparam("end"))
        .order_by(LiveSession.starts_at, LiveSession.id)
    )


# The class ids of a teacher, a classroom and a school, bound per request as ``owner``; the week
# pages' statements below are built from them once.
TEACHER_CLASSES = teacher_classes(bindparam("owner"))
CLASSROOM_CLASSES = classroom_classes(bindparam("owner"))
SCHOOL_CLASSES = school_classes(bindparam("owner"))
_SESSIONS_OF = {id(c): _sessions_of(c) for c in (TEACHER_CLASSES, CLASSROOM_CLASSES, SCHOOL_CLASSES)}

RECEIVING_OF = (
    select(ReceivingClassroom.live_class_id, ReceivingClassroom.classroom_id, ReceivingClassroom.assistant_id,
           Classroom.name, Classroom.school_id, School.name, School.county_id, User.name)
    .outerjoin(Classroom, Classroom.id == ReceivingClassroom.classroom_id)
    .outerjoin(School, School.id == Classroom.school_id)
    .outerjoin(User, User.id == ReceivingClassroom.assistant_id)
    .where(ReceivingClassroom.live_class_id.in_(bindparam("class_ids", expanding=True)))
    .order_by(ReceivingClassroom.id)
)


def week_of(class_ids, monday: date, school_id: int | None, county_id: int | None = None,
            params: dict | None = None) -> Week:
    """The sessions of these classes (a select of LiveClass.id: ``teacher_classes(id)``, or
    ``TEACHER_CLASSES`` … with ``params={"owner": id}``) in the local week from ``monday``, each
    with its periods at ``school_id`` and at every school of its class. Read as plain rows of the
    session's connection, as every reader of this module (no ORM result handling, and so no
    autoflush: these pages and panels write nothing before reading)."""
    start, end = week_bounds(monday)
    statement = _SESSIONS_OF.get(id(class_ids))
    if statement is None:
        statement = _sessions_of(class_ids)
    rows = db.session.connection().execute(statement, {**(params or {}), "start": start, "end": end}).all()
    schools: dict[int, WeekSchool] = {}
    rooms: dict[int, WeekClassroom] = {}
    people: dict[int, WeekPerson] = {}

    def room(room_id, name, sid, school_name, school_county_id) -> WeekClassroom:
        found = rooms.get(room_id)
        if found is None:
            school = schools.get(sid)
            if school is None:
                school = schools[sid] = WeekSchool(sid, school_name, school_county_id)
            found = rooms[room_id] = WeekClassroom(room_id, name, sid, school)
        return found

    def person(user_id, name) -> WeekPerson:
        found = people.get(user_id)
        if found is None:
            found = people[user_id] = WeekPerson(user_id, name)
        return found

    classes: dict[int, WeekClass] = {}
    sessions = []
    for (sid, class_id, starts_at, ends_at, status, moved, note, occurrence_date, subject, grade, title,
         teacher_id, room_id, teacher_name, room_name, room_school_id, school_name, school_county_id) in rows:
        live_class = classes.get(class_id)
        if live_class is None:
            live_class = classes[class_id] = WeekClass(
                class_id, subject, grade, title, teacher_id, room_id, person(teacher_id, teacher_name),
                room(room_id, room_name, room_school_id, school_name, school_county_id))
        sessions.append((WeekSession(sid, class_id, starts_at, ends_at, status, moved, note, occurrence_date),
                         live_class))
    if classes:
        for (class_id, room_id, assistant_id, room_name, room_school_id, school_name, school_county_id,
             assistant_name) in db.session.connection().execute(RECEIVING_OF, {"class_ids": sorted(classes)}).all():
            classes[class_id].receiving.append(WeekReceiving(
                room_id, room(room_id, room_name, room_school_id, school_name, school_county_id),
                assistant_id, person(assistant_id, assistant_name)))
    school_ids = set(schools)
    if school_id:
        school_ids.add(school_id)
    sunday = monday + timedelta(days=6)
    bells = WeekBells(schedules_of(school_ids, monday, sunday))
    days = [Day(monday + timedelta(days=i)) for i in range(7)]
    for special in special_days(monday, sunday, county_id):
        days[(special.day - monday).days].special = special
    tz = portal_tz()
    for session, live_class in sessions:
        entry = _entry(session, live_class, bells, school_id, tz)
        index = (entry.start.date() - monday).days
        if 0 <= index < 7:
            days[index].entries.append(entry)
    return Week(monday, days)


_UNKNOWN = object()


class WeekBells:
    """The periods of the week's schools at local times, from their bell schedules loaded once. A
    week repeats a few lesson times under one schedule per school, so each school's schedule of a
    day and each (schedule, lesson time) is worked out once, with its label translated once."""

    def __init__(self, schedules: dict[int, list[Schedule]]):
        self.schedules = schedules
        self.on: dict[tuple[int, date], Schedule | None] = {}
        self.found: dict[tuple, tuple[list[int] | None, str]] = {}
        self.labels: dict[tuple[int, ...] | None, str] = {}

    def at(self, school: WeekSchool, role: str, day: date, start: time, end: time) -> SchoolPeriods:
        """The school's periods on a local day from ``start`` to ``end``."""
        schedule = self.on.get((school.id, day), _UNKNOWN)
        if schedule is _UNKNOWN:
            schedule = self.on[school.id, day] = schedule_on(self.schedules.get(school.id, []), day)
        key = (schedule.id if schedule is not None else None, start, end)
        found = self.found.get(key)
        if found is None:
            numbers = period_numbers(schedule, start, end)
            label_key = tuple(numbers) if numbers is not None else None
            text = self.labels.get(label_key)
            if text is None:
                text = self.labels[label_key] = period_label(numbers)
            found = self.found[key] = (numbers, text)
        numbers, text = found
        return SchoolPeriods(school, role, list(numbers) if numbers is not None else None, text)


def _entry(session: WeekSession, live_class: WeekClass, bells: WeekBells, school_id: int | None, tz) -> Entry:
    start, end = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
    day, start_time, end_time = start.date(), start.time(), end.time()
    main = live_class.main_classroom.school
    here = periods = bells.at(main, "main", day, start_time, end_time)
    schools = [periods]
    seen = {main.id}
    for receiving in live_class.receiving:
        school = receiving.classroom.school
        if school.id not in seen:
            seen.add(school.id)
            periods = bells.at(school, "receiving", day, start_time, end_time)
            schools.append(periods)
            if school.id == school_id:
                here = periods
    return Entry(session, live_class, start, end, here if here.school.id == school_id else None, schools)


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A holiday or make-up working day as the week shows it."""

    day: date
    kind: str  # "holiday" or "workday"
    name: str


_SCHOOL = select(School.id, School.name, School.county_id).where(School.id == bindparam("school_id"))


def week_school(school_id: int | None) -> WeekSchool | None:
    """The school of a week page as the page reads it (its name and county), a plain row: the
    page writes nothing of it."""
    if school_id is None:
        return None
    row = db.session.connection().execute(_SCHOOL, {"school_id": school_id}).first()
    return WeekSchool(*row) if row is not None else None


# Built once, bound per request. With no county, "county_id = NULL" matches nothing, as the
# city-wide rows are the ones wanted.
SPECIAL_DAYS = (
    select(CalendarDay.day, CalendarDay.kind, CalendarDay.name)
    .where(CalendarDay.day >= bindparam("first"), CalendarDay.day <= bindparam("last"),
           or_(CalendarDay.county_id.is_(None), CalendarDay.county_id == bindparam("county_id")))
    .order_by(CalendarDay.day, CalendarDay.county_id.is_not(None))
)


def special_days(first: date, last: date, county_id: int | None) -> list[SpecialDay]:
    """Holidays and make-up days in the range; a county's own entry wins over the city-wide one."""
    by_day: dict[date, SpecialDay] = {}
    params = {"first": first, "last": last, "county_id": county_id}
    for day, kind, name in db.session.connection().execute(SPECIAL_DAYS, params).all():
        by_day[day] = SpecialDay(day, kind, name)
    return list(by_day.values())


# --- the term overview -------------------------------------------------------------------------


@dataclass
class OverviewRow:
    subject: str
    role: str  # "main" or "receiving"
    planned: int = 0
    delivered: int = 0
    cancelled: int = 0
    missing: int = 0  # past, not cancelled, not delivered (attendance not recorded)

    @property
    def upcoming(self) -> int:
        return self.planned - self.delivered - self.cancelled - self.missing

    @property
    def percent(self) -> int:
        due = self.planned - self.cancelled
        return round(100 * self.delivered / due) if due > 0 else 0


def term_overview(school_id: int, term: Term, now: datetime) -> dict[str, list[OverviewRow]]:
    """Per subject, the periods of the term's sessions at the school: as main school (delivered:
    status "done") and as receiving school (one period per receiving classroom of the school;
    delivered: an attendance record for that classroom). One aggregate query, kept in the
    figures' cache (``core/cache.py``: until a session, class or attendance record changes, or
    the cache's minutes pass; a session that has just ended counts as missing after that)."""
    key = ("term_overview", school_id, term.id, term.start_date, term.end_date)
    return deepcopy(cache.cached(key, lambda: _term_overview(school_id, term, now)))


def _term_overview(school_id: int, term: Term, now: datetime) -> dict[str, list[OverviewRow]]:
    in_term = (LiveSession.occurrence_date >= term.start_date, LiveSession.occurrence_date <= term.end_date)
    rooms = select(Classroom.id).where(Classroom.school_id == school_id)
    cancelled = LiveSession.status == "cancelled"
    past = LiveSession.starts_at < now

    def sums(delivered):
        return (
            func.count().label("planned"),
            func.sum(case((delivered, 1), else_=0)).label("delivered"),
            func.sum(case((cancelled, 1), else_=0)).label("cancelled"),
            func.sum(case((past & ~cancelled & ~delivered, 1), else_=0)).label("missing"),
        )

    as_main = (
        select(LiveClass.subject, literal("main").label("role"), *sums(LiveSession.status == "done"))
        .select_from(LiveSession).join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .where(LiveClass.main_classroom_id.in_(rooms), *in_term)
        .group_by(LiveClass.subject)
    )
    as_receiving = (
        select(LiveClass.subject, literal("receiving").label("role"), *sums(SessionAttendance.id.is_not(None)))
        .select_from(LiveSession).join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .join(ReceivingClassroom, ReceivingClassroom.live_class_id == LiveClass.id)
        .outerjoin(SessionAttendance, (SessionAttendance.session_id == LiveSession.id)
                   & (SessionAttendance.classroom_id == ReceivingClassroom.classroom_id))
        .where(ReceivingClassroom.classroom_id.in_(rooms), *in_term)
        .group_by(LiveClass.subject)
    )
    result: dict[str, list[OverviewRow]] = {"main": [], "receiving": []}
    for subject, role, planned, delivered, cancelled_n, missing in db.session.execute(union_all(as_main, as_receiving)):
        result[role].append(OverviewRow(subject, role, int(planned), int(delivered or 0), int(cancelled_n or 0),
                                        int(missing or 0)))
    for rows in result.values():
        rows.sort(key=lambda r: r.subject)
    return result


def totals(rows: list[OverviewRow], role: str) -> OverviewRow:
    total = OverviewRow("", role)
    for row in rows:
        total.planned += row.planned
        total.delivered += row.delivered
        total.cancelled += row.cancelled
        total.missing += row.missing
    return total
