"""API: POST /live-classes and GET /live-sessions (CONTRACT.md)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.api import api, listing, login_required
from ..core.errors import Invalid
from ..core.i18n import gettext as _
from ..core.pagination import paginate
from ..core.timeutil import isoformat_local, portal_tz
from ..core.validate import get_int, get_str, json_body, parse_date, parse_iso_datetime, parse_time, query_int
from ..extensions import db
from ..org.models import Classroom, Term
from . import services
from .bells import bell_warnings
from .models import LiveClass, LiveSession
from .permissions import visible_classes
from .recurrence import Slot, local_iso
from .timetable import classroom_classes, teacher_classes

FIELDS = {"subject", "grade", "title", "main_teacher_id", "main_classroom_id", "receiving", "weekday",
          "start_time", "end_time", "first_date", "last_date", "term_id", "skip_dates", "skip_clashes", "slots"}


def session_json(session: LiveSession) -> dict:
    return {
        "id": session.id,
        "live_class_id": session.live_class_id,
        "starts_at": isoformat_local(session.starts_at),
        "ends_at": isoformat_local(session.ends_at),
        "status": session.status,
    }


def _slots(data: dict) -> list[Slot]:
    raw = data.get("slots")
    if raw is None:
        return [Slot(get_int(data, "weekday", low=1, high=7), parse_time(data.get("start_time"), "start_time"),
                     parse_time(data.get("end_time"), "end_time"))]
    if not isinstance(raw, list) or not 1 <= len(raw) <= 7 or not all(isinstance(s, dict) for s in raw):
        raise Invalid(_("slots must be a list of 1 to 7 objects with weekday, start_time and end_time."),
                      field="slots")
    return [Slot(get_int(s, "weekday", low=1, high=7), parse_time(s.get("start_time"), "start_time"),
                 parse_time(s.get("end_time"), "end_time")) for s in raw]


# The term's dates as a plain row: the service reads only those (an ORM get: ~0.3 M instructions).
_TERM = select(Term.id, Term.start_date, Term.end_date).where(Term.id == bindparam("term_id"))
# The rooms with their schools (the checks read them) and the people of a class, built once.
_ROOMS = select(Classroom).options(joinedload(Classroom.school)).where(Classroom.id.in_(bindparam("ids", expanding=True)))
_PEOPLE = select(User).where(User.id.in_(bindparam("ids", expanding=True)))


def _people_and_rooms(data: dict, main_teacher_id: int, main_classroom_id: int) -> tuple:
    """The main teacher, the main classroom and the receiving (classroom, assistant) pairs, in two
    queries: a room, a person and a school at a time were seven."""
    raw = data.get("receiving")
    if not isinstance(raw, list) or not raw or not all(isinstance(r, dict) for r in raw) or len(raw) > 20:
        raise Invalid(_("receiving must be a list of objects with classroom_id and assistant_id."),
                      field="receiving")
    pairs = [(get_int(r, "classroom_id"), get_int(r, "assistant_id")) for r in raw]
    rooms = {c.id: c for c in db.session.execute(
        _ROOMS, {"ids": sorted({main_classroom_id} | {c for c, _a in pairs})}).scalars()}
    people = {u.id: u for u in db.session.execute(
        _PEOPLE, {"ids": sorted({main_teacher_id} | {a for _c, a in pairs})}).scalars()}
    receiving = []
    for classroom_id, assistant_id in pairs:
        if classroom_id not in rooms:
            raise Invalid(_("There is no classroom with id %(id)d.", id=classroom_id), field="receiving")
        if assistant_id not in people:
            raise Invalid(_("There is no user with id %(id)d.", id=assistant_id), field="receiving")
        receiving.append((rooms[classroom_id], people[assistant_id]))
    return people.get(main_teacher_id), rooms.get(main_classroom_id), receiving


@api.route("/live-classes", methods=["POST"])
@login_required
def create_live_class():
    data = json_body()
    unknown = set(data) - FIELDS
    if unknown:
        raise Invalid(_("Unknown fields: %(names)s.", names=", ".join(sorted(unknown))))
    term = None
    term_id = get_int(data, "term_id", required=False)
    if term_id is not None:
        term = db.session.connection().execute(_TERM, {"term_id": term_id}).one_or_none()
        if term is None:
            raise Invalid(_("There is no term with id %(id)d.", id=term_id), field="term_id")
    first = parse_date(data["first_date"], "first_date") if data.get("first_date") is not None else None
    last = parse_date(data["last_date"], "last_date") if data.get("last_date") is not None else None
    skip = data.get("skip_dates") or []
    if not isinstance(skip, list) or len(skip) > 400:
        raise Invalid(_("skip_dates must be a list of dates."), field="skip_dates")
    skip_clashes = data.get("skip_clashes", False)
    if not isinstance(skip_clashes, bool):
        raise Invalid(_("skip_clashes must be true or false."), field="skip_clashes")
    main_teacher_id = get_int(data, "main_teacher_id")
    main_classroom_id = get_int(data, "main_classroom_id")
    subject = get_str(data, "subject", max_length=20)
    grade = get_int(data, "grade", required=False, low=1, high=12)
    title = get_str(data, "title", required=False, max_length=120) or ""
    main_teacher, main_classroom, receiving = _people_and_rooms(data, main_teacher_id, main_classroom_id)
    live_class, sessions = services.schedule_live_class_and_sessions(
        current_user, subject=subject, grade=grade, title=title, main_teacher=main_teacher,
        main_classroom=main_classroom, receiving=receiving, slots=_slots(data), first_date=first, last_date=last,
        term=term, skip_dates={parse_date(d, "skip_dates") for d in skip}, skip_clashes=skip_clashes,
    )
    # Read before the commit expires the class (reading it again after would be two more statements).
    class_id, subject = live_class.id, live_class.subject
    # The receiving rooms and their schools are the loaded ones the checks read.
    rooms = sorted((c.id, c.name, c.school_id, c.school.name) for c, _a in receiving)
    warnings = bell_warnings([c.id for c, _a in receiving], [(s.starts_at, s.ends_at) for s in sessions], rooms)
    db.session.commit()
    tz = portal_tz()
    return jsonify({"id": class_id, "subject": subject,
                    "sessions": [{"id": s.id, "starts_at": local_iso(s.starts_at, tz),
                                  "ends_at": local_iso(s.ends_at, tz)} for s in sessions],
                    "warnings": [w.as_json() for w in warnings]}), 201


@api.route("/live-sessions")
@login_required
def list_live_sessions():
    from flask import request

    stmt = (
        select(LiveSession)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        # The visible classes first (a teacher's few), then their sessions by (class, start) index:
        # not every session of the week checked against the rule one by one.
        .where(LiveSession.live_class_id.in_(select(LiveClass.id).where(visible_classes(current_user))))
        .order_by(LiveSession.starts_at, LiveSession.id)
    )
    for name, column, op in (("from", LiveSession.ends_at, "gt"), ("to", LiveSession.starts_at, "lt")):
        raw = request.args.get(name)
        if raw:
            moment = parse_iso_datetime(raw, name)
            if moment.tzinfo is None:  # a date or a local time: the portal's time zone
                moment = moment.replace(tzinfo=portal_tz())
            stmt = stmt.where(column > moment if op == "gt" else column < moment)
    teacher_id = query_int("teacher_id")
    if teacher_id is not None:
        stmt = stmt.where(LiveSession.live_class_id.in_(teacher_classes(teacher_id)))
    classroom_id = query_int("classroom_id")
    if classroom_id is not None:
        stmt = stmt.where(LiveSession.live_class_id.in_(classroom_classes(classroom_id)))
    return jsonify(listing(paginate(db.session, stmt, default_per_page=100), session_json))
