"""Bell-period warnings: a live lesson the receiving school cannot fit into its own periods.

Each school keeps its own bell schedule (作息时间), so the same lesson is period 3 in one school and
period 4 in another. A session fits a school when it starts inside one of its periods and ends
inside one (the same, or a later one for a double lesson across a short break). A session that
does not fit is allowed (the school may rearrange its day) but the people scheduling are told.
Schools without a bell schedule get no warning: there is nothing to compare with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from functools import cache
from typing import NamedTuple

from sqlalchemy import String, and_, bindparam, or_, select, type_coerce

from ..core.timeutil import portal_tz
from ..extensions import db
from ..org.models import BellPeriod, BellSchedule, Classroom, School, month_day, month_day_in

MAX_DATES = 40  # dates listed per warning


class Period(NamedTuple):  # a tuple: a week page reads a hundred of them
    number: int
    start_time: time
    end_time: time


@dataclass(frozen=True, slots=True)
class Schedule:
    """A bell schedule as the timetables read it: plain values, since a school's week page reads
    the schedules of every school its classes reach (dozens, each with its periods)."""

    id: int
    school_id: int
    name: str
    from_month_day: str | None
    to_month_day: str | None
    periods: tuple[Period, ...]


# Built once and bound per request (every timetable page and the home page ask): each schedule
# with its periods in order; a schedule without periods comes once, with NULLs. The periods' times
# as the database hands them (text on SQLite): made into times once per distinct period (_period).
def _schedules(*where):
    return (
        select(BellSchedule.id, BellSchedule.school_id, BellSchedule.name, BellSchedule.from_month_day,
               BellSchedule.to_month_day, BellPeriod.number, type_coerce(BellPeriod.start_time, String),
               type_coerce(BellPeriod.end_time, String))
        .outerjoin(BellPeriod, BellPeriod.schedule_id == BellSchedule.id)
        .where(BellSchedule.school_id.in_(bindparam("school_ids", expanding=True)), *where)
        .order_by(BellSchedule.id, BellPeriod.number)
    )


def _meets(low, high):
    """A schedule's yearly range of month-days ("MM-DD", both or neither: ``save_bell_schedule``)
    meets the month-days low..high (low <= high): a plain range overlaps it, a range that wraps
    the new year (from > to) reaches into it from either end."""
    start, end = BellSchedule.from_month_day, BellSchedule.to_month_day
    return or_(and_(start <= end, start <= high, end >= low), and_(start > end, or_(start <= high, end >= low)))


SCHEDULES_OF = _schedules()
# The schedules some day of a range can use (``schedule_on``): the defaults, and the seasonal ones
# whose range meets the range's month-days, given as two ranges (one range twice unless the days
# cross the new year). A week needs one season's periods, not the year's.
SCHEDULES_DURING = _schedules(or_(
    BellSchedule.from_month_day.is_(None), BellSchedule.from_month_day == "",
    BellSchedule.to_month_day.is_(None), BellSchedule.to_month_day == "",
    _meets(bindparam("low"), bindparam("high")), _meets(bindparam("low2"), bindparam("high2"))))


# Every period as read, by its stored values: a city's schools share a few dozen distinct periods,
# and a school's week page reads those of every school its classes reach (hundreds of rows: making
# each row's two times anew was a sixth of the page). Cleared when full (unusual data).
_PERIODS: dict[tuple, Period] = {}
MAX_KNOWN_PERIODS = 4096


def _period(number: int, start, end, convert) -> Period:
    key = (number, start, end)
    found = _PERIODS.get(key)
    if found is None:
        if len(_PERIODS) >= MAX_KNOWN_PERIODS:
            _PERIODS.clear()
        found = _PERIODS[key] = Period(number, convert(start) if convert else start,
                                       convert(end) if convert else end)
    return found


@cache
def _time_processor(dialect):
    """What the ``Time`` columns' own type does with a value read (None when the driver gives times)."""
    return BellPeriod.start_time.type.dialect_impl(dialect).result_processor(dialect, None)


def schedules_of(school_ids: set[int], first: date | None = None, last: date | None = None) -> dict[int, list[Schedule]]:
    """Every bell schedule of the schools with its periods, by school (one query); given days
    ``first`` to ``last`` (less than a year apart), only those ``schedule_on`` can pick for one of them.
    Read as plain rows of the session's connection (no ORM result handling, and so no autoflush:
    no caller has a bell schedule waiting to be written)."""
    if not school_ids:
        return {}
    params: dict = {"school_ids": sorted(school_ids)}
    statement = SCHEDULES_OF
    if first is not None and last is not None:
        statement = SCHEDULES_DURING
        low, high = f"{first.month:02d}-{first.day:02d}", f"{last.month:02d}-{last.day:02d}"
        if first.year == last.year:
            params.update(low=low, high=high, low2=low, high2=high)
        else:
            params.update(low=low, high="12-31", low2="01-01", high2=high)
    # The rows come schedule by schedule (ordered by its id), each schedule's periods in order.
    result: dict[int, list[Schedule]] = {}
    heads: list[tuple] = []
    periods: list[Period] = []
    current = None
    connection = db.session.connection()
    convert = _time_processor(connection.dialect)
    for sid, school_id, name, from_md, to_md, number, start, end in connection.execute(
            statement, params).all():  # fetched at once: cheaper than row by row
        if sid != current:
            current, periods = sid, []
            heads.append((sid, school_id, name, from_md, to_md, periods))
        if number is not None:
            periods.append(_period(number, start, end, convert))
    for sid, school_id, name, from_md, to_md, found in heads:
        result.setdefault(school_id, []).append(Schedule(sid, school_id, name, from_md, to_md, tuple(found)))
    return result


def schedule_on(schedules: list[Schedule], day: date) -> Schedule | None:
    """As ``org.services.schedule_for``, over schedules already loaded: a seasonal one that
    applies, else the default."""
    md = month_day(day)
    seasonal = next((s for s in schedules if s.from_month_day and month_day_in(md, s.from_month_day, s.to_month_day)),
                    None)
    if seasonal is not None:
        return seasonal
    return next((s for s in schedules if not s.from_month_day), None)


def periods_covering(periods: tuple[Period, ...], start: time, end: time) -> list[Period] | None:
    """The periods a lesson from start to end occupies, or None when it does not fit them."""
    first = next((p for p in periods if p.start_time <= start < p.end_time), None)
    last = next((p for p in periods if p.start_time < end <= p.end_time), None)
    if first is None or last is None or last.number < first.number:
        return None
    return [p for p in periods if first.number <= p.number <= last.number]


def _hh_mm(moment) -> str:
    """``moment.strftime("%H:%M")`` of a time or datetime: strftime costs ~16 k instructions, and a
    warning writes its school's periods (a dozen times) with it."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


@dataclass
class BellWarning:
    """One receiving school whose periods a lesson time does not fit, with the dates concerned."""

    school_id: int
    school: str
    classroom_id: int
    classroom: str
    starts: str  # local "HH:MM"
    ends: str
    schedule: str  # the bell schedule's name
    periods: str  # the school's periods that day, "1 08:00–08:40 · 2 …"
    dates: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"school_id": self.school_id, "school": self.school, "classroom_id": self.classroom_id,
                "classroom": self.classroom, "starts": self.starts, "ends": self.ends,
                "bell_schedule": self.schedule, "periods": self.periods, "dates": self.dates[:MAX_DATES],
                "count": len(self.dates)}


# Built once, bound per call (every class created or changed asks).
_ROOMS = (select(Classroom.id, Classroom.name, School.id, School.name).join(School, School.id == Classroom.school_id)
          .where(Classroom.id.in_(bindparam("ids", expanding=True))))


def bell_warnings(classroom_ids: list[int], times: list[tuple], rooms: list[tuple] | None = None) -> list[BellWarning]:
    """Warnings for lessons at ``times`` (aware (starts_at, ends_at) pairs) in the receiving
    classrooms: one per (classroom, lesson time, bell schedule), listing the dates. ``rooms``: the
    classrooms as (id, name, school id, school name) in id order, when the caller has them loaded."""
    if not classroom_ids or not times:
        return []
    if rooms is None:
        rooms = db.session.connection().execute(_ROOMS, {"ids": sorted(set(classroom_ids))}).all()
    schedules = schedules_of({r[2] for r in rooms})
    tz = portal_tz()
    covered: dict[tuple, bool] = {}  # (schedule, start, end): a term repeats the same few lesson times
    found: dict[tuple, BellWarning] = {}
    texts: dict[int, str] = {}  # a schedule's periods as a warning writes them
    for starts_at, ends_at in sorted(times):
        start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
        day, start_time, end_time = start.date(), start.time(), end.time()
        iso_day = day.isoformat()
        for room_id, room_name, school_id, school_name in rooms:
            schedule = schedule_on(schedules.get(school_id, ()), day)
            if schedule is None or not schedule.periods:
                continue
            fits = covered.get((schedule.id, start_time, end_time))
            if fits is None:
                fits = covered[schedule.id, start_time, end_time] = (
                    periods_covering(schedule.periods, start_time, end_time) is not None)
            if fits:
                continue
            key = (room_id, start_time, end_time, schedule.id)
            if key not in found:
                periods = texts.get(schedule.id)
                if periods is None:
                    periods = texts[schedule.id] = " · ".join(
                        f"{p.number} {_hh_mm(p.start_time)}–{_hh_mm(p.end_time)}" for p in schedule.periods)
                found[key] = BellWarning(school_id, school_name, room_id, room_name, _hh_mm(start), _hh_mm(end),
                                         schedule.name, periods)
            found[key].dates.append(iso_day)
    return sorted(found.values(), key=lambda w: (w.dates[0], w.school, w.classroom))


def class_bell_warnings(live_class, from_date: date | None = None) -> list[BellWarning]:
    """The warnings of a class's scheduled sessions (from a date on)."""
    from .models import LiveSession

    stmt = select(LiveSession.starts_at, LiveSession.ends_at).where(
        LiveSession.live_class_id == live_class.id, LiveSession.status == "scheduled")
    if from_date is not None:
        stmt = stmt.where(LiveSession.occurrence_date >= from_date)
    times = [tuple(row) for row in db.session.execute(stmt)]
    return bell_warnings([r.classroom_id for r in live_class.receiving], times)
