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


def test_a_make_up_weekend_day_meets_with_the_weekday_it_follows(db, lw):
    first = next_monday()  # Thursdays: first + 3, + 10, + 17; the second one a holiday
    db.session.add_all([
        CalendarDay(day=first + timedelta(days=10), kind="holiday", name="运动会"),
        CalendarDay(day=first + timedelta(days=12), kind="workday", follows_weekday=4, name="调休"),
        CalendarDay(day=first + timedelta(days=13), kind="workday", follows_weekday=1, name="not ours"),
    ])
    db.session.commit()
    live_class = schedule(lw, slots=(Slot(4, time(9, 0), time(9, 40)),), first=first, weeks=3)
    db.session.commit()
    assert [s.occurrence_date for s in db.session.query(LiveSession).filter_by(live_class_id=live_class.id)
            .order_by(LiveSession.starts_at)] == [first + timedelta(days=d) for d in (3, 12, 17)]


def test_the_people_of_a_new_class_are_told_in_their_languages_with_one_insert(db, lw, count_queries, monkeypatch):
    from portal.accounts import notifications
    from portal.accounts.models import Notification

    pushed = []
    monkeypatch.setattr(notifications, "push_notification", lambda user_id, payload: pushed.append((user_id, payload)))
    lw["assistant3"].locale = "zh_Hans"
    db.session.commit()
    with count_queries() as statements:
        live_class = schedule(lw, receiving=TWO_ROOMS)
    db.session.commit()
    assert sum(s.startswith("INSERT INTO notifications") for s in statements) == 1
    assert not any(s.startswith("SELECT users.id, users.locale") for s in statements)  # loaded: no query
    notes = db.session.query(Notification).order_by(Notification.user_id).all()
    people = sorted([lw["teacher"], lw["assistant"], lw["assistant3"]], key=lambda u: u.id)
    assert [n.user_id for n in notes] == [u.id for u in people]
    texts = {user_id: payload["text"] for user_id, payload in pushed}
    assert [payload["id"] for _u, payload in pushed] == [n.id for n in notes]
    assert texts[lw["teacher"].id].startswith("A dual-teacher class was scheduled for you")
    assert texts[lw["assistant3"].id].startswith("已为您安排双师课堂")
    assert all(payload["link"] == f"/live-classes/{live_class.id}" for _u, payload in pushed)


def test_a_notification_written_after_a_rollback_is_the_new_one(db, lw):
    from portal.accounts.models import Notification
    from portal.accounts.notifications import notify

    (undone,) = notify([lw["teacher"]], "system.message", params={"text": "撤回"})
    db.session.rollback()  # SQLite hands out the same id again
    (kept,) = notify([lw["teacher"].id], "system.message", params={"text": "保留"})
    db.session.commit()
    assert inspect(kept).persistent and kept.params == {"text": "保留"} and undone is not None
    assert [n.params["text"] for n in db.session.query(Notification)] == ["保留"]


def test_the_audit_entry_of_a_new_class_is_one_insert_and_the_session_s(db, lw, count_queries):
    from portal.core.audit import AuditEntry

    with count_queries() as statements:
        live_class = schedule(lw)
    assert sum(s.startswith("INSERT INTO audit_entries") for s in statements) == 1
    (entry,) = db.session.query(AuditEntry).all()
    assert inspect(entry).persistent and (entry.action, entry.object_id) == ("live_class.scheduled", live_class.id)
    assert entry.details == {"sessions": 4, "first_date": next_monday().isoformat(),
                             "last_date": (next_monday() + timedelta(days=27)).isoformat()}


def test_a_clash_names_the_class_s_own_people_and_rooms_without_asking(db, lw, count_queries):
    schedule(lw)
    db.session.commit()
    with count_queries() as statements, pytest.raises(Conflict) as caught:
        schedule(lw, room="main_room2", receiving=(("village_room2", "assistant"),))  # same teacher and assistant
    assert not any(s.startswith("SELECT users.id, users.name") for s in statements)
    named = {(c["kind"], c["id"], c["name"]) for c in caught.value.details["conflicts"]}
    assert named == {("teacher", lw["teacher"].id, "陈静"), ("teacher", lw["assistant"].id, "赵强")}
