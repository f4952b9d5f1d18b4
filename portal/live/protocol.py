"""Socket.IO protocol of the portal: event names, payload shapes, limits, acks, error codes,
rooms, and the helpers HTTP code uses to push to open pages.

Every emit from the portal goes through a function or a constant here, so event names and
payload shapes are defined once. The live room (namespace ``/live``) is implemented in
``portal/live/room.py`` (the rules and the timeline) and ``portal/live/events.py`` (handlers).

Default namespace ``/``
=======================

Server → client: ``notification {"id", "text", "link"}``; ``session_ended {}`` (the login
ended: logout, password change, deactivation — the socket is then disconnected).

Live room: namespace ``/live``
==============================

Connect with the portal's session cookie (same origin) or ``auth={"token": "<API token>"}``;
without a valid login the connection is refused (``connect_error`` "unauthorized").

Every client → server event takes ONE JSON object and should be sent with an ack callback.
The ack is always one object::

    {"ok": true, ...}                                     accepted
    {"ok": false, "error": "<message for people>", "code": "<ERROR code below>"}   refused

A refused event changes nothing and nobody else hears of it. Unknown fields, wrong types and
oversize values are refused (code ``bad_request`` / ``too_long``). ``error`` is in the person's
language (their account's locale, token sockets included); clients show it, and branch on ``code``.

``cid`` (client id, optional on every changing event): 1–64 characters of ``A-Z a-z 0-9 _ - . :``,
unique per person and session (a UUID is fine). A replay of an accepted ``cid`` (the client
re-sending after a reconnect) is not applied again and not broadcast again: its ack is
``{"ok": true, "seq": N (the stored event's), "duplicate": true, "event": <its broadcast payload;
for slices, the slice as it is now>}``. An accepted event's ack is ``{"ok": true, "seq": N,
"event": <the payload broadcast to the room>}``.

Order: the server numbers every accepted event per session (``seq``: 1, 2, 3 …) and stores it
(table ``live_events``) and commits BEFORE it acks and broadcasts. Every broadcast payload
carries ``seq``, ``kind`` (the stored kind, column "kind" below) and ``at`` (ISO 8601). Apart
from ``chat`` (append), each broadcast carries the WHOLE slice of state it changes, so a client
replaces that slice if ``seq`` is newer than the last one it applied to it; when a client sees a
gap it cannot explain or reconnects, it sends ``join`` again and replaces its whole state.

Client → server (C2S)
---------------------

==============  ======================================  ==============  =======================  ==========
event           payload (besides optional ``cid``)      who             stored kind / broadcast  ack extra
==============  ======================================  ==============  =======================  ==========
join            session_id:int                          T, A, O         joined / presence        state
leave           session_id?:int                         joined          left / presence          —
heartbeat       {} (every HEARTBEAT_SECONDS)            joined          — (keeps presence)       seq, presence
chat            text:str (1–500)                        T, A            chat / chat              seq, event
start           {}                                      T               started / lesson         seq, event
end             {}                                      T               ended / lesson           seq, event
raise_hand      classroom_id?:int                       A               hand_raised / hands      seq, event
lower_hand      classroom_id?:int (T: required)         A (own), T      hand_lowered / hands     seq, event
answer_hand     classroom_id?:int (must be the first)   T               hand_answered / hands    seq, event
set_material    resource_id:int, page?:int (1–5000)     T               material / material      seq, event
set_page        page:int (1–5000)                       T               page / material          seq, event
open_poll       question:str (1–200),                   T               poll_opened / poll       seq, event
                options:[str 1–60] (2–6)
answer_poll     poll_id:int, counts:[int ≥0] (one per   A (own room)    poll_answered / poll     seq, event
                option, sum ≤ class size),
                classroom_id?:int
close_poll      poll_id:int                             T               poll_closed / poll       seq, event
check_in        present:int (0–class_size),             A (own room)    checked_in / attendance  seq, event
                class_size:int (1–200),
                feedback?:str (≤500), classroom_id?:int
start_timer     minutes:int (1–180)                     T               timer_started / lesson   seq, event
stop_timer      {}                                      T               timer_stopped / lesson   seq, event
==============  ======================================  ==============  =======================  ==========

Who: T the main teacher, A an assistant of a receiving classroom, O an observer (the principals
of the schools involved, the county's researchers and bureau: read-only). ``classroom_id`` is
needed only by an assistant of several receiving classrooms of the class. Before ``start``:
join, leave, heartbeat, chat, set_material, set_page and start only. After ``end``: join,
leave, heartbeat only. A socket is in one session at a time (a new ``join`` leaves the old).

``heartbeat`` ack: ``{"ok": true, "seq": last seq, "participants": [...], "observers": [...]}`` —
a client whose seq is behind (it missed a broadcast) joins again. Presence comes from the open
sockets in the database: a socket not heard from for PRESENCE_TTL_SECONDS (its process died)
stops counting, so clients must send heartbeats.

``join`` ack: ``{"ok": true, "state": STATE}`` — CONTRACT.md. ``last_seq`` (optional) is accepted
for the client's bookkeeping; the answer is always the whole state. STATE::

    {"session": {"id", "live_class_id", "title", "subject", "starts_at", "ends_at", "status"},
     "seq": int (last accepted event),
     "you": {"user_id", "name", "role": "teacher"|"assistant"|"observer", "classroom_ids": [int]},
     "started_at": iso|null, "ended_at": iso|null,
     "timer": {"started_at": iso, "minutes": int} | null,
     "participants": [PARTICIPANT]   (main classroom first, then receiving classrooms in order),
     "observers": [{"user_id", "name", "role"}]   (online now),
     "hands": [{"classroom_id", "at"}]            (the queue, first = next to answer),
     "material": {"resource_id", "title"} | null,
     "page": int | null,
     "poll": POLL | null                           (the open poll),
     "polls": [POLL]                               (closed ones, oldest first),
     "attendance": [{"classroom_id", "present", "class_size", "at"}],
     "chat": [CHAT]                                (the last CHAT_HISTORY messages, oldest first)}
    PARTICIPANT = {"classroom_id", "name", "school", "main": bool, "user_id", "user_name",
                   "class_size": int|null, "online": bool}
    POLL = {"id" (= seq of its poll_opened), "question", "options": [str], "open": bool,
            "answers": [{"classroom_id", "counts": [int]}], "totals": [int]}
    CHAT = {"id", "user_id", "name", "text", "at", "seq", "classroom_id": int|null}

Server → client broadcasts (to everyone in the session's room)
--------------------------------------------------------------

==========  ============================================================================
event       payload (plus "seq", "kind", "at")
==========  ============================================================================
chat        CHAT (CONTRACT.md: "id", "user_id", "name", "text", "at"; text is plain text:
            render it as text, never as HTML)
presence    {"participants": [PARTICIPANT], "observers": [...]}
lesson      {"started_at", "ended_at", "timer"}
hands       {"hands": [...], "classroom_id": the room concerned}
material    {"material": {...}|null, "page": int|null}
poll        {"poll": POLL|null (open one), "closed": POLL|null (set on poll_closed)}
attendance  {"attendance": [...], "classroom_id"}
removed     {"reason"} to one socket whose access to the session ended (then it is out)
==========  ============================================================================

Errors (``code`` in a refused ack)
----------------------------------

``unauthorized`` login ended · ``not_joined`` event before join · ``bad_request`` not an object,
unknown field, wrong type · ``too_long`` text over its limit · ``not_found`` unknown session,
resource, poll · ``forbidden`` not allowed for your role or room · ``rate_limited`` too many
events (RATES) · ``conflict`` not possible now (not started, ended, cancelled, no open poll, a
poll already open, hand already raised, not the first in the queue …) · ``invalid`` a value out
of range (counts over the class size …) · ``server_error`` unexpected (logged; nothing stored).
"""

from __future__ import annotations

from flask import current_app

from ..extensions import socketio

NAMESPACES = ("/", "/live")
LIVE = "/live"

# Server → client events on the default namespace
NOTIFICATION = "notification"
SESSION_ENDED = "session_ended"

# --- live room: client → server events ---------------------------------------------------
JOIN = "join"
LEAVE = "leave"
HEARTBEAT = "heartbeat"
CHAT = "chat"
START = "start"
END = "end"
RAISE_HAND = "raise_hand"
LOWER_HAND = "lower_hand"
ANSWER_HAND = "answer_hand"
SET_MATERIAL = "set_material"
SET_PAGE = "set_page"
OPEN_POLL = "open_poll"
ANSWER_POLL = "answer_poll"
CLOSE_POLL = "close_poll"
CHECK_IN = "check_in"
START_TIMER = "start_timer"
STOP_TIMER = "stop_timer"

# --- live room: server → client broadcasts ------------------------------------------------
# (CHAT above is both: a client sends chat {"text"}, everyone receives chat {...})
PRESENCE = "presence"
LESSON = "lesson"
HANDS = "hands"
MATERIAL = "material"
POLL = "poll"
ATTENDANCE = "attendance"
REMOVED = "removed"

# --- roles in a room ------------------------------------------------------------------------
TEACHER = "teacher"  # the main teacher: controls
ASSISTANT = "assistant"  # the assistant of a receiving classroom: that classroom's console
OBSERVER = "observer"  # principals concerned, county researchers and bureau: read-only
ROOM_ROLES = (TEACHER, ASSISTANT, OBSERVER)

# --- stored event kinds (live_events.kind) -------------------------------------------------
K_JOINED = "joined"
K_LEFT = "left"
K_CHAT = "chat"
K_STARTED = "started"
K_ENDED = "ended"
K_HAND_RAISED = "hand_raised"
K_HAND_LOWERED = "hand_lowered"
K_HAND_ANSWERED = "hand_answered"
K_MATERIAL = "material"
K_PAGE = "page"
K_POLL_OPENED = "poll_opened"
K_POLL_ANSWERED = "poll_answered"
K_POLL_CLOSED = "poll_closed"
K_CHECKED_IN = "checked_in"
K_TIMER_STARTED = "timer_started"
K_TIMER_STOPPED = "timer_stopped"
EVENT_KINDS = (K_JOINED, K_LEFT, K_CHAT, K_STARTED, K_ENDED, K_HAND_RAISED, K_HAND_LOWERED, K_HAND_ANSWERED,
               K_MATERIAL, K_PAGE, K_POLL_OPENED, K_POLL_ANSWERED, K_POLL_CLOSED, K_CHECKED_IN,
               K_TIMER_STARTED, K_TIMER_STOPPED)

# --- error codes -----------------------------------------------------------------------------
E_UNAUTHORIZED = "unauthorized"
E_NOT_JOINED = "not_joined"
E_BAD_REQUEST = "bad_request"
E_TOO_LONG = "too_long"
E_NOT_FOUND = "not_found"
E_FORBIDDEN = "forbidden"
E_RATE_LIMITED = "rate_limited"
E_CONFLICT = "conflict"
E_INVALID = "invalid"
E_SERVER = "server_error"
ERROR_CODES = (E_UNAUTHORIZED, E_NOT_JOINED, E_BAD_REQUEST, E_TOO_LONG, E_NOT_FOUND, E_FORBIDDEN,
               E_RATE_LIMITED, E_CONFLICT, E_INVALID, E_SERVER)

# --- limits ------------------------------------------------------------------------------------
MAX_TEXT = 500  # chat text and check-in feedback, in characters
MAX_QUESTION = 200
MAX_OPTION = 60
MIN_OPTIONS, MAX_OPTIONS = 2, 6
MAX_PAGE = 5000
MAX_CLASS_SIZE = 200
MAX_TIMER_MINUTES = 180
MAX_CID = 64
CHAT_HISTORY = 300  # chat messages given in a join's state
HEARTBEAT_SECONDS = 20  # a joined client sends heartbeat this often
PRESENCE_TTL_SECONDS = 75  # a connection not heard from for this long is offline (a dead process's sockets)
START_EARLY_MINUTES = 30  # the main teacher may start this long before the scheduled start
# Rates per person (all processes together when REDIS_URL is set): event → limits string.
RATES = {
    JOIN: "20/minute",
    HEARTBEAT: "12/minute",
    CHAT: "5/10second;30/minute",
    RAISE_HAND: "10/minute",
    LOWER_HAND: "10/minute",
    "*": "60/minute",
}

# Client → server events: (allowed fields, fields that are required). ``cid`` is allowed on all.
C2S_FIELDS: dict[str, tuple[frozenset, frozenset]] = {
    JOIN: (frozenset({"session_id", "last_seq"}), frozenset({"session_id"})),
    LEAVE: (frozenset({"session_id"}), frozenset()),
    HEARTBEAT: (frozenset(), frozenset()),
    CHAT: (frozenset({"text"}), frozenset({"text"})),
    START: (frozenset(), frozenset()),
    END: (frozenset(), frozenset()),
    RAISE_HAND: (frozenset({"classroom_id"}), frozenset()),
    LOWER_HAND: (frozenset({"classroom_id"}), frozenset()),
    ANSWER_HAND: (frozenset({"classroom_id"}), frozenset()),
    SET_MATERIAL: (frozenset({"resource_id", "page"}), frozenset({"resource_id"})),
    SET_PAGE: (frozenset({"page"}), frozenset({"page"})),
    OPEN_POLL: (frozenset({"question", "options"}), frozenset({"question", "options"})),
    ANSWER_POLL: (frozenset({"poll_id", "counts", "classroom_id"}), frozenset({"poll_id", "counts"})),
    CLOSE_POLL: (frozenset({"poll_id"}), frozenset({"poll_id"})),
    CHECK_IN: (frozenset({"present", "class_size", "feedback", "classroom_id"}),
               frozenset({"present", "class_size"})),
    START_TIMER: (frozenset({"minutes"}), frozenset({"minutes"})),
    STOP_TIMER: (frozenset(), frozenset()),
}
# Who may send what (join is checked against the session itself).
WHO: dict[str, frozenset] = {
    JOIN: frozenset(ROOM_ROLES),
    LEAVE: frozenset(ROOM_ROLES),
    HEARTBEAT: frozenset(ROOM_ROLES),
    CHAT: frozenset({TEACHER, ASSISTANT}),
    START: frozenset({TEACHER}),
    END: frozenset({TEACHER}),
    RAISE_HAND: frozenset({ASSISTANT}),
    LOWER_HAND: frozenset({TEACHER, ASSISTANT}),
    ANSWER_HAND: frozenset({TEACHER}),
    SET_MATERIAL: frozenset({TEACHER}),
    SET_PAGE: frozenset({TEACHER}),
    OPEN_POLL: frozenset({TEACHER}),
    ANSWER_POLL: frozenset({ASSISTANT}),
    CLOSE_POLL: frozenset({TEACHER}),
    CHECK_IN: frozenset({ASSISTANT}),
    START_TIMER: frozenset({TEACHER}),
    STOP_TIMER: frozenset({TEACHER}),
}
# Events allowed before the main teacher starts the lesson (the rest wait for "start").
BEFORE_START = frozenset({JOIN, LEAVE, HEARTBEAT, CHAT, START, SET_MATERIAL, SET_PAGE})
# Events allowed once the lesson has ended.
AFTER_END = frozenset({JOIN, LEAVE, HEARTBEAT})


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def session_room(session_id: int) -> str:
    """Everyone joined to one live session (namespace /live)."""
    return f"session:{session_id}"


def push_notification(user_id: int, payload: dict) -> None:
    socketio.emit(NOTIFICATION, payload, to=user_room(user_id), namespace="/")


def disconnect_user(user_id: int) -> None:
    """Tell every open page of this user that its login ended, and drop their sockets: those
    this process holds, and the live-room sockets of every process (their sids are in the
    database; with REDIS_URL the disconnect goes through the message queue). Any other socket
    re-checks the login on its next event."""
    if not current_app.extensions.get("socketio"):
        return
    room = user_room(user_id)
    manager = socketio.server.manager
    for namespace in NAMESPACES:
        socketio.emit(SESSION_ENDED, {}, to=room, namespace=namespace)
        sids = [sid for sid, _eio in manager.get_participants(namespace, room)] if namespace in manager.rooms else []
        for sid in sids:
            socketio.server.disconnect(sid, namespace=namespace)
    from .room import live_sids_of  # the room imports this module

    with current_app.app_context():  # runs after a commit: read with a session of its own
        sids = live_sids_of(user_id)
    for sid in sids:
        socketio.server.disconnect(sid, namespace=LIVE)
