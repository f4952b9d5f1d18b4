"""Socket.IO load: one main teacher turning pages for a room of classrooms while many other
clients hold connections to the same process, against a bare python-socketio server measured
the same way in the same run.

    .venv/bin/python -m bench.live_load                      # 50 classrooms + 950 idle = 1,000 sockets
    .venv/bin/python -m bench.live_load --mode gevent --room 50 --idle 950
    .venv/bin/python -m bench.live_load --room 200 --idle 0  # one big room

Each run starts its own servers (gunicorn, one worker, as ``make serve`` runs each process) on a
fresh SQLite file over loopback: the portal (``wsgi:app``) and the baseline (``bench.echo_server``).
The room's clients join the session (the portal) or the room (the baseline); the idle ones only
connect. The teacher sends ``set_page`` ROUNDS times; latency is from just before the emit to the
arrival of the page broadcast at each room client (all clients live in this one process, so one
clock). Prints one JSON line per server: p50/p95/p99 of delivery latency, the baseline's p50 and
the ratio, messages delivered of expected, seconds to connect everyone, connections held, and the
worker's memory and OS threads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Server:
    """One gunicorn process (one worker) in the given async mode."""

    def __init__(self, target: str, env: dict, mode: str, sockets: int):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        worker = (["--worker-class", "gevent", "--worker-connections", str(sockets + 200)] if mode == "gevent"
                  # gthread also caps connections (worker_connections, default 1000): a WebSocket holds one
                  else ["--worker-class", "gthread", "--threads", str(sockets + 100),
                        "--worker-connections", str(sockets + 200)])
        self.proc = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), *worker, "--workers", "1", "--bind", f"127.0.0.1:{self.port}",
             "--no-control-socket", "--backlog", "4096", "--log-level", "warning", target],
            cwd=ROOT, env=dict(env, SOCKETIO_ASYNC_MODE=mode), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        import requests

        deadline = time.monotonic() + 60
        path = "/healthz" if target == "wsgi:app" else "/"
        while True:
            try:
                if requests.get(self.base + path, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{target} did not start: {self.proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)

    def worker_stats(self) -> dict:
        """RSS (MB) and OS threads of the worker process (the master's child)."""
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            status = Path(f"/proc/{children[0]}/status").read_text()
        except (OSError, IndexError):
            return {}
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {"rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1), "threads": int(fields["Threads"])}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


async def _connect_all(make, count: int, batch: int = 50) -> list:
    clients = []
    for start in range(0, count, batch):
        clients += await asyncio.gather(*(make(i) for i in range(start, min(count, start + batch))))
    return clients


async def _measure(base: str, *, portal: dict | None, room: int, idle: int, rounds: int) -> dict:
    import socketio

    arrivals: dict[int, list[float]] = {r: [] for r in range(1, rounds + 1)}
    namespace = "/live" if portal else "/"
    event = "material" if portal else "page"

    def on_page(data):
        page = data.get("page") if isinstance(data, dict) else None
        if page in arrivals:
            arrivals[page].append(time.perf_counter())

    async def make(i: int, in_room: bool = True):
        client = socketio.AsyncClient(reconnection=False)
        if in_room:
            client.on(event, on_page, namespace=namespace)
        auth = None
        if portal:
            people = portal["assistants"]
            auth = {"token": people[i % len(people)]["token"]}
        await client.connect(base, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=30)
        if in_room:
            ack = await (client.call("join", {"session_id": portal["session_id"]}, namespace=namespace, timeout=60)
                         if portal else client.call("enter", {}, timeout=60))
            if not ack.get("ok"):
                raise SystemExit(f"join refused: {ack}")
        return client

    started = time.perf_counter()
    listeners = await _connect_all(make, room)
    bystanders = await _connect_all(lambda i: make(i, in_room=False), idle)
    connect_s = time.perf_counter() - started

    sender = socketio.AsyncClient(reconnection=False)
    if portal:
        await sender.connect(base, namespaces=["/live"], auth={"token": portal["teacher"]["token"]},
                             transports=["websocket"], wait_timeout=30)
        await sender.call("join", {"session_id": portal["session_id"]}, namespace="/live", timeout=60)
    else:
        await sender.connect(base, transports=["websocket"], wait_timeout=30)
    await asyncio.sleep(1.0)  # let the joins' presence broadcasts settle

    latencies: list[float] = []
    for page in range(1, rounds + 1):
        sent = time.perf_counter()
        if portal:
            await sender.emit("set_page", {"page": page, "cid": f"bench-{page}"}, namespace="/live")
        else:
            await sender.emit("page", {"page": page})
        deadline = sent + 10
        while len(arrivals[page]) < room and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        latencies += [(t - sent) * 1000 for t in arrivals[page]]
        await asyncio.sleep(1.05)  # the portal allows a person 60 events a minute

    held = sum(1 for c in [*listeners, *bystanders] if c.connected)
    for client in [sender, *listeners, *bystanders]:
        await client.disconnect()
    return {
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(_percentile(latencies, 0.95), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "delivered": len(latencies),
        "expected": room * rounds,
        "connect_s": round(connect_s, 2),
        "connections_held": held,
    }


def run(mode: str, room: int, idle: int, rounds: int, database_url: str | None = None) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="portal-live-load-"))
    env = dict(os.environ, PORTAL_INSTANCE_DIR=str(tmp), DATABASE_URL=database_url or f"sqlite:///{tmp}/load.sqlite3",
               SECRET_KEY="live-load-bench", PYTHONUNBUFFERED="1")
    for name in ("REDIS_URL", "TEST_DATABASE_URL"):
        env.pop(name, None)
    classrooms = max(1, min(room, 100))  # several room sockets share a classroom beyond 100
    seeded = subprocess.run([sys.executable, "-m", "bench.live_seed", "--classrooms", str(classrooms),  # noqa: S603
                             "--prefix", f"load{os.getpid()}"],
                            cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    portal = json.loads(seeded.stdout)
    results = []
    try:
        baseline = Server("bench.echo_server:app", env, mode, room + idle)
        try:
            base = asyncio.run(_measure(baseline.base, portal=None, room=room, idle=idle, rounds=rounds))
            base.update(baseline.worker_stats())
        finally:
            baseline.stop()
        server = Server("wsgi:app", env, mode, room + idle)
        try:
            live = asyncio.run(_measure(server.base, portal=portal, room=room, idle=idle, rounds=rounds))
            live.update(server.worker_stats())
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    label = f"{room}+{idle}_{mode}" + ("_postgresql" if database_url else "")
    for name, row in (("socketio_bare_broadcast_" + label, base), ("live_room_broadcast_" + label, live)):
        ratio = round(row["p50_ms"] / base["p50_ms"], 2) if row["p50_ms"] and base["p50_ms"] else None
        results.append({"name": name, "p50_ms": row["p50_ms"], "p95_ms": row["p95_ms"], "p99_ms": row["p99_ms"],
                        "baseline_p50_ms": base["p50_ms"], "ratio": ratio, "queries": None,
                        **{k: v for k, v in row.items() if k not in ("p50_ms", "p95_ms", "p99_ms")}})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Socket.IO broadcast latency: the live room against bare python-socketio")
    parser.add_argument("--mode", choices=("threading", "gevent"), default="threading")
    parser.add_argument("--room", type=int, default=50, help="clients joined to the room (classrooms)")
    parser.add_argument("--idle", type=int, default=950, help="further clients only holding a connection")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database-url", help="a PostgreSQL database to use instead of a fresh SQLite file "
                        "(tables are created if missing; each run adds its own people and session)")
    args = parser.parse_args()
    for row in run(args.mode, args.room, args.idle, args.rounds, args.database_url):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
