"""Run the benchmarks and print one JSON object per line (CONTRACT.md, BENCH).

The city-scale data is generated once (``seed scale``) into bench-data/ and reused. The
portal runs as in production (gunicorn, gthread, one process) in a subprocess; requests
are made one at a time from this process, over loopback only, each person on one keep-alive
connection (``Client``: logging in goes through ``requests``, the timed requests do not).

Environment: BENCH_SCHOOLS, BENCH_TEACHERS, BENCH_SEED (data size), BENCH_REQUESTS
(samples per benchmark, default 40), BENCH_SOCKETS=0 (skip the Socket.IO load of bench/live_load.py,
which runs on its own small database), BENCH_THROUGHPUT=0 (skip the concurrent-clients run of
bench/throughput.py, which runs last), BENCH_DATABASE_URL (use PostgreSQL instead of the
cached SQLite file; it is seeded when empty).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data"
BIN = Path(sys.executable).parent
PASSWORD = "Demo-pass-2026"

SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", 2000))
TEACHERS = int(os.environ.get("BENCH_TEACHERS", 60000))
SEED = int(os.environ.get("BENCH_SEED", 1))
SAMPLES = int(os.environ.get("BENCH_REQUESTS", 40))

# (name, who, method, path). `who` is a demo username or None for anonymous.
BENCHMARKS = [
    ("login_page", None, "GET", "/login"),
    ("home_bureau", "bureau", "GET", "/"),
    ("home_researcher", "researcher", "GET", "/"),
    ("home_principal", "principal.rural", "GET", "/"),
    ("home_teacher", "teacher.rural", "GET", "/"),
    ("schools_list", "bureau", "GET", "/schools"),
    ("schools_search", "teacher.rural", "GET", "/schools?q=%E6%9D%91%E5%B0%8F%E5%AD%A6&kind=village"),
    ("school_page", "principal.rural", "GET", "/schools/{school_id}"),
    ("admin_users", "bureau", "GET", "/admin/users"),
    ("admin_users_search", "bureau", "GET", "/admin/users?q=t0001&role=teacher"),
    ("notifications", "teacher.rural", "GET", "/notifications"),
    ("api_me", "@teacher.rural", "GET", "/api/v1/me"),
    ("api_users_by_school", "@bureau", "GET", "/api/v1/users?school_id={school_id}"),
    ("api_users_page_100", "@bureau", "GET", "/api/v1/users?page=200&per_page=100"),
    ("api_schools_village", "@teacher.rural", "GET", "/api/v1/schools?kind=village&per_page=100"),
    ("api_classrooms", "@teacher.rural", "GET", "/api/v1/schools/{school_id}/classrooms"),
    ("api_term_current", "@teacher.rural", "GET", "/api/v1/terms/current"),
    # communities: the giant community (~2,000 members) and its 5,000-reply thread are the worst case
    ("communities_list", "teacher.rural", "GET", "/communities"),
    ("community_page_giant", "teacher.rural", "GET", "/communities/{community_id}"),
    ("community_members_giant", "teacher.rural", "GET", "/communities/{community_id}/members"),
    ("community_activities_giant", "teacher.rural", "GET", "/communities/{community_id}/activities"),
    ("community_threads_giant", "teacher.rural", "GET", "/communities/{community_id}/threads"),
    ("thread_5000_first_page", "teacher.rural", "GET", "/threads/{thread_id}"),
    ("thread_5000_last_page", "teacher.rural", "GET", "/threads/{thread_id}?page={thread_last_page}"),
    ("activity_page", "teacher.rural", "GET", "/activities/{activity_id}"),
    ("training_hours", "teacher.rural", "GET", "/training-hours"),
    ("api_communities_teacher", "@teacher.rural", "GET", "/api/v1/communities?kind=teacher"),
    ("api_coverage", "@bureau", "GET", "/api/v1/coverage"),
    ("coverage_page", "bureau", "GET", "/supervision/coverage"),
    # partnerships: the gap list of unpaired rural schools, the yearly health view, the biggest partnership
    ("coverage_school_gaps", "bureau", "GET", "/supervision/coverage?gaps=school"),
    ("partnership_health", "bureau", "GET", "/supervision/partnerships"),
    ("partnerships_list", "principal.rural", "GET", "/partnerships"),
    ("partnership_page_biggest", "bureau", "GET", "/partnerships/{partnership_id}"),
    # resources: 200,000 of them; 分数 (two characters, the common case for Chinese words), 圆的面积
    # (four characters from the middle of titles), and a query that matches nothing
    ("resources_list", "teacher.rural", "GET", "/resources"),
    ("resources_list_subject_grade", "teacher.rural", "GET", "/resources?subject=math&grade=5"),
    ("resources_search_2char", "teacher.rural", "GET", "/resources?q=%E5%88%86%E6%95%B0"),
    ("resources_search_4char", "teacher.rural", "GET", "/resources?q=%E5%9C%86%E7%9A%84%E9%9D%A2%E7%A7%AF"),
    ("resources_search_subject", "teacher.rural", "GET", "/resources?q=%E5%88%86%E6%95%B0&subject=math"),
    ("resources_search_date", "teacher.rural", "GET", "/resources?q=%E5%9C%86%E7%9A%84%E9%9D%A2%E7%A7%AF&sort=date"),
    ("resources_search_nothing", "teacher.rural", "GET", "/resources?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E8%AF%8D"),
    ("api_resources_search_2char", "@teacher.rural", "GET", "/api/v1/resources?q=%E5%88%86%E6%95%B0"),
    ("api_resources_search_4char", "@teacher.rural", "GET",
     "/api/v1/resources?q=%E5%9C%86%E7%9A%84%E9%9D%A2%E7%A7%AF&subject=math"),
]
BASELINE = ("baseline_healthz", None, "GET", "/healthz")

# The pages issue 10's acceptance names ("every key page's p50 within 3 times the baseline"): the
# login page, each role's home, the community page, resource search, the week timetables, live-class
# creation with its conflict check, observation progress, who is behind, the dashboard, the .ics feed.
# Every variant of each is key. Their lines carry "key": true; a summary goes to stderr.
KEY_PAGES = ("login_page", "home_", "community_page_", "resources_search_", "api_resources_search_",
             "timetable_week_", "api_create_live_class", "api_observation_progress", "observations_behind_",
             "supervision_dashboard_", "ics_feed_")
KEY_RATIO = 3


def is_key(name: str) -> bool:
    return name.startswith(KEY_PAGES)


# dual-teacher scheduling: the week timetables, the term overview, the sessions API, the .ics feed,
# and creating a class against the city's 20,000 (each time a free weekend slot: 201; a booked one: 409).
# An entry may carry a JSON body maker (iteration, ids) -> dict and the status it expects.
def free_class(i: int, ids: dict) -> dict:
    minutes = 7 * 60 + 30 * (i % 28)
    start, end = f"{minutes // 60:02d}:{minutes % 60:02d}", f"{(minutes + 30) // 60:02d}:{(minutes + 30) % 60:02d}"
    return {"subject": "english", "grade": 4, "title": "bench", "term_id": ids["term_id"],
            "main_teacher_id": ids["city_teacher_id"], "main_classroom_id": ids["city_room_id"],
            "receiving": [{"classroom_id": ids["rural_room_id"], "assistant_id": ids["rural_teacher_id"]}],
            "weekday": 6 + (i // 28) % 2, "start_time": start, "end_time": end}


def clashing_class(i: int, ids: dict) -> dict:
    return dict(free_class(i, ids), weekday=ids["clash_weekday"], start_time=ids["clash_start"],
                end_time=ids["clash_end"])


BENCHMARKS += [
    ("timetable_week_teacher", "teacher.city", "GET", "/timetable?week={week}"),
    ("timetable_week_school", "principal.city", "GET", "/timetable/schools/{city_school_id}?week={week}"),
    ("timetable_week_school_rural", "principal.rural", "GET", "/timetable/schools/{school_id}?week={week}"),
    ("term_overview_school", "principal.city", "GET", "/timetable/schools/{city_school_id}/term"),
    ("api_live_sessions_week", "@teacher.city", "GET", "/api/v1/live-sessions?from={week}&to={week_end}"),
    ("ics_feed_teacher", "@teacher.city", "GET", "/api/v1/calendar/{city_teacher_id}.ics"),
    ("api_create_live_class", "@teacher.city", "POST", "/api/v1/live-classes", free_class, 201),
    ("api_create_live_class_clash", "@teacher.city", "POST", "/api/v1/live-classes", clashing_class, 409),
]


# lesson observations: who is behind over the city's principals and 100,000 records (city and
# county bureau, only those at risk), a principal's progress by API and their printable register
BENCHMARKS += [
    ("observations_behind_city", "bureau", "GET", "/observations/quota"),
    ("observations_behind_at_risk", "bureau", "GET", "/observations/quota?status=at_risk&page=2"),
    ("observations_behind_county", "bureau.c1", "GET", "/observations/quota"),
    ("api_observation_progress", "@principal.rural", "GET",
     "/api/v1/observations/progress?observer_id={principal_rural_id}&school_year={school_year}"),
    ("api_observation_progress_by_bureau", "@bureau", "GET",
     "/api/v1/observations/progress?observer_id={principal_rural_id}&school_year={school_year}"),
    ("home_principal_city", "principal.city", "GET", "/"),
    ("observations_register_principal", "principal.rural", "GET",
     "/observations/register.xlsx?observer_id={principal_rural_id}"),
]


# supervision dashboard: every figure over the city (and one county), a drill-down list behind a
# figure and its register, and a rural principal's page of their own school
BENCHMARKS += [
    ("supervision_dashboard_city", "bureau", "GET", "/supervision/dashboard"),
    ("supervision_dashboard_county", "bureau.c1", "GET", "/supervision/dashboard"),
    ("supervision_list_receiving", "bureau", "GET", "/supervision/dashboard/lists/receiving_schools?status=short"),
    ("supervision_list_principals_xlsx", "bureau.c1", "GET", "/supervision/dashboard/lists/principals/export.xlsx"),
    ("supervision_school_page", "principal.rural", "GET", "/supervision/schools/{school_id}"),
]


def observation_ids(env: dict) -> dict:
    """principal.rural's id and the current school year."""
    from datetime import date

    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        principal = conn.execute(text("SELECT id FROM users WHERE username = 'principal.rural'")).scalar()
    engine.dispose()
    today = date.today()
    return {"principal_rural_id": principal, "school_year": today.year if today.month >= 9 else today.year - 1}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict, *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prepare_data() -> dict:
    DATA.mkdir(exist_ok=True)
    env = dict(os.environ, PORTAL_INSTANCE_DIR=str(DATA / "instance"), SECRET_KEY="bench-only-secret")
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        env["DATABASE_URL"] = url
        flask(env, "db", "upgrade")
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "seed", "scale", "--schools", str(SCHOOLS),
                        "--teachers", str(TEACHERS), "--seed", str(SEED)], cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # refuses when already seeded
        from sqlalchemy import create_engine, text

        engine = create_engine(url)  # fresh statistics: the planner's choices depend on them
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        engine.dispose()
        return env
    db_file = DATA / f"scale-{SCHOOLS}-{TEACHERS}-{SEED}.sqlite3"
    env["DATABASE_URL"] = f"sqlite:///{db_file}"
    if not db_file.exists():
        print(f"# generating scale data into {db_file.name} ...", file=sys.stderr)
        tmp = db_file.with_suffix(".tmp")
        for leftover in DATA.glob(tmp.name + "*"):
            leftover.unlink()
        build_env = dict(env, DATABASE_URL=f"sqlite:///{tmp}")
        flask(build_env, "db", "upgrade")
        flask(build_env, "seed", "scale", "--schools", str(SCHOOLS), "--teachers", str(TEACHERS), "--seed", str(SEED))
        import sqlite3

        conn = sqlite3.connect(tmp)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
        conn.close()
        tmp.rename(db_file)
    flask(env, "db", "upgrade")  # migrations added since the data was generated
    return env


def community_ids(env: dict) -> dict:
    """Ids for the placeholders: the biggest community, its busiest thread (and that thread's
    last page), and its latest activity with attendance taken."""
    from sqlalchemy import create_engine, text

    try:
        from portal.communities.discussions import REPLIES_PER_PAGE
    except ImportError:
        REPLIES_PER_PAGE = 30
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        community = conn.execute(text("SELECT id FROM communities ORDER BY member_count DESC, id LIMIT 1")).scalar()
        thread, replies = conn.execute(text(
            "SELECT id, reply_count FROM discussion_threads WHERE community_id = :c ORDER BY reply_count DESC, id LIMIT 1"
        ), {"c": community}).one()
        activity = conn.execute(text(
            "SELECT id FROM community_activities WHERE community_id = :c AND attendance_taken_at IS NOT NULL "
            "ORDER BY starts_at DESC LIMIT 1"
        ), {"c": community}).scalar()
    engine.dispose()
    return {"community_id": community, "thread_id": thread, "activity_id": activity,
            "thread_last_page": max(1, -(-replies // REPLIES_PER_PAGE))}


def partnership_ids(env: dict) -> dict:
    """The biggest running partnership: most member schools, then most log entries."""
    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        partnership = conn.execute(text(
            "SELECT p.id FROM partnerships p LEFT JOIN partnership_schools m ON m.partnership_id = p.id "
            "WHERE p.end_date IS NULL GROUP BY p.id ORDER BY count(m.id) DESC, "
            "(SELECT count(*) FROM pairing_activities a WHERE a.partnership_id = p.id) DESC, p.id LIMIT 1"
        )).scalar()
    engine.dispose()
    return {"partnership_id": partnership}


def scheduling_ids(env: dict) -> dict:
    """The demo teachers' schools and rooms, the term, a week in it, one booked slot of
    teacher.city; and the classes earlier runs created are removed so their slots are free again."""
    from datetime import date, timedelta

    from sqlalchemy import create_engine, text

    engine = create_engine(env["DATABASE_URL"])
    with engine.begin() as conn:
        earlier = "(SELECT id FROM live_classes WHERE title = 'bench')"
        for table, column in (("live_bookings", "live_class_id"), ("live_attendance", "session_id"),
                              ("live_sessions", "live_class_id"), ("live_class_slots", "live_class_id"),
                              ("receiving_classrooms", "live_class_id"), ("live_classes", "id")):
            ids_of = earlier if column != "session_id" else (
                "(SELECT id FROM live_sessions WHERE live_class_id IN " + earlier + ")")  # noqa: S608
            conn.execute(text(f"DELETE FROM {table} WHERE {column} IN {ids_of}"))  # noqa: S608  (fixed names)
        people = {name: (uid, sid) for name, uid, sid in conn.execute(text(
            "SELECT username, id, school_id FROM users WHERE username IN ('teacher.city', 'teacher.rural')"))}
        teacher, city_school = people["teacher.city"]
        rural_teacher, rural_school = people["teacher.rural"]
        room = "SELECT id FROM classrooms WHERE school_id = :s ORDER BY id LIMIT 1"
        city_room = conn.execute(text(room), {"s": city_school}).scalar()
        # A class may only reach classrooms of the creator's county: in the city data teacher.rural's
        # school may be in another county, so the receiving room is a village school's of teacher.city's.
        rural_school, rural_teacher = conn.execute(text(
            "SELECT s.id, u.id FROM schools s JOIN users u ON u.school_id = s.id AND u.role = 'teacher' "
            "WHERE s.kind = 'village' AND s.county_id = (SELECT county_id FROM schools WHERE id = :c) "
            "ORDER BY s.id, u.id LIMIT 1"), {"c": city_school}).one()
        rural_room = conn.execute(text(room), {"s": rural_school}).scalar()
        term_id, weekday, start, end, first = conn.execute(text(
            "SELECT c.term_id, s.weekday, s.start_time, s.end_time, c.first_date FROM live_classes c "
            "JOIN live_class_slots s ON s.live_class_id = c.id WHERE c.main_teacher_id = :t ORDER BY c.id LIMIT 1"
        ), {"t": teacher}).one()
    engine.dispose()
    day = date.fromisoformat(str(first)[:10]) + timedelta(days=35)
    monday = day - timedelta(days=day.weekday())
    return {"city_teacher_id": teacher, "city_school_id": city_school, "city_room_id": city_room,
            "rural_teacher_id": rural_teacher, "rural_room_id": rural_room, "term_id": term_id,
            "clash_weekday": weekday, "clash_start": str(start)[:5], "clash_end": str(end)[:5],
            "week": monday.isoformat(), "week_end": (monday + timedelta(days=7)).isoformat()}


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(env, EXPOSE_QUERY_COUNT="1", LOGIN_LIMIT_PER_IP="100000/minute", LOGIN_LIMIT_PER_USER="100000/minute")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--worker-class", "gthread", "--workers", "1", "--threads", "8", "--no-control-socket",
         "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=2).ok:
                return proc, base
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or busy starting
            time.sleep(0.2)
    proc.terminate()
    log.seek(0)
    raise SystemExit("server did not start:\n" + log.read().decode(errors="replace")[-3000:])


def page_session(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    response = session.post(base + "/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                            allow_redirects=False)
    if response.status_code != 302:
        raise SystemExit(f"cannot log in as {username}: {response.status_code}")
    return session


def api_session(base: str, username: str) -> requests.Session:
    session = requests.Session()
    token = requests.post(base + "/api/v1/auth/token", json={"username": username, "password": PASSWORD}).json()["token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


class Client:
    """One keep-alive connection that sends a ``requests`` session's cookies (or API token) as plain
    headers, as a browser would, with the browser's Accept-Encoding. The timings are then the
    server's: through ``requests`` itself its cookie jar alone cost 1-2 ms on every logged-in page
    and nothing on the anonymous baseline (measured: the teacher's home 5.6 ms by ``requests``,
    2.9 ms by this, the baseline 1.5 and 1.0). The body is read, not decompressed."""

    def __init__(self, base: str, session: requests.Session) -> None:
        self.host, self.port = base.removeprefix("http://").split(":")
        self.cookies = {cookie.name: cookie.value for cookie in session.cookies}
        self.headers = {"Accept-Encoding": "gzip, deflate, br", "Accept": "text/html,application/json;q=0.9,*/*;q=0.8"}
        if "Authorization" in session.headers:
            self.headers["Authorization"] = session.headers["Authorization"]
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body=None) -> tuple[int, dict, bytes]:
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):  # the server closes an idle keep-alive connection after a while
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, int(self.port), timeout=120)
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, content


def measure(client: Client, method: str, path: str, body=None,
            expect: int | None = None) -> tuple[list[float], int]:
    """``body``: a maker of each request's JSON body from the iteration number; ``expect``: the
    status every answer must have (default: any below 400)."""

    def send(i: int) -> tuple[int, dict, bytes]:
        return client.request(method, path, body(i) if body else None)

    for i in range(3):  # warm caches and connections
        send(i)
    timings, queries = [], -1
    for i in range(3, 3 + SAMPLES):
        started = time.perf_counter()
        status, headers, content = send(i)
        timings.append((time.perf_counter() - started) * 1000)
        if status >= 400 if expect is None else status != expect:
            raise SystemExit(f"{path} answered {status}: {content[:300].decode(errors='replace')}")
        queries = int(headers.get("X-Query-Count", -1))
    return timings, queries


BASELINE_BLOCK = 10  # baseline samples between two benchmarks


def baseline_block(client: Client) -> list[float]:
    """The baseline timed between two benchmarks. Two requests first, untimed: what the server
    still had to do after the last page (tearing down its request) would land on them. Timed
    right after a page, the baseline was 1.1 ms beside light pages and up to 2.7 beside heavy
    ones: the page's own cost, counted on the baseline's side."""
    for _ in range(2):
        client.request("GET", BASELINE[3])
    timings = []
    for _ in range(BASELINE_BLOCK):
        started = time.perf_counter()
        client.request("GET", BASELINE[3])
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    env = prepare_data()
    proc, base = start_server(env)
    try:
        clients: dict[str | None, Client] = {None: Client(base, requests.Session())}
        ids = community_ids(env)
        ids.update(partnership_ids(env))
        ids.update(scheduling_ids(env))
        ids.update(observation_ids(env))
        ids["school_id"] = api_session(base, "principal.rural").get(base + "/api/v1/me").json()["school_id"]
        # Each benchmark's ratio is to the baseline timed just before and just after it (blocks of
        # BASELINE_BLOCK): this machine runs in slow and fast phases lasting minutes (the baseline's
        # p50 moved 1.19 -> 2.34 ms between the start and the end of one run), so a baseline taken
        # at other moments than the page moved the ratios by half.
        blocks = [baseline_block(clients[None])]
        rows = []
        for name, who, method, path, *extra in BENCHMARKS:
            if who not in clients:
                clients[who] = Client(base, api_session(base, who[1:]) if who.startswith("@")
                                      else page_session(base, who))
            body = (lambda i, make=extra[0]: make(i, ids)) if extra else None
            timings, queries = measure(clients[who], method, path.format(**ids), body,
                                       extra[1] if len(extra) > 1 else None)
            blocks.append(baseline_block(clients[None]))
            rows.append((name, timings, queries, blocks[-2] + blocks[-1]))
        medians = [statistics.median(block) for block in blocks]
        print(f"# baseline p50 per block of {BASELINE_BLOCK}: first {medians[0]:.2f} ms, last {medians[-1]:.2f}, "
              f"from {min(medians):.2f} to {max(medians):.2f}", file=sys.stderr, flush=True)
        every = [t for block in blocks for t in block]
        rows.insert(0, (BASELINE[0], every, int(requests.get(base + BASELINE[3]).headers.get("X-Query-Count", -1)),
                        every))
        beyond = []
        for name, timings, queries, beside in rows:
            p50, base_p50 = statistics.median(timings), statistics.median(beside)
            ratio = round(p50 / base_p50, 2) if base_p50 else None
            line = {"name": name, "p50_ms": round(p50, 2), "p95_ms": round(percentile(timings, 0.95), 2),
                    "baseline_p50_ms": round(base_p50, 2), "ratio": ratio, "queries": queries}
            if is_key(name):
                line["key"] = True
                if ratio is None or ratio > KEY_RATIO:
                    beyond.append(f"{name} {ratio}")
            print(json.dumps(line, ensure_ascii=False), flush=True)
        keys = sum(is_key(name) for name, *_ in rows)
        print(f"# key pages within {KEY_RATIO}x the baseline: {keys - len(beyond)} of {keys}"
              + (f"; beyond: {', '.join(beyond)}" if beyond else ""), file=sys.stderr, flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    # The live room: a main teacher broadcasting to 50 classrooms while 950 more sockets are held by
    # the same process, against bare python-socketio in the same run (bench/live_load.py; BENCH_SOCKETS=0 skips).
    if os.environ.get("BENCH_SOCKETS", "1") != "0":
        from .live_load import run as live_load

        for row in live_load("threading", room=50, idle=950, rounds=10):
            print(json.dumps(row, ensure_ascii=False), flush=True)
    # Throughput: the production setup (scripts/serve.sh) under 8, 32 and 64 concurrent clients on a
    # mix of key pages (bench/throughput.py; BENCH_THROUGHPUT=0 skips).
    if os.environ.get("BENCH_THROUGHPUT", "1") != "0":
        from .throughput import run as throughput

        throughput(env)


if __name__ == "__main__":
    main()
