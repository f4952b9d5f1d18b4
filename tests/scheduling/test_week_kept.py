"""Week pages and the home page's sessions kept between requests (core/cache.py ``kept``): what the
next view shows after a change, to whom, on which day. The store is on in the suite, as in production."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from portal.core import cache
from portal.org import services as org_services
from portal.org.models import BellSchedule
from portal.scheduling import services
from portal.scheduling.models import LiveSession
from portal.scheduling.recurrence import Slot

from . import live_world
from .week_world import MONDAY_10, periods_on_page, schedule

pytestmark = pytest.mark.usefixtures("english")

WEEK = "2026-09-07"


def first_session(db, live_class) -> LiveSession:
    return db.session.query(LiveSession).filter_by(live_class_id=live_class.id).order_by(LiveSession.starts_at).first()


def switch(auth, user) -> None:
    if auth.client.get("/").status_code == 200:
        auth.logout()
    assert auth.login(user.username).status_code == 302


def monday_of(html: str) -> str:
    return html.split(f'data-day="{WEEK}"')[1].split('data-day="2026-09-08"')[0]


def test_a_cancellation_made_on_the_page_is_on_the_next_view_of_every_week(db, lw, client, auth):
    live_class = live_world.schedule(lw)
    db.session.commit()
    session = live_world.sessions_of(db, live_class)[0]
    week, day = live_world.next_monday().isoformat(), session.occurrence_date.isoformat()
    mine, school = f"/timetable?week={week}", f"/timetable/schools/{lw['city'].id}?week={week}"

    def first_day(html: str) -> str:
        return html.split(f'data-day="{day}"')[1].split("</ul>")[0]

    switch(auth, lw["teacher"])
    assert "Cancelled" not in first_day(client.get(mine).get_data(as_text=True))
    switch(auth, lw["principal"])
    assert "Cancelled" not in first_day(client.get(school).get_data(as_text=True))

    switch(auth, lw["teacher"])
    response = auth.post(f"/live-sessions/{session.id}/cancel", {"back": "class", "note": "运动会"},
                         csrf_from=f"/live-classes/{live_class.id}")
    assert response.status_code == 302
    assert "Cancelled" in first_day(client.get(mine).get_data(as_text=True))
    switch(auth, lw["principal"])
    html = first_day(client.get(school).get_data(as_text=True))
    assert "Cancelled" in html and "week-session cancelled" in html


def test_new_bells_a_renamed_school_and_a_new_class_are_seen(db, w, client, auth):
    schedule(w)
    auth.login(w["assistant"].username)
    url = f"/timetable?week={WEEK}"
    html = client.get(url).get_data(as_text=True)
    assert periods_on_page(html) == ["Period 4"] and "山口村小学" in html

    existing = db.session.query(BellSchedule).filter_by(school_id=w["village"].id).one()
    org_services.save_bell_schedule(w["bureau"], existing, school=w["village"], name="冬季作息", from_month_day=None,
                                    to_month_day=None, periods=org_services.parse_periods(
                                        [("1", "09:20", "10:00"), ("2", "10:00", "10:40")]))
    db.session.commit()
    assert periods_on_page(client.get(url).get_data(as_text=True)) == ["Period 2"]

    w["village"].name = "山口村完全小学"
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert "山口村完全小学" in html

    schedule(w, teacher="teacher2", room="main_room2", slots=(Slot(3, MONDAY_10.start, MONDAY_10.end),))
    assert client.get(url).get_data(as_text=True).count('<li class="week-session') == 2


def test_each_viewer_sees_only_the_links_they_may_open(db, w, client, auth):
    schedule(w)
    url = f"/timetable/teachers/{w['teacher'].id}?week={WEEK}"
    village_room = f'/timetable/classrooms/{w["village_room"].id}?week={WEEK}'
    auth.login(w["researcher"].username)  # the county's: every classroom of it
    assert village_room in client.get(url).get_data(as_text=True)
    switch(auth, w["principal"])  # the city school's: only its own classrooms
    html = client.get(url).get_data(as_text=True)
    assert client.get(url).status_code == 200
    assert village_room not in html and f'/timetable/classrooms/{w["main_room"].id}?week={WEEK}' in html


def test_ones_own_week_by_either_address_links_to_that_address(db, w, client, auth):
    schedule(w)
    auth.login(w["teacher"].username)
    mine = client.get(f"/timetable?week={WEEK}").get_data(as_text=True)
    by_id = client.get(f"/timetable/teachers/{w['teacher'].id}?week={WEEK}").get_data(as_text=True)
    assert 'href="/timetable?week=2026-09-14"' in mine
    assert f'href="/timetable/teachers/{w["teacher"].id}?week=2026-09-14"' in by_id


def test_the_next_day_is_marked_today(db, w, client, auth, monkeypatch):
    from portal.scheduling import timetable_views, week_page

    schedule(w)
    auth.login(w["teacher"].username)
    for day in (date(2026, 9, 7), date(2026, 9, 8)):
        monkeypatch.setattr(timetable_views, "local_today", lambda day=day: day)
        monkeypatch.setattr(week_page, "local_today", lambda day=day: day)
        html = client.get(f"/timetable?week={WEEK}").get_data(as_text=True)
        assert re.search(f'<li class="week-day today( empty)?" data-day="{day.isoformat()}">', html)
        assert html.count("week-day today") == 1


def test_each_language_gets_its_own_words(db, w, client, auth):
    schedule(w)
    auth.login(w["teacher"].username)
    assert "Period 3" in client.get(f"/timetable?week={WEEK}").get_data(as_text=True)
    w["teacher"].locale = "zh_Hans"
    db.session.commit()
    html = client.get(f"/timetable?week={WEEK}").get_data(as_text=True)
    assert "Period 3" not in html and "第3节" in html


def test_the_homes_sessions_follow_a_cancellation_new_bells_and_the_day(db, w, client, auth, monkeypatch):
    from portal.scheduling import home

    live_class = schedule(w, first=date(2026, 9, 7), last=date(2026, 10, 12))
    monkeypatch.setattr(home, "utcnow", lambda: datetime(2026, 9, 14, 0, 0, tzinfo=UTC))  # Monday 08:00 local
    auth.login(w["assistant"].username)
    html = client.get("/").get_data(as_text=True)
    assert "Today 10:00–10:40 · Period 4" in html and "Cancelled" not in html

    monday = db.session.query(LiveSession).filter_by(live_class_id=live_class.id,
                                                     occurrence_date=date(2026, 9, 14)).one()
    services.cancel_session(w["bureau"], monday, note="")
    db.session.commit()
    assert "Today 10:00–10:40 · Period 4 · Cancelled" in client.get("/").get_data(as_text=True)

    existing = db.session.query(BellSchedule).filter_by(school_id=w["village"].id).one()
    org_services.save_bell_schedule(w["bureau"], existing, school=w["village"], name="冬季作息", from_month_day=None,
                                    to_month_day=None, periods=org_services.parse_periods(
                                        [("1", "09:20", "10:00"), ("2", "10:00", "10:40")]))
    db.session.commit()
    assert "09-21 10:00–10:40 · Period 2" in client.get("/").get_data(as_text=True)

    monkeypatch.setattr(home, "utcnow", lambda: datetime(2026, 9, 21, 0, 0, tzinfo=UTC))  # a week later
    html = client.get("/").get_data(as_text=True)
    assert "Today 10:00–10:40 · Period 2" in html and "Cancelled" not in html


def test_live_now_follows_the_time_of_day_and_a_cancellation(db, w, client, auth, monkeypatch):
    """The day's sessions are kept; which one is about to start or running is the time's to say."""
    from portal.scheduling import home

    live_class = schedule(w, first=date(2026, 9, 7), last=date(2026, 10, 12))  # Mondays 10:00-10:40
    auth.login(w["assistant"].username)

    def live_at(hour: int, minute: int) -> str:
        monkeypatch.setattr(home, "utcnow", lambda: datetime(2026, 9, 14, hour - 8, minute, tzinfo=UTC))
        html = client.get("/").get_data(as_text=True)
        return html.split("Live now", 1)[1].split("</section>", 1)[0] if "Live now" in html else ""

    monday = db.session.query(LiveSession).filter_by(live_class_id=live_class.id,
                                                     occurrence_date=date(2026, 9, 14)).one()
    assert live_at(8, 0) == ""
    assert "Starts at 10:00" in live_at(9, 50) and f"/live-sessions/{monday.id}/room" in live_at(9, 50)
    assert "Running now" in live_at(10, 20)
    assert live_at(10, 45) == ""
    services.cancel_session(w["bureau"], monday, note="")
    db.session.commit()
    assert live_at(10, 20) == ""


def test_only_what_a_week_shows_drops_the_kept_weeks(db, w, make, app):
    """A resource, a notification or a login leaves the weeks kept; a session's change does not."""
    live_class = schedule(w)
    with app.test_request_context():
        before = cache.generation(cache.TIMETABLES.name)
        make.resource(owner=w["teacher"])
        w["teacher"].last_login_at = w["teacher"].created_at
        db.session.commit()
        assert cache.generation(cache.TIMETABLES.name) == before
        services.cancel_session(w["bureau"], first_session(db, live_class), note="")
        db.session.commit()
        assert cache.generation(cache.TIMETABLES.name) != before


def test_a_change_committed_by_another_process_is_seen_through_redis(db, w, client, auth, cache_redis, monkeypatch):
    from portal.scheduling import timetable

    schedule(w)
    calls, original = [], timetable.week_of
    monkeypatch.setattr(timetable, "week_of", lambda *a, **k: calls.append(a) or original(*a, **k))
    auth.login(w["teacher"].username)
    for _ in range(2):
        assert client.get(f"/timetable?week={WEEK}").status_code == 200
    assert len(calls) == 1
    cache_redis.incr("portal:timetables:generation")  # another process committed a change
    for _ in range(2):
        assert client.get(f"/timetable?week={WEEK}").status_code == 200
    assert len(calls) == 2


def test_a_request_asks_redis_once_for_a_generation_and_sees_its_own_change(app, cache_redis, monkeypatch):
    with app.test_request_context():
        client, asked = cache._redis(), []
        get = client.get
        monkeypatch.setattr(client, "get", lambda key: asked.append(key) or get(key))
        first = cache.generation("timetables")
        assert cache.generation("timetables") == first and cache.generation("audiences")
        assert asked == ["portal:timetables:generation", "portal:audiences:generation"]
        cache.bump("timetables")  # this request's own commit
        assert cache.generation("timetables") != first
    with app.test_request_context():
        cache_redis.incr("portal:timetables:generation")  # another process's, seen by the next request
        now = cache.generation("timetables")
    with app.test_request_context():
        cache_redis.incr("portal:timetables:generation")
        assert cache.generation("timetables") != now


def test_each_store_holds_a_bounded_number_of_values(app):
    limit = cache.TIMETABLES.kept
    with app.test_request_context():
        for n in range(limit + 50):
            cache.kept(("test", n), lambda n=n: n)
        cache.kept(("test", "small"), lambda: "kept apart", cache.AUDIENCES)
        assert len(cache._kept["timetables"]) == limit and len(cache._kept["audiences"]) == 1
        assert cache.kept(("test", limit + 49), lambda: "computed") == limit + 49
        assert cache.kept(("test", 0), lambda: "computed") == "computed"  # the oldest went first
        assert cache.kept(("test", "small"), lambda: "computed", cache.AUDIENCES) == "kept apart"


def test_off_when_page_cache_seconds_is_zero(app):
    app.config["PAGE_CACHE_SECONDS"] = 0
    with app.test_request_context():
        assert cache.kept(("test", "off"), lambda: 1) == 1
        assert cache.kept(("test", "off"), lambda: 2) == 2
