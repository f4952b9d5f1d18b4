"""What creating a class writes: its rows, one booking per session and need in order, the class
object the services hand back, the calendar its sessions follow, and clashes found over a long
series (the window query)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import inspect

from portal.core.errors import Conflict
from portal.scheduling import services
from portal.scheduling.models import Booking, CalendarDay, ClassSlot, LiveClass, LiveSession, ReceivingClassroom
from portal.scheduling.recurrence import Slot, calendar_between

from .live_world import MONDAY_9, next_monday, schedule

pytestmark = pytest.mark.usefixtures("english")

TWICE_A_WEEK = (MONDAY_9, Slot(3, time(14, 0), time(14, 40)))
TWO_ROOMS = (("village_room", "assistant"), ("point_room", "assistant3"))


def test_each_session_is_booked_for_each_need_in_order(db, lw):
    live_class = schedule(lw, slots=TWICE_A_WEEK, receiving=TWO_ROOMS)
    db.session.commit()
    sessions = db.session.query(LiveSession).filter_by(live_class_id=live_class.id).order_by(LiveSession.id).all()
    assert len(sessions) == 8 and sessions == sorted(sessions, key=lambda s: s.starts_at)
    needs = services.needs_of(lw["teacher"].id, lw["main_room"].id,
                              [(lw[c].id, lw[a].id) for c, a in TWO_ROOMS])
    booked = [(b.session_id, b.live_class_id, b.kind, b.resource_id, b.role, b.starts_at, b.ends_at)
              for b in db.session.query(Booking).order_by(Booking.id)]
    assert booked == [(s.id, live_class.id, n.kind, n.resource_id, n.role, s.starts_at, s.ends_at)
                      for s in sessions for n in needs]


def test_the_class_handed_back_is_the_session_s_and_reads_its_rows(db, lw):
    live_class = schedule(lw, slots=TWICE_A_WEEK, receiving=TWO_ROOMS)
    assert inspect(live_class).persistent and db.session.get(LiveClass, live_class.id) is live_class
    assert [(s.weekday, s.start_time) for s in live_class.slots] == [(1, time(9, 0)), (3, time(14, 0))]
    assert [(r.classroom_id, r.assistant_id) for r in live_class.receiving] == [
        (lw["village_room"].id, lw["assistant"].id), (lw["point_room"].id, lw["assistant3"].id)]
    assert (live_class.version, live_class.notes, live_class.title) == (1, "", "")
    assert live_class.created_at is not None
    db.session.commit()
    assert db.session.query(ClassSlot).count() == 2 and db.session.query(ReceivingClassroom).count() == 2


def test_a_class_scheduled_after_a_rollback_is_the_new_one(db, lw):
    undone = schedule(lw, title="undone")  # still held: the session keeps it after the rollback
    db.session.rollback()  # and SQLite hands out the same id again
    live_class = schedule(lw, title="kept", room="main_room2")
    db.session.commit()
    assert (live_class.title, live_class.main_classroom_id) == ("kept", lw["main_room2"].id) and undone is not None
    assert [c.title for c in db.session.query(LiveClass)] == ["kept"]


def test_a_clash_is_found_in_a_series_too_long_to_ask_one_range_per_session(db, lw):
    first = next_monday()
    schedule(lw, first=first, weeks=1)  # one Monday 09:00–09:40
    db.session.commit()
    every_day = [Slot(day, time(9, 20), time(9, 50)) for day in range(1, 8)]
    with pytest.raises(Conflict) as caught:
        schedule(lw, teacher="teacher2", room="main_room2", receiving=(("village_room2", "assistant"),),
                 slots=every_day, first=first, weeks=40)  # 280 sessions
    assert {(c["date"], c["role"]) for c in caught.value.details["conflicts"]} == {(first.isoformat(), "assistant")}


def test_a_county_s_own_calendar_day_wins_over_the_city_s(db, lw, make):
    first = next_monday()
    week2, week3 = first + timedelta(days=7), first + timedelta(days=14)
    db.session.add_all([
        CalendarDay(day=week2, kind="holiday", name="city"),
        CalendarDay(day=week2, kind="workday", follows_weekday=1, name="county", county_id=lw["county"].id),
        CalendarDay(day=week3, kind="holiday", name="city"),
        CalendarDay(day=week3, kind="workday", follows_weekday=1, name="other", county_id=make.county().id),
    ])
    db.session.commit()
    days = calendar_between(first, week3, lw["county"].id)
    assert [(d, r.kind, r.follows_weekday) for d, r in sorted(days.items())] == [
        (week2, "workday", 1), (week3, "holiday", None)]
    assert sorted(calendar_between(first, week3)) == [week2, week3]  # no county: the city's days
    live_class = schedule(lw, first=first, weeks=3)
    db.session.commit()
    assert [s.occurrence_date for s in db.session.query(LiveSession).filter_by(live_class_id=live_class.id)
            .order_by(LiveSession.starts_at)] == [first, week2]


def test_a_new_class_renews_the_supervision_figures(db, lw, cache_on):
    # Its rows are written on the connection, unseen by the ORM: the cache must still hear of it.
    with_figures = cache_on.cached(("figures",), lambda: "before")
    schedule(lw, slots=TWICE_A_WEEK)
    db.session.commit()
    assert with_figures == "before" and cache_on.cached(("figures",), lambda: "after") == "after"
