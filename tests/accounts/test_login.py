"""Logging in and out through the page, what a copied cookie can do afterwards, throttling,
the post-login redirect and the language switch."""

from __future__ import annotations

import pytest

from portal.accounts import services

from ..conftest import Auth
from ..factories import PASSWORD


def cookie(client, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found else None


def thief_with(app, **cookies):
    """A second browser that only has the cookies it stole."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


# --- logging in ----------------------------------------------------------------------------


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert b'<html lang="zh-Hans">' in page.data


def test_teacher_logs_in_and_sees_home(auth, make, client):
    user = make.user("teacher", name="赵老师")
    response = auth.login(user.username)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "赵老师" in home.get_data(as_text=True)
    assert user.last_login_at is not None


def test_username_is_matched_after_nfkc_and_casefold(auth, make):
    make.user("teacher", username="teacher01")
    assert auth.login("ＴＥＡＣＨＥＲ０１").status_code == 302


def test_wrong_password_is_refused(auth, make, client):
    user = make.user("teacher")
    response = auth.login(user.username, "not-the-password")
    assert response.status_code == 401
    assert b'name="username"' in response.data  # the form again
    assert is_login_redirect(client.get("/"))


def test_unknown_username_is_refused_like_a_wrong_password(auth):
    assert auth.login("nobody-here", "whatever-password").status_code == 401


def test_deactivated_user_cannot_log_in(auth, make):
    user = make.user("teacher", active=False)
    assert auth.login(user.username).status_code == 401


def test_username_with_nul_is_just_unknown(auth):
    assert auth.login("teacher\x001").status_code == 401


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert is_login_redirect(response)


def test_anonymous_visitor_returns_to_the_page_asked_for(auth, make, client):
    user = make.user("teacher")
    response = client.get("/schools")
    assert is_login_redirect(response) and response.headers["Location"].endswith("?next=/schools")
    token = auth.csrf("/login")
    response = client.post(
        "/login?next=/schools", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/schools"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example", "/\\/evil.example"])
def test_login_does_not_redirect_off_site(auth, make, client, target):
    user = make.user("teacher")
    token = auth.csrf("/login")
    response = client.post(
        "/login", query_string={"next": target},
        data={"username": user.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_starts_a_new_session_and_drops_what_was_in_the_old_one(auth, make, client):
    user = make.user("teacher")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-someone-else"
    before = cookie(client, "session")
    assert auth.login(user.username).status_code == 302
    after = cookie(client, "session")
    assert after and after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(f"{user.id}:")


def test_login_form_without_csrf_token_is_refused(client, make):
    user = make.user("teacher")
    client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert is_login_redirect(client.get("/"))
    assert user.last_login_at is None


# --- what a copied cookie can do later -------------------------------------------------------


def test_cookie_copied_before_logout_stops_working(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username)
    stolen = cookie(client, "session")
    assert thief_with(app, session=stolen).get("/").status_code == 200  # it did work before
    auth.logout()
    assert is_login_redirect(thief_with(app, session=stolen).get("/"))
    assert is_login_redirect(client.get("/"))


def test_remember_me_cookie_copied_before_logout_stops_working(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username, remember="y")
    remembered = cookie(client, "remember_token")
    assert remembered
    assert thief_with(app, remember_token=remembered).get("/").status_code == 200
    response = auth.logout()
    assert 'remember_token=;' in " ".join(response.headers.getlist("Set-Cookie"))  # deleted on this device
    assert is_login_redirect(thief_with(app, remember_token=remembered).get("/"))


def test_logout_tells_the_browser_to_forget_what_it_kept_but_not_the_static_files(auth, make):
    auth.login(make.user("principal").username)
    response = auth.logout()
    # localStorage drafts, the observation form's offline cache and its service worker
    assert response.headers["Clear-Site-Data"] == '"storage"'  # not "cache": rural downloads are dear


def test_cookie_copied_before_password_change_stops_working(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username)
    other_device = Auth(app.test_client())
    other_device.login(user.username)
    stolen = cookie(client, "session")
    response = auth.post(
        "/password",
        {"current_password": PASSWORD, "password": "Spring-rain-over-hills", "confirm": "Spring-rain-over-hills"},
        csrf_from="/password",
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this device carries on
    assert is_login_redirect(thief_with(app, session=stolen).get("/"))
    assert is_login_redirect(other_device.client.get("/"))


def test_cookie_copied_before_role_change_stops_working(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username)
    stolen = cookie(client, "session")
    bureau = Auth(app.test_client())
    bureau.login(make.user("bureau").username)
    response = bureau.post(
        f"/admin/users/{user.id}",
        {"name": user.name, "role": "principal", "school_id": user.school_id, "county_id": 0, "title": "none"},
        csrf_from=f"/admin/users/{user.id}",
    )
    assert response.status_code == 302
    assert user.role == "principal"
    assert is_login_redirect(thief_with(app, session=stolen).get("/"))
    assert is_login_redirect(client.get("/"))


def test_cookie_copied_before_deactivation_stops_working(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username, remember="y")
    stolen, remembered = cookie(client, "session"), cookie(client, "remember_token")
    bureau = Auth(app.test_client())
    bureau.login(make.user("bureau").username)
    bureau.post(f"/admin/users/{user.id}/active", {"active": "0"}, csrf_from=f"/admin/users/{user.id}")
    assert user.active is False
    assert is_login_redirect(thief_with(app, session=stolen).get("/"))
    assert is_login_redirect(thief_with(app, remember_token=remembered).get("/"))


def test_reactivated_user_must_log_in_again_but_can(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username)
    stolen = cookie(client, "session")
    bureau = Auth(app.test_client())
    bureau.login(make.user("bureau").username)
    bureau.post(f"/admin/users/{user.id}/active", {"active": "0"}, csrf_from=f"/admin/users/{user.id}")
    bureau.post(f"/admin/users/{user.id}/active", {"active": "1"}, csrf_from=f"/admin/users/{user.id}")
    assert is_login_redirect(thief_with(app, session=stolen).get("/"))
    assert Auth(app.test_client()).login(user.username).status_code == 302


# --- throttling --------------------------------------------------------------------------------


@pytest.fixture
def hash_calls(monkeypatch):
    calls = []
    real = services.check_password_hash

    def counting(pwhash, password):
        calls.append(1)
        return real(pwhash, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    return calls


def test_login_page_is_throttled_per_username_before_any_hashing(app, auth, make, hash_calls):
    app.config["LOGIN_LIMIT_PER_USER"] = "3/minute"
    victim, other = make.user("teacher"), make.user("teacher")
    for _ in range(3):
        assert auth.login(victim.username, "guess-guess-guess").status_code == 401
    assert len(hash_calls) == 3
    assert auth.login(victim.username, "guess-guess-guess").status_code == 429
    assert auth.login(victim.username).status_code == 429  # even the right password waits
    assert len(hash_calls) == 3
    assert auth.login(other.username).status_code == 302


def test_username_variants_share_one_throttle_bucket(app, auth, make):
    app.config["LOGIN_LIMIT_PER_USER"] = "3/minute"
    make.user("teacher", username="teacher01")
    for variant in ("teacher01", "TEACHER01", "ｔｅａｃｈｅｒ０１"):
        assert auth.login(variant, "guess-guess-guess").status_code == 401
    assert auth.login(" Teacher01 ", "guess-guess-guess").status_code == 429


def test_successful_logins_are_not_counted(app, auth, make):
    app.config["LOGIN_LIMIT_PER_USER"] = "3/minute"
    user = make.user("teacher")
    for _ in range(4):
        assert auth.login(user.username).status_code == 302
        auth.logout()


def test_token_endpoint_is_throttled_per_username_before_any_hashing(app, client, make, hash_calls):
    app.config["LOGIN_LIMIT_PER_USER"] = "3/minute"
    victim, other = make.user("teacher"), make.user("teacher")
    for _ in range(3):
        response = client.post("/api/v1/auth/token", json={"username": victim.username, "password": "guess-guess"})
        assert response.status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": victim.username, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "too_many_requests"
    assert len(hash_calls) == 3
    response = client.post("/api/v1/auth/token", json={"username": other.username, "password": PASSWORD})
    assert response.status_code == 200 and response.json["token"]


def test_page_and_token_endpoint_share_one_budget_per_username(app, auth, client, make):
    app.config["LOGIN_LIMIT_PER_USER"] = "3/minute"
    victim = make.user("teacher")
    assert auth.login(victim.username, "guess-guess-guess").status_code == 401
    assert auth.login(victim.username, "guess-guess-guess").status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": victim.username, "password": "guess-guess"})
    assert response.status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": victim.username, "password": PASSWORD}).status_code == 429
    assert auth.login(victim.username).status_code == 429


def test_login_is_throttled_per_address_too(app, auth, make):
    app.config["LOGIN_LIMIT_PER_IP"] = "4/minute"
    users = [make.user("teacher") for _ in range(5)]
    for user in users[:4]:
        assert auth.login(user.username, "guess-guess-guess").status_code == 401
    assert auth.login(users[4].username).status_code == 429


# --- language ----------------------------------------------------------------------------------


def test_visitor_switches_to_english(auth, client):
    token = auth.csrf("/login")
    response = client.post("/language", data={"locale": "en", "csrf_token": token, "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login")
    assert b'<html lang="en">' in page.data
    assert b"Log in" in page.data


def test_language_chosen_before_login_is_saved_on_the_user(auth, make, client):
    user = make.user("teacher")
    client.post("/language", data={"locale": "en", "csrf_token": auth.csrf("/login")})
    assert auth.login(user.username).status_code == 302
    assert user.locale == "en"
    assert b'<html lang="en">' in client.get("/").data


def test_logged_in_user_switches_language_and_it_is_kept(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username)
    assert auth.post("/language", {"locale": "en"}).status_code == 302
    assert user.locale == "en"
    other_device = Auth(app.test_client())
    other_device.login(user.username)
    assert b'<html lang="en">' in other_device.client.get("/").data


def test_unknown_language_is_refused(auth, client):
    token = auth.csrf("/login")
    assert client.post("/language", data={"locale": "xx", "csrf_token": token}).status_code == 400
    assert client.post("/language", data={"csrf_token": token}).status_code == 400
    assert b'<html lang="zh-Hans">' in client.get("/login").data


def test_language_switch_does_not_redirect_off_site(auth, client):
    token = auth.csrf("/login")
    response = client.post("/language", data={"locale": "en", "csrf_token": token, "next": "//evil.example"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
