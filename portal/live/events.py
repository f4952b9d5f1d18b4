"""Socket.IO handlers. The default namespace carries a person's notifications; /live carries
the co-teaching rooms (protocol: ``protocol.py``; rules and timeline: ``room.py``).

Every /live event: the login is checked again (an ended login is refused), the rate, the
payload (fields, types, sizes), the person's place in the session (again: access can be lost
mid-lesson), the role, and the room's state; only then is it stored and committed, acked and
broadcast. A refused event is answered to its sender alone and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request, session
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from ..accounts.models import User
from ..accounts.services import commit_token_touch
from ..core.errors import DomainError
from ..core.i18n import gettext as _
from ..core.models import utcnow
from ..extensions import db, socketio
from ..org.models import Classroom
from ..resources.models import Resource
from ..resources.permissions import can_view_resource
from ..scheduling.models import LiveSession
from . import protocol as P
from . import room as R
from .auth import authenticate_connect, socket_user
from .permissions import room_role
from .protocol import user_room

log = logging.getLogger("portal")
SESSION_KEY = "live_session_id"  # in the socket's own session copy: the session this socket joined


@socketio.on("connect")
def connect_default(auth=None):
    user = authenticate_connect(auth)
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    join_room(user_room(user.id))
    commit_token_touch()


@socketio.on("connect", namespace=P.LIVE)
def connect_live(auth=None):
    user = authenticate_connect(auth)
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    join_room(user_room(user.id), namespace=P.LIVE)
    commit_token_touch()


# --- the event wrapper: login, rate, payload; every failure becomes an error ack ------------------


def live_event(name: str):
    def decorator(fn):
        @socketio.on(name, namespace=P.LIVE)
        @wraps(fn)
        def handler(*args):
            try:
                user = socket_user()
                if user is None:
                    raise R.Refused(P.E_UNAUTHORIZED, _("Your login has ended; please log in again."))
                g._login_user = user  # a token's user too: answers in their language, checks as them
                R.rate_limit(name, user.id)
                if len(args) > 1:
                    raise R.Refused(P.E_BAD_REQUEST, _("Send one JSON object."))
                data = R.check_payload(name, args[0] if args else None)
                return fn(user, data)
            except R.Refused as refused:
                db.session.rollback()
                return refused.ack()
            except DomainError as error:
                db.session.rollback()
                return R.refused_from(error).ack()
            except Exception:
                db.session.rollback()
                log.exception("live event %s failed", name)
                return R.Refused(P.E_SERVER, _("Something went wrong; nothing was changed.")).ack()

        return handler

    return decorator


def _broadcast(session_id: int, name: str, payload: dict) -> None:
    socketio.emit(name, payload, to=P.session_room(session_id), namespace=P.LIVE)


def _accepted(ctx: R.Ctx, appended: R.Appended) -> dict:
    name, payload = R.broadcast_of(appended.event, appended.state, ctx.session)
    if appended.duplicate:
        return {"ok": True, "seq": appended.event.seq, "duplicate": True, "event": payload}
    _broadcast(ctx.session_id, name, payload)
    return {"ok": True, "seq": appended.event.seq, "event": payload}


def _speaking_for(ctx: R.Ctx) -> int | None:
    return ctx.classroom_ids[0] if len(ctx.classroom_ids) == 1 else None


def _remove(user, session_id: int, reason: str) -> None:
    """This socket lost its place in the room (access gone): out of the room and presence."""
    _leave(user, session_id)
    emit(P.REMOVED, {"reason": reason}, to=request.sid, namespace=P.LIVE)


def joined(user) -> R.Ctx:
    """The context of the session this socket joined, checked again now."""
    session_id = session.get(SESSION_KEY)
    if session_id is None:
        raise R.Refused(P.E_NOT_JOINED, _("Join the session first."))
    try:
        return R.context_for(user, session_id, request.sid)
    except R.Refused as refused:
        if refused.code in (P.E_FORBIDDEN, P.E_NOT_FOUND):
            _remove(user, session_id, refused.code)
        raise


def _leave(user, session_id: int) -> None:
    """Record that this socket left a session (presence, timeline) and tell the room. Leaving is
    always allowed: the role recorded at join is used, even if access has been lost since."""
    sid = request.sid
    leave_room(P.session_room(session_id), namespace=P.LIVE)
    session.pop(SESSION_KEY, None)
    row = R.connection_of(sid)
    live_session = R.load_session(session_id) if row is not None else None
    if live_session is None:
        R.drop_sid(sid)
        db.session.commit()
        return
    role, rooms = room_role(user, live_session)
    ctx = R.Ctx(user=user, session=live_session, role=row.role, classroom_ids=rooms if role == row.role else [],
                sid=sid)
    try:
        appended = R.append(ctx, P.LEAVE, P.K_LEFT, {"role": row.role}, classroom_id=_speaking_for(ctx),
                            side_effect=lambda _e: R.drop_sid(sid))
    except R.Refused:  # e.g. cancelled since: forget the socket all the same
        R.drop_sid(sid)
        db.session.commit()
        return
    _broadcast(session_id, *R.broadcast_of(appended.event, appended.state, R.load_session(session_id)))


# --- joining and leaving --------------------------------------------------------------------------


@live_event(P.JOIN)
def on_join(user, data):
    ctx = R.context_for(user, data["session_id"], request.sid)
    R.get_int(data, "last_seq", 0, required=False)
    session_id = ctx.session_id
    previous = session.get(SESSION_KEY)
    if previous is not None and previous != session_id:
        _leave(user, previous)
    if previous == session_id and ctx.session.status != "cancelled" and R.touch_sid(request.sid):
        db.session.commit()  # already in (a client re-syncing): the state again, no new "joined"
        appended = None
    else:
        appended = R.append(ctx, P.JOIN, P.K_JOINED, {"role": ctx.role, "classrooms": ctx.classroom_ids},
                            classroom_id=_speaking_for(ctx), side_effect=lambda _e: R.connect_sid(ctx))
    join_room(P.session_room(session_id), namespace=P.LIVE)
    session[SESSION_KEY] = session_id
    ctx.session = R.load_session(session_id)
    if appended is not None:
        _broadcast(session_id, *R.broadcast_of(appended.event, appended.state, ctx.session))
    return {"ok": True, "state": R.state_json(ctx)}


@live_event(P.LEAVE)
def on_leave(user, data):
    session_id = session.get(SESSION_KEY)
    if session_id is None or data.get("session_id") not in (None, session_id):
        raise R.Refused(P.E_NOT_JOINED, _("Join the session first."))
    _leave(user, session_id)
    return {"ok": True}


@socketio.on("disconnect", namespace=P.LIVE)
def on_disconnect(reason=None):
    session_id = session.get(SESSION_KEY)
    if session_id is None:
        return
    # A fresh app context, so a fresh database session: a disconnect may be triggered from inside
    # another request's commit (logout ends the sockets after its commit).
    with current_app.app_context():
        try:
            row = R.connection_of(request.sid)
            user = db.session.get(User, row.user_id) if row is not None else None
            if user is None:
                return
            _leave(user, session_id)
        except Exception:
            db.session.rollback()
            log.exception("live disconnect bookkeeping failed sid=%s", request.sid)


@live_event(P.HEARTBEAT)
def on_heartbeat(user, data):
    ctx = joined(user)
    if not R.touch_sid(request.sid):  # our row was cleared (a long network stall): join again
        db.session.rollback()
        raise R.Refused(P.E_NOT_JOINED, _("Join the session first."))
    last_seq, _state = R.current_state(ctx.session_id)
    answer = {"ok": True, "seq": last_seq, **R.presence(ctx.session)}
    db.session.commit()
    return answer


# --- the lesson ---------------------------------------------------------------------------------------


@live_event(P.CHAT)
def on_chat(user, data):
    ctx = joined(user)
    text = R.get_text(data, "text", P.MAX_TEXT)
    appended = R.append(ctx, P.CHAT, P.K_CHAT, {"text": text, "name": user.name}, cid=data.get("cid"),
                        classroom_id=_speaking_for(ctx))
    return _accepted(ctx, appended)


def _start_window_open(live_session: LiveSession) -> bool:
    now = utcnow()
    return live_session.starts_at - timedelta(minutes=P.START_EARLY_MINUTES) <= now <= live_session.ends_at


@live_event(P.START)
def on_start(user, data):
    ctx = joined(user)

    def check(state):
        if state["started_at"]:
            raise R.Refused(P.E_CONFLICT, _("The lesson has already started."))
        if not _start_window_open(ctx.session):
            raise R.Refused(P.E_CONFLICT, _("A lesson can start from %(n)d minutes before its time until its end.",
                                            n=P.START_EARLY_MINUTES))

    return _accepted(ctx, R.append(ctx, P.START, P.K_STARTED, {}, cid=data.get("cid"), check=check))


@live_event(P.END)
def on_end(user, data):
    ctx = joined(user)

    def delivered(_event):
        # Ended by the main teacher: the period was given (it counts in the supervision figures).
        live_session = db.session.get(LiveSession, ctx.session_id)
        live_session.status = "done"

    return _accepted(ctx, R.append(ctx, P.END, P.K_ENDED, {}, cid=data.get("cid"), side_effect=delivered))


@live_event(P.START_TIMER)
def on_start_timer(user, data):
    ctx = joined(user)
    minutes = R.get_int(data, "minutes", 1, P.MAX_TIMER_MINUTES)
    return _accepted(ctx, R.append(ctx, P.START_TIMER, P.K_TIMER_STARTED, {"minutes": minutes}, cid=data.get("cid")))


@live_event(P.STOP_TIMER)
def on_stop_timer(user, data):
    ctx = joined(user)

    def check(state):
        if not state["timer"]:
            raise R.Refused(P.E_CONFLICT, _("No timer is running."))

    return _accepted(ctx, R.append(ctx, P.STOP_TIMER, P.K_TIMER_STOPPED, {}, cid=data.get("cid"), check=check))


# --- hands ----------------------------------------------------------------------------------------------


def _queued(state, classroom_id) -> bool:
    return any(h["classroom_id"] == classroom_id for h in state["hands"])


@live_event(P.RAISE_HAND)
def on_raise_hand(user, data):
    ctx = joined(user)
    R.check_role(ctx, P.RAISE_HAND)  # role first: a teacher has no "own classroom"
    classroom_id = R.own_classroom(ctx, data)

    def check(state):
        if _queued(state, classroom_id):
            raise R.Refused(P.E_CONFLICT, _("Your classroom's hand is already up."))

    return _accepted(ctx, R.append(ctx, P.RAISE_HAND, P.K_HAND_RAISED, {}, cid=data.get("cid"),
                                   classroom_id=classroom_id, check=check))


@live_event(P.LOWER_HAND)
def on_lower_hand(user, data):
    ctx = joined(user)
    R.check_role(ctx, P.LOWER_HAND)
    if ctx.role == P.TEACHER:
        classroom_id = R.get_int(data, "classroom_id")
    else:
        classroom_id = R.own_classroom(ctx, data)

    def check(state):
        if not _queued(state, classroom_id):
            raise R.Refused(P.E_CONFLICT, _("That classroom's hand is not up."))

    return _accepted(ctx, R.append(ctx, P.LOWER_HAND, P.K_HAND_LOWERED, {"by": ctx.role}, cid=data.get("cid"),
                                   classroom_id=classroom_id, check=check))


@live_event(P.ANSWER_HAND)
def on_answer_hand(user, data):
    ctx = joined(user)
    given = R.get_int(data, "classroom_id", required=False)

    def first_in_queue(state) -> int:
        if not state["hands"]:
            raise R.Refused(P.E_CONFLICT, _("No hand is up."))
        first = state["hands"][0]["classroom_id"]
        if given is not None and given != first:
            raise R.Refused(P.E_CONFLICT, _("Answer the hands in the order they were raised."))
        return first

    return _accepted(ctx, R.append(ctx, P.ANSWER_HAND, P.K_HAND_ANSWERED, {}, cid=data.get("cid"),
                                   classroom_id=first_in_queue))


# --- material and page --------------------------------------------------------------------------------


@live_event(P.SET_MATERIAL)
def on_set_material(user, data):
    ctx = joined(user)
    R.check_role(ctx, P.SET_MATERIAL)
    resource_id = R.get_int(data, "resource_id")
    page = R.get_int(data, "page", 1, P.MAX_PAGE, required=False) or 1
    resource = db.session.get(Resource, resource_id)
    if resource is None or resource.deleted_at is not None:
        raise R.Refused(P.E_NOT_FOUND, _("There is no such resource."))
    if not can_view_resource(user, resource):
        raise R.Refused(P.E_FORBIDDEN, _("You cannot use this resource."))
    payload = {"resource_id": resource.id, "title": resource.title, "page": page}
    return _accepted(ctx, R.append(ctx, P.SET_MATERIAL, P.K_MATERIAL, payload, cid=data.get("cid")))


@live_event(P.SET_PAGE)
def on_set_page(user, data):
    ctx = joined(user)
    page = R.get_int(data, "page", 1, P.MAX_PAGE)
    return _accepted(ctx, R.append(ctx, P.SET_PAGE, P.K_PAGE, {"page": page}, cid=data.get("cid")))


# --- polls ------------------------------------------------------------------------------------------------


@live_event(P.OPEN_POLL)
def on_open_poll(user, data):
    ctx = joined(user)
    question = R.get_text(data, "question", P.MAX_QUESTION)
    options = data["options"]
    if not isinstance(options, list) or not P.MIN_OPTIONS <= len(options) <= P.MAX_OPTIONS:
        raise R.Refused(P.E_BAD_REQUEST, _("options must be a list of %(low)d to %(high)d texts.",
                                           low=P.MIN_OPTIONS, high=P.MAX_OPTIONS))
    texts = [R.get_text({"option": o}, "option", P.MAX_OPTION) for o in options]
    if len(set(texts)) != len(texts):
        raise R.Refused(P.E_INVALID, _("Two options are the same."))

    def check(state):
        if state["poll"]:
            raise R.Refused(P.E_CONFLICT, _("Close the open poll first."))

    return _accepted(ctx, R.append(ctx, P.OPEN_POLL, P.K_POLL_OPENED, {"question": question, "options": texts},
                                   cid=data.get("cid"), check=check))


def _check_open_poll(state, poll_id: int) -> dict:
    poll = state["poll"]
    if poll is None or poll["id"] != poll_id:
        if any(p["id"] == poll_id for p in state["polls"]):
            raise R.Refused(P.E_CONFLICT, _("This poll is closed."))
        raise R.Refused(P.E_NOT_FOUND, _("There is no such poll."))
    return poll


@live_event(P.ANSWER_POLL)
def on_answer_poll(user, data):
    ctx = joined(user)
    R.check_role(ctx, P.ANSWER_POLL)
    classroom_id = R.own_classroom(ctx, data)
    poll_id = R.get_int(data, "poll_id")
    counts = data["counts"]
    if not isinstance(counts, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in counts):
        raise R.Refused(P.E_BAD_REQUEST, _("counts must be a list of whole numbers, one per option."))
    if any(n < 0 for n in counts):
        raise R.Refused(P.E_INVALID, _("A count cannot be negative."))
    classroom = db.session.get(Classroom, classroom_id)
    size = min(classroom.student_count or P.MAX_CLASS_SIZE, P.MAX_CLASS_SIZE)

    def check(state):
        poll = _check_open_poll(state, poll_id)
        if len(counts) != len(poll["options"]):
            raise R.Refused(P.E_BAD_REQUEST, _("counts must have one number per option (%(n)d).",
                                               n=len(poll["options"])))
        checked = next((a for a in state["attendance"] if a["classroom_id"] == classroom_id), None)
        limit = checked["present"] if checked else size
        if sum(counts) > limit:
            raise R.Refused(P.E_INVALID, _("The counts add up to more than the %(n)d students in the class.", n=limit))

    return _accepted(ctx, R.append(ctx, P.ANSWER_POLL, P.K_POLL_ANSWERED, {"poll_id": poll_id, "counts": counts},
                                   cid=data.get("cid"), classroom_id=classroom_id, check=check))


@live_event(P.CLOSE_POLL)
def on_close_poll(user, data):
    ctx = joined(user)
    poll_id = R.get_int(data, "poll_id")
    return _accepted(ctx, R.append(ctx, P.CLOSE_POLL, P.K_POLL_CLOSED, {"poll_id": poll_id}, cid=data.get("cid"),
                                   check=lambda state: _check_open_poll(state, poll_id)))


# --- attendance check-in ---------------------------------------------------------------------------------


@live_event(P.CHECK_IN)
def on_check_in(user, data):
    ctx = joined(user)
    R.check_role(ctx, P.CHECK_IN)
    classroom_id = R.own_classroom(ctx, data)
    class_size = R.get_int(data, "class_size", 1, P.MAX_CLASS_SIZE)
    present = R.get_int(data, "present", 0, P.MAX_CLASS_SIZE)
    if present > class_size:
        raise R.Refused(P.E_INVALID, _("More students present than in the class."))
    feedback = R.get_text(data, "feedback", P.MAX_TEXT, required=False)

    def record(_event):
        from ..scheduling.attendance import record_attendance

        record_attendance(user, db.session.get(LiveSession, ctx.session_id), classroom_id, present=present,
                          class_size=class_size, feedback=feedback)

    payload = {"present": present, "class_size": class_size, "feedback": feedback}
    return _accepted(ctx, R.append(ctx, P.CHECK_IN, P.K_CHECKED_IN, payload, cid=data.get("cid"),
                                   classroom_id=classroom_id, side_effect=record))
