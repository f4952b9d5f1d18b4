"""Changing a class from a date onward, re-adding a cancelled session, adding one more session."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from portal.accounts.models import Notification
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.timeutil import to_local
from portal.scheduling import series, services
from portal.scheduling.models import Booking, LiveSession
from portal.scheduling.recurrence import Slot

from .live_world import MONDAY_9, local_times, next_monday, schedule, sessions_of

pytestmark = pytest.mark.usefixtures("english")

MONDAY_10 = Slot(1, time(10, 0), time(10, 40))
TUESDAY_14 = Slot(2, time(14, 0), time(14, 40))


def change(w, live_class, *, from_date, actor="bureau", teacher="teacher", room="main_room",
           receiving=(("village_room", "assistant"),), slots=(MONDAY_9,), last=None, **kw):
    return series.change_series(
        w[actor], live_class, from_date=from_date, main_teacher=w[teacher], main_classroom=w[room],
        receiving=[(w[c], w[a]) for c, a in receiving], slots=list(slots), last_date=last or live_class.last_date, **kw)


def test_past_sessions_stay_and_later_ones_follow_the_new_time(db, lw):
    past_monday = next_monday() - timedelta(days=14)
    live_class = schedule(lw, first=past_monday, weeks=6)  # two Mondays gone, four to come
    db.session.commit()
    before = {s.id: (s.starts_at, s.sequence) for s in sessions_of(db, live_class)}
    cut = next_monday(2)
    result = change(lw, live_class, from_date=cut, slots=(MONDAY_10,))
    db.session.commit()
    after = sessions_of(db, live_class)
    assert [s.id for s in after] == sorted(before)  # the same sessions: same calendar UIDs
    for s in after:
        day = to_local(s.starts_at).date()
        if day < cut:
            assert (s.starts_at, s.sequence) == before[s.id]  # past and before the date: untouched
        else:
            assert to_local(s.starts_at).strftime("%H:%M") == "10:00" and s.sequence == 1
    assert (result.created, result.changed, result.removed) == (0, 3, 0)
    assert db.session.query(Booking).filter(Booking.session_id.in_([s.id for s in after])).count() == 6 * 4


def test_a_new_weekday_cancels_the_old_dates_and_creates_the_new_ones(db, lw):
    live_class = schedule(lw, weeks=4)
    db.session.commit()
    cut = next_monday(3)
    change(lw, live_class, from_date=cut, slots=(TUESDAY_14,))
    db.session.commit()
    assert local_times(db, live_class) == [(next_monday(1), "09:00"), (next_monday(2), "09:00"),
                                           (cut + timedelta(days=1), "14:00"),
                                           (cut + timedelta(days=8), "14:00")]
    removed = [s for s in sessions_of(db, live_class) if s.status == "cancelled"]
    assert [to_local(s.starts_at).date() for s in removed] == [cut, cut + timedelta(days=7)]
    assert all(s.series_removed and s.sequence == 1 for s in removed)  # calendars drop them
    assert [s.weekday for s in live_class.slots] == [2]
    # Back to Mondays: the removed sessions come back with their ids; the Tuesdays go.
    change(lw, live_class, from_date=cut, slots=(MONDAY_9,))
    db.session.commit()
    assert [s.id for s in sessions_of(db, live_class) if s.status == "scheduled"][2:] == [s.id for s in removed]


def test_a_session_cancelled_by_hand_stays_cancelled(db, lw):
    live_class = schedule(lw, weeks=3)
    db.session.commit()
    third = sessions_of(db, live_class)[2]
    services.cancel_session(lw["bureau"], third)
    db.session.commit()
    change(lw, live_class, from_date=next_monday(), slots=(MONDAY_10,))
    db.session.commit()
    db.session.refresh(third)
    assert third.status == "cancelled" and to_local(third.starts_at).strftime("%H:%M") == "09:00"
    assert local_times(db, live_class) == [(next_monday(1), "10:00"), (next_monday(2), "10:00")]


def test_changed_people_and_rooms_are_booked_and_everyone_is_told(db, lw):
    live_class = schedule(lw, weeks=3, actor=lw["teacher"])
    db.session.commit()
    change(lw, live_class, actor="teacher", from_date=next_monday(2),
           receiving=(("village2_room", "assistant2"), ("point_room", "assistant3")))
    db.session.commit()
    told = {n.user_id for n in db.session.query(Notification).filter_by(kind="live.series_changed")}
    assert told == {lw["assistant"].id, lw["assistant2"].id, lw["assistant3"].id}  # old and new, not the actor
    note = db.session.query(Notification).filter_by(kind="live.series_changed").first()
    assert note.link == f"/live-classes/{live_class.id}"
    first, second, third = sessions_of(db, live_class)
    rooms = lambda s: {b.resource_id for b in db.session.query(Booking).filter_by(session_id=s.id,  # noqa: E731
                                                                                  role="receiving_classroom")}
    assert rooms(first) == {lw["village_room"].id}
    assert rooms(second) == rooms(third) == {lw["village2_room"].id, lw["point_room"].id}
    # The village room is free again from then on: another class may have it.
    schedule(lw, teacher="teacher2", room="main_room2", first=next_monday(2), weeks=2)
    with pytest.raises(Conflict):
        schedule(lw, teacher="teacher2", room="main_room2", first=next_monday(1), weeks=1)


def test_a_change_that_clashes_is_refused_with_the_list_or_skips_the_dates(db, lw):
    schedule(lw, teacher="teacher", room="main_room2", receiving=(("point_room", "assistant3"),),
             slots=(MONDAY_10,), first=next_monday(3), weeks=1)  # the teacher's other class, week 3
    live_class = schedule(lw, weeks=4)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        change(lw, live_class, from_date=next_monday(2), slots=(Slot(1, time(10, 20), time(11, 0)),))
    details = caught.value.details
    assert details["dates"] == [next_monday(3).isoformat()]
    assert {(c["kind"], c["role"]) for c in details["conflicts"]} == {("teacher", "main_teacher")}
    db.session.rollback()
    result = change(lw, live_class, from_date=next_monday(2), slots=(Slot(1, time(10, 20), time(11, 0)),),
                    skip_clashes=True)
    db.session.commit()
    assert result.skipped_dates == [next_monday(3).isoformat()]
    assert local_times(db, live_class) == [(next_monday(1), "09:00"), (next_monday(2), "10:20"),
                                           (next_monday(4), "10:20")]


def test_the_last_date_can_end_the_class_early(db, lw):
    live_class = schedule(lw, weeks=4)
    db.session.commit()
    change(lw, live_class, from_date=next_monday(2), last=next_monday(2))
    db.session.commit()
    assert [d for d, _t in local_times(db, live_class)] == [next_monday(1), next_monday(2)]
    assert live_class.last_date == next_monday(2)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        (dict(from_date=None), "from_date"),
        (dict(from_date="before"), "from_date"),
        (dict(from_date="ok", last="early"), "last_date"),
        (dict(from_date="ok", slots=(Slot(1, time(10, 0), time(9, 0)),)), "end_time"),
        (dict(from_date="ok", receiving=()), "receiving"),
    ],
)
def test_bad_changes_are_refused_clearly(db, lw, kw, field):
    live_class = schedule(lw, weeks=4)
    db.session.commit()
    dates = {"before": live_class.first_date - timedelta(days=1), "ok": next_monday(2), None: None,
             "early": next_monday(1)}
    kw["from_date"] = dates[kw["from_date"]]
    if "last" in kw:
        kw["last"] = dates[kw["last"]]
    with pytest.raises(Invalid) as caught:
        change(lw, live_class, **kw)
    assert caught.value.field == field


def test_only_those_who_change_the_class_change_its_series(db, lw):
    live_class = schedule(lw, weeks=2)
    db.session.commit()
    for who in ("assistant", "teacher2", "village_principal", "researcher"):
        with pytest.raises(NotAllowed):
            change(lw, live_class, actor=who, from_date=next_monday(1))


# --- re-adding and adding sessions -----------------------------------------------------------------


def test_a_cancelled_session_can_be_re_added_unless_its_time_is_taken(db, lw):
    live_class = schedule(lw, weeks=2)
    db.session.commit()
    first = sessions_of(db, live_class)[0]
    services.cancel_session(lw["bureau"], first)
    db.session.commit()
    series.restore_session(lw["teacher"], first)
    db.session.commit()
    assert first.status == "scheduled" and first.sequence == 2
    assert db.session.query(Booking).filter_by(session_id=first.id).count() == 4
    assert db.session.query(Notification).filter_by(kind="live.session_restored", user_id=lw["assistant"].id).count()
    services.cancel_session(lw["bureau"], first)
    schedule(lw, teacher="teacher2", room="main_room2", receiving=(("village_room", "village_teacher"),),
             first=next_monday(1), weeks=1)  # takes the freed village room
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        series.restore_session(lw["teacher"], first)
    assert caught.value.details["conflicts"][0]["role"] == "receiving_classroom"
    with pytest.raises(Conflict):
        series.restore_session(lw["teacher"], sessions_of(db, live_class)[1])  # not cancelled


def test_a_past_session_cannot_be_re_added(db, lw):
    live_class = schedule(lw, first=next_monday() - timedelta(days=14), weeks=1)
    db.session.commit()
    session = sessions_of(db, live_class)[0]
    session.status = "cancelled"
    db.session.commit()
    with pytest.raises(Conflict):
        series.restore_session(lw["bureau"], session)


def test_an_extra_session_is_checked_for_clashes(db, lw):
    live_class = schedule(lw, weeks=1)
    db.session.commit()
    wednesday = next_monday() + timedelta(days=2)
    added = series.add_session(lw["teacher"], live_class, wednesday, time(15, 0), time(15, 40))
    db.session.commit()
    assert added.occurrence_date == wednesday and len(sessions_of(db, live_class)) == 2
    with pytest.raises(Conflict):
        series.add_session(lw["teacher"], live_class, wednesday, time(15, 20), time(16, 0))  # overlaps itself
    with pytest.raises(Invalid):
        series.add_session(lw["teacher"], live_class, wednesday, time(16, 0), time(15, 0))
    with pytest.raises(Conflict):
        series.add_session(lw["teacher"], live_class, next_monday() - timedelta(days=7), time(9, 0), time(9, 40))
    assert db.session.query(LiveSession).count() == 2
