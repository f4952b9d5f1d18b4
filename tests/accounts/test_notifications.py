"""In-app notifications: the notify() service, the bell count and marking as read."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import Notification
from portal.accounts.notifications import notify, render, unread_count

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


def unread_badge(page: bytes) -> str | None:
    match = re.search(rb'<span class="count" data-unread\s*(hidden)?\s*>(\d+)</span>', page)
    assert match, "no bell on the page"
    return None if match.group(1) else match.group(2).decode()


def test_notify_creates_one_row_per_person(db, make):
    a, b = make.user("teacher"), make.user("principal")
    created = notify([a, b.id, a], "system.message", params={"text": "明天停电"}, link="/schools")
    db.session.commit()
    rows = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert [n.user_id for n in rows] == sorted([a.id, b.id])
    assert len(created) == 2
    assert all(n.params == {"text": "明天停电"} and n.link == "/schools" and n.read_at is None for n in rows)


def test_notify_refuses_an_unregistered_kind(make):
    with pytest.raises(KeyError):
        notify([make.user("teacher")], "no.such.kind")


def test_notification_parameters_are_cleaned(db, make):
    user = make.user("teacher")
    (note,) = notify([user], "system.message", params={"text": "注意\u202e\x00安全"})
    db.session.commit()
    assert note.params == {"text": "注意安全"}


def test_notification_text_follows_the_readers_language(db, app, make):
    user = make.user("teacher")
    (note,) = notify([user], "account.created", params={"name": "李娜"})
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("en"):
            assert render(note) == "Welcome, 李娜! Your account is ready."


def test_bell_shows_the_unread_count(db, login_as, make, client):
    user = login_as("teacher")
    assert unread_badge(client.get("/").data) is None
    notify([user], "system.message", params={"text": "一"})
    notify([user], "system.message", params={"text": "二"})
    notify([make.user("teacher")], "system.message", params={"text": "别人的"})
    db.session.commit()
    assert unread_badge(client.get("/").data) == "2"
    page = client.get("/notifications").get_data(as_text=True)
    assert "一" in page and "二" in page and "别人的" not in page


def test_the_bell_count_comes_with_the_person(db, login_as, client, count_queries):
    """Every page shows the bell: its count is read with the person, not by a statement of its own."""
    user = login_as("teacher")
    notify([user], "system.message", params={"text": "一"})
    db.session.commit()
    with count_queries() as statements:
        page = client.get("/resources")
    assert unread_badge(page.data) == "1"
    assert not [s for s in statements if s.lstrip().lower().startswith("select count") and "FROM notifications" in s]


def test_user_marks_one_notification_read(db, login_as, auth, client):
    user = login_as("teacher")
    first, second = notify([user], "system.message", params={"text": "一"}) + notify(
        [user], "system.message", params={"text": "二"}
    )
    db.session.commit()
    response = auth.post("/notifications/read", {"id": first.id}, csrf_from="/notifications")
    assert response.status_code == 302
    assert first.read_at is not None and second.read_at is None
    assert unread_badge(client.get("/").data) == "1"


def test_user_marks_all_notifications_read(db, login_as, auth, client):
    user = login_as("teacher")
    notify([user], "system.message", params={"text": "一"})
    notify([user], "system.message", params={"text": "二"})
    db.session.commit()
    auth.post("/notifications/read", csrf_from="/notifications")
    assert unread_count(user) == 0
    assert unread_badge(client.get("/").data) is None


def test_user_cannot_mark_someone_elses_notification_read(db, login_as, auth, make):
    login_as("teacher")
    (theirs,) = notify([make.user("teacher")], "system.message", params={"text": "别人的"})
    db.session.commit()
    assert auth.post("/notifications/read", {"id": theirs.id}).status_code == 302
    assert theirs.read_at is None


@pytest.mark.parametrize("bad_id", ["abc", "-1", "１", "99999999999999999999", "9999999999"])
def test_malformed_id_marks_nothing(db, login_as, auth, bad_id):
    user = login_as("teacher")
    (mine,) = notify([user], "system.message", params={"text": "一"})
    db.session.commit()
    response = auth.post("/notifications/read", {"id": bad_id})
    assert response.status_code == 400
    assert mine.read_at is None


def test_mark_read_does_not_redirect_off_site(db, login_as, auth):
    login_as("teacher")
    response = auth.post("/notifications/read", {"go": "//evil.example"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
    response = auth.post("/notifications/read", {"go": "/schools"})
    assert response.headers["Location"] == "/schools"


def test_home_lists_the_newest_unread_notifications(db, login_as, client):
    user = login_as("teacher")
    notify([user], "system.message", params={"text": "请提交听课记录"}, link="/terms")
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "请提交听课记录" in page and 'href="/terms"' in page
