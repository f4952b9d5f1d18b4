"""Clashes: the same teacher (main or assistant) or the same classroom (main or receiving) booked
at overlapping times. Back-to-back sessions (one ends as the next starts) do not clash.

One indexed range query over ``live_bookings`` for all the people and rooms of a class, whatever
the number of classes in the city; the exact overlaps are then found in memory.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Integer, Row, and_, bindparam, or_, select, union_all

from ..accounts.models import User
from ..core.timeutil import portal_tz
from ..extensions import db
from ..org.models import Classroom, School
from .models import Booking, LiveClass
from .recurrence import Occurrence, UTCMoment, local_iso

MAX_RANGES_IN_SQL = 250  # occurrences asked of the database one by one; more: the window, sorted out here
# A booking is a session's time, and a session starts and ends on the same local day (slots, moved
# and added sessions are times of one day): one overlapping an occurrence starts less than this before it.
LONGEST_BOOKING = timedelta(days=2)


@dataclass(frozen=True)
class Need:
    """Someone or a room a session needs: kind "teacher" or "classroom", the id, and the role."""

    kind: str
    resource_id: int
    role: str


@dataclass
class Clash:
    need: Need
    occurrence: Occurrence
    other_class_id: int
    other_session_id: int
    other_starts_at: datetime
    other_ends_at: datetime

    def as_json(self, names: dict[tuple[str, int], str], subjects: dict[int, str],
                iso: Callable[[datetime], str]) -> dict:
        """``iso``: writes a time as ``local_iso`` does (``describe`` keeps what it has written)."""
        return {
            "kind": self.need.kind,
            "role": self.need.role,
            "id": self.need.resource_id,
            "name": names.get((self.need.kind, self.need.resource_id), ""),
            "date": self.occurrence.day.isoformat(),
            "starts_at": iso(self.occurrence.starts_at),
            "ends_at": iso(self.occurrence.ends_at),
            "other_live_class_id": self.other_class_id,
            "other_subject": subjects.get(self.other_class_id, ""),
            "other_session_id": self.other_session_id,
            "other_starts_at": iso(self.other_starts_at),
            "other_ends_at": iso(self.other_ends_at),
        }



@lru_cache(maxsize=128)
def _bookings_between(kinds: tuple[tuple[str, int], ...], ranges: int | None, ignore_class: bool):
    """The bookings of some people and rooms (``kinds``: each kind and how many of it; bound:
    ``<kind>_<j>``) that may overlap one of the occurrences ``s<i>``–``e<i>`` (``ranges`` of them; a
    booking overlapping two comes twice), or with no ranges, that overlap ``first``–``last``. Built
    once per shape: built per request, the statement of a term's 19 occurrences cost ~0.8 ms to
    construct and cache-key. The ids as plain parameters, not expanding ones: those are spliced
    into the SQL on every execution."""
    # Plain rows, not Booking objects: a term's bookings of a class's people and rooms are a few
    # hundred rows, and building an ORM object for each was most of a create request's time.
    stmt = select(Booking.kind, Booking.resource_id, Booking.live_class_id, Booking.session_id, Booking.starts_at,
                  Booking.ends_at).where(
        or_(*[and_(Booking.kind == kind, Booking.resource_id.in_(
            [bindparam(f"{kind}_{j}", type_=Integer) for j in range(count)])) for kind, count in kinds]))
    if ranges is None:
        stmt = stmt.where(Booking.starts_at < bindparam("last"), Booking.ends_at > bindparam("first"))
    else:
        # Only the bookings that overlap one of the wanted times, not the people's whole term (a
        # busy teacher has thousands): the occurrences as a table, each joined to its own
        # (kind, resource, start) index range, from LONGEST_BOOKING before it. With the term as the
        # range, every booking of the people and rooms in the term was checked against every
        # occurrence (~2 ms for a teacher with 40 weekly classes).
        wanted = union_all(*[select(bindparam(f"from{i}", type_=UTCMoment).label("low"),
                                    bindparam(f"s{i}", type_=UTCMoment).label("starts_at"),
                                    bindparam(f"e{i}", type_=UTCMoment).label("ends_at")) for i in range(ranges)]
                           ).subquery("wanted")
        stmt = stmt.join(wanted, and_(Booking.starts_at > wanted.c.low, Booking.starts_at < wanted.c.ends_at,
                                      Booking.ends_at > wanted.c.starts_at))
    if ignore_class:
        stmt = stmt.where(Booking.live_class_id != bindparam("ignore_class_id"))
    return stmt.order_by(Booking.starts_at, Booking.id)


def find_clashes(needs: list[Need], wanted: list[Occurrence], *, ignore_class_id: int | None = None,
                 ignore_session_ids: set[int] = frozenset()) -> list[Clash]:
    """Every (need, occurrence) already booked elsewhere at an overlapping time."""
    if not needs or not wanted:
        return []
    by_kind: dict[str, set[int]] = {}
    for need in needs:
        by_kind.setdefault(need.kind, set()).add(need.resource_id)
    params: dict = {}
    for kind, ids in by_kind.items():
        for j, resource_id in enumerate(sorted(ids)):
            params[f"{kind}_{j}"] = resource_id
    ranges = len(wanted) if len(wanted) <= MAX_RANGES_IN_SQL else None
    if ranges is None:
        params["first"] = min(o.starts_at for o in wanted)
        params["last"] = max(o.ends_at for o in wanted)
    else:
        for i, occurrence in enumerate(wanted):
            params[f"from{i}"] = occurrence.starts_at - LONGEST_BOOKING
            params[f"s{i}"], params[f"e{i}"] = occurrence.starts_at, occurrence.ends_at
    if ignore_class_id is not None:
        params["ignore_class_id"] = ignore_class_id
    stmt = _bookings_between(tuple((kind, len(ids)) for kind, ids in by_kind.items()), ranges,
                             ignore_class_id is not None)
    # Each resource's bookings in start order, once each (one may overlap two occurrences); plain rows
    # of the session's connection: bookings are never ORM objects.
    booked: dict[tuple[str, int], dict[int, Row]] = {}
    for row in db.session.connection().execute(stmt, params):
        if row.session_id not in ignore_session_ids:
            booked.setdefault((row.kind, row.resource_id), {})[row.session_id] = row
    clashes = []
    for need in needs:
        found = booked.get((need.kind, need.resource_id))
        if not found:
            continue
        rows = list(found.values())
        # Rows in start order: those that may overlap an occurrence start after its start less the
        # longest booking, and before its end (two bisections, not a pass over the whole term).
        starts = [row.starts_at for row in rows]
        longest = max(row.ends_at - row.starts_at for row in rows)
        for occurrence in wanted:
            low = bisect_left(starts, occurrence.starts_at - longest)
            high = bisect_left(starts, occurrence.ends_at)
            for row in rows[low:high]:
                if occurrence.starts_at < row.ends_at:
                    clashes.append(Clash(need, occurrence, row.live_class_id, row.session_id, row.starts_at,
                                         row.ends_at))
    clashes.sort(key=lambda c: (c.occurrence.starts_at, c.need.kind, c.need.resource_id))
    return clashes


# The names and subjects a list of clashes shows, built once (bound: the ids, expanding).
_TEACHER_NAMES = select(User.id, User.name).where(User.id.in_(bindparam("ids", expanding=True)))
_ROOM_NAMES = select(Classroom.id, Classroom.name, School.name).join(School, School.id == Classroom.school_id).where(
    Classroom.id.in_(bindparam("ids", expanding=True)))
_SUBJECTS = select(LiveClass.id, LiveClass.subject).where(LiveClass.id.in_(bindparam("ids", expanding=True)))


def describe(clashes: list[Clash], known: dict[tuple[str, int], str] | None = None) -> list[dict]:
    """The clashes as JSON, with people's and rooms' names and the other classes' subjects.
    ``known``: names already at hand (the people and rooms of the class being checked), by
    (kind, id), as the queries here would give them; only the others are asked."""
    names: dict[tuple[str, int], str] = dict(known or {})
    unknown = {(c.need.kind, c.need.resource_id) for c in clashes} - names.keys()
    teacher_ids = {i for kind, i in unknown if kind == "teacher"}
    room_ids = {i for kind, i in unknown if kind == "classroom"}
    connection = db.session.connection()  # plain rows, without the ORM's result handling
    if teacher_ids:
        for uid, name in connection.execute(_TEACHER_NAMES, {"ids": list(teacher_ids)}):
            names[("teacher", uid)] = name
    if room_ids:
        for cid, room, school in connection.execute(_ROOM_NAMES, {"ids": list(room_ids)}):
            names[("classroom", cid)] = room_name(school, room)
    class_ids = {c.other_class_id for c in clashes}
    subjects = dict(connection.execute(_SUBJECTS, {"ids": list(class_ids)}).all()) if class_ids else {}
    tz = portal_tz()
    # Each time written once: the needs clashing at an occurrence share its times and, mostly,
    # the other session's (a term's clash list wrote ~150 times, ~17 k instructions each).
    texts: dict[datetime, str] = {}

    def iso(moment: datetime) -> str:
        text = texts.get(moment)
        if text is None:
            text = texts[moment] = local_iso(moment, tz)
        return text

    return [c.as_json(names, subjects, iso) for c in clashes]


def room_name(school: str, room: str) -> str:
    """A room as a clash names it: its school and its name."""
    return f"{school} {room}"


def clash_dates(clashes: list[Clash]) -> list[str]:
    """The local dates that clash, for "skip these dates" on the form."""
    tz = portal_tz()
    return sorted({moment.astimezone(tz).date().isoformat() for moment in {c.occurrence.starts_at for c in clashes}})
