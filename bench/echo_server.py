"""The baseline for the Socket.IO load script: a bare python-socketio server, no portal, no database.

A client emits ``enter`` to be in the room; ``page {"page"}`` is broadcast to everyone in the room,
as the portal's room broadcasts the main teacher's page change. Served by gunicorn exactly like the
portal (``bench.echo_server:app``), in the async mode named by SOCKETIO_ASYNC_MODE.
"""

from __future__ import annotations

import os

import socketio

sio = socketio.Server(async_mode=os.environ.get("SOCKETIO_ASYNC_MODE") or "threading")


@sio.on("enter")
def enter(sid, data=None):
    sio.enter_room(sid, "room")
    return {"ok": True}


@sio.on("page")
def page(sid, data):
    sio.emit("page", data, to="room")
    return {"ok": True}


def _health(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


app = socketio.WSGIApp(sio, _health)
