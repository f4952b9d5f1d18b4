"""Cross-scope attempts on every object with an id that today's features added: a teacher and a
principal of ANOTHER school (same county), and a county bureau and researcher of ANOTHER county,
try to read and to change live classes, sessions, attendance, live rooms and summaries,
observations (drafts, finals, files, amendments, replies, action steps), quota rules, rubric
templates and the supervision dashboard's county lists and school pages. Every attempt must be
refused (403 or 404, or an error ack on the socket) and nothing may change."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.core.models import utcnow
from portal.core.timeutil import local_today, to_local
from portal.live.models import LiveEvent
from portal.observations import services as obs_services
from portal.observations.models import (
    ActionStep,
    Observation,
    ObservationAmendment,
    ObservationAttachment,
    RubricTemplate,
)
from portal.observations.quota_models import QuotaRule
from portal.resources.models import LiveClassResource
from portal.scheduling.attendance import record_attendance
from portal.scheduling.models import LiveClass, LiveSession, SessionAttendance

REFUSED = (403, 404)


@pytest.fixture
def console(db, socket_client):
    """``console(user)``: a /live socket logged in with a fresh API token of that person."""
    from portal.accounts import services
    from tests.live.conftest import Console

    def _console(user):
        token = services.issue_token(user)
        db.session.commit()
        socket = socket_client(namespace="/live", auth={"token": token})
        assert socket.is_connected("/live")
        return Console(socket, user)

    return _console
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class As:
    """A separate browser logged in as one person, with their CSRF token."""

    def __init__(self, app, user):
        self.user = user
        self.client = app.test_client()
        token = self._token("/login")
        response = self.client.post("/login", data={"username": user.username, "password": "Test-pass-2026!",
                                                    "csrf_token": token})
        assert response.status_code == 302, response.data[:300]
        self.csrf = self._token("/observations/new")

    def _token(self, path):
        page = self.client.get(path)
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data)
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1).decode()

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def post(self, path, data=None, **kw):
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kw)

    def post_json(self, path, body):
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.csrf})


@pytest.fixture
def world(db, make):
    county = make.county()
    far = make.county()
    city = make.school("urban", county=county)
    village = make.school("village", county=county)
    neighbour = make.school("urban", county=county)  # another school in the same county
    far_school = make.school("urban", county=far)
    w = {
        "county": county, "far": far, "city": city, "village": village, "neighbour": neighbour,
        "teacher": make.user("teacher", school=city, locale="en"),
        "assistant": make.user("teacher", school=village, locale="en"),
        "principal": make.user("principal", school=city, locale="en"),
        "county_bureau": make.user("bureau", county=county, locale="en"),
        "main_room": make.classroom(city, student_count=40),
        "village_room": make.classroom(village, student_count=20),
        # the outsiders
        "other_teacher": make.user("teacher", school=neighbour, locale="en"),
        "other_principal": make.user("principal", school=neighbour, locale="en"),
        "far_bureau": make.user("bureau", county=far, locale="en"),
        "far_researcher": make.user("researcher", county=far, locale="en"),
        "far_principal": make.user("principal", school=far_school, locale="en"),
    }
    from portal.scheduling.models import ReceivingClassroom

    starts = utcnow() - timedelta(minutes=10)
    live_class = LiveClass(subject="math", grade=3, title="分数的意义", main_teacher=w["teacher"],
                           main_classroom=w["main_room"], first_date=to_local(starts).date(),
                           last_date=to_local(starts).date() + timedelta(days=28),
                           receiving=[ReceivingClassroom(classroom=w["village_room"], assistant=w["assistant"])])
    session = LiveSession(live_class=live_class, starts_at=starts, ends_at=starts + timedelta(minutes=40),
                          status="scheduled", occurrence_date=to_local(starts).date())
    later = LiveSession(live_class=live_class, starts_at=starts + timedelta(days=7),
                        ends_at=starts + timedelta(days=7, minutes=40), status="scheduled",
                        occurrence_date=to_local(starts).date() + timedelta(days=7))
    db.session.add_all([live_class, session, later])
    db.session.commit()
    record_attendance(w["assistant"], session, w["village_room"].id, present=18, class_size=20, feedback="好")
    db.session.commit()
    w.update(live_class=live_class, session=session, later=later)
    from portal.resources import links

    w["resource"] = make.resource(owner=w["teacher"])
    w["spare_resource"] = make.resource(owner=w["teacher"])
    links.attach_resource(w["teacher"], links.LIVE_CLASS, live_class, w["resource"])
    db.session.commit()

    # Observations: a final record with an amendment, a reply and an action step; a draft with a file.
    final = make.observation(w["principal"], w["teacher"], topic="认识钟表", action_steps="板书分区",
                             strengths="节奏好")
    obs_services.amend_observation(w["principal"], final, {"topic": "认识钟表（二）"}, "写错了课题")
    obs_services.reply_to_observation(w["teacher"], final, "谢谢指导")
    draft = make.observation(w["principal"], w["teacher"], final=False, topic="草稿课题")
    attachment = ObservationAttachment(observation=draft, stored_name="0" * 32 + ".png", original_name="board.png",
                                       content_type="image/png", size=len(PNG), uploaded_by_id=w["principal"].id)
    db.session.add(attachment)
    db.session.commit()
    w.update(final=final, draft=draft, attachment=attachment, step=final.action_steps[0],
             amendment=final.amendments[0])
    w["rule"] = make.quota_rule(county=county, required=20)
    w["rubric"] = make.rubric()
    return w


def snapshot(db, w) -> dict:
    """Everything an attempt could change."""
    db.session.expire_all()
    rows = lambda model: sorted(  # noqa: E731
        tuple(getattr(r, c.key) for c in model.__table__.columns if c.key not in ("updated_at",))
        for r in db.session.execute(select(model)).scalars())
    return {
        "classes": rows(LiveClass), "sessions": rows(LiveSession), "attendance": rows(SessionAttendance),
        "observations": rows(Observation), "files": rows(ObservationAttachment),
        "amendments": rows(ObservationAmendment), "steps": rows(ActionStep), "rules": rows(QuotaRule),
        "rubrics": rows(RubricTemplate), "links": rows(LiveClassResource),
        "events": db.session.execute(select(func.count()).select_from(LiveEvent)).scalar_one(),
    }


OUTSIDERS = ["other_teacher", "other_principal", "far_bureau", "far_researcher", "far_principal"]


def reads(w) -> list[str]:
    s, c, o, d = w["session"].id, w["live_class"].id, w["final"].id, w["draft"].id
    return [
        f"/live-classes/{c}", f"/live-classes/{c}/change", f"/live-sessions/{s}", f"/live-sessions/{s}/room",
        f"/live-sessions/{s}/summary", f"/live-sessions/{s}/summary.xlsx", f"/api/v1/live-sessions/{s}/summary",
        f"/observations/{o}", f"/observations/{o}/amend", f"/observations/{d}", f"/observations/{d}/edit",
        f"/observations/files/{w['attachment'].id}", f"/observations/quota/rules/{w['rule'].id}/edit",
        f"/timetable/teachers/{w['teacher'].id}", f"/timetable/classrooms/{w['main_room'].id}",
        f"/timetable/schools/{w['city'].id}", f"/timetable/schools/{w['city'].id}/term",
        f"/timetable/schools/{w['city'].id}/term.xlsx",
        f"/supervision/schools/{w['city'].id}", f"/supervision/schools/{w['village'].id}",
        f"/supervision/dashboard?county={w['county'].id}",
        f"/supervision/dashboard/lists/sessions?county={w['county'].id}",
        f"/supervision/dashboard/lists/quota?county={w['county'].id}",
        f"/supervision/dashboard/lists/sessions/export.xlsx?county={w['county'].id}",
        f"/observations/quota?county={w['county'].id}", f"/observations/quota?school={w['city'].id}",
        f"/observations/quota/export.xlsx?county={w['county'].id}",
        f"/observations/quota/export.xlsx?school={w['city'].id}",
        f"/api/v1/observations/progress?observer_id={w['principal'].id}",
        f"/observations/new?live_session_id={s}",
    ]


def writes(w) -> list[tuple[str, dict]]:
    s, c, o, d = w["session"].id, w["live_class"].id, w["final"].id, w["draft"].id
    day = (local_today() + timedelta(days=3)).isoformat()
    return [
        (f"/live-classes/{c}/change", {"from_date": day, "weekday-0": "2", "start-0": "10:00", "end-0": "10:40"}),
        (f"/live-classes/{c}/sessions", {"day": day, "start": "14:00", "end": "14:40"}),
        (f"/live-classes/{c}/resources", {"resource_id": str(w["spare_resource"].id)}),
        (f"/live-classes/{c}/resources/{w['resource'].id}/remove", {}),
        (f"/live-sessions/{w['later'].id}/cancel", {"reason": "停电"}),
        (f"/live-sessions/{w['later'].id}/move", {"day": day, "start": "15:00", "end": "15:40"}),
        (f"/live-sessions/{s}/restore", {}),
        (f"/live-sessions/{s}/attendance", {"classroom_id": str(w["village_room"].id), "present": "1",
                                            "class_size": "20", "feedback": "改了"}),
        (f"/observations/{o}/amend", {"topic": "改掉", "reason": "别人改的"}),
        (f"/observations/{o}/acknowledge", {}),
        (f"/observations/{o}/reply", {"reply": "冒名回复"}),
        (f"/observations/{d}/edit", {"topic": "改掉", "action": "save"}),
        (f"/observations/drafts/{d}/delete", {}),
        (f"/observations/{d}/attachments", {"file": (io.BytesIO(PNG), "x.png")}),
        (f"/observations/files/{w['attachment'].id}/delete", {}),
        (f"/observations/drafts/{d}/steps/{w['step'].id}", {"status": "met"}),
        (f"/observations/quota/rules/{w['rule'].id}/edit", {"role": "principal", "period": "school_year",
                                                            "required": "1", "county": str(w["county"].id)}),
        (f"/observations/quota/rules/{w['rule'].id}/active", {"active": "0"}),
        ("/observations/new", {"live_session_id": str(s), "observed_teacher_id": str(w["teacher"].id),
                               "school_id": str(w["city"].id), "observed_on": local_today().isoformat(),
                               "periods": "1", "subject": "math", "topic": "冒名", "action": "save"}),
    ]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_cannot_read_objects_of_another_school_or_county(app, db, world, who):
    user = As(app, world[who])
    for path in reads(world):
        if who == "other_principal" and "quota" in path and "?county=" in path:
            continue  # their own county: the list is held to their own school (asserted elsewhere)
        response = user.get(path)
        assert response.status_code in REFUSED, (who, path, response.status_code)
        body = response.get_data(as_text=True)
        for secret in ("认识钟表", "草稿课题", "谢谢指导", "板书分区"):
            assert secret not in body, (who, path, secret)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_cannot_change_objects_of_another_school_or_county(app, db, make, world, who):
    user = As(app, world[who])
    before = snapshot(db, world)
    assert before["links"] and before["attendance"] and before["amendments"] and before["files"]
    for path, data in writes(world):
        response = user.post(path, data, content_type="multipart/form-data")
        assert response.status_code in REFUSED, (who, path, response.status_code, response.data[:300])
    # the autosave with another person's draft id, and the API progress with another person's id
    response = user.post_json("/observations/autosave", {"id": world["draft"].id, "topic": "改掉"})
    assert response.status_code in REFUSED
    assert snapshot(db, world) == before


@pytest.mark.parametrize("who", ["other_teacher", "other_principal"])
def test_rubric_templates_are_kept_by_the_bureau_only(app, db, world, who):
    user = As(app, world[who])
    before = snapshot(db, world)
    assert user.get(f"/observations/rubrics/{world['rubric'].id}/edit").status_code == 403
    response = user.post(f"/observations/rubrics/{world['rubric'].id}/edit", {"name": "改掉", "description": ""})
    assert response.status_code == 403
    assert snapshot(db, world) == before


def test_the_register_of_another_county_holds_none_of_its_records(app, db, world):
    for who in ("other_teacher", "other_principal", "far_bureau"):
        user = As(app, world[who])
        response = user.get(f"/observations/register.xlsx?school={world['city'].id}")
        if response.status_code in REFUSED:
            continue
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.data)).active
        cells = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)
        assert "认识钟表" not in cells and "节奏好" not in cells, who


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_cannot_join_or_drive_the_live_room(db, world, console, who):
    before = snapshot(db, world)
    person = console(world[who])
    ack = person.join(world["session"])
    assert ack["ok"] is False and ack["code"] in ("forbidden", "not_found"), ack
    for event, payload in [("chat", {"text": "冒名"}), ("start", {}), ("end", {}), ("set_page", {"page": 2}),
                           ("check_in", {"present": 1, "class_size": 20}),
                           ("answer_poll", {"poll_id": 1, "counts": [1, 2]})]:
        ack = person.send(event, payload)
        assert ack["ok"] is False, (event, ack)
    assert person.got("chat") == []
    assert snapshot(db, world) == before


def test_the_people_of_the_class_still_get_in(app, db, world):
    """The same routes answer 200 for the people concerned: the refusals above are not an accident."""
    principal = As(app, world["principal"])
    for path in (f"/live-classes/{world['live_class'].id}", f"/live-sessions/{world['session'].id}",
                 f"/live-sessions/{world['session'].id}/summary", f"/observations/{world['final'].id}",
                 f"/observations/{world['draft'].id}/edit", f"/supervision/schools/{world['city'].id}",
                 f"/observations/quota?school={world['city'].id}"):
        assert principal.get(path).status_code == 200, path
    teacher = As(app, world["teacher"])
    assert teacher.get(f"/observations/{world['final'].id}").status_code == 200
    assert teacher.get(f"/live-sessions/{world['session'].id}/room").status_code == 200


def _new_class(w, main_teacher, receiving_room, assistant) -> dict:
    day = local_today() + timedelta(days=14)
    return {"subject": "math", "grade": 3, "main_teacher_id": main_teacher.id,
            "main_classroom_id": w["main_room"].id, "first_date": day.isoformat(),
            "last_date": (day + timedelta(days=6)).isoformat(), "weekday": day.isoweekday(),
            "start_time": "16:00", "end_time": "16:40",
            "receiving": [{"classroom_id": receiving_room.id, "assistant_id": assistant.id}]}


def test_a_class_cannot_take_people_or_rooms_of_another_school_or_county(app, db, make, world):
    """The forms offer a principal their own school's teachers as main teacher, and everyone their
    county's receiving classrooms; the service (and so the API) holds to the same."""
    far_room = make.classroom(world["far_principal"].school, student_count=30)
    far_teacher = make.user("teacher", school=world["far_principal"].school)
    principal, county_bureau = As(app, world["principal"]), As(app, world["county_bureau"])
    before = snapshot(db, world)
    attempts = [
        (principal, _new_class(world, world["other_teacher"], world["village_room"], world["assistant"])),
        (principal, _new_class(world, world["teacher"], far_room, far_teacher)),
        (county_bureau, _new_class(world, far_teacher, world["village_room"], world["assistant"])),
        (county_bureau, _new_class(world, world["teacher"], far_room, far_teacher)),
    ]
    for user, body in attempts:
        response = user.post_json("/api/v1/live-classes", body)
        assert response.status_code == 403, response.json
    assert snapshot(db, world) == before
    # within scope it works: the refusals above are about scope, not about the body
    response = principal.post_json("/api/v1/live-classes",
                                   _new_class(world, world["teacher"], world["village_room"], world["assistant"]))
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("who", OUTSIDERS)
def test_lists_and_feeds_of_outsiders_do_not_show_the_objects(app, db, world, who):
    user = As(app, world[who])
    for path in ("/", "/observations?scope=all", "/observations?scope=all&status=final", "/observations/of-me",
                 "/live-classes?state=all", "/live-classes?q=分数", "/timetable", "/observations/new"):
        body = user.get(path).get_data(as_text=True)
        assert "认识钟表" not in body and "草稿课题" not in body and "分数的意义" not in body, (who, path)
    response = user.get("/api/v1/live-sessions?from=2000-01-01&to=2100-01-01")
    assert response.status_code == 200
    assert world["session"].id not in [s["id"] for s in response.json["items"]]
    teachers = user.get(f"/observations/teachers?school_id={world['city'].id}")
    if who.startswith("far_"):  # another county's people are not offered
        assert teachers.json == {"teachers": [], "classrooms": []}


@pytest.mark.parametrize("who", OUTSIDERS)
def test_the_register_does_not_name_people_one_may_not_follow(app, db, world, who):
    user = As(app, world[who])
    response = user.get(f"/observations/register.xlsx?observer_id={world['principal'].id}")
    assert response.status_code == 404
    assert world["principal"].name not in response.get_data(as_text=True)


def test_the_register_of_a_person_still_opens_for_their_principal(app, db, make, world):
    response = As(app, world["principal"]).get(f"/observations/register.xlsx?observer_id={world['teacher'].id}")
    assert response.status_code == 200
    response = As(app, world["county_bureau"]).get(f"/observations/register.xlsx?observer_id={world['principal'].id}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert world["principal"].name in str(sheet["A2"].value)


def test_a_county_bureau_keeps_its_own_county_rules_only(app, db, make, world):
    city_rule = make.quota_rule(role="teacher", county=None, required=10)
    user = As(app, world["county_bureau"])
    before = snapshot(db, world)
    assert user.get(f"/observations/quota/rules/{city_rule.id}/edit").status_code == 403
    assert user.post(f"/observations/quota/rules/{city_rule.id}/edit", {
        "role": "teacher", "period": "school_year", "required": "1", "county": str(world["county"].id)}
    ).status_code == 403
    assert user.post(f"/observations/quota/rules/{city_rule.id}/active", {"active": "0"}).status_code == 403
    for county in ("0", "", str(world["far"].id)):  # the whole city, nothing, another county
        response = user.post("/observations/quota/rules/new", {"role": "researcher", "period": "school_year",
                                                               "required": "5", "county": county})
        assert response.status_code in (400, 403, 422), (county, response.status_code)
    assert snapshot(db, world) == before
