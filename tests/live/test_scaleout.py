"""Scale-out through Redis: two portal processes share the Socket.IO message queue and
the login throttle. Runs when TEST_REDIS_URL names a Redis server (``make test-pg`` and CI)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import socketio

from ..workers import redis_turn

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to run the Redis scale-out tests"),
]


@pytest.fixture(scope="module", autouse=True)
def _redis_turn():
    """These servers share Redis with other workers' Redis tests: one module at a time."""
    with redis_turn():
        yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    """Two gunicorn processes on one SQLite file and one Redis, like two machines behind nginx."""
    tmp = tmp_path_factory.mktemp("scaleout")
    env = dict(os.environ, PORTAL_INSTANCE_DIR=str(tmp), DATABASE_URL=f"sqlite:///{tmp / 'p.sqlite3'}",
               SECRET_KEY="scale-out-test", REDIS_URL=REDIS_URL)
    env.pop("TEST_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed", "demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    servers, procs = [], []
    for _ in range(2):
        port = _free_port()
        procs.append(subprocess.Popen(
            [gunicorn, "--worker-class", "gthread", "--workers", "1", "--threads", "20", "--no-control-socket", "--bind", f"127.0.0.1:{port}",
             "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    for base in servers:
        while True:
            try:
                if requests.get(base + "/healthz", timeout=2).ok:
                    break
            except (requests.ConnectionError, requests.Timeout):  # still starting (a busy CI machine is slow)
                pass
            assert time.monotonic() < deadline, "servers did not start"
            time.sleep(0.2)
    yield servers
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def _token(base: str, username: str) -> str:
    response = requests.post(base + "/api/v1/auth/token", json={"username": username, "password": "Demo-pass-2026"})
    assert response.status_code == 200
    return response.json()["token"]


def _page_login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', session.get(base + "/login").text).group(1)
    response = session.post(base + "/login", data={"username": username, "password": "Demo-pass-2026",
                                                   "csrf_token": token}, allow_redirects=False)
    assert response.status_code == 302
    return session


def test_a_notification_made_on_one_process_reaches_a_socket_on_the_other(two_servers):
    first, second = two_servers
    teacher_id = requests.get(first + "/api/v1/me", headers={"Authorization": "Bearer " + _token(first, "teacher.rural")}).json()["id"]
    received, ended = [], []
    client = socketio.Client(reconnection=False)
    client.on("notification", lambda data: received.append(data))
    client.on("session_ended", lambda data=None: ended.append(True))
    client.connect(first, auth={"token": _token(first, "teacher.rural")}, transports=["websocket"], wait_timeout=10)
    try:
        # The bureau resets the teacher's password through the *other* process.
        bureau = _page_login(second, "bureau")
        page = bureau.get(f"{second}/admin/users/{teacher_id}")
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        assert bureau.post(f"{second}/admin/users/{teacher_id}/reset-password", data={"csrf_token": csrf}).ok
        deadline = time.monotonic() + 10
        while not (received and ended) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert received and received[0]["text"], "the notification did not cross processes"
        assert ended, "the ended login was not announced across processes"
    finally:
        client.disconnect()


def test_login_throttle_is_shared_by_processes_through_redis(two_servers):
    """Five failures for one account on one process; the sixth, on the other process, is refused."""
    first, second = two_servers
    username = f"nobody-{time.time_ns()}"
    attempt = {"username": username, "password": "wrong-password"}
    statuses = [requests.post(first + "/api/v1/auth/token", json=attempt).status_code for _ in range(5)]
    statuses.append(requests.post(second + "/api/v1/auth/token", json=attempt).status_code)
    assert statuses == [401] * 5 + [429]
