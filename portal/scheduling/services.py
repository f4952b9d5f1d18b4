"""Scheduling dual-teacher classes: create a weekly class with its sessions (refusing clashes),
cancel or move one session. Services flush and never commit.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache, lru_cache
from typing import NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    delete,
    insert,
    inspect,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import make_transient_to_detached

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.audit import record as audit_record
from ..core.audit import school_county
from ..core.cache import note_change
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SUBJECT_LABELS
from ..core.sanitize import clean_text
from ..core.timeutil import to_local
from ..core.web import path_for
from ..extensions import db
from ..org.models import Classroom, Term
from .conflicts import Need, clash_dates, describe, find_clashes, room_name
from .models import Booking, ClassSlot, LiveClass, LiveSession, ReceivingClassroom
from .permissions import can_change_class, can_schedule_for
from .recurrence import MAX_DAYS, Occurrence, Slot, UTCMoment, calendar_between, occurrences

MAX_RECEIVING = 10

register_message("live.class_scheduled", _l("A dual-teacher class was scheduled for you: %(subject)s, %(when)s."))
register_message("live.session_cancelled", _l("The dual-teacher class %(subject)s on %(when)s is cancelled."))
register_message("live.session_moved", _l("The dual-teacher class %(subject)s moved from %(old)s to %(new)s."))


def _label_subject(code: str) -> str:
    return str(SUBJECT_LABELS.get(code, code))


def class_county(live_class: LiveClass) -> int | None:
    """The county of the class's main classroom: the one whose bureau reads its audit trail."""
    classroom = db.session.get(Classroom, live_class.main_classroom_id)
    return school_county(classroom.school_id) if classroom is not None else None


def class_summary(live_class: LiveClass, session: LiveSession | None = None) -> str:
    text = live_class.title or _label_subject(live_class.subject)
    if session is not None:
        text += " · " + to_local(session.starts_at).strftime("%Y-%m-%d %H:%M")
    return text


def audit_session(actor: User, action: str, session: LiveSession, details: dict | None = None) -> None:
    live_class = session.live_class
    audit_record(actor, action, "live_session", session.id, county_id=class_county(live_class),
                 summary=class_summary(live_class, session), details={"class_id": live_class.id, **(details or {})})


def class_link(live_class: LiveClass) -> str:
    return path_for("scheduling.live_class", class_id=live_class.id)


def session_link(session: LiveSession) -> str:
    return path_for("scheduling.live_session", session_id=session.id)


def needs_of(main_teacher_id: int, main_classroom_id: int, receiving: list[tuple[int, int]]) -> list[Need]:
    """Everyone and every room a session of the class occupies."""
    needs = [Need("teacher", main_teacher_id, "main_teacher"), Need("classroom", main_classroom_id, "main_classroom")]
    for classroom_id, assistant_id in receiving:
        needs.append(Need("classroom", classroom_id, "receiving_classroom"))
        needs.append(Need("teacher", assistant_id, "assistant"))
    return needs


def _check_scope(actor: User, main_teacher: User, receiving: list[tuple[Classroom, User]],
                 keep_people=frozenset(), keep_rooms=frozenset()) -> None:
    """What the forms offer (form_input.options_for) is what the services accept: a principal
    names a teacher of their own school as the main teacher; county staff, principals and
    teachers take receiving classrooms of their own county; city staff anyone. People and rooms
    already in the class (``keep_*``) stay allowed when it is changed."""
    if main_teacher.id not in keep_people:
        if actor.role == "principal" and main_teacher.school_id != actor.school_id:
            raise NotAllowed(_l("A principal names a teacher of their own school as the main teacher."))
        county = actor.scope_county_id
        if county is not None and (main_teacher.school is None or main_teacher.school.county_id != county):
            raise NotAllowed(_l("Choose a main teacher of your own county."))
    county = actor.scope_county_id
    if county is not None:
        for classroom, _assistant in receiving:
            if classroom.id not in keep_rooms and classroom.school.county_id != county:
                raise NotAllowed(_l("%(room)s is not in your county.", room=classroom.name))


def _check(actor: User, *, subject: str, grade: int | None, main_teacher: User | None,
           main_classroom: Classroom | None, receiving: list[tuple[Classroom, User]], slots: list[Slot],
           first_date: date | None, last_date: date | None, keep_people=frozenset(),
           keep_rooms=frozenset()) -> None:
    if subject not in SUBJECT_LABELS:
        raise Invalid(_l("Choose the subject."), field="subject")
    if grade is not None and not 1 <= grade <= 12:
        raise Invalid(_l("The grade must be a whole number from 1 to 12."), field="grade")
    if main_teacher is None or not main_teacher.active or main_teacher.role not in ("teacher", "principal"):
        raise Invalid(_l("Choose the main teacher: a teacher with an active account."), field="main_teacher_id")
    if main_classroom is None or not main_classroom.is_active or not main_classroom.school.is_active:
        raise Invalid(_l("Choose the main classroom: an active class of an active school."),
                      field="main_classroom_id")
    if not can_schedule_for(actor, main_teacher, main_classroom):
        raise NotAllowed(_l("You can schedule your own classes; principals those of their school; the bureau any."))
    _check_scope(actor, main_teacher, receiving, keep_people, keep_rooms)
    if not receiving:
        raise Invalid(_l("Add at least one receiving classroom."), field="receiving")
    if len(receiving) > MAX_RECEIVING:
        raise Invalid(_l("At most %(n)d receiving classrooms.", n=MAX_RECEIVING), field="receiving")
    rooms = [c.id for c, _a in receiving]
    if len(set(rooms)) != len(rooms):
        raise Invalid(_l("A receiving classroom is listed twice."), field="receiving")
    for classroom, assistant in receiving:
        if classroom.id == main_classroom.id:
            raise Invalid(_l("The main classroom cannot also receive."), field="receiving")
        if not classroom.is_active or not classroom.school.is_active:
            raise Invalid(_l("%(room)s is not an active class.", room=classroom.name), field="receiving")
        if assistant is None or not assistant.active or assistant.role not in ("teacher", "principal"):
            raise Invalid(_l("Each receiving classroom needs an assistant teacher with an active account."),
                          field="receiving")
        if assistant.id == main_teacher.id:
            raise Invalid(_l("The main teacher cannot also assist in a receiving classroom."), field="receiving")
        if assistant.school_id != classroom.school_id:
            raise Invalid(_l("%(name)s does not teach at the school of %(room)s.", name=assistant.name,
                             room=classroom.name), field="receiving")
    if not slots:
        raise Invalid(_l("Give the weekday and the times."), field="weekday")
    for slot in slots:
        if not 1 <= slot.weekday <= 7:
            raise Invalid(_l("The weekday must be from 1 (Monday) to 7 (Sunday)."), field="weekday")
        if slot.end <= slot.start:
            raise Invalid(_l("The class must end after it starts."), field="end_time")
    if first_date is None or last_date is None:
        raise Invalid(_l("Give the first and last dates, or choose a term."), field="first_date")
    if last_date < first_date:
        raise Invalid(_l("The last date cannot be before the first date."), field="last_date")
    if (last_date - first_date).days > MAX_DAYS:
        raise Invalid(_l("A class runs for a term or a school year at most."), field="last_date")


def _names(main_teacher: User, main_classroom: Classroom, receiving: list[tuple[Classroom, User]]) -> dict:
    """The names a clash list shows for the class's own people and rooms, from the loaded objects."""
    names = {("teacher", main_teacher.id): main_teacher.name,
             ("classroom", main_classroom.id): room_name(main_classroom.school.name, main_classroom.name)}
    for classroom, assistant in receiving:
        names[("teacher", assistant.id)] = assistant.name
        names[("classroom", classroom.id)] = room_name(classroom.school.name, classroom.name)
    return names


def plan(*, main_teacher_id: int, main_classroom: Classroom, receiving: list[tuple[int, int]], slots: list[Slot],
         first_date: date, last_date: date, skip: set[date] = frozenset(), ignore_class_id: int | None = None):
    """The occurrences a class would have and the clashes they would meet."""
    calendar = calendar_between(first_date, last_date, main_classroom.school.county_id)
    wanted = occurrences(first_date, last_date, slots, calendar, skip)
    needs = needs_of(main_teacher_id, main_classroom.id, receiving)
    return wanted, find_clashes(needs, wanted, ignore_class_id=ignore_class_id)


# The tables' INSERTs, not the ORM's bulk insert (~70 us a row in _collect_insert_commands), run on
# the session's connection (no ORM statement handling: ~50 us a statement). No ORM object of
# these tables waits to be flushed when they run: classes, sessions and bookings are written here.
_NEW_CLASS = insert(LiveClass.__table__).returning(LiveClass.__table__.c.id)
_NEW_SLOTS = insert(ClassSlot.__table__)
_NEW_RECEIVING = insert(ReceivingClassroom.__table__)
_NEW_BOOKINGS = insert(Booking.__table__)
SESSIONS_PER_INSERT = 250  # occurrences in one INSERT: SQLite allows 500 terms in a UNION ALL


class NewSession(NamedTuple):
    """A session as created: its id and times (what the API answers and the bell warnings read)."""

    id: int
    starts_at: datetime
    ends_at: datetime


@lru_cache(maxsize=64)
def _sessions_insert(count: int):
    """The sessions of ``count`` occurrences (bound: ``s<i>``, ``e<i>``, ``d<i>``; ``class_id``) in
    one INSERT ... SELECT, inserted in occurrence order, handing back their ids. The other columns
    take their defaults, once for the statement. The executemany of a term's 19 rows cost ~3.4 M
    instructions (ten parameters a row, four of them defaults worked out row by row), and reading
    the sessions back for the answer another statement (~0.7 M)."""
    wanted = union_all(*[
        select(bindparam(f"s{i}", type_=UTCMoment).label("starts_at"),
               bindparam(f"e{i}", type_=UTCMoment).label("ends_at"),
               bindparam(f"d{i}", type_=Date).label("day"), literal_column(str(i)).label("position"))
        for i in range(count)
    ]).subquery("wanted")
    table = LiveSession.__table__
    rows = select(bindparam("class_id", type_=Integer), wanted.c.starts_at, wanted.c.ends_at, wanted.c.day).order_by(
        wanted.c.position)
    return insert(table).from_select(["live_class_id", "starts_at", "ends_at", "occurrence_date"], rows).returning(
        table.c.id)


def _insert_sessions(live_class_id: int, wanted: list[Occurrence]) -> list[NewSession]:
    """The class's sessions, one per occurrence, ids ascending in occurrence order (as the rows
    are inserted: the bookings are copied in id order too); the occurrences' own times are the
    sessions', so nothing is read back but the ids."""
    connection = db.session.connection()
    created = []
    for low in range(0, len(wanted), SESSIONS_PER_INSERT):
        chunk = wanted[low:low + SESSIONS_PER_INSERT]
        params = {"class_id": live_class_id}
        for i, o in enumerate(chunk):
            params[f"s{i}"], params[f"e{i}"], params[f"d{i}"] = o.starts_at, o.ends_at, o.day
        ids = sorted(connection.execute(_sessions_insert(len(chunk)), params).scalars())
        created += [NewSession(i, o.starts_at, o.ends_at) for i, o in zip(ids, chunk, strict=True)]
    return created


def _book(sessions, live_class_id: int, needs: list[Need]) -> None:
    """One booking per session and need, in one INSERT (a term's class has ~80 of them).
    ``sessions`` are LiveSession rows, or anything with ``id``, ``starts_at`` and ``ends_at``."""
    rows = [
        {"session_id": s.id, "live_class_id": live_class_id, "kind": n.kind, "resource_id": n.resource_id,
         "role": n.role, "starts_at": s.starts_at, "ends_at": s.ends_at}
        for s in sessions for n in needs
    ]
    if rows:
        db.session.connection().execute(_NEW_BOOKINGS, rows)


@cache
def _bookings_of_class(needs: int):
    """One booking per session of a class (bound: ``class_id``) and need (``kind<i>``,
    ``resource<i>``, ``role<i>``), copied from the sessions by the database in session and need
    order: a term's 76 rows sent from Python cost ~1.2 ms (each row's parameters and times
    processed), this ~0.7 ms."""
    wanted = union_all(*[
        select(bindparam(f"kind{i}", type_=String).label("kind"), bindparam(f"resource{i}", type_=Integer)
               .label("resource_id"), bindparam(f"role{i}", type_=String).label("role"),
               literal_column(str(i)).label("position"))
        for i in range(needs)
    ]).subquery("needs")
    sessions = LiveSession.__table__
    rows = select(sessions.c.id, sessions.c.live_class_id, wanted.c.kind, wanted.c.resource_id, wanted.c.role,
                  sessions.c.starts_at, sessions.c.ends_at).select_from(sessions.join(wanted, true())).where(
        sessions.c.live_class_id == bindparam("class_id")).order_by(sessions.c.id, wanted.c.position)
    return insert(Booking.__table__).from_select(
        ["session_id", "live_class_id", "kind", "resource_id", "role", "starts_at", "ends_at"], rows)


def _book_class(live_class_id: int, needs: list[Need]) -> None:
    """The bookings of every session of a new class, as ``_book`` writes them."""
    params = {"class_id": live_class_id}
    for i, need in enumerate(needs):
        params[f"kind{i}"], params[f"resource{i}"], params[f"role{i}"] = need.kind, need.resource_id, need.role
    db.session.connection().execute(_bookings_of_class(len(needs)), params)


def _insert_class(values: dict, slots: list[Slot], pairs: list[tuple[int, int]]) -> LiveClass:
    """The class's row, its weekly times and its receiving rooms, inserted as the ORM would; the
    class as the session's persistent object (its other columns, slots and rooms load when read).
    Three INSERTs: the ORM's flush of the new class and its rows cost ~0.8 ms, these ~0.2 ms."""
    connection = db.session.connection()
    live_class = LiveClass(id=connection.execute(_NEW_CLASS, values).scalar_one(), **values)
    connection.execute(_NEW_SLOTS, [{"live_class_id": live_class.id, "weekday": s.weekday, "start_time": s.start,
                                     "end_time": s.end} for s in slots])
    connection.execute(_NEW_RECEIVING, [{"live_class_id": live_class.id, "classroom_id": c, "assistant_id": a}
                                        for c, a in pairs])
    note_change()  # the ORM saw no new class: the figures' cache must hear of it
    make_transient_to_detached(live_class)
    # After a rollback SQLite gives the id again, and the session may still hold the class that
    # had it (expired): merge makes that object this class. Otherwise the class is added as it is
    # (merge copies it into a new object: ~0.2 M instructions).
    if inspect(live_class).key in db.session.identity_map:
        return db.session.merge(live_class, load=False)
    db.session.add(live_class)
    return live_class


def schedule_live_class(actor: User, **values) -> LiveClass:
    """Create the class and one session per occurrence (``schedule_live_class_and_sessions``)."""
    return schedule_live_class_and_sessions(actor, **values)[0]


def schedule_live_class_and_sessions(
    actor: User,
    *,
    subject: str,
    grade: int | None,
    main_teacher: User | None,
    main_classroom: Classroom | None,
    receiving: list[tuple[Classroom, User]],
    slots: list[Slot],
    first_date: date | None = None,
    last_date: date | None = None,
    term: Term | None = None,
    title: str = "",
    skip_dates: set[date] = frozenset(),
    skip_clashes: bool = False,
) -> tuple[LiveClass, list[NewSession]]:
    """Create the class and one session per occurrence. A clash refuses the whole class
    (Conflict with the list), unless ``skip_clashes``: then the clashing dates are left out.
    Returns the class and its sessions in time order."""
    if term is not None:
        first_date, last_date = first_date or term.start_date, last_date or term.end_date
    _check(actor, subject=subject, grade=grade, main_teacher=main_teacher, main_classroom=main_classroom,
           receiving=receiving, slots=slots, first_date=first_date, last_date=last_date)
    pairs = [(c.id, a.id) for c, a in receiving]
    skip = set(skip_dates)
    wanted, clashes = plan(main_teacher_id=main_teacher.id, main_classroom=main_classroom, receiving=pairs,
                           slots=slots, first_date=first_date, last_date=last_date, skip=skip)
    if clashes and not skip_clashes:
        raise Conflict(_l("Some sessions clash with other classes of the same teachers or classrooms."),
                       details={"conflicts": describe(clashes, _names(main_teacher, main_classroom, receiving)),
                                "dates": clash_dates(clashes)})
    if clashes:
        dropped = {c.occurrence.day for c in clashes}
        wanted = [o for o in wanted if o.day not in dropped]
    if not wanted:
        raise Invalid(_l("No session falls between the first and last dates on those weekdays."), field="weekday")
    live_class = _insert_class(dict(
        subject=subject, grade=grade, title=clean_text(title, max_length=120), main_teacher_id=main_teacher.id,
        main_classroom_id=main_classroom.id, term_id=term.id if term else None, first_date=first_date,
        last_date=last_date, created_by_id=actor.id,
    ), slots, pairs)
    # Two statements for a term or a school year: the sessions, their bookings copied from them.
    sessions = _insert_sessions(live_class.id, wanted)
    _book_class(live_class.id, needs_of(main_teacher.id, main_classroom.id, pairs))
    # The people as loaded objects: notify then knows their languages without asking.
    people = [person for person in [main_teacher, *(a for _c, a in receiving)] if person.id != actor.id]
    when = to_local(wanted[0].starts_at).strftime("%Y-%m-%d %H:%M")
    notify(people, "live.class_scheduled", link=class_link(live_class),
           params={"subject": _label_subject(subject), "when": when})
    audit_record(actor, "live_class.scheduled", "live_class", live_class.id, county_id=class_county(live_class),
                 summary=class_summary(live_class), details={"sessions": len(wanted), "first_date": first_date,
                                                             "last_date": last_date})
    return live_class, sessions


def _people(live_class: LiveClass) -> set[int]:
    return {live_class.main_teacher_id} | {r.assistant_id for r in live_class.receiving}


def cancel_session(actor: User, session: LiveSession, note: str = "") -> None:
    live_class = session.live_class
    if not can_change_class(actor, live_class):
        raise NotAllowed(_l("Only the main teacher, their principal and the bureau change this class."))
    if session.status != "scheduled":
        raise Conflict(_l("Only a scheduled session can be cancelled."))
    session.status = "cancelled"
    session.note = clean_text(note, max_length=200)
    session.sequence += 1
    db.session.execute(delete(Booking).where(Booking.session_id == session.id))
    audit_session(actor, "live_session.cancelled", session, {"note": session.note})
    notify(_people(live_class) - {actor.id}, "live.session_cancelled", link=session_link(session),
           params={"subject": _label_subject(live_class.subject),
                   "when": to_local(session.starts_at).strftime("%Y-%m-%d %H:%M")})


def move_session(actor: User, session: LiveSession, day: date, start: time, end: time) -> None:
    """Move one occurrence; refused (with the list) when the new time clashes."""
    from .recurrence import to_utc

    live_class = session.live_class
    if not can_change_class(actor, live_class):
        raise NotAllowed(_l("Only the main teacher, their principal and the bureau change this class."))
    if session.status != "scheduled":
        raise Conflict(_l("Only a scheduled session can be moved."))
    if end <= start:
        raise Invalid(_l("The class must end after it starts."), field="end_time")
    target = Occurrence(day, to_utc(day, start), to_utc(day, end))
    needs = needs_of(live_class.main_teacher_id, live_class.main_classroom_id,
                     [(r.classroom_id, r.assistant_id) for r in live_class.receiving])
    clashes = find_clashes(needs, [target], ignore_session_ids={session.id})
    if clashes:
        raise Conflict(_l("The new time clashes with other classes of the same teachers or classrooms."),
                       details={"conflicts": describe(clashes)})
    old = to_local(session.starts_at).strftime("%Y-%m-%d %H:%M")
    session.starts_at, session.ends_at, session.moved = target.starts_at, target.ends_at, True
    session.sequence += 1
    db.session.execute(delete(Booking).where(Booking.session_id == session.id))
    _book([session], live_class.id, needs)
    db.session.flush()
    audit_session(actor, "live_session.moved", session, {"starts_at": {"from": old, "to": to_local(
        target.starts_at).strftime("%Y-%m-%d %H:%M")}})
    notify(_people(live_class) - {actor.id}, "live.session_moved", link=session_link(session),
           params={"subject": _label_subject(live_class.subject), "old": old,
                   "new": to_local(target.starts_at).strftime("%Y-%m-%d %H:%M")})


def sessions_between(start: datetime, end: datetime):
    return select(LiveSession).where(LiveSession.starts_at < end, LiveSession.ends_at > start)


