"""A person's dual-teacher sessions as an iCalendar feed (CONTRACT.md: GET /calendar/<user_id>.ics).

Times carry TZID=PORTAL_TIMEZONE with its VTIMEZONE, so Outlook, Google and Apple calendars show
local times; every session has a stable UID and a SEQUENCE bumped on each change, and cancelled
sessions stay in the feed with STATUS:CANCELLED so calendar programs remove them.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import Response, request
from flask_babel import get_locale
from flask_login import current_user
from icalendar import Calendar, Timezone
from sqlalchemy import bindparam, select

from ..accounts.models import User
from ..accounts.services import token_record
from ..core import cache
from ..core.api import api, error_response
from ..core.authz import BUREAU
from ..core.i18n import gettext as _
from ..core.labels import SUBJECT_LABELS, label
from ..core.models import utcnow
from ..core.sqlite import writes_on_get
from ..core.timeutil import local_today, portal_tz
from ..extensions import db
from ..org.models import Classroom, School
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
def _vtimezone(tzid: str) -> bytes:
    """The VTIMEZONE of the portal's time zone, built once per process: working out its
    transitions took half of each feed request."""
    return Timezone.from_tzid(tzid).to_ical()


# --- writing the events -----------------------------------------------------------------------
# The calendar's head and its VTIMEZONE come from the icalendar library; the events, which are
# all alike and many (a main teacher's term is a thousand sessions, and every teacher's phone
# polls the feed), are written here as RFC 5545 lines: the library spent ~130 us on each event's
# property objects, parameters and folding, most of a 130 ms feed. The test suite reads every feed
# back with the library.

_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n", "\r": ""})


def _text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    return value.replace("\r\n", "\n").translate(_TEXT_ESCAPES)


def _line(name: str, value: str) -> bytes:
    """One content line, folded at 75 octets (3.1) without splitting a UTF-8 character."""
    raw = f"{name}:{value}".encode()
    if len(raw) <= 75:
        return raw + b"\r\n"
    parts, start, limit = [], 0, 75
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and raw[end] & 0xC0 == 0x80:  # a continuation byte: cut before its character
            end -= 1
        parts.append(raw[start:end])
        start, limit = end, 74  # a continuation line starts with one space
    return b"\r\n ".join(parts) + b"\r\n"


def _local(value, tz) -> str:
    return value.astimezone(tz).strftime("%Y%m%dT%H%M%S")


# The person's sessions with what an event names: plain rows, built once and bound per request.
FEED_ROWS = (
    select(LiveSession.id, LiveSession.starts_at, LiveSession.ends_at, LiveSession.sequence, LiveSession.status,
           LiveClass.subject, Classroom.name.label("room"), School.name.label("school"),
           User.name.label("main_teacher"))
    .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
    .join(Classroom, Classroom.id == LiveClass.main_classroom_id)
    .join(School, School.id == Classroom.school_id)
    .join(User, User.id == LiveClass.main_teacher_id)
    .where(LiveSession.live_class_id.in_(teacher_classes(bindparam("person_id"))),
           LiveSession.ends_at > bindparam("since"))
    .order_by(LiveSession.starts_at)
    .limit(MAX_EVENTS)
)


def feed_for(person: User) -> bytes:
    tz = portal_tz()
    tzid = str(tz)
    rows = db.session.execute(FEED_ROWS, {"person_id": person.id,
                                          "since": utcnow() - timedelta(days=PAST_DAYS)}).all()
    calendar = Calendar()
    calendar.add("prodid", "-//Urban-Rural Teaching Community//Dual-teacher classes//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("Dual-teacher classes of %(name)s", name=person.name))
    calendar.add("x-wr-timezone", tzid)
    end = b"END:VCALENDAR\r\n"
    head = calendar.to_ical().removesuffix(end)  # the events go before the end
    host = request.host.split(":")[0] or "portal"
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    summaries: dict[str, str] = {}  # per subject: the same words on every event of a class
    out = [head, _vtimezone(tzid)]
    for row in rows:
        summary = summaries.get(row.subject)
        if summary is None:
            summary = summaries[row.subject] = _text(
                _("Dual-teacher class: %(subject)s", subject=label(SUBJECT_LABELS, row.subject)))
        out += (
            b"BEGIN:VEVENT\r\n",
            _line("SUMMARY", summary),
            _line(f"DTSTART;TZID={tzid}", _local(row.starts_at, tz)),
            _line(f"DTEND;TZID={tzid}", _local(row.ends_at, tz)),
            _line("DTSTAMP", stamp),
            _line("UID", _text(f"live-session-{row.id}@{host}")),
            _line("SEQUENCE", str(row.sequence)),
            _line("STATUS", "CANCELLED" if row.status == "cancelled" else "CONFIRMED"),
            _line("DESCRIPTION", _text(_("Main teacher: %(name)s", name=row.main_teacher))),
            _line("LOCATION", _text(f"{row.school} {row.room}")),
            b"END:VEVENT\r\n",
        )
    out.append(end)
    return b"".join(out)


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
    # Calendar programs poll every feed (each teacher's phone, every quarter of an hour or so): the
    # feed is kept (core/cache.kept, TIMETABLES) per person, language, host and day until one of
    # its sessions, classes, classrooms, schools or names changes. Kept through the day, it may
    # reach up to a day further back than PAST_DAYS, and its DTSTAMP says when it was written.
    body = cache.kept(("ics", person.id, str(get_locale()), request.host, local_today()), lambda: feed_for(person))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="live-{person.id}.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
