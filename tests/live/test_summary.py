"""After the lesson: the summary (API, page, Excel) read from the room's timeline."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from portal.live.models import LiveEvent

from .conftest import people

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def lesson(db, make, room, console):
    """A whole lesson in the room: two classrooms, a poll, hands, chat, one check-in, 40 minutes."""
    teacher, (first, second), (room_a, room_b) = people(room)
    mine, a, b = console(teacher), console(first), console(second)
    for c in (mine, a, b):
        assert c.join(room)["ok"]
    mine.send("start")
    a.send("check_in", {"present": 27, "class_size": 30, "feedback": "声音清楚"})
    a.send("raise_hand")
    b.send("raise_hand")
    mine.send("answer_hand")
    b.send("lower_hand")
    poll_id = mine.send("open_poll", {"question": "3/4 和 6/8 相等吗？", "options": ["相等", "不相等"]})["seq"]
    a.send("answer_poll", {"poll_id": poll_id, "counts": [20, 7]})
    b.send("answer_poll", {"poll_id": poll_id, "counts": [25, 5]})
    mine.send("close_poll", {"poll_id": poll_id})
    a.send("chat", {"text": "=HYPERLINK(\"http://evil\")"})
    mine.send("chat", {"text": "很好"})
    b.socket.disconnect(namespace="/live")
    mine.send("end")
    started = db.session.query(LiveEvent).filter_by(kind="started").one()
    started.created_at = started.created_at - timedelta(minutes=40)
    db.session.commit()
    return room


def test_the_summary_api_counts_what_happened(api_token, client, lesson):
    teacher, (first, second), (room_a, room_b) = people(lesson)
    response = client.get(f"/api/v1/live-sessions/{lesson.id}/summary",
                          headers={"Authorization": "Bearer " + api_token(teacher)})
    assert response.status_code == 200
    body = response.json
    assert body["id"] == lesson.id and body["status"] == "done"
    assert body["events"] == 17  # 3 joined, started, check-in, 2 raised, answered, lowered, poll ×4, 2 chat, left, ended
    assert [(a["classroom_id"], a["present"], a["class_size"], a["feedback"]) for a in body["attendance"]] == [
        (room_a.id, 27, 30, "声音清楚"), (room_b.id, None, None, "")]
    (poll,) = body["polls"]
    assert poll["question"] == "3/4 和 6/8 相等吗？" and poll["totals"] == [45, 12] and not poll["open"]
    assert [a["counts"] for a in poll["answers"]] == [[20, 7], [25, 5]]
    assert poll["opened_at"] and poll["closed_at"]
    assert body["hands"]["raised"] == 2 and body["hands"]["answered"] == 1
    assert [(h["classroom_id"], bool(h["answered_at"]), bool(h["lowered_at"])) for h in body["hands"]["items"]] == [
        (room_a.id, True, False), (room_b.id, False, True)]
    assert [m["text"] for m in body["chat"]] == ["=HYPERLINK(\"http://evil\")", "很好"]
    assert body["duration_minutes"] == 40
    assert body["started_at"].endswith("+08:00")
    presence = {p["user_id"]: p for p in body["presence"]}
    assert set(presence) == {teacher.id, first.id, second.id}
    assert presence[second.id]["left_at"] and presence[teacher.id]["left_at"] is None
    assert presence[first.id]["classroom_id"] == room_a.id and presence[first.id]["role"] == "assistant"


def test_only_the_people_of_the_session_and_observers_read_the_summary(api_token, client, make, lesson):
    _teacher, (first, _), _ = people(lesson)

    def status(user):
        return client.get(f"/api/v1/live-sessions/{lesson.id}/summary",
                          headers={"Authorization": "Bearer " + api_token(user)}).status_code

    county = lesson.live_class.main_classroom.school.county
    assert status(first) == 200
    assert status(make.user("researcher", county=county)) == 200
    assert status(make.user("principal", school=lesson.live_class.receiving[1].classroom.school)) == 200
    assert status(make.user("teacher")) == 403
    assert status(make.user("researcher", county=make.county())) == 403
    assert client.get(f"/api/v1/live-sessions/{lesson.id}/summary").status_code == 401
    response = client.get("/api/v1/live-sessions/999999/summary", headers={"Authorization": "Bearer " + api_token(first)})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_the_summary_of_a_session_nobody_joined_is_empty_but_complete(api_token, client, make):
    session = make.live_session(starts_in=timedelta(days=2))
    body = client.get(f"/api/v1/live-sessions/{session.id}/summary",
                      headers={"Authorization": "Bearer " + api_token(session.live_class.main_teacher)}).json
    assert body["events"] == 0 and body["polls"] == [] and body["chat"] == [] and body["duration_minutes"] is None
    assert [a["present"] for a in body["attendance"]] == [None, None]


def test_the_summary_page_shows_the_lesson(db, auth, client, lesson):
    teacher, _assistants, (room_a, _b) = people(lesson)
    teacher.locale = "en"
    db.session.commit()
    auth.login(teacher.username)
    page = client.get(f"/live-sessions/{lesson.id}/summary")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for expected in ("27 of 30", "3/4 和 6/8 相等吗？", "45", "2 raised, 1 answered", "40 minutes", "很好",
                     room_a.name, "Export to Excel"):
        assert expected in text, expected


def test_the_summary_exports_to_excel(auth, client, lesson):
    teacher, _assistants, (room_a, _b) = people(lesson)
    auth.login(teacher.username)
    response = client.get(f"/live-sessions/{lesson.id}/summary.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 6
    attendance = [list(r) for r in book.worksheets[1].iter_rows(values_only=True)]
    assert attendance[1][1:5] == [room_a.name, people(lesson)[1][0].name, 27, 30]
    polls = [list(r) for r in book.worksheets[2].iter_rows(values_only=True)]
    assert polls[-2:] == [["3/4 和 6/8 相等吗？", polls[-1][1], "相等", 45], ["3/4 和 6/8 相等吗？", polls[-1][1], "不相等", 12]]
    chat = [list(r) for r in book.worksheets[4].iter_rows(values_only=True)]
    assert chat[1][2] == "'=HYPERLINK(\"http://evil\")"  # never run as a formula



def test_the_demo_has_a_lesson_with_a_whole_timeline(db, client):
    from portal.cli.demo import seed_demo
    from portal.live import room as R
    from portal.live.models import LiveRoomState

    seed_demo()
    row = db.session.execute(db.select(LiveRoomState)).scalar_one()
    assert R.rebuild_state(row.session_id) == (row.last_seq, row.state)  # the demo's state is the fold
    token = client.post("/api/v1/auth/token", json={"username": "teacher.city", "password": "Demo-pass-2026"}).json
    body = client.get(f"/api/v1/live-sessions/{row.session_id}/summary",
                      headers={"Authorization": "Bearer " + token["token"]}).json
    present = sum(a["present"] for a in body["attendance"])
    assert present > 0 and body["polls"][0]["totals"] and sum(body["polls"][0]["totals"]) == present
    assert body["hands"] == {**body["hands"], "raised": 2, "answered": 2}
    assert body["duration_minutes"] == 40 and len(body["chat"]) == 3 and body["status"] == "done"
    assert {p["role"] for p in body["presence"]} == {"teacher", "assistant", "observer"}
