"""The security baseline every response shares: headers, cookies, CSRF, error pages."""

from __future__ import annotations

import pytest

from portal.accounts import services

from ..conftest import Auth
from ..factories import PASSWORD
from . import fast_login_as  # noqa: F401  (login_as without a password check)

HTTPS = "https://localhost"


def script_src(csp: str) -> str:
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if " " in part.strip())
    return directives.get("script-src", directives.get("default-src", ""))


def assert_baseline_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in script_src(csp) and "'unsafe-eval'" not in script_src(csp)
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


def test_public_page_has_security_headers(client):
    response = client.get("/login")
    assert_baseline_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_logged_in_pages_are_not_cached(login_as, client):
    login_as("teacher")
    for path in ("/", "/schools", "/notifications"):
        response = client.get(path)
        assert response.status_code == 200
        assert_baseline_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_a_saved_change_is_not_followed_by_reading_the_person_again(login_as, client, count_queries):
    # The answer's Cache-Control asked whether the person is logged in after the commit had
    # expired their row: a new transaction (a write lock on SQLite) and a query on every POST.
    login_as("teacher")
    client.get("/")
    token = client.get("/").get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    with count_queries() as statements:
        response = client.post("/language", data={"locale": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Cache-Control"] == "no-store"
    after_change = statements[next(i for i, s in enumerate(statements) if s.lstrip().startswith("UPDATE users")):]
    assert not any("FROM users" in s for s in after_change), after_change


def test_error_pages_and_redirects_have_security_headers(login_as, client):
    assert_baseline_headers(client.get("/"))  # the redirect to the login page
    login_as("teacher")
    for response in (client.get("/nowhere"), client.get("/admin/users")):
        assert response.status_code in (403, 404)
        assert_baseline_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_api_responses_have_security_headers(client, make, db):
    assert_baseline_headers(client.get("/api/v1/me"))
    token = services.issue_token(make.user("teacher"))
    db.session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.is_json
    assert_baseline_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_load_no_inline_script(login_as, client):
    login_as("bureau")
    for path in ("/", "/schools", "/admin/users", "/login"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and " onclick=" not in page and "javascript:" not in page


def test_session_and_remember_cookies_are_httponly_and_lax(auth, make, client):
    response = auth.login(make.user("teacher").username, remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} >= {"session", "remember_token"}
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_every_cookie_is_secure_over_https(app, make):
    user = make.user("teacher")
    client = app.test_client()
    page = client.get("/login", base_url=HTTPS)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = page.headers.getlist("Set-Cookie")
    token = Auth(client).csrf("/login")  # over http: the test client's jar sends it either way
    response = client.post(
        "/login", base_url=HTTPS, headers={"Referer": f"{HTTPS}/login"},
        data={"username": user.username, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    assert response.status_code == 302
    cookies += response.headers.getlist("Set-Cookie")
    logout = client.post(
        "/logout", base_url=HTTPS, headers={"Referer": f"{HTTPS}/"}, data={"csrf_token": Auth(client).csrf("/")}
    )
    cookies += logout.headers.getlist("Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"session", "remember_token"} <= names
    for cookie in cookies:
        assert "; Secure" in cookie, cookie


def test_cookies_are_not_marked_secure_over_plain_http(client):
    for cookie in client.get("/login").headers.getlist("Set-Cookie"):
        assert "Secure" not in cookie


def test_logged_in_form_post_without_csrf_token_changes_nothing(login_as, client, db):
    user = login_as("teacher")
    response = client.post("/language", data={"locale": "en"})
    assert response.status_code == 400
    assert user.locale is None
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/").status_code == 200


def test_csrf_token_of_another_session_is_refused(app, login_as, client, make):
    user = login_as("teacher")
    other = Auth(app.test_client())
    foreign = other.csrf("/login")
    assert client.post("/language", data={"locale": "en", "csrf_token": foreign}).status_code == 400
    assert user.locale is None


def test_cross_site_socket_handshake_is_refused(client):
    response = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://evil.example"})
    assert response.status_code == 400


def test_unknown_page_is_a_404_page_not_json(client):
    response = client.get("/nowhere")
    assert response.status_code == 404 and response.mimetype == "text/html"


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_path_is_json(client, method):
    response = getattr(client, method)("/api/v1/nope")
    assert response.status_code in (404, 405) and response.json["error"]["code"] in ("not_found", "method_not_allowed")


def _failing_view(*args, **kwargs):
    from sqlalchemy import text

    from portal.extensions import db

    db.session.execute(text("SELECT * FROM no_such_table"))  # leaves PostgreSQL's transaction aborted


def test_unexpected_error_is_a_plain_500_page_even_after_a_failed_statement(app, login_as, client, monkeypatch):
    login_as("teacher")
    monkeypatch.setitem(app.view_functions, "org.terms", _failing_view)
    response = client.get("/terms")
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "no_such_table" not in response.get_data(as_text=True)
    assert_baseline_headers(response)
    assert client.get("/schools").status_code == 200


def test_unexpected_api_error_is_a_json_500(app, login_as, client, monkeypatch):
    login_as("teacher")
    monkeypatch.setitem(app.view_functions, "api.me", _failing_view)
    response = client.get("/api/v1/me")
    assert response.status_code == 500 and response.json["error"]["code"] == "server_error"
    assert "no_such_table" not in response.get_data(as_text=True)


def test_a_static_file_asked_by_a_logged_in_person_does_not_look_them_up(login_as, client, count_queries):
    # Static files are the same for everyone: neither the password-change gate nor the
    # Cache-Control of people's pages needs the person, so no statement is run for them.
    login_as("teacher")
    client.get("/")
    with count_queries() as statements:
        response = client.get("/static/src/portal.css")
    assert response.status_code == 200 and "no-store" not in response.headers["Cache-Control"]
    assert statements == []


def test_a_one_time_password_still_sends_its_person_to_the_password_page(login_as, client):
    login_as("teacher", must_change_password=True)
    assert client.get("/schools").headers["Location"].endswith("/password")
    assert client.get("/password").status_code == 200
    assert client.get("/static/src/portal.css").status_code == 200
