"""Who is behind (lists, summary, export), the rules pages, the progress API and the home panel."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from portal.observations import quota, quota_api, quota_views, register

from ..conftest import Auth

ON = date(2026, 11, 30)  # 65 of 204 teaching days: 11 of 35 expected


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """Pages measure progress on today: hold today at ON so the figures are the same any day."""
    for module in (quota, quota_views, register, quota_api):
        monkeypatch.setattr(module, "local_today", lambda: ON)


@pytest.fixture
def city(make):
    make.term(date(2026, 9, 1), date(2027, 1, 22), school_year=2026, semester="autumn")
    make.term(date(2027, 2, 22), date(2027, 7, 9), school_year=2026, semester="spring", name="第二学期")
    north, south = make.county("北县"), make.county("南县")
    p1 = make.user("principal", county=north, name="甲校长", locale="en")
    p2 = make.user("principal", county=north, name="乙校长")
    p3 = make.user("principal", county=south, name="丙校长")
    make.counted(p1, date(2026, 10, 12), periods=4)
    make.counted(p1, date(2026, 10, 13), periods=4)
    make.counted(p1, date(2026, 10, 14), periods=4)  # 12: on track
    make.counted(p2, date(2026, 10, 12), periods=3)  # 3: at risk
    make.counted(p2, date(2026, 10, 13), periods=4, status="draft")
    make.counted(p3, date(2026, 10, 12), periods=4)
    make.counted(p3, date(2026, 10, 13), periods=4)  # 8: behind
    return {"north": north, "south": south, "p1": p1, "p2": p2, "p3": p3}


def rows(query, db):
    return [quota.BehindRow.of(r) for r in db.session.execute(query.stmt)]


def test_who_is_behind_numbers_are_exact_and_sorted_by_shortfall(city, db):
    result = rows(quota.behind_statement("principal", ON), db)
    assert [(r.name, r.done, r.required, r.expected, r.status) for r in result] == [
        ("乙校长", 3, 35, 11, "at_risk"), ("丙校长", 8, 35, 11, "behind"), ("甲校长", 12, 35, 11, "on_track")]


def test_who_is_behind_filters_county_and_status(city, db):
    north = rows(quota.behind_statement("principal", ON, county_id=city["north"].id), db)
    assert {r.name for r in north} == {"甲校长", "乙校长"}
    late = rows(quota.behind_statement("principal", ON, status="not_on_track"), db)
    assert [r.name for r in late] == ["乙校长", "丙校长"]
    assert [r.name for r in rows(quota.behind_statement("principal", ON, status="behind"), db)] == ["丙校长"]
    assert [r.name for r in rows(quota.behind_statement("principal", ON, status="at_risk"), db)] == ["乙校长"]
    school = rows(quota.behind_statement("principal", ON, school_id=city["p3"].school_id), db)
    assert [r.name for r in school] == ["丙校长"]


def test_a_county_rule_changes_that_countys_numbers_only(city, make, db):
    make.quota_rule("principal", county=city["south"], required=10, kinds=("open",))
    by_name = {r.name: r for r in rows(quota.behind_statement("principal", ON), db)}
    assert (by_name["丙校长"].required, by_name["丙校长"].done, by_name["丙校长"].expected) == (10, 0, 3)
    assert by_name["甲校长"].required == 35 and by_name["甲校长"].done == 12


def test_summary_per_county(city):
    groups = quota.summary(quota.behind_statement("principal", ON))
    assert [(g["name"], g["people"], g["on_track"], g["behind"], g["at_risk"]) for g in groups] == [
        ("北县", 2, 1, 0, 1), ("南县", 1, 0, 1, 0)]


def test_who_is_behind_query_count_does_not_grow(city, make, db, count_queries):
    def run():
        q = quota.behind_statement("principal", ON)
        db.session.execute(q.stmt).all()
        quota.summary(q)

    with count_queries() as before:
        run()
    for i in range(6):
        extra = make.user("principal", county=city["north"] if i % 2 else city["south"])
        make.counted(extra, date(2026, 10, 20), periods=2)
    make.county("东县")
    with count_queries() as after:
        run()
    assert len(after) == len(before) <= 6


def test_page_query_count_is_constant(city, make, login_as, client, count_queries):
    login_as(make.user("bureau"))
    client.get("/observations/quota")
    with count_queries() as before:
        assert client.get("/observations/quota").status_code == 200
    for i in range(8):
        extra = make.user("principal", county=city["north"])
        make.counted(extra, date(2026, 10, 20), periods=1 + i % 3)
    with count_queries() as after:
        assert client.get("/observations/quota").status_code == 200
    assert len(after) == len(before)


def test_county_bureau_sees_only_its_county(city, make, login_as, client):
    login_as(make.user("bureau", county=city["north"]))
    page = client.get("/observations/quota").get_data(as_text=True)
    assert "甲校长" in page and "乙校长" in page and "丙校长" not in page
    assert client.get(f"/observations/quota?county={city['south'].id}").status_code == 403
    assert client.get(f"/observations/quota?school={city['p3'].school_id}").status_code == 403


def test_principal_sees_their_school_only(city, make, login_as, client):
    login_as(city["p1"])
    page = client.get("/observations/quota").get_data(as_text=True)
    assert "甲校长" in page and "乙校长" not in page
    assert client.get(f"/observations/quota?school={city['p2'].school_id}").status_code == 403


def test_principal_sees_staff_when_a_teacher_rule_covers_them(city, make, login_as, client):
    teacher = make.user("teacher", school=city["p1"].school, name="丁老师")
    make.quota_rule("teacher", required=15, period="semester")
    make.counted(teacher, date(2026, 10, 20), periods=2)
    login_as(city["p1"])
    page = client.get("/observations/quota?role=teacher").get_data(as_text=True)
    assert "丁老师" in page


def test_wrong_roles_are_refused(city, make, login_as, client):
    login_as("teacher")
    assert client.get("/observations/quota").status_code == 403
    assert client.get("/observations/quota/rules").status_code == 403


def test_bad_filters_are_a_400(city, make, login_as, client):
    login_as(make.user("bureau"))
    for query in ("status=late", "role=bureau", "county=abc", "year=1999", "page=0"):
        assert client.get(f"/observations/quota?{query}").status_code == 400, query
    assert client.get("/observations/quota?county=99999").status_code == 404


def test_summary_export_opens_with_one_row_per_person(city, make, login_as, client):
    login_as(make.user("bureau", locale="en"))
    response = client.get("/observations/quota/export.xlsx?status=not_on_track")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[2]][:3] == ["No.", "Name", "Username"]
    names = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert names == ["乙校长", "丙校长"]
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$2:$2"
    assert book.worksheets[1].cell(row=3, column=1).value == "北县"


# --- the rules pages -----------------------------------------------------------------------------


def test_bureau_creates_a_rule_through_the_form(make, login_as, auth, client, db):
    county = make.county()
    login_as(make.user("bureau"))
    response = auth.post("/observations/quota/rules/new", {
        "county": str(county.id), "role": "principal", "period": "semester", "required": "14",
        "kinds": ["drop_in", "open"], "max_periods_per_record": "2", "name": "县校长听课"},
        csrf_from="/observations/quota/rules/new")
    assert response.status_code == 302
    from portal.observations.quota_models import QuotaRule

    rule = db.session.query(QuotaRule).one()
    assert (rule.county_id, rule.period, rule.required, sorted(rule.kinds), rule.max_periods_per_record) == (
        county.id, "semester", 14, ["drop_in", "open"], 2)
    again = auth.post("/observations/quota/rules/new", {"county": str(county.id), "role": "principal",
                      "period": "school_year", "required": "35", "max_periods_per_record": "0"},
                      csrf_from="/observations/quota/rules/new")
    assert again.status_code == 409
    bad = auth.post("/observations/quota/rules/new", {"county": "0", "role": "principal", "period": "school_year",
                    "required": "0", "max_periods_per_record": "0"}, csrf_from="/observations/quota/rules/new")
    assert bad.status_code == 400
    listing = client.get("/observations/quota/rules").get_data(as_text=True)
    assert "县校长听课" in listing


def test_county_bureau_cannot_edit_the_city_rule(make, login_as, auth, client):
    county = make.county()
    city_rule = make.quota_rule("principal")
    login_as(make.user("bureau", county=county))
    assert client.get(f"/observations/quota/rules/{city_rule.id}/edit").status_code == 403
    assert auth.post(f"/observations/quota/rules/{city_rule.id}/active", {"active": "0"},
                     csrf_from="/observations/quota/rules").status_code == 403
    other = auth.post("/observations/quota/rules/new", {"county": str(make.county().id), "role": "principal",
                      "period": "school_year", "required": "30", "max_periods_per_record": "0"},
                      csrf_from="/observations/quota/rules/new")
    assert other.status_code == 403


# --- the API -------------------------------------------------------------------------------------


def test_progress_api_answers_the_contract_shape(city, client, api_token):
    token = api_token(city["p1"])
    response = client.get(f"/api/v1/observations/progress?observer_id={city['p1'].id}&school_year=2026",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json
    assert {k: body[k] for k in ("observer_id", "school_year", "required", "done")} == {
        "observer_id": city["p1"].id, "school_year": 2026, "required": 35, "done": 12}
    assert isinstance(body["on_track"], bool) and body["status"] in ("on_track", "behind", "at_risk")


def test_progress_api_for_a_past_year_is_measured_on_its_last_day(city, make, client, api_token):
    make.counted(city["p1"], date(2025, 11, 3), periods=4)
    token = api_token(city["p1"])
    body = client.get("/api/v1/observations/progress?school_year=2025",
                      headers={"Authorization": f"Bearer {token}"}).json
    assert (body["done"], body["expected"], body["on_track"], body["as_of"]) == (4, 35, False, "2026-08-31")


def test_progress_api_who_may_ask(city, make, client, api_token):
    target = city["p3"]
    url = f"/api/v1/observations/progress?observer_id={target.id}&school_year=2026"
    allowed = [make.user("bureau"), make.user("bureau", county=city["south"]),
               make.user("researcher", county=city["south"]), target]
    refused = [make.user("bureau", county=city["north"]), make.user("researcher", county=city["north"]),
               city["p1"], make.user("teacher", school=target.school), make.user("principal", county=city["south"])]
    for user in allowed:
        assert client.get(url, headers={"Authorization": f"Bearer {api_token(user)}"}).status_code == 200, user
    for user in refused:
        assert client.get(url, headers={"Authorization": f"Bearer {api_token(user)}"}).status_code == 403, user


def test_principal_of_the_school_sees_a_teachers_progress(city, make, client, api_token):
    teacher = make.user("teacher", school=city["p1"].school)
    url = f"/api/v1/observations/progress?observer_id={teacher.id}"
    body = client.get(url, headers={"Authorization": f"Bearer {api_token(city['p1'])}"}).json
    assert body["status"] == "none" and body["required"] == 0 and body["on_track"] is True


@pytest.mark.parametrize("query, status", [
    ("school_year=26", 400), ("school_year=abcd", 400), ("school_year=1999", 400), ("observer_id=-1", 400),
    ("observer_id=x", 400), ("semester=winter", 400), ("observer_id=99999999", 404),
])
def test_progress_api_bad_parameters(city, client, api_token, query, status):
    response = client.get(f"/api/v1/observations/progress?{query}",
                          headers={"Authorization": f"Bearer {api_token(city['p1'])}"})
    assert response.status_code == status
    assert "error" in response.json


def test_progress_api_needs_a_login(client):
    assert client.get("/api/v1/observations/progress").status_code == 401


# --- the home panel ------------------------------------------------------------------------------


def test_principal_home_shows_the_progress_bar(make, login_as, client):
    principal = make.user("principal", locale="en")
    make.counted(principal, date(2026, 9, 7), periods=2)
    login_as(principal)
    page = client.get("/").get_data(as_text=True)
    assert '<progress class="quota-bar" max="35" value="2"' in page
    assert "2 of 35 periods done" in page


def test_home_progress_follows_the_rule_of_the_principals_school_county(make, login_as, client, auth):
    north, south = make.county("北县"), make.county("南县")
    make.quota_rule(county=north, required=20)
    make.quota_rule("teacher", county=south, required=8)
    principal = make.user("principal", school=make.school("village", county=north, name="北县村小"), locale="en")
    login_as(principal)
    page = client.get("/").get_data(as_text=True)
    assert "0 of 20 periods done" in page and ">北县村小</a>" in page
    teacher = make.user("teacher", school=make.school("village", county=south), locale="en")
    auth.logout()
    login_as(teacher)
    assert "0 of 8 periods done" in client.get("/").get_data(as_text=True)  # a rule covers teachers there
    researcher = make.user("researcher", county=north, locale="en")
    auth.logout()
    login_as(researcher)
    page = client.get("/").get_data(as_text=True)
    assert "quota-bar" not in page and " · 北县</p>" in page  # no researchers' rule; their county named


def test_teacher_home_has_no_progress_bar(make, login_as, client):
    login_as("teacher")
    assert "quota-bar" not in client.get("/").get_data(as_text=True)


def test_progress_api_for_a_semester_rule(city, make, client, api_token):
    researcher = make.user("researcher", county=city["north"])
    make.quota_rule("researcher", county=city["north"], required=20, period="semester")
    make.counted(researcher, date(2026, 10, 12), periods=3, teacher=make.user("teacher", county=city["north"]))
    token = api_token(researcher)
    body = client.get("/api/v1/observations/progress?school_year=2026&semester=autumn",
                      headers={"Authorization": f"Bearer {token}"}).json
    assert (body["period"], body["semester"], body["required"], body["done"]) == ("semester", "autumn", 20, 3)
    assert (body["period_start"], body["period_end"], body["as_of"]) == ("2026-09-01", "2027-02-21", "2026-11-30")
    spring = client.get("/api/v1/observations/progress?school_year=2026&semester=spring",
                        headers={"Authorization": f"Bearer {token}"}).json
    assert (spring["semester"], spring["done"], spring["expected"], spring["as_of"]) == ("spring", 0, 0, "2027-02-22")


def done_of(page: str, name: str) -> int:
    import re

    match = re.search(re.escape(name) + r".*?<td class=\"num\"><strong>(\d+)</strong> / \d+</td>", page, re.S)
    assert match, f"{name} is not listed"
    return int(match.group(1))


def test_the_list_is_kept_until_a_record_behind_it_changes(city, make, db, app, login_as, auth, client, cache_on,
                                                            count_queries):
    """Kept like the dashboard's figures: each scope on its own, dropped by a new record, not by a login."""
    north = make.user("bureau", county=city["north"])
    login_as(make.user("bureau"))
    first = client.get("/observations/quota").get_data(as_text=True)
    assert done_of(first, "乙校长") == 3
    with count_queries() as cached:
        assert client.get("/observations/quota").status_code == 200
    cache_on.clear()
    with count_queries() as fresh:
        client.get("/observations/quota")
    assert len(cached) < len(fresh)

    other = app.test_client()  # somebody else logs in: their last_login_at changes no figure
    assert Auth(other).login(north.username).status_code == 302
    with count_queries() as after_login:
        client.get("/observations/quota")
    assert len(after_login) == len(cached)
    # a county's list is its own entry, not the city's page
    county_page = other.get("/observations/quota").get_data(as_text=True)
    assert "丙校长" not in county_page and done_of(county_page, "乙校长") == 3

    make.counted(city["p2"], date(2026, 11, 2), periods=4)  # a new final record, committed
    assert done_of(client.get("/observations/quota").get_data(as_text=True), "乙校长") == 7
    assert done_of(other.get("/observations/quota").get_data(as_text=True), "乙校长") == 7


def expected_of(page: str, name: str) -> int:
    import re

    match = re.search(re.escape(name) + r".*?</strong> / \d+</td>\s*<td class=\"num\">(\d+)</td>", page, re.S)
    assert match, f"{name} is not listed"
    return int(match.group(1))


def test_a_holiday_added_to_the_calendar_moves_the_pace_of_a_kept_list(city, make, db, login_as, client, cache_on):
    """The teaching calendar is kept between requests too: a new holiday must drop it."""
    from datetime import timedelta

    from portal.scheduling.models import CalendarDay

    login_as(make.user("bureau"))
    assert expected_of(client.get("/observations/quota").get_data(as_text=True), "甲校长") == 11
    first = date(2026, 10, 5)  # four weeks of October off: fewer teaching days behind today
    db.session.add_all(CalendarDay(day=first + timedelta(days=n), kind="holiday") for n in range(28))
    db.session.commit()
    assert expected_of(client.get("/observations/quota").get_data(as_text=True), "甲校长") < 11


def rules_of(page: str) -> str:
    return page.split('quota-rules-text">', 1)[1].split("</ul>", 1)[0]


def test_the_kept_list_heading_follows_a_new_rule_and_the_language(city, make, db, login_as, client, cache_on):
    """The rules and the period above the list are kept with it: a new rule or a renamed county
    must show at once, and each language has its own words."""
    viewer = make.user("bureau", locale="en")
    login_as(viewer)
    first = rules_of(client.get("/observations/quota").get_data(as_text=True))
    assert "(the default rule)" in first and "南县" not in first
    make.quota_rule("principal", county=city["south"], required=10, kinds=("open",))
    db.session.commit()
    assert "南县: 10 periods" in rules_of(client.get("/observations/quota").get_data(as_text=True))
    city["south"].name = "南山县"
    db.session.commit()
    assert "南山县: 10 periods" in rules_of(client.get("/observations/quota").get_data(as_text=True))
    viewer.locale = "zh_Hans"
    db.session.commit()
    chinese = rules_of(client.get("/observations/quota").get_data(as_text=True))
    assert "南山县" in chinese and "10 periods" not in chinese
