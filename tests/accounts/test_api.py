"""API: tokens, /me, /users, and the shape of errors for bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import ApiToken, User
from portal.core.models import utcnow

from ..conftest import Auth
from ..core import fast_login_as  # noqa: F401  (login_as without a password check)
from ..factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_for(db, user) -> str:
    """A token issued directly, without paying for a password check."""
    token = services.issue_token(user)
    db.session.commit()
    return token


def assert_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.data[:300]
    error = response.json["error"]
    assert set(error) >= {"code", "message"} and error["message"]
    if code:
        assert error["code"] == code


# --- tokens -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher", "bureau"])
def test_each_role_gets_a_token_and_reads_me(client, make, role):
    user = make.user(role)
    response = client.post(TOKEN_URL, json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json["token"]
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json == {
        "id": user.id, "username": user.username, "name": user.name, "role": role, "school_id": user.school_id,
    }
    assert me.headers["Cache-Control"] == "no-store"


def test_only_the_token_hash_is_stored(db, client, make):
    user = make.user("teacher")
    token = client.post(TOKEN_URL, json={"username": user.username, "password": PASSWORD}).json["token"]
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0]


def test_wrong_password_gets_no_token(client, make):
    user = make.user("teacher")
    assert_error(client.post(TOKEN_URL, json={"username": user.username, "password": "nope-nope-nope"}), 401)
    assert_error(client.post(TOKEN_URL, json={"username": "nobody", "password": "nope-nope-nope"}), 401)


def test_deactivated_user_gets_no_token(client, make):
    user = make.user("teacher", active=False)
    assert_error(client.post(TOKEN_URL, json={"username": user.username, "password": PASSWORD}), 401)


@pytest.mark.parametrize(
    "body",
    [
        "username=a&password=b",
        "[]",
        '["username", "password"]',
        '"text"',
        "null",
        "{}",
        '{"username": "teacher1"}',
        '{"password": "x"}',
        '{"username": 1, "password": 2}',
        '{"username": ["a"], "password": {"b": 1}}',
        '{"username": "teacher1", "password": NaN}',
        '{"username": "teacher1", "password": Infinity}',
        '{"username": "a", "username": "teacher1", "password": "x"}',
        '{"username": "\\ud800", "password": "x"}',
        '{"username": "teacher1", "password": "x"',
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
    ],
    ids=lambda body: body[:30],
)
def test_bad_token_request_is_a_400_never_a_500(client, make, body):
    make.user("teacher", username="teacher1")
    content_type = "application/x-www-form-urlencoded" if body.startswith("username=") else "application/json"
    response = client.post(TOKEN_URL, data=body, content_type=content_type)
    assert_error(response, 400)


def test_token_request_with_nul_in_username_is_just_wrong(client):
    assert_error(client.post(TOKEN_URL, json={"username": "teacher\x001", "password": "x"}), 401)


def test_revoked_token_stops_working(db, client, make):
    token = token_for(db, make.user("teacher"))
    assert client.delete(TOKEN_URL, headers=bearer(token)).status_code == 204
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")


def test_revoking_one_token_leaves_the_others(db, client, make):
    user = make.user("teacher")
    first, second = token_for(db, user), token_for(db, user)
    client.delete(TOKEN_URL, headers=bearer(first))
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_revoking_without_a_token_is_refused(login_as, auth, client):
    login_as("teacher")
    response = client.delete(TOKEN_URL, headers={"X-CSRFToken": auth.csrf("/")})
    assert_error(response, 400, "no_token")
    assert_error(client.delete(TOKEN_URL, headers={"X-CSRFToken": ""}), 400, "csrf")


def test_token_stops_working_after_password_change(db, auth, client, make):
    user = make.user("teacher")
    token = token_for(db, user)
    auth.login(user.username)
    auth.post(
        "/password",
        {"current_password": PASSWORD, "password": "Spring-rain-over-hills", "confirm": "Spring-rain-over-hills"},
    )
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")


def test_token_stops_working_after_deactivation(db, app, client, make):
    user = make.user("teacher")
    token = token_for(db, user)
    bureau = Auth(app.test_client())
    bureau.login(make.user("bureau").username)
    bureau.post(f"/admin/users/{user.id}/active", {"active": "0"})
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401)
    # ... and reactivation does not bring old tokens back
    bureau.post(f"/admin/users/{user.id}/active", {"active": "1"})
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401)


def test_token_stops_working_after_role_change(db, app, client, make):
    user = make.user("teacher")
    token = token_for(db, user)
    services.update_user(
        make.user("bureau"), user, name=user.name, role="principal", school=user.school, county_id=None,
        subjects=[], title="none", is_backbone=False,
    )
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401)


def test_expired_token_is_refused(db, client, make):
    user = make.user("teacher")
    token = token_for(db, user)
    record = db.session.scalars(select(ApiToken)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Bearer ", "Basic dGVhY2hlcjE6eA==", "Bearer " + "x" * 5000, "Token abc"]
)
def test_bad_authorization_header_is_401(client, header):
    assert_error(client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_anonymous_api_call_is_401(client):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(client.get("/api/v1/users"), 401)
    assert_error(client.post("/api/v1/users", json={}), 401)


def test_token_records_when_it_was_last_used(db, client, make):
    token = token_for(db, make.user("teacher"))
    client.get("/api/v1/me", headers=bearer(token))
    assert db.session.scalars(select(ApiToken)).one().last_used_at is not None


def test_token_page_issues_and_revokes_tokens(login_as, auth, client, db):
    user = login_as("teacher")
    response = auth.post("/tokens", {"name": "日历\x00同步"}, csrf_from="/tokens")
    assert response.status_code == 200
    record = db.session.scalars(select(ApiToken)).one()
    assert record.name == "日历同步" and record.user_id == user.id
    assert auth.post(f"/tokens/{record.id}/revoke", csrf_from="/tokens").status_code == 302
    assert record.revoked_at is not None


def test_user_cannot_revoke_someone_elses_token(login_as, auth, db, make):
    login_as("teacher")
    other = token_for(db, make.user("teacher"))
    record = db.session.scalars(select(ApiToken)).one()
    assert auth.post(f"/tokens/{record.id}/revoke", csrf_from="/tokens").status_code == 404
    assert record.revoked_at is None
    assert other


# --- /users -------------------------------------------------------------------------------------


@pytest.fixture
def people(make):
    urban, rural = make.school(kind="urban"), make.school(kind="village")
    return {
        "teacher": make.user("teacher", username="zhang.san", school=urban),
        "rural": make.user("teacher", username="li.si", school=rural),
        "principal": make.user("principal", username="wang.wu", school=rural),
        "bureau": make.user("bureau", username="ju.zhang"),
        "gone": make.user("teacher", username="gone.teacher", school=urban, active=False),
        "urban": urban,
        "rural_school": rural,
    }


def test_user_list_has_the_contract_shape(db, client, people):
    token = token_for(db, people["teacher"])
    body = client.get("/api/v1/users", headers=bearer(token)).json
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 20
    assert {u["username"] for u in body["items"]} == {"zhang.san", "li.si", "wang.wu", "ju.zhang"}
    assert set(body["items"][0]) >= {"id", "username", "name", "role", "school_id"}


def test_user_list_filters(db, client, people):
    token = token_for(db, people["teacher"])

    def usernames(query):
        response = client.get(f"/api/v1/users?{query}", headers=bearer(token))
        assert response.status_code == 200
        return {u["username"] for u in response.json["items"]}

    assert usernames("username=LI.SI") == {"li.si"}
    assert usernames("username=nobody") == set()
    assert usernames(f"school_id={people['rural_school'].id}") == {"li.si", "wang.wu"}
    assert usernames("role=principal") == {"wang.wu"}
    assert usernames(f"role=teacher&school_id={people['urban'].id}") == {"zhang.san"}
    # a filter too long to be a username is a bad query argument: 400, as the API document says
    long = client.get("/api/v1/users?username=" + "张" * 101, headers=bearer(token))
    assert long.status_code == 400 and long.json["error"]["message"]


def test_user_list_pages(db, client, people):
    token = token_for(db, people["teacher"])
    body = client.get("/api/v1/users?per_page=3&page=2", headers=bearer(token)).json
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (4, 2, 3, 1)


@pytest.mark.parametrize(
    "query",
    [
        "per_page=1000000000",
        "per_page=0",
        "page=0",
        "page=-1",
        "page=abc",
        "page=１",
        "page=99999999999",
        "school_id=99999999999999999999",
        "school_id=0",
        "school_id=abc",
        "school_id=１",
        "role=admin",
        "role=Teacher",
    ],
)
def test_user_list_refuses_bad_query_with_400(db, client, people, query):
    token = token_for(db, people["teacher"])
    assert_error(client.get(f"/api/v1/users?{query}", headers=bearer(token)), 400)


def new_user(**overrides) -> dict:
    body = {"username": "new.teacher", "name": "新老师", "password": "Mountain-school-2026", "role": "teacher"}
    body.update(overrides)
    return body


def test_bureau_creates_a_user_over_the_api(db, client, people):
    token = token_for(db, people["bureau"])
    response = client.post(
        "/api/v1/users", json=new_user(school_id=people["rural_school"].id), headers=bearer(token)
    )
    assert response.status_code == 201
    created = db.session.scalars(select(User).where(User.username == "new.teacher")).one()
    assert response.json == {
        "id": created.id, "username": "new.teacher", "name": "新老师", "role": "teacher",
        "school_id": people["rural_school"].id,
    }
    login = client.post(TOKEN_URL, json={"username": "new.teacher", "password": "Mountain-school-2026"})
    assert client.get("/api/v1/me", headers=bearer(login.json["token"])).json == response.json


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_only_bureau_creates_users_over_the_api(db, client, people, make, role):
    token = token_for(db, make.user(role))
    response = client.post(
        "/api/v1/users", json=new_user(school_id=people["rural_school"].id), headers=bearer(token)
    )
    assert_error(response, 403, "forbidden")
    assert db.session.scalars(select(User).where(User.username == "new.teacher")).first() is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"role": "admin"},
        {"role": None},
        {"role": ["teacher"]},
        {"school_id": None},
        {"school_id": "1"},
        {"school_id": True},
        {"school_id": 1.5},
        {"school_id": 99999999999999999999},
        {"school_id": 999999},
        {"password": "12345678"},
        {"password": "new.teacher-2026"},
        {"password": None},
        {"password": 12345678},
        {"username": "张三"},
        {"username": None},
        {"name": ""},
        {"name": "x" * 61},
    ],
    ids=repr,
)
def test_bad_new_user_is_422(db, client, people, overrides):
    token = token_for(db, people["bureau"])
    body = new_user(school_id=people["rural_school"].id)
    body.update(overrides)
    response = client.post("/api/v1/users", json=body, headers=bearer(token))
    assert_error(response, 422, "invalid")
    assert db.session.scalars(select(User).where(User.username == "new.teacher")).first() is None


def test_duplicate_username_is_409(db, client, people):
    token = token_for(db, people["bureau"])
    response = client.post(
        "/api/v1/users", json=new_user(username="ZHANG.SAN", school_id=people["urban"].id), headers=bearer(token)
    )
    assert_error(response, 409, "conflict")


def test_county_bureau_cannot_create_users_in_another_county(db, client, make):
    bureau = make.user("bureau", county=make.county())
    elsewhere = make.school(county=make.county())
    response = client.post("/api/v1/users", json=new_user(school_id=elsewhere.id), headers=bearer(token_for(db, bureau)))
    assert_error(response, 403)
    assert db.session.scalars(select(User).where(User.username == "new.teacher")).first() is None


def test_cookie_api_post_without_csrf_header_is_refused(db, login_as, auth, client, people):
    login_as(people["bureau"])
    response = client.post("/api/v1/users", json=new_user(school_id=people["urban"].id))
    assert_error(response, 400, "csrf")
    assert db.session.scalars(select(User).where(User.username == "new.teacher")).first() is None
    response = client.post(
        "/api/v1/users", json=new_user(school_id=people["urban"].id), headers={"X-CSRFToken": auth.csrf("/")}
    )
    assert response.status_code == 201


def test_unknown_api_path_is_a_json_404(client, db, make):
    assert_error(client.get("/api/v1/nope"), 404, "not_found")
    assert_error(client.get("/api/v1/nope", headers=bearer(token_for(db, make.user("teacher")))), 404, "not_found")


def test_wrong_method_is_a_json_405(client):
    assert_error(client.put("/api/v1/me"), 405)


def test_one_time_password_does_not_open_the_api(client, make):
    user = make.user("teacher", must_change_password=True)
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": "Test-pass-2026!"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "password_change_required"
