"""Which dates a weekly class meets: its weekdays between the first and last date, without the
holidays, and on make-up working days (调休) with the timetable of the weekday they follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select

from ..core.timeutil import portal_tz
from ..extensions import db
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


def calendar_between(first: date, last: date, county_id: int | None = None) -> dict[date, CalendarDay]:
    """The special days in the range; a county's own entry wins over the city-wide one."""
    rows = db.session.execute(
        select(CalendarDay).where(
            CalendarDay.day >= first, CalendarDay.day <= last,
            or_(CalendarDay.county_id.is_(None), CalendarDay.county_id == county_id),
        ).order_by(CalendarDay.county_id.is_not(None))
    ).scalars()
    days: dict[date, CalendarDay] = {}
    for row in rows:
        days[row.day] = row  # city-wide first, the county's own after it
    return days


def to_utc(day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, portal_tz()).astimezone(UTC)


def occurrences(first: date, last: date, slots: list[Slot], calendar: dict[date, CalendarDay],
                skip: set[date] = frozenset()) -> list[Occurrence]:
    """Every meeting of the slots between first and last (inclusive), in order."""
    result = []
    day = first
    while day <= last:
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
                    result.append(Occurrence(day, to_utc(day, slot.start), to_utc(day, slot.end)))
        day += timedelta(days=1)
    return sorted(result, key=lambda o: o.starts_at)
