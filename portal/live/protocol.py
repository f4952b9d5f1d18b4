"""Socket.IO event names, rooms and the helpers HTTP code uses to push to open pages.

Every emit from the portal goes through a function here, so event names and payload
shapes are defined once.
"""

from __future__ import annotations

from flask import current_app

from ..extensions import socketio

NAMESPACES = ("/", "/live")

# Server → client events on the default namespace
NOTIFICATION = "notification"
SESSION_ENDED = "session_ended"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def push_notification(user_id: int, payload: dict) -> None:
    socketio.emit(NOTIFICATION, payload, to=user_room(user_id), namespace="/")


def disconnect_user(user_id: int) -> None:
    """Tell every open page of this user that its login ended, and drop the sockets this
    process holds. Sockets on other processes re-check the login on their next event."""
    if not current_app.extensions.get("socketio"):
        return
    room = user_room(user_id)
    for namespace in NAMESPACES:
        socketio.emit(SESSION_ENDED, {}, to=room, namespace=namespace)
        manager = socketio.server.manager
        sids = [sid for sid, _eio in manager.get_participants(namespace, room)] if namespace in manager.rooms else []
        for sid in sids:
            socketio.server.disconnect(sid, namespace=namespace)
