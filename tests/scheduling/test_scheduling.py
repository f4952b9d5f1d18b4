"""Dual-teacher classes: recurrence over the school calendar, clashes of every kind, the API."""

from __future__ import annotations

from datetime import date, time

import pytest

from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.scheduling import services
from portal.scheduling.models import Booking, CalendarDay, LiveSession
from portal.scheduling.recurrence import Slot

pytestmark = pytest.mark.usefixtures("english")

MONDAY_9 = Slot(1, time(9, 0), time(9, 40))


@pytest.fixture
def world(make):
    county = make.county()
    city = make.school("urban", county=county, name="实验小学")
    village = make.school("village", county=county, name="山口村小学")
    point = make.school("teaching_point", county=county, name="云台教学点")
    return {
        "county": county,
        "main_room": make.classroom(city, grade=3, name="三(1)班"),
        "main_room2": make.classroom(city, grade=4, name="四(1)班"),
        "village_room": make.classroom(village, grade=3, name="三年级"),
        "village_room2": make.classroom(village, grade=4, name="四年级"),
        "point_room": make.classroom(point, grade=3, name="复式班"),
        "teacher": make.user("teacher", school=city, name="陈静"),
        "teacher2": make.user("teacher", school=city, name="孙丽"),
        "assistant": make.user("teacher", school=village, name="赵强"),
        "assistant2": make.user("teacher", school=point, name="马林"),
        "assistant3": make.user("teacher", school=village, name="何敏"),
        "bureau": make.user("bureau"),
    }


def schedule(w, *, teacher="teacher", room="main_room", receiving=(("village_room", "assistant"),),
             slots=(MONDAY_9,), first=date(2026, 9, 7), last=date(2026, 10, 12), actor=None, **kw):
    return services.schedule_live_class(
        actor or w["bureau"], subject="english", grade=3, main_teacher=w[teacher], main_classroom=w[room],
        receiving=[(w[c], w[a]) for c, a in receiving], slots=list(slots), first_date=first, last_date=last, **kw)


def local_days(db, live_class):
    from portal.core.timeutil import to_local

    return [to_local(s.starts_at).date() for s in db.session.query(LiveSession).filter_by(
        live_class_id=live_class.id).order_by(LiveSession.starts_at)]


def test_weekly_sessions_skip_holidays_and_follow_make_up_days(db, world):
    # National Day week: Mon 5 Oct off; Sat 10 Oct is a make-up day following Monday's timetable.
    db.session.add_all([CalendarDay(day=date(2026, 10, 5), kind="holiday", name="国庆节"),
                        CalendarDay(day=date(2026, 10, 10), kind="workday", follows_weekday=1, name="调休")])
    db.session.commit()
    live_class = schedule(world)
    db.session.commit()
    assert local_days(db, live_class) == [date(2026, 9, 7), date(2026, 9, 14), date(2026, 9, 21), date(2026, 9, 28),
                                          date(2026, 10, 10), date(2026, 10, 12)]
    first = db.session.query(LiveSession).order_by(LiveSession.starts_at).first()
    assert first.starts_at.hour == 1  # 09:00 in Shanghai, stored in UTC
    assert db.session.query(Booking).count() == 6 * 4  # teacher, room, receiving room, assistant


@pytest.mark.parametrize(
    ("second", "kind", "role"),
    [
        (dict(room="main_room2", receiving=(("point_room", "assistant2"),)), "teacher", "main_teacher"),
        (dict(teacher="teacher2", room="main_room2", receiving=(("village_room2", "assistant"),)), "teacher",
         "assistant"),
        (dict(teacher="teacher2", receiving=(("point_room", "assistant2"),)), "classroom", "main_classroom"),
        (dict(teacher="teacher2", room="main_room2", receiving=(("village_room", "assistant3"),)), "classroom",
         "receiving_classroom"),
    ],
)
def test_each_kind_of_clash_is_refused_with_the_list(db, world, second, kind, role):
    schedule(world)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        schedule(world, slots=(Slot(1, time(9, 20), time(10, 0)),), **second)  # partial overlap
    conflicts = caught.value.details["conflicts"]
    assert {(c["kind"], c["role"]) for c in conflicts} == {(kind, role)}
    assert conflicts[0]["date"] == "2026-09-07" and conflicts[0]["other_subject"] == "english"
    assert conflicts[0]["starts_at"].startswith("2026-09-07T09:20:00+08:00")


def test_back_to_back_classes_do_not_clash(db, world):
    schedule(world)
    schedule(world, slots=(Slot(1, time(9, 40), time(10, 20)),))
    db.session.commit()
    assert db.session.query(LiveSession).count() == 12


def test_clashing_dates_can_be_skipped(db, world):
    schedule(world, first=date(2026, 9, 14), last=date(2026, 9, 14))
    db.session.commit()
    live_class = schedule(world, slots=(MONDAY_9,), skip_clashes=True)
    db.session.commit()
    assert date(2026, 9, 14) not in local_days(db, live_class) and len(local_days(db, live_class)) == 5


def test_moving_one_session_into_a_clash_is_refused(db, world):
    schedule(world, first=date(2026, 9, 8), last=date(2026, 9, 8), slots=(Slot(2, time(10, 0), time(10, 40)),))
    live_class = schedule(world)
    db.session.commit()
    session = db.session.query(LiveSession).filter_by(live_class_id=live_class.id).first()
    with pytest.raises(Conflict):
        services.move_session(world["bureau"], session, date(2026, 9, 8), time(10, 30), time(11, 0))
    services.move_session(world["bureau"], session, date(2026, 9, 8), time(10, 40), time(11, 20))
    db.session.commit()
    assert session.moved and session.sequence == 1


def test_a_cancelled_session_frees_its_time(db, world):
    live_class = schedule(world, first=date(2026, 9, 7), last=date(2026, 9, 7))
    db.session.commit()
    session = db.session.query(LiveSession).filter_by(live_class_id=live_class.id).one()
    services.cancel_session(world["bureau"], session)
    db.session.commit()
    schedule(world, first=date(2026, 9, 7), last=date(2026, 9, 7))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (dict(slots=(Slot(1, time(10, 0), time(9, 0)),)), "end_time"),
        (dict(first=date(2026, 10, 1), last=date(2026, 9, 1)), "last_date"),
        (dict(receiving=()), "receiving"),
        (dict(receiving=(("main_room", "assistant"),)), "receiving"),
        (dict(receiving=(("village_room", "assistant2"),)), "receiving"),  # assistant of another school
    ],
)
def test_bad_classes_are_refused_clearly(world, change, field):
    with pytest.raises(Invalid) as caught:
        schedule(world, **change)
    assert caught.value.field == field


def test_a_teacher_schedules_only_their_own_classes(db, world):
    schedule(world, actor=world["teacher"])
    with pytest.raises(NotAllowed):
        schedule(world, teacher="teacher2", room="main_room2", actor=world["teacher"])
    with pytest.raises(NotAllowed):
        schedule(world, actor=world["assistant"])


# --- API -----------------------------------------------------------------------------------------


def body(w, **overrides):
    data = {"subject": "english", "main_teacher_id": w["teacher"].id, "main_classroom_id": w["main_room"].id,
            "receiving": [{"classroom_id": w["village_room"].id, "assistant_id": w["assistant"].id}],
            "weekday": 1, "start_time": "09:00", "end_time": "09:40", "first_date": "2026-09-07",
            "last_date": "2026-09-28"}
    data.update(overrides)
    return data


def test_api_creates_a_class_and_lists_sessions(client, api_token, world):
    headers = {"Authorization": f"Bearer {api_token(world['teacher'])}"}
    response = client.post("/api/v1/live-classes", json=body(world), headers=headers)
    assert response.status_code == 201, response.json
    assert [s["starts_at"] for s in response.json["sessions"]] == [
        "2026-09-07T09:00:00+08:00", "2026-09-14T09:00:00+08:00", "2026-09-21T09:00:00+08:00",
        "2026-09-28T09:00:00+08:00"]
    listed = client.get(f"/api/v1/live-sessions?teacher_id={world['assistant'].id}&from=2026-09-10",
                        headers=headers).json
    assert listed["total"] == 3 and set(listed["items"][0]) == {"id", "live_class_id", "starts_at", "ends_at",
                                                                 "status"}


def test_api_clash_is_409_with_the_conflicts(client, api_token, world):
    headers = {"Authorization": f"Bearer {api_token(world['bureau'])}"}
    assert client.post("/api/v1/live-classes", json=body(world), headers=headers).status_code == 201
    response = client.post("/api/v1/live-classes", json=body(world, start_time="09:30", end_time="10:10",
                                                             main_classroom_id=world["main_room2"].id,
                                                             receiving=[{"classroom_id": world["point_room"].id,
                                                                         "assistant_id": world["assistant2"].id}]),
                           headers=headers)
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "conflict" and len(error["conflicts"]) == 4
    assert error["conflicts"][0]["name"] == "陈静"


@pytest.mark.parametrize(
    "change",
    [
        {"end_time": "08:00"},
        {"start_time": "25:00"},
        {"first_date": "2026-02-30"},
        {"weekday": 8},
        {"weekday": "1"},
        {"receiving": "x"},
        {"receiving": [{"classroom_id": 999999, "assistant_id": 1}]},
        {"main_teacher_id": 999999},
        {"colour": "red"},
    ],
)
def test_api_bad_input_is_4xx_with_a_message(client, api_token, db, world, change):
    headers = {"Authorization": f"Bearer {api_token(world['bureau'])}"}
    response = client.post("/api/v1/live-classes", json=body(world, **change), headers=headers)
    assert 400 <= response.status_code < 500 and response.json["error"]["message"]
    assert db.session.query(LiveSession).count() == 0


def test_only_the_people_concerned_and_the_bureau_see_sessions(client, api_token, make, world):
    headers = {"Authorization": f"Bearer {api_token(world['bureau'])}"}
    client.post("/api/v1/live-classes", json=body(world), headers=headers)
    for person, total in [(world["teacher"], 4), (world["assistant"], 4), (world["teacher2"], 0),
                          (make.user("principal", school=world["village_room"].school), 4),
                          (make.user("principal", school=world["point_room"].school), 0), (world["bureau"], 4)]:
        listed = client.get("/api/v1/live-sessions", headers={"Authorization": f"Bearer {api_token(person)}"}).json
        assert listed["total"] == total, person.name


def test_county_bureau_staff_see_the_classes_of_their_county_only(client, api_token, make, world):
    client.post("/api/v1/live-classes", json=body(world),
                headers={"Authorization": f"Bearer {api_token(world['bureau'])}"})
    for county, total in [(world["county"], 4), (make.county(), 0)]:
        staff = make.user("bureau", county=county)
        listed = client.get("/api/v1/live-sessions", headers={"Authorization": f"Bearer {api_token(staff)}"}).json
        assert listed["total"] == total
