"""Hostile input on today's new forms, pages, JSON endpoints and socket events: over-long
strings, NUL bytes, 20-digit and full-width ids, wrong JSON types, huge paging. Each must be
answered with a 4xx (or an error ack), never a 500, and must store nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.live.models import LiveEvent
from portal.observations.models import Observation
from portal.observations.quota_models import QuotaRule
from portal.scheduling.models import LiveClass, LiveSession, SessionAttendance
from tests.test_cross_scope import As, console, world  # noqa: F401  (fixtures)

BIG = "99999999999999999999"
WIDE = "１"  # a full-width digit one
LONG = "教" * 5000
NUL = "课\x00题"


def _fill(template: str, w) -> str:
    return template.format(
        s=w["session"].id, c=w["live_class"].id, o=w["final"].id, d=w["draft"].id, r=w["rule"].id,
        t=w["rubric"].id, school=w["city"].id, room=w["village_room"].id, teacher=w["teacher"].id,
        county=w["county"].id, step=w["step"].id)


# (who, path, query) — GET pages and APIs
GETS = [
    ("principal", "/observations/teachers?school_id=" + BIG),
    ("principal", "/observations/teachers?school_id=" + WIDE),
    ("principal", "/observations/new?live_session_id=" + BIG),
    ("principal", "/observations?year=" + BIG + "&page=" + BIG + "&per_page=" + BIG),
    ("principal", "/observations/quota?school=" + BIG),
    ("principal", "/observations/quota?year=" + WIDE + "０２６"),
    ("principal", "/observations/quota/export.xlsx?year=-1"),
    ("principal", "/observations/register.xlsx?observer_id=" + BIG),
    ("principal", "/observations/register.xlsx?year=" + WIDE),
    ("principal", "/api/v1/observations/progress?observer_id=" + BIG),
    ("principal", "/api/v1/observations/progress?school_year=%00"),
    ("principal", "/live-classes?q=" + "%00" * 3 + "&page=-5&per_page=1000000000&subject=%00"),
    ("principal", "/live-classes/" + BIG),
    ("principal", "/live-sessions/" + WIDE),
    ("principal", "/timetable?week=2026-02-30"),
    ("principal", "/timetable?week=%00"),
    ("principal", "/timetable/schools/{school}/term?term=" + BIG),
    ("principal", "/api/v1/live-sessions?from=notadate&teacher_id=" + BIG + "&per_page=" + BIG),
    ("principal", "/api/v1/live-sessions/" + BIG + "/summary"),
    ("principal", "/supervision/schools/{school}?year=" + BIG),
    ("principal", "/supervision/schools/{school}?semester=%00"),
    ("county_bureau", "/supervision/dashboard?county=" + BIG),
    ("county_bureau", "/supervision/dashboard?county=" + WIDE),
    ("county_bureau", "/supervision/dashboard?year=" + BIG),
    ("county_bureau", "/supervision/dashboard/lists/nope"),
    ("county_bureau", "/supervision/dashboard/lists/sessions?status=%00&subject=" + LONG[:300]),
    ("county_bureau", "/supervision/dashboard/lists/quota?page=" + BIG + "&per_page=" + BIG),
    ("county_bureau", "/observations/quota?county=" + BIG + "&page=-5&per_page=1000000000"),
    ("county_bureau", "/observations/quota/rules/" + BIG + "/edit"),
    ("county_bureau", "/observations/rubrics/" + BIG),
]


@pytest.mark.parametrize("who,path", GETS)
def test_bad_query_input_is_a_4xx(app, world, who, path):  # noqa: F811
    response = As(app, world[who]).get(_fill(path, world))
    assert response.status_code < 500, (path, response.status_code)


# (who, path, form) — POST forms
POSTS = [
    ("principal", "/observations/new", {"observed_teacher_id": BIG, "school_id": WIDE, "observed_on": "2026-02-30",
                                        "periods": BIG, "subject": NUL, "topic": LONG, "action": "save"}),
    ("principal", "/observations/new", {"observed_teacher_id": "{teacher}", "observed_on": "2026-09-01",
                                        "periods": "1", "subject": "math", "topic": NUL, "strengths": NUL,
                                        "record_html": "<p>" * 30000, "client_key": NUL, "action": "save"}),
    ("principal", "/observations/{d}/edit", {"observed_teacher_id": "{teacher}", "observed_on": "2026-09-01",
                                             "periods": WIDE, "subject": "math", "topic": LONG,
                                             "classroom_id": BIG, "live_session_id": BIG, "action": "save"}),
    ("principal", "/observations/{o}/amend", {"topic": NUL, "reason": LONG}),
    ("principal", "/observations/{o}/amend", {"periods": BIG, "reason": NUL}),
    ("teacher", "/observations/{o}/reply", {"reply": LONG}),
    ("teacher", "/observations/{o}/reply", {"reply": "\x00"}),
    ("principal", "/observations/drafts/{d}/steps/{step}", {"status": NUL}),
    ("county_bureau", "/observations/quota/rules/new", {"role": NUL, "period": "x", "required": BIG,
                                                        "county": WIDE, "name": LONG}),
    ("county_bureau", "/observations/quota/rules/{r}/edit", {"role": "principal", "period": "school_year",
                                                             "required": "-1", "county": BIG, "name": NUL}),
    ("county_bureau", "/observations/rubrics/{t}/edit", {"name": LONG, "description": NUL,
                                                         "code-0": NUL, "label-0": LONG, "weight-0": BIG}),
    ("teacher", "/live-classes/new", {"subject": NUL, "grade": BIG, "title": LONG, "main_classroom": WIDE,
                                      "first_date": "2026-13-01", "last_date": NUL}),
    ("teacher", "/live-classes/{c}/change", {"from_date": NUL, "start-0": "25:99", "weekday-0": BIG}),
    ("teacher", "/live-classes/{c}/sessions", {"day": "2026-02-30", "start": NUL, "end": LONG}),
    ("teacher", "/live-classes/{c}/resources", {"resource_id": BIG}),
    ("teacher", "/live-classes/{c}/resources", {"resource_id": WIDE}),
    ("teacher", "/live-sessions/{s}/move", {"day": NUL, "start": BIG, "end": WIDE}),
    ("teacher", "/live-sessions/{s}/cancel", {"reason": LONG}),
    ("assistant", "/live-sessions/{s}/attendance", {"classroom_id": BIG, "present": "1", "class_size": "2"}),
    ("assistant", "/live-sessions/{s}/attendance", {"classroom_id": WIDE, "present": "1", "class_size": "2"}),
    ("assistant", "/live-sessions/{s}/attendance", {"classroom_id": "{room}", "present": BIG, "class_size": WIDE,
                                                    "feedback": NUL}),
    ("assistant", "/live-sessions/{s}/attendance", {"classroom_id": "{room}", "present": "1", "class_size": "20",
                                                    "feedback": LONG}),
]


def _counts(db) -> tuple:
    db.session.expire_all()
    count = lambda model: db.session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
    rows = db.session.execute(select(SessionAttendance.present, SessionAttendance.feedback)).all()
    topics = db.session.execute(select(Observation.topic, Observation.teacher_reply).order_by(Observation.id)).all()
    return (count(Observation), count(LiveClass), count(LiveSession), count(QuotaRule), rows, topics,
            db.session.execute(select(QuotaRule.required, QuotaRule.active)).all())


@pytest.mark.parametrize("who,path,form", POSTS)
def test_bad_form_input_is_a_4xx_and_stores_nothing(app, db, world, who, path, form):  # noqa: F811
    user = As(app, world[who])
    before = _counts(db)
    response = user.post(_fill(path, world), {k: _fill(v, world) if "{" in v else v for k, v in form.items()})
    assert 400 <= response.status_code < 500, (path, response.status_code, response.data[:300])
    assert _counts(db) == before


JSON_BODIES = [
    ("/observations/autosave", []),
    ("/observations/autosave", "text"),
    ("/observations/autosave", {"id": "1"}),
    ("/observations/autosave", {"id": int(BIG)}),
    ("/observations/autosave", {"id": True}),
    ("/observations/autosave", {"client_key": "a" * 32, "observed_teacher_id": int(BIG)}),
    ("/observations/autosave", {"client_key": "c" * 32, "observed_teacher_id": "{teacher}", "topic": ["x"],
                                "observed_on": 20260901, "periods": 1.5, "subject": {"a": 1}, "scores": "x"}),
    ("/observations/autosave", {"client_key": "d" * 32, "observed_teacher_id": "{teacher}", "topic": "x",
                                "observed_on": "2026-09-01", "periods": 1, "subject": "math",
                                "action_steps": [NUL, LONG], "record_html": 5}),
    ("/api/v1/observations", {"observed_teacher_id": "{teacher}", "date": "2026-09-01", "periods": int(BIG),
                              "subject": "math", "topic": "x"}),
    ("/api/v1/observations", {"observed_teacher_id": "{teacher}", "date": "2026-09-01", "periods": 1,
                              "subject": "math", "topic": NUL, "notes": LONG * 100}),
    ("/api/v1/observations", {"observed_teacher_id": "{teacher}", "date": "2026-09-01", "periods": 1,
                              "subject": "math", "topic": "x", "scores": {"objectives": "5", NUL: 1}}),
    ("/api/v1/observations", {"observed_teacher_id": "{teacher}", "date": "2026-09-01", "periods": 1,
                              "subject": "math", "topic": "x", "live_session_id": int(BIG)}),
    ("/api/v1/live-classes", {"subject": NUL, "grade": "3", "main_classroom_id": int(BIG), "slots": "x"}),
    ("/api/v1/live-classes", {"subject": "math", "grade": 3, "main_classroom_id": [1], "slots": [{"weekday": BIG}]}),
]


def _fill_json(value, w):
    if isinstance(value, dict):
        return {k: _fill_json(v, w) for k, v in value.items()}
    if isinstance(value, str) and value == "{teacher}":
        return w["teacher"].id
    return value


@pytest.mark.parametrize("path,body", JSON_BODIES)
def test_bad_json_is_a_4xx_and_stores_nothing(app, db, world, path, body):  # noqa: F811
    user = As(app, world["principal"])
    before = _counts(db)
    response = user.post_json(path, _fill_json(body, world))
    assert 400 <= response.status_code < 500, (path, body if len(str(body)) < 200 else "…", response.status_code,
                                               response.data[:300])
    assert response.is_json and "error" in response.json
    assert _counts(db) == before


SOCKET = [
    ("join", {"session_id": "1"}), ("join", {"session_id": int(BIG)}), ("join", {"session_id": 1.0}),
    ("join", ["x"]), ("join", "x"), ("join", {"session_id": 1, "evil": 1}),
    ("chat", {"text": "\x00"}), ("chat", {"text": LONG}), ("chat", {"text": ["x"]}), ("chat", {"text": "\ud800"}),
    ("set_page", {"page": int(BIG)}), ("set_material", {"resource_id": -1}),
    ("open_poll", {"question": "q", "options": "ab"}), ("open_poll", {"question": "q", "options": [1, 2]}),
    ("start_timer", {"minutes": 1e400}), ("check_in", {"present": "3", "class_size": 20}),
]


@pytest.mark.parametrize("event,payload", SOCKET)
def test_bad_socket_payloads_get_an_error_ack(db, world, console, event, payload):  # noqa: F811
    teacher = console(world["teacher"])
    if event != "join":
        assert teacher.join(world["session"])["ok"] is True
    events = db.session.execute(select(func.count()).select_from(LiveEvent)).scalar_one()
    ack = teacher.send(event, payload)
    assert ack["ok"] is False and ack["code"] != "server_error", ack
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(LiveEvent)).scalar_one() == events


def test_nul_bytes_in_saved_text_are_removed_not_stored(app, db, world, console):  # noqa: F811
    """Text with NUL (which PostgreSQL cannot store) is kept without it: a draft typed with one, a
    reply, a chat line."""
    user = As(app, world["principal"])
    body = {"client_key": "e" * 32, "observed_teacher_id": world["teacher"].id, "observed_on": "2026-09-01",
            "periods": 1, "subject": "math", "topic": NUL, "strengths": "好\x00", "action_steps": ["步\x00骤"]}
    response = user.post_json("/observations/autosave", body)
    assert response.status_code == 200, response.data[:300]
    saved = db.session.get(Observation, response.json["id"])
    assert (saved.topic, saved.strengths, [s.text for s in saved.action_steps]) == ("课题", "好", ["步骤"])
    teacher = As(app, world["teacher"])
    assert teacher.post(f"/observations/{world['final'].id}/reply", {"reply": "谢\x00谢"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Observation, world["final"].id).teacher_reply == "谢谢"
    room = console(world["teacher"])
    assert room.join(world["session"])["ok"] is True
    ack = room.send("chat", {"text": "你\x00好"})
    assert ack["ok"] is True and ack["event"]["text"] == "你好"


def test_a_refused_reply_keeps_the_text_and_says_why(app, db, world):  # noqa: F811
    teacher = As(app, world["teacher"])
    response = teacher.post(f"/observations/{world['final'].id}/reply", {"reply": "长" * 5000})
    assert response.status_code in (400, 422)
    page = response.get_data(as_text=True)
    assert "too long" in page and "长" * 5000 in page
    db.session.expire_all()
    assert db.session.get(Observation, world["final"].id).teacher_reply == "谢谢指导"


CSRF_POSTS = [
    ("principal", "/observations/{d}/edit", {"topic": "x", "action": "save"}),
    ("principal", "/observations/drafts/{d}/delete", {}),
    ("principal", "/observations/{o}/amend", {"topic": "改掉", "reason": "理由理由"}),
    ("teacher", "/observations/{o}/reply", {"reply": "伪造"}),
    ("teacher", "/live-sessions/{s}/restore", {}),
    ("teacher", "/live-classes/{c}/resources/0/remove", {}),
    ("assistant", "/live-sessions/{s}/attendance", {"classroom_id": "{room}", "present": "1", "class_size": "20"}),
    ("county_bureau", "/observations/quota/rules/{r}/active", {"active": "0"}),
]


@pytest.mark.parametrize("who,path,form", CSRF_POSTS)
def test_forms_without_the_csrf_token_change_nothing(app, db, world, who, path, form):  # noqa: F811
    user = As(app, world[who])
    before = _counts(db)
    data = {k: _fill(v, world) for k, v in form.items()}
    response = user.client.post(_fill(path, world).replace("/0/", f"/{world['resource'].id}/"), data=data)
    assert response.status_code == 400, (path, response.status_code)
    assert _counts(db) == before


def test_autosave_and_json_api_need_the_csrf_header_with_a_cookie_login(app, db, world):  # noqa: F811
    user = As(app, world["principal"])
    before = _counts(db)
    body = {"id": world["draft"].id, "observed_teacher_id": world["teacher"].id, "observed_on": "2026-09-01",
            "periods": 1, "subject": "math", "topic": "伪造"}
    assert user.client.post("/observations/autosave", json=body).status_code == 400
    assert user.client.post("/api/v1/observations", json={**body, "date": "2026-09-01"}).status_code == 400
    assert _counts(db) == before


@pytest.mark.parametrize("name,content", [
    ("board.png", b"<html><script>alert(1)</script></html>"),
    ("board.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("plan.html", b"<p>x</p>"),
    ("a" * 300 + ".pdf", b"%PDF-1.4 x"[:4]),
    ("plan.docm", b"PK\x03\x04"),
])
def test_active_or_disguised_files_are_refused_on_observations(app, db, world, name, content):  # noqa: F811
    import io

    from portal.observations.models import ObservationAttachment

    user = As(app, world["principal"])
    count = db.session.execute(select(func.count()).select_from(ObservationAttachment)).scalar_one()
    response = user.client.post(f"/observations/{world['draft'].id}/attachments",
                                data={"csrf_token": user.csrf, "file": (io.BytesIO(content), name)},
                                headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert 400 <= response.status_code < 500, response.data[:300]
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(ObservationAttachment)).scalar_one() == count


XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_stored_text_never_runs_in_the_page_nor_as_a_spreadsheet_formula(app, db, make, world):  # noqa: F811
    import io

    from openpyxl import load_workbook

    record = make.observation(world["principal"], world["teacher"], topic="=HYPERLINK(\"http://e.example\",\"x\")",
                              strengths=XSS, record_html=XSS + '<a href="javascript:alert(3)">x</a>')
    world["live_class"].title = XSS
    db.session.commit()
    principal = As(app, world["principal"])
    for path in (f"/observations/{record.id}", f"/live-classes/{world['live_class'].id}",
                 f"/live-sessions/{world['session'].id}", f"/live-sessions/{world['session'].id}/summary",
                 "/live-classes?state=all", "/observations"):
        body = principal.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and not re.search(r"<[a-z]+[^>]*\sonerror=", body), path
        assert not re.search(r"href=[\"']?javascript:", body), path
    response = principal.get(f"/observations/register.xlsx?observer_id={world['principal'].id}")
    sheet = load_workbook(io.BytesIO(response.data)).active
    topics = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str) and "HYPERLINK" in c]
    assert topics and all(t.startswith("'=") for t in topics)
    response = principal.get(f"/live-sessions/{world['session'].id}/summary.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    cells = [c for s in book.worksheets for row in s.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


def test_autosave_retries_a_clashing_insert_once_not_until_recursion(app, db, world, monkeypatch):  # noqa: F811
    from sqlalchemy.exc import IntegrityError

    from portal.observations import services

    calls = []

    def clash(*args, **kwargs):
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("unique"))

    monkeypatch.setattr(services, "update_draft", clash)
    user = As(app, world["principal"])
    world_draft = world["draft"]
    world_draft.client_key = "f" * 32
    db.session.commit()
    response = user.post_json("/observations/autosave", {"client_key": "f" * 32, "topic": "x"})
    assert response.status_code == 500 and len(calls) == 2  # one retry, then the error page
