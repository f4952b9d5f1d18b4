"""API: schools, their classrooms and the current term."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.accounts import services
from portal.core.timeutil import local_today


@pytest.fixture
def get(client, make, db):
    """GET an API path as a signed-in teacher (bearer token)."""
    token = services.issue_token(make.user("teacher"))
    db.session.commit()

    def _get(path):
        return client.get(path, headers={"Authorization": f"Bearer {token}"})

    return _get


def assert_error(response, status):
    assert response.status_code == status, response.data[:300]
    assert set(response.json["error"]) >= {"code", "message"}


def test_school_list_has_the_contract_shape(get, make):
    county = make.county(name="示范县")
    school = make.school(kind="village", county=county, name="青山村小")
    body = get("/api/v1/schools").json
    assert set(body) == {"items", "total", "page", "per_page"}
    item = next(i for i in body["items"] if i["id"] == school.id)
    assert {k: item[k] for k in ("id", "name", "kind", "county")} == {
        "id": school.id, "name": "青山村小", "kind": "village", "county": "示范县",
    }


def test_school_list_filters_by_kind_and_hides_deactivated_schools(get, make):
    village = make.school(kind="village")
    make.school(kind="urban")
    make.school(kind="village", is_active=False)
    body = get("/api/v1/schools?kind=village").json
    assert [i["id"] for i in body["items"]] == [village.id] and body["total"] == 1
    assert {i["kind"] for i in get("/api/v1/schools").json["items"]} == {"urban", "village"}


@pytest.mark.parametrize("query", ["kind=city", "kind=URBAN", "page=0", "per_page=101", "page=abc"])
def test_school_list_refuses_bad_query(get, query):
    assert_error(get(f"/api/v1/schools?{query}"), 400)


def test_classrooms_of_a_school(get, make):
    school = make.school()
    second = make.classroom(school=school, grade=4, name="1班")
    first = make.classroom(school=school, grade=3, name="2班")
    make.classroom(school=school, grade=5, name="停用班", is_active=False)
    make.classroom(grade=3, name="别校的班")
    body = get(f"/api/v1/schools/{school.id}/classrooms").json
    assert body["total"] == 2
    assert [{k: i[k] for k in ("id", "name", "grade")} for i in body["items"]] == [
        {"id": first.id, "name": "2班", "grade": 3},
        {"id": second.id, "name": "1班", "grade": 4},
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/schools/999999/classrooms",
        "/api/v1/schools/99999999999999999999/classrooms",
        "/api/v1/schools/2147483648/classrooms",
        "/api/v1/schools/0/classrooms",
        "/api/v1/schools/１/classrooms",
        "/api/v1/schools/١/classrooms",
        "/api/v1/schools/1.0/classrooms",
    ],
)
def test_classrooms_of_an_unknown_school_is_a_json_404(get, make, path):
    make.school()  # id 1 exists, so aliases of 1 must not reach it
    assert_error(get(path), 404)


def test_classrooms_of_a_deactivated_school_are_gone_except_for_the_bureau(get, client, make, db):
    school = make.school(is_active=False)
    make.classroom(school=school)
    assert_error(get(f"/api/v1/schools/{school.id}/classrooms"), 404)
    token = services.issue_token(make.user("bureau"))
    db.session.commit()
    response = client.get(f"/api/v1/schools/{school.id}/classrooms", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["total"] == 1


def test_current_term_is_404_when_none_is_set(get):
    assert_error(get("/api/v1/terms/current"), 404)


def test_current_term_is_the_running_one(get, make):
    today = local_today()
    make.term(start=today - timedelta(days=150), end=today - timedelta(days=60), name="上学期", school_year=2000)
    running = make.term(start=today - timedelta(days=10), end=today + timedelta(days=60), name="本学期", school_year=2001)
    make.term(start=today + timedelta(days=90), end=today + timedelta(days=200), name="下学期", school_year=2002)
    body = get("/api/v1/terms/current").json
    assert {k: body[k] for k in ("id", "name", "start_date", "end_date")} == {
        "id": running.id, "name": "本学期",
        "start_date": running.start_date.isoformat(), "end_date": running.end_date.isoformat(),
    }


def test_between_terms_the_current_term_is_the_next_one(get, make):
    today = local_today()
    make.term(start=today - timedelta(days=150), end=today - timedelta(days=1), name="上学期", school_year=2000)
    upcoming = make.term(start=today + timedelta(days=1), end=today + timedelta(days=100), name="下学期", school_year=2001)
    assert get("/api/v1/terms/current").json["id"] == upcoming.id


def test_org_api_needs_a_login(client, make):
    school = make.school()
    for path in ("/api/v1/schools", f"/api/v1/schools/{school.id}/classrooms", "/api/v1/terms/current"):
        assert_error(client.get(path), 401)
