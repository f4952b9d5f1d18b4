"""Socket.IO handlers. The default namespace carries a person's notifications;
/live will carry the co-teaching rooms."""

from __future__ import annotations

from flask_socketio import ConnectionRefusedError, join_room

from ..extensions import db, socketio
from .auth import authenticate_connect
from .protocol import user_room


@socketio.on("connect")
def connect_default(auth=None):
    user = authenticate_connect(auth)
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    join_room(user_room(user.id))
    db.session.commit()  # token last-used time


@socketio.on("connect", namespace="/live")
def connect_live(auth=None):
    user = authenticate_connect(auth)
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    join_room(user_room(user.id), namespace="/live")
    db.session.commit()
