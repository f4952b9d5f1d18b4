"""Demo and scale data of the dual-teacher classes."""

from __future__ import annotations

from datetime import time

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.cli.demo import seed_demo
from portal.core.models import utcnow
from portal.core.timeutil import to_local
from portal.org.services import current_term
from portal.scheduling import timetable
from portal.scheduling.models import CalendarDay, LiveClass, LiveSession, ReceivingClassroom, SessionAttendance


def test_demo_has_a_term_of_dual_teacher_classes_with_each_schools_periods(db):
    seed_demo()
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    classes = db.session.execute(select(LiveClass)).scalars().all()
    assert {c.subject for c in classes} == {"english", "music", "art", "pe"}
    term = current_term()
    assert all(c.term_id == term.id for c in classes)
    english = next(c for c in classes if c.main_teacher_id == users["teacher.city"].id)
    assert users["teacher.rural"].id in {r.assistant_id for r in english.receiving}
    kinds = {r.classroom.school.kind for c in classes for r in c.receiving}
    assert kinds == {"village", "teaching_point"}
    assert {c.main_classroom.school.kind for c in classes} == {"urban"}
    days = db.session.execute(select(CalendarDay)).scalars().all()
    assert {d.kind for d in days} == {"holiday", "workday"}
    statuses = dict(db.session.execute(select(LiveSession.status, func.count()).group_by(LiveSession.status)).all())
    assert statuses["done"] > 0 and statuses["cancelled"] == 1  # the term is under way (today: a term day)
    assert db.session.execute(select(func.count()).where(LiveSession.moved.is_(True))).scalar() == 1
    done = db.session.execute(select(LiveSession).where(LiveSession.status == "done")).scalars().all()
    attended = db.session.execute(select(SessionAttendance)).scalars().all()
    assert {a.session_id for a in attended} == {s.id for s in done}
    assert all(1 <= a.class_size and 0 <= a.present <= a.class_size for a in attended)
    # The 10:10 English lesson: the urban school's period 3, the village school's period 4 in winter.
    school = users["teacher.city"].school
    week = None
    for session in db.session.execute(select(LiveSession).where(LiveSession.live_class_id == english.id,
                                                                LiveSession.moved.is_(False))).scalars():
        local = to_local(session.starts_at)
        if local.month in (10, 11, 12, 1) and local.time() == time(10, 10):
            week = timetable.week_of(timetable.teacher_classes(users["teacher.city"].id), timetable.monday_of(local.date()),
                                     school.id)
            break
    assert week is not None
    entry = next(e for d in week.days for e in d.entries if e.live_class.id == english.id)
    assert [(s.role, s.periods) for s in entry.schools] == [("main", [3]), ("receiving", [4]), ("receiving", [4])]
    overview = timetable.term_overview(users["principal.rural"].school_id, term, utcnow())
    assert {r.subject for r in overview["receiving"]} == {"english", "music"}
    assert db.session.execute(select(func.count()).select_from(ReceivingClassroom)).scalar() == 7


def test_scale_classes_are_many_without_clashes_and_the_conflict_check_sees_them(db, english):
    from datetime import time

    import pytest

    from portal.cli.scale import seed_scale
    from portal.core.errors import Conflict
    from portal.scheduling import services
    from portal.scheduling.models import Booking, ClassSlot
    from portal.scheduling.recurrence import Slot

    seed_scale(schools=30, teachers=600, seed=2)
    classes = db.session.execute(select(LiveClass)).scalars().all()
    assert 0.9 * 300 <= len(classes) <= 300
    term = current_term()
    assert {c.term_id for c in classes} == {term.id}
    assert {c.main_classroom.school.kind for c in classes} == {"urban"}
    assert {r.classroom.school.kind for c in classes for r in c.receiving} <= {"township", "village", "teaching_point"}
    assert all(r.classroom.school.county_id == c.main_classroom.school.county_id for c in classes for r in c.receiving)
    users = {u.username: u for u in db.session.execute(select(User).where(User.username.like("teacher.%"))).scalars()}
    assert any(c.main_teacher_id == users["teacher.city"].id for c in classes)
    assert any(r.assistant_id == users["teacher.rural"].id for c in classes for r in c.receiving)
    b1, b2 = Booking.__table__.alias(), Booking.__table__.alias()
    overlapping = select(func.count()).select_from(b1.join(b2, (b1.c.kind == b2.c.kind) & (b1.c.resource_id == b2.c.resource_id)
                                                           & (b1.c.id < b2.c.id) & (b1.c.starts_at < b2.c.ends_at)
                                                           & (b2.c.starts_at < b1.c.ends_at)))
    assert db.session.execute(overlapping).scalar() == 0
    # Sessions read back as local times of the slot, on term days but the holidays; bookings for all but cancelled.
    holidays = {d.day for d in db.session.execute(select(CalendarDay)).scalars()}
    one = classes[5]
    slot = db.session.execute(select(ClassSlot).where(ClassSlot.live_class_id == one.id)).scalar_one()
    sessions = db.session.execute(select(LiveSession).where(LiveSession.live_class_id == one.id)).scalars().all()
    assert len(sessions) >= 15
    for s in sessions:
        local = to_local(s.starts_at)
        assert local.isoweekday() == slot.weekday and local.time() == slot.start_time and local.date() not in holidays
        assert term.start_date <= s.occurrence_date == local.date() <= term.end_date
    live = [s for s in sessions if s.status != "cancelled"]
    assert db.session.execute(select(func.count()).where(Booking.live_class_id == one.id)).scalar() == \
        len(live) * 2 * (1 + len(one.receiving))
    done = db.session.execute(select(func.count()).where(LiveSession.status == "done")).scalar()
    attended = db.session.execute(select(func.count(func.distinct(SessionAttendance.session_id)))).scalar()
    assert done == attended > 0
    # A new class at a booked time of one of them is refused; at a free weekend time it is created.
    busy = next(c for c in classes if c.main_teacher_id == users["teacher.city"].id)
    busy_slot = busy.slots[0]
    room = busy.main_classroom
    receiving = [(busy.receiving[0].classroom, busy.receiving[0].assistant)]
    with pytest.raises(Conflict):
        services.schedule_live_class(users["teacher.city"], subject="english", grade=room.grade,
                                     main_teacher=users["teacher.city"], main_classroom=room, receiving=receiving,
                                     slots=[Slot(busy_slot.weekday, busy_slot.start_time, busy_slot.end_time)], term=term)
    created = services.schedule_live_class(users["teacher.city"], subject="english", grade=room.grade,
                                           main_teacher=users["teacher.city"], main_classroom=room, receiving=receiving,
                                           slots=[Slot(6, time(9, 0), time(9, 40))], term=term)
    db.session.commit()
    assert created.id > max(c.id for c in classes)
