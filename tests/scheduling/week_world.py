"""The county of the week-timetable tests, ``w``: a city school and two rural ones with their own
bell schedules, their classrooms and people, and a term from September 2026 (past dates: these
tests read weeks, they change no session through the pages). The fixture is made available by
conftest.py."""

from __future__ import annotations

import re
from datetime import date, time

import pytest

from portal.org import services as org_services
from portal.scheduling import services
from portal.scheduling.recurrence import Slot

CITY_PERIODS = [("1", "08:00", "08:40"), ("2", "08:50", "09:30"), ("3", "10:00", "10:40"), ("4", "10:50", "11:30")]
# The village school starts earlier and has a morning reading period: 10:00 is its fourth period.
VILLAGE_PERIODS = [("1", "07:30", "08:10"), ("2", "08:20", "09:00"), ("3", "09:10", "09:50"), ("4", "10:00", "10:40")]
MONDAY_10 = Slot(1, time(10, 0), time(10, 40))


def bells(bureau, school, rows):
    org_services.save_bell_schedule(bureau, None, school=school, name="作息", from_month_day=None, to_month_day=None,
                                    periods=org_services.parse_periods(rows))


@pytest.fixture
def w(make, db):
    county = make.county()
    other_county = make.county()
    city = make.school("urban", county=county, name="实验小学")
    village = make.school("village", county=county, name="山口村小学")
    point = make.school("teaching_point", county=county, name="云台教学点")
    far = make.school("village", county=other_county, name="远方村小学")
    bureau = make.user("bureau", locale="en")
    bells(bureau, city, CITY_PERIODS)
    bells(bureau, village, VILLAGE_PERIODS)
    db.session.commit()
    return {
        "term": make.term(date(2026, 9, 1), date(2027, 1, 22)),
        "county": county, "city": city, "village": village, "point": point, "far": far,
        "main_room": make.classroom(city, grade=3, name="三(1)班"),
        "main_room2": make.classroom(city, grade=4, name="四(1)班"),
        "village_room": make.classroom(village, grade=3, name="三年级", student_count=20),
        "point_room": make.classroom(point, grade=3, name="复式班", student_count=8),
        "far_room": make.classroom(far, grade=3, name="三年级"),
        "teacher": make.user("teacher", school=city, name="陈静", locale="en"),
        "teacher2": make.user("teacher", school=city, name="孙丽", locale="en"),
        "assistant": make.user("teacher", school=village, name="赵强", locale="en"),
        "assistant2": make.user("teacher", school=point, name="马林", locale="en"),
        "far_teacher": make.user("teacher", school=far, locale="en"),
        "principal": make.user("principal", school=city, locale="en"),
        "village_principal": make.user("principal", school=village, locale="en"),
        "far_principal": make.user("principal", school=far, locale="en"),
        "researcher": make.user("researcher", county=county, locale="en"),
        "far_researcher": make.user("researcher", county=other_county, locale="en"),
        "bureau": bureau,
        "county_bureau": make.user("bureau", county=county, locale="en"),
        "far_bureau": make.user("bureau", county=other_county, locale="en"),
    }


def schedule(w, *, teacher="teacher", room="main_room", receiving=(("village_room", "assistant"),),
             slots=(MONDAY_10,), first=date(2026, 9, 7), last=date(2026, 10, 12), subject="english", **kw):
    from portal.extensions import db

    live_class = services.schedule_live_class(
        w["bureau"], subject=subject, grade=3, main_teacher=w[teacher], main_classroom=w[room],
        receiving=[(w[c], w[a]) for c, a in receiving], slots=list(slots), first_date=first, last_date=last, **kw)
    db.session.commit()
    return live_class


def periods_on_page(html: str) -> list[str]:
    return [p.strip() for p in re.findall(r"data-period data-numbers=\"[\d,]*\">([^<]+)<", html)]
