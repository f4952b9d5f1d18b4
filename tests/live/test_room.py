"""The live room over Socket.IO (/live): who may join, each event's rules, the timeline in the
database and the state a (re)joining console gets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts import services
from portal.core.models import utcnow
from portal.live import room as R
from portal.live.models import LiveConnection, LiveEvent, LiveRoomState
from portal.scheduling.models import LiveSession, SessionAttendance

from .conftest import people

pytestmark = pytest.mark.usefixtures("english")


def started(console, teacher_console, session):
    teacher_console.join(session)
    assert teacher_console.send("start", {"cid": "start-1"})["ok"]


# --- who may come in --------------------------------------------------------------------------


def test_a_connection_without_login_is_refused(socket_client):
    assert not socket_client(namespace="/live").is_connected("/live")


def test_the_people_of_the_session_and_observers_join(make, room, console):
    teacher, (first, second), _rooms = people(room)
    county = room.live_class.main_classroom.school.county
    village_principal = make.user("principal", school=room.live_class.receiving[0].classroom.school)
    researcher = make.user("researcher", county=county)
    bureau = make.user("bureau", county=county)
    roles = {}
    for user in (teacher, first, second, village_principal, researcher, bureau):
        answer = console(user).join(room)
        assert answer["ok"], answer
        roles[user.id] = answer["state"]["you"]["role"]
    assert list(roles.values()) == ["teacher", "assistant", "assistant", "observer", "observer", "observer"]


def test_join_is_refused_for_a_teacher_of_another_school_who_then_hears_nothing(make, room, console):
    teacher, (assistant, _), _rooms = people(room)
    outsider = console(make.user("teacher", locale="en"))  # the message is in the person's language
    answer = outsider.join(room)
    assert answer == {"ok": False, "error": "You are not part of this session.", "code": "forbidden"}
    # Not in the room: the room's chat does not reach them, and they cannot speak in it.
    inside = console(teacher)
    inside.join(room)
    inside.send("chat", {"text": "大家好"})
    assert outsider.got("chat") == []
    assert outsider.send("chat", {"text": "hi"})["code"] == "not_joined"
    # A researcher or principal of another county is not an observer either.
    assert console(make.user("researcher", county=make.county())).join(room)["code"] == "forbidden"
    assert console(make.user("principal")).join(room)["code"] == "forbidden"


@pytest.mark.parametrize("payload, code", [
    ({"session_id": 999_999}, "not_found"),
    ({"session_id": "1"}, "bad_request"),
    ({"session_id": True}, "bad_request"),
    ({}, "bad_request"),
    ({"session_id": 1, "room": "session:1"}, "bad_request"),
    (["session_id", 1], "bad_request"),
    ("join", "bad_request"),
    (None, "bad_request"),
])
def test_a_bad_join_is_refused_with_a_reason(room, console, payload, code):
    answer = console(room.live_class.main_teacher).send("join", payload)
    assert answer["ok"] is False and answer["code"] == code and answer["error"]


def test_a_cancelled_session_cannot_be_joined(make, console):
    session = make.live_session(status="cancelled")
    assert console(session.live_class.main_teacher).join(session)["code"] == "conflict"


def test_an_ended_login_is_refused_on_the_next_event(db, room, console):
    teacher = room.live_class.main_teacher
    mine = console(teacher)
    assert mine.join(room)["ok"]
    services.end_sessions(teacher)  # e.g. the password changed on another device
    db.session.commit()
    assert not mine.connected  # ended at once on this process
    # and the socket's row is gone from presence
    assert db.session.execute(select(LiveConnection)).scalars().all() == []
    assert [e.kind for e in db.session.execute(select(LiveEvent).order_by(LiveEvent.seq)).scalars()] == [
        "joined", "left"]


def test_logging_out_ends_the_room_socket(app, db, make, auth, room, socket_client):
    teacher = room.live_class.main_teacher
    auth.login(teacher.username)
    live = socket_client(namespace="/live")
    assert live.emit("join", {"session_id": room.id}, namespace="/live", callback=True)["ok"]
    auth.logout()
    assert not live.is_connected("/live")
    assert db.session.query(LiveConnection).count() == 0


def test_an_assistant_replaced_mid_lesson_is_put_out_of_the_room(db, make, room, console):
    teacher, (assistant, _), (classroom, _) = people(room)
    console(teacher).join(room)
    theirs = console(assistant)
    assert theirs.join(room)["ok"]
    replacement = make.user("teacher", school=classroom.school)
    room.live_class.receiving[0].assistant_id = replacement.id
    db.session.commit()
    answer = theirs.send("chat", {"text": "还在吗"})
    assert answer["code"] == "forbidden"
    assert theirs.got("removed") == [{"reason": "forbidden"}]
    assert theirs.send("heartbeat")["code"] == "not_joined"
    left = db.session.execute(select(LiveEvent).where(LiveEvent.kind == "left")).scalar_one()
    assert (left.user_id, left.payload) == (assistant.id, {"role": "assistant"})  # their time in the room ends
    assert console(replacement).join(room)["state"]["you"]["classroom_ids"] == [classroom.id]


def test_cross_origin_connections_are_refused(client):
    evil = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 400
    same = client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost"})
    assert same.status_code == 200


# --- chat ---------------------------------------------------------------------------------------


def test_chat_reaches_everyone_in_the_room_as_plain_text(room, console):
    teacher, (first, second), _ = people(room)
    consoles = [console(u) for u in (teacher, first, second)]
    for c in consoles:
        c.join(room)
    answer = consoles[1].send("chat", {"text": "  <b>老师</b>，我们听不清\x00 ", "cid": "c-1"})
    assert answer["ok"]
    for c in consoles:
        (message,) = c.got("chat")
        assert {k: message[k] for k in ("user_id", "name", "text")} == {
            "user_id": first.id, "name": first.name, "text": "<b>老师</b>，我们听不清"}
        assert message["id"] and message["at"] and message["seq"] == answer["seq"]
        assert message["classroom_id"] == room.live_class.receiving[0].classroom_id


@pytest.mark.parametrize("payload, code", [
    ({"text": "x" * 501}, "too_long"),
    ({"text": "   "}, "bad_request"),
    ({"text": 42}, "bad_request"),
    ({"text": ["a"]}, "bad_request"),
    ({"text": "hi", "html": "<b>"}, "bad_request"),
    ({"text": "hi", "cid": "x" * 65}, "bad_request"),
    ({"text": "hi", "cid": "no spaces"}, "bad_request"),
    ({"text": "\ud800"}, "bad_request"),
])
def test_bad_chat_is_refused_and_nobody_hears_it(db, room, console, payload, code):
    teacher, (assistant, _), _ = people(room)
    other = console(assistant)
    other.join(room)
    mine = console(teacher)
    mine.join(room)
    other.forget()
    answer = mine.send("chat", payload)
    assert answer["ok"] is False and answer["code"] == code
    assert other.got("chat") == []
    assert db.session.query(LiveEvent).filter_by(kind="chat").count() == 0


def test_500_characters_is_the_longest_message(room, console):
    mine = console(room.live_class.main_teacher)
    mine.join(room)
    assert mine.send("chat", {"text": "字" * 500})["ok"]


def test_chat_is_rate_limited_per_person(room, console):
    teacher, (assistant, _), _ = people(room)
    mine, theirs = console(teacher), console(assistant)
    mine.join(room)
    theirs.join(room)
    answers = [mine.send("chat", {"text": f"第{i}条"}) for i in range(6)]
    assert [a["ok"] for a in answers] == [True] * 5 + [False]
    assert answers[-1]["code"] == "rate_limited"
    assert theirs.send("chat", {"text": "我还可以说"})["ok"]  # others are not held back


def test_observers_are_read_only(make, room, console):
    principal = make.user("principal", school=room.live_class.main_classroom.school)
    watcher = console(principal)
    assert watcher.join(room)["state"]["you"]["role"] == "observer"
    for event, payload in [("chat", {"text": "hi"}), ("start", {}), ("raise_hand", {}), ("set_page", {"page": 2}),
                           ("check_in", {"present": 1, "class_size": 2})]:
        assert watcher.send(event, payload)["code"] == "forbidden", event


# --- the lesson: start, end, timer, roles and phases ------------------------------------------------


def test_only_the_main_teacher_starts_and_ends_and_ending_marks_the_session_delivered(db, room, console):
    teacher, (assistant, _), _ = people(room)
    mine, theirs = console(teacher), console(assistant)
    mine.join(room)
    theirs.join(room)
    assert theirs.send("start")["code"] == "forbidden"
    started = mine.send("start", {"cid": "s"})
    assert started["ok"] and started["event"]["started_at"]
    assert mine.send("start")["code"] == "conflict"
    assert theirs.got("lesson")[-1]["started_at"] == started["event"]["started_at"]
    assert theirs.send("end")["code"] == "forbidden"
    assert mine.send("end")["ok"]
    assert db.session.get(LiveSession, room.id).status == "done"
    assert theirs.got("lesson")[-1]["ended_at"]
    # After the end: nothing changes any more, but the room can still be read.
    assert theirs.send("raise_hand")["code"] == "conflict"
    assert mine.send("chat", {"text": "下课"})["code"] == "conflict"
    assert console(assistant).join(room)["state"]["ended_at"]


def test_a_lesson_starts_only_near_its_time(db, make, console):
    future = make.live_session(starts_in=timedelta(hours=2))
    future.live_class.main_teacher.locale = "en"
    db.session.commit()
    mine = console(future.live_class.main_teacher)
    mine.join(future)
    answer = mine.send("start")
    assert answer["code"] == "conflict" and "30 minutes" in answer["error"]
    soon = make.live_session(starts_in=timedelta(minutes=20))
    mine = console(soon.live_class.main_teacher)
    mine.join(soon)
    assert mine.send("start")["ok"]


def test_lesson_events_wait_for_the_start(room, console):
    teacher, (assistant, _), _ = people(room)
    mine, theirs = console(teacher), console(assistant)
    mine.join(room)
    theirs.join(room)
    assert theirs.send("raise_hand")["code"] == "conflict"
    assert mine.send("open_poll", {"question": "?", "options": ["a", "b"]})["code"] == "conflict"
    assert mine.send("start_timer", {"minutes": 5})["code"] == "conflict"
    assert mine.send("set_page", {"page": 3})["ok"]  # getting the material ready is fine


def test_the_timer_is_in_the_state(room, console):
    mine = console(room.live_class.main_teacher)
    started(None, mine, room)
    assert mine.send("start_timer", {"minutes": 0})["code"] == "invalid"
    assert mine.send("start_timer", {"minutes": "5"})["code"] == "bad_request"
    assert mine.send("start_timer", {"minutes": 181})["code"] == "invalid"
    answer = mine.send("start_timer", {"minutes": 10})
    assert answer["event"]["timer"]["minutes"] == 10 and answer["event"]["timer"]["started_at"]
    assert console(room.live_class.main_teacher).join(room)["state"]["timer"] == answer["event"]["timer"]
    assert mine.send("stop_timer")["event"]["timer"] is None
    assert mine.send("stop_timer")["code"] == "conflict"


# --- hands ----------------------------------------------------------------------------------------------


def test_hands_are_answered_in_the_order_raised(room, console):
    teacher, (first, second), (room_a, room_b) = people(room)
    mine, a, b = console(teacher), console(first), console(second)
    started(None, mine, room)
    a.join(room)
    b.join(room)
    assert mine.send("raise_hand")["code"] == "forbidden"
    assert b.send("raise_hand")["ok"]
    assert b.send("raise_hand")["code"] == "conflict"
    assert a.send("raise_hand", {"classroom_id": room_b.id})["code"] == "forbidden"  # not their room
    queued = a.send("raise_hand")
    assert [h["classroom_id"] for h in queued["event"]["hands"]] == [room_b.id, room_a.id]
    assert mine.got("hands")[-1]["hands"] == queued["event"]["hands"]
    assert mine.send("answer_hand", {"classroom_id": room_a.id})["code"] == "conflict"  # not first
    assert a.send("answer_hand")["code"] == "forbidden"
    answered = mine.send("answer_hand")
    assert answered["event"]["classroom_id"] == room_b.id
    assert [h["classroom_id"] for h in answered["event"]["hands"]] == [room_a.id]
    assert a.send("lower_hand")["ok"]
    assert a.send("lower_hand")["code"] == "conflict"
    assert mine.send("answer_hand")["code"] == "conflict"
    # the teacher may also put a hand down
    b.send("raise_hand")
    assert mine.send("lower_hand", {"classroom_id": room_b.id})["event"]["hands"] == []


# --- material and page --------------------------------------------------------------------------------------


def test_the_page_follows_the_main_teacher(make, room, console):
    teacher, (assistant, _), _ = people(room)
    mine, theirs = console(teacher), console(assistant)
    mine.join(room)
    theirs.join(room)
    public = make.resource(title="分数的意义课件")
    private = make.resource(owner=make.user("teacher"), visibility="private")
    assert mine.send("set_material", {"resource_id": private.id})["code"] == "forbidden"
    assert mine.send("set_material", {"resource_id": 999_999})["code"] == "not_found"
    assert theirs.send("set_material", {"resource_id": public.id})["code"] == "forbidden"
    assert mine.send("set_material", {"resource_id": public.id, "page": 2})["ok"]
    assert theirs.send("set_page", {"page": 3})["code"] == "forbidden"
    for bad, code in [({"page": 0}, "invalid"), ({"page": 5001}, "invalid"), ({"page": 2.5}, "bad_request"),
                      ({}, "bad_request")]:
        assert mine.send("set_page", bad)["code"] == code
    assert mine.send("set_page", {"page": 7})["ok"]
    assert theirs.got("material")[-1] == {**theirs.got("material")[-1],
                                          "material": {"resource_id": public.id, "title": "分数的意义课件"}, "page": 7}


# --- polls ------------------------------------------------------------------------------------------------------


def test_a_quick_poll_collects_each_classrooms_counts(room, console):
    teacher, (first, second), (room_a, room_b) = people(room)
    mine, a, b = console(teacher), console(first), console(second)
    started(None, mine, room)
    a.join(room)
    b.join(room)
    assert a.send("open_poll", {"question": "3/4 和 6/8 相等吗？", "options": ["相等", "不相等"]})["code"] == "forbidden"
    for bad, code in [({"question": "?", "options": ["only one"]}, "bad_request"),
                      ({"question": "?", "options": ["a"] * 7}, "bad_request"),
                      ({"question": "?", "options": "a,b"}, "bad_request"),
                      ({"question": "?", "options": ["a", "a"]}, "invalid"),
                      ({"question": "?", "options": ["a", "x" * 61]}, "too_long"),
                      ({"question": "x" * 201, "options": ["a", "b"]}, "too_long")]:
        assert mine.send("open_poll", bad)["code"] == code, bad
    opened = mine.send("open_poll", {"question": "3/4 和 6/8 相等吗？", "options": ["相等", "不相等", "不知道"]})
    poll_id = opened["event"]["poll"]["id"]
    assert mine.send("open_poll", {"question": "again", "options": ["a", "b"]})["code"] == "conflict"
    assert mine.send("answer_poll", {"poll_id": poll_id, "counts": [1, 0, 0]})["code"] == "forbidden"
    for bad, code in [({"counts": [1, 2]}, "bad_request"), ({"counts": [1, -1, 0]}, "invalid"),
                      ({"counts": [True, 0, 0]}, "bad_request"), ({"counts": [20, 10, 1]}, "invalid"),
                      ({"counts": [1, 1, 1], "poll_id": 999}, "not_found")]:
        assert a.send("answer_poll", {"poll_id": poll_id, **bad})["code"] == code, bad
    assert a.send("answer_poll", {"poll_id": poll_id, "counts": [20, 8, 2]})["ok"]
    assert b.send("answer_poll", {"poll_id": poll_id, "counts": [10, 10, 0]})["event"]["poll"]["totals"] == [30, 18, 2]
    corrected = a.send("answer_poll", {"poll_id": poll_id, "counts": [25, 5, 0]})  # a class corrects its answer
    assert corrected["event"]["poll"]["totals"] == [35, 15, 0]
    assert mine.got("poll")[-1]["poll"]["answers"] == [{"classroom_id": room_a.id, "counts": [25, 5, 0]},
                                                        {"classroom_id": room_b.id, "counts": [10, 10, 0]}]
    closed = mine.send("close_poll", {"poll_id": poll_id})
    assert closed["event"]["poll"] is None and closed["event"]["closed"]["totals"] == [35, 15, 0]
    assert a.send("answer_poll", {"poll_id": poll_id, "counts": [1, 0, 0]})["code"] == "conflict"
    assert mine.send("close_poll", {"poll_id": poll_id})["code"] == "conflict"


def test_poll_counts_cannot_exceed_the_students_checked_in(room, console):
    teacher, (first, _), _ = people(room)
    mine, a = console(teacher), console(first)
    started(None, mine, room)
    a.join(room)
    assert a.send("check_in", {"present": 12, "class_size": 30})["ok"]
    poll_id = mine.send("open_poll", {"question": "?", "options": ["a", "b"]})["seq"]
    assert a.send("answer_poll", {"poll_id": poll_id, "counts": [10, 3]})["code"] == "invalid"
    assert a.send("answer_poll", {"poll_id": poll_id, "counts": [10, 2]})["ok"]


# --- attendance -------------------------------------------------------------------------------------------------


def test_check_in_records_the_attendance_of_the_classroom(db, room, console):
    teacher, (first, _), (room_a, room_b) = people(room)
    mine, a = console(teacher), console(first)
    mine.join(room)
    a.join(room)
    assert a.send("check_in", {"present": 28, "class_size": 30})["code"] == "conflict"  # not started
    mine.send("start")
    assert mine.send("check_in", {"present": 28, "class_size": 30})["code"] == "forbidden"
    assert a.send("check_in", {"present": 31, "class_size": 30})["code"] == "invalid"
    assert a.send("check_in", {"present": 28, "class_size": 30, "classroom_id": room_b.id})["code"] == "forbidden"
    assert a.send("check_in", {"present": -1, "class_size": 30})["code"] == "invalid"
    assert a.send("check_in", {"present": 28, "class_size": 30, "feedback": "x" * 501})["code"] == "too_long"
    answer = a.send("check_in", {"present": 28, "class_size": 30, "feedback": "网络有点卡", "cid": "att"})
    assert answer["event"]["attendance"] == [{"classroom_id": room_a.id, "present": 28, "class_size": 30,
                                              "at": answer["event"]["at"]}]
    assert mine.got("attendance")[-1]["classroom_id"] == room_a.id
    record = db.session.execute(select(SessionAttendance)).scalar_one()
    assert (record.classroom_id, record.present, record.class_size, record.feedback, record.recorded_by_id) == (
        room_a.id, 28, 30, "网络有点卡", first.id)
    assert db.session.get(LiveSession, room.id).status == "done"
    assert a.send("check_in", {"present": 29, "class_size": 30})["ok"]  # a correction replaces it
    assert db.session.execute(select(SessionAttendance.present)).scalar_one() == 29


# --- the timeline: order, idempotency, state ----------------------------------------------------------------------


def test_events_are_numbered_in_order_and_stored_before_the_ack(db, room, console):
    teacher, (first, _), _ = people(room)
    mine, a = console(teacher), console(first)
    mine.join(room)
    a.join(room)
    mine.send("start")
    seqs = [mine.send("chat", {"text": "一"})["seq"], a.send("raise_hand")["seq"], mine.send("set_page", {"page": 2})["seq"]]
    stored = db.session.execute(select(LiveEvent.seq, LiveEvent.kind).order_by(LiveEvent.seq)).all()
    assert [s for s, _k in stored] == list(range(1, len(stored) + 1))
    assert seqs == [s for s, k in stored if k in ("chat", "hand_raised", "page")]
    assert a.got("material")[-1]["seq"] == seqs[2]
    received = [p["seq"] for name in ("chat", "hands", "material") for p in a.got(name)]
    assert sorted(received) == seqs


def test_a_replayed_client_id_is_applied_once(db, room, console):
    teacher, (first, _), _ = people(room)
    mine, a = console(teacher), console(first)
    mine.join(room)
    a.join(room)
    first_try = a.send("chat", {"text": "重发", "cid": "msg-7"})
    mine.forget()
    replay = a.send("chat", {"text": "重发", "cid": "msg-7"})
    assert replay["duplicate"] is True and replay["seq"] == first_try["seq"]
    assert replay["event"]["id"] == first_try["event"]["id"]
    assert mine.got("chat") == []  # not broadcast again
    assert db.session.query(LiveEvent).filter_by(kind="chat").count() == 1
    # The same cid from another person is their own message.
    assert mine.send("chat", {"text": "我的", "cid": "msg-7"}).get("duplicate") is None
    # a replayed hand after a reconnect: still one hand in the queue
    mine.send("start")
    again = console(first)
    again.join(room)
    assert again.send("raise_hand", {"cid": "h1"})["ok"]
    assert again.send("raise_hand", {"cid": "h1"})["duplicate"]
    assert len(R.current_state(room.id)[1]["hands"]) == 1


def test_a_second_join_gets_everything_that_happened(db, make, room, console):
    teacher, (first, second), (room_a, room_b) = people(room)
    mine, a, b = console(teacher), console(first), console(second)
    mine.join(room)
    a.join(room)
    b.join(room)
    mine.send("start")
    resource = make.resource(title="课件")
    mine.send("set_material", {"resource_id": resource.id})
    mine.send("set_page", {"page": 4})
    b.send("raise_hand")
    a.send("raise_hand")
    a.send("chat", {"text": "第一条"})
    mine.send("chat", {"text": "第二条"})
    a.send("check_in", {"present": 25, "class_size": 30})
    poll_id = mine.send("open_poll", {"question": "懂了吗", "options": ["懂了", "没懂"]})["seq"]
    a.send("answer_poll", {"poll_id": poll_id, "counts": [20, 5]})
    mine.send("start_timer", {"minutes": 15})
    # a's page reloads: a new socket joins again
    reloaded = console(first)
    state = reloaded.join(room)["state"]
    assert state["you"] == {"user_id": first.id, "name": first.name, "role": "assistant", "classroom_ids": [room_a.id]}
    assert [(p["classroom_id"], p["online"]) for p in state["participants"]] == [
        (room.live_class.main_classroom_id, True), (room_a.id, True), (room_b.id, True)]
    assert [h["classroom_id"] for h in state["hands"]] == [room_b.id, room_a.id]
    assert state["material"] == {"resource_id": resource.id, "title": "课件"} and state["page"] == 4
    assert state["poll"]["question"] == "懂了吗" and state["poll"]["totals"] == [20, 5] and state["poll"]["open"]
    assert [m["text"] for m in state["chat"]] == ["第一条", "第二条"]
    assert set(state["chat"][0]) >= {"id", "user_id", "name", "text", "at"}
    assert state["attendance"][0]["present"] == 25
    assert state["timer"]["minutes"] == 15 and state["started_at"] and state["ended_at"] is None
    assert state["seq"] == db.session.query(LiveEvent).count()
    # The state kept in step equals the fold of the stored events (what a restarted server rebuilds).
    row = db.session.get(LiveRoomState, room.id)
    assert R.rebuild_state(room.id) == (row.last_seq, row.state)


def test_a_restarted_server_rebuilds_the_state_from_the_timeline(db, room, console):
    teacher, (first, _), _ = people(room)
    mine = console(teacher)
    mine.join(room)
    mine.send("start")
    mine.send("set_page", {"page": 9})
    console(first).join(room)
    # the state row is lost (or the process that kept it died mid-way): the timeline is enough
    db.session.query(LiveRoomState).delete()
    db.session.commit()
    state = console(first).join(room)["state"]
    assert state["page"] == 9 and state["started_at"]


def test_presence_per_classroom_follows_connections(db, room, console):
    teacher, (first, second), (room_a, room_b) = people(room)
    mine = console(teacher)
    mine.join(room)
    a = console(first)
    a.join(room)
    online = {p["classroom_id"]: p["online"] for p in mine.got("presence")[-1]["participants"]}
    assert online == {room.live_class.main_classroom_id: True, room_a.id: True, room_b.id: False}
    a.socket.disconnect(namespace="/live")
    online = {p["classroom_id"]: p["online"] for p in mine.got("presence")[-1]["participants"]}
    assert online[room_a.id] is False
    # A socket of a process that died leaves its row: it stops counting after the TTL.
    console(second).join(room)
    db.session.query(LiveConnection).filter_by(user_id=second.id).update(
        {"last_seen_at": utcnow() - timedelta(minutes=5)})
    db.session.commit()
    online = {p["classroom_id"]: p["online"] for p in console(teacher).join(room)["state"]["participants"]}
    assert online[room_b.id] is False
    kinds = [k for (k,) in db.session.execute(select(LiveEvent.kind).order_by(LiveEvent.seq))]
    assert kinds == ["joined", "joined", "left", "joined", "joined"]


def test_heartbeat_keeps_presence_and_needs_a_join(db, room, console):
    mine = console(room.live_class.main_teacher)
    assert mine.send("heartbeat")["code"] == "not_joined"
    mine.join(room)
    answer = mine.send("heartbeat")
    assert answer["ok"] and answer["seq"] == 1 and answer["participants"][0]["online"]
    assert mine.send("heartbeat", {"extra": 1})["code"] == "bad_request"
    # Joining again on the same socket (a client re-syncing) answers the state without a new "joined".
    assert mine.join(room)["state"]["seq"] == 1
    assert db.session.query(LiveEvent).count() == 1


def test_joining_another_session_leaves_the_first(make, room, console):
    teacher = room.live_class.main_teacher
    other = make.live_session(teacher=teacher, starts_in=timedelta(days=1))
    mine = console(teacher)
    mine.join(room)
    mine.join(other)
    watcher = console(room.live_class.receiving[0].assistant)
    state = watcher.join(room)["state"]
    assert state["participants"][0]["online"] is False
    assert mine.send("leave")["ok"]
    assert mine.send("chat", {"text": "x"})["code"] == "not_joined"


def test_extra_arguments_are_refused_without_harm(room, console):
    mine = console(room.live_class.main_teacher)
    mine.join(room)
    assert mine.send("chat", {"text": "a"}, {"text": "b"})["code"] == "bad_request"
    assert mine.send("chat", {"text": "still fine"})["ok"]


def test_concurrent_events_get_distinct_consecutive_numbers(app, db, room):
    """Several processes or threads writing to one room at once: every event stored once, no seq
    twice, no gap, and the state row still equals the fold of the timeline."""
    import threading

    from portal.extensions import db as _db

    teacher, assistants, _ = people(room)
    user_ids = [teacher.id] + [a.id for a in assistants]
    session_id = room.id
    errors = []

    def write(user_id: int, n: int):
        with app.app_context():
            try:
                user = _db.session.get(type(teacher), user_id)
                ctx = R.context_for(user, session_id, None)
                for i in range(n):
                    R.append(ctx, "chat", "chat", {"text": f"{user_id}-{i}", "name": user.name}, cid=f"c{i}")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))

    threads = [threading.Thread(target=write, args=(uid, 8)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db.session.commit()  # end this test's read snapshot (SQLite keeps it until then): see what the threads wrote
    seqs = sorted(s for (s,) in db.session.execute(select(LiveEvent.seq)))
    assert seqs == list(range(1, 8 * len(user_ids) + 1))
    row = db.session.get(LiveRoomState, room.id)
    assert R.rebuild_state(room.id) == (row.last_seq, row.state)


def test_an_event_costs_the_same_few_queries_however_many_classrooms(count_queries, make, console):
    def cost(rooms: int) -> tuple[int, int, int]:
        session = make.live_session(rooms=rooms)
        county = session.live_class.main_classroom.school.county
        teacher = console(session.live_class.main_teacher)
        teacher.join(session)
        watcher = console(make.user("researcher", county=county))
        watcher.join(session)
        with count_queries() as heartbeat:
            assert watcher.send("heartbeat")["ok"]
        with count_queries() as chat:
            assert teacher.send("chat", {"text": "同学们好"})["ok"]
        with count_queries() as join:
            assert console(session.live_class.receiving[0].assistant).join(session)["ok"]
        return len(heartbeat), len(chat), len(join)

    small, large = cost(1), cost(6)
    assert small == large
    assert small[0] <= 10 and small[1] <= 12, small


def test_refusals_are_in_the_persons_language(db, make, console):
    session = make.live_session()
    teacher = session.live_class.main_teacher
    chinese = console(teacher)  # token sockets too: the person's own language, not the server's
    chinese.join(session)
    assert chinese.send("set_page", {"page": 0})["error"] == "page 必须是 1 到 5000 之间的整数。"
    teacher.locale = "en"
    db.session.commit()
    english = console(teacher)
    english.join(session)
    assert english.send("set_page", {"page": 0})["error"] == "page must be a whole number from 1 to 5000."
