"""Which dates a weekly class meets: its weekdays between the first and last date, without the
holidays, and on make-up working days (调休) with the timetable of the weekday they follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Row, bindparam, or_, select

from ..core.models import UTCDateTime, plain_rows
from ..core.timeutil import portal_tz
from .models import CalendarDay

MAX_DAYS = 400  # a class runs for a term, at most a school year


@dataclass(frozen=True)
class Slot:
    weekday: int  # ISO: 1 Monday … 7 Sunday
    start: time
    end: time


@dataclass(frozen=True)
class Occurrence:
    day: date  # the local date it meets
    starts_at: datetime  # aware UTC
    ends_at: datetime


class UTCMoment(UTCDateTime):
    """``UTCDateTime`` for binding the times occurrences carry, which are in UTC already
    (``to_utc``): on SQLite their stored text is their isoformat less the offset, without the
    conversion to UTC and the dropping of the zone (~19 -> ~9 k instructions a value, and creating
    a term's class binds ~100 of them). Any other value is converted as ``UTCDateTime`` does."""

    cache_ok = True

    def bind_processor(self, dialect):
        convert = super().bind_processor(dialect)
        if dialect.name != "sqlite":
            return convert

        def process(value):
            if value is not None and value.tzinfo is UTC:
                return value.isoformat(" ", "microseconds")[:-6]  # "...+00:00"
            return convert(value)

        return process


# Columns, not CalendarDay objects; built once (bound: ``first``, ``last``, ``county_id``; with no
# county, ``= NULL`` matches nothing and the city-wide days remain).
_SPECIAL_DAYS = select(CalendarDay.day, CalendarDay.kind, CalendarDay.follows_weekday).where(
    CalendarDay.day >= bindparam("first"), CalendarDay.day <= bindparam("last"),
    or_(CalendarDay.county_id.is_(None), CalendarDay.county_id == bindparam("county_id")),
).order_by(CalendarDay.county_id.is_not(None))


def calendar_between(first: date, last: date, county_id: int | None = None) -> dict[date, Row]:
    """The special days in the range (rows of day, kind, follows_weekday); a county's own entry
    wins over the city-wide one."""
    days: dict[date, Row] = {}
    # Plain rows; days still pending in the session (a seed adding its holidays) are written first.
    rows = plain_rows(_SPECIAL_DAYS, {"first": first, "last": last, "county_id": county_id})
    for row in rows:
        days[row.day] = row  # city-wide first, the county's own after it
    return days


def to_utc(day: date, wall: time, tz: ZoneInfo | None = None) -> datetime:
    """The UTC moment of a local date and wall-clock time (``tz``: the portal's, when a caller
    converting many has it at hand)."""
    return datetime.combine(day, wall, tz or portal_tz()).astimezone(UTC)


def local_iso(moment: datetime, tz: ZoneInfo) -> str:
    """``core.timeutil.isoformat_local`` with the time zone at hand: a list of a term's sessions
    or clashes looks it up once, not for each of its times."""
    return moment.astimezone(tz).isoformat(timespec="seconds")


def occurrences(first: date, last: date, slots: list[Slot], calendar: dict[date, Row],
                skip: set[date] = frozenset()) -> list[Occurrence]:
    """Every meeting of the slots between first and last (inclusive), in order."""
    result = []
    tz = portal_tz()  # once, not twice an occurrence
    for day in _candidate_days(first, last, {slot.weekday for slot in slots}, calendar):
        special = calendar.get(day)
        if special is not None and special.kind == "holiday":
            weekday = None
        elif special is not None and special.kind == "workday":
            weekday = special.follows_weekday
        else:
            weekday = day.isoweekday()
        if weekday is not None and day not in skip:
            for slot in slots:
                if slot.weekday == weekday:
                    result.append(Occurrence(day, to_utc(day, slot.start, tz), to_utc(day, slot.end, tz)))
    return sorted(result, key=lambda o: o.starts_at)


def _candidate_days(first: date, last: date, weekdays: set[int], calendar: dict[date, Row]) -> list[date]:
    """The days that may have a meeting, in order: those of the slots' weekdays and the special
    days (a make-up day follows another weekday). A term is ~140 days; a weekly class meets on ~20."""
    days = set(day for day in calendar if first <= day <= last)
    for weekday in weekdays:
        day = first + timedelta(days=(weekday - first.isoweekday()) % 7)
        while day <= last:
            days.add(day)
            day += timedelta(days=7)
    return sorted(days)
