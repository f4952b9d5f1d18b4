"""A county with a city school, two village schools and a teaching point, their people, and helpers
to schedule weekly classes in the coming weeks (series edits and attendance need a future and a
past). The fixture is made available by conftest.py."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from portal.core.timeutil import local_today, to_local
from portal.scheduling import services
from portal.scheduling.models import LiveSession
from portal.scheduling.recurrence import Slot

MONDAY_9 = Slot(1, time(9, 0), time(9, 40))


def next_monday(weeks: int = 1) -> date:
    today = local_today()
    return today + timedelta(days=7 - today.weekday() + 7 * (weeks - 1))


@pytest.fixture
def lw(make):
    county = make.county()
    city = make.school("urban", county=county, name="实验小学")
    village = make.school("village", county=county, name="山口村小学")
    village2 = make.school("village", county=county, name="石桥村小学")
    point = make.school("teaching_point", county=county, name="云台教学点")
    other = make.school("urban", county=make.county(), name="外县小学")
    return {
        "county": county, "city": city, "village": village, "village2": village2, "point": point, "other": other,
        "main_room": make.classroom(city, grade=3, name="三(1)班"),
        "main_room2": make.classroom(city, grade=4, name="四(1)班"),
        "village_room": make.classroom(village, grade=3, name="三年级", student_count=24),
        "village_room2": make.classroom(village, grade=4, name="四年级", student_count=20),
        "village2_room": make.classroom(village2, grade=3, name="三年级", student_count=18),
        "point_room": make.classroom(point, grade=3, name="复式班", student_count=9),
        "teacher": make.user("teacher", school=city, name="陈静", locale="en"),
        "teacher2": make.user("teacher", school=city, name="孙丽", locale="en"),
        "assistant": make.user("teacher", school=village, name="赵强", locale="en"),
        "assistant2": make.user("teacher", school=village2, name="何敏", locale="en"),
        "assistant3": make.user("teacher", school=point, name="马林", locale="en"),
        "village_teacher": make.user("teacher", school=village, name="钱多", locale="en"),
        "principal": make.user("principal", school=city, locale="en"),
        "village_principal": make.user("principal", school=village, locale="en"),
        "other_teacher": make.user("teacher", school=other, locale="en"),
        "other_principal": make.user("principal", school=other, locale="en"),
        "researcher": make.user("researcher", county=county, locale="en"),
        "bureau": make.user("bureau", locale="en"),
        "county_bureau": make.user("bureau", county=county, locale="en"),
    }


def schedule(w, *, teacher="teacher", room="main_room", receiving=(("village_room", "assistant"),),
             slots=(MONDAY_9,), first=None, weeks=4, actor=None, **kw):
    first = first or next_monday()
    return services.schedule_live_class(
        actor or w["bureau"], subject="english", grade=3, main_teacher=w[teacher], main_classroom=w[room],
        receiving=[(w[c], w[a]) for c, a in receiving], slots=list(slots), first_date=first,
        last_date=first + timedelta(days=7 * weeks - 1), **kw)


def sessions_of(db, live_class) -> list[LiveSession]:
    return db.session.query(LiveSession).filter_by(live_class_id=live_class.id).order_by(LiveSession.starts_at).all()


def local_times(db, live_class, status="scheduled") -> list[tuple[date, str]]:
    return [(to_local(s.starts_at).date(), to_local(s.starts_at).strftime("%H:%M"))
            for s in sessions_of(db, live_class) if s.status == status]
