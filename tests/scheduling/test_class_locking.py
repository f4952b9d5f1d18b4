"""The main teacher and the bureau changing a dual-teacher class at the same time: the second to save
is told and keeps what they typed; the class holds the first's change (core/locking.py)."""

from __future__ import annotations

import re

from portal.core.timeutil import to_local
from portal.scheduling.models import LiveClass

from ..factories import PASSWORD
from .live_world import next_monday, schedule, sessions_of


def _browser(app, user):
    client = app.test_client()
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").data).group(1).decode()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client


def _loaded_form(client, url: str, live_class, lw, start: str, end: str) -> dict:
    """What the change page sends after its person loaded it and moved the Monday lesson."""
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page) or re.search(r'value="(\d+)"[^>]*name="version"',
                                                                                   page)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return {"csrf_token": csrf, "version": version.group(1), "from_date": next_monday(2).isoformat(),
            "last_date": live_class.last_date.isoformat(), "main_teacher": str(lw["teacher"].id),
            "main_classroom": str(lw["main_room"].id), "receiving-0-classroom": str(lw["village_room"].id),
            "receiving-0-assistant": str(lw["assistant"].id), "slots-0-weekday": "1", "slots-0-start": start,
            "slots-0-end": end}


def test_the_teacher_and_the_bureau_changing_the_class_at_once(app, db, lw):
    live_class = schedule(lw, weeks=3)
    db.session.commit()
    url = f"/live-classes/{live_class.id}/change"
    teacher, bureau = _browser(app, lw["teacher"]), _browser(app, lw["county_bureau"])
    mine = _loaded_form(teacher, url, live_class, lw, "10:00", "10:40")
    theirs = _loaded_form(bureau, url, live_class, lw, "14:30", "15:10")

    first = teacher.post(url, data=mine)
    second = bureau.post(url, data=theirs)

    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Someone else changed this while you were editing" in page and 'value="14:30"' in page
    times = [to_local(s.starts_at).strftime("%H:%M") for s in sessions_of(db, live_class)]
    assert times == ["09:00", "10:00", "10:00"]
    assert db.session.get(LiveClass, live_class.id).version == 2
