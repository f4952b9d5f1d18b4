"""The school calendar the bureau keeps: holidays (no lessons) and make-up working days (调休:
a Saturday or Sunday that follows another weekday's timetable). Services flush and never commit.

A holiday added after classes were scheduled cancels the sessions that fall on it (and tells
the people concerned); removing it does not bring them back by itself: the class's page can
re-add a session.
"""

from __future__ import annotations

import logging
from datetime import date, time, timedelta

from sqlalchemy import select

from ..accounts.models import User
from ..core.audit import record as audit_record
from ..core.authz import BUREAU, has_role
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.sanitize import clean_text
from ..extensions import db
from ..org.models import Classroom, School
from .models import DAY_KINDS, CalendarDay, LiveClass, LiveSession
from .recurrence import to_utc

log = logging.getLogger("portal.audit")


def can_edit_calendar(user, county_id: int | None) -> bool:
    """The bureau keeps the calendar: city staff for the city, county staff for their county."""
    return has_role(user, BUREAU) and (user.county_id is None or user.county_id == county_id)


def save_day(actor: User, *, day: date | None, kind: str, name: str = "", follows_weekday: int | None = None,
             county_id: int | None = None) -> CalendarDay:
    if not can_edit_calendar(actor, county_id):
        raise NotAllowed(_l("Only the bureau keeps the school calendar."))
    if day is None:
        raise Invalid(_l("Give the date."), field="day")
    if kind not in DAY_KINDS:
        raise Invalid(_l("Choose a holiday or a make-up working day."), field="kind")
    if kind == "workday":
        if day.isoweekday() < 6:
            raise Invalid(_l("A make-up working day is a Saturday or a Sunday."), field="day")
        if follows_weekday is None or not 1 <= follows_weekday <= 5:
            raise Invalid(_l("Choose the weekday whose timetable it follows (Monday to Friday)."),
                          field="follows_weekday")
    else:
        follows_weekday = None
    clash = db.session.execute(
        select(CalendarDay.id).where(CalendarDay.day == day, CalendarDay.county_id.is_(None) if county_id is None
                                     else CalendarDay.county_id == county_id)
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(_l("%(day)s is already in the calendar.", day=day.isoformat()), field="day")
    entry = CalendarDay(day=day, kind=kind, follows_weekday=follows_weekday, county_id=county_id,
                        name=clean_text(name, max_length=60))
    db.session.add(entry)
    db.session.flush()
    if kind == "holiday":
        cancel_sessions_on(actor, day, county_id)
    log.info("calendar day %s %s county=%s by=%s", kind, day, county_id, actor.id)
    audit_record(actor, "calendar_day.saved", "calendar_day", entry.id, county_id=county_id,
                 summary=f"{day.isoformat()} {entry.name}", details={"kind": kind, "follows_weekday": follows_weekday})
    return entry


def cancel_sessions_on(actor: User, day: date, county_id: int | None) -> int:
    """Cancel the scheduled sessions of the day (of classes taught from the county's schools)."""
    from .services import cancel_session

    start, end = to_utc(day, time(0, 0)), to_utc(day + timedelta(days=1), time(0, 0))
    stmt = (
        select(LiveSession)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .where(LiveSession.status == "scheduled", LiveSession.starts_at >= start, LiveSession.starts_at < end)
    )
    if county_id is not None:
        stmt = stmt.join(Classroom, Classroom.id == LiveClass.main_classroom_id).join(
            School, School.id == Classroom.school_id).where(School.county_id == county_id)
    sessions = db.session.execute(stmt).scalars().all()
    for session in sessions:
        cancel_session(actor, session, note=str(_l("Holiday")))
    return len(sessions)


def delete_day(actor: User, entry: CalendarDay) -> None:
    if not can_edit_calendar(actor, entry.county_id):
        raise NotAllowed(_l("Only the bureau keeps the school calendar."))
    audit_record(actor, "calendar_day.deleted", "calendar_day", entry.id, county_id=entry.county_id,
                 summary=f"{entry.day.isoformat()} {entry.name}", details={"kind": entry.kind})
    db.session.delete(entry)
