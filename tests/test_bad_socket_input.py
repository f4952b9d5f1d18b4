"""Hostile values in every field of every live-room event a client may send, generated like the form
and JSON variants of tests/test_bad_input.py: each event is first sent with a valid payload (so the
field checks are really reached), then each field in turn gets every hostile value. The answer is
always an ack: accepted, or refused with a code other than ``server_error``; a refusal stores no event."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import limiter
from portal.live import protocol as P
from portal.live.models import LiveEvent

from .test_bad_input import JSON_VARIANTS, Raw
from .test_cross_scope import console, world  # noqa: F401  (fixtures)

COUNTED = {"emits": 0}


def _plain(value):
    """Socket payloads are Python objects: Raw JSON texts become what a client's JSON would decode to."""
    if isinstance(value, Raw):
        return {"1e309": float("inf"), "NaN": float("nan"), '"\\ud800"': "\ud800"}.get(value.json_text, value.json_text)
    return value


# (event, who sends it, a valid payload); {room} is the assistant's classroom, {resource} a resource of the class
EVENTS = [
    (P.JOIN, "teacher", {"session_id": "{session}", "last_seq": 0}),
    (P.CHAT, "teacher", {"text": "大家好", "cid": "c-1"}),
    (P.SET_MATERIAL, "teacher", {"resource_id": "{resource}", "page": 1}),
    (P.SET_PAGE, "teacher", {"page": 2}),
    (P.OPEN_POLL, "teacher", {"question": "选哪个？", "options": ["甲", "乙"]}),
    (P.START_TIMER, "teacher", {"minutes": 5}),
    (P.RAISE_HAND, "assistant", {"classroom_id": "{room}"}),
    (P.LOWER_HAND, "assistant", {"classroom_id": "{room}"}),
    (P.ANSWER_HAND, "teacher", {"classroom_id": "{room}"}),
    (P.CHECK_IN, "assistant", {"present": 18, "class_size": 20, "feedback": "清楚", "classroom_id": "{room}"}),
    (P.ANSWER_POLL, "assistant", {"poll_id": "{poll}", "counts": [10, 8], "classroom_id": "{room}"}),
    (P.CLOSE_POLL, "teacher", {"poll_id": "{poll}"}),
    (P.LEAVE, "teacher", {"session_id": "{session}"}),
]
CHECKED = {name for name, _who, _payload in EVENTS}


def test_every_client_event_has_a_row():
    assert sorted(set(P.C2S_FIELDS) - {P.HEARTBEAT, P.START, P.END, P.STOP_TIMER} - CHECKED) == [], \
        "live events with fields but no row in tests/test_bad_socket_input.py EVENTS"


def _events(db) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(LiveEvent)).scalar_one()


@pytest.mark.parametrize("event,who,valid", EVENTS, ids=[e[0] for e in EVENTS])
def test_hostile_values_in_each_field_of_each_event(db, world, console, event, who, valid):  # noqa: F811
    limiter.enabled = False  # the per-event rate limit has its own tests; here the checks must answer
    try:
        people = {"teacher": console(world["teacher"]), "assistant": console(world["assistant"])}
        for side in people.values():
            assert side.join(world["session"])["ok"] is True
        started = people["teacher"].send(P.START, {})
        assert started["ok"] is True, started  # polls and hands need a lesson under way
        names = {"session": world["session"].id, "room": world["village_room"].id, "resource": world["resource"].id}
        if event in (P.ANSWER_POLL, P.CLOSE_POLL):
            opened = people["teacher"].send(P.OPEN_POLL, {"question": "选哪个？", "options": ["甲", "乙"]})
            assert opened["ok"] is True, opened
            names["poll"] = opened["event"]["poll"]["id"] if "poll" in opened["event"] else opened["seq"]
        if event in (P.LOWER_HAND, P.ANSWER_HAND):
            assert people["assistant"].send(P.RAISE_HAND, {})["ok"] is True
        payload = {k: names[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v for k, v in valid.items()}
        sender = people[who]
        wrong = []
        for field in payload:
            for label, value in [*JSON_VARIANTS.items(), ("missing", None)]:
                hostile = {k: v for k, v in payload.items() if k != field}
                if label != "missing":
                    hostile[field] = _plain(value)
                before = _events(db)
                ack = sender.send(event, hostile)
                COUNTED["emits"] += 1
                if not isinstance(ack, dict) or "ok" not in ack:
                    wrong.append(f"{event} {field}={label}: no ack ({ack!r})"[:200])
                elif ack["ok"] is False:
                    if ack.get("code") == P.E_SERVER or not (ack.get("error") or ack.get("message")):
                        wrong.append(f"{event} {field}={label}: {ack}"[:300])
                    elif _events(db) != before:
                        wrong.append(f"{event} {field}={label}: refused but an event was stored")
                if event == P.LEAVE or (event == P.JOIN and ack and ack.get("ok") is False):
                    assert sender.join(world["session"])["ok"] is True  # back in, for the next value
        for name in ("unknown", "nested"):
            extra = {**payload, "author_id": 1} if name == "unknown" else {**payload, "x": [[[[[]]]]]}
            ack = sender.send(event, extra)
            COUNTED["emits"] += 1
            if not (isinstance(ack, dict) and ack.get("ok") is False and ack.get("code") != P.E_SERVER):
                wrong.append(f"{event} {name} field: {ack}"[:300])
        for odd in (None, [], "text", 5, [payload]):
            ack = sender.send(event, odd)
            COUNTED["emits"] += 1
            if not isinstance(ack, dict) or ack.get("code") == P.E_SERVER:
                wrong.append(f"{event} payload {odd!r}: {ack}"[:300])
        assert not wrong, "\n".join(wrong[:50])
    finally:
        limiter.enabled = True
