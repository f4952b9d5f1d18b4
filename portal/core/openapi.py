"""The OpenAPI 3.1 description of /api/v1, served at GET /api/v1/openapi.json.

Written here as data (small helpers only build the repeated parts: the list envelope, the
error answers). The enumerations come from the features' own constants so they cannot drift.
``tests/core/test_openapi.py`` checks that every /api/v1 rule has a path here and back, that
the document is valid OpenAPI, and that the real answers match these schemas.
"""

from __future__ import annotations

from functools import lru_cache

from flask import jsonify, request

from .api import api

REF = "#/components/schemas/"


def ref(name: str) -> dict:
    return {"$ref": REF + name}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
NUMBER = {"type": "number"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
TIME = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "examples": ["08:30"]}


def enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    """An object; unless told otherwise every listed property is always present."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, **extra}


def listing(item: str) -> dict:
    return obj({"items": {"type": "array", "items": ref(item)}, "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1}})


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


ERROR_TEXT = {
    "400": "The request could not be read (bad JSON, a bad query parameter or page number).",
    "401": "Not logged in: no token, or the token is wrong, expired or revoked.",
    "403": "Logged in but not allowed.",
    "404": "No such object, or one the caller may not see.",
    "409": "Conflicts with the current state (error.conflicts may list what clashes).",
    "413": "The upload is too large.",
    "422": "The body is readable but a field is not valid (error.field names it).",
    "429": "Too many attempts; wait a little.",
}


def answers(ok: dict, *errors: str) -> dict:
    """The success answer(s) plus the error answers ``errors`` (status codes as strings)."""
    result = dict(ok)
    for status in errors:
        result[status] = {"$ref": f"#/components/responses/E{status}"}
    return result


def ok(status: str, description: str, schema: dict) -> dict:
    return {status: {"description": description, "content": json_content(schema)}}


def query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def path_id(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID, "description": description}


PAGING = [
    query("page", {"type": "integer", "minimum": 1, "maximum": 100_000}, "The page, from 1."),
    query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Items per page (at most 100)."),
]

# Every authenticated operation: a bearer token, or the portal's own session cookie.
AUTHED = [{"bearerAuth": []}, {"sessionCookie": []}]


def op(summary: str, responses: dict, *, tag: str, parameters: list | None = None, body: dict | None = None,
       description: str | None = None, security: list | None = None, operation_id: str) -> dict:
    result = {"operationId": operation_id, "summary": summary, "tags": [tag], "responses": responses}
    if description:
        result["description"] = description
    if parameters:
        result["parameters"] = parameters
    if body:
        result["requestBody"] = body
    if security is not None:
        result["security"] = security
    return result


def json_body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": json_content(schema)}


def schemas() -> dict:
    from ..communities.models import KINDS as COMMUNITY_KINDS
    from ..communities.models import LEVELS, MEMBER_ROLES, STATUSES
    from ..core.authz import ROLES
    from ..core.labels import EDITION_LABELS, RESOURCE_KIND_LABELS, SUBJECT_LABELS
    from ..observations.models import GRADES
    from ..observations.models import KINDS as OBSERVATION_KINDS
    from ..observations.models import STATUSES as OBSERVATION_STATUSES
    from ..org.models import SCHOOL_KINDS, SEMESTERS
    from ..org.models import STAGES as SCHOOL_STAGES
    from ..partnerships.models import KINDS as PARTNERSHIP_KINDS
    from ..resources.models import VISIBILITIES
    from ..resources.services import STAGES as RESOURCE_STAGES
    from ..scheduling.models import SESSION_STATUSES

    counted = {"type": "integer", "minimum": 0}
    return {
        "Error": obj({
            "error": obj({
                "code": {"type": "string", "description": "A stable machine-readable code: invalid, bad_request, "
                         "unauthorized, invalid_token, forbidden, not_found, conflict, …"},
                "message": {"type": "string", "description": "A human-readable message in the caller's language."},
                "field": {"type": "string", "description": "The field or parameter at fault, when there is one."},
                "conflicts": {"type": "array", "items": {"type": "object"},
                              "description": "With code conflict: what clashes and when."},
            }, required=["code", "message"]),
        }),
        "Token": obj({"token": STR}),
        "TokenRequest": obj({"username": {"type": "string", "minLength": 1},
                             "password": {"type": "string", "minLength": 1},
                             "name": {"type": "string", "maxLength": 60,
                                      "description": "A label for the token (default: api)."}},
                            required=["username", "password"]),
        "User": obj({"id": ID, "username": STR, "name": STR, "role": enum(ROLES), "school_id": nullable(ID)}),
        "UserList": listing("User"),
        "NewUser": obj({
            "username": {"type": "string", "minLength": 1, "maxLength": 64},
            "name": {"type": "string", "minLength": 1, "maxLength": 60},
            "password": {"type": "string", "minLength": 1},
            "role": enum(ROLES),
            "school_id": {**ID, "description": "Required for teachers and principals."},
        }, required=["username", "name", "password", "role"]),
        "School": obj({"id": ID, "name": STR, "kind": enum(SCHOOL_KINDS), "county": STR, "county_id": ID,
                       "stage": nullable(enum(SCHOOL_STAGES)), "is_weak": BOOL},
                      required=["id", "name", "kind", "county"]),
        "SchoolList": listing("School"),
        "Classroom": obj({"id": ID, "name": STR, "grade": INT, "student_count": nullable(counted)},
                         required=["id", "name", "grade"]),
        "ClassroomList": listing("Classroom"),
        "Term": obj({"id": ID, "name": STR, "school_year": INT, "semester": enum(SEMESTERS), "start_date": DATE,
                     "end_date": DATE}, required=["id", "name", "start_date", "end_date"]),
        "Community": obj({
            "id": ID, "name": STR, "kind": enum(COMMUNITY_KINDS), "leader_id": nullable(ID), "member_count": counted,
            "level": enum(LEVELS), "county_id": nullable(ID), "subject": nullable(STR), "stage": nullable(STR),
            "is_active": BOOL,
        }, required=["id", "name", "kind", "leader_id", "member_count"]),
        "CommunityDetail": {"allOf": [ref("Community"), obj({
            "my_status": nullable(enum(STATUSES)), "my_role": nullable(enum(MEMBER_ROLES))})]},
        "CommunityList": listing("Community"),
        "MemberRequest": obj({
            "user_id": {**ID, "description": "Who to add (the leader or the bureau). Leave out to ask to join."},
            "role": {"type": "string", "enum": list(MEMBER_ROLES), "description": "With user_id (default member)."},
            "note": {"type": "string", "maxLength": 200, "description": "Without user_id: a note to the leader."},
        }, required=[], additionalProperties=False),
        "Membership": obj({"id": ID, "community_id": ID, "user_id": ID, "role": enum(MEMBER_ROLES),
                           "status": enum(STATUSES), "joined_at": nullable(DATETIME)}),
        "MembershipList": listing("Membership"),
        "Activity": obj({"id": ID, "title": STR, "kind": STR, "starts_at": DATETIME, "ends_at": nullable(DATETIME),
                         "is_online": BOOL, "place": nullable(STR), "host_id": nullable(ID), "hours": NUMBER,
                         "signup_count": counted, "cancelled": BOOL}),
        "ActivityList": listing("Activity"),
        "Coverage": obj({
            "rural_teachers": obj({"total": counted, "covered": counted}),
            "rural_principals": obj({"total": counted, "covered": counted}),
            "rural_schools": obj({"total": counted, "paired": counted}),
            "county_id": nullable(ID),
            "counties": {"type": "array", "items": obj({
                "id": ID, "name": STR,
                "rural_teachers": obj({"total": counted, "covered": counted}),
                "rural_principals": obj({"total": counted, "covered": counted}),
                "rural_schools": obj({"total": counted, "paired": counted}),
            })},
        }, required=["rural_teachers", "rural_principals", "rural_schools"]),
        "Partnership": obj({"id": ID, "name": STR, "kind": enum(PARTNERSHIP_KINDS), "lead_school_id": ID,
                            "member_school_ids": {"type": "array", "items": ID}, "start_date": DATE,
                            "end_date": nullable(DATE)}),
        "PartnershipList": listing("Partnership"),
        "Resource": obj({
            "id": ID, "title": STR, "description": nullable(STR), "kind": nullable(STR), "subject": nullable(STR),
            "stage": nullable(STR), "grade": nullable(INT), "edition": nullable(STR), "unit": nullable(STR),
            "tags": {"type": "array", "items": STR}, "visibility": enum(VISIBILITIES), "owner_id": ID,
            "school_id": nullable(ID), "link_url": nullable(STR), "size": nullable(counted),
            "original_name": nullable(STR), "version": nullable(INT), "created_at": nullable(DATETIME),
            "updated_at": nullable(DATETIME), "download_url": nullable(STR), "preview_url": nullable(STR),
            "rating": nullable(NUMBER), "rating_count": counted, "download_count": counted, "view_count": counted,
        }, required=["id", "title", "kind", "subject", "visibility", "owner_id", "download_url"]),
        "ResourceList": listing("Resource"),
        "NewResource": obj({
            "file": {"type": "string", "contentMediaType": "application/octet-stream",
                     "description": "The file (or send link_url instead)."},
            "title": {"type": "string", "minLength": 1, "maxLength": 120},
            "description": {"type": "string", "maxLength": 5000},
            "kind": enum(RESOURCE_KIND_LABELS),
            "subject": enum(SUBJECT_LABELS),
            "stage": enum(RESOURCE_STAGES),
            "grade": {"type": "string", "pattern": "^[0-9]{1,2}$", "description": "1–12, within the stage."},
            "edition": enum(EDITION_LABELS),
            "unit": STR,
            "tags": {"type": "string", "description": "Words separated by spaces."},
            "visibility": enum(VISIBILITIES),
            "link_url": {"type": "string", "description": "An https link instead of a file."},
            "community_ids": {"type": "array", "items": ID, "description": "With visibility community."},
            "partnership_ids": {"type": "array", "items": ID, "description": "With visibility pairing."},
        }, required=["title", "kind", "subject", "stage", "visibility"]),
        "Receiving": obj({"classroom_id": ID, "assistant_id": ID}),
        "Slot": obj({"weekday": {"type": "integer", "minimum": 1, "maximum": 7}, "start_time": TIME,
                     "end_time": TIME}),
        "NewLiveClass": obj({
            "subject": {"type": "string", "minLength": 1, "maxLength": 20},
            "grade": {"type": "integer", "minimum": 1, "maximum": 12},
            "title": {"type": "string", "maxLength": 120},
            "main_teacher_id": ID, "main_classroom_id": ID,
            "receiving": {"type": "array", "items": ref("Receiving"), "minItems": 1, "maxItems": 20},
            "weekday": {"type": "integer", "minimum": 1, "maximum": 7, "description": "1 is Monday."},
            "start_time": TIME, "end_time": TIME,
            "slots": {"type": "array", "items": ref("Slot"), "minItems": 1, "maxItems": 7,
                      "description": "Several weekly times instead of weekday/start_time/end_time."},
            "first_date": DATE, "last_date": DATE,
            "term_id": {**ID, "description": "Default: the current term."},
            "skip_dates": {"type": "array", "items": DATE, "maxItems": 400},
            "skip_clashes": {"type": "boolean", "description": "Leave out clashing dates instead of a 409."},
        }, required=["subject", "main_teacher_id", "main_classroom_id", "receiving"], additionalProperties=False),
        "LiveClassCreated": obj({
            "id": ID, "subject": STR,
            "sessions": {"type": "array", "items": obj({"id": ID, "starts_at": DATETIME, "ends_at": DATETIME})},
            "warnings": {"type": "array", "items": {"type": "object"},
                         "description": "Receiving schools whose bell schedule the lesson time does not fit."},
        }, required=["id", "sessions"]),
        "LiveSession": obj({"id": ID, "live_class_id": ID, "starts_at": DATETIME, "ends_at": DATETIME,
                            "status": enum(SESSION_STATUSES)}),
        "LiveSessionList": listing("LiveSession"),
        "LiveSessionSummary": obj({
            "id": ID, "live_class_id": ID, "title": nullable(STR), "subject": STR,
            "main_teacher": obj({"id": ID, "name": STR}), "main_classroom": STR,
            "starts_at": DATETIME, "ends_at": DATETIME, "status": enum(SESSION_STATUSES),
            "started_at": nullable(DATETIME), "ended_at": nullable(DATETIME),
            "duration_minutes": nullable(counted), "events": counted,
            "attendance": {"type": "array", "items": obj({
                "classroom_id": ID, "classroom": STR, "school": STR, "assistant_id": ID, "assistant": STR,
                "present": nullable(counted), "class_size": nullable(counted), "feedback": nullable(STR)})},
            "polls": {"type": "array", "items": {"type": "object"}},
            "hands": obj({"raised": counted, "answered": counted, "items": {"type": "array"}}),
            "chat": {"type": "array", "items": obj({"id": ID, "user_id": nullable(ID), "name": STR, "text": STR,
                                                    "at": DATETIME}, required=["id", "text", "at"])},
            "materials": {"type": "array", "items": {"type": "object"}},
            "presence": {"type": "array", "items": {"type": "object"}},
        }, required=["id", "attendance", "events"]),
        "NewObservation": obj({
            "observed_teacher_id": ID,
            "date": {**DATE, "description": "Not in the future."},
            "periods": {"type": "integer", "minimum": 1, "maximum": 4},
            "subject": enum(SUBJECT_LABELS),
            "topic": STR, "notes": {"type": "string", "description": "Rich text (sanitised)."},
            "scores": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
                       "description": "Dimension code of the current rubric → score 1–5."},
            "suggestions": STR, "strengths": STR, "problems": STR, "private_notes": STR,
            "live_session_id": ID, "classroom_id": ID,
            "kind": enum(OBSERVATION_KINDS), "grade": enum(GRADES),
            "action_steps": {"type": "array", "items": STR},
            "draft": {"type": "boolean", "description": "true: keep it a draft (default: final)."},
        }, required=["observed_teacher_id", "date", "periods", "subject"], additionalProperties=False),
        "Observation": obj({
            "id": ID, "observer_id": ID, "observed_teacher_id": ID, "school_id": ID, "classroom_id": nullable(ID),
            "date": DATE, "periods": INT, "subject": STR, "topic": nullable(STR), "kind": STR,
            "status": enum(OBSERVATION_STATUSES), "finalized_at": nullable(DATETIME), "live_session_id": nullable(ID),
            "rubric_template_id": nullable(ID), "scores": {"type": "object"}, "total_score": nullable(NUMBER),
            "grade": nullable(STR), "notes": nullable(STR), "strengths": nullable(STR), "problems": nullable(STR),
            "suggestions": nullable(STR), "action_steps": {"type": "array", "items": STR},
        }, required=["id", "observer_id", "observed_teacher_id", "date", "periods", "subject", "status"]),
        "ObservationProgress": obj({
            "observer_id": ID, "school_year": INT, "required": counted, "done": counted, "on_track": BOOL,
            "expected": counted, "status": STR, "percent": NUMBER, "period": STR, "semester": nullable(STR),
            "period_start": DATE, "period_end": DATE, "as_of": DATE, "rule_id": nullable(ID),
        }, required=["observer_id", "school_year", "required", "done", "on_track"]),
    }


def error_responses() -> dict:
    return {f"E{status}": {"description": text, "content": json_content(ref("Error"))}
            for status, text in ERROR_TEXT.items()}


def paths() -> dict:
    from ..communities.models import KINDS as COMMUNITY_KINDS
    from ..core.authz import ROLES
    from ..core.labels import EDITION_LABELS, RESOURCE_KIND_LABELS, SUBJECT_LABELS
    from ..org.models import SCHOOL_KINDS
    from ..partnerships.models import KINDS as PARTNERSHIP_KINDS
    from ..resources.services import SORTS, STAGES

    community_id = path_id("community_id", "The community.")
    resource_id = path_id("resource_id", "The resource.")
    return {
        "/api/v1/openapi.json": {"get": op(
            "This document", ok("200", "The OpenAPI description of /api/v1.", {"type": "object"}),
            tag="meta", security=[], operation_id="openapi")},
        "/api/v1/auth/token": {
            "post": op("Get a token", answers(ok("200", "The token: send it as Authorization: Bearer <token>.",
                                                 ref("Token")), "400", "401", "403", "429"),
                       tag="auth", body=json_body(ref("TokenRequest")), security=[], operation_id="issue_token",
                       description="Wrong credentials give 401; an account that must first change its password "
                                   "on the portal gives 403."),
            "delete": op("Revoke the token of this request",
                         answers({"204": {"description": "Revoked."}}, "400", "401"),
                         tag="auth", security=[{"bearerAuth": []}], operation_id="revoke_current_token"),
        },
        "/api/v1/me": {"get": op("The caller", answers(ok("200", "The caller's account.", ref("User")), "401"),
                                 tag="accounts", operation_id="me")},
        "/api/v1/users": {
            "get": op("List users", answers(ok("200", "Active users.", ref("UserList")), "400", "401", "403"),
                      tag="accounts", operation_id="list_users", parameters=[
                          query("username", {"type": "string", "maxLength": 100}, "Exact username."),
                          query("school_id", ID, "Users of this school."),
                          query("role", enum(ROLES), "Users of this role."), *PAGING]),
            "post": op("Create a user (bureau)", answers(ok("201", "The new user.", ref("User")),
                                                         "400", "401", "403", "409", "422"),
                       tag="accounts", body=json_body(ref("NewUser")), operation_id="create_user"),
        },
        "/api/v1/schools": {"get": op(
            "List schools", answers(ok("200", "Active schools.", ref("SchoolList")), "400", "401"),
            tag="organisation", operation_id="list_schools",
            parameters=[query("kind", enum(SCHOOL_KINDS), "Schools of this kind."), *PAGING])},
        "/api/v1/schools/{school_id}/classrooms": {"get": op(
            "List a school's classrooms", answers(ok("200", "Active classrooms.", ref("ClassroomList")),
                                                  "400", "401", "404"),
            tag="organisation", operation_id="list_classrooms",
            parameters=[path_id("school_id", "The school."), *PAGING])},
        "/api/v1/terms/current": {"get": op(
            "The current term", answers(ok("200", "The term today falls in (or the next one).", ref("Term")),
                                        "401", "404"),
            tag="organisation", operation_id="get_current_term")},
        "/api/v1/communities": {"get": op(
            "List communities", answers(ok("200", "Communities the caller may see.", ref("CommunityList")),
                                        "400", "401"),
            tag="communities", operation_id="list_communities",
            parameters=[query("kind", enum(COMMUNITY_KINDS), "teacher (名师+) or principal (名校长+)."), *PAGING])},
        "/api/v1/communities/{community_id}": {"get": op(
            "A community", answers(ok("200", "The community and the caller's membership.", ref("CommunityDetail")),
                                   "401", "404"),
            tag="communities", operation_id="get_community", parameters=[community_id])},
        "/api/v1/communities/{community_id}/members": {
            "get": op("List active members", answers(ok("200", "The members.", ref("MembershipList")),
                                                     "400", "401", "403", "404"),
                      tag="communities", operation_id="list_community_members", parameters=[community_id, *PAGING]),
            "post": op("Add a member, or ask to join",
                       answers({**ok("201", "Added (with user_id).", ref("Membership")),
                                **ok("202", "Request pending (without user_id).", ref("Membership"))},
                               "400", "401", "403", "404", "409", "422"),
                       tag="communities", operation_id="add_community_member", parameters=[community_id],
                       body=json_body(ref("MemberRequest"))),
        },
        "/api/v1/communities/{community_id}/activities": {"get": op(
            "List a community's activities", answers(ok("200", "Newest first.", ref("ActivityList")),
                                                     "400", "401", "404"),
            tag="communities", operation_id="list_community_activities", parameters=[community_id, *PAGING])},
        "/api/v1/coverage": {"get": op(
            "Coverage of rural teachers, principals and schools (bureau, researcher)",
            answers(ok("200", "Totals, and a row per county.", ref("Coverage")), "400", "401", "403", "404"),
            tag="supervision", operation_id="get_coverage",
            parameters=[query("county", ID, "Limit to this county.")])},
        "/api/v1/partnerships": {"get": op(
            "List partnerships", answers(ok("200", "Partnerships the caller may see.", ref("PartnershipList")),
                                         "400", "401"),
            tag="partnerships", operation_id="list_partnerships",
            parameters=[query("kind", enum(PARTNERSHIP_KINDS), "Partnerships of this kind."), *PAGING])},
        "/api/v1/partnerships/{partnership_id}": {"get": op(
            "A partnership", answers(ok("200", "The partnership.", ref("Partnership")), "401", "404"),
            tag="partnerships", operation_id="get_partnership",
            parameters=[path_id("partnership_id", "The partnership.")])},
        "/api/v1/resources": {
            "get": op("List and search resources",
                      answers(ok("200", "Resources the caller may see.", ref("ResourceList")), "400", "401", "422"),
                      tag="resources", operation_id="list_resources", parameters=[
                          query("q", {"type": "string", "maxLength": 200},
                                "Words to find in titles and descriptions (Chinese too)."),
                          query("subject", enum(SUBJECT_LABELS), "Subject."),
                          query("stage", enum(STAGES), "Stage."),
                          query("grade", {"type": "integer", "minimum": 1, "maximum": 12}, "Grade."),
                          query("kind", enum(RESOURCE_KIND_LABELS), "Kind of resource."),
                          query("edition", enum(EDITION_LABELS), "Textbook edition."),
                          query("sort", enum(SORTS), "Order."),
                          query("mine", {"type": "string", "enum": ["1", "true"]}, "Only the caller's own."),
                          *PAGING]),
            "post": op("Share a resource",
                       answers(ok("201", "The new resource.", ref("Resource")),
                               "400", "401", "403", "413", "422"),
                       tag="resources", operation_id="create_resource",
                       body={"required": True, "content": {"multipart/form-data": {
                           "schema": ref("NewResource"),
                           "encoding": {"file": {"contentType": "application/octet-stream"}}}}}),
        },
        "/api/v1/resources/{resource_id}": {"get": op(
            "A resource", answers(ok("200", "The resource.", ref("Resource")), "401", "404"),
            tag="resources", operation_id="get_resource", parameters=[resource_id])},
        "/api/v1/resources/{resource_id}/download": {"get": op(
            "Download a resource's file",
            answers({"200": {"description": "The file, as an attachment, with its own content type.",
                             "content": {"*/*": {"schema": {"type": "string",
                                                            "contentMediaType": "application/octet-stream"}}}}},
                    "401", "404"),
            tag="resources", operation_id="download_resource", parameters=[resource_id])},
        "/api/v1/live-classes": {"post": op(
            "Schedule a dual-teacher class",
            answers(ok("201", "The class and its sessions.", ref("LiveClassCreated")),
                    "400", "401", "403", "404", "409", "422"),
            tag="live classes", operation_id="create_live_class", body=json_body(ref("NewLiveClass")),
            description="A clash with another class of the same teacher or classroom gives 409 with error.code "
                        "conflict and error.conflicts.")},
        "/api/v1/live-sessions": {"get": op(
            "List live sessions", answers(ok("200", "Sessions of the classes the caller may see.",
                                             ref("LiveSessionList")), "400", "401", "422"),
            tag="live classes", operation_id="list_live_sessions", parameters=[
                query("from", {"type": "string", "format": "date-time"},
                      "Sessions ending after this (ISO 8601; a date or a local time: the portal's time zone)."),
                query("to", {"type": "string", "format": "date-time"}, "Sessions starting before this."),
                query("teacher_id", ID, "Sessions this person teaches or assists."),
                query("classroom_id", ID, "Sessions in this classroom (main or receiving)."), *PAGING])},
        "/api/v1/live-sessions/{session_id}/summary": {"get": op(
            "What happened in a live session",
            answers(ok("200", "Attendance, polls, hands, chat, presence.", ref("LiveSessionSummary")),
                    "401", "403", "404"),
            tag="live classes", operation_id="live_session_summary",
            parameters=[path_id("session_id", "The session.")])},
        "/api/v1/calendar/{user_id}.ics": {"get": op(
            "A person's live sessions as iCalendar",
            answers({"200": {"description": "The feed.", "content": {"text/calendar": {"schema": STR}}}},
                    "401", "404"),
            tag="live classes", operation_id="calendar_feed",
            security=[{"bearerAuth": []}, {"tokenQuery": []}, {"sessionCookie": []}],
            parameters=[path_id("user_id", "Whose sessions (oneself, or for the bureau, a person of the county)."),
                        query("token", STR, "A token, for calendar programs that cannot send headers.")])},
        "/api/v1/observations": {"post": op(
            "Record a lesson observation",
            answers(ok("201", "The observation.", ref("Observation")), "400", "401", "403", "404", "409", "422"),
            tag="observations", operation_id="create_observation", body=json_body(ref("NewObservation")),
            description="Final on creation (counted by the quota, the teacher is told) unless draft is true.")},
        "/api/v1/observations/progress": {"get": op(
            "Observation quota progress",
            answers(ok("200", "Required and done in the school year.", ref("ObservationProgress")),
                    "400", "401", "403", "404"),
            tag="observations", operation_id="observation_progress", parameters=[
                query("observer_id", ID, "Whose progress (default: the caller)."),
                query("school_year", {"type": "integer", "minimum": 2000, "maximum": 2100},
                      "The year the school year starts (default: the current one)."),
                query("semester", {"type": "string", "enum": ["autumn", "spring"]}, "One semester only.")])},
    }


@lru_cache(maxsize=1)
def _document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "城乡教研共同体 portal API",
            "version": "1",
            "description": "The JSON API of the portal. Get a token with POST /api/v1/auth/token and send "
                           "`Authorization: Bearer <token>`. Errors are `{\"error\": {\"code\", \"message\"}}`; "
                           "lists are `{\"items\", \"total\", \"page\", \"per_page\"}`. Dates are YYYY-MM-DD, "
                           "times HH:MM, datetimes ISO 8601 with offset.",
        },
        "servers": [{"url": "/"}],
        "security": AUTHED,
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "responses": error_responses(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A token from POST /api/v1/auth/token or the portal's token page."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "The portal's own pages; changes then need X-CSRFToken."},
                "tokenQuery": {"type": "apiKey", "in": "query", "name": "token",
                               "description": "Only for the calendar feed."},
            },
        },
    }


def document() -> dict:
    """The document (a fresh copy: callers may change theirs)."""
    import copy

    return copy.deepcopy(_document())


@api.route("/openapi.json")
def openapi_document():
    response = jsonify(_document())
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.add_etag()
    return response.make_conditional(request)
