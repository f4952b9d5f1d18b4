"""Demo dual-teacher classes (双师课堂 / 专递课堂) for the current term.

English, music, art and PE taught live from the urban schools to village schools and teaching
points; teacher.city teaches the English class, teacher.rural assists it (and the music class).
The village schools and teaching points keep their own bell schedule (a morning reading period
first, so the urban school's third period is their fourth). The term's calendar has its holidays
and a make-up working day (调休); past sessions have attendance recorded, one was cancelled, one
is moved, and the latest PE session has no attendance yet.
"""

from __future__ import annotations

import random
from datetime import date, time, timedelta

from sqlalchemy import select

from ..accounts.services import create_user
from ..core.models import utcnow
from ..core.timeutil import to_local
from ..extensions import db
from ..org import services as org_services
from ..org.models import BellSchedule, Classroom
from ..org.services import current_term
from ..scheduling import services
from ..scheduling.models import CalendarDay, LiveSession, SessionAttendance
from ..scheduling.recurrence import Slot
from .demo import DEMO_PASSWORD, demo_step

# The receiving schools' own bell schedules: 20 minutes earlier and a morning reading period.
RURAL_SUMMER = [(1, "07:30", "08:10"), (2, "08:20", "09:00"), (3, "09:10", "09:50"), (4, "10:00", "10:40"),
                (5, "10:50", "11:30"), (6, "14:30", "15:10"), (7, "15:20", "16:00"), (8, "16:10", "16:50")]
RURAL_WINTER = [(1, "07:40", "08:20"), (2, "08:30", "09:10"), (3, "09:20", "10:00"), (4, "10:10", "10:50"),
                (5, "11:00", "11:40"), (6, "14:00", "14:40"), (7, "14:50", "15:30"), (8, "15:40", "16:20")]

# subject, grade, title, main teacher, main school index, slots (weekday, start, end), receiving (school, assistant)
CLASSES = [
    ("english", 4, "四年级英语双师课堂", "teacher.city", 0, [(2, "10:10", "10:50"), (4, "10:10", "10:50")],
     [(6, "teacher.rural"), (11, "teacher.village5")]),
    ("music", 3, "三年级音乐专递课堂", "teacher.city3", 2, [(3, "14:00", "14:40")],
     [(6, "teacher.rural"), (9, "teacher.village3")]),
    ("art", 2, "二年级美术专递课堂", "teacher.city4", 0, [(1, "14:50", "15:30")],
     [(10, "teacher.village4"), (8, "teacher.village2")]),
    ("pe", 5, "五年级体育双师课堂", "teacher.city5", 2, [(5, "15:40", "16:20")], [(7, "teacher.village1")]),
]
NEW_TEACHERS = [("teacher.city4", "林燕", 0, ["art"], "first"), ("teacher.city5", "王刚", 2, ["pe"], "second")]
FEEDBACK = ["学生跟读积极，声音清晰。", "网络稳定，互动顺畅。", "学生很喜欢这节课。", "画面有短暂卡顿，已恢复。", ""]


def _holidays(term) -> list[CalendarDay]:
    """The term's national holidays and one make-up working day (调休) on a weekend."""
    if term.semester == "autumn":
        year = term.start_date.year
        days = [CalendarDay(day=date(year, 10, d), kind="holiday", name="国庆节") for d in range(1, 8)]
        days.append(CalendarDay(day=date(year + 1, 1, 1), kind="holiday", name="元旦"))
        make_up = date(year, 10, 10)
    else:
        year = term.end_date.year
        days = [CalendarDay(day=date(year, 5, d), kind="holiday", name="劳动节") for d in range(1, 6)]
        make_up = date(year, 4, 26)
    while make_up.isoweekday() < 6:  # the nearest weekend day
        make_up += timedelta(days=1)
    days.append(CalendarDay(day=make_up, kind="workday", follows_weekday=4, name="调休上班"))
    return [d for d in days if term.start_date <= d.day <= term.end_date]


def _rural_bells(bureau, schools) -> None:
    rows = db.session.execute(select(BellSchedule).where(
        BellSchedule.school_id.in_([s.id for s in schools if s.kind in ("village", "teaching_point")]))).scalars()
    for schedule in list(rows):
        periods = RURAL_SUMMER if schedule.from_month_day == "05-01" else RURAL_WINTER
        org_services.save_bell_schedule(
            bureau, schedule, school=schedule.school, name=schedule.name, from_month_day=schedule.from_month_day,
            to_month_day=schedule.to_month_day,
            periods=[(n, time.fromisoformat(a), time.fromisoformat(b)) for n, a, b in periods])


def _room(school, grade: int) -> Classroom:
    return db.session.execute(select(Classroom).where(Classroom.school_id == school.id, Classroom.grade == grade)
                              .order_by(Classroom.name).limit(1)).scalar_one()


@demo_step
def demo_scheduling(made: dict) -> None:
    schools, users = made["schools"], made["users"]
    bureau = users["bureau"]
    term = current_term()
    if term is None:
        return
    rng = random.Random(6)
    for username, name, school_index, subjects, title in NEW_TEACHERS:
        users[username] = create_user(None, username=username, name=name, password=DEMO_PASSWORD, role="teacher",
                                      school=schools[school_index], subjects=subjects, title=title,
                                      check_policy=False, password_hash=users["teacher.city"].password_hash)
    _rural_bells(bureau, schools)
    db.session.add_all(_holidays(term))
    db.session.flush()
    classes = []
    for subject, grade, title, teacher, school_index, slots, receiving in CLASSES:
        classes.append(services.schedule_live_class(
            bureau, subject=subject, grade=grade, title=title, main_teacher=users[teacher],
            main_classroom=_room(schools[school_index], grade),
            receiving=[(_room(schools[i], grade), users[a]) for i, a in receiving],
            slots=[Slot(d, time.fromisoformat(a), time.fromisoformat(b)) for d, a, b in slots], term=term,
        ))
    now = utcnow()

    def sessions_of(live_class) -> list[LiveSession]:
        return list(db.session.execute(select(LiveSession).where(LiveSession.live_class_id == live_class.id)
                                       .order_by(LiveSession.starts_at)).scalars())

    english, music, _art, pe = classes
    # One music session cancelled (a sports day), one English session moved to the Friday of its week.
    past_music = [s for s in sessions_of(music) if s.ends_at < now]
    if len(past_music) >= 3:
        services.cancel_session(bureau, past_music[2], note="学校运动会，本节课取消")
    future = [s for s in sessions_of(english) if s.starts_at > now] or sessions_of(english)[-1:]
    moving = future[1] if len(future) > 1 else future[0]
    day = to_local(moving.starts_at).date()
    friday = day + timedelta(days=5 - day.isoweekday()) if day.isoweekday() < 5 else day
    services.move_session(bureau, moving, friday, time(8, 30), time(9, 10))
    # Attendance for what has happened, except the latest PE session (not recorded yet).
    unrecorded = {s.id for s in sessions_of(pe) if s.ends_at < now}
    unrecorded = {max(unrecorded, default=0)}
    for live_class in classes:
        for session in sessions_of(live_class):
            if session.ends_at >= now or session.status != "scheduled" or session.id in unrecorded:
                continue
            for receiving in live_class.receiving:
                size = max(1, receiving.classroom.student_count)
                db.session.add(SessionAttendance(
                    session_id=session.id, classroom_id=receiving.classroom_id, present=size - min(size, rng.randint(0, 2)),
                    class_size=size, feedback=rng.choice(FEEDBACK), recorded_by_id=receiving.assistant_id))
            session.status = "done"
    db.session.flush()
    made["live_classes"] = classes
