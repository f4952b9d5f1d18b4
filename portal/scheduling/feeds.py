"""A person's dual-teacher sessions as an iCalendar feed (CONTRACT.md: GET /calendar/<user_id>.ics).

Times carry TZID=PORTAL_TIMEZONE with its VTIMEZONE, so Outlook, Google and Apple calendars show
local times; every session has a stable UID and a SEQUENCE bumped on each change, and cancelled
sessions stay in the feed with STATUS:CANCELLED so calendar programs remove them.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import Response, request
from flask_login import current_user
from icalendar import Calendar, Event, Timezone
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.services import token_record
from ..core.api import api, error_response
from ..core.authz import BUREAU
from ..core.i18n import gettext as _
from ..core.labels import SUBJECT_LABELS, label
from ..core.models import utcnow
from ..core.sqlite import writes_on_get
from ..core.timeutil import portal_tz
from ..extensions import db
from ..org.models import Classroom
from .models import LiveClass, LiveSession
from .timetable import teacher_classes

PAST_DAYS = 30  # how far back the feed reaches; the future is the rest of the scheduled classes
MAX_EVENTS = 2000


def _reader() -> User | None:
    """The person asking: an API token in the header (checked by the api blueprint), one in the
    query string (calendar programs cannot send headers), or the portal's session cookie."""
    token = request.args.get("token")
    if token:
        record = token_record(token.strip())
        return record.user if record is not None else None
    return current_user if current_user.is_authenticated else None


def can_read_feed(reader: User, person: User) -> bool:
    """A person reads their own feed; bureau staff read those of their county's people."""
    if reader.id == person.id:
        return True
    return reader.role == BUREAU and (reader.county_id is None or person.scope_county_id == reader.county_id)


@lru_cache(maxsize=4)
def _vtimezone(tzid: str) -> Timezone:
    """The VTIMEZONE of the portal's time zone, built once per process: working out its
    transitions took half of each feed request. Shared read-only by every feed."""
    return Timezone.from_tzid(tzid)


def feed_for(person: User) -> bytes:
    tz = portal_tz()
    sessions = db.session.execute(
        select(LiveSession)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .where(
            LiveSession.live_class_id.in_(teacher_classes(person.id)),
            LiveSession.ends_at > utcnow() - timedelta(days=PAST_DAYS),
        )
        .options(joinedload(LiveSession.live_class).joinedload(LiveClass.main_classroom)
                 .joinedload(Classroom.school),
                 joinedload(LiveSession.live_class).joinedload(LiveClass.main_teacher))
        .order_by(LiveSession.starts_at)
        .limit(MAX_EVENTS)
    ).scalars().all()
    calendar = Calendar()
    calendar.add("prodid", "-//Urban-Rural Teaching Community//Dual-teacher classes//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("Dual-teacher classes of %(name)s", name=person.name))
    calendar.add("x-wr-timezone", str(tz))
    host = request.host.split(":")[0] or "portal"
    stamp = utcnow()
    for session in sessions:
        live_class = session.live_class
        room = live_class.main_classroom
        event = Event()
        event.add("uid", f"live-session-{session.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", session.starts_at.astimezone(tz))
        event.add("dtend", session.ends_at.astimezone(tz))
        event.add("summary", _("Dual-teacher class: %(subject)s", subject=label(SUBJECT_LABELS, live_class.subject)))
        event.add("location", f"{room.school.name} {room.name}")
        event.add("description", _("Main teacher: %(name)s", name=live_class.main_teacher.name))
        event.add("sequence", session.sequence)
        event.add("status", "CANCELLED" if session.status == "cancelled" else "CONFIRMED")
        calendar.add_component(event)
    calendar.subcomponents.insert(0, _vtimezone(str(tz)))
    return calendar.to_ical()


@api.route("/calendar/<id:user_id>.ics")
@writes_on_get  # the token's last-used time
def calendar_feed(user_id: int):
    reader = _reader()
    if reader is None:
        return error_response(401, "unauthorized", _("Please send a valid token (?token=… or the header)."))
    person = db.session.get(User, user_id)
    if person is None or not can_read_feed(reader, person):
        return error_response(404, "not_found", _("There is no calendar for you here."))
    db.session.commit()  # the token's last-used time
    response = Response(feed_for(person), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="live-{person.id}.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
