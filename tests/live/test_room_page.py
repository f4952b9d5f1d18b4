"""The room page: who may open it, and the face each person gets (controls, classroom console,
read-only), plus the way in from the home page at the right time."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


def _english(db, *users):
    for user in users:
        user.locale = "en"
    db.session.commit()


def _room(client, session):
    return client.get(f"/live-sessions/{session.id}/room")


def _markup(response) -> str:
    """The page without the words handed to the script (data-strings), which name every control."""
    return re.sub(r'data-strings="[^"]*"', "", response.get_data(as_text=True))


def _data(html: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', html)
    assert match, name
    return match.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")


def test_main_teacher_gets_the_controls(db, make, login_as, client):
    session = make.live_session()
    teacher = session.live_class.main_teacher
    _english(db, teacher)
    login_as(teacher)
    response = _room(client, session)
    assert response.status_code == 200
    html = _markup(response)
    assert 'data-role="teacher"' in html and f'data-session-id="{session.id}"' in html
    for control in ("Start the lesson", "End the lesson", "Next page", "Previous page", "Open the poll",
                    "Start timer", 'data-form="set_material"', 'data-form="chat"'):
        assert control in html, control
    assert 'data-form="check_in"' not in html and "Raise hand" not in html
    # the script is a file of ours (CSP: no inline script) and Socket.IO comes from static/vendor
    assert "/static/src/live/room.js" in html and "/static/vendor/socket.io.min.js" in html
    assert "<script>" not in html
    strings = json.loads(_data(response.get_data(as_text=True), "data-strings"))
    assert strings["reconnecting"] == "Connection lost, reconnecting…"


def test_material_choices_are_the_teachers_own_resources(db, make, login_as, client):
    session = make.live_session()
    teacher = session.live_class.main_teacher
    mine = make.resource(teacher, title="分数墙课件")
    make.resource(make.user("teacher"), title="别人的课件")
    login_as(teacher)
    html = _room(client, session).get_data(as_text=True)
    assert f'<option value="{mine.id}">分数墙课件</option>' in html
    assert "别人的课件" not in html


def test_assistant_gets_the_classroom_console(db, make, login_as, client):
    session = make.live_session(rooms=2)
    assistant = session.live_class.receiving[1].assistant
    _english(db, assistant)
    login_as(assistant)
    response = _room(client, session)
    assert response.status_code == 200
    html = _markup(response)
    assert 'data-role="assistant"' in html
    for part in ("Classroom console", "Raise hand", 'data-form="answer_poll"', 'data-form="check_in"',
                 'data-form="chat"', session.live_class.receiving[1].classroom.school.name):
        assert part in html, part
    assert "Start the lesson" not in html and 'data-form="open_poll"' not in html


def test_observer_reads_only_and_may_open_an_observation_record(app, db, make, login_as, client):
    session = make.live_session()
    county = session.live_class.main_classroom.school.county
    researcher = make.user("researcher", county=county)
    _english(db, researcher)
    login_as(researcher)
    html = _markup(_room(client, session))
    assert 'data-role="observer"' in html and "Observer (read-only)" in html
    assert "data-form=" not in html and "Start the lesson" not in html and "Raise hand" not in html
    if "observations.new" in app.view_functions:
        assert f"/observations/new?live_session_id={session.id}" in html


@pytest.mark.parametrize("who", ["other_teacher", "other_county_bureau", "principal_elsewhere"])
def test_people_outside_the_session_are_refused(make, login_as, client, who):
    session = make.live_session()
    other = make.county()
    user = {"other_teacher": lambda: make.user("teacher"),
            "other_county_bureau": lambda: make.user("bureau", county=other),
            "principal_elsewhere": lambda: make.user("principal")}[who]()
    login_as(user)
    assert _room(client, session).status_code == 403


def test_unknown_session_is_404_and_anonymous_goes_to_login(make, login_as, client):
    session = make.live_session()
    assert client.get(f"/live-sessions/{session.id}/room").status_code == 302
    login_as(session.live_class.main_teacher)
    assert client.get(f"/live-sessions/{session.id + 999}/room").status_code == 404


def test_home_links_the_room_when_the_session_is_about_to_start(db, make, login_as, client):
    soon = make.live_session(starts_in=timedelta(minutes=10), title="分数的意义")
    teacher = soon.live_class.main_teacher
    _english(db, teacher)
    login_as(teacher)
    html = client.get("/").get_data(as_text=True)
    assert "Live now" in html and f"/live-sessions/{soon.id}/room" in html


def test_home_does_not_push_a_room_that_is_hours_away(db, make, login_as, client):
    later = make.live_session(starts_in=timedelta(hours=3))
    assistant = later.live_class.receiving[0].assistant
    _english(db, assistant)
    login_as(assistant)
    assert "Live now" not in client.get("/").get_data(as_text=True)


def test_home_links_a_running_session_for_the_assistant(db, make, login_as, client):
    running = make.live_session(starts_in=timedelta(minutes=-20))
    assistant = running.live_class.receiving[0].assistant
    _english(db, assistant)
    login_as(assistant)
    html = client.get("/").get_data(as_text=True)
    assert "Live now" in html and "Running now" in html and f"/live-sessions/{running.id}/room" in html
