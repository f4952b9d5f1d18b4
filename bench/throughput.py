"""Throughput of the production setup under concurrent clients (``python -m bench.throughput``;
``make bench`` runs it after the latency lines unless BENCH_THROUGHPUT=0).

The portal is started as ``make serve`` starts it (``scripts/serve.sh``: gthread gunicorn
processes with one worker each behind nginx, sharing a Redis) on the city-scale data of
``python -m bench``. Then N clients at once (8, 32, 64 connections, BENCH_THROUGHPUT_SECONDS
each, default 20) request a mix of key pages, each with the login its page needs, and one JSON
line per run is printed in the BENCH format (CONTRACT.md) plus ``rps``, ``connections``,
``requests``, ``errors`` (answers of 400 and above, refused and timed-out requests) and ``p99_ms``.

The load comes from wrk (Debian package ``wrk``) with a Lua script, else from the Python
generator below. nginx's ``ip_hash`` sends every client of one address to one process (as it does
a school behind one NAT), so the wrk runs load one process through nginx; the last run
(``..._spread``, Python clients from 64 loopback addresses 127.0.k.1) spreads them over all
processes as many schools would. Without nginx (only one process possible) or without Redis (the
processes share rooms through it) one process serves directly.

Environment: BENCH_DATABASE_URL (as for ``python -m bench``), BENCH_REDIS_URL (else REDIS_URL,
else a throw-away ``redis-server``), BENCH_SERVE_PROCESSES (default 2), BENCH_THROUGHPUT_CONNECTIONS
(default ``8,32,64``), BENCH_THROUGHPUT_SECONDS (default 20), BENCH_WRK=0 (use the Python
generator even when wrk is installed).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import requests

from .__main__ import (
    ROOT,
    api_session,
    observation_ids,
    page_session,
    percentile,
    prepare_data,
    scheduling_ids,
)
from .__main__ import community_ids as community_ids_of

SECONDS = int(os.environ.get("BENCH_THROUGHPUT_SECONDS", 20))
CONNECTIONS = [int(n) for n in os.environ.get("BENCH_THROUGHPUT_CONNECTIONS", "8,32,64").split(",") if n.strip()]
SPREAD_CONNECTIONS = 64

# (who, path): who is a demo username, "@username" for an API token, or None (anonymous).
MIX = [
    (None, "/login"),
    ("bureau", "/"),
    ("researcher", "/"),
    ("principal.rural", "/"),
    ("teacher.rural", "/"),
    ("teacher.rural", "/resources?q=" + quote("分数")),
    ("teacher.city", "/timetable?week={week}"),
    ("teacher.rural", "/communities/{community_id}"),
    ("@principal.rural", "/api/v1/observations/progress?observer_id={principal_rural_id}&school_year={school_year}"),
]


def _redis_ping(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001  (any failure means: not usable)
        return False


class Redis:
    """BENCH_REDIS_URL, else REDIS_URL, else a throw-away redis-server; None when there is none."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.workdir: str | None = None
        self.url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL")
        if self.url:
            if not _redis_ping(self.url):
                raise SystemExit(f"cannot reach Redis at {self.url}")
            return
        binary = shutil.which("redis-server")
        if binary is None:
            return
        port = serve_port(0)
        self.workdir = tempfile.mkdtemp(prefix="bench-redis-")
        self.proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.workdir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while not _redis_ping(self.url):
            if time.monotonic() > deadline:
                self.close()
                self.url = None
                return
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_serve(env: dict, redis_url: str | None) -> tuple[subprocess.Popen, str, int, str]:
    """scripts/serve.sh on a free port; answers (process, base URL, processes, run dir)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    processes = int(os.environ.get("BENCH_SERVE_PROCESSES", 2)) if nginx and redis_url else 1
    port = serve_port(processes)
    run_dir = tempfile.mkdtemp(prefix="bench-serve-")
    serve_env = dict(env, PORT=str(port), SERVE_PROCESSES=str(processes), SERVE_RUN_DIR=run_dir,
                     SERVE_MIGRATE="0", SOCKETIO_CHANNEL=f"bench-throughput-{port}",
                     LOGIN_LIMIT_PER_IP="100000/minute", LOGIN_LIMIT_PER_USER="100000/minute",
                     VENV_BIN=str(Path(sys.executable).parent))
    serve_env.pop("REDIS_URL", None)
    if redis_url:
        serve_env["REDIS_URL"] = redis_url
    log = open(Path(run_dir) / "serve.log", "wb")  # noqa: SIM115  (closed with the run dir)
    proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=serve_env,
                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(base + "/healthz", timeout=2).ok:
                return proc, base, processes, run_dir
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.3)
    log_path = Path(run_dir) / "serve.log"
    told = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
    stop_serve(proc, run_dir)  # removes the run dir: its log is read first
    raise SystemExit(f"serve.sh did not start (exit {proc.returncode}):\n{told}")


def serve_port(processes: int) -> int:
    """A port whose next ``processes`` are free too (serve.sh uses PORT+1 … PORT+N), below Linux's
    ephemeral range (32768 and up): a port from that range may become the local end of an outgoing
    connection between the check and the bind. Seen once: the health polls' own connection took
    PORT+1 and a portal process could not start ("Address already in use")."""
    import socket

    rng = random.Random()
    while True:
        port = rng.randrange(20000, 32000 - processes)
        try:
            with contextlib.ExitStack() as held:
                for i in range(processes + 1):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port + i))
            return port
        except OSError:
            continue


def stop_serve(proc: subprocess.Popen, run_dir: str) -> None:
    """serve.sh stops what it started on SIGTERM; the process group is the fallback."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    shutil.rmtree(run_dir, ignore_errors=True)


def build_mix(base: str, env: dict) -> list[tuple[str, dict]]:
    """Each page of MIX with the headers of its login (cookie or bearer token), checked to answer 200."""
    ids = community_ids_of(env)
    ids.update(scheduling_ids(env))
    ids.update(observation_ids(env))
    sessions: dict[str, requests.Session] = {}
    mix = []
    for who, path in MIX:
        headers: dict[str, str] = {}
        if who is not None:
            if who not in sessions:
                sessions[who] = api_session(base, who[1:]) if who.startswith("@") else page_session(base, who)
            session = sessions[who]
            if who.startswith("@"):
                headers["Authorization"] = session.headers["Authorization"]
            else:
                headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        url = path.format(**ids)
        answer = requests.get(base + url, headers=headers, allow_redirects=False, timeout=60)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code} before the load")
        mix.append((url, headers))
    return mix


def baseline_p50(base: str, samples: int = 40) -> float:
    session = requests.Session()
    timings = []
    for i in range(samples + 3):
        started = time.perf_counter()
        session.get(base + "/healthz")
        if i >= 3:
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


WRK_SCRIPT = """
local mix = %s
local counter = 0
local statuses = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  local seed = 0
  if id then seed = id end
  math.randomseed(os.time() + seed * 7919)
  requests_by_thread = {}
  for i, entry in ipairs(mix) do
    requests_by_thread[i] = wrk.format("GET", entry[1], entry[2])
  end
end
function request()
  return requests_by_thread[math.random(#requests_by_thread)]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, ' ..
    '"timeout": %%d, "p50": %%d, "p95": %%d, "p99": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(base: str, mix: list[tuple[str, dict]], connections: int) -> dict:
    entries = ", ".join(
        "{" + _lua_string(url) + ", {" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
        + "}}" for url, headers in mix)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT % ("{" + entries + "}"))
        script = fh.name
    try:
        out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{SECONDS}s", "--timeout", "30s",
                              "-s", script, base + "/"], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    r = json.loads(line[4:])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {"requests": r["requests"], "seconds": r["duration_us"] / 1e6, "errors": errors,
            "p50_ms": r["p50"] / 1000, "p95_ms": r["p95"] / 1000, "p99_ms": r["p99"] / 1000}


def run_python(base: str, mix: list[tuple[str, dict]], connections: int, spread: bool = False) -> dict:
    """``connections`` threads, each with one keep-alive connection, requesting random pages of the
    mix until the time is up. ``spread``: client k connects from 127.0.k.1 (nginx's ip_hash keys
    on the first three octets), so the clients land on every process."""
    host, port = base.removeprefix("http://").split(":")
    stop_at = time.monotonic() + SECONDS
    timings: list[float] = []
    errors = [0]
    kinds: Counter = Counter()  # what the errors were: "503 /path" or the exception's name
    lock = threading.Lock()

    def client(k: int) -> None:
        rng = random.Random(k)
        source = (f"127.0.{k + 1}.1", 0) if spread else None
        conn = None
        mine, failed, why = [], 0, Counter()
        while time.monotonic() < stop_at:
            url, headers = mix[rng.randrange(len(mix))]
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=source)
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    failed += 1
                    why[f"{response.status} {url.split('?')[0]}"] += 1
            except (OSError, http.client.HTTPException) as exc:
                failed += 1
                why[type(exc).__name__] += 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            mine.append((time.perf_counter() - started) * 1000)
        if conn is not None:
            conn.close()
        with lock:
            timings.extend(mine)
            errors[0] += failed
            kinds.update(why)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if not timings:
        return {"requests": 0, "seconds": elapsed, "errors": errors[0], "p50_ms": None, "p95_ms": None, "p99_ms": None,
                "error_kinds": dict(kinds)}
    return {"requests": len(timings) + errors[0], "seconds": elapsed, "errors": errors[0], "error_kinds": dict(kinds),
            "p50_ms": statistics.median(timings), "p95_ms": percentile(timings, 0.95),
            "p99_ms": percentile(timings, 0.99)}


def row(name: str, result: dict, connections: int, base_p50: float, processes: int, tool: str) -> dict:
    p50 = result["p50_ms"]
    return {
        "name": name,
        "p50_ms": round(p50, 2) if p50 is not None else None,
        "p95_ms": round(result["p95_ms"], 2) if result["p95_ms"] is not None else None,
        "baseline_p50_ms": round(base_p50, 2),
        "ratio": round(p50 / base_p50, 2) if p50 is not None and base_p50 else None,
        "queries": None,
        "p99_ms": round(result["p99_ms"], 2) if result["p99_ms"] is not None else None,
        "rps": round(result["requests"] / result["seconds"], 1) if result["seconds"] else None,
        "connections": connections,
        "requests": result["requests"],
        "errors": result["errors"],
        **({"error_kinds": result["error_kinds"]} if result.get("error_kinds") else {}),
        "processes": processes,
        "tool": tool,
    }


def run(env: dict | None = None) -> list[dict]:
    """``env``: the data's environment when ``python -m bench`` has prepared it already."""
    env = env or prepare_data()
    redis = Redis()
    rows = []
    try:
        proc, base, processes, run_dir = start_serve(env, redis.url)
        try:
            mix = build_mix(base, env)
            base_p50 = baseline_p50(base)
            use_wrk = shutil.which("wrk") is not None and os.environ.get("BENCH_WRK", "1") != "0"
            for connections in CONNECTIONS:
                result = run_wrk(base, mix, connections) if use_wrk else run_python(base, mix, connections)
                rows.append(row(f"throughput_mix_c{connections}", result, connections, base_p50, processes,
                                "wrk" if use_wrk else "python"))
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
            if processes > 1:
                result = run_python(base, mix, SPREAD_CONNECTIONS, spread=True)
                rows.append(row(f"throughput_mix_c{SPREAD_CONNECTIONS}_spread", result, SPREAD_CONNECTIONS,
                                base_p50, processes, "python"))
                print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
            if any(r["errors"] for r in rows):  # what nginx and gunicorn said about them
                log = (Path(run_dir) / "serve.log").read_text(errors="replace").splitlines()
                said = [line for line in log if any(w in line for w in ("[error]", "[warn]", "[crit]", "Traceback",
                                                                          "Error", "WORKER TIMEOUT"))]
                print("# serve.log about the errors:\n" + "\n".join(said[-40:]), file=sys.stderr, flush=True)
        finally:
            stop_serve(proc, run_dir)
    finally:
        redis.close()
    return rows


if __name__ == "__main__":
    run()
