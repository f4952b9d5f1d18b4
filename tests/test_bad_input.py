"""Hostile input over every write route of the portal (pages and /api/v1) and every page's query string.

Every route of ``app.url_map`` that takes POST/PUT/PATCH/DELETE has an entry in ``ENTRIES``: who may
use it, where its form is (the form is read from that page, as a browser would send it) and what a
valid body needs on top. A new write route without an entry fails ``test_every_write_route_has_an_entry``.

For each route, each field of the valid body is replaced in turn by a hostile value (empty, blank,
10 000 CJK characters, NUL, zero-width and bidi override characters, a lone surrogate, script and
``javascript:`` payloads, out-of-range and odd numbers, impossible dates and times, unknown ids, and,
in JSON, every wrong type). The portal must answer below 500; a 4xx must say why (JSON
``{"error": {"message"}}`` from the API, the form again with an error or an error page from pages) and
leave every table's row count as it was. The valid body itself must then be accepted, and sending
it a second time must not be a 500.

GET pages get the same treatment in their query strings and path ids.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from sqlalchemy import text

from portal.extensions import limiter

from .test_access import TABLE as ACCESS_TABLE
from .test_access import build, world  # noqa: F401  (fixture: one of everything, a person of each role)

PASSWORD = "Test-pass-2026!"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
COUNTED = {"forms": 0, "json": 0, "queries": 0, "routes": 0}


class Raw:
    """A value sent exactly as these bytes (form) or this JSON text (API), bypassing encoders."""

    def __init__(self, form: bytes, json_text: str | None = None):
        self.form = form
        self.json_text = json_text or json.dumps(form.decode("latin-1"))


@dataclass(frozen=True)
class File:
    name: str = "教案.pdf"
    data: bytes = PDF


# --- the hostile values ----------------------------------------------------------------------------

TEXT_VARIANTS = {
    "empty": "",
    "blank": "  \t \u3000 ",
    "long_cjk": "教" * 10_000,
    "nul": "课\x00题",
    "zero_width": "张\u200b三",
    "rtl_override": "作业\u202egpj.exe",
    "lone_surrogate": Raw(b"%ED%A0%80", '"\\ud800"'),
    "script": "<script>alert(1)</script>",
    "img_onerror": '"><img src=x onerror=alert(1)>',
    "javascript_url": "javascript:alert(1)",
    "minus_one": "-1",
    "zero": "0",
    "two_pow_31": "2147483648",
    "twenty_digits": "9" * 20,
    "full_width_digits": "１２",
    "huge_float": "1e309",
    "nan": "NaN",
    "feb_30": "2026-02-30",
    "hour_25": "25:00",
    "month_13": "2026-13-01",
    "unknown_id": "2147483647",
}
# Fields the browser fills from a list (selects, radios, checkboxes, hidden ids) get the values that
# matter for a chosen value; free-text fields get them all.
CHOICE_VARIANTS = {k: TEXT_VARIANTS[k] for k in (
    "empty", "nul", "lone_surrogate", "img_onerror", "minus_one", "two_pow_31", "twenty_digits",
    "full_width_digits", "unknown_id")}
JSON_VARIANTS = {
    **TEXT_VARIANTS,
    "list": ["x"],
    "object": {"a": 1},
    "null": None,
    "true": True,
    "int_minus_one": -1,
    "int_zero": 0,
    "int_two_pow_31": 2**31,
    "int_twenty_digits": 10**20,
    "float": 1.5,
    "json_1e309": Raw(b"1e309", "1e309"),
    "json_nan": Raw(b"NaN", "NaN"),
}

# --- the table -------------------------------------------------------------------------------------

NO_FORM = "no form"  # the body below is the whole body (a bare button, or a form shown only by script)


@dataclass
class Entry:
    role: str  # teacher, principal, researcher, bureau (test_access's world), anonymous, leader, owner
    page: str | None = None  # where the form is (rule syntax); None: the route's own URL; NO_FORM
    body: dict = field(default_factory=dict)  # on top of the page's form; None removes a field
    ids: dict = field(default_factory=dict)  # url argument -> another key of the world's ids
    ok: tuple = ()  # statuses the valid body may get besides 2xx/3xx (a state the world is in)
    api: str = ""  # "json" or "form" for /api/v1 routes
    vary: tuple | None = None  # only these fields get hostile values (default: all but files)


E = Entry
ENTRIES: dict[str, Entry] = {
    # accounts
    "POST /login": E("anonymous", body={"username": "{username}", "password": PASSWORD}),
    "POST /logout": E("teacher", NO_FORM),
    "POST /password": E("teacher", body={"current_password": PASSWORD, "password": "Another-pass-2027!",
                                         "confirm": "Another-pass-2027!"}),
    "POST /language": E("teacher", NO_FORM, body={"locale": "en", "next": "/"}),
    "POST /notifications/read": E("teacher", "/notifications"),
    "POST /tokens": E("teacher", body={"name": "手机"}),
    "POST /tokens/<id:token_id>/revoke": E("principal", NO_FORM),
    "POST /admin/users/new": E("bureau", body={"username": "new.teacher", "name": "新老师", "role": "teacher",
                                               "school_id": "{school_id}", "county_id": "0",
                                               "title": "none", "password": "Brand-new-2026!"}),
    "POST /admin/users/<id:user_id>": E("bureau"),
    "POST /admin/users/<id:user_id>/active": E("bureau", NO_FORM, body={"active": "0"}),
    "POST /admin/users/<id:user_id>/reset-password": E("bureau", NO_FORM),
    # organisation
    "POST /admin/schools/new": E("bureau", body={"name": "新学校", "kind": "village", "stage": "primary",
                                                 "county": "测试县新", "student_count": "120"}),
    "POST /admin/schools/<id:school_id>": E("bureau"),
    "POST /admin/schools/<id:school_id>/active": E("bureau", NO_FORM, body={"active": "0"}),
    "POST /admin/schools/<id:school_id>/classrooms": E("bureau", "/schools/<id:school_id>",
                                                       body={"grade": "4", "name": "四年级二班",
                                                             "student_count": "35"}),
    "POST /admin/classrooms/<id:classroom_id>": E("bureau"),
    "POST /admin/classrooms/<id:classroom_id>/active": E("bureau", NO_FORM, body={"active": "0"}),
    "POST /admin/terms/new": E("bureau", body={"name": "2027学年第一学期", "school_year": "2027",
                                               "semester": "autumn", "start_date": "2027-09-01",
                                               "end_date": "2028-01-20"}),
    "POST /admin/terms/<id:term_id>": E("bureau"),
    "POST /schools/<id:school_id>/bells/new": E("principal", body={"name": "冬季作息", "periods-0-number": "1",
                                                                   "periods-0-start": "08:10",
                                                                   "periods-0-end": "08:50"}),
    "POST /schools/<id:school_id>/bells/<id:schedule_id>": E("principal"),
    "POST /schools/<id:school_id>/bells/<id:schedule_id>/delete": E("principal", NO_FORM),
    "POST /admin/roster": E("bureau", body={"file": File("名单.csv", "学校名称,类型\n".encode())}, ok=(400, 422)),
    # communities
    "POST /communities/new": E("bureau", body={"name": "新共同体", "county_id": "{county_id}",
                                               "leader": "{leader_username}", "description": "简介"}),
    "POST /communities/<id:community_id>/edit": E("bureau"),
    "POST /communities/<id:community_id>/active": E("bureau", NO_FORM, body={"active": "0"}),
    "POST /communities/<id:community_id>/join": E("principal", NO_FORM),
    "POST /communities/<id:community_id>/leave": E("teacher", "/communities/<id:community_id>"),
    "POST /communities/<id:community_id>/members": E("bureau", body={"username": "{target_username}",
                                                                     "role": "member"}),
    "POST /memberships/<id:membership_id>/approve": E("bureau", NO_FORM),
    "POST /memberships/<id:membership_id>/decline": E("bureau", NO_FORM, body={"reason": "名额已满"}),
    "POST /memberships/<id:membership_id>/role": E("bureau", NO_FORM, body={"role": "core"}, ok=(409,)),
    "POST /memberships/<id:membership_id>/remove": E("bureau", NO_FORM, ok=(409,)),
    "POST /communities/<id:community_id>/leader": E("bureau", NO_FORM, body={"username": "{teacher_username}"}),
    "POST /communities/<id:community_id>/activities/new": E(
        "bureau", body={"title": "同课异构", "kind": "seminar", "starts_at": "2027-03-01T09:00",
                        "ends_at": "2027-03-01T11:00", "place": "会议室", "hours": "2", "capacity": "30",
                        "description": "说明"}),
    "POST /activities/<id:activity_id>/edit": E("bureau"),
    "POST /activities/<id:activity_id>/signup": E("teacher", NO_FORM, ok=(409,)),
    "POST /activities/<id:activity_id>/withdraw": E("teacher", NO_FORM, ok=(409,)),
    "POST /activities/<id:activity_id>/attendance": E("bureau", "/activities/<id:activity_id>",
                                                      body={"walk_ins": "{teacher_username}"}),
    "POST /activities/<id:activity_id>/minutes": E("bureau", "/activities/<id:activity_id>",
                                                   body={"minutes": "<p>纪要</p>"}),
    "POST /activities/<id:activity_id>/cancel": E("bureau", NO_FORM, body={"reason": "天气"}, ok=(409,)),
    "POST /admin/activity-types": E("bureau", body={"name": "送教下乡", "community_kind": ""}),
    "POST /admin/activity-types/<id:type_id>/active": E("bureau", NO_FORM, body={"active": "0"}),
    "POST /communities/<id:community_id>/threads/new": E("teacher", body={"title": "讨论", "body": "内容"}),
    "POST /threads/<id:thread_id>/replies": E("teacher", "/threads/<id:thread_id>", body={"body": "回复"}),
    "POST /threads/<id:thread_id>/edit": E("leader", body={"title": "改过的标题", "body": "改过的内容"}),
    "POST /posts/<id:post_id>/edit": E("leader", body={"body": "改过的回复"}),
    "POST /posts/<id:post_id>/delete": E("leader", NO_FORM),
    "POST /posts/<id:post_id>/hide": E("bureau", NO_FORM, body={"reason": "广告"}),
    "POST /threads/<id:thread_id>/pin": E("bureau", "/threads/<id:thread_id>"),
    "POST /threads/<id:thread_id>/lock": E("bureau", "/threads/<id:thread_id>"),
    "POST /threads/<id:thread_id>/delete": E("bureau", "/threads/<id:thread_id>"),
    "POST /communities/<id:community_id>/projects/new": E("bureau", body={"title": "课题", "lead": "{leader_username}",
                                                                          "started_on": "2026-09-01",
                                                                          "ends_on": "2027-07-01"}),
    "POST /projects/<id:project_id>/edit": E("bureau"),
    "POST /projects/<id:project_id>/members": E("bureau", "/projects/<id:project_id>",
                                                body={"username": "{teacher_username}"}),
    "POST /projects/<id:project_id>/members/<id:user_id>/remove": E("bureau", NO_FORM, ok=(409,)),
    "POST /projects/<id:project_id>/outputs": E("bureau", "/projects/<id:project_id>",
                                                body={"title": "论文", "url": "https://example.org/a"}),
    "POST /outputs/<id:output_id>/delete": E("bureau", NO_FORM),
    "POST /users/<id:user_id>/training-hours": E("bureau", body={"title": "线上培训", "hours": "3.5",
                                                                 "earned_on": "2026-10-01"}),
    "POST /training-records/<id:record_id>/delete": E("bureau", NO_FORM),
    # partnerships
    "POST /partnerships/new": E("bureau", body={"name": "新结对", "lead_school": "{school_id}",
                                                "members": "{village_id}", "start_date": "2026-09-01"}),
    "POST /partnerships/<id:partnership_id>/edit": E("bureau"),
    "POST /partnerships/<id:partnership_id>/goals": E("principal", "/partnerships/<id:partnership_id>",
                                                      body={"school_year": "2026", "goals": "送教4次"}),
    "POST /partnerships/<id:partnership_id>/people": E("bureau", "/partnerships/<id:partnership_id>",
                                                       body={"people": "{teacher_username}"}),
    "POST /partnerships/<id:partnership_id>/end": E("bureau", "/partnerships/<id:partnership_id>",
                                                    body={"end_date": "2026-12-31"}),
    "POST /partnerships/<id:partnership_id>/log/new": E("principal", body={"kind": "send_lessons",
                                                                           "happened_on": "2026-10-20",
                                                                           "title": "送教", "notes": "记录"}),
    "POST /log/<id:entry_id>/edit": E("bureau"),
    "POST /log/<id:entry_id>/attachments": E("bureau", "/log/<id:entry_id>", body={"file": File()}),
    "POST /attachments/<id:attachment_id>/delete": E("bureau", NO_FORM),
    "POST /log/<id:entry_id>/delete": E("bureau", "/log/<id:entry_id>"),
    "POST /exchanges/new": E("bureau", body={"username": "{target_username}", "kind": "support",
                                             "days_per_week": "2", "to_school": "{village_id}",
                                             "start_date": "2026-09-01", "end_date": "2027-07-01"}),
    "POST /exchanges/<id:exchange_id>/edit": E("bureau"),
    "POST /exchanges/<id:exchange_id>/delete": E("bureau", NO_FORM),
    "POST /visits": E("researcher", body={"school": "{village_id}", "visited_on": "2026-10-12",
                                          "kind": "guidance", "notes": "听课两节"}),
    "POST /visits/<id:visit_id>/edit": E("researcher"),
    "POST /visits/<id:visit_id>/delete": E("researcher", NO_FORM),
    "POST /researchers/<id:researcher_id>/schools": E("bureau", "/researchers/<id:researcher_id>",
                                                      body={"school": "{other_village_id}"}),
    "POST /researchers/<id:researcher_id>/schools/<id:school_id>/remove": E("bureau", NO_FORM,
                                                                            ids={"school_id": "village_id"}),
    # resources
    "POST /resources/new": E("teacher", body={"title": "分数的意义教案", "description": "说明", "kind": "lesson_plan",
                                              "subject": "math", "stage": "primary", "grade": "3",
                                              "file": File(), "visibility": "public"}),
    "POST /resources/<id:resource_id>/edit": E("owner"),
    "POST /resources/<id:resource_id>/versions/new": E("owner", body={"file": File("教案二.pdf", PDF + b"2"),
                                                                      "note": "修订"}),
    "POST /resources/<id:resource_id>/rating": E("teacher", "/resources/<id:resource_id>", body={"stars": "4"}),
    "POST /resources/<id:resource_id>/used": E("teacher", "/resources/<id:resource_id>", body={"note": "用过"}),
    "POST /resources/<id:resource_id>/comments": E("teacher", "/resources/<id:resource_id>", body={"body": "好"}),
    "POST /resource-comments/<id:comment_id>/edit": E("owner", body={"body": "改过的评论"}),
    "POST /resource-comments/<id:comment_id>/delete": E("bureau", NO_FORM),
    "POST /resources/<id:resource_id>/delete": E("bureau", "/resources/<id:resource_id>"),
    "POST /activities/<id:activity_id>/resources": E("bureau", NO_FORM, body={"resource_id": "{resource_id}"}),
    "POST /activities/<id:activity_id>/resources/<id:resource_id>/remove": E("bureau", NO_FORM),
    # scheduling
    "POST /admin/calendar": E("bureau", body={"day": "2027-05-01", "kind": "holiday", "name": "劳动节"}),
    "POST /admin/calendar/<id:day_id>/delete": E("bureau", NO_FORM),
    "POST /live-classes/new": E("bureau", body={"subject": "math", "grade": "3", "title": "双师数学",
                                                "main_teacher": "{teacher_id}", "main_classroom": "{classroom_id}",
                                                "receiving-0-classroom": "{village_classroom_id}",
                                                "receiving-0-assistant": "{village_teacher_id}",
                                                "slots-0-weekday": "2", "slots-0-start": "10:00",
                                                "slots-0-end": "10:40", "term": "{term_id}",
                                                "first_date": "2026-09-08", "last_date": "2026-10-27",
                                                "skip_clashes": "y"}, ok=(400, 409, 422)),
    "POST /live-classes/<id:class_id>/change": E("bureau", body={"slots-0-weekday": "3", "slots-0-start": "14:00",
                                                                 "slots-0-end": "14:40"}, ok=(400, 409, 422)),
    "POST /live-classes/<id:class_id>/sessions": E("bureau", "/live-classes/<id:class_id>",
                                                   body={"day": "2027-03-03", "start_time": "15:00",
                                                         "end_time": "15:40"}, ok=(400, 409, 422)),
    "POST /live-classes/<id:class_id>/resources": E("bureau", NO_FORM, body={"resource_id": "{resource_id}"}),
    "POST /live-classes/<id:class_id>/resources/<id:resource_id>/remove": E("bureau", NO_FORM, ok=(404,)),
    "POST /live-sessions/<id:session_id>/attendance": E("bureau", NO_FORM, body={
        "classroom_id": "{session_room_id}", "present": "18", "class_size": "20", "feedback": "清楚"},
        ok=(403, 409, 422)),
    "POST /live-sessions/<id:session_id>/move": E("bureau", NO_FORM, body={
        "day": "2027-03-04", "start_time": "09:00", "end_time": "09:40"}, ok=(409, 422)),
    "POST /live-sessions/<id:session_id>/cancel": E("bureau", NO_FORM, body={"reason": "停电"}, ok=(409,)),
    "POST /live-sessions/<id:session_id>/restore": E("bureau", NO_FORM, ok=(409,)),
    # observations
    "POST /observations/quota/rules/new": E("bureau", body={"county": "{county_id}", "name": "教研员听课",
                                                            "role": "researcher", "required": "20"}),
    "POST /observations/quota/rules/<id:rule_id>/edit": E("bureau"),
    "POST /observations/quota/rules/<id:rule_id>/active": E("bureau", NO_FORM, body={"active": "0"}),
    "POST /observations/rubrics/<id:template_id>/edit": E(
        "bureau", vary=("name", "description", "rows", "d0-label", "d0-code", "d0-weight", "d0-min", "d0-max",
                        "d0-levels", "d0-description")),
    "POST /observations/new": E("principal", body={"observed_teacher_id": "{teacher_id}", "subject": "math",
                                                   "kind": "drop_in", "topic": "分数", "observed_on": "2026-11-02",
                                                   "action": "save"}),
    "POST /observations/autosave": E("principal", NO_FORM, api="json", body={
        "client_key": "a" * 32, "observed_teacher_id": "{teacher_id}", "observed_on": "2026-11-02",
        "periods": 1, "subject": "math", "topic": "草稿", "action_steps": ["板书"]}),
    "POST /observations/<id:observation_id>/edit": E("principal", ids={"observation_id": "draft_id"},
                                                     body={"observed_on": "2026-11-02"}),
    "POST /observations/<id:observation_id>/amend": E("principal", body={"topic": "改过的课题",
                                                                         "reason": "课题写错了"}),
    "POST /observations/<id:observation_id>/acknowledge": E("teacher", NO_FORM),
    "POST /observations/<id:observation_id>/reply": E("teacher", "/observations/<id:observation_id>",
                                                      body={"reply": "谢谢"}),
    "POST /observations/<id:observation_id>/attachments": E("principal", NO_FORM, ids={"observation_id": "draft_id"},
                                                            body={"file": File()}),
    "POST /observations/files/<id:file_id>/delete": E("principal", NO_FORM, ids={"file_id": "draft_file_id"}),
    "POST /observations/drafts/<id:draft_id>/steps/<id:step_id>": E("principal", NO_FORM, body={"status": "met"},
                                                                    ok=(422,)),
    "POST /observations/drafts/<id:draft_id>/delete": E("principal", NO_FORM),
    # API
    "POST /api/v1/auth/token": E("anonymous", NO_FORM, api="json",
                                 body={"username": "{username}", "password": PASSWORD, "name": "手机"}),
    "DELETE /api/v1/auth/token": E("teacher", NO_FORM, api="bearer"),
    "POST /api/v1/users": E("bureau", NO_FORM, api="json", body={
        "username": "api.teacher", "name": "接口老师", "role": "teacher", "school_id": "{school_id}",
        "password": "Brand-new-2026!"}),
    "POST /api/v1/communities/<id:community_id>/members": E("principal", NO_FORM, api="json", body={"note": "申请"}),
    "POST /api/v1/live-classes": E("bureau", NO_FORM, api="json", ok=(409, 422), body={
        "subject": "math", "grade": 3, "title": "接口双师", "main_teacher_id": "{teacher_id}",
        "main_classroom_id": "{classroom_id}",
        "receiving": [{"classroom_id": "{village_classroom_id}", "assistant_id": "{village_teacher_id}"}],
        "slots": [{"weekday": 2, "start_time": "10:00", "end_time": "10:40"}],
        "first_date": "2026-09-08", "last_date": "2026-10-27"}),
    "POST /api/v1/resources": E("teacher", NO_FORM, api="form", body={
        "title": "接口教案", "description": "说明", "kind": "lesson_plan", "subject": "math", "stage": "primary",
        "grade": "3", "visibility": "public", "file": File()}),
    "POST /api/v1/observations": E("principal", NO_FORM, api="json", body={
        "observed_teacher_id": "{teacher_id}", "date": "2026-11-02", "periods": 1, "subject": "math",
        "topic": "接口听课", "draft": True}),
}


def write_routes(app) -> dict[str, object]:
    return {
        f"{method} {rule.rule}": rule
        for rule in app.url_map.iter_rules()
        for method in sorted(set(rule.methods) & WRITE_METHODS)
    }


def test_every_write_route_has_an_entry(app):
    routes = set(write_routes(app))
    assert sorted(routes - set(ENTRIES)) == [], "write routes without an entry in tests/test_bad_input.py ENTRIES"
    assert sorted(set(ENTRIES) - routes) == [], "entries for routes that no longer exist"


# --- reading a page's form as a browser would send it ---------------------------------------------


class FormReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": [], "choices": set()}  # choices: filled from a list, not typed
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select[3].append(a.get("value", ""))
            if "selected" in a:
                self._select[1] = a.get("value", "")
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                self._form["choices"].add(a["name"])
                if "checked" in a:
                    self._form["fields"].append([a["name"], a.get("value", "on")])
            elif kind == "file":
                self._form["fields"].append([a["name"], File()])
            elif kind not in ("submit", "button", "image", "reset"):
                if kind == "hidden":
                    self._form["choices"].add(a["name"])
                self._form["fields"].append([a["name"], a.get("value", "")])
        elif tag == "select":
            self._form["choices"].add(a["name"])
            self._select = [a["name"], None, "multiple" in a, []]
            self._form["fields"].append(self._select)
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
            self._form["fields"].append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None and self._textarea[1].startswith(("\r\n", "\n")):
                self._textarea[1] = self._textarea[1].split("\n", 1)[1]  # HTML drops the first newline
            self._textarea = None


def read_form(client, page: str, action: str) -> tuple[list[tuple[str, object]], set[str]]:
    response = client.get(page)
    assert response.status_code == 200, f"GET {page}: {response.status_code}"
    reader = FormReader()
    reader.feed(response.get_data(as_text=True))
    for form in reader.forms:
        if form["method"] == "post" and (form["action"] == action or (form["action"] == "" and page == action)):
            fields = []
            for item in form["fields"]:
                name, value = item[0], item[1]
                if len(item) == 4 and value is None:  # a select with no option marked selected
                    if item[2] or not item[3]:
                        continue  # a multiple select sends nothing
                    value = item[3][0]  # a single one sends its first option, as browsers do
                if name != "csrf_token":
                    fields.append((name, value))
            return fields, form["choices"]
    raise AssertionError(f"no form posting to {action} on {page}")


# --- sending ---------------------------------------------------------------------------------------


def _quote(value) -> bytes:
    if isinstance(value, Raw):
        return value.form
    return quote(str(value), safe="").encode()


def encode_form(pairs: list[tuple[str, object]]) -> tuple[bytes, str]:
    """urlencoded, or multipart when a file is in it; Raw values go in as their bytes."""
    if not any(isinstance(v, File) for _, v in pairs):
        body = b"&".join(quote(k, safe="").encode() + b"=" + _quote(v) for k, v in pairs)
        return body, "application/x-www-form-urlencoded"
    boundary = "----badinputboundary7MA4YWxkTrZu0gW"
    out = io.BytesIO()
    for name, value in pairs:
        out.write(f"--{boundary}\r\n".encode())
        if isinstance(value, File):
            out.write(f'Content-Disposition: form-data; name="{name}"; filename="{value.name}"\r\n'.encode())
            out.write(b"Content-Type: application/octet-stream\r\n\r\n" + value.data + b"\r\n")
        else:
            raw = value.form.replace(b"%ED%A0%80", b"\xed\xa0\x80") if isinstance(value, Raw) else str(value).encode(
                "utf-8", "surrogatepass")
            out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + raw + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def encode_json(value) -> str:
    if isinstance(value, Raw):
        return value.json_text
    if isinstance(value, dict):
        return "{" + ", ".join(json.dumps(k) + ": " + encode_json(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(encode_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def fill(value, names: dict, numbers: bool = False):
    """Put the world's ids and names into a body; in JSON (``numbers``) ids are numbers."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in names:
        found = names[value[1:-1]]
        return int(found) if numbers and found.isdigit() else found
    if isinstance(value, dict):
        return {k: fill(v, names, numbers) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names, numbers) for v in value]
    return value


def row_counts(db) -> dict[str, int]:
    tables = [t for t in sorted(db.metadata.tables) if t not in ("audit_entries", "api_tokens")]
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
    with db.engine.connect() as conn:
        return dict(zip(tables, conn.execute(text(sql)).one()))


PAGE_ERROR = re.compile(r'class="(?:error|flash flash-\w+)"|error-page|role="alert"')


def explains(response, is_api: bool) -> bool:
    """A refusal says why: the API's error object, or a page with a field error, flash or error page."""
    if is_api:
        body = response.get_json(silent=True) or {}
        return bool(isinstance(body, dict) and isinstance(body.get("error"), dict) and body["error"].get("message"))
    return bool(PAGE_ERROR.search(response.get_data(as_text=True)))


# --- the world -------------------------------------------------------------------------------------


@pytest.fixture
def scene(app, db, make, world):  # noqa: F811
    users, ids = world
    from portal.communities.models import Community
    from portal.observations import services as obs_services
    from portal.observations.models import Observation
    from portal.resources.models import Resource
    from portal.scheduling.models import LiveSession

    community = db.session.get(Community, ids["community_id"])
    resource = db.session.get(Resource, ids["resource_id"])
    session = db.session.get(LiveSession, ids["session_id"])
    county = community.county
    from portal.org.models import School

    village = db.session.get(School, ids["village_id"])
    other_village = make.school("village", county=county)
    village_room = make.classroom(village)
    village_teacher = make.user("teacher", school=village)
    draft = db.session.get(Observation, ids["draft_id"])
    from werkzeug.datastructures import FileStorage

    draft_file = obs_services.add_attachment(users["principal"], draft,
                                             FileStorage(stream=io.BytesIO(PDF), filename="草稿附件.pdf"))
    db.session.commit()
    from portal.accounts.models import User

    target = db.session.get(User, ids["user_id"])
    people = {**users, "leader": community.leader, "owner": resource.owner}
    names = {
        **{k: str(v) for k, v in ids.items()},
        "username": users["teacher"].username, "target_username": target.username,
        "teacher_username": users["teacher"].username, "leader_username": community.leader.username,
        "teacher_id": str(users["teacher"].id), "county_id": str(county.id),
        "other_village_id": str(other_village.id), "village_classroom_id": str(village_room.id),
        "village_teacher_id": str(village_teacher.id), "draft_file_id": str(draft_file.id),
        "session_room_id": str(session.live_class.receiving[0].classroom_id),
    }
    return people, names


def client_for(app, people, role):
    client = app.test_client()
    if role != "anonymous":
        with client.session_transaction() as s:
            s["_user_id"] = people[role].get_id()
            s["_fresh"] = True
    return client


def csrf_token(client, role: str) -> str:
    page = client.get("/login" if role == "anonymous" else "/")
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data)
    assert match, page.status_code
    return match.group(1).decode()


def resolve_url(rule: str, entry: Entry, names: dict) -> str:
    values = {k: names[v] for k, v in entry.ids.items()}
    return build(rule, {**names, **values})


def baseline(client, entry: Entry, url: str, names: dict) -> tuple[list[tuple[str, object]] | dict, set[str]]:
    """The valid body (form pairs or a JSON object) and the names of its fields chosen from lists."""
    body = fill(entry.body, names, numbers=entry.api == "json")
    if entry.api in ("json", "bearer"):
        return body, set()
    pairs, choices = [], set()
    if entry.page != NO_FORM:
        page = resolve_url(entry.page, entry, names) if entry.page else url
        pairs, choices = read_form(client, page, url)
    pairs = [(k, v) for k, v in pairs if k not in body]
    for name, value in body.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item))
    return pairs, choices


def send(client, method: str, url: str, body, entry: Entry, token: str, bearer: str | None = None,
         accept: str | None = None):
    headers = {"X-CSRFToken": token, **({"Accept": accept} if accept else {})}
    if entry.api == "bearer":
        return client.open(url, method=method, headers={"Authorization": f"Bearer {bearer}"})
    if entry.api == "json":
        return client.open(url, method=method, data=encode_json(body).encode("utf-8", "surrogatepass"),
                           headers=headers, content_type="application/json")
    data, content_type = encode_form([("csrf_token", token), *body] if not entry.api else body)
    return client.open(url, method=method, data=data, headers=headers, content_type=content_type)


def variants(body, entry: Entry, choices: set[str]):
    """(field, variant name, body) for each hostile value of each field of a valid body."""
    if entry.api == "bearer":
        return  # no body: the token is the input, and test_security covers junk tokens
    if isinstance(body, dict):
        for name in body:
            if entry.vary is not None and name not in entry.vary:
                continue
            for label, value in JSON_VARIANTS.items():
                yield name, label, {**body, name: value}
            yield name, "missing", {k: v for k, v in body.items() if k != name}
        yield "(body)", "unknown_field", {**body, "role": "bureau", "author_id": 1}
        return
    names = []
    for name, value in body:
        if name not in names and not isinstance(value, File):
            names.append(name)
    for name in names:
        if entry.vary is not None and name not in entry.vary:
            continue
        if _LATER_ROW.match(name):
            continue  # rows 2, 3 … of a repeated group are read by the same code as row 1
        rest = [(k, v) for k, v in body if k != name]
        for label, value in (CHOICE_VARIANTS if name in choices else TEXT_VARIANTS).items():
            yield name, label, [*rest, (name, value)]
        yield name, "repeated", [*rest, (name, "1"), (name, "2")]
        yield name, "missing", rest


_LATER_ROW = re.compile(r"^(?:\w+-[1-9]\d*-|d[1-9]\d*-)")


def label_ok(status: int, entry: Entry) -> bool:
    return status < 400 or status in entry.ok


@pytest.mark.parametrize("rule_key", sorted(ENTRIES))
def test_hostile_values_in_every_field_are_refused_cleanly(app, db, scene, rule_key):
    people, names = scene
    entry = ENTRIES[rule_key]
    method, rule = rule_key.split(" ", 1)
    url = resolve_url(rule, entry, names)
    is_api = url.startswith("/api/")
    limiter.enabled = False  # the login throttle is tested elsewhere; here the validators must answer
    try:
        client = client_for(app, people, entry.role)
        token = csrf_token(client, entry.role)
        bearer = None
        if entry.api == "bearer":
            from portal.accounts import services

            bearer = services.issue_token(people[entry.role])
            db.session.commit()
        body, choices = baseline(client, entry, url, names)
        problems = []
        before = row_counts(db)
        accepted = 0
        for name, label, hostile in variants(body, entry, choices):
            response = send(client, method, url, hostile, entry, token, bearer)
            COUNTED["json" if isinstance(body, dict) else "forms"] += 1
            status = response.status_code
            where = f"{method} {url} {name}={label}"
            if status >= 500:
                problems.append(f"{where}: {status}")
            elif 400 <= status < 500:
                if not explains(response, is_api or entry.api == "json"):
                    problems.append(f"{where}: {status} without a message")
                after = row_counts(db)
                if after != before:
                    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                    problems.append(f"{where}: {status} but rows changed {changed}")
                    before = after
            else:
                accepted += 1
                before = row_counts(db)  # accepted: the next refusal is measured from here
        first = send(client, method, url, body, entry, token, bearer)
        # A variant that was accepted (a blank optional field, say) may already have made the same
        # thing: the valid body is then refused as a duplicate, which is right.
        assert label_ok(first.status_code, entry) or (accepted and first.status_code in (400, 409, 422)), (
            f"the valid body of {rule_key} got {first.status_code}",
            re.findall(r'class="(?:error|flash[^"]*)"[^>]*>([^<]*)', first.get_data(as_text=True))
            or first.get_data(as_text=True)[:300])
        again = send(client, method, url, body, entry, token, bearer)  # a double click
        if again.status_code >= 500:
            problems.append(f"{method} {url} sent twice: {again.status_code}")
        COUNTED["forms"] += 2
        COUNTED["routes"] += 1
        assert not problems, "\n".join(problems[:60])
    finally:
        limiter.enabled = True


# --- GET pages: hostile query strings and path ids -------------------------------------------------

QUERY_VALUES = {
    "page_size_10e9": "1000000000",
    "twenty_digits": "9" * 20,
    "full_width_digits": "１２",
    "minus_one": "-1",
    "nul": Raw(b"%00"),
    "long_cjk": "教" * 10_000,
    "feb_30": "2026-02-30",
    "month_13": "2026-13-01",
    "nan": "NaN",
    "script": "<script>alert(1)</script>",
}
ALWAYS = ("page", "per_page", "q")  # every list may be asked for these, read or not
READ_ARGS: set[str] = set()


def _tracking_args():
    """Record which query arguments a view reads, so each gets every hostile value."""
    from flask import request
    from werkzeug.datastructures import ImmutableMultiDict

    class Tracked(ImmutableMultiDict):
        def get(self, key, default=None, type=None):
            READ_ARGS.add(key)
            return super().get(key, default, type)

        def getlist(self, key, type=None):
            READ_ARGS.add(key)
            return super().getlist(key, type)

        def __getitem__(self, key):
            READ_ARGS.add(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            READ_ARGS.add(key)
            return super().__contains__(key)

    request.args = Tracked(request.args)


def get_routes(app) -> list[str]:
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and rule.endpoint != "static"})


def reader_of(rule: str) -> str:
    """The first role test_access lets read the route."""
    for row in ACCESS_TABLE:
        if row[0] == "GET" and row[1] == rule:
            for role, expected in zip(("anonymous", "teacher", "principal", "researcher", "bureau"), row[2:7]):
                if role != "anonymous" and expected == 200:
                    return role
    return "bureau"


def test_hostile_query_strings_and_path_ids_on_every_page(app, db, world):  # noqa: F811
    users, ids = world
    people = {**users}
    clients = {role: client_for(app, people, role) for role in people}
    app.before_request_funcs.setdefault(None, []).insert(0, _tracking_args)
    problems, routes = [], 0
    try:
        for rule in get_routes(app):
            client = clients[reader_of(rule)]
            url = build(rule, ids)
            READ_ARGS.clear()
            clean = client.get(url)
            if clean.status_code >= 500:
                problems.append(f"GET {url}: {clean.status_code} without any query")
            routes += 1
            for arg in sorted(READ_ARGS | set(ALWAYS)):
                for label, value in [*QUERY_VALUES.items(), ("repeated", None)]:
                    if value is None:
                        query = f"{quote(arg)}=1&{quote(arg)}=2"
                    else:
                        query = f"{quote(arg)}=" + _quote(value).decode()
                    response = client.get(f"{url}?{query}")
                    COUNTED["queries"] += 1
                    status = response.status_code
                    if status >= 500:
                        problems.append(f"GET {url}?{arg}={label}: {status}")
                    elif 400 <= status < 500 and not explains(response, url.startswith("/api/")):
                        problems.append(f"GET {url}?{arg}={label}: {status} without a message")
            for name in re.findall(r"<id:(\w+)>", rule):
                for label, odd in (("twenty_digits", "9" * 20), ("full_width", "１"), ("two_pow_31", "2147483648")):
                    odd_url = build(rule, {**ids, name: quote(odd)})
                    response = client.get(odd_url)
                    COUNTED["queries"] += 1
                    if response.status_code != 404:
                        problems.append(f"GET {odd_url} ({name}={label}): {response.status_code}, not 404")
    finally:
        app.before_request_funcs[None].remove(_tracking_args)
    COUNTED["routes"] += routes
    assert routes > 100
    assert not problems, "\n".join(problems[:80])


def test_zz_the_suite_tried_enough_bad_inputs():
    """Runs last in this module: the counts of what was tried, for the record (and a floor, so a
    table that silently shrank is noticed)."""
    print(f"\nbad-input suite: {COUNTED['routes']} routes, {COUNTED['forms']} form bodies, "
          f"{COUNTED['json']} JSON bodies, {COUNTED['queries']} GET requests")
    if COUNTED["routes"] < len(ENTRIES):  # a partial run (-k): nothing to compare
        pytest.skip(f"only part of the module ran ({COUNTED['routes']} of {len(ENTRIES)} routes)")
    assert COUNTED["forms"] + COUNTED["json"] > 3000 and COUNTED["queries"] > 2000
