"""Week timetables with each school's own period numbers, who may see them, the term overview."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook

from portal.org import services as org_services
from portal.scheduling import services, timetable
from portal.scheduling.models import CalendarDay, LiveSession, SessionAttendance
from portal.scheduling.recurrence import Slot

from .week_world import MONDAY_10, VILLAGE_PERIODS, bells, periods_on_page, schedule

pytestmark = pytest.mark.usefixtures("english")

def test_the_same_session_is_a_different_period_at_each_school(db, w):
    schedule(w, receiving=(("village_room", "assistant"), ("point_room", "assistant2")))
    week = timetable.week_of(timetable.teacher_classes(w["teacher"].id), date(2026, 9, 7), w["city"].id)
    entry = week.days[0].entries[0]
    assert entry.here.periods == [3]
    assert [(s.school.name, s.role, s.periods) for s in entry.schools] == [
        ("实验小学", "main", [3]), ("山口村小学", "receiving", [4]), ("云台教学点", "receiving", None)]


@pytest.mark.parametrize(("who", "url", "period"), [
    ("teacher", "/timetable?week=2026-09-09", "Period 3"),
    ("assistant", "/timetable?week=2026-09-09", "Period 4"),
    ("principal", "/timetable/schools/{city}?week=2026-09-07", "Period 3"),
    ("village_principal", "/timetable/schools/{village}?week=2026-09-07", "Period 4"),
    ("assistant", "/timetable/classrooms/{village_room}?week=2026-09-13", "Period 4"),
    ("bureau", "/timetable/classrooms/{point_room}?week=2026-09-07", "No bell schedule"),
])
def test_week_pages_show_the_viewing_schools_period(db, w, client, auth, who, url, period):
    schedule(w, receiving=(("village_room", "assistant"), ("point_room", "assistant2")))
    auth.login(w[who].username)
    ids = {"city": w["city"].id, "village": w["village"].id, "village_room": w["village_room"].id,
           "point_room": w["point_room"].id}
    response = client.get(url.format(**ids))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert periods_on_page(html) == [period]
    assert "2026-09-07" in html and "10:00–10:40" in html
    # Every page also lists each school's own period for the session.
    assert re.search(r'data-school="实验小学" data-numbers="3">\s*<span>实验小学 \(main\)</span>\s*<strong>Period 3</strong>', html)
    assert re.search(r'data-school="山口村小学" data-numbers="4">\s*<span>山口村小学</span>\s*<strong>Period 4</strong>', html)


def test_outside_periods_and_status_of_cancelled_and_moved_sessions(db, w, client, auth):
    live_class = schedule(w, slots=(Slot(1, time(12, 0), time(12, 40)), MONDAY_10), last=date(2026, 9, 7))
    noon, ten = db.session.query(LiveSession).filter_by(live_class_id=live_class.id).order_by(LiveSession.starts_at.desc())
    services.cancel_session(w["bureau"], noon, note="运动会")
    services.move_session(w["bureau"], ten, date(2026, 9, 8), time(8, 50), time(9, 30))
    db.session.commit()
    auth.login(w["assistant"].username)
    html = client.get("/timetable?week=2026-09-07").get_data(as_text=True)
    monday = html.split('data-day="2026-09-07"')[1].split('data-day="2026-09-08"')[0]
    tuesday = html.split('data-day="2026-09-08"')[1].split('data-day="2026-09-09"')[0]
    assert "Cancelled" in monday and "运动会" in monday and 'week-session cancelled' in monday
    assert periods_on_page(monday) == ["Outside periods"]
    assert "Moved" in tuesday and "from 09-07" in tuesday
    assert f'href="/live-sessions/{ten.id}"' in tuesday  # the session's own page
    assert periods_on_page(tuesday) == ["Periods 2–3"]  # 08:50–09:30 spans the village's periods 2 and 3


def test_week_boundaries_are_local_monday_to_sunday(db, w):
    # Monday 07:30 in Shanghai is Sunday 23:30 UTC; Sunday 22:00 local is still Sunday in UTC.
    early = schedule(w, slots=(Slot(1, time(7, 30), time(8, 10)),), first=date(2026, 9, 7), last=date(2026, 9, 7))
    late = schedule(w, teacher="teacher2", room="main_room2", receiving=(("point_room", "assistant2"),),
                    slots=(Slot(7, time(22, 0), time(22, 40)),), first=date(2026, 9, 13), last=date(2026, 9, 13))
    first = db.session.query(LiveSession).filter_by(live_class_id=early.id).one()
    assert first.starts_at.astimezone(UTC) == datetime(2026, 9, 6, 23, 30, tzinfo=UTC)
    both = timetable.school_classes(w["city"].id)
    this_week = timetable.week_of(both, timetable.monday_of(date(2026, 9, 13)), w["city"].id)
    assert this_week.monday == date(2026, 9, 7)
    assert [len(d.entries) for d in this_week.days] == [1, 0, 0, 0, 0, 0, 1]
    assert this_week.days[0].entries[0].live_class.id == early.id
    assert this_week.days[6].entries[0].live_class.id == late.id
    assert timetable.week_of(both, date(2026, 8, 31), w["city"].id).count == 0
    assert timetable.week_of(both, date(2026, 9, 14), w["city"].id).count == 0


def test_holidays_and_make_up_days_are_marked(db, w, client, auth):
    db.session.add_all([CalendarDay(day=date(2026, 10, 5), kind="holiday", name="国庆节"),
                        CalendarDay(day=date(2026, 10, 10), kind="workday", follows_weekday=1, name="调休")])
    db.session.commit()
    schedule(w)
    auth.login(w["teacher"].username)
    html = client.get("/timetable?week=2026-10-07").get_data(as_text=True)
    assert "Holiday: 国庆节" in html and "Make-up working day (调休): 调休" in html
    saturday = html.split('data-day="2026-10-10"')[1].split('data-day="2026-10-11"')[0]
    assert periods_on_page(saturday) == ["Period 3"]  # the make-up Saturday follows Monday's timetable


@pytest.mark.parametrize(("who", "target", "status"), [
    ("teacher", "/timetable/teachers/{teacher}", 200),
    ("teacher", "/timetable/teachers/{teacher2}", 403),
    ("teacher", "/timetable/classrooms/{main_room}", 200),
    ("teacher", "/timetable/classrooms/{village_room}", 403),
    ("teacher", "/timetable/schools/{city}", 403),
    ("assistant", "/timetable/teachers/{teacher}", 403),
    ("assistant", "/timetable/classrooms/{village_room}", 200),
    ("principal", "/timetable/teachers/{teacher2}", 200),
    ("principal", "/timetable/teachers/{assistant}", 403),
    ("principal", "/timetable/schools/{city}", 200),
    ("principal", "/timetable/schools/{village}", 403),
    ("principal", "/timetable/classrooms/{village_room}", 403),
    ("village_principal", "/timetable/schools/{village}/term", 200),
    ("village_principal", "/timetable/schools/{city}/term", 403),
    ("far_principal", "/timetable/schools/{village}", 403),
    ("researcher", "/timetable/schools/{village}", 200),
    ("researcher", "/timetable/teachers/{assistant}", 200),
    ("researcher", "/timetable/schools/{far}", 403),
    ("far_researcher", "/timetable/classrooms/{village_room}", 403),
    ("county_bureau", "/timetable/schools/{city}/term", 200),
    ("far_bureau", "/timetable/schools/{city}", 403),
    ("far_bureau", "/timetable/teachers/{teacher}", 403),
    ("bureau", "/timetable/schools/{far}", 200),
    ("bureau", "/timetable", 403),
    ("teacher", "/timetable/teachers/{bureau}", 404),
    ("teacher", "/timetable?week=2026-02-30", 400),
    ("teacher", "/timetable?week=next", 400),
    ("principal", "/timetable/schools/{city}/term?term=99999", 404),
])
def test_who_may_see_which_timetable(db, w, client, auth, who, target, status):
    schedule(w)
    auth.login(w[who].username)
    ids = {k: v.id for k, v in w.items() if hasattr(v, "id")}
    response = client.get(target.format(**ids))
    assert response.status_code == status, target
    if status == 400:
        assert "week must be a date like 2026-09-07" in response.get_data(as_text=True)


def test_term_overview_counts_exactly(db, w, make, client, auth):
    term = w["term"]
    # Six Mondays 7 Sep – 12 Oct, to the village and the teaching point; a music class to the village.
    english = schedule(w, receiving=(("village_room", "assistant"), ("point_room", "assistant2")), term=term,
                       first=date(2026, 9, 7), last=date(2026, 10, 12))
    music = schedule(w, teacher="teacher2", room="main_room2", slots=(Slot(2, time(10, 0), time(10, 40)),),
                     subject="music", first=date(2026, 9, 8), last=date(2026, 9, 29))
    sessions = db.session.query(LiveSession).filter_by(live_class_id=english.id).order_by(LiveSession.starts_at).all()
    now = datetime(2026, 9, 30, 0, 0, tzinfo=UTC)  # four English Mondays are past (7, 14, 21, 28 Sep)
    services.cancel_session(w["bureau"], sessions[1])
    for session, rooms in ((sessions[0], ("village_room", "point_room")), (sessions[2], ("village_room",))):
        for room in rooms:
            db.session.add(SessionAttendance(session_id=session.id, classroom_id=w[room].id, present=7, class_size=8,
                                             recorded_by_id=w["assistant"].id))
        session.status = "done"
    music_sessions = db.session.query(LiveSession).filter_by(live_class_id=music.id).order_by(LiveSession.starts_at).all()
    db.session.add(SessionAttendance(session_id=music_sessions[0].id, classroom_id=w["village_room"].id, present=18,
                                     class_size=20, recorded_by_id=w["assistant"].id))
    music_sessions[0].status = "done"
    db.session.commit()

    def row(rows, subject):
        r = next(r for r in rows if r.subject == subject)
        return r.planned, r.delivered, r.cancelled, r.missing, r.upcoming

    city = timetable.term_overview(w["city"].id, term, now)
    assert row(city["main"], "english") == (6, 2, 1, 1, 2)
    assert row(city["main"], "music") == (4, 1, 0, 3, 0)
    assert city["receiving"] == []
    village = timetable.term_overview(w["village"].id, term, now)
    assert village["main"] == []
    assert row(village["receiving"], "english") == (6, 2, 1, 1, 2)
    assert row(village["receiving"], "music") == (4, 1, 0, 3, 0)
    point = timetable.term_overview(w["point"].id, term, now)
    assert row(point["receiving"], "english") == (6, 1, 1, 2, 2)
    assert timetable.totals(village["receiving"], "receiving").planned == 10

    auth.login(w["village_principal"].username)
    html = client.get(f"/timetable/schools/{w['village'].id}/term?term={term.id}").get_data(as_text=True)
    receiving = html.split('data-role="receiving"')[1]
    assert re.search(r'data-subject="english">\s*<th scope="row">English</th>\s*<td class="num" data-planned>6</td>'
                     r'\s*<td class="num" data-delivered>2</td>\s*<td class="num" data-cancelled>1</td>', receiving)
    export = client.get(f"/timetable/schools/{w['village'].id}/term.xlsx?term={term.id}")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "山口村小学"
    assert ["Receiving school", "English", 6, 2, 1, 3, 0, 40] in [r[:8] for r in rows]  # now: every date is past


def test_week_view_query_count_does_not_grow_with_sessions(db, w, make, client, auth, count_queries):
    schedule(w)
    auth.login(w["principal"].username)
    url = f"/timetable/schools/{w['city'].id}?week=2026-09-07"
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    # Four more classes from other rooms to more schools, twice a week.
    for n in range(4):
        room = make.classroom(w["city"], grade=5, name=f"五({n})班")
        teacher = make.user("teacher", school=w["city"])
        village = make.school("village", county=w["county"])
        bells(w["bureau"], village, VILLAGE_PERIODS)
        receiving_room = make.classroom(village, grade=5)
        assistant = make.user("teacher", school=village)
        w.update({f"t{n}": teacher, f"r{n}": room, f"rr{n}": receiving_room, f"a{n}": assistant})
        schedule(w, teacher=f"t{n}", room=f"r{n}", receiving=((f"rr{n}", f"a{n}"),),
                 slots=(Slot(2 + n % 3, time(8, 0), time(8, 40)), Slot(5, time(8 + n, 50), time(9 + n, 30))))
    with count_queries() as many:
        html = client.get(url).get_data(as_text=True)
    assert html.count("data-session=") == 9
    assert len(many) == len(few)


def test_home_panel_shows_the_next_sessions_with_periods(db, w, client, auth, monkeypatch):
    from portal.scheduling import home

    schedule(w, first=date(2026, 9, 7), last=date(2026, 10, 12))
    monkeypatch.setattr(home, "utcnow", lambda: datetime(2026, 9, 14, 0, 0, tzinfo=UTC))  # 08:00 local
    auth.login(w["assistant"].username)
    html = client.get("/").get_data(as_text=True)
    assert "Today&#39;s and next dual-teacher sessions" in html or "Today's and next dual-teacher sessions" in html
    assert "English (assistant)" in html and "Today 10:00–10:40 · Period 4" in html
    assert "09-21 10:00–10:40 · Period 4" in html


@pytest.mark.parametrize(("who", "school", "shown"), [
    ("principal", "city", True), ("principal", "village", False), ("teacher", "city", False),
    ("researcher", "village", True), ("far_bureau", "city", False), ("bureau", "far", True),
])
def test_the_school_page_links_to_its_timetable_for_those_who_may_see_it(db, w, client, auth, who, school, shown):
    auth.login(w[who].username)
    html = client.get(f"/schools/{w[school].id}").get_data(as_text=True)
    assert (f'href="/timetable/schools/{w[school].id}"' in html) is shown
    assert (f'href="/timetable/schools/{w[school].id}/term"' in html) is shown


def test_term_overview_kept_in_the_cache_counts_new_attendance(db, w, make, cache_on):
    term = w["term"]
    english = schedule(w, term=term, first=date(2026, 9, 7), last=date(2026, 10, 12))
    first = db.session.query(LiveSession).filter_by(live_class_id=english.id).order_by(LiveSession.starts_at).first()
    now = datetime(2026, 9, 30, 0, 0, tzinfo=UTC)

    def village():
        return [(r.subject, r.planned, r.delivered) for r in timetable.term_overview(w["village"].id, term, now)["receiving"]]

    assert village() == [("english", 6, 0)]
    timetable.term_overview(w["village"].id, term, now)["receiving"][0].delivered = 99  # a copy: the cache keeps its own
    assert village() == [("english", 6, 0)]
    db.session.add(SessionAttendance(session_id=first.id, classroom_id=w["village_room"].id, present=7, class_size=8,
                                     recorded_by_id=w["assistant"].id))
    db.session.commit()
    assert village() == [("english", 6, 1)]


def test_term_overview_query_count_does_not_grow_with_classes(db, w, make, client, auth, count_queries):
    schedule(w, term=w["term"], first=date(2026, 9, 7), last=date(2026, 10, 12))
    auth.login(w["village_principal"].username)
    url = f"/timetable/schools/{w['village'].id}/term"
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for n, subject in enumerate(("music", "art", "pe")):
        teacher, room = make.user("teacher", school=w["city"]), make.classroom(w["city"], grade=6, name=f"六({n})班")
        assistant, receiving = make.user("teacher", school=w["village"]), make.classroom(w["village"], grade=6,
                                                                                        name=f"六年级{n}")
        w.update({"tt": teacher, "rr": room, "aa": assistant, "vr": receiving})
        schedule(w, teacher="tt", room="rr", receiving=(("vr", "aa"),), subject=subject, term=w["term"],
                 slots=(Slot(3, time(8 + n, 0), time(8 + n, 40)),))
    with count_queries() as many:
        html = client.get(url).get_data(as_text=True)
    assert html.count("data-subject=") == 4
    assert len(many) == len(few)


def test_principals_home_shows_the_schools_term_figures(db, w, client, auth):
    schedule(w, term=w["term"], first=date(2026, 9, 7), last=date(2026, 10, 12))
    auth.login(w["village_principal"].username)
    html = client.get("/").get_data(as_text=True)
    assert "Dual-teacher periods this term" in html and "English (as receiving school)" in html
    assert "0 of 6 periods delivered, 0 cancelled" in html
    assert f'href="/timetable/schools/{w["village"].id}/term"' in html


def test_home_panel_links_a_coming_session_to_its_room_and_a_past_one_to_its_page(db, w, client, auth):
    from datetime import timedelta

    from portal.core.timeutil import local_today

    today = local_today()
    schedule(w, slots=(Slot(today.isoweekday(), time(0, 0), time(0, 1)),
                       Slot((today + timedelta(days=1)).isoweekday(), time(10, 0), time(10, 40))),
             first=today, last=today + timedelta(days=1))
    past, coming = db.session.query(LiveSession).order_by(LiveSession.starts_at).all()
    auth.login(w["assistant"].username)
    html = client.get("/").get_data(as_text=True)
    panel = html.split("Today&#39;s and next dual-teacher sessions")[1].split("</section>")[0]
    assert f'href="/live-sessions/{past.id}"' in panel  # over: its page, to record attendance
    assert f'href="/live-sessions/{coming.id}/room"' in panel
    assert "Today 00:00–00:01" in panel and "Period 4" in panel


def test_a_week_loads_only_the_bell_schedules_its_days_can_use(db, w):
    from portal.scheduling.bells import schedule_on, schedules_of

    summer = [("1", "08:00", "08:40"), ("2", "08:50", "09:30")]
    winter = [("1", "08:30", "09:10"), ("2", "09:20", "10:00")]
    for name, first, last, rows in (("夏季", "05-01", "09-30", summer), ("冬季", "10-01", "04-30", winter)):
        org_services.save_bell_schedule(w["bureau"], None, school=w["point"], name=name, from_month_day=first,
                                        to_month_day=last, periods=org_services.parse_periods(rows))
    db.session.commit()
    schools = {w["point"].id, w["city"].id}
    every = schedules_of(schools)
    assert [s.name for s in every[w["point"].id]] == ["夏季", "冬季"]
    # A summer week, the week across 1 October, a winter week across the new year: each day picks
    # the same schedule from the week's as from all of them, and the city's default always comes.
    for monday in (date(2026, 9, 7), date(2026, 9, 28), date(2026, 12, 28)):
        sunday = monday + timedelta(days=6)
        week = schedules_of(schools, monday, sunday)
        assert [s.name for s in week[w["city"].id]] == ["作息"]
        for offset in range(7):
            day = monday + timedelta(days=offset)
            for school_id in schools:
                assert schedule_on(week[school_id], day) == schedule_on(every[school_id], day)
    assert [s.name for s in schedules_of(schools, date(2026, 9, 7), date(2026, 9, 13))[w["point"].id]] == ["夏季"]
    assert [s.name for s in schedules_of(schools, date(2026, 12, 28), date(2027, 1, 3))[w["point"].id]] == ["冬季"]
    assert len(schedules_of(schools, date(2026, 9, 28), date(2026, 10, 4))[w["point"].id]) == 2


def test_the_week_page_links_only_the_classrooms_the_viewer_may_open_and_escapes_names(db, w, client, auth):
    w["village_room"].name = "三年级<b>"
    db.session.commit()
    schedule(w, receiving=(("village_room", "assistant"), ("point_room", "assistant2")))
    auth.login(w["assistant"].username)  # a village teacher: their own school's classrooms only
    html = client.get("/timetable?week=2026-09-07").get_data(as_text=True)
    card = html.split('<li class="week-session')[1].split("</details>")[0]
    assert f'<a href="/timetable/classrooms/{w["village_room"].id}?week=2026-09-07">山口村小学 三年级&lt;b&gt;</a>' in card
    assert "实验小学 三(1)班</p>" in card and f'/timetable/classrooms/{w["main_room"].id}' not in card
    assert "云台教学点 复式班 · assistant 马林" in card
    assert "2 receiving classrooms" in card and "English · Grade 3" in card
    assert html.count('<li class="week-session') == 1
    assert '<li class="week-day" data-day="2026-09-07">' in html
    assert '<li class="week-day empty" data-day="2026-09-08">' in html


def test_bell_periods_are_read_as_the_times_stored_and_an_edit_is_seen(db, w):
    from portal.org.models import BellPeriod
    from portal.scheduling.bells import Period, schedules_of

    rows = [("1", "08:00", "08:40"), ("2", "08:50", "09:30"), ("3", "13:05", "13:45")]
    saved = {school: org_services.save_bell_schedule(
        w["bureau"], None, school=w[school], name="新作息", from_month_day=None, to_month_day=None,
        periods=org_services.parse_periods(rows)) for school in ("point", "village")}
    db.session.commit()

    def periods(school):
        read = schedules_of({w[school].id})[w[school].id]
        return next(list(s.periods) for s in read if s.id == saved[school].id)

    stored = [Period(p.number, p.start_time, p.end_time) for p in db.session.query(BellPeriod).filter_by(
        schedule_id=saved["point"].id).order_by(BellPeriod.number)]
    assert periods("point") == stored == periods("village")
    assert stored[2] == Period(3, time(13, 5), time(13, 45))
    assert all(type(p.start_time) is time and type(p.end_time) is time for p in periods("village"))
    org_services.save_bell_schedule(w["bureau"], saved["point"], school=w["point"], name="新作息", from_month_day=None,
                                    to_month_day=None, periods=org_services.parse_periods([("1", "08:10", "08:50")]))
    db.session.commit()
    assert periods("point") == [Period(1, time(8, 10), time(8, 50))]
    assert periods("village") == stored
