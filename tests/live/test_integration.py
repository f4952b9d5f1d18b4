"""The live room against a real running server: gunicorn processes on free loopback ports, driven
by python-socketio clients the way the browser drives them (join on every connect, a cid on every
change). A main teacher and three receiving classrooms; a server killed and restarted mid-lesson;
two processes sharing Redis.

Select with ``-m integration``. The database is a temporary SQLite file, or, when TEST_DATABASE_URL
is set, the PostgreSQL database ``<its name>_live`` emptied first. Redis: TEST_REDIS_URL, else
redis://127.0.0.1:6379/12, else a throw-away redis-server; without any, the cross-process test is
skipped locally and fails on CI (CI=true).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy.engine import make_url

from ..workers import redis_turn

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LIVE = "/live"
BROADCASTS = ("chat", "presence", "lesson", "hands", "material", "poll", "attendance", "removed")
# The servers' async mode: threading (the default), or LIVE_TEST_ASYNC_MODE=gevent to run it all on gevent workers.
ASYNC_MODE = os.environ.get("LIVE_TEST_ASYNC_MODE") or "threading"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _redis_turn():
    """This module's servers share Redis with other workers' Redis tests: one module at a time."""
    with redis_turn():
        yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# --- servers and data ------------------------------------------------------------------------------


def _database(tmp: Path) -> str:
    """DATABASE_URL for the servers: a temporary SQLite file, or, next to TEST_DATABASE_URL's
    PostgreSQL database, a database of its own whose schema is emptied first (emptying a schema is
    instant; dropping a database waits for a checkpoint on a busy server)."""
    test_url = os.environ.get("TEST_DATABASE_URL")
    if not test_url or not test_url.startswith("postgresql"):
        return f"sqlite:///{tmp / 'live.sqlite3'}"
    import psycopg

    url = make_url(test_url)
    name = f"{url.database}_live"

    def connect(database: str):
        return psycopg.connect(url.set(drivername="postgresql", database=database).render_as_string(
            hide_password=False), autocommit=True)

    with connect(url.database) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with connect(name) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url.set(database=name).render_as_string(hide_password=False)


class Server:
    """One portal process: gunicorn, one gthread worker, as ``make serve`` runs each."""

    def __init__(self, env: dict, log: Path, port: int | None = None):
        self.env, self.log = env, log
        self.port = port or _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> Server:
        with self.log.open("a") as out:
            worker = (["--worker-class", "gevent"] if self.env["SOCKETIO_ASYNC_MODE"] == "gevent"
                      else ["--worker-class", "gthread", "--threads", "40"])
            self.proc = subprocess.Popen(  # noqa: S603
                [str(BIN / "gunicorn"), *worker, "--workers", "1", "--no-control-socket", "--graceful-timeout", "2",
                 "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.base + "/healthz", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole process group (master and worker): nothing gets to clean up."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A database with a live session running now (bench/live_seed.py) and the servers' environment."""
    tmp = tmp_path_factory.mktemp("live-integration")
    database_url = _database(tmp)
    env = dict(os.environ, PORTAL_INSTANCE_DIR=str(tmp), DATABASE_URL=database_url, SECRET_KEY="live-integration",
               SOCKETIO_ASYNC_MODE=ASYNC_MODE, PYTHONUNBUFFERED="1")
    for name in ("REDIS_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "bench.live_seed", "--classrooms", "3"], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seed = json.loads(done.stdout)
    return {"env": env, "seed": seed, "tmp": tmp}


@pytest.fixture
def servers(world):
    started: list[Server] = []

    def start(env_extra: dict | None = None, port: int | None = None) -> Server:
        server = Server(dict(world["env"], **(env_extra or {})), world["tmp"] / "server.log", port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class RoomClient:
    """A python-socketio client that behaves like room.js: joins on every (re)connect, keeps the
    state of the last join, records broadcasts, and sends each change with a cid."""

    def __init__(self, base: str, person: dict, session_id: int, reconnect: bool = True,
                 transports: tuple[str, ...] = ("websocket",)):
        self.session_id = session_id
        self.person = person
        self.events: list[tuple[str, dict]] = []
        self.acks: list[dict] = []
        self.state: dict | None = None
        self.connects = 0
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=reconnect, reconnection_delay=0.2, reconnection_delay_max=1,
                                   randomization_factor=0)
        self.sio.on("connect", self._on_connect, namespace=LIVE)
        for name in BROADCASTS:
            self.sio.on(name, self._recorder(name), namespace=LIVE)
        self.sio.connect(base, namespaces=[LIVE], auth={"token": person["token"]}, transports=list(transports),
                         wait_timeout=10)
        wait_until(lambda: self.acks, what=f"{person['username']} to get a join answer")

    def _recorder(self, name):
        def record(payload=None):
            with self.lock:
                self.events.append((name, payload))
        return record

    def _on_connect(self):
        self.connects += 1
        self.sio.emit("join", {"session_id": self.session_id}, namespace=LIVE, callback=self._joined)

    def _joined(self, ack):
        with self.lock:
            self.acks.append(ack)
            if ack.get("ok"):
                self.state = ack["state"]

    def send(self, event: str, data: dict | None = None, cid: str | None = None) -> dict:
        payload = dict(data or {}, cid=cid or uuid.uuid4().hex)
        return self.sio.call(event, payload, namespace=LIVE, timeout=10)

    def received(self, name: str) -> list[dict]:
        with self.lock:
            return [payload for event, payload in self.events if event == name]

    def wait_for(self, name: str, predicate=lambda p: True, timeout: float = 10.0) -> dict:
        return wait_until(lambda: next((p for p in self.received(name) if predicate(p)), None), timeout,
                          f"{self.person['username']} to receive {name}")

    def close(self):
        self.sio.disconnect()


@pytest.fixture
def clients():
    made: list[RoomClient] = []

    def make(base, person, session_id, **kwargs) -> RoomClient:
        client = RoomClient(base, person, session_id, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def _room(server: Server, seed: dict, clients) -> tuple[RoomClient, list[RoomClient]]:
    teacher = clients(server.base, seed["teacher"], seed["session_id"])
    assistants = [clients(server.base, person, seed["session_id"]) for person in seed["assistants"]]
    assert teacher.acks[-1]["ok"] and all(a.acks[-1]["ok"] for a in assistants)
    return teacher, assistants


# --- one process -----------------------------------------------------------------------------------


def test_each_room_event_reaches_the_teacher_and_every_classroom_and_nobody_else(world, servers, clients):
    seed = world["seed"]
    server = servers()
    teacher, assistants = _room(server, seed, clients)
    observer = clients(server.base, seed["observer"], seed["session_id"])
    outsider = clients(server.base, seed["outsider"], seed["session_id"])
    assert observer.acks[-1]["ok"] and observer.state["you"]["role"] == "observer"
    assert outsider.acks[-1]["ok"] is False and outsider.state is None
    everyone = [teacher, *assistants, observer]
    first, second, third = assistants

    assert teacher.send("start")["ok"]
    for client in everyone:
        client.wait_for("lesson", lambda p: p["started_at"])

    # chat: from a classroom to everyone in the room, as plain text
    ack = first.send("chat", {"text": "第三组 <b>听不清</b>"})
    assert ack["ok"]
    for client in everyone:
        message = client.wait_for("chat", lambda p: p["seq"] == ack["seq"])
        assert message["text"] == "第三组 <b>听不清</b>" and message["user_id"] == seed["assistants"][0]["user_id"]

    # hands: two classrooms raise, the teacher answers the first; everyone sees the queue move
    second.send("raise_hand")
    third.send("raise_hand")
    queue = [seed["assistants"][1]["classroom_id"], seed["assistants"][2]["classroom_id"]]
    for client in everyone:
        client.wait_for("hands", lambda p: [h["classroom_id"] for h in p["hands"]] == queue)
    assert teacher.send("answer_hand", {"classroom_id": queue[1]})["ok"] is False  # not the first
    assert teacher.send("answer_hand", {"classroom_id": queue[0]})["ok"]
    for client in everyone:
        client.wait_for("hands", lambda p: [h["classroom_id"] for h in p["hands"]] == queue[1:])

    # material and page: every console follows
    assert teacher.send("set_material", {"resource_id": seed["resource_id"], "page": 1})["ok"]
    assert teacher.send("set_page", {"page": 7})["ok"]
    for client in everyone:
        shown = client.wait_for("material", lambda p: p["page"] == 7)
        assert shown["material"]["resource_id"] == seed["resource_id"]
    assert first.send("set_page", {"page": 9})["code"] == "forbidden"  # only the main teacher turns pages

    # poll: each classroom answers with its class's counts; live totals for all
    poll = teacher.send("open_poll", {"question": "3/4 和 2/3 哪个大？", "options": ["3/4", "2/3", "一样大"]})
    poll_id = poll["event"]["poll"]["id"]
    for client, counts in zip(assistants, ([20, 5, 1], [12, 10, 3], [8, 2, 0])):
        assert client.send("answer_poll", {"poll_id": poll_id, "counts": counts})["ok"]
    for client in everyone:
        client.wait_for("poll", lambda p: p["poll"] and p["poll"]["totals"] == [40, 17, 4])
    assert teacher.send("close_poll", {"poll_id": poll_id})["ok"]
    for client in everyone:
        client.wait_for("poll", lambda p: p["poll"] is None and p["closed"]["totals"] == [40, 17, 4])

    # attendance: a classroom checks in; every console sees present of class size
    assert first.send("check_in", {"present": 26, "class_size": 28})["ok"]
    for client in everyone:
        client.wait_for("attendance", lambda p: any(
            (a["classroom_id"], a["present"], a["class_size"]) == (seed["assistants"][0]["classroom_id"], 26, 28)
            for a in p["attendance"]))
    # an observer is read-only, and the refused outsider heard none of it
    assert observer.send("chat", {"text": "我也说一句"})["code"] == "forbidden"
    assert outsider.events == []


# --- a restart mid-lesson --------------------------------------------------------------------------


def test_clients_reconnect_after_the_server_is_killed_and_find_every_acknowledged_event(world, servers, clients):
    seed = world["seed"]
    server = servers()
    teacher, assistants = _room(server, seed, clients)
    first = assistants[0]
    started = teacher.send("start")
    assert started["ok"] or started["code"] == "conflict"  # the first test may have started it already
    sent = [first.send("chat", {"text": f"重启前的消息 {i}"}) for i in range(3)]
    assert all(ack["ok"] for ack in sent)
    assert teacher.send("set_page", {"page": 12})["ok"]
    poll = teacher.send("open_poll", {"question": "重启前的问题", "options": ["对", "错"]})
    answer_cid = uuid.uuid4().hex
    assert first.send("answer_poll", {"poll_id": poll["event"]["poll"]["id"], "counts": [15, 3]}, cid=answer_cid)["ok"]
    assert assistants[1].send("check_in", {"present": 30, "class_size": 31})["ok"]
    last_seq = max(ack["seq"] for ack in [*sent, poll])

    server.kill()
    for client in (teacher, *assistants):
        wait_until(lambda c=client: not c.sio.connected, what="the clients to notice")
    joins_before = [len(c.acks) for c in (teacher, *assistants)]
    servers(port=server.port)  # the same address, a new process

    for client, before in zip((teacher, *assistants), joins_before):
        wait_until(lambda c=client, b=before: len(c.acks) > b and c.acks[-1]["ok"], timeout=20,
                   what=f"{client.person['username']} to reconnect and join again")
        state = client.state
        assert state["seq"] >= last_seq
        texts = [m["text"] for m in state["chat"]]
        assert [f"重启前的消息 {i}" for i in range(3)] == [t for t in texts if t.startswith("重启前的消息")]
        assert state["page"] == 12
        assert state["poll"]["question"] == "重启前的问题" and state["poll"]["totals"] == [15, 3]
        assert {"classroom_id": seed["assistants"][1]["classroom_id"], "present": 30}.items() <= next(
            a for a in state["attendance"] if a["classroom_id"] == seed["assistants"][1]["classroom_id"]).items()
        assert state["started_at"]

    # The classroom's retry of an answer the old process acknowledged is not applied twice.
    retry = first.send("answer_poll", {"poll_id": poll["event"]["poll"]["id"], "counts": [15, 3]}, cid=answer_cid)
    assert retry["ok"] and retry.get("duplicate") is True
    # And the room goes on: a new message reaches the others through the new process.
    ack = teacher.send("chat", {"text": "我们回来了"})
    for client in assistants:
        client.wait_for("chat", lambda p: p["seq"] == ack["seq"])


# --- two processes sharing Redis ---------------------------------------------------------------------


def _redis_ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def redis_url():
    """TEST_REDIS_URL (must answer), else the local Redis on db 12, else a throw-away redis-server."""
    on_ci = os.environ.get("CI") == "true"
    if os.environ.get("TEST_REDIS_URL"):
        url = os.environ["TEST_REDIS_URL"]
        assert _redis_ping(url), f"TEST_REDIS_URL={url} does not answer"
        yield url
        return
    if _redis_ping("redis://127.0.0.1:6379/12"):
        yield "redis://127.0.0.1:6379/12"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if on_ci:
            pytest.fail("no Redis on CI: set TEST_REDIS_URL or install redis-server")
        pytest.skip("no Redis here (TEST_REDIS_URL, a local server or redis-server)")
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="portal-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",  # noqa: S603
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: _redis_ping(url), what="redis-server to start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.redis
def test_two_processes_sharing_redis_deliver_across_processes(world, servers, clients, redis_url):
    seed = world["seed"]
    shared = {"REDIS_URL": redis_url, "SOCKETIO_CHANNEL": f"portal-test-{uuid.uuid4().hex}"}
    one, two = servers(shared), servers(shared)
    teacher = clients(one.base, seed["teacher"], seed["session_id"])
    far = [clients(two.base, person, seed["session_id"]) for person in seed["assistants"][:2]]
    near = clients(one.base, seed["assistants"][2], seed["session_id"])
    assert teacher.acks[-1]["ok"] and near.acks[-1]["ok"] and all(c.acks[-1]["ok"] for c in far)
    # Presence comes from the shared database: the teacher's process sees the other process's sockets.
    online = {p["classroom_id"] for p in teacher.wait_for(
        "presence", lambda p: sum(x["online"] for x in p["participants"]) == 4)["participants"] if p["online"]}
    assert online == {teacher.state["participants"][0]["classroom_id"], *(a["classroom_id"] for a in seed["assistants"])}

    # teacher on process one → classrooms on process two
    assert teacher.send("set_page", {"page": 21})["ok"]
    for client in (*far, near):
        client.wait_for("material", lambda p: p["page"] == 21)
    # a classroom on process two → the teacher and a classroom on process one
    ack = far[0].send("chat", {"text": "二号进程的教室"})
    assert ack["ok"]
    for client in (teacher, near, far[1]):
        client.wait_for("chat", lambda p: p["seq"] == ack["seq"] and p["text"] == "二号进程的教室")
    # each broadcast arrives once per client, not once per process
    time.sleep(0.5)
    assert [p["seq"] for p in teacher.received("chat")].count(ack["seq"]) == 1


# --- make serve: the processes behind nginx on one address ----------------------------------------------


def _free_ports(count: int) -> int:
    """A port p such that p … p+count-1 are all free (serve.sh puts the processes on PORT+1 …)."""
    for _ in range(50):
        first = _free_port()
        try:
            for offset in range(count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", first + offset))
            return first
        except OSError:
            continue
    raise AssertionError("no run of free ports")


@pytest.mark.redis
def test_serve_script_puts_two_processes_behind_one_address(world, redis_url, clients):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light)")
    seed = world["seed"]
    port = _free_ports(3)
    env = dict(world["env"], PORT=str(port), REDIS_URL=redis_url, SOCKETIO_CHANNEL=f"portal-test-{uuid.uuid4().hex}",
               SERVE_PROCESSES="2", SERVE_RUN_DIR=str(world["tmp"] / "serve"), SERVE_MIGRATE="0", VENV_BIN=str(BIN),
               PATH=os.environ.get("PATH", "") + ":/usr/sbin")
    log = world["tmp"] / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=env,  # noqa: S603,S607
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def up():
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                return requests.get(base + "/healthz", timeout=2).ok
            except requests.RequestException:
                return False

        wait_until(up, timeout=60, what="serve.sh to answer on its one address")
        # both processes run, each on its own port behind the one address
        for backend in (port + 1, port + 2):
            assert requests.get(f"http://127.0.0.1:{backend}/healthz", timeout=5).ok
        # static files come from nginx, compressed; by the hashed URL a page names, cached for a year
        login_page = requests.get(base + "/login", timeout=5).text
        hashed = re.search(r'href="(/static/src/portal\.css\?v=[0-9a-f]{12})"', login_page)
        assert hashed, "no hashed stylesheet URL on the login page"
        static = requests.get(base + hashed.group(1), timeout=5, headers={"Accept-Encoding": "gzip"})
        assert static.ok and static.headers["Server"].startswith("nginx")
        assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert static.headers["Content-Encoding"] == "gzip"
        unhashed = requests.get(base + "/static/src/live/room.js", timeout=5)
        assert unhashed.ok and unhashed.headers["Cache-Control"] == "public, max-age=300"
        # Socket.IO through nginx: long-polling first, then the WebSocket upgrade, sticky to one process
        both = ("polling", "websocket")
        teacher = clients(base, seed["teacher"], seed["session_id"], transports=both)
        classroom = clients(base, seed["assistants"][0], seed["session_id"], transports=both)
        assert teacher.acks[-1]["ok"] and classroom.acks[-1]["ok"]
        wait_until(lambda: teacher.sio.transport() == "websocket", what="the upgrade to WebSocket through nginx")
        assert teacher.send("set_page", {"page": 33})["ok"]
        classroom.wait_for("material", lambda p: p["page"] == 33)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def test_serve_script_refuses_several_processes_without_redis(world):
    env = dict(world["env"], SERVE_PROCESSES="2", VENV_BIN=str(BIN))
    env.pop("REDIS_URL", None)
    done = subprocess.run(["bash", str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=env,  # noqa: S603,S607
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "REDIS_URL is required" in done.stderr
    env.update(REDIS_URL="redis://127.0.0.1:1/0", SOCKETIO_ASYNC_MODE="eventlet")
    done = subprocess.run(["bash", str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=env,  # noqa: S603,S607
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "threading or gevent" in done.stderr
