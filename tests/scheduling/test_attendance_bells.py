"""Attendance after a session (who records it, the numbers it takes), bell-period warnings, and who
may see a class."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.org import services as org_services
from portal.scheduling import services
from portal.scheduling.attendance import record_attendance
from portal.scheduling.bells import class_bell_warnings
from portal.scheduling.models import SessionAttendance
from portal.scheduling.permissions import can_view_class, can_view_session, visible_classes
from portal.scheduling.recurrence import Slot

from .live_world import next_monday, schedule, sessions_of

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def held(db, lw):
    """A class with two receiving rooms whose first session was last Monday (held) and the next to come."""
    live_class = schedule(lw, first=next_monday() - timedelta(days=7), weeks=2,
                          receiving=(("village_room", "assistant"), ("point_room", "assistant3")))
    db.session.commit()
    past, future = sessions_of(db, live_class)
    return live_class, past, future


def test_the_assistant_records_their_room_and_the_session_counts_as_held(db, lw, held):
    live_class, past, _future = held
    record = record_attendance(lw["assistant"], past, lw["village_room"].id, present=22, class_size=24,
                               feedback="学生很积极")
    db.session.commit()
    assert (record.present, record.class_size, record.feedback, record.recorded_by_id) == (22, 24, "学生很积极",
                                                                                          lw["assistant"].id)
    assert past.status == "done"
    # A correction updates the same row.
    record_attendance(lw["assistant"], past, lw["village_room"].id, present=23, class_size=24)
    db.session.commit()
    assert db.session.query(SessionAttendance).count() == 1
    assert db.session.query(SessionAttendance).one().present == 23


def test_who_may_record_which_room(db, lw, held):
    _live_class, past, _future = held
    with pytest.raises(NotAllowed):
        record_attendance(lw["assistant"], past, lw["point_room"].id, present=5, class_size=9)  # not their room
    for who in ("village_teacher", "village_principal", "researcher", "teacher2", "other_teacher"):
        with pytest.raises(NotAllowed):
            record_attendance(lw[who], past, lw["village_room"].id, present=5, class_size=9)
    record_attendance(lw["teacher"], past, lw["point_room"].id, present=8, class_size=9)  # the main teacher
    record_attendance(lw["county_bureau"], past, lw["village_room"].id, present=20, class_size=24)
    with pytest.raises(Invalid):
        record_attendance(lw["teacher"], past, lw["main_room"].id, present=8, class_size=9)  # not receiving


@pytest.mark.parametrize(
    ("present", "class_size", "field"),
    [(25, 24, "present"), (-1, 24, "present"), (3, 0, "class_size"), ("12", 24, "present"), (3, "x", "class_size"),
     (2.5, 24, "present"), (True, 24, "present"), (3, 10_000, "class_size")],
)
def test_bad_numbers_are_refused_clearly(db, lw, held, present, class_size, field):
    _live_class, past, _future = held
    with pytest.raises(Invalid) as caught:
        record_attendance(lw["assistant"], past, lw["village_room"].id, present=present, class_size=class_size)
    assert caught.value.field == field
    assert db.session.query(SessionAttendance).count() == 0


def test_no_attendance_before_the_session_or_for_a_cancelled_one(db, lw, held):
    _live_class, past, future = held
    with pytest.raises(Conflict):
        record_attendance(lw["assistant"], future, lw["village_room"].id, present=20, class_size=24)
    past.status = "cancelled"
    with pytest.raises(Conflict):
        record_attendance(lw["assistant"], past, lw["village_room"].id, present=20, class_size=24)


# --- bell periods -----------------------------------------------------------------------------------


def bells(lw, school, rows, **kw):
    org_services.save_bell_schedule(lw["bureau"], None, school=school, name=kw.pop("name", "作息"),
                                    from_month_day=kw.pop("start", None), to_month_day=kw.pop("end", None),
                                    periods=org_services.parse_periods(rows))


def test_a_session_outside_a_receiving_schools_periods_is_warned_not_refused(db, lw):
    bells(lw, lw["village"], [("1", "08:00", "08:40"), ("2", "08:50", "09:30"), ("3", "09:40", "10:20")])
    bells(lw, lw["point"], [("1", "08:30", "09:10"), ("2", "09:20", "10:00")])
    live_class = schedule(lw, weeks=3, slots=(Slot(1, time(9, 0), time(9, 40)),),  # across the village's break
                          receiving=(("village_room", "assistant"), ("point_room", "assistant3"),
                                     ("village2_room", "assistant2")))  # village2 has no bell schedule
    db.session.commit()
    assert len(sessions_of(db, live_class)) == 3
    warnings = class_bell_warnings(live_class)
    assert [(w.school, w.starts, w.ends, len(w.dates)) for w in warnings] == [("山口村小学", "09:00", "09:40", 3)]
    assert "2 08:50–09:30" in warnings[0].periods


def test_a_double_lesson_across_a_break_fits_and_seasonal_schedules_count(db, lw):
    bells(lw, lw["village"], [("1", "08:00", "08:40"), ("2", "08:50", "09:30")])
    bells(lw, lw["village"], [("1", "08:30", "09:10"), ("2", "09:20", "10:00")], name="冬季", start="11-01",
          end="03-31")
    live_class = schedule(lw, weeks=1, slots=(Slot(1, time(8, 30), time(10, 0)),))
    db.session.commit()
    winter = next_monday().month in (11, 12, 1, 2, 3)
    assert (class_bell_warnings(live_class) == []) == winter


def test_the_api_returns_the_warnings_with_the_class(client, api_token, db, lw):
    bells(lw, lw["village"], [("1", "08:00", "08:40")])
    db.session.commit()
    first = next_monday()
    response = client.post("/api/v1/live-classes", headers={"Authorization": f"Bearer {api_token(lw['teacher'])}"},
                           json={"subject": "music", "main_teacher_id": lw["teacher"].id,
                                 "main_classroom_id": lw["main_room"].id,
                                 "receiving": [{"classroom_id": lw["village_room"].id,
                                                "assistant_id": lw["assistant"].id}],
                                 "weekday": 1, "start_time": "14:00", "end_time": "14:40",
                                 "first_date": first.isoformat(), "last_date": (first + timedelta(days=7)).isoformat()})
    assert response.status_code == 201, response.json
    warning, = response.json["warnings"]
    assert warning["school"] == "山口村小学" and warning["count"] == 2 and warning["starts"] == "14:00"


# --- who sees a class ------------------------------------------------------------------------------


def test_only_the_people_concerned_their_principals_and_the_countys_staff_see_a_class(db, lw, make, held):
    live_class, past, _future = held
    allowed = ("teacher", "assistant", "assistant3", "principal", "village_principal", "researcher", "bureau",
               "county_bureau")
    refused = ("teacher2", "village_teacher", "other_teacher", "other_principal", "assistant2")
    far = {"far_researcher": make.user("researcher", county=make.county()),
           "far_bureau": make.user("bureau", county=make.county())}
    for who in allowed:
        assert can_view_class(lw[who], live_class) and can_view_session(lw[who], past), who
    for who in refused:
        assert not can_view_class(lw[who], live_class), who
    for who, user in far.items():
        assert not can_view_class(user, live_class), who
    from portal.scheduling.models import LiveClass

    for user in [lw[w] for w in allowed + refused] + list(far.values()):
        listed = db.session.query(LiveClass.id).filter(visible_classes(user)).all()
        assert bool(listed) == can_view_class(user, live_class), user.username


def test_a_change_by_someone_else_is_refused(db, lw, held):
    _live_class, _past, future = held
    with pytest.raises(NotAllowed):
        services.cancel_session(lw["assistant"], future)
