"""The school calendar: the bureau adds holidays and make-up days; a late holiday cancels sessions."""

from __future__ import annotations

from datetime import date, time

import pytest

from portal.accounts.models import Notification
from portal.scheduling import services
from portal.scheduling.models import CalendarDay, LiveSession
from portal.scheduling.recurrence import Slot


@pytest.fixture
def live_class(make, db):
    county = make.county()
    city, village = make.school("urban", county=county), make.school("village", county=county)
    teacher, assistant = make.user("teacher", school=city), make.user("teacher", school=village)
    live_class = services.schedule_live_class(
        make.user("bureau"), subject="music", grade=3, main_teacher=teacher, main_classroom=make.classroom(city),
        receiving=[(make.classroom(village), assistant)], slots=[Slot(4, time(14, 0), time(14, 40))],
        first_date=date(2026, 9, 3), last_date=date(2026, 9, 24))
    db.session.commit()
    return live_class


def test_a_holiday_added_later_cancels_the_sessions_on_it_and_tells_people(client, auth, db, make, live_class):
    auth.login(make.user("bureau").username)
    response = auth.post("/admin/calendar", {"day": "2026-09-10", "kind": "holiday", "name": "教师节活动",
                                             "follows_weekday": "0"}, csrf_from="/admin/calendar")
    assert response.status_code == 302
    statuses = [s.status for s in db.session.query(LiveSession).order_by(LiveSession.starts_at)]
    assert statuses == ["scheduled", "cancelled", "scheduled", "scheduled"]
    assert db.session.query(Notification).filter_by(kind="live.session_cancelled").count() == 2


def test_a_make_up_day_is_a_weekend_day_following_a_weekday(client, auth, db, make):
    auth.login(make.user("bureau", locale="en").username)
    response = auth.post("/admin/calendar", {"day": "2026-10-08", "kind": "workday", "follows_weekday": "4"},
                         csrf_from="/admin/calendar")
    assert response.status_code == 400 and "Saturday or a Sunday" in response.get_data(as_text=True)
    response = auth.post("/admin/calendar", {"day": "2026-10-10", "kind": "workday", "follows_weekday": "0"})
    assert response.status_code == 400
    assert auth.post("/admin/calendar", {"day": "2026-10-10", "kind": "workday", "follows_weekday": "1"}
                     ).status_code == 302
    assert auth.post("/admin/calendar", {"day": "2026-10-10", "kind": "holiday", "follows_weekday": "0"}
                     ).status_code == 400  # already there
    assert auth.post("/admin/calendar", {"day": "2026-02-30", "kind": "holiday", "follows_weekday": "0"}
                     ).status_code == 400
    assert [(d.day, d.follows_weekday) for d in db.session.query(CalendarDay)] == [(date(2026, 10, 10), 1)]


def test_only_the_bureau_keeps_the_calendar(client, auth, make):
    auth.login(make.user("principal").username)
    assert client.get("/admin/calendar").status_code == 403
