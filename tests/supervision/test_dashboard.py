"""The supervision dashboard: a small county with known numbers, every figure and every list behind
it checked exactly; county scoping; roles; the Excel registers; a fixed number of queries."""

from __future__ import annotations

import html as html_lib
import io
import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from portal.communities.models import Participant, TrainingRecord
from portal.core.models import utcnow
from portal.core.timeutil import local_today, school_year_of, to_local
from portal.resources.models import ResourceDownload, ResourceUse
from portal.scheduling.models import LiveClass, LiveSession, ReceivingClassroom, SessionAttendance

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)

YEAR = school_year_of(datetime.now(ZoneInfo("Asia/Shanghai")).date())


def add_class(make, db, subject, main_room, teacher, rooms):
    """A dual-teacher class from ``main_room`` to ``rooms`` (classroom, assistant) pairs."""
    live_class = LiveClass(subject=subject, grade=3, title=f"{subject}课", main_teacher=teacher,
                           main_classroom=main_room, first_date=date(YEAR, 9, 1), last_date=date(YEAR + 1, 7, 1),
                           receiving=[ReceivingClassroom(classroom=room, assistant=who) for room, who in rooms])
    db.session.add(live_class)
    db.session.commit()
    return live_class


def add_session(db, live_class, days: float, status="scheduled", attended=()):
    """A session ``days`` from now (negative: past), with attendance for the classrooms given."""
    starts_at = utcnow().replace(microsecond=0) + timedelta(days=days)
    session = LiveSession(live_class=live_class, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=40),
                          status=status, occurrence_date=to_local(starts_at).date())
    db.session.add(session)
    db.session.flush()
    for room in attended:
        db.session.add(SessionAttendance(session_id=session.id, classroom_id=room.id, present=20, class_size=25))
    db.session.commit()
    return session


def quota_targets(required: int):
    """What the quota engine expects today of a principal of a county with no calendar entries."""
    from portal.observations.quota import TeachingCalendar, targets

    calendar = TeachingCalendar(YEAR)
    period = calendar.period(type("Rule", (), {"period": "school_year"})(), local_today())
    elapsed, total = calendar.elapsed(period, None, local_today())
    return targets(required, elapsed, total)


def observe(make, principal, done: int, teacher):
    """Final observations of ``teacher`` by the principal adding up to ``done`` periods (at most 4 a record)."""
    day = max(date(YEAR, 9, 10), min(local_today(), date(YEAR, 10, 12)))
    while done > 0:
        make.counted(principal, on=day, periods=min(4, done), teacher=teacher)
        done -= min(4, done)


@pytest.fixture
def world(make, db):
    """County 甲 with known numbers; county 乙 with one uncovered rural teacher."""
    a, b = make.county("甲县"), make.county("乙县")
    urban = make.school("urban", county=a, name="甲县实验小学")
    v1 = make.school("village", county=a, name="甲县一村小学")
    v2 = make.school("village", county=a, name="甲县二村小学")
    t1 = make.school("township", county=a, name="甲县中心小学")
    far = make.school("village", county=b, name="乙县河湾村小学")
    people = {
        "t1": make.user("teacher", school=v1, name="赵一", username="t1", locale="en"),
        "t2": make.user("teacher", school=v1, name="钱二", username="t2"),
        "t3": make.user("teacher", school=v2, name="孙三", username="t3"),
        "t4": make.user("teacher", school=t1, name="李四", username="t4"),
        "u1": make.user("teacher", school=urban, name="周城", username="u1", is_backbone=True),
        "p1": make.user("principal", school=v1, name="吴校长", username="p1", locale="en"),
        "p2": make.user("principal", school=v2, name="郑校长", username="p2"),
        "p3": make.user("principal", school=t1, name="王校长", username="p3"),
        "up": make.user("principal", school=urban, name="冯校长", username="up"),
        "tb": make.user("teacher", school=far, name="陈远", username="tb"),
        "r": make.user("researcher", county=a, username="researcher.a", locale="en"),
    }
    teachers = make.community("teacher", leader=people["t1"], county=a, name="甲县数学名师工作室")
    make.member(teachers, user=people["t3"])
    heads = make.community("principal", county=a, name="甲县名校长工作室")
    make.member(heads, user=people["p1"])
    make.partnership(lead=urban, members=[v1], start=date(YEAR, 9, 1))

    # the quota: 20 periods a school year in county 甲
    make.quota_rule(county=a, required=20)
    t = quota_targets(20)
    assert 0 < t.risk_floor < t.expected < t.required, t
    observe(make, people["p1"], 20, people["t1"])  # met
    observe(make, people["up"], t.expected, people["u1"])  # on track
    observe(make, people["p3"], t.risk_floor, people["t4"])  # behind
    # p2: nothing, at risk

    # dual-teacher classes from the urban school
    main_room = make.classroom(urban, name="一班")
    r1, r2, r3 = make.classroom(v1, name="一班"), make.classroom(v2, name="一班"), make.classroom(t1, name="一班")
    math = add_class(make, db, "math", main_room, people["u1"], [(r1, people["t1"]), (r2, people["t3"])])
    chinese = add_class(make, db, "chinese", main_room, people["u1"], [(r1, people["t2"]), (r3, people["t4"])])
    add_session(db, math, -10, "done", [r1, r2])
    add_session(db, math, -9, "done", [r1])
    missing = add_session(db, math, -8)
    add_session(db, math, -7, "cancelled")
    add_session(db, math, 3)
    add_session(db, chinese, -6, "done", [r1, r3])

    # resources: the urban teacher shares one; a rural school downloads it, another uses it
    shared = make.resource(people["u1"], "分数的意义教案")
    db.session.add_all([
        ResourceDownload(resource_id=shared.id, user_id=people["t2"].id, school_id=v1.id),
        ResourceUse(resource_id=shared.id, user_id=people["t3"].id, school_id=v2.id, used_on=local_today()),
    ])
    # community activity: one held per community, one to come, one cancelled
    now = utcnow().replace(microsecond=0)
    held = make.activity(teachers, starts_at=now - timedelta(days=2))
    make.activity(teachers, starts_at=now + timedelta(days=5))
    make.activity(teachers, starts_at=now - timedelta(days=3), cancelled_at=now - timedelta(days=4))
    principal_held = make.activity(heads, host=people["p1"], starts_at=now - timedelta(days=1))
    db.session.add_all([
        Participant(activity_id=held.id, user_id=people["t1"].id, attended=True),
        Participant(activity_id=held.id, user_id=people["t3"].id, attended=True),
        Participant(activity_id=held.id, user_id=people["t2"].id, attended=False),
        Participant(activity_id=principal_held.id, user_id=people["p1"].id, attended=True),
    ])
    # training hours: t1 310 (300 two years ago), t2 360, the rest none
    db.session.add_all([
        TrainingRecord(user_id=people["t1"].id, source="external", title="省培", hours_tenths=3000,
                       earned_on=date(YEAR - 2, 10, 1), school_year=YEAR - 2),
        TrainingRecord(user_id=people["t1"].id, source="external", title="校本", hours_tenths=100,
                       earned_on=date(YEAR, 9, 20), school_year=YEAR),
        TrainingRecord(user_id=people["t2"].id, source="external", title="国培", hours_tenths=3600,
                       earned_on=date(YEAR - 1, 10, 1), school_year=YEAR - 1),
    ])
    db.session.commit()
    # researcher visits: the first village school twice, the urban school once
    make.visit(people["r"], v1, visited_on=date(YEAR, 9, 15))
    make.visit(people["r"], v1, visited_on=date(YEAR, 9, 25))
    make.visit(people["r"], urban, visited_on=date(YEAR, 9, 20))
    # exchange: the urban backbone teacher rotates to the second village school
    make.exchange(people["u1"], v2, start=date(YEAR, 9, 1), end=date(YEAR + 1, 7, 15))
    return {"a": a, "b": b, "urban": urban, "v1": v1, "v2": v2, "t1": t1, "far": far, "people": people,
            "shared": shared, "missing": missing, "targets": t, "teachers": teachers}


@pytest.fixture
def city_bureau(make):
    return make.user("bureau", username="city.bureau", locale="en")


@pytest.fixture
def county_bureau(make, world):
    return make.user("bureau", username="county.bureau", county=world["a"], locale="en")


def page(client, path="/supervision/dashboard", expect=200, **query) -> str:
    response = client.get(path, query_string=query)
    assert response.status_code == expect, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def table_rows(html: str, selector: str) -> list[list[str]]:
    """The rows of the table marked ``data-figure``/``data-list`` = selector, as lists of cell texts."""
    match = re.search(rf'<table[^>]*data-(?:figure|list)="{selector}"[^>]*>(.*?)</table>', html, re.S)
    assert match, f"no table {selector}"
    rows = []
    for body in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)
        rows.append([re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def list_rows(client, key, **query):
    html = page(client, f"/supervision/dashboard/lists/{key}", **query)
    return table_rows(html, key)[1:]


# --- the figures --------------------------------------------------------------------------------


def test_every_figure_of_the_county(world, client, login_as, county_bureau):
    from portal.supervision import dashboard as figures

    login_as(county_bureau)
    with client.application.test_request_context():
        from flask_login import login_user

        login_user(county_bureau)
        scope = figures.make_scope(county_bureau, world["a"], [world["a"]], YEAR, None)
        board = figures.build(county_bureau, scope)
    t = board.coverage_total
    assert (t.teachers.total, t.teachers.done) == (4, 2)  # t1 (leader) and t3
    assert (t.principals.total, t.principals.done) == (3, 1)
    assert (t.schools.total, t.schools.done) == (3, 1)
    q = board.quota_total
    assert (q.people, q.met, q.on_track, q.behind, q.at_risk) == (4, 1, 1, 1, 1)
    subjects = {row.id: (row.planned, row.done, row.cancelled, row.missing, row.upcoming) for row in board.subjects}
    assert subjects == {"math": (5, 2, 1, 1, 1), "chinese": (1, 1, 0, 0, 0)}
    d = board.delivery_total
    assert (d.schools, d.complete, d.due, d.delivered) == (3, 1, 3 + 3 + 1 + 1, 2 + 1 + 1 + 1)
    f = board.flow_total
    assert (f.urban_shared, f.rural_downloads, f.rural_uses, f.rural_schools, f.rural_receiving) == (1, 1, 1, 3, 2)
    assert [(r.title, r.downloads, r.uses) for r in board.top] == [("分数的意义教案", 1, 1)]
    a = board.activity_total
    assert (a.teacher_activities, a.principal_activities, a.attendances) == (1, 1, 3)
    h = board.hours_total
    assert (h.teachers, h.cycle_tenths, h.year_tenths, h.complete) == (5, 6700, 100, 1)
    expected = board.hours_targets.expected_tenths
    assert h.on_track == (1 if expected > 3100 else 2) + 0  # t2 always; t1 when 310 h reach the pace
    v = board.visits_total
    assert (v.visits, v.schools, v.rural_visited, v.rural_schools) == (3, 2, 1, 3)
    e = board.exchange_total
    assert (e.teachers, e.exchanged, e.backbone) == (5, 1, 1)


def test_the_page_shows_the_numbers_beside_the_charts(world, client, login_as, county_bureau):
    login_as(county_bureau)
    html = page(client)
    assert 'class="chart"' in html and "data-chart=" in html
    assert "vendor/echarts.min.js" in html and "src/supervision/dashboard.js" in html
    assert "<script>" not in html  # no inline script (CSP)
    assert table_rows(html, "coverage")[1] == ["甲县", "2 / 4 (50%) · 2 not covered", "1 / 3 (33%) · 2 not covered",
                                             "1 / 3 (33%) · 2 not paired"]
    quota = table_rows(html, "quota")
    assert quota[1] == ["甲县", "4", "1 (25%)", "1 (25%)", "1 (25%)", "1 (25%)"]
    sessions = {row[0]: row[1:] for row in table_rows(html, "sessions")[1:]}
    assert sessions["Mathematics"] == ["5", "2", "1", "1", "1", "66%"]
    assert table_rows(html, "delivery")[1] == ["甲县", "3", "1 (33%)", "2", "5 / 8"]
    assert "90%" in html  # the 开齐开足 definition is on the page
    assert table_rows(html, "top")[1] == ["分数的意义教案", "甲县实验小学", "1", "1"]
    assert table_rows(html, "visits")[1][:4] == ["甲县", "3", "2", "1 / 3 (33%)"]
    assert table_rows(html, "visits")[1][4] == "1 / 5 (20.0%)"
    # the charts' data, read by dashboard.js
    chart = json.loads(html_lib.unescape(re.search(r'data-chart="([^"]+)" data-chart-name="quota"', html).group(1)))
    assert chart["categories"] == ["甲县"] and chart["stack"] is True
    assert [(s["name"], s["data"]) for s in chart["series"]] == [
        ("Quota met", [1]), ("On track", [1]), ("Behind", [1]), ("At risk", [1])]


def test_every_drill_down_lists_exactly_the_people_and_schools_behind(world, client, login_as, county_bureau):
    login_as(county_bureau)
    names = lambda rows, i: sorted(row[i] for row in rows)  # noqa: E731
    assert names(list_rows(client, "uncovered_teachers"), 2) == ["李四", "钱二"]
    assert names(list_rows(client, "uncovered_principals"), 2) == ["王校长", "郑校长"]
    assert names(list_rows(client, "unpaired_schools"), 1) == ["甲县中心小学", "甲县二村小学"]
    for status, who in (("met", "吴校长"), ("on_track", "冯校长"), ("behind", "王校长"), ("at_risk", "郑校长")):
        assert names(list_rows(client, "principals", status=status), 2) == [who], status
    assert len(list_rows(client, "principals")) == 4
    per_school = {row[1]: row[2:] for row in list_rows(client, "quota_schools")}
    assert per_school == {"甲县一村小学": ["1", "1", "0", "0", "0"], "甲县实验小学": ["1", "0", "1", "0", "0"],
                          "甲县中心小学": ["1", "0", "0", "1", "0"], "甲县二村小学": ["1", "0", "0", "0", "1"]}
    missing = list_rows(client, "sessions", status="missing", subject="math")
    assert len(missing) == 1 and missing[0][2] == "Mathematics" and missing[0][6] == "Scheduled"
    assert len(list_rows(client, "sessions", status="planned", subject="math")) == 5
    assert len(list_rows(client, "sessions", status="cancelled")) == 1
    assert len(list_rows(client, "sessions", status="done")) == 3
    short = list_rows(client, "receiving_schools", status="short")
    assert names(short, 1) == ["甲县一村小学", "甲县二村小学"]
    v1 = next(row for row in short if row[1] == "甲县一村小学")
    assert v1[3:9] == ["2", "1", "4", "3", "75", "No"] and v1[9] == "Mathematics 2/3"
    assert names(list_rows(client, "receiving_schools", status="complete"), 1) == ["甲县中心小学"]
    urban = list_rows(client, "flow", side="urban")
    assert urban == [["甲县", "甲县实验小学", "1", "1", "1"]]
    rural = {row[1]: row[3] for row in list_rows(client, "flow", side="rural")}
    assert rural == {"甲县一村小学": "1", "甲县二村小学": "1", "甲县中心小学": "0"}
    communities = {row[1]: row[4:] for row in list_rows(client, "communities")}
    assert communities == {"甲县数学名师工作室": ["1", "2"], "甲县名校长工作室": ["1", "1"]}
    behind = names(list_rows(client, "training", status="behind"), 2)
    assert "钱二" not in behind and {"孙三", "李四", "周城"} <= set(behind)
    assert names(list_rows(client, "visits", status="unvisited"), 1) == ["甲县中心小学", "甲县二村小学"]
    assert names(list_rows(client, "visits", status="visited"), 1) == ["甲县一村小学"]
    exchanges = list_rows(client, "exchanges")
    assert [(row[2], row[4], row[6]) for row in exchanges] == [("周城", "Yes", "甲县二村小学")]


def test_a_county_bureau_sees_only_its_county(world, client, login_as, county_bureau, city_bureau):
    login_as(county_bureau)
    html = page(client)
    assert "乙县" not in html
    assert "陈远" not in page(client, "/supervision/dashboard/lists/uncovered_teachers")
    page(client, expect=403, county=world["b"].id)
    page(client, "/supervision/dashboard/lists/uncovered_teachers", expect=403, county=world["b"].id)
    page(client, f"/supervision/schools/{world['far'].id}", expect=403)
    login_as(city_bureau)
    html = page(client)
    assert [row[:2] for row in table_rows(html, "coverage")[1:]] == [["乙县", "0 / 1 (0%) · 1 not covered"],
                                                                      ["甲县", "2 / 4 (50%) · 2 not covered"]]
    # a county's cell opens that county's list
    county_b = world["b"].id
    link = re.search(rf'href="(/supervision/dashboard/lists/uncovered_teachers\?[^"]*county={county_b}[^"]*)"', html)
    assert link and "陈远" in client.get(html_lib.unescape(link.group(1))).get_data(as_text=True)
    assert "陈远" in page(client, "/supervision/dashboard/lists/uncovered_teachers")
    only_b = page(client, "/supervision/dashboard/lists/uncovered_teachers", county=world["b"].id)
    assert "陈远" in only_b and "钱二" not in only_b


def test_wrong_roles_are_refused(world, client, login_as):
    people = world["people"]
    login_as(people["t1"])
    page(client, expect=403)
    page(client, "/supervision/dashboard/lists/principals", expect=403)
    page(client, "/supervision/dashboard/lists/principals/export.xlsx", expect=403)
    page(client, f"/supervision/schools/{world['v1'].id}", expect=403)
    login_as(people["p1"])
    page(client, expect=403)
    page(client, f"/supervision/schools/{world['v2'].id}", expect=403)  # another school


def test_bad_input_is_a_clear_4xx(world, client, login_as, county_bureau):
    login_as(county_bureau)
    page(client, "/supervision/dashboard/lists/nothing", expect=404)
    page(client, expect=400, year="1999")
    page(client, expect=400, semester="summer")
    page(client, "/supervision/dashboard/lists/principals", expect=400, status="late")
    page(client, "/supervision/dashboard/lists/sessions", expect=400, subject="cooking")


def test_a_semester_narrows_the_sessions(world, client, login_as, county_bureau):
    login_as(county_bureau)
    other = "spring" if local_today() < date(YEAR + 1, 2, 1) else "autumn"
    html = page(client, semester=other)
    assert "No dual-teacher session in this period." in html


# --- exports --------------------------------------------------------------------------------------


def workbook(client, key, **query):
    response = client.get(f"/supervision/dashboard/lists/{key}/export.xlsx", query_string=query)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    return book.active


@pytest.mark.parametrize("key,query,heading,expected", [
    ("principals", {"status": "at_risk"}, "Principal", [["郑校长"]]),
    ("uncovered_teachers", {}, "Name", [["李四"], ["钱二"]]),
    ("receiving_schools", {"status": "complete"}, "School", [["甲县中心小学"]]),
    ("visits", {"status": "unvisited"}, "School", [["甲县中心小学"], ["甲县二村小学"]]),
    ("exchanges", {}, "Name", [["周城"]]),
])
def test_each_register_opens_with_its_rows_and_headings(world, client, login_as, county_bureau, key, query,
                                                        heading, expected):
    login_as(county_bureau)
    sheet = workbook(client, key, **query)
    title, subtitle, headers = (list(r) for r in sheet.iter_rows(min_row=1, max_row=3, values_only=True))
    assert title[0].startswith("Supervision register: ")
    assert "甲县" in subtitle[0] and f"{YEAR}–{YEAR + 1}" in subtitle[0]
    assert headers[0] == "County" and heading in headers
    column = headers.index(heading)
    rows = sorted([[row[column]] for row in sheet.iter_rows(min_row=4, values_only=True)])
    assert rows == sorted(expected)
    assert sheet.cell(row=3, column=1).font.bold and sheet.cell(row=1, column=1).font.bold
    assert sheet.print_title_rows == "$3:$3" and sheet.page_setup.orientation == "landscape"
    assert sheet.column_dimensions["A"].width == 14


def test_the_register_has_every_row_not_just_the_first_page(world, make, client, login_as, county_bureau):
    for n in range(55):
        make.user("teacher", school=world["v2"], name=f"新教师{n:02d}")
    login_as(county_bureau)
    assert len(list_rows(client, "uncovered_teachers")) == 50
    sheet = workbook(client, "uncovered_teachers")
    assert sheet.max_row - 3 == 57


# --- the school page --------------------------------------------------------------------------------


def test_a_principal_sees_what_their_school_is_missing(world, client, login_as):
    login_as(world["people"]["p1"])
    html = page(client, f"/supervision/schools/{world['v1'].id}")
    assert "钱二" in re.search(r'data-missing="communities">(.*?)</ul>', html, re.S).group(1)  # in no community
    assert "赵一" not in re.search(r'data-missing="communities">(.*?)</ul>', html, re.S).group(1)
    assert re.search(r'data-principal="p1">.*?Quota met', html, re.S)
    assert table_rows(html, "receiving")[1:] == [["Chinese", "1", "1", "Yes"], ["Mathematics", "3", "2", "No"]]
    missing = re.search(r'data-missing="receiving">(.*?)</ul>', html, re.S).group(1)
    assert f"/live-sessions/{world['missing'].id}" in missing and missing.count("<li>") == 1
    assert "Not fully delivered" in html
    hours = re.search(r'data-missing="hours">(.*?)</ul>', html, re.S)
    assert hours is None or "钱二" not in hours.group(1)


def test_the_school_page_kept_in_the_cache_changes_with_a_membership(world, make, client, login_as, cache_on,
                                                                     count_queries):
    def outside() -> str:  # the teachers in no community ("" when there are none)
        found = re.search(r'data-missing="communities">(.*?)</ul>', page(client, f"/supervision/schools/{world['v1'].id}"),
                          re.S)
        return found.group(1) if found else ""

    login_as(world["people"]["p1"])
    first = outside()
    assert "钱二" in first
    with count_queries() as statements:
        assert outside() == first
    assert len(statements) < 8  # the figures came from the cache
    make.member(world["teachers"], user=world["people"]["t2"])  # 钱二 joins: committed
    assert "钱二" not in outside()


def test_the_bureau_opens_a_school_page_from_a_list(world, client, login_as, county_bureau):
    login_as(county_bureau)
    html = page(client, "/supervision/dashboard/lists/principals")
    assert f"/supervision/schools/{world['t1'].id}" in html
    school = page(client, f"/supervision/schools/{world['urban'].id}")
    assert re.search(r'data-principal="up">.*?On track', school, re.S)
    assert table_rows(school, "main")[1:] == [["Chinese", "1", "1", "0", "0", "0"],
                                              ["Mathematics", "5", "2", "1", "1", "1"]]


# --- a fixed number of queries ----------------------------------------------------------------------


def grow(make, db, world, n: int):
    """More of everything in county 甲: schools, people, sessions, observations, visits."""
    for i in range(n):
        village = make.school("village", county=world["a"], name=f"扩充村小{i}")
        teacher = make.user("teacher", school=village)
        principal = make.user("principal", school=village)
        observe(make, principal, 2, teacher)
        make.visit(world["people"]["r"], village)
        room = make.classroom(village)
        live_class = add_class(make, db, "english", make.classroom(world["urban"]), world["people"]["u1"],
                               [(room, teacher)])
        add_session(db, live_class, -2, "done", [room])
        make.resource(teacher)


def _top(viewer, county):
    from flask_login import login_user

    from portal.supervision import dashboard as figures

    login_user(viewer)
    scope = figures.period_scope(county, [county], YEAR, None)
    return [(r.title, r.downloads, r.uses) for r in figures.top_resources(viewer, scope)]


def test_top_resources_show_only_what_the_viewer_may_see_most_taken_first(app, world, make, db, county_bureau,
                                                                            monkeypatch):
    from portal.supervision import dashboard as figures

    people, v1 = world["people"], world["v1"]
    private = make.resource(people["u1"], "私有教案", visibility="private")
    popular = make.resource(people["u1"], "热门课件")
    deleted = make.resource(people["u1"], "删除的教案", deleted_at=utcnow())
    db.session.add_all([ResourceDownload(resource_id=r.id, user_id=people["t2"].id, school_id=v1.id)
                        for r in [private] * 4 + [popular] * 3 + [deleted] * 5])
    db.session.commit()
    expected = [("热门课件", 3, 0), ("分数的意义教案", 1, 1)]
    with app.test_request_context():
        assert _top(county_bureau, world["a"]) == expected  # the owner's private one is not the bureau's
        assert _top(people["u1"], world["a"]) == [("私有教案", 4, 0), *expected]  # its owner sees it first
        # Fewer than TOP_RESOURCES visible among the first candidates: ranked for the viewer alone.
        monkeypatch.setattr(figures, "TOP_CANDIDATES", 1)
        monkeypatch.setattr(figures, "TOP_RESOURCES", 2)
        assert _top(county_bureau, world["a"]) == expected


def test_the_query_count_does_not_grow_with_the_data(world, make, db, client, login_as, county_bureau, count_queries):
    login_as(county_bureau)
    paths = ["/supervision/dashboard", "/supervision/dashboard/lists/receiving_schools",
             "/supervision/dashboard/lists/flow?side=rural", f"/supervision/schools/{world['v1'].id}",
             "/supervision/dashboard/lists/principals/export.xlsx"]
    counts = []
    for path in paths:
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        counts.append(len(statements))
    grow(make, db, world, 6)
    for path, before in zip(paths, counts):
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        assert len(statements) == before, path


# --- the cache ------------------------------------------------------------------------------------


def test_the_cache_serves_until_a_record_behind_the_figures_changes(world, make, db, client, login_as, county_bureau,
                                                                     cache_on, count_queries):
    from sqlalchemy import update

    login_as(county_bureau)
    first = page(client)
    assert table_rows(first, "coverage")[1][1].startswith("2 / 4 (50%)")
    assert re.search(r"As of \d{4}-\d\d-\d\d \d\d:\d\d", first)
    with count_queries() as cached_statements:
        again = page(client)
    assert table_rows(again, "coverage")[1][1].startswith("2 / 4 (50%)")
    cache_on.clear()
    with count_queries() as fresh_statements:
        page(client)
    assert len(cached_statements) < len(fresh_statements) - 10  # the figures came from the cache

    listed = page(client, "/supervision/dashboard/lists/uncovered_teachers")
    assert "2 in all" in listed and world["people"]["t2"].name in listed
    make.member(world["teachers"], user=world["people"]["t2"])  # an ORM insert, committed
    assert table_rows(page(client), "coverage")[1][1].startswith("3 / 4 (75%)")
    listed = page(client, "/supervision/dashboard/lists/uncovered_teachers")
    assert "1 in all" in listed and world["people"]["t2"].name not in listed  # the list's length and rows too

    # a bulk UPDATE of a watched table invalidates too
    assert table_rows(page(client), "sessions")[1][1:4] == ["1", "1", "0"]  # Chinese: planned, delivered, cancelled
    db.session.execute(update(LiveSession).where(LiveSession.status == "done").values(status="cancelled"))
    db.session.commit()
    assert table_rows(page(client), "sessions")[1][1:4] == ["1", "0", "1"]

    # a change rolled back changes nothing, and keeps the cache
    make.member(world["teachers"], user=world["people"]["t4"], status="pending")  # not watched for coverage, but a write
    page(client)
    db.session.execute(update(LiveSession).values(status="done"))
    db.session.rollback()
    with count_queries() as after_rollback:
        assert table_rows(page(client), "sessions")[1][1:4] == ["1", "0", "1"]
    assert len(after_rollback) == len(cached_statements)


def test_the_watched_tables_exist():
    from portal.core.cache import WATCHED_TABLES
    from portal.extensions import db

    assert WATCHED_TABLES <= set(db.metadata.tables)


def test_a_change_committed_by_another_process_invalidates_through_redis(world, app, client, login_as, county_bureau,
                                                                          cache_on, cache_redis, monkeypatch):
    """With REDIS_URL, the generation lives in Redis: another process's bump reaches this one."""
    login_as(county_bureau)
    page(client)
    with app.app_context():
        first = cache_on.generation()
    cache_redis.incr(cache_on.GENERATION_KEY)  # another process committed a change
    with app.app_context():
        assert cache_on.generation() != first
    from portal.supervision import dashboard as figures

    calls, original = [], figures.compute
    monkeypatch.setattr(figures, "compute", lambda scope: calls.append(scope) or original(scope))
    page(client)
    page(client)
    assert len(calls) == 1  # recomputed once after the bump, then served from the cache


def test_viewers_arriving_together_share_one_computation(app, cache_on):
    """Ten bureau viewers after a change start one computation of the figures, not ten."""
    import threading
    import time

    calls, results = [], []
    barrier = threading.Barrier(8)

    def compute():
        calls.append(1)
        time.sleep(0.3)
        return {"figures": len(calls)}

    def viewer():
        with app.app_context():
            barrier.wait()
            results.append(cache_on.cached(("single-flight",), compute))

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1 and results == [{"figures": 1}] * 8
    cache_on.bump()  # a change: the next viewer computes again, once
    with app.app_context():
        assert cache_on.cached(("single-flight",), compute) == {"figures": 2}


def test_after_a_change_viewers_get_the_previous_figures_while_one_computes_the_new(app, cache_on):
    """Autosaves change the figures all day: a viewer must not wait seconds behind someone else's
    computation when figures from a moment ago are there. The one who computes gets the new ones."""
    import threading

    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return "after"

    with app.app_context():
        assert cache_on.cached(("stale-while-computing",), lambda: "before") == "before"
    cache_on.bump()  # a change
    computed = []
    worker = threading.Thread(target=lambda: app.app_context().push() or computed.append(
        cache_on.cached(("stale-while-computing",), slow)))
    worker.start()
    assert started.wait(10)
    with app.app_context():
        assert cache_on.cached(("stale-while-computing",), lambda: "never") == "before"  # no wait
    release.set()
    worker.join(10)
    assert computed == ["after"]
    with app.app_context():
        assert cache_on.cached(("stale-while-computing",), lambda: "never") == "after"
        cache_on.bump()
        assert cache_on.cached(("stale-while-computing",), lambda: "again") == "again"  # nobody computing: fresh


def test_the_figures_kept_as_html_are_in_each_viewer_language(world, make, client, login_as, county_bureau, cache_on):
    login_as(county_bureau)  # English
    english = page(client)
    assert "Rural teachers in a 名师+ community" in english
    assert table_rows(english, "coverage")[1][1].startswith("2 / 4 (50%)")
    login_as(make.user("bureau", username="county.bureau.zh", county=world["a"]))  # the default: Chinese
    chinese = page(client)
    assert "Rural teachers in a 名师+ community" not in chinese
    assert table_rows(chinese, "coverage")[1][1].startswith("2 / 4 (50%)")  # the same figures
    login_as(county_bureau)

    def figures(html: str) -> str:
        return html[html.index('id="coverage"'):html.index('id="top"')]

    assert figures(page(client)) == figures(english)  # the English rendering was kept, not the Chinese one
