"""The OpenAPI document of /api/v1: complete, valid, served, and true to the real API.

The document lives in ``portal/core/openapi.py``. A new /api/v1 route without a description
fails ``test_every_api_route_is_described``; schemathesis then sends generated requests to
every operation on the demo county and checks that nothing is a 500 and that every answer's
status, content type and body are the ones the document gives.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from portal.core.openapi import document
from portal.core.timeutil import local_today

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 20  # per operation and mode: the whole file stays well under a minute
DEMO_PASSWORD = "Demo-pass-2026"


def openapi_path(rule: str) -> str:
    """``/api/v1/schools/<id:school_id>/classrooms`` → ``/api/v1/schools/{school_id}/classrooms``."""
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_route_is_described(app):
    routes = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert sorted(routes - described) == [], "API routes missing from portal/core/openapi.py"
    assert sorted(described - routes) == [], "portal/core/openapi.py describes routes that do not exist"


def test_document_is_valid_openapi_and_served_publicly(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "public" in response.headers["Cache-Control"]
    spec = response.get_json()
    validate(spec)  # raises on an invalid OpenAPI 3.1 document
    broken = document()
    broken["paths"]["/api/v1/me"]["get"]["parameters"] = [{"name": "x"}]  # no "in": invalid
    with pytest.raises(OpenAPIValidationError):
        validate(broken)
    assert spec["openapi"].startswith("3.1")
    bearer = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []  # how one gets a token
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    # Every authenticated operation documents the 401 error answer.
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if operation.get("security") != []:
                assert "401" in operation["responses"], f"{method.upper()} {path} lacks its 401"
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def _token(client, username: str) -> str:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


@pytest.fixture
def demo(app, client, db):
    from portal.cli.demo import seed_demo

    seed_demo()
    return {"bureau": _token(client, "bureau"), "teacher": _token(client, "teacher.city")}


def _schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _fuzz(operation, headers: dict, real: dict[str, int], mode=GenerationMode.POSITIVE) -> None:
    """Generated requests; in half of them the ids (path and body) are those of real demo objects,
    so the answers are not all 404s and 422s. The WSGI client does not decompress, so ask for
    the plain body (compression is tested in tests/core/test_assets.py)."""
    headers = {**headers, "Accept-Encoding": "identity"}

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(case=operation.as_strategy(generation_mode=mode), use_real=st.booleans())
    def run(case, use_real):
        if use_real:
            for name in list(case.path_parameters or {}):
                if name in real:
                    case.path_parameters[name] = real[name]
            if isinstance(case.body, dict):
                for name in case.body:
                    if name in real:
                        case.body[name] = real[name]
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def _real_ids(db) -> dict[str, int]:
    from portal.accounts.models import User
    from portal.communities.models import Community
    from portal.partnerships.models import Partnership
    from portal.resources.models import Resource
    from portal.scheduling.models import LiveSession

    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    teacher, rural = users["teacher.city"], users["teacher.rural"]
    community = db.session.execute(select(Community).where(Community.leader_id == teacher.id).order_by(Community.id)).scalars().first()
    session = db.session.execute(select(LiveSession).order_by(LiveSession.id)).scalars().first()
    return {
        "user_id": rural.id, "observer_id": users["principal.city"].id, "observed_teacher_id": teacher.id,
        "main_teacher_id": teacher.id, "school_id": teacher.school_id, "community_id": community.id,
        "partnership_id": db.session.execute(select(Partnership.id).order_by(Partnership.id)).scalars().first(),
        "resource_id": db.session.execute(select(Resource.id).where(Resource.visibility == "public")
                                          .order_by(Resource.id)).scalars().first(),
        "session_id": session.id, "live_session_id": session.id,
        "main_classroom_id": session.live_class.main_classroom_id,
    }


@pytest.mark.parametrize("role", ["bureau", "teacher"])
def test_generated_requests_get_answers_the_document_describes(app, db, demo, role):
    """Every operation, with generated parameters and bodies, as the bureau and as a teacher.
    (Revoking the token is left to the last test: it would log this one out.)"""
    headers = {"Authorization": f"Bearer {demo[role]}"}
    real = _real_ids(db)
    seen = 0
    for operation in _operations(app):
        if role == "teacher" and operation.method.upper() == "GET" and "{" not in operation.path:
            continue  # the bureau's run covers these; the teacher's run is about bodies and objects
        _fuzz(operation, headers, real)
        seen += 1
    assert seen >= 10


def test_invalid_requests_get_a_described_4xx_never_a_500(app, db, demo):
    """Requests that break the document (wrong types, missing fields, out-of-range values)."""
    headers = {"Authorization": f"Bearer {demo['bureau']}"}
    real = _real_ids(db)
    operations = list(_operations(app))
    for operation in operations:
        _fuzz(operation, headers, real, GenerationMode.NEGATIVE)
    assert len(operations) >= 20


def _operations(app):
    for result in _schema(app).get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) != ("DELETE", "/api/v1/auth/token"):
            yield operation


def _check(schema, method: str, path: str, response, *, body=None, query=None, path_parameters=None):
    """Check a real answer against the document's description of the operation."""
    operation = schema[path][method]
    extra = {"body": body, "media_type": "application/json"} if body is not None else {}
    case = operation.Case(path_parameters=path_parameters or {}, query=query or {}, **extra)
    case.validate_response(response, checks=CHECKS)
    return response


def test_real_objects_match_the_document(app, client, demo, db):
    """The success answers of every operation, on real demo objects, match their schemas."""
    from portal.accounts.models import User
    from portal.communities.models import Community, Membership
    from portal.org.models import Classroom
    from portal.partnerships.models import Partnership
    from portal.resources.models import Resource
    from portal.scheduling.models import LiveSession

    schema = _schema(app)
    bureau = {"Authorization": f"Bearer {demo['bureau']}"}
    teacher_headers = {"Authorization": f"Bearer {demo['teacher']}"}
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    school = users["teacher.city"].school
    community = db.session.execute(select(Community).where(Community.leader_id == users["teacher.city"].id)
                                   .order_by(Community.id)).scalars().first()
    partnership = db.session.execute(select(Partnership).order_by(Partnership.id)).scalars().first()
    session = db.session.execute(select(LiveSession).order_by(LiveSession.id)).scalars().first()
    resource = db.session.execute(
        select(Resource).where(Resource.current_version_id.is_not(None), Resource.visibility == "public",
                               Resource.deleted_at.is_(None)).order_by(Resource.id)).scalars().first()
    assert community and partnership and session and resource

    def get(path: str, url: str, headers=bureau, expected=200, **kwargs):
        response = client.get(url, headers=headers)
        assert response.status_code == expected, (url, response.get_data(as_text=True)[:300])
        return _check(schema, "GET", path, response, **kwargs)

    assert get("/api/v1/me", "/api/v1/me").get_json()["username"] == "bureau"
    assert get("/api/v1/users", "/api/v1/users?role=teacher", query={"role": "teacher"}).get_json()["total"] > 0
    get("/api/v1/schools", "/api/v1/schools")
    get("/api/v1/schools/{school_id}/classrooms", f"/api/v1/schools/{school.id}/classrooms",
        path_parameters={"school_id": school.id})
    get("/api/v1/terms/current", "/api/v1/terms/current")
    get("/api/v1/communities", "/api/v1/communities")
    for path in ("/api/v1/communities/{community_id}", "/api/v1/communities/{community_id}/members",
                 "/api/v1/communities/{community_id}/activities"):
        get(path, path.replace("{community_id}", str(community.id)), path_parameters={"community_id": community.id})
    get("/api/v1/coverage", "/api/v1/coverage")
    get("/api/v1/partnerships", "/api/v1/partnerships")
    get("/api/v1/partnerships/{partnership_id}", f"/api/v1/partnerships/{partnership.id}",
        path_parameters={"partnership_id": partnership.id})
    assert get("/api/v1/resources", "/api/v1/resources").get_json()["total"] > 0
    get("/api/v1/resources/{resource_id}", f"/api/v1/resources/{resource.id}",
        path_parameters={"resource_id": resource.id})
    get("/api/v1/resources/{resource_id}/download", f"/api/v1/resources/{resource.id}/download",
        path_parameters={"resource_id": resource.id})
    assert get("/api/v1/live-sessions", "/api/v1/live-sessions").get_json()["total"] > 0
    get("/api/v1/live-sessions/{session_id}/summary", f"/api/v1/live-sessions/{session.id}/summary",
        path_parameters={"session_id": session.id})
    get("/api/v1/calendar/{user_id}.ics", f"/api/v1/calendar/{users['teacher.city'].id}.ics",
        path_parameters={"user_id": users["teacher.city"].id})
    get("/api/v1/observations/progress", f"/api/v1/observations/progress?observer_id={users['principal.city'].id}",
        query={"observer_id": users["principal.city"].id})

    def post(path: str, headers=bureau, expected=201, **kwargs):
        response = client.post(path.format(**kwargs.get("path_parameters", {})), headers=headers,
                               **({"json": kwargs["body"]} if "body" in kwargs else {}),
                               **({"data": kwargs.pop("data")} if "data" in kwargs else {}))
        assert response.status_code == expected, (path, response.get_data(as_text=True)[:500])
        return _check(schema, "POST", path, response, **kwargs)

    new_user = post("/api/v1/users", body={"username": "new.teacher", "name": "新老师", "password": "Strong-pass-2026!",
                                           "role": "teacher", "school_id": school.id}).get_json()
    post("/api/v1/communities/{community_id}/members", headers=teacher_headers,
         path_parameters={"community_id": community.id}, body={"user_id": new_user["id"]})
    # Someone outside a community asks to join it: 202, pending.
    rural = users["teacher.rural"]
    open_community = db.session.execute(
        select(Community).where(Community.kind == "teacher", Community.is_active.is_(True), Community.id.not_in(
            select(Membership.community_id).where(Membership.user_id == rural.id)))).scalars().first()
    assert open_community is not None
    post("/api/v1/communities/{community_id}/members", expected=202,
         headers={"Authorization": f"Bearer {_token(client, 'teacher.rural')}"},
         path_parameters={"community_id": open_community.id}, body={})

    # A weekly class far in the future: no clash with the demo's classes.
    city_room = db.session.execute(select(Classroom).where(Classroom.school_id == school.id).order_by(Classroom.id)).scalars().first()
    village = users["teacher.rural"].school
    village_room = db.session.execute(select(Classroom).where(Classroom.school_id == village.id).order_by(Classroom.id)
                                 ).scalars().first()
    first = local_today() + timedelta(days=7)
    body = {"subject": "math", "main_teacher_id": users["teacher.city"].id, "main_classroom_id": city_room.id,
            "receiving": [{"classroom_id": village_room.id, "assistant_id": users["teacher.rural"].id}],
            "weekday": first.isoweekday(), "start_time": "19:00", "end_time": "19:40",
            "first_date": first.isoformat(), "last_date": (first + timedelta(days=14)).isoformat()}
    created = post("/api/v1/live-classes", body=body).get_json()
    assert len(created["sessions"]) == 3
    clash = post("/api/v1/live-classes", body=body, expected=409).get_json()
    assert clash["error"]["code"] == "conflict" and clash["error"]["conflicts"]

    principal = _token(client, "principal.city")
    teacher = users["teacher.city"]
    post("/api/v1/observations", headers={"Authorization": f"Bearer {principal}"},
         body={"observed_teacher_id": teacher.id, "date": local_today().isoformat(), "periods": 1,
               "subject": "math", "topic": "分数的意义", "notes": "<p>课堂记录</p>", "draft": True})

    upload = client.post("/api/v1/resources", headers=bureau, content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "教案.pdf"),
        "title": "分数的意义 教案", "kind": "lesson_plan", "subject": "math", "stage": "primary",
        "grade": "3", "visibility": "public"})
    assert upload.status_code == 201, upload.get_data(as_text=True)[:500]
    _check(schema, "POST", "/api/v1/resources", upload)

    revoked = client.delete("/api/v1/auth/token", headers=teacher_headers)
    assert revoked.status_code == 204
    _check(schema, "DELETE", "/api/v1/auth/token", revoked)
    refused = client.get("/api/v1/me", headers=teacher_headers)
    assert refused.status_code == 401
    _check(schema, "GET", "/api/v1/me", refused)
