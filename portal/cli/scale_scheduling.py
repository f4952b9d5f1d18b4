"""City-scale dual-teacher classes for ``seed scale``: ten per school (20,000 for the whole city)
over the current term, with their sessions, bookings and the attendance of past sessions.

Each class is taught from a room of an urban school to one to three receiving rooms of rural
schools of the same county, once a week at one of the urban bell periods (Monday to Friday, seven
periods: 35 weekly slots). The slot is chosen among those still free for all the people and rooms
of the class (a bit set per person and per room), so no two classes clash; a class that finds no
free slot is dropped. The city's national holidays are in the calendar and have no sessions.
Past sessions were delivered (attendance recorded) but for a few cancelled and a few not
recorded. Ids are assigned here so sessions and bookings go in bulk (one executemany per
chunk); PostgreSQL's sequences are moved past them at the end.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, text

from ..accounts.models import User
from ..core.models import utcnow
from ..core.timeutil import portal_tz
from ..extensions import db
from ..org.models import Classroom
from ..org.services import current_term
from ..scheduling.models import (
    Booking,
    CalendarDay,
    ClassSlot,
    LiveClass,
    LiveSession,
    ReceivingClassroom,
    SessionAttendance,
)
from .demo import WINTER
from .scale import _bulk, scale_step

CLASSES_PER_SCHOOL = 10
SUBJECTS = ["english", "english", "music", "music", "art", "art", "pe", "math", "chinese", "science",
            "morality", "psychology"]
RECEIVING = [1] * 14 + [2] * 5 + [3]  # receiving rooms per class
CANCELLED_SHARE = 0.02
UNRECORDED_SHARE = 0.05
CHUNK = 1000  # classes per bulk round
PERIODS = [(time.fromisoformat(a), time.fromisoformat(b)) for _n, a, b in WINTER]
SLOTS = [(weekday, start, end) for weekday in range(1, 6) for start, end in PERIODS]
# Columns other capabilities may add to sessions, with the value a plain session has.
SESSION_EXTRA = {k: v for k, v in {"series_removed": False}.items() if k in LiveSession.__table__.c}


def _holidays(term) -> list[tuple[date, str]]:
    if term.semester == "autumn":
        year = term.start_date.year
        days = [(date(year, 10, d), "国庆节") for d in range(1, 8)] + [(date(year + 1, 1, 1), "元旦")]
    else:
        year = term.end_date.year
        days = [(date(year, 5, d), "劳动节") for d in range(1, 6)]
    return [(d, name) for d, name in days if term.start_date <= d <= term.end_date]


def _occurrences(term, holidays: set[date]) -> list[list[tuple[date, datetime, datetime]]]:
    """Per weekly slot, every (local date, start, end) of the term, holidays left out."""
    tz = portal_tz()
    result = []
    for weekday, start, end in SLOTS:
        day = term.start_date + timedelta(days=(weekday - term.start_date.isoweekday()) % 7)
        dates = []
        while day <= term.end_date:
            if day not in holidays:
                dates.append((day, datetime.combine(day, start, tz).astimezone(UTC),
                              datetime.combine(day, end, tz).astimezone(UTC)))
            day += timedelta(days=7)
        result.append(dates)
    return result


def _raw_bulk(table: str, columns: tuple[str, ...], rows: list[tuple], chunk: int = 20000) -> None:
    """Plain executemany of tuples already in the database's form: the hundreds of thousands of
    sessions and the millions of bookings skip the per-value type processing."""
    connection = db.session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608  (our own names)
    for start in range(0, len(rows), chunk):
        connection.exec_driver_sql(sql, rows[start:start + chunk])


def _converters():
    """How a datetime (aware) and a date are written: SQLAlchemy's SQLite text form, or naive UTC."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (lambda v: v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")), (lambda v: v.isoformat())
    return (lambda v: v.astimezone(UTC).replace(tzinfo=None)), (lambda v: v)


SESSION_COLUMNS = ("id", "live_class_id", "starts_at", "ends_at", "status", "occurrence_date", "moved", "sequence",
                   "note", "created_at")
BOOKING_COLUMNS = ("session_id", "live_class_id", "kind", "resource_id", "role", "starts_at", "ends_at")
ATTENDANCE_COLUMNS = ("session_id", "classroom_id", "present", "class_size", "feedback", "recorded_by_id",
                      "created_at")


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _free_slot(rng: random.Random, busy: int) -> int | None:
    free = [i for i in range(len(SLOTS)) if not busy >> i & 1]
    return rng.choice(free) if free else None


@scale_step
def scale_scheduling(rng: random.Random, made: dict) -> None:
    db.session.flush()
    term = current_term()
    if term is None:
        return
    rng = random.Random(rng.random())  # this step's own stream: later steps do not shift with it
    school_kind = {sid: row["kind"] for sid, row in zip(made["school_ids"], made["schools"])}
    school_county = {sid: row["county_id"] for sid, row in zip(made["school_ids"], made["schools"])}
    rooms: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # school -> (classroom id, grade, size)
    for cid, sid, grade, size in db.session.execute(
            select(Classroom.id, Classroom.school_id, Classroom.grade, Classroom.student_count).order_by(Classroom.id)):
        rooms[sid].append((cid, grade, size))
    teachers: dict[int, list[int]] = defaultdict(list)
    for uid, sid in db.session.execute(select(User.id, User.school_id).where(User.role == "teacher").order_by(User.id)):
        teachers[sid].append(uid)
    named = dict(db.session.execute(select(User.username, User.id).where(
        User.username.in_(("teacher.city", "teacher.rural", "bureau")))).all())
    city_teacher, rural_teacher = named.get("teacher.city"), named.get("teacher.rural")
    school_of = {uid: sid for sid, uids in teachers.items() for uid in uids}

    urban_by_county: dict[int, list[int]] = defaultdict(list)
    rural_by_county: dict[int, list[int]] = defaultdict(list)
    for sid in made["school_ids"]:
        if not rooms[sid] or not teachers[sid]:
            continue
        (urban_by_county if school_kind[sid] == "urban" else rural_by_county)[school_county[sid]].append(sid)
    counties = [c for c in made["county_ids"] if urban_by_county[c] and rural_by_county[c]]
    if not counties:
        return

    holidays = _holidays(term)
    db.session.add_all([CalendarDay(day=d, kind="holiday", name=name) for d, name in holidays])
    db.session.flush()
    as_datetime, as_date = _converters()
    occurrences = [[(day, a, b, as_date(day), as_datetime(a), as_datetime(b)) for day, a, b in dates]
                   for dates in _occurrences(term, {d for d, _name in holidays})]
    now = utcnow()
    teacher_busy: dict[int, int] = defaultdict(int)
    room_busy: dict[int, int] = defaultdict(int)

    def plan_class(county: int, forced: tuple[int, int] | None = None):
        """(main teacher, main room, grade, [(room, assistant, size)], slot) or None."""
        for _attempt in range(6):
            if forced and _attempt == 0:
                main_teacher, receiving_teacher = forced
                main_school, rural_school = school_of[main_teacher], school_of[receiving_teacher]
            else:
                main_school = rng.choice(urban_by_county[county])
                main_teacher, rural_school, receiving_teacher = rng.choice(teachers[main_school]), None, None
            main_room, grade, _size = rng.choice(rooms[main_school])
            receiving = []
            wanted = 1 if forced and _attempt == 0 else rng.choice(RECEIVING)
            candidates = [rural_school] if rural_school else rng.sample(
                rural_by_county[county], min(wanted, len(rural_by_county[county])))
            for sid in candidates:
                same_grade = [r for r in rooms[sid] if r[1] == grade] or rooms[sid]
                room, _g, size = rng.choice(same_grade)
                assistant = receiving_teacher or rng.choice(teachers[sid])
                receiving.append((room, assistant, max(1, size)))
            if not receiving:
                continue
            busy = teacher_busy[main_teacher] | room_busy[main_room]
            for room, assistant, _size in receiving:
                busy |= teacher_busy[assistant] | room_busy[room]
            slot = _free_slot(rng, busy)
            if slot is not None and len({a for _r, a, _s in receiving}) == len(receiving) and \
                    main_teacher not in {a for _r, a, _s in receiving}:
                bit = 1 << slot
                teacher_busy[main_teacher] |= bit
                room_busy[main_room] |= bit
                for room, assistant, _size in receiving:
                    teacher_busy[assistant] |= bit
                    room_busy[room] |= bit
                return main_teacher, main_room, grade, receiving, slot
        return None

    n_classes = CLASSES_PER_SCHOOL * len(made["school_ids"])
    class_id, session_id = _next_id(LiveClass), _next_id(LiveSession)
    created_by = named.get("bureau")
    stamp = now
    stamp_db = as_datetime(now)
    extra = tuple(SESSION_EXTRA.values())
    forced = (city_teacher, rural_teacher) if city_teacher and rural_teacher else None
    batch: dict[str, list[dict]] = defaultdict(list)

    def flush_batch():
        for model, key in ((LiveClass, "classes"), (ClassSlot, "slots"), (ReceivingClassroom, "receiving")):
            _bulk(model, batch[key])
        _raw_bulk(LiveSession.__tablename__, SESSION_COLUMNS + tuple(SESSION_EXTRA), batch["sessions"])
        _raw_bulk(Booking.__tablename__, BOOKING_COLUMNS, batch["bookings"])
        _raw_bulk(SessionAttendance.__tablename__, ATTENDANCE_COLUMNS, batch["attendance"])
        batch.clear()

    made_classes = 0
    for n in range(n_classes):
        if forced and n < 3:  # the demo accounts' own classes: teacher.city teaches, teacher.rural assists
            plan = plan_class(school_county[school_of[forced[0]]], forced)
        else:
            plan = plan_class(counties[n % len(counties)])
        if plan is None:
            continue
        main_teacher, main_room, grade, receiving, slot = plan
        weekday, start, end = SLOTS[slot]
        batch["classes"].append({
            "id": class_id, "subject": rng.choice(SUBJECTS), "grade": grade, "title": "",
            "main_teacher_id": main_teacher, "main_classroom_id": main_room, "term_id": term.id,
            "first_date": term.start_date, "last_date": term.end_date, "notes": "", "created_by_id": created_by,
            "created_at": stamp})
        batch["slots"].append({"live_class_id": class_id, "weekday": weekday, "start_time": start, "end_time": end})
        for room, assistant, _size in receiving:
            batch["receiving"].append({"live_class_id": class_id, "classroom_id": room, "assistant_id": assistant})
        needs = [("teacher", main_teacher, "main_teacher"), ("classroom", main_room, "main_classroom")]
        for room, assistant, _size in receiving:
            needs += [("classroom", room, "receiving_classroom"), ("teacher", assistant, "assistant")]
        for _day, _starts_at, ends_at, day_db, starts_db, ends_db in occurrences[slot]:
            roll = rng.random()
            status = "scheduled"
            if roll < CANCELLED_SHARE:
                status = "cancelled"
            elif ends_at < now and roll >= CANCELLED_SHARE + UNRECORDED_SHARE:
                status = "done"
            batch["sessions"].append((session_id, class_id, starts_db, ends_db, status, day_db, False,
                                      1 if status == "cancelled" else 0, "", stamp_db, *extra))
            if status != "cancelled":
                batch["bookings"].extend((session_id, class_id, kind, resource, role, starts_db, ends_db)
                                         for kind, resource, role in needs)
            if status == "done":
                batch["attendance"].extend(
                    (session_id, room, size - min(size, rng.randint(0, 3)), size, "", assistant, ends_db)
                    for room, assistant, size in receiving)
            session_id += 1
        class_id += 1
        made_classes += 1
        if made_classes % CHUNK == 0:
            flush_batch()
    flush_batch()
    if db.session.get_bind().dialect.name == "postgresql":
        for table in ("live_classes", "live_sessions"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                    f"(SELECT COALESCE(max(id), 1) FROM {table}))"))  # (two fixed names)
    made["live_classes"] = made_classes
