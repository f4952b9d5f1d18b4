"""Observation pages, the autosave endpoint, files and the API."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Notification
from portal.core.timeutil import local_today
from portal.observations.models import Observation, ObservationAmendment, ObservationAttachment, RubricTemplate

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def people(make):
    county = make.county()
    school = make.school(county=county)
    return {
        "principal": make.user("principal", school=school, locale="en"),
        "teacher": make.user("teacher", school=school, locale="en"),
        "colleague": make.user("teacher", school=school, locale="en"),
        "other_principal": make.user("principal", county=make.county(), locale="en"),
        "bureau": make.user("bureau", county=county, locale="en"),
        "school": school,
    }


def _form(people, **over):
    data = {"school_id": people["school"].id, "observed_teacher_id": people["teacher"].id,
            "observed_on": local_today().isoformat(), "periods": "1", "subject": "math", "topic": "认识钟表",
            "kind": "drop_in", "record_html": "[10:05] 导入：钟表图片", "strengths": "节奏好",
            "suggestions": "多让学生说", "action_steps": "每节课五名学生发言", "grade": "good",
            "private_notes": "私人备注", "score-objectives": "4", "score-effect": "5", "action": "save"}
    data.update(over)
    return data


def test_new_form_and_finalise(db, client, auth, login_as, people):
    login_as(people["principal"])
    page = client.get("/observations/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "教学目标" in text and "课程思政" in text and people["teacher"].name in text
    response = auth.post("/observations/new", _form(people, action="finalize"), csrf_from="/observations/new")
    assert response.status_code == 302
    record = db.session.execute(select(Observation)).scalar_one()
    assert record.status == "final" and record.periods == 1 and record.scores == {"objectives": 4, "effect": 5}
    assert record.private_notes == "私人备注" and [s.text for s in record.action_steps] == ["每节课五名学生发言"]
    assert response.headers["Location"].endswith(f"/observations/{record.id}")
    assert db.session.execute(select(Notification).where(Notification.user_id == people["teacher"].id)).scalar_one()


@pytest.mark.parametrize("over, message", [
    ({"periods": "0"}, "Periods must be a whole number from 1 to 4"),
    ({"periods": "-1"}, "Periods must be a whole number from 1 to 4"),
    ({"periods": "20"}, "Periods must be a whole number from 1 to 4"),
    ({"observed_on": "tomorrow"}, "cannot be in the future"),
    ({"observed_on": "2026-02-30"}, "The date must be like"),
    ({"score-objectives": "9"}, "must be a whole number from 1 to 5"),
    ({"subject": "alchemy"}, "Choose the subject"),
])
def test_bad_values_on_the_page_are_refused(db, client, auth, login_as, people, over, message):
    login_as(people["principal"])
    if over.get("observed_on") == "tomorrow":
        over = {"observed_on": (local_today() + timedelta(days=1)).isoformat()}
    response = auth.post("/observations/new", _form(people, **over), csrf_from="/observations/new")
    assert response.status_code in (400, 422)
    assert message in response.get_data(as_text=True)
    assert "认识钟表" in response.get_data(as_text=True)  # nothing typed is lost
    assert db.session.execute(select(Observation)).first() is None


def test_a_final_record_cannot_be_edited_only_amended(db, client, auth, login_as, make, people):
    record = make.observation(people["principal"], people["teacher"])
    login_as(people["principal"])
    assert client.get(f"/observations/{record.id}/edit").status_code == 302
    response = auth.post(f"/observations/{record.id}/edit", _form(people, periods="3"), csrf_from="/observations")
    assert response.status_code == 302 and "/amend" in response.headers["Location"]
    db.session.refresh(record)
    assert record.periods == 1
    page = client.get(f"/observations/{record.id}/amend")
    assert page.status_code == 200
    response = auth.post(f"/observations/{record.id}/amend",
                         {**_form(people, periods="2"), "reason": ""}, csrf_from="/observations")
    assert response.status_code == 422 and "reason" in response.get_data(as_text=True)
    response = auth.post(f"/observations/{record.id}/amend",
                         {**_form(people, periods="2", topic="分数的初步认识", record_html="", strengths="",
                                  suggestions="", grade="", private_notes="", **{"score-objectives": "",
                                                                                  "score-effect": ""}),
                          "reason": "连堂课"}, csrf_from="/observations")
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.periods == 2
    rows = db.session.execute(select(ObservationAmendment)).scalars().all()
    assert [(r.field, r.old_value, r.new_value, r.reason) for r in rows] == [("periods", "1", "2", "连堂课")]
    assert "连堂课" in client.get(f"/observations/{record.id}").get_data(as_text=True)
    # Nobody else amends.
    auth.logout()
    login_as(people["teacher"])
    assert client.get(f"/observations/{record.id}/amend").status_code == 403


def _autosave(client, auth, body, csrf=True):
    headers = {"X-CSRFToken": auth.csrf("/observations")} if csrf else {}
    return client.post("/observations/autosave", json=body, headers=headers)


def test_autosave_is_idempotent_and_only_for_the_observer(db, client, auth, login_as, make, people):
    login_as(people["principal"])
    body = {"client_key": "a" * 32, "observed_teacher_id": people["teacher"].id, "observed_on": local_today().isoformat(),
            "periods": "1", "subject": "math", "topic": "认识", "scores": {"objectives": 3}}
    first = _autosave(client, auth, body)
    assert first.status_code == 200, first.json
    again = _autosave(client, auth, body)
    assert again.json["id"] == first.json["id"] and again.json["revision"] == first.json["revision"]
    assert db.session.query(Observation).count() == 1
    changed = _autosave(client, auth, {**body, "id": first.json["id"], "topic": "认识钟表"})
    assert changed.json["revision"] == first.json["revision"] + 1
    record = db.session.get(Observation, first.json["id"])
    assert record.topic == "认识钟表" and record.status == "draft" and record.scores == {"objectives": 3}
    assert _autosave(client, auth, {**body, "periods": "20"}).status_code == 422
    assert _autosave(client, auth, body, csrf=False).status_code == 400
    # Someone else cannot write into it.
    auth.logout()
    login_as(people["other_principal"])
    stolen = _autosave(client, auth, {**body, "id": first.json["id"], "topic": "偷改"})
    assert stolen.status_code == 404
    db.session.refresh(record)
    assert record.topic == "认识钟表"
    auth.logout()
    # Once final, autosave is refused.
    login_as(people["principal"])
    final = make.observation(people["principal"], people["teacher"])
    response = _autosave(client, auth, {**body, "id": final.id})
    assert response.status_code == 409


def test_who_may_open_the_record_page(db, client, auth, login_as, make, people):
    record = make.observation(people["principal"], people["teacher"], private_notes="只给自己看的笔记")
    draft = make.observation(people["principal"], people["teacher"], final=False, topic="草稿课题")
    login_as(people["teacher"])
    page = client.get(f"/observations/{record.id}")
    assert page.status_code == 200 and "只给自己看的笔记" not in page.get_data(as_text=True)
    assert client.get(f"/observations/{draft.id}").status_code == 404
    assert "草稿课题" not in client.get("/observations/of-me").get_data(as_text=True)
    auth.logout()
    for name in ("colleague", "other_principal"):
        login_as(people[name])
        assert client.get(f"/observations/{record.id}").status_code == 404, name
        auth.logout()
    login_as(people["principal"])
    assert "只给自己看的笔记" in client.get(f"/observations/{record.id}").get_data(as_text=True)
    assert "草稿课题" in client.get("/observations").get_data(as_text=True)


def test_teacher_acknowledges_and_replies(db, client, auth, login_as, make, people):
    record = make.observation(people["principal"], people["teacher"])
    login_as(people["colleague"])
    assert auth.post(f"/observations/{record.id}/acknowledge", csrf_from="/observations").status_code == 404
    auth.logout()
    login_as(people["teacher"])
    assert record.topic in client.get("/observations/of-me").get_data(as_text=True)
    assert auth.post(f"/observations/{record.id}/acknowledge", csrf_from="/observations").status_code == 302
    assert auth.post(f"/observations/{record.id}/reply", {"reply": "谢谢指导"},
                     csrf_from="/observations").status_code == 302
    db.session.refresh(record)
    assert record.acknowledged_at is not None and record.teacher_reply == "谢谢指导"
    assert "谢谢指导" in client.get(f"/observations/{record.id}").get_data(as_text=True)


def test_action_steps_show_on_the_next_observation(db, client, auth, login_as, make, people):
    make.observation(people["principal"], people["teacher"], on=local_today() - timedelta(days=3),
                     action_steps="板书分区")
    nxt = make.observation(people["principal"], people["teacher"], final=False)
    login_as(people["principal"])
    page = client.get(f"/observations/{nxt.id}/edit")
    assert "板书分区" in page.get_data(as_text=True)
    step_id = int(re.search(rb"/steps/(\d+)", page.data).group(1))
    response = auth.post(f"/observations/drafts/{nxt.id}/steps/{step_id}", {"status": "not_yet"}, csrf_from="/observations")
    assert response.status_code == 302
    auth.post(f"/observations/{nxt.id}/edit", {**_form(people), "action": "finalize"}, csrf_from="/observations")
    page = client.get(f"/observations/{nxt.id}").get_data(as_text=True)
    assert "板书分区" in page and "Not yet" in page


def test_attachments_are_checked_and_served_with_permission(db, client, auth, login_as, make, people):
    draft = make.observation(people["principal"], people["teacher"], final=False)
    login_as(people["principal"])

    def upload(name, content):
        return auth.post(f"/observations/{draft.id}/attachments",
                         {"file": (io.BytesIO(content), name)}, csrf_from="/observations",
                         content_type="multipart/form-data")

    assert upload("board.png", PNG).status_code == 302
    # without the page's script: the edit page again, with the reason, answering a 4xx
    refused = upload("fake.png", b"<html><script>alert(1)</script>")
    assert refused.status_code == 400 and "<form" in refused.get_data(as_text=True)
    assert 'class="flash flash-error"' in refused.get_data(as_text=True)
    assert draft.topic in refused.get_data(as_text=True)  # the record as saved, in its form
    assert upload("run.exe", b"MZ\x90\x00").status_code == 400
    attachments = db.session.execute(select(ObservationAttachment)).scalars().all()
    assert [a.original_name for a in attachments] == ["board.png"]
    attachment = attachments[0]
    got = client.get(f"/observations/files/{attachment.id}")
    assert got.status_code == 200 and got.data == PNG and "attachment" in got.headers["Content-Disposition"]
    auth.logout()
    login_as(people["teacher"])  # a draft: not yet the teacher's to read
    assert client.get(f"/observations/files/{attachment.id}").status_code == 404
    auth.logout()
    login_as(people["principal"])
    auth.post(f"/observations/{draft.id}/edit", {**_form(people), "action": "finalize"}, csrf_from="/observations")
    assert upload("late.png", PNG).status_code == 403  # final: locked
    auth.logout()
    login_as(people["teacher"])
    assert client.get(f"/observations/files/{attachment.id}").status_code == 200
    auth.logout()
    login_as(people["other_principal"])
    assert client.get(f"/observations/files/{attachment.id}").status_code == 404


def test_rubric_admin_makes_a_new_version(db, client, auth, login_as, make, people):
    record = make.observation(people["principal"], people["teacher"], scores={"craft": 5})
    template = record.rubric_template
    login_as(people["principal"])
    assert client.get("/observations/rubrics").status_code == 200
    assert client.get(f"/observations/rubrics/{template.id}/edit").status_code == 403
    auth.logout()
    login_as(people["bureau"])
    page = client.get(f"/observations/rubrics/{template.id}/edit")
    assert page.status_code == 200 and "教师素养" in page.get_data(as_text=True)
    data = {"name": "课堂评价表 2027", "description": "", "rows": "2",
            "d0-code": "objectives", "d0-label": "教学目标", "d0-weight": "40", "d0-min": "1", "d0-max": "5",
            "d0-levels": "5=优; 4=良; 3=中; 2=差", "d1-code": "students", "d1-label": "学生参与", "d1-weight": "60",
            "d1-min": "0", "d1-max": "10", "d1-levels": ""}
    bad = auth.post(f"/observations/rubrics/{template.id}/edit", {**data, "d1-max": "0"},
                    csrf_from="/observations/rubrics")
    assert bad.status_code == 400 and "lowest score must be below" in bad.get_data(as_text=True)
    response = auth.post(f"/observations/rubrics/{template.id}/edit", data, csrf_from="/observations/rubrics")
    assert response.status_code == 302
    new = db.session.execute(select(RubricTemplate).where(RubricTemplate.is_current.is_(True),
                                                          RubricTemplate.family == "default")).scalar_one()
    assert new.version == 2 and [d["code"] for d in new.dimensions] == ["objectives", "students"]
    db.session.refresh(record)
    assert record.rubric_template_id == template.id
    page = client.get(f"/observations/{record.id}").get_data(as_text=True)
    assert "教师素养" in page and "version 1" in page


def test_live_session_prefills_the_form(db, client, auth, login_as, make):
    session = make.live_session()
    principal = make.user("principal", school=session.live_class.main_classroom.school, locale="en")
    login_as(principal)
    page = client.get(f"/observations/new?live_session_id={session.id}").get_data(as_text=True)
    teacher = session.live_class.main_teacher
    assert re.search(rf'<option selected value="{teacher.id}"|<option value="{teacher.id}" selected', page)
    assert f'name="live_session_id" type="hidden" value="{session.id}"' in page
    assert 'value="live" selected' in page or 'selected value="live"' in page
    outsider = make.user("principal", locale="en")
    auth.logout()
    login_as(outsider)
    assert client.get(f"/observations/new?live_session_id={session.id}").status_code == 403


# --- the API ---------------------------------------------------------------------------------------


def _api_body(people, **over):
    body = {"observed_teacher_id": people["teacher"].id, "date": local_today().isoformat(), "periods": 2,
            "subject": "math", "topic": "认识钟表", "notes": "[10:05] 导入", "scores": {"objectives": 4, "effect": 5},
            "suggestions": "多让学生说"}
    body.update(over)
    return body


def test_api_records_a_final_observation(db, client, api_token, people):
    token = api_token(people["principal"])
    response = client.post("/api/v1/observations", json=_api_body(people),
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["id"] and body["status"] == "final" and body["periods"] == 2 and body["scores"]["effect"] == 5
    record = db.session.get(Observation, body["id"])
    assert record.status == "final" and record.finalized_at is not None and record.record_html.startswith("<p>")
    draft = client.post("/api/v1/observations", json=_api_body(people, draft=True),
                        headers={"Authorization": f"Bearer {token}"})
    assert draft.status_code == 201 and draft.json["status"] == "draft"


@pytest.mark.parametrize("over, field", [
    ({"periods": 0}, "periods"), ({"periods": -2}, "periods"), ({"periods": 20}, "periods"),
    ({"periods": "2"}, "periods"), ({"date": "tomorrow"}, "date"),
    ({"scores": {"objectives": 6}}, "scores"), ({"scores": {"charisma": 3}}, "scores"),
    ({"scores": {"objectives": 0}}, "scores"), ({"subject": None}, "subject"),
    ({"observed_teacher_id": 999999}, "observed_teacher_id"), ({"live_session_id": 999999}, "live_session_id"),
    ({"draft": "yes"}, "draft"), ({"grade": "best"}, "grade"),
])
def test_api_refuses_bad_fields(db, client, api_token, people, over, field):
    token = api_token(people["principal"])
    response = client.post("/api/v1/observations", json=_api_body(people, **over),
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (400, 422), response.json
    assert response.json["error"]["field"] == field and response.json["error"]["message"]
    assert db.session.execute(select(Observation)).first() is None


def test_api_refuses_a_future_date_and_unknown_fields(db, client, api_token, people):
    token = api_token(people["principal"])
    headers = {"Authorization": f"Bearer {token}"}
    future = client.post("/api/v1/observations", headers=headers,
                         json=_api_body(people, date=(local_today() + timedelta(days=1)).isoformat()))
    assert future.status_code == 422 and "future" in future.json["error"]["message"]
    assert future.json["error"]["field"] == "date"
    unknown = client.post("/api/v1/observations", headers=headers, json=_api_body(people, colour="red"))
    assert unknown.status_code == 422 and "colour" in unknown.json["error"]["message"]
    other = client.post("/api/v1/observations", headers=headers,
                        json=_api_body(people, observed_teacher_id=people["other_principal"].id))
    assert other.status_code == 422
    assert client.post("/api/v1/observations", json=_api_body(people)).status_code == 401


def test_autosave_refuses_junk_with_4xx(db, client, auth, login_as, people):
    login_as(people["principal"])
    base = {"client_key": "b" * 32, "observed_teacher_id": people["teacher"].id,
            "observed_on": local_today().isoformat(), "periods": "1", "subject": "math"}
    for junk in ({"subject": ["math"]}, {"kind": {"a": 1}}, {"grade": 3}, {"record_html": ["x"]},
                 {"scores": [1, 2]}, {"action_steps": 5}, {"observed_on": 20260101}, {"id": "7"},
                 {"client_key": "not-hex"}, {"topic": "x" * 500}):
        body = {**base, **junk}
        if "client_key" in junk and junk["client_key"] == "not-hex":
            body.pop("id", None)
        response = _autosave(client, auth, body)
        assert 400 <= response.status_code < 500, (junk, response.status_code)
        assert response.json["error"]["message"]
    assert client.post("/observations/autosave", data="[1]", content_type="application/json",
                       headers={"X-CSRFToken": auth.csrf("/observations")}).status_code == 400
    assert db.session.execute(select(Observation)).first() is None


def test_plain_text_record_round_trips_through_the_form(db, client, auth, login_as, people):
    login_as(people["principal"])
    body = {"client_key": "c" * 32, "observed_teacher_id": people["teacher"].id,
            "observed_on": local_today().isoformat(), "periods": "1", "subject": "math",
            "record_html": "[10:05] 导入 <5分钟> & 复习\n第二行\n\n[10:12] 新授"}
    first = _autosave(client, auth, body)
    record = db.session.get(Observation, first.json["id"])
    assert record.record_html == "<p>[10:05] 导入 &lt;5分钟&gt; &amp; 复习<br>第二行</p><p>[10:12] 新授</p>"
    page = client.get(f"/observations/{record.id}/edit").get_data(as_text=True)
    assert "[10:05] 导入 &lt;5分钟&gt; &amp; 复习\n第二行\n\n[10:12] 新授" in page  # plain text in the box
    again = _autosave(client, auth, {**body, "id": record.id})
    assert again.json["revision"] == first.json["revision"]  # the same text is no change


def test_lists_by_scope(db, client, auth, login_as, make, people):
    mine = make.observation(people["principal"], people["teacher"], topic="校长听的课")
    visitor = make.observation(people["bureau"], people["colleague"], topic="局里听的课")
    elsewhere = make.observation(people["other_principal"], topic="别校的课")
    login_as(people["principal"])
    own = client.get("/observations").get_data(as_text=True)
    assert mine.topic in own and visitor.topic not in own and "quota-progress" in own
    readable = client.get("/observations?scope=all").get_data(as_text=True)
    assert visitor.topic in readable and mine.topic not in readable and elsewhere.topic not in readable
    auth.logout()
    login_as(people["bureau"])
    readable = client.get("/observations?scope=all").get_data(as_text=True)
    assert mine.topic in readable and elsewhere.topic not in readable  # another county's
    auth.logout()
    login_as(people["colleague"])
    of_me = client.get("/observations/of-me").get_data(as_text=True)
    assert visitor.topic in of_me and mine.topic not in of_me


def test_the_teacher_is_told_with_a_link(db, make, people):
    record = make.observation(people["principal"], people["teacher"])
    note = db.session.execute(select(Notification).where(Notification.user_id == people["teacher"].id)).scalar_one()
    assert note.kind == "observations.finalized" and note.link == f"/observations/{record.id}"


def test_recent_live_sessions_lead_to_the_prefilled_form(db, client, login_as, make):
    session = make.live_session()
    principal = make.user("principal", school=session.live_class.receiving[0].classroom.school, locale="en")
    from portal.scheduling.models import LiveSession

    old = LiveSession(live_class=session.live_class, starts_at=session.starts_at - timedelta(days=9),
                      ends_at=session.ends_at - timedelta(days=9),
                      occurrence_date=session.occurrence_date - timedelta(days=9))
    db.session.add(old)
    db.session.commit()
    login_as(principal)
    page = client.get("/observations").get_data(as_text=True)
    assert f"/observations/new?live_session_id={session.id}" in page
    assert f"live_session_id={old.id}" not in page
    form = client.get(f"/observations/new?live_session_id={session.id}")
    assert form.status_code == 200 and session.live_class.main_teacher.name in form.get_data(as_text=True)


def test_home_lists_records_to_acknowledge(db, client, auth, login_as, make, people):
    record = make.observation(people["principal"], people["teacher"], topic="待确认的课")
    login_as(people["teacher"])
    home = client.get("/").get_data(as_text=True)
    assert "Observations of my lessons to read" in home and "observed by" in home
    auth.post(f"/observations/{record.id}/acknowledge", csrf_from="/observations")
    assert "Observations of my lessons to read" not in client.get("/").get_data(as_text=True)


def test_the_default_rubric_is_seeded_on_first_use(db, client, login_as, people):
    login_as(people["bureau"])
    page = client.get("/observations/rubrics")
    assert page.status_code == 200 and "教学目标" in page.get_data(as_text=True)
    client.get("/observations/rubrics")
    templates = db.session.execute(select(RubricTemplate)).scalars().all()
    assert [(t.family, t.version, t.is_default, t.is_current) for t in templates] == [("default", 1, True, True)]
