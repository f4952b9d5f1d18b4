"""Many people at the same moment: nothing is lost and nothing is doubled (issue 11).

Every scenario runs THREADS threads released together by a barrier, each with its own test client
(its own request, app context and database session, as a gunicorn thread would have) against the
suite's real database: a SQLite file in WAL mode, or PostgreSQL with TEST_DATABASE_URL. The
assertions are about what people would check afterwards (one request, the right member count, no
activity over its capacity), never about time.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import has_app_context
from sqlalchemy import func, select, update

from portal.accounts.services import issue_token
from portal.communities.models import Activity, Community, Membership, Participant
from portal.core.sqlite import wants_write_lock
from portal.core.timeutil import local_today
from portal.extensions import db as _db
from portal.extensions import limiter
from portal.live.models import LiveEvent, LiveRoomState
from portal.observations.models import Observation
from portal.org.models import County
from portal.resources.models import Resource, ResourceRating

from .factories import PASSWORD

pytestmark = pytest.mark.concurrency

THREADS = 16


def together(count: int, fn):
    """Run ``fn(i)`` for i in range(count), in ``count`` threads that a barrier releases at the same
    moment; return the results in order (an exception in a thread fails the test)."""
    if has_app_context():
        _db.session.commit()  # the test's own snapshot must not hide what the threads write
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(run, range(count)))
    if has_app_context():
        _db.session.expire_all()
    return results


def bearer(db, user) -> dict:
    token = issue_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def browser_of(app, client, username: str) -> tuple:
    """A test client logged in through the login form, and a CSRF token for its session."""
    client = client or app.test_client()
    page = client.get("/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data).group(1).decode()
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.data[:300]
    page = client.get("/")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data).group(1).decode()
    return client, token


def tabs_of(app, client, count: int) -> list:
    """``count`` clients sharing one login (the same person in several tabs or devices)."""
    tabs = []
    for _ in range(count):
        tab = app.test_client()
        for cookie in client._cookies.values():
            tab.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        tabs.append(tab)
    return tabs


# --- the database itself ------------------------------------------------------------------------------


def test_the_suite_runs_on_a_file_database_in_wal_mode_like_production(db):
    if db.engine.dialect.name != "sqlite":
        assert db.engine.dialect.name == "postgresql"
        return
    assert db.engine.url.database and db.engine.url.database != ":memory:"
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_writes_begin_immediate_and_pages_that_only_read_do_not(app):
    with app.test_request_context("/", method="POST"):
        assert wants_write_lock()
    with app.test_request_context("/", method="GET"):
        assert not wants_write_lock()
    with app.test_request_context("/resources/1/download", method="GET"):  # a GET that counts a download
        assert wants_write_lock()
    with app.test_request_context("/api/v1/calendar/1.ics", method="GET"):  # the token's last use
        assert wants_write_lock()
    with app.app_context():  # a CLI command, a script, a thread doing work
        assert wants_write_lock()


def test_a_savepoint_released_inside_a_transaction_is_undone_by_its_rollback(app, db):
    """A savepoint opened before the transaction's first write (the request had only read) used to
    be a transaction of its own on SQLite: its RELEASE committed, and the rollback undid nothing."""
    with app.test_request_context("/", method="POST"):
        assert db.session.execute(select(func.count()).select_from(County)).scalar_one() == 0  # a read first
        with db.session.begin_nested():
            db.session.add(County(name="保存点县"))
            db.session.flush()
        db.session.rollback()
    assert db.session.execute(select(County).where(County.name == "保存点县")).first() is None


def test_a_failed_savepoint_undoes_only_its_own_work(app, db):
    from sqlalchemy.exc import IntegrityError

    db.session.add(County(name="已有县"))
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        db.session.add(County(name="先写的县"))
        db.session.flush()
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(County(name="已有县"))  # unique name: refused
            db.session.flush()
        db.session.commit()
    names = set(db.session.execute(select(County.name)).scalars())
    assert names == {"已有县", "先写的县"}


def test_read_then_write_transactions_in_requests_lose_no_update(app, db):
    """THREADS × 10 POST-like transactions each read a counter and write it back plus one: with
    BEGIN IMMEDIATE on SQLite (and the row lock on PostgreSQL) none fails, none is lost."""
    county = County(name="计数县")
    db.session.add(county)
    db.session.commit()
    county_id, rounds = county.id, 10

    def work(_i):
        for _ in range(rounds):
            with app.test_request_context("/", method="POST"):
                name = db.session.execute(
                    select(County.name).where(County.id == county_id).with_for_update()).scalar_one()
                number = int(name.removeprefix("计数县") or 0)
                db.session.execute(update(County).where(County.id == county_id).values(name=f"计数县{number + 1}"))
                db.session.commit()
                db.session.remove()

    together(THREADS, work)
    assert db.session.get(County, county_id).name == f"计数县{THREADS * rounds}"


def test_a_page_that_only_reads_is_not_held_up_by_a_writer(app, db):
    """While a writer holds its transaction open, a GET's transaction still reads (SQLite WAL
    readers run beside the one writer): reading pages stay fast under writes."""
    db.session.add(County(name="读写县"))
    db.session.commit()
    writer = db.engine.connect()
    with app.test_request_context("/", method="POST"):
        tx = writer.begin()  # BEGIN IMMEDIATE: SQLite's write lock is now taken
        writer.execute(update(County).values(name="写了一半"))
    try:
        def read(_i):
            with app.test_request_context("/", method="GET"):
                try:
                    return db.session.execute(select(County.name)).scalar_one()
                finally:
                    db.session.remove()

        assert together(4, read) == ["读写县"] * 4  # not blocked, and the uncommitted change unseen
    finally:
        tx.rollback()
        writer.close()


# --- communities ------------------------------------------------------------------------------------------


@pytest.fixture
def community(make):
    leader = make.user("teacher", name="领衔人")
    return make.community("teacher", leader=leader)


def test_one_teacher_asking_to_join_many_times_at_once_makes_one_request(app, db, make, community):
    teacher = make.user("teacher", county=community.county)
    headers = bearer(db, teacher)
    path = f"/api/v1/communities/{community.id}/members"

    statuses = together(THREADS, lambda _i: app.test_client().post(path, json={}, headers=headers).status_code)

    assert sorted(statuses) == [202] + [409] * (THREADS - 1)
    rows = db.session.execute(select(Membership).where(Membership.user_id == teacher.id)).scalars().all()
    assert [(m.community_id, m.status) for m in rows] == [(community.id, "pending")]


def test_many_teachers_asking_and_being_added_at_once_are_all_recorded(app, db, make, community):
    askers = [make.user("teacher", county=community.county) for _ in range(THREADS)]
    added = [make.user("teacher", county=community.county) for _ in range(THREADS)]
    asker_headers = [bearer(db, person) for person in askers]
    leader_headers = bearer(db, community.leader)
    added_ids = [person.id for person in added]
    path = f"/api/v1/communities/{community.id}/members"

    def act(i):
        client = app.test_client()
        if i % 2 == 0:
            return client.post(path, json={}, headers=asker_headers[i // 2]).status_code
        return client.post(path, json={"user_id": added_ids[i // 2]}, headers=leader_headers).status_code

    statuses = together(2 * THREADS, act)

    assert statuses.count(202) == THREADS and statuses.count(201) == THREADS
    count = {status: db.session.execute(select(func.count()).select_from(Membership).where(
        Membership.community_id == community.id, Membership.status == status)).scalar_one()
        for status in ("pending", "active")}
    assert count == {"pending": THREADS, "active": THREADS + 1}  # the leader too
    assert db.session.get(Community, community.id).member_count == THREADS + 1
    listed = app.test_client().get(f"/api/v1/communities/{community.id}", headers=leader_headers).json
    assert listed["member_count"] == THREADS + 1


def test_sign_ups_at_the_same_moment_never_exceed_the_places(app, db, make, community):
    capacity = 5
    activity = make.activity(community, capacity=capacity)
    members = [make.member(community).user for _ in range(THREADS)]
    browsers = [browser_of(app, None, member.username) for member in members]
    path = f"/activities/{activity.id}/signup"

    statuses = together(THREADS, lambda i: browsers[i][0].post(path, data={"csrf_token": browsers[i][1]}).status_code)

    assert statuses.count(302) == capacity and statuses.count(409) == THREADS - capacity
    participants = db.session.execute(
        select(func.count()).select_from(Participant).where(Participant.activity_id == activity.id)).scalar_one()
    assert participants == capacity
    assert db.session.get(Activity, activity.id).signup_count == capacity


def test_one_person_signing_up_from_many_tabs_at_once_takes_one_place(app, db, make, community):
    activity = make.activity(community, capacity=3)
    member = make.member(community).user
    first, token = browser_of(app, None, member.username)
    tabs = tabs_of(app, first, THREADS)
    path = f"/activities/{activity.id}/signup"

    statuses = together(THREADS, lambda i: tabs[i].post(path, data={"csrf_token": token}).status_code)

    assert statuses.count(302) == 1 and statuses.count(409) == THREADS - 1
    assert db.session.get(Activity, activity.id).signup_count == 1
    assert db.session.execute(select(func.count()).select_from(Participant)).scalar_one() == 1


# --- observations ---------------------------------------------------------------------------------------


def test_observations_recorded_at_once_by_one_principal_are_all_saved_and_counted(app, db, make):
    school = make.school()
    principal = make.user("principal", school=school)
    teachers = [make.user("teacher", school=school) for _ in range(THREADS)]
    teacher_ids = [t.id for t in teachers]
    headers = bearer(db, principal)
    before = app.test_client().get("/api/v1/observations/progress", headers=headers).json["done"]
    today = local_today().isoformat()

    def record(i):
        body = {"observed_teacher_id": teacher_ids[i], "date": today, "periods": 1,
                "subject": "math", "topic": f"第{i}课", "notes": "[10:05] 导入", "scores": {"objectives": 4},
                "suggestions": "多让学生说"}
        return app.test_client().post("/api/v1/observations", json=body, headers=headers).status_code

    assert together(THREADS, record) == [201] * THREADS

    saved = db.session.execute(select(Observation.observed_teacher_id).where(
        Observation.observer_id == principal.id)).scalars().all()
    assert sorted(saved) == sorted(teacher_ids)
    after = app.test_client().get("/api/v1/observations/progress", headers=headers).json["done"]
    assert after == before + THREADS


# --- the live room -------------------------------------------------------------------------------------


def test_many_sockets_connecting_at_once_with_fresh_tokens_are_all_let_in(db, make, socket_client):
    """Each connect stores its token's last-used time: on SQLite, in a transaction that began to
    read, that write fails when another connect committed first; the touch must not refuse them."""
    people = [make.user() for _ in range(THREADS)]
    tokens = [issue_token(person) for person in people]
    db.session.commit()

    sockets = together(THREADS, lambda i: socket_client(namespace="/live", auth={"token": tokens[i]}))

    assert all(socket.is_connected(namespace="/live") for socket in sockets)


def test_chat_from_many_sockets_at_once_is_stored_once_with_gapless_numbers(db, make, socket_client,
                                                                           monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)  # 16 sockets × 5 messages is over one person's chat rate
    room = make.live_session(rooms=7)
    live_class = room.live_class
    people = [live_class.main_teacher] + [r.assistant for r in live_class.receiving]
    sockets = []
    for i in range(THREADS):
        token = issue_token(people[i % len(people)])
        db.session.commit()
        socket = socket_client(namespace="/live", auth={"token": token})
        assert socket.emit("join", {"session_id": room.id}, namespace="/live", callback=True)["ok"]
        sockets.append(socket)
    messages = 5

    def talk(i):
        acks = []
        for n in range(messages):
            payload = {"text": f"第{i}台第{n}条", "cid": f"s{i}-m{n}"}
            acks.append((payload["cid"], sockets[i].emit("chat", payload, namespace="/live", callback=True)))
        # A client that lost the first answer sends it again: the same event, not a second one.
        acks.append(("again", sockets[i].emit("chat", {"text": f"第{i}台第0条", "cid": f"s{i}-m0"},
                                               namespace="/live", callback=True)))
        return acks

    results = together(THREADS, talk)

    seq_of = {}
    for i, acks in enumerate(results):
        for cid, ack in acks:
            assert ack["ok"], ack
            if cid == "again":
                assert ack.get("duplicate") and ack["seq"] == seq_of[f"s{i}-m0"]
            else:
                assert not ack.get("duplicate")
                seq_of[cid] = ack["seq"]
    assert len(set(seq_of.values())) == THREADS * messages  # every message its own number

    stored = db.session.execute(select(LiveEvent).where(LiveEvent.session_id == room.id)).scalars().all()
    chats = [e for e in stored if e.kind == "chat"]
    assert sorted(e.cid for e in chats) == sorted(seq_of)  # each acked message stored exactly once
    assert {e.cid: e.seq for e in chats} == seq_of
    assert sorted(e.seq for e in stored) == list(range(1, len(stored) + 1))  # no gap, no repeat
    state = db.session.execute(select(LiveRoomState).where(LiveRoomState.session_id == room.id)).scalar_one()
    assert state.last_seq == len(stored)


# --- resources ------------------------------------------------------------------------------------------


def test_ratings_sent_at_once_keep_one_rating_per_person_and_the_right_average(app, db, make):
    resource = make.resource(title="分数的意义")
    rater = make.user("teacher")
    others = [make.user("teacher") for _ in range(THREADS // 2)]
    first, token = browser_of(app, None, rater.username)
    tabs = tabs_of(app, first, THREADS // 2)
    other_browsers = [browser_of(app, None, person.username) for person in others]
    path = f"/resources/{resource.id}/rating"

    def rate(i):
        if i < THREADS // 2:
            return tabs[i].post(path, data={"csrf_token": token, "stars": str(i % 5 + 1)}).status_code
        client, other_token = other_browsers[i - THREADS // 2]
        return client.post(path, data={"csrf_token": other_token, "stars": str(i % 5 + 1)}).status_code

    assert together(THREADS, rate) == [302] * THREADS

    ratings = db.session.execute(select(ResourceRating).where(ResourceRating.resource_id == resource.id)).scalars().all()
    assert len(ratings) == 1 + len(others)
    assert len([r for r in ratings if r.user_id == rater.id]) == 1
    mine = next(r for r in ratings if r.user_id == rater.id)
    assert mine.stars in {i % 5 + 1 for i in range(THREADS // 2)}  # one of the values sent; the last written
    stored = db.session.get(Resource, resource.id)
    assert stored.rating_count == len(ratings)
    assert stored.rating_sum == sum(r.stars for r in ratings)

