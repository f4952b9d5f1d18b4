"""Consoles: a logged-in /live socket per person, with its acks and what it received."""

from __future__ import annotations

import pytest

from portal.accounts import services


class Console:
    def __init__(self, socket, user):
        self.socket = socket
        self.user = user
        self._seen: list[tuple[str, dict]] = []

    def send(self, event: str, *args):
        """Emit and return the ack (the server's answer)."""
        return self.socket.emit(event, *args, namespace="/live", callback=True)

    def join(self, session) -> dict:
        return self.send("join", {"session_id": session.id})

    def _drain(self) -> None:
        for item in self.socket.get_received("/live"):
            self._seen.append((item["name"], item["args"][0] if item["args"] else None))

    def got(self, name: str) -> list[dict]:
        """Payloads of the broadcasts named ``name`` received so far."""
        self._drain()
        return [payload for event, payload in self._seen if event == name]

    def forget(self) -> None:
        self._drain()
        self._seen.clear()

    @property
    def connected(self) -> bool:
        return self.socket.is_connected("/live")


@pytest.fixture
def console(db, socket_client):
    """``console(user)``: a /live socket logged in with a fresh API token of that person."""

    def _console(user) -> Console:
        token = services.issue_token(user)
        db.session.commit()
        socket = socket_client(namespace="/live", auth={"token": token})
        assert socket.is_connected("/live")
        return Console(socket, user)

    return _console


@pytest.fixture
def room(make):
    """A session that began five minutes ago, with two receiving classrooms."""
    return make.live_session(rooms=2)


def people(session):
    live_class = session.live_class
    return live_class.main_teacher, [r.assistant for r in live_class.receiving], [r.classroom for r in live_class.receiving]
