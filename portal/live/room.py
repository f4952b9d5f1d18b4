"""The live room's rules and timeline: validate an event, number it, store it with the room's
new state and commit, and only then let the handler ack and broadcast it.

Nothing that matters lives in one process's memory: the timeline (``live_events``), the room's
state (``live_room_states``, kept in step with the timeline by a compare-and-set on
``last_seq``) and the open sockets (``live_connections``, for presence) are all in the database,
so any process, a restarted one included, answers a ``join`` with the whole current state.
Protocol (names, shapes, limits): ``protocol.py``.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from limits import parse_many
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..core.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from ..core.i18n import gettext as _
from ..core.models import utcnow
from ..core.sanitize import strip_controls
from ..core.timeutil import isoformat_local
from ..extensions import db, limiter
from ..org.models import Classroom
from ..scheduling.models import LiveClass, LiveSession, ReceivingClassroom
from . import protocol as P
from .models import LiveConnection, LiveEvent, LiveRoomState
from .permissions import room_role

log = logging.getLogger("portal.audit")
_CID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_ID = 2**31 - 1
RETRIES = 6


class Refused(Exception):
    """An event the room does not accept: the handler acks ``{"ok": false, "error", "code"}``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def ack(self) -> dict:
        return {"ok": False, "error": str(self.message), "code": self.code}


_DOMAIN_CODES = {Invalid: P.E_INVALID, NotAllowed: P.E_FORBIDDEN, NotFound: P.E_NOT_FOUND, Conflict: P.E_CONFLICT}


def refused_from(error: DomainError) -> Refused:
    for cls, code in _DOMAIN_CODES.items():
        if isinstance(error, cls):
            return Refused(code, error.message)
    return Refused(P.E_INVALID, error.message)


# --- reading and checking a client's payload -------------------------------------------------


def check_payload(event: str, data) -> dict:
    """The payload as a dict with only known fields, the required ones present, cid well formed."""
    if data is None and not P.C2S_FIELDS[event][1]:
        data = {}
    if not isinstance(data, dict):
        raise Refused(P.E_BAD_REQUEST, _("The message must be a JSON object."))
    allowed, required = P.C2S_FIELDS[event]
    unknown = sorted(str(k)[:40] for k in data if k not in allowed and k != "cid")
    if unknown:
        raise Refused(P.E_BAD_REQUEST, _("Unknown field: %(name)s.", name=", ".join(unknown)))
    missing = sorted(required - set(data))
    if missing:
        raise Refused(P.E_BAD_REQUEST, _("%(field)s is required.", field=missing[0]))
    cid = data.get("cid")
    if cid is not None and not (isinstance(cid, str) and _CID.match(cid)):
        raise Refused(P.E_BAD_REQUEST, _("cid must be 1 to 64 letters, digits or _-.: characters."))
    return data


def get_int(data: dict, name: str, low: int = 1, high: int = MAX_ID, *, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(P.E_BAD_REQUEST, _("%(field)s must be a whole number.", field=name))
    if not low <= value <= high:
        raise Refused(P.E_INVALID, _("%(field)s must be a whole number from %(low)d to %(high)d.",
                                     field=name, low=low, high=high))
    return value


def get_text(data: dict, name: str, max_length: int, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise Refused(P.E_BAD_REQUEST, _("%(field)s must be text.", field=name))
    if len(value) > max_length:
        raise Refused(P.E_TOO_LONG, _("%(field)s is too long (at most %(n)d characters).", field=name, n=max_length))
    text = strip_controls(value).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: no database can store them
        raise Refused(P.E_BAD_REQUEST, _("%(field)s is not valid text.", field=name)) from None
    if required and not text:
        raise Refused(P.E_BAD_REQUEST, _("%(field)s is required.", field=name))
    return text


def rate_limit(event: str, user_id: int) -> None:
    """Per person and event; shared by every process through Flask-Limiter's storage (Redis when
    REDIS_URL is set). A refused event uses up the budget too: spam is spam."""
    if not limiter.enabled:
        return
    for item in parse_many(P.RATES.get(event, P.RATES["*"])):
        if not limiter.limiter.hit(item, "live", event, str(user_id)):
            raise Refused(P.E_RATE_LIMITED, _("Too many messages; wait a moment and try again."))


# --- who is asking, in which session ---------------------------------------------------------


@dataclass
class Ctx:
    user: User
    session: LiveSession
    role: str
    classroom_ids: list[int] = field(default_factory=list)
    sid: str | None = None
    session_id: int = 0  # kept apart: reading session.id after a commit would reload the session

    def __post_init__(self):
        self.session_id = self.session.id

    @property
    def live_class(self) -> LiveClass:
        return self.session.live_class


def load_session(session_id: int) -> LiveSession | None:
    """The session with its class, rooms, schools and people: two queries."""
    return db.session.execute(
        select(LiveSession).where(LiveSession.id == session_id).options(
            joinedload(LiveSession.live_class).options(
                joinedload(LiveClass.main_classroom).joinedload(Classroom.school),
                joinedload(LiveClass.main_teacher),
                selectinload(LiveClass.receiving).options(
                    joinedload(ReceivingClassroom.classroom).joinedload(Classroom.school),
                    joinedload(ReceivingClassroom.assistant)),
            )
        )
    ).unique().scalar_one_or_none()


def context_for(user, session_id, sid: str | None) -> Ctx:
    """The person's place in a session's room; refused for an unknown session or no access."""
    if isinstance(session_id, bool) or not isinstance(session_id, int) or not 1 <= session_id <= MAX_ID:
        raise Refused(P.E_BAD_REQUEST, _("session_id must be a whole number."))
    session = load_session(session_id)
    if session is None:
        raise Refused(P.E_NOT_FOUND, _("There is no such session."))
    role, rooms = room_role(user, session)
    if role is None:
        raise Refused(P.E_FORBIDDEN, _("You are not part of this session."))
    return Ctx(user=user, session=session, role=role, classroom_ids=rooms, sid=sid)


def own_classroom(ctx: Ctx, data: dict) -> int:
    """The receiving classroom an assistant speaks for (named when they assist several)."""
    given = get_int(data, "classroom_id", required=False)
    if given is None:
        if len(ctx.classroom_ids) != 1:
            raise Refused(P.E_BAD_REQUEST, _("classroom_id is required: you assist several classrooms."))
        return ctx.classroom_ids[0]
    if given not in ctx.classroom_ids:
        raise Refused(P.E_FORBIDDEN, _("You speak only for your own classroom."))
    return given


def check_role(ctx: Ctx, event: str) -> None:
    if ctx.role not in P.WHO[event]:
        raise Refused(P.E_FORBIDDEN, _("Your role in this session cannot do that."))


def check_allowed(ctx: Ctx, event: str, state: dict) -> None:
    """The role, then the lesson's phase: cancelled, not started, ended."""
    check_role(ctx, event)
    if ctx.session.status == "cancelled":
        raise Refused(P.E_CONFLICT, _("This session was cancelled."))
    if state.get("ended_at") and event not in P.AFTER_END:
        raise Refused(P.E_CONFLICT, _("The lesson has ended."))
    if not state.get("started_at") and event not in P.BEFORE_START:
        raise Refused(P.E_CONFLICT, _("The main teacher has not started the lesson yet."))


# --- the state: a fold over the events ---------------------------------------------------------


def empty_state() -> dict:
    return {"started_at": None, "ended_at": None, "timer": None, "hands": [], "material": None, "page": None,
            "poll": None, "polls": [], "attendance": []}


def _totals(poll: dict) -> list[int]:
    totals = [0] * len(poll["options"])
    for answer in poll["answers"]:
        for i, n in enumerate(answer["counts"]):
            totals[i] += n
    return totals


def apply(state: dict, kind: str, payload: dict, *, seq: int, at: str, classroom_id: int | None) -> dict:
    """The room's state after one event (pure: same events, same state)."""
    s = copy.deepcopy(state)
    if kind == P.K_STARTED:
        s["started_at"] = at
    elif kind == P.K_ENDED:
        s["ended_at"] = at
        s["timer"] = None
        s["hands"] = []
        if s["poll"]:  # ending the lesson closes the open poll
            s["poll"]["open"] = False
            s["polls"].append(s["poll"])
            s["poll"] = None
    elif kind == P.K_HAND_RAISED:
        s["hands"].append({"classroom_id": classroom_id, "at": at})
    elif kind in (P.K_HAND_LOWERED, P.K_HAND_ANSWERED):
        s["hands"] = [h for h in s["hands"] if h["classroom_id"] != classroom_id]
    elif kind == P.K_MATERIAL:
        s["material"] = {"resource_id": payload["resource_id"], "title": payload["title"]}
        s["page"] = payload["page"]
    elif kind == P.K_PAGE:
        s["page"] = payload["page"]
    elif kind == P.K_POLL_OPENED:
        s["poll"] = {"id": seq, "question": payload["question"], "options": payload["options"], "open": True,
                     "answers": [], "totals": [0] * len(payload["options"])}
    elif kind == P.K_POLL_ANSWERED:
        poll = s["poll"]
        poll["answers"] = [a for a in poll["answers"] if a["classroom_id"] != classroom_id]
        poll["answers"].append({"classroom_id": classroom_id, "counts": payload["counts"]})
        poll["answers"].sort(key=lambda a: a["classroom_id"])
        poll["totals"] = _totals(poll)
    elif kind == P.K_POLL_CLOSED:
        s["poll"]["open"] = False
        s["polls"].append(s["poll"])
        s["poll"] = None
    elif kind == P.K_CHECKED_IN:
        s["attendance"] = [a for a in s["attendance"] if a["classroom_id"] != classroom_id]
        s["attendance"].append({"classroom_id": classroom_id, "present": payload["present"],
                                "class_size": payload["class_size"], "at": at})
        s["attendance"].sort(key=lambda a: a["classroom_id"])
    elif kind == P.K_TIMER_STARTED:
        s["timer"] = {"started_at": at, "minutes": payload["minutes"]}
    elif kind == P.K_TIMER_STOPPED:
        s["timer"] = None
    return s  # joined, left, chat: the timeline only


def rebuild_state(session_id: int) -> tuple[int, dict]:
    """(last seq, state) folded from the stored events alone: what LiveRoomState must equal."""
    state, last = empty_state(), 0
    for event in db.session.execute(
            select(LiveEvent).where(LiveEvent.session_id == session_id).order_by(LiveEvent.seq)).scalars():
        state = apply(state, event.kind, event.payload, seq=event.seq, at=isoformat_local(event.created_at),
                      classroom_id=event.classroom_id)
        last = event.seq
    return last, state


def _state_row(session_id: int, *, lock: bool) -> LiveRoomState:
    stmt = select(LiveRoomState).where(LiveRoomState.session_id == session_id)
    if lock:
        # Take the write lock before reading: a no-op UPDATE locks the row on PostgreSQL and takes
        # SQLite's single write lock (waiting for it), so writers to a room queue up instead of
        # reading the same state and all but one failing the compare-and-set below.
        db.session.execute(update(LiveRoomState).where(LiveRoomState.session_id == session_id)
                           .values(last_seq=LiveRoomState.last_seq).execution_options(synchronize_session=False))
    row = db.session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if row is None:
        # First event of the room. Its state is the fold of its events (none yet, or any left
        # by an older version that kept no state row).
        last, state = rebuild_state(session_id)
        try:
            with db.session.begin_nested():
                db.session.add(LiveRoomState(session_id=session_id, last_seq=last, state=state))
        except IntegrityError:  # another process made it first
            pass
        row = db.session.execute(stmt.with_for_update() if lock else stmt).scalar_one()
    return row


def current_state(session_id: int) -> tuple[int, dict]:
    row = db.session.execute(select(LiveRoomState).where(LiveRoomState.session_id == session_id)).scalar_one_or_none()
    return (row.last_seq, row.state) if row is not None else rebuild_state(session_id)


# --- appending an event --------------------------------------------------------------------------


@dataclass
class Appended:
    event: LiveEvent
    state: dict
    duplicate: bool = False


def append(ctx: Ctx, event_name: str, kind: str, payload: dict, *, cid: str | None = None,
           classroom_id=None, check=None, side_effect=None) -> Appended:
    """Store one event and the room's new state, then commit. ``check(state)`` may refuse it
    against the current state; ``classroom_id`` may be a function of the state (the first hand
    in the queue); ``side_effect(event)`` runs in the same transaction (e.g. marking
    the session delivered). A replayed cid returns the stored event, changing nothing."""
    session_id, user_id = ctx.session_id, ctx.user.id
    for _attempt in range(RETRIES):
        try:
            if cid is not None:
                earlier = db.session.execute(select(LiveEvent).where(
                    LiveEvent.session_id == session_id, LiveEvent.user_id == user_id, LiveEvent.cid == cid)
                ).scalar_one_or_none()
                if earlier is not None:
                    return Appended(earlier, current_state(session_id)[1], duplicate=True)
            row = _state_row(session_id, lock=True)
            last_seq, state = row.last_seq, row.state
            check_allowed(ctx, event_name, state)
            if check is not None:
                check(state)
            room_id = classroom_id(state) if callable(classroom_id) else classroom_id
            now = utcnow()
            seq = last_seq + 1
            event = LiveEvent(session_id=session_id, seq=seq, kind=kind, user_id=user_id, classroom_id=room_id,
                              payload=payload, cid=cid, created_at=now)
            db.session.add(event)
            db.session.flush()
            new_state = apply(state, kind, payload, seq=seq, at=isoformat_local(now), classroom_id=room_id)
            moved = db.session.execute(
                update(LiveRoomState)
                .where(LiveRoomState.session_id == session_id, LiveRoomState.last_seq == last_seq)
                .values(last_seq=seq, state=new_state, updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if moved != 1:  # another process numbered an event in between: read again
                db.session.rollback()
                continue
            if side_effect is not None:
                side_effect(event)
            db.session.commit()
            if kind not in (P.K_JOINED, P.K_LEFT, P.K_CHAT):
                log.info("live event session=%s seq=%s kind=%s user=%s", session_id, seq, kind, user_id)
            return Appended(event, new_state)
        except (IntegrityError, OperationalError):
            # A concurrent writer took this seq or this cid (or SQLite's write lock): try again.
            db.session.rollback()
        except DomainError as error:
            db.session.rollback()
            raise refused_from(error) from None
        except Refused:
            db.session.rollback()
            raise
    raise Refused(P.E_SERVER, _("The room is busy; please try again."))


# --- presence: the open sockets in the database -------------------------------------------------


def _online_since():
    return utcnow() - timedelta(seconds=P.PRESENCE_TTL_SECONDS)


def connect_sid(ctx: Ctx) -> None:
    """Record this socket as joined (one session per socket), without committing."""
    db.session.execute(delete(LiveConnection).where(LiveConnection.sid == ctx.sid))
    # Rows of sockets gone with a dead process stop counting after the TTL; clear old ones here.
    db.session.execute(delete(LiveConnection).where(
        LiveConnection.session_id == ctx.session_id, LiveConnection.last_seen_at < _online_since()))
    db.session.add(LiveConnection(sid=ctx.sid, session_id=ctx.session_id, user_id=ctx.user.id, role=ctx.role))


def drop_sid(sid: str) -> LiveConnection | None:
    """Forget a socket; the row it had (to record who left), or None."""
    row = connection_of(sid)
    if row is not None:
        db.session.delete(row)
    return row


def connection_of(sid: str) -> LiveConnection | None:
    return db.session.execute(select(LiveConnection).where(LiveConnection.sid == sid)).scalar_one_or_none()


def touch_sid(sid: str) -> bool:
    return bool(db.session.execute(
        update(LiveConnection).where(LiveConnection.sid == sid).values(last_seen_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount)


def live_sids_of(user_id: int) -> list[str]:
    return list(db.session.execute(select(LiveConnection.sid).where(LiveConnection.user_id == user_id)).scalars())


def presence(session: LiveSession) -> dict:
    """Who is here: each classroom (its teacher's console online or not) and the observers."""
    rows = db.session.execute(
        select(LiveConnection.user_id, LiveConnection.role).where(
            LiveConnection.session_id == session.id, LiveConnection.last_seen_at >= _online_since())
    ).all()
    online = {user_id for user_id, _role in rows}
    observer_ids = sorted({user_id for user_id, role in rows if role == P.OBSERVER})
    live_class = session.live_class
    main = live_class.main_classroom
    participants = [{
        "classroom_id": main.id, "name": main.name, "school": main.school.name, "main": True,
        "user_id": live_class.main_teacher_id, "user_name": live_class.main_teacher.name,
        "class_size": main.student_count or None, "online": live_class.main_teacher_id in online,
    }]
    for r in live_class.receiving:
        participants.append({
            "classroom_id": r.classroom_id, "name": r.classroom.name, "school": r.classroom.school.name,
            "main": False, "user_id": r.assistant_id, "user_name": r.assistant.name,
            "class_size": r.classroom.student_count or None, "online": r.assistant_id in online,
        })
    observers = []
    if observer_ids:
        observers = [{"user_id": u.id, "name": u.name, "role": u.role} for u in db.session.execute(
            select(User).where(User.id.in_(observer_ids)).order_by(User.id)).scalars()]
    return {"participants": participants, "observers": observers}


# --- what clients receive ------------------------------------------------------------------------


def chat_json(event: LiveEvent) -> dict:
    return {"id": event.id, "user_id": event.user_id, "name": event.payload.get("name", ""),
            "text": event.payload.get("text", ""), "at": isoformat_local(event.created_at), "seq": event.seq,
            "kind": event.kind, "classroom_id": event.classroom_id}


def broadcast_of(event: LiveEvent, state: dict, session: LiveSession) -> tuple[str, dict]:
    """(event name, payload) everyone in the room receives for a stored event."""
    head = {"seq": event.seq, "kind": event.kind, "at": isoformat_local(event.created_at)}
    kind = event.kind
    if kind == P.K_CHAT:
        return P.CHAT, chat_json(event)
    if kind in (P.K_JOINED, P.K_LEFT):
        return P.PRESENCE, {**head, **presence(session)}
    if kind in (P.K_STARTED, P.K_ENDED, P.K_TIMER_STARTED, P.K_TIMER_STOPPED):
        return P.LESSON, {**head, "started_at": state["started_at"], "ended_at": state["ended_at"],
                          "timer": state["timer"]}
    if kind in (P.K_HAND_RAISED, P.K_HAND_LOWERED, P.K_HAND_ANSWERED):
        return P.HANDS, {**head, "hands": state["hands"], "classroom_id": event.classroom_id}
    if kind in (P.K_MATERIAL, P.K_PAGE):
        return P.MATERIAL, {**head, "material": state["material"], "page": state["page"]}
    if kind in (P.K_POLL_OPENED, P.K_POLL_ANSWERED, P.K_POLL_CLOSED):
        closed = None
        if kind == P.K_POLL_CLOSED:
            closed = next((p for p in state["polls"] if p["id"] == event.payload.get("poll_id")), None)
        return P.POLL, {**head, "poll": state["poll"], "closed": closed}
    if kind == P.K_CHECKED_IN:
        return P.ATTENDANCE, {**head, "attendance": state["attendance"], "classroom_id": event.classroom_id}
    raise ValueError(kind)


def chat_history(session_id: int) -> list[dict]:
    events = db.session.execute(
        select(LiveEvent).where(LiveEvent.session_id == session_id, LiveEvent.kind == P.K_CHAT)
        .order_by(LiveEvent.seq.desc()).limit(P.CHAT_HISTORY)).scalars().all()
    return [chat_json(e) for e in reversed(events)]


def state_json(ctx: Ctx) -> dict:
    """The whole current state for a join answer (CONTRACT.md: presence, hands, page, open poll, chat)."""
    session, live_class = ctx.session, ctx.live_class
    last_seq, state = current_state(session.id)
    return {
        "session": {"id": session.id, "live_class_id": live_class.id, "title": live_class.title,
                    "subject": live_class.subject, "starts_at": isoformat_local(session.starts_at),
                    "ends_at": isoformat_local(session.ends_at), "status": session.status},
        "seq": last_seq,
        "you": {"user_id": ctx.user.id, "name": ctx.user.name, "role": ctx.role, "classroom_ids": ctx.classroom_ids},
        "started_at": state["started_at"], "ended_at": state["ended_at"], "timer": state["timer"],
        **presence(session),
        "hands": state["hands"], "material": state["material"], "page": state["page"],
        "poll": state["poll"], "polls": state["polls"], "attendance": state["attendance"],
        "chat": chat_history(session.id),
    }
