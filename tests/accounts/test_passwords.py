"""Passwords: how they are stored, the policy, the change-password page and forced changes."""

from __future__ import annotations

import pytest
from werkzeug.security import check_password_hash

from portal.accounts import services
from portal.accounts.models import Notification
from portal.accounts.passwords import check_password_policy
from portal.core.errors import Invalid

from ..conftest import Auth
from ..factories import PASSWORD

NEW = "Spring-rain-over-hills"


def change(auth, current=PASSWORD, new=NEW, confirm=None):
    return auth.post(
        "/password",
        {"current_password": current, "password": new, "confirm": new if confirm is None else confirm},
        csrf_from="/password",
    )


def test_stored_password_is_an_scrypt_hash(db, make):
    user = services.create_user(
        None, username="zhang.wei", name="张伟", password="Quiet-river-2026", role="researcher"
    )
    db.session.commit()
    assert user.password_hash.startswith("scrypt:")
    assert "Quiet-river-2026" not in user.password_hash
    assert services.authenticate("zhang.wei", "Quiet-river-2026") is user


@pytest.mark.parametrize(
    "password",
    ["12345678", "password1", "jiaoyan123", "PASSWORD1", "ｐａｓｓｗｏｒｄ１", "short", "aaaaaaaaaaaa", "x" * 257, "abc\x00defghij"],
)
def test_policy_refuses_weak_passwords(password):
    with pytest.raises(Invalid):
        check_password_policy(password, username="li.na", name="李娜")


@pytest.mark.parametrize("password", ["li.na-2026-spring", "我是李娜今年很好"])
def test_policy_refuses_passwords_containing_username_or_name(password):
    with pytest.raises(Invalid):
        check_password_policy(password, username="li.na", name="我是李娜")


def test_policy_accepts_a_long_sentence():
    check_password_policy("山里的孩子也要上好课", username="li.na", name="李娜")
    check_password_policy(NEW, username="li.na", name="李娜")


def test_user_changes_password_and_other_devices_are_logged_out(app, auth, make, client):
    user = make.user("teacher")
    auth.login(user.username)
    other = Auth(app.test_client())
    other.login(user.username)
    response = change(auth)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert check_password_hash(user.password_hash, NEW)
    assert client.get("/").status_code == 200
    assert other.client.get("/").status_code == 302
    assert Auth(app.test_client()).login(user.username, NEW).status_code == 302
    assert Auth(app.test_client()).login(user.username, PASSWORD).status_code == 401
    assert Notification.query.filter_by(user_id=user.id, kind="account.password_changed").count() == 1


def test_wrong_current_password_is_a_form_error(auth, make):
    user = make.user("teacher")
    auth.login(user.username)
    old_hash = user.password_hash
    response = change(auth, current="not-my-password")
    assert response.status_code == 400
    assert b'id="current_password-err"' in response.data
    assert user.password_hash == old_hash


@pytest.mark.parametrize("new", ["12345678", "password1", "jiaoyan123"])
def test_common_password_is_refused(auth, make, new):
    user = make.user("teacher")
    auth.login(user.username)
    response = change(auth, new=new)
    assert response.status_code == 400
    assert b'id="password-err"' in response.data
    assert check_password_hash(user.password_hash, PASSWORD)


def test_password_containing_the_username_is_refused(auth, make):
    user = make.user("teacher", username="wang.fang")
    auth.login(user.username)
    response = change(auth, new="Wang.Fang-is-me-2026")
    assert response.status_code == 400 and b'id="password-err"' in response.data
    assert check_password_hash(user.password_hash, PASSWORD)


def test_new_password_must_differ_from_the_current_one(auth, make):
    user = make.user("teacher")
    auth.login(user.username)
    response = change(auth, new=PASSWORD)
    assert response.status_code == 400 and b'id="password-err"' in response.data


def test_mismatched_confirmation_is_refused(auth, make):
    user = make.user("teacher")
    auth.login(user.username)
    response = change(auth, confirm=NEW + "x")
    assert response.status_code == 400
    assert b'id="confirm-err"' in response.data
    assert check_password_hash(user.password_hash, PASSWORD)


def test_password_change_without_csrf_token_is_refused(auth, make, client):
    user = make.user("teacher")
    auth.login(user.username)
    response = client.post("/password", data={"current_password": PASSWORD, "password": NEW, "confirm": NEW})
    assert response.status_code == 400
    assert check_password_hash(user.password_hash, PASSWORD)
    assert client.get("/").status_code == 200


def test_anonymous_visitor_cannot_open_change_password(client):
    response = client.get("/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/", "/schools", "/terms", "/notifications", "/tokens"])
def test_user_with_one_time_password_is_sent_to_change_it_from_every_page(auth, make, client, path):
    user = make.user("teacher", must_change_password=True)
    response = auth.login(user.username)
    assert response.status_code == 302 and response.headers["Location"] == "/password"
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/password"
    assert client.get("/password").status_code == 200


def test_user_with_one_time_password_may_still_log_out_and_switch_language(auth, make, client):
    user = make.user("teacher", must_change_password=True)
    auth.login(user.username)
    assert auth.post("/language", {"locale": "en"}, csrf_from="/password").status_code == 302
    response = auth.post("/logout", csrf_from="/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_after_changing_the_one_time_password_pages_open_again(auth, make, client):
    user = make.user("teacher", must_change_password=True)
    auth.login(user.username)
    assert change(auth).status_code == 302
    assert user.must_change_password is False
    assert client.get("/schools").status_code == 200
