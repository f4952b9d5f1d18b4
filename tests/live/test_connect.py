"""Socket.IO connections: who may connect, notifications pushed live, and the end of a login."""

from __future__ import annotations

import pytest

from portal.accounts import services
from portal.accounts.notifications import notify

from ..conftest import Auth
from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


def events(socket, name: str, namespace: str = "/") -> list:
    """Payloads of the events received so far (read from the queue: works after a disconnect too)."""
    return [e["args"][0] if e["args"] else None for e in socket.queue if e["namespace"] == namespace and e["name"] == name]


@pytest.mark.parametrize("namespace", ["/", "/live"])
def test_anonymous_socket_is_refused(socket_client, namespace):
    socket = socket_client(namespace=namespace)
    assert not socket.is_connected(namespace)


@pytest.mark.parametrize("namespace", ["/", "/live"])
def test_logged_in_user_connects(login_as, socket_client, namespace):
    login_as("teacher")
    socket = socket_client(namespace=namespace)
    assert socket.is_connected(namespace)


@pytest.mark.parametrize("namespace", ["/", "/live"])
def test_valid_token_connects(db, make, socket_client, namespace):
    token = services.issue_token(make.user("teacher"))
    db.session.commit()
    socket = socket_client(namespace=namespace, auth={"token": token})
    assert socket.is_connected(namespace)


@pytest.mark.parametrize("auth", [{"token": "nonsense"}, {"token": ""}, {"token": 123}, {"token": "x" * 10_000}])
def test_bad_token_is_refused(socket_client, auth):
    assert not socket_client(namespace="/live", auth=auth).is_connected("/live")


def test_bad_token_is_refused_even_with_a_login_cookie(login_as, socket_client):
    login_as("teacher")
    assert not socket_client(auth={"token": "nonsense"}).is_connected()


def test_revoked_or_inactive_token_is_refused(db, make, socket_client):
    user = make.user("teacher")
    token = services.issue_token(user)
    db.session.commit()
    services.end_sessions(user)
    db.session.commit()
    assert not socket_client(auth={"token": token}).is_connected()


def test_cookie_copied_before_logout_cannot_open_a_socket(app, auth, make, client, socket_client):
    user = make.user("teacher")
    auth.login(user.username)
    stolen = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert not socket_client(http_client=thief).is_connected()


def test_notification_reaches_the_open_page(db, login_as, make, socket_client):
    user = login_as("teacher")
    socket = socket_client()
    socket.get_received()
    (note,) = notify([user], "system.message", params={"text": "明天教研活动改到下午"}, link="/terms")
    notify([make.user("teacher")], "system.message", params={"text": "别人的"})
    db.session.commit()
    received = events(socket, "notification")
    assert received == [{"id": note.id, "text": "明天教研活动改到下午", "link": "/terms"}]


def test_notification_is_not_pushed_when_the_change_is_rolled_back(db, login_as, socket_client):
    user = login_as("teacher")
    socket = socket_client()
    socket.get_received()
    notify([user], "system.message", params={"text": "撤回"})
    db.session.rollback()
    assert events(socket, "notification") == []


def test_notification_reaches_a_token_socket_in_the_readers_language(db, make, socket_client):
    user = make.user("teacher", locale="en")
    token = services.issue_token(user)
    db.session.commit()
    socket = socket_client(auth={"token": token})
    socket.get_received()
    notify([user], "account.created", params={"name": "Li Na"})
    db.session.commit()
    assert events(socket, "notification")[0]["text"] == "Welcome, Li Na! Your account is ready."


def test_logout_ends_the_open_sockets(login_as, auth, socket_client):
    login_as("teacher")
    default, live = socket_client(), socket_client(namespace="/live")
    default.get_received()
    live.get_received("/live")
    auth.logout()
    assert events(default, "session_ended") == [{}]
    assert events(live, "session_ended", "/live") == [{}]
    assert not default.is_connected()
    assert not live.is_connected("/live")


def test_deactivation_ends_the_persons_sockets_but_not_others(app, login_as, make, socket_client):
    user = login_as("teacher")
    mine = socket_client()
    bystander = Auth(app.test_client())
    bystander.login(make.user("teacher").username)
    theirs = socket_client(http_client=bystander.client)
    bureau = Auth(app.test_client())
    bureau.login(make.user("bureau").username)
    bureau.post(f"/admin/users/{user.id}/active", {"active": "0"})
    assert not mine.is_connected()
    assert theirs.is_connected()


def test_password_change_ends_the_sockets_of_other_devices(app, auth, login_as, socket_client):
    user = login_as("teacher")
    other_device = Auth(app.test_client())
    other_device.login(user.username)
    elsewhere = socket_client(http_client=other_device.client)
    assert elsewhere.is_connected()
    auth.post(
        "/password",
        {"current_password": "Test-pass-2026!", "password": "Spring-rain-over-hills", "confirm": "Spring-rain-over-hills"},
    )
    assert not elsewhere.is_connected()
