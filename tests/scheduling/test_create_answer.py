"""What creating a class answers and writes when it is built from the occurrences it asked for:
the sessions as stored (also a series longer than one INSERT takes), the bell warnings as the
class page shows them, the clash list's times, and the times bound for the clash check."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from portal.core.models import UTCDateTime
from portal.core.timeutil import portal_tz
from portal.org.services import schedule_for
from portal.scheduling import services
from portal.scheduling.bells import class_bell_warnings, schedule_on, schedules_of
from portal.scheduling.models import Booking, LiveClass
from portal.scheduling.recurrence import Slot, UTCMoment, local_iso

from .live_world import next_monday, schedule, sessions_of
from .test_attendance_bells import bells

pytestmark = pytest.mark.usefixtures("english")


def _post(client, api_token, lw, **overrides):
    first = next_monday()
    body = {"subject": "music", "main_teacher_id": lw["teacher"].id, "main_classroom_id": lw["main_room"].id,
            "receiving": [{"classroom_id": lw["village_room"].id, "assistant_id": lw["assistant"].id},
                          {"classroom_id": lw["point_room"].id, "assistant_id": lw["assistant3"].id}],
            "slots": [{"weekday": 1, "start_time": "09:00", "end_time": "09:40"},
                      {"weekday": 3, "start_time": "14:00", "end_time": "14:40"}],
            "first_date": first.isoformat(), "last_date": (first + timedelta(days=7 * 5)).isoformat()}
    body.update(overrides)
    return client.post("/api/v1/live-classes", headers={"Authorization": f"Bearer {api_token(lw['teacher'])}"},
                       json=body)


def test_the_answer_lists_the_sessions_as_stored(client, api_token, db, lw):
    response = _post(client, api_token, lw)
    assert response.status_code == 201, response.json
    live_class = db.session.get(LiveClass, response.json["id"])
    tz = portal_tz()
    stored = [{"id": s.id, "starts_at": local_iso(s.starts_at, tz), "ends_at": local_iso(s.ends_at, tz)}
              for s in sessions_of(db, live_class)]
    assert response.json["sessions"] == stored and len(stored) == 11
    assert [s["id"] for s in stored] == sorted(s["id"] for s in stored)  # ids in time order


def test_the_answer_warns_as_the_class_page_does(client, api_token, db, lw):
    bells(lw, lw["village"], [("1", "08:00", "08:40"), ("2", "08:50", "09:30")])
    bells(lw, lw["village"], [("1", "08:30", "09:10"), ("2", "09:20", "10:00")], name="冬季", start="11-01",
          end="03-31")
    bells(lw, lw["point"], [("1", "13:00", "13:40")], name="夏季", start="04-01", end="10-31")
    db.session.commit()
    response = _post(client, api_token, lw, last_date=(next_monday() + timedelta(days=7 * 30)).isoformat())
    assert response.status_code == 201, response.json
    live_class = db.session.get(LiveClass, response.json["id"])
    assert response.json["warnings"] == [w.as_json() for w in class_bell_warnings(live_class)]
    assert response.json["warnings"]


def test_a_series_longer_than_one_insert_is_stored_in_order_with_its_bookings(db, lw):
    every_day = [Slot(day, time(7, 0), time(7, 30)) for day in range(1, 8)]
    live_class, created = services.schedule_live_class_and_sessions(
        lw["bureau"], subject="english", grade=3, main_teacher=lw["teacher"], main_classroom=lw["main_room"],
        receiving=[(lw["village_room"], lw["assistant"])], slots=every_day, first_date=next_monday(),
        last_date=next_monday() + timedelta(days=7 * 45 - 1))
    db.session.commit()
    stored = sessions_of(db, live_class)
    assert len(stored) > services.SESSIONS_PER_INSERT
    assert [(s.id, s.starts_at, s.ends_at) for s in stored] == [tuple(s) for s in created]
    assert [s.id for s in stored] == sorted(s.id for s in stored)
    assert db.session.query(Booking).filter_by(live_class_id=live_class.id).count() == 4 * len(stored)


def test_a_clash_list_gives_each_time_in_local_time(client, api_token, db, lw):
    taken = schedule(lw, weeks=3)
    db.session.commit()
    first = next_monday()
    response = _post(client, api_token, lw, slots=[{"weekday": 1, "start_time": "09:20", "end_time": "10:00"}],
                     last_date=(first + timedelta(days=20)).isoformat())
    assert response.status_code == 409
    conflicts = response.json["error"]["conflicts"]
    tz = portal_tz()
    others = {s.id: s for s in sessions_of(db, taken)}
    assert len(conflicts) == 12  # the main teacher and room, the village room and its assistant, three Mondays
    for conflict in conflicts:
        other = others[conflict["other_session_id"]]
        day = date.fromisoformat(conflict["date"])
        assert conflict["starts_at"] == f"{day.isoformat()}T09:20:00+08:00"
        assert conflict["ends_at"] == f"{day.isoformat()}T10:00:00+08:00"
        assert (conflict["other_starts_at"], conflict["other_ends_at"]) == (
            local_iso(other.starts_at, tz), local_iso(other.ends_at, tz))
    assert response.json["error"]["dates"] == sorted({c["date"] for c in conflicts})


@pytest.mark.parametrize("moment", [
    datetime(2026, 9, 7, 1, 0, tzinfo=UTC),
    datetime(2026, 9, 7, 1, 0, 0, 250, tzinfo=UTC),
    datetime(2026, 9, 7, 9, 0, tzinfo=timezone(timedelta(hours=8))),
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
])
@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_occurrence_times_are_bound_as_any_utc_time_is(moment, dialect):
    assert UTCMoment().bind_processor(dialect)(moment) == UTCDateTime().bind_processor(dialect)(moment)


def test_a_naive_occurrence_time_is_refused():
    with pytest.raises(ValueError):
        UTCMoment().bind_processor(sqlite.dialect())(datetime(2026, 9, 7, 9, 0))


def test_the_schedule_of_a_day_is_chosen_by_its_month_and_day(db, lw):
    bells(lw, lw["village"], [("1", "08:00", "08:40")])
    bells(lw, lw["village"], [("1", "08:10", "08:50")], name="冬季", start="11-01", end="03-31")
    bells(lw, lw["village"], [("1", "08:20", "09:00")], name="夏季", start="06-15", end="08-31")
    bells(lw, lw["village"], [("1", "08:30", "09:10")], name="开学", start="09-01", end="09-01")
    db.session.commit()
    schedules = schedules_of({lw["village"].id})[lw["village"].id]
    day = date(2028, 1, 1)  # a leap year: 29 February too
    while day.year == 2028:
        assert schedule_on(schedules, day).id == schedule_for(lw["village"], day).id, day
        day += timedelta(days=1)
