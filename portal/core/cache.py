"""A short-lived cache of figures computed over the city's records (the supervision dashboard and its
lists, coverage, who is behind, the paired schools, the bureau's set-up gaps), dropped as soon as a
record behind them changes.

At city scale the figures aggregate hundreds of thousands of sessions, attendance rows and
observations (seconds on SQLite), so one computation serves every viewer of the same scope
(county, school year, semester, day) until either

- a transaction that changed a record behind the figures commits: any ORM insert, update or
  delete of a watched model, or a bulk UPDATE/DELETE of a watched table, bumps a generation
  number (in Redis when ``REDIS_URL`` is set, so every process sees it; else in this process),
  and the next viewer computes them again (others arriving meanwhile get the previous figures
  rather than wait seconds behind that computation); or
- ``DASHBOARD_CACHE_SECONDS`` (default 300) have passed, since figures also move with the
  clock (a session that ends becomes "not recorded", the quota's pace advances).

The page says when its figures were computed ("as of"). What depends on who looks is never
cached: of the top resources only the scope's ranking is kept, which of them the viewer may see is
asked on each view. Tests run with the cache off unless they turn it on.

The same mechanism serves a second, strict kind of store (``kept``): what a page shows that is a
pure function of the records and of keys the caller names (a week timetable as one viewer sees it
on one day, a person's communities), never served stale. Its generations are their own
(``TIMETABLES``, ``AUDIENCES``), each following only the tables behind it: a resource download or
an attendance mark must not throw away every school's week.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from flask import current_app, g, has_request_context, request
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from ..extensions import db
from .pagination import Page, page_args

log = logging.getLogger(__name__)

MAX_ENTRIES = 1024  # a scope's figures, the pages of the lists behind them that were opened, and the
# written-out rows of those lists (a few KB each): room enough that viewing lists does not push out the figures
# The tables whose records the figures are computed from.
WATCHED_TABLES = frozenset({
    "users", "schools", "counties", "terms", "classrooms", "calendar_days", "bell_schedules",
    "communities", "community_members", "community_activities", "activity_participants", "training_records",
    "partnerships", "partnership_schools", "school_visits", "teacher_exchanges",
    "resources", "resource_downloads", "resource_uses",
    "live_classes", "receiving_classrooms", "live_sessions", "live_attendance",
    "observations", "quota_rules",
})

# Columns no figure reads: a login (last_login_at), a password change or a language switch must not
# throw away every bureau's figures (60,000 teachers log in through the day).
IRRELEVANT_COLUMNS = {
    "users": frozenset({"last_login_at", "password_hash", "session_nonce", "locale", "must_change_password"}),
}


class Watch(NamedTuple):
    """A generation number and the tables (less some of their columns) whose changes bump it."""

    name: str  # the key in Redis is portal:<name>:generation
    tables: frozenset[str]
    ignored: dict[str, frozenset[str]]
    kept: int = 0  # how many values ``kept`` holds for it at most, the least recently used going first


FIGURES = Watch("supervision", WATCHED_TABLES, IRRELEVANT_COLUMNS)
# What a week timetable shows: the sessions, their classes and receiving classrooms, the names of
# schools, classrooms and people, the bell schedules, the calendar's special days and the terms.
TIMETABLES = Watch("timetables", frozenset({
    "live_sessions", "live_classes", "receiving_classrooms", "classrooms", "schools", "users",
    "bell_schedules", "bell_periods", "calendar_days", "terms",
}), IRRELEVANT_COLUMNS, kept=1024)  # weeks as their viewers saw them (10-40 KB), home sessions (~1 KB)
# Whom a person's shared resources reach and where the home page sends them: their memberships of
# communities, their school's partnerships and those they are responsible for.
AUDIENCES = Watch("audiences", frozenset({
    "community_members", "communities", "partnerships", "partnership_schools", "partnership_people",
}), {}, kept=8192)  # a few ids or rows per person and day (~200 bytes)
WATCHES = (FIGURES, TIMETABLES, AUDIENCES)

_lock = threading.Lock()
_local_generations = dict.fromkeys((watch.name for watch in WATCHES), 0)
_entries: OrderedDict = OrderedDict()  # key -> (generation, stored at, value)
_computing: dict = {}  # key -> the lock held while that key's value is computed
_kept: dict[str, OrderedDict] = {watch.name: OrderedDict() for watch in WATCHES if watch.kept}  # ``kept``'s
# stores, one per generation (small values must not push out big ones): key -> (generation, stored at, value)


def _table_of(obj) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


def _changes(watch: Watch, obj, updated: bool) -> bool:
    table = _table_of(obj)
    if table not in watch.tables:
        return False
    ignored = watch.ignored.get(table)
    if not updated or not ignored:
        return True
    return any(attr.history.has_changes() for attr in inspect(obj).attrs if attr.key not in ignored)


def _changed(session) -> set[str]:
    """The names of the generations this session's transaction has changed so far."""
    return session.info.setdefault("cache_changed", set())


@event.listens_for(Session, "after_flush")
def _note_changes(session, _context) -> None:
    # after_flush still sees what the flush wrote: new, dirty, deleted and each attribute's history
    changed = _changed(session)
    unseen = [watch for watch in WATCHES if watch.name not in changed]
    if not unseen:
        return
    for obj, updated in (*((o, False) for o in session.new), *((o, True) for o in session.dirty),
                         *((o, False) for o in session.deleted)):
        for watch in unseen:
            if watch.name not in changed and _changes(watch, obj, updated):
                changed.add(watch.name)
        if len(changed) == len(WATCHES):
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(getattr(state.statement, "table", None), "name", None)
    for watch in WATCHES:
        if table in watch.tables:
            _changed(state.session).add(watch.name)


def note_change(session=None) -> None:
    """A write the ORM does not see (rows inserted on the session's connection) changes the
    figures and anything kept: they are computed again once this transaction commits."""
    _changed(session or db.session).update(watch.name for watch in WATCHES)


@event.listens_for(Session, "after_commit")
def _bump_on_commit(session) -> None:
    for name in session.info.pop("cache_changed", ()):
        bump(name)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session) -> None:
    # A rollback undoes the whole transaction: nothing of it changed the figures.
    session.info.pop("cache_changed", None)


def _redis():
    try:
        url = current_app.config.get("REDIS_URL")
    except RuntimeError:  # no application: a script outside the app
        return None
    if not url:
        return None
    client = current_app.extensions.get("supervision_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        current_app.extensions["supervision_redis"] = client
    return client


def _key(name: str) -> str:
    return f"portal:{name}:generation"


GENERATION_KEY = _key(FIGURES.name)


def bump(name: str = FIGURES.name) -> None:
    with _lock:
        _local_generations[name] += 1  # the entries stay, stale: served while their successor is computed
    client = _redis() if _enabled(name) else None
    if client is not None:
        try:
            client.incr(_key(name))
        except Exception:  # noqa: BLE001  Redis down: this process is invalidated; the TTL bounds the others
            log.warning("could not bump the %s cache generation in Redis", name, exc_info=True)


def _seen_this_request() -> dict:
    """The Redis generations this request has read. Per request object, not per environ (every
    Socket.IO event of one connection shares its environ) nor per ``g`` alone (an app context may
    outlive a request: the test suite's does)."""
    if not has_request_context():
        return {}
    current = request._get_current_object()
    memo = g.get("cache_generations")
    if memo is None or memo[0] is not current:
        memo = g.cache_generations = (current, {})
    return memo[1]


def generation(name: str = FIGURES.name) -> str:
    client = _redis()
    if client is not None:
        # Read from Redis once per request (a home page asks for several kept values): the changes
        # of other processes are seen from the next request on; this process's own are counted
        # in the local part, read every time.
        seen = _seen_this_request()
        shared = seen.get(name)
        if shared is None:
            try:
                shared = seen[name] = int(client.get(_key(name)) or 0)
            except Exception:  # noqa: BLE001
                log.warning("could not read the %s cache generation from Redis", name, exc_info=True)
                return f"down.{time.monotonic_ns()}"  # never matches: computed fresh
        return f"r{shared}.{_local_generations[name]}"
    return f"l{_local_generations[name]}"


def seconds() -> int:
    default = 0 if current_app.config.get("TESTING") else 300
    return int(current_app.config.get("DASHBOARD_CACHE_SECONDS", default))


def kept_seconds() -> int:
    """How long ``kept`` keeps a value at most (PAGE_CACHE_SECONDS, default 600; 0: off). Only a
    bound for writes no hook sees (a hand-made change in the database): the generation already drops
    every value on a change of its tables."""
    return int(current_app.config.get("PAGE_CACHE_SECONDS", 600))


def _enabled(name: str = FIGURES.name) -> bool:
    try:
        return (seconds() if name == FIGURES.name else kept_seconds()) > 0
    except RuntimeError:  # no application
        return False


def _is_fresh(found, current: str, ttl: int) -> bool:
    return found is not None and found[0] == current and time.monotonic() - found[1] < ttl


def _fresh(key: tuple, current: str, ttl: int):
    """The stored entry for key if it is of this generation and within the TTL, else None."""
    with _lock:
        found = _entries.get(key)
        if _is_fresh(found, current, ttl):
            _entries.move_to_end(key)
            return found
    return None


def cached(key: tuple, compute):
    """``compute()`` or the value stored for ``key`` in this generation within the TTL.

    One computation per key at a time in this process: the city's figures take seconds, and ten
    bureau viewers arriving after a change would otherwise each start the same one on a 2-core
    server. While it runs, the others get the figures from before the change when there are some
    (no older than two TTLs; the page says when they were computed) instead of waiting seconds
    for the new ones; with none, they wait for it and take its result."""
    ttl = seconds()
    if ttl <= 0:
        return compute()
    current = generation()
    with _lock:
        found = _entries.get(key)
        computing = _computing.setdefault(key, threading.Lock())
        if _is_fresh(found, current, ttl):
            _entries.move_to_end(key)
            return found[2]
    stale = found is not None and time.monotonic() - found[1] < 2 * ttl
    if not computing.acquire(blocking=not stale):
        return found[2]  # someone is computing the fresh figures: the previous ones meanwhile
    try:
        found = _fresh(key, current, ttl)  # computed while this request waited
        if found is not None:
            return found[2]
        started = time.monotonic()
        value = compute()
        with _lock:
            _put(_entries, key, (current, started, value), MAX_ENTRIES)
            if len(_computing) > 2 * MAX_ENTRIES:  # one lock per key ever asked for: keep those in use
                for gone in [k for k, lock in _computing.items() if k not in _entries and not lock.locked()]:
                    del _computing[gone]
        return value
    finally:
        computing.release()


def cached_page(key: tuple, stmt, default_per_page: int, total: int | None = None) -> Page:
    """The requested page of ``stmt`` (rows) and its length, each kept under ``key`` like the figures.
    ``key`` must name everything the statement was built from; ``total``: already counted.
    ``stmt`` may be a function making the statement, called only when something is not kept."""
    number, per_page = page_args(default_per_page)

    def statement():
        return stmt() if callable(stmt) else stmt

    if total is None:
        total = cached((*key, "total"), lambda: db.session.execute(
            select(func.count()).select_from(statement().order_by(None).subquery())).scalar_one())
    items = cached((*key, "page", number, per_page), lambda: db.session.execute(
        statement().limit(per_page).offset((number - 1) * per_page)).all())
    return Page(items=items, total=total, page=number, per_page=per_page)


def kept(key: tuple, compute, watch: Watch = TIMETABLES):
    """``compute()``, or what it returned for ``key`` in ``watch``'s present generation and within
    ``kept_seconds()``. Never a stale value: what a page shows right after its own change must be
    that change. ``key`` names everything the value depends on besides the records of ``watch``'s
    tables (whose view, which day, which language); the value is shared between the requests
    that ask for the same key: never change it."""
    ttl = kept_seconds()
    if ttl <= 0 or _changing(watch):
        return compute()
    current = generation(watch.name)
    store = _kept[watch.name]
    with _lock:
        found = store.get(key)
        if _is_fresh(found, current, ttl):
            store.move_to_end(key)
            return found[2]
    started = time.monotonic()
    value = compute()
    with _lock:
        _put(store, key, (current, started, value), watch.kept)
    return value


def kept_rows(key: tuple, statement, params: dict, watch: Watch = TIMETABLES) -> tuple:
    """The plain rows of ``statement`` with ``params``, ``kept`` under ``key`` (which must name
    what ``params`` hold) in ``watch``'s generation."""
    return kept(key, lambda: tuple(db.session.connection().execute(statement, params).all()), watch)


def _changing(watch: Watch) -> bool:
    """Whether this request's own transaction has changed (or is about to flush a change to) the
    tables of ``watch``: what it reads must then be read, not kept, since the generation moves
    only once the change commits."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.flush()  # as the read would have (autoflush, or core/models.plain_rows)
    return watch.name in session.info.get("cache_changed", ())


def _put(store: OrderedDict, key: tuple, entry: tuple, limit: int) -> None:
    """Keep ``entry`` under ``key`` as the newest of ``store``, the oldest dropped past ``limit``
    (the caller holds ``_lock``)."""
    store[key] = entry
    store.move_to_end(key)
    while len(store) > limit:
        store.popitem(last=False)


def clear() -> None:
    with _lock:
        _entries.clear()
        for store in _kept.values():
            store.clear()
