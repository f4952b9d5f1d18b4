"""Changing a class after it was scheduled: the whole series from a date onward, or one more
session (re-adding a cancelled occurrence, or an extra one). Services flush and never commit.

Editing from a date leaves the past alone: sessions before the date, sessions that have started
and sessions with attendance keep their times and people. Every later occurrence is regenerated
from the new weekdays and times, keeping each session's id (so its calendar UID) where a session
existed on that date; a session whose time or main teacher or room changes gets a higher
iCalendar SEQUENCE. An occurrence cancelled by hand stays cancelled. Occurrences the new pattern
no longer has are cancelled (calendars then drop them) and come back if a later change brings
their date back. The new sessions are checked for clashes exactly as a new class is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy import delete, select

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.audit import record as audit_record
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.locking import check_version, mark_edited
from ..core.models import utcnow
from ..core.timeutil import to_local
from ..extensions import db
from ..org.models import Classroom
from .bells import BellWarning, bell_warnings
from .conflicts import clash_dates, describe, find_clashes
from .models import Booking, ClassSlot, LiveClass, LiveSession, ReceivingClassroom
from .permissions import can_change_class
from .recurrence import Occurrence, Slot, calendar_between, occurrences, to_utc
from .services import (
    _book,
    _check,
    _label_subject,
    _people,
    audit_session,
    class_county,
    class_link,
    class_summary,
    needs_of,
)

log = logging.getLogger("portal.audit")

register_message("live.series_changed",
                 _l("The dual-teacher class %(subject)s changes from %(day)s on: %(n)s sessions are planned after the "
                    "change. See the class page for the new times and people."))
register_message("live.session_restored", _l("The dual-teacher class %(subject)s on %(when)s takes place after all."))
register_message("live.session_added", _l("An extra session of the dual-teacher class %(subject)s: %(when)s."))


@dataclass
class SeriesChange:
    """What a change of the series did, for the page's message."""

    live_class: LiveClass
    created: int = 0
    changed: int = 0
    removed: int = 0
    kept: int = 0
    skipped_dates: list[str] = field(default_factory=list)
    warnings: list[BellWarning] = field(default_factory=list)


def _pair(olds: list[LiveSession], news: list[Occurrence]) -> list[tuple[LiveSession | None, Occurrence | None]]:
    """Sessions of one date with the occurrences the new pattern gives it: the same times first,
    then the rest in order of time."""
    olds = sorted(olds, key=lambda s: s.starts_at)
    pairs: list[tuple[LiveSession | None, Occurrence | None]] = []
    rest = []
    for occurrence in news:
        same = next((s for s in olds if (s.starts_at, s.ends_at) == (occurrence.starts_at, occurrence.ends_at)), None)
        if same is not None:
            olds.remove(same)
            pairs.append((same, occurrence))
        else:
            rest.append(occurrence)
    for occurrence in rest:
        pairs.append((olds.pop(0) if olds else None, occurrence))
    pairs.extend((s, None) for s in olds)
    return pairs


def change_series(
    actor: User,
    live_class: LiveClass,
    *,
    from_date: date | None,
    main_teacher: User | None,
    main_classroom: Classroom | None,
    receiving: list[tuple[Classroom, User]],
    slots: list[Slot],
    last_date: date | None,
    skip_clashes: bool = False,
    version: int | None = None,
) -> SeriesChange:
    """Change weekdays, times, people, rooms or the last date from ``from_date`` onward. A change
    made on another ``version`` of the class than the stored one (the main teacher, the principal
    and the bureau editing at once) is refused."""
    if not can_change_class(actor, live_class):
        raise NotAllowed(_l("Only the main teacher, their principal and the bureau change this class."))
    check_version(live_class, version)
    if from_date is None:
        raise Invalid(_l("Give the date the change starts."), field="from_date")
    _check(actor, subject=live_class.subject, grade=live_class.grade, main_teacher=main_teacher,
           main_classroom=main_classroom, receiving=receiving, slots=slots, first_date=live_class.first_date,
           last_date=last_date,
           keep_people={live_class.main_teacher_id} | {r.assistant_id for r in live_class.receiving},
           keep_rooms={live_class.main_classroom_id} | {r.classroom_id for r in live_class.receiving})
    if from_date < live_class.first_date:
        raise Invalid(_l("The change cannot start before the class's first date (%(day)s).",
                         day=live_class.first_date.isoformat()), field="from_date")
    if last_date < from_date:
        raise Invalid(_l("The last date cannot be before the date the change starts."), field="last_date")
    now = utcnow()
    mark_edited(live_class, "title")  # a new version even when only rooms or times change
    pairs_new = [(c.id, a.id) for c, a in receiving]
    old_people = _people(live_class)
    old_teacher, old_room = live_class.main_teacher_id, live_class.main_classroom_id
    sessions = db.session.execute(
        select(LiveSession).where(LiveSession.live_class_id == live_class.id, LiveSession.occurrence_date >= from_date)
    ).scalars().all()
    frozen = {s.id for s in sessions if s.status == "done" or s.starts_at <= now}
    frozen_days = {s.occurrence_date for s in sessions if s.id in frozen}
    open_sessions = [s for s in sessions if s.id not in frozen]
    calendar = calendar_between(from_date, last_date, main_classroom.school.county_id)
    wanted = [o for o in occurrences(from_date, last_date, slots, calendar)
              if o.starts_at > now and o.day not in frozen_days]

    by_day_old: dict[date, list[LiveSession]] = {}
    for s in open_sessions:
        by_day_old.setdefault(s.occurrence_date, []).append(s)
    by_day_new: dict[date, list[Occurrence]] = {}
    for o in wanted:
        by_day_new.setdefault(o.day, []).append(o)

    # What each date becomes: (session or None, the time it will have, or None when it goes).
    plan: list[tuple[LiveSession | None, Occurrence | None]] = []
    for day in sorted(set(by_day_old) | set(by_day_new)):
        for session, occurrence in _pair(by_day_old.get(day, []), by_day_new.get(day, [])):
            if session is None:
                plan.append((None, occurrence))
            elif session.status == "cancelled" and not session.series_removed:
                continue  # cancelled by hand: stays cancelled
            elif occurrence is None:
                plan.append((session, None))
            elif session.status == "scheduled" and session.moved:
                # moved by hand to its own time: it keeps that time
                plan.append((session, Occurrence(day, session.starts_at, session.ends_at)))
            else:
                plan.append((session, occurrence))

    needs = needs_of(main_teacher.id, main_classroom.id, pairs_new)
    targets = [o for _s, o in plan if o is not None]
    clashes = find_clashes(needs, targets, ignore_class_id=live_class.id)
    if clashes and not skip_clashes:
        raise Conflict(_l("Some sessions clash with other classes of the same teachers or classrooms."),
                       details={"conflicts": describe(clashes), "dates": clash_dates(clashes)})
    dropped = {c.occurrence for c in clashes}
    result = SeriesChange(live_class, skipped_dates=clash_dates(clashes))

    # The class itself: people and rooms updated in place (one row per receiving room).
    live_class.main_teacher_id, live_class.main_classroom_id = main_teacher.id, main_classroom.id
    live_class.last_date = last_date
    live_class.slots = [ClassSlot(weekday=s.weekday, start_time=s.start, end_time=s.end) for s in slots]
    current = {r.classroom_id: r for r in live_class.receiving}
    for row in list(live_class.receiving):
        if row.classroom_id not in dict(pairs_new):
            live_class.receiving.remove(row)
    for classroom_id, assistant_id in pairs_new:
        if classroom_id in current:
            current[classroom_id].assistant_id = assistant_id
        else:
            live_class.receiving.append(ReceivingClassroom(classroom_id=classroom_id, assistant_id=assistant_id))
    db.session.flush()

    if open_sessions:
        db.session.execute(delete(Booking).where(Booking.session_id.in_([s.id for s in open_sessions])))
    host_changed = (old_teacher, old_room) != (main_teacher.id, main_classroom.id)
    to_book: list[LiveSession] = []
    for session, occurrence in plan:
        if occurrence is not None and occurrence in dropped:
            occurrence = None
        if session is None:
            if occurrence is None:
                continue
            session = LiveSession(live_class_id=live_class.id, starts_at=occurrence.starts_at,
                                  ends_at=occurrence.ends_at, occurrence_date=occurrence.day)
            db.session.add(session)
            result.created += 1
            to_book.append(session)
        elif occurrence is None:
            if session.status == "scheduled":
                session.status, session.series_removed = "cancelled", True
                session.sequence += 1
                result.removed += 1
        else:
            revived = session.status == "cancelled"
            moved_time = (session.starts_at, session.ends_at) != (occurrence.starts_at, occurrence.ends_at)
            if revived or moved_time or host_changed:
                session.sequence += 1
                result.changed += 1
            else:
                result.kept += 1
            session.starts_at, session.ends_at = occurrence.starts_at, occurrence.ends_at
            session.status, session.series_removed = "scheduled", False
            to_book.append(session)
    db.session.flush()
    _book(to_book, live_class.id, needs)
    db.session.flush()

    result.warnings = bell_warnings([c for c, _a in pairs_new], [(s.starts_at, s.ends_at) for s in to_book])
    people = old_people | _people(live_class)
    notify(people - {actor.id}, "live.series_changed", link=class_link(live_class),
           params={"subject": _label_subject(live_class.subject), "day": from_date.isoformat(), "n": len(to_book)})
    log.info("live series changed id=%s from=%s created=%d changed=%d removed=%d kept=%d skipped=%d by=%s",
             live_class.id, from_date, result.created, result.changed, result.removed, result.kept,
             len(result.skipped_dates), actor.id)
    audit_record(actor, "live_class.series_changed", "live_class", live_class.id, county_id=class_county(live_class),
                 summary=class_summary(live_class), details={"from": from_date, "created": result.created,
                 "changed": result.changed, "removed": result.removed, "skipped": len(result.skipped_dates)})
    return result


def _future_or_refuse(starts_at) -> None:
    if starts_at <= utcnow():
        raise Conflict(_l("That time has passed: only future sessions can be added or re-added."))


def _clash_check(live_class: LiveClass, target: Occurrence, ignore_session_ids: set[int] = frozenset()) -> list:
    needs = needs_of(live_class.main_teacher_id, live_class.main_classroom_id,
                     [(r.classroom_id, r.assistant_id) for r in live_class.receiving])
    clashes = find_clashes(needs, [target], ignore_session_ids=ignore_session_ids)
    if clashes:
        raise Conflict(_l("The time clashes with other classes of the same teachers or classrooms."),
                       details={"conflicts": describe(clashes)})
    return needs


def restore_session(actor: User, session: LiveSession) -> None:
    """Re-add a cancelled occurrence at its time, if nobody and no room is booked then."""
    live_class = session.live_class
    if not can_change_class(actor, live_class):
        raise NotAllowed(_l("Only the main teacher, their principal and the bureau change this class."))
    if session.status != "cancelled":
        raise Conflict(_l("Only a cancelled session can be re-added."))
    _future_or_refuse(session.starts_at)
    needs = _clash_check(live_class, Occurrence(to_local(session.starts_at).date(), session.starts_at,
                                                session.ends_at), {session.id})
    session.status, session.series_removed, session.note = "scheduled", False, ""
    session.sequence += 1
    db.session.execute(delete(Booking).where(Booking.session_id == session.id))
    _book([session], live_class.id, needs)
    db.session.flush()
    notify(_people(live_class) - {actor.id}, "live.session_restored", link=class_link(live_class),
           params={"subject": _label_subject(live_class.subject),
                   "when": to_local(session.starts_at).strftime("%Y-%m-%d %H:%M")})
    log.info("live session restored id=%s class=%s by=%s", session.id, live_class.id, actor.id)
    audit_session(actor, "live_session.restored", session)


def add_session(actor: User, live_class: LiveClass, day: date | None, start: time | None,
                end: time | None) -> LiveSession:
    """One more session of the class (a make-up lesson, or a date skipped for a clash)."""
    if not can_change_class(actor, live_class):
        raise NotAllowed(_l("Only the main teacher, their principal and the bureau change this class."))
    if day is None:
        raise Invalid(_l("Give the date."), field="day")
    if start is None or end is None:
        raise Invalid(_l("Give the start and end times."), field="start_time")
    if end <= start:
        raise Invalid(_l("The class must end after it starts."), field="end_time")
    target = Occurrence(day, to_utc(day, start), to_utc(day, end))
    _future_or_refuse(target.starts_at)
    needs = _clash_check(live_class, target)
    session = LiveSession(live_class_id=live_class.id, starts_at=target.starts_at, ends_at=target.ends_at,
                          occurrence_date=day)
    db.session.add(session)
    db.session.flush()
    _book([session], live_class.id, needs)
    db.session.flush()
    notify(_people(live_class) - {actor.id}, "live.session_added", link=class_link(live_class),
           params={"subject": _label_subject(live_class.subject),
                   "when": to_local(target.starts_at).strftime("%Y-%m-%d %H:%M")})
    log.info("live session added id=%s class=%s by=%s", session.id, live_class.id, actor.id)
    audit_session(actor, "live_session.added", session)
    return session
