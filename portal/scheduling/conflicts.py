"""Clashes: the same teacher (main or assistant) or the same classroom (main or receiving) booked
at overlapping times. Back-to-back sessions (one ends as the next starts) do not clash.

One indexed range query over ``live_bookings`` for all the people and rooms of a class, whatever
the number of classes in the city; the exact overlaps are then found in memory.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from ..accounts.models import User
from ..core.timeutil import isoformat_local, to_local
from ..extensions import db
from ..org.models import Classroom, School
from .models import Booking, LiveClass
from .recurrence import Occurrence

MAX_RANGES_IN_SQL = 250  # occurrences asked of the database one by one; more: the window, sorted out here


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

    def as_json(self, names: dict[tuple[str, int], str], subjects: dict[int, str]) -> dict:
        return {
            "kind": self.need.kind,
            "role": self.need.role,
            "id": self.need.resource_id,
            "name": names.get((self.need.kind, self.need.resource_id), ""),
            "date": self.occurrence.day.isoformat(),
            "starts_at": isoformat_local(self.occurrence.starts_at),
            "ends_at": isoformat_local(self.occurrence.ends_at),
            "other_live_class_id": self.other_class_id,
            "other_subject": subjects.get(self.other_class_id, ""),
            "other_session_id": self.other_session_id,
            "other_starts_at": isoformat_local(self.other_starts_at),
            "other_ends_at": isoformat_local(self.other_ends_at),
        }


def find_clashes(needs: list[Need], wanted: list[Occurrence], *, ignore_class_id: int | None = None,
                 ignore_session_ids: set[int] = frozenset()) -> list[Clash]:
    """Every (need, occurrence) already booked elsewhere at an overlapping time."""
    if not needs or not wanted:
        return []
    first = min(o.starts_at for o in wanted)
    last = max(o.ends_at for o in wanted)
    by_kind: dict[str, set[int]] = {}
    for need in needs:
        by_kind.setdefault(need.kind, set()).add(need.resource_id)
    # Plain rows, not Booking objects: a term's bookings of a class's people and rooms are a few
    # hundred rows, and building an ORM object for each was most of a create request's time.
    stmt = select(Booking.kind, Booking.resource_id, Booking.live_class_id, Booking.session_id,
                  Booking.starts_at, Booking.ends_at).where(
        or_(*[and_(Booking.kind == kind, Booking.resource_id.in_(sorted(ids))) for kind, ids in by_kind.items()]),
        Booking.starts_at < last,
        Booking.ends_at > first,
    )
    if len(wanted) <= MAX_RANGES_IN_SQL:
        # Only the bookings that overlap one of the wanted times, not the people's whole term (a
        # busy teacher has thousands): one range per occurrence, each on the (kind, resource, start) index.
        stmt = stmt.where(or_(*[and_(Booking.starts_at < o.ends_at, Booking.ends_at > o.starts_at) for o in wanted]))
    if ignore_class_id is not None:
        stmt = stmt.where(Booking.live_class_id != ignore_class_id)
    booked: dict[tuple[str, int], list] = {}
    for row in db.session.execute(stmt.order_by(Booking.starts_at)):
        if row.session_id not in ignore_session_ids:
            booked.setdefault((row.kind, row.resource_id), []).append(row)
    clashes = []
    for need in needs:
        rows = booked.get((need.kind, need.resource_id))
        if not rows:
            continue
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


def describe(clashes: list[Clash]) -> list[dict]:
    """The clashes as JSON, with people's and rooms' names and the other classes' subjects."""
    teacher_ids = {c.need.resource_id for c in clashes if c.need.kind == "teacher"}
    room_ids = {c.need.resource_id for c in clashes if c.need.kind == "classroom"}
    names: dict[tuple[str, int], str] = {}
    if teacher_ids:
        for uid, name in db.session.execute(select(User.id, User.name).where(User.id.in_(teacher_ids))):
            names[("teacher", uid)] = name
    if room_ids:
        for cid, room, school in db.session.execute(
            select(Classroom.id, Classroom.name, School.name).join(School, School.id == Classroom.school_id)
            .where(Classroom.id.in_(room_ids))
        ):
            names[("classroom", cid)] = f"{school} {room}"
    class_ids = {c.other_class_id for c in clashes}
    subjects = dict(db.session.execute(select(LiveClass.id, LiveClass.subject).where(LiveClass.id.in_(class_ids)))
                    .all()) if class_ids else {}
    return [c.as_json(names, subjects) for c in clashes]


def clash_dates(clashes: list[Clash]) -> list[str]:
    """The local dates that clash, for "skip these dates" on the form."""
    return sorted({to_local(c.occurrence.starts_at).date().isoformat() for c in clashes})
