"""SQLite connection setup: pragmas, and who begins transactions and how.

pysqlite's own ("legacy") transaction handling breaks two things this portal relies on:

* it emits no BEGIN before a SELECT nor before a SAVEPOINT, so a savepoint opened before the
  request's first write is a transaction of its own, and RELEASE commits it at once (a rollback
  of the request no longer undoes it);
* its BEGIN is always DEFERRED. In WAL mode a deferred transaction that read, then tries to write
  after another connection committed, fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT:
  its snapshot is stale, waiting cannot help), whatever the busy timeout.

So, as SQLAlchemy documents for pysqlite ("Transactions with SQLite and the sqlite3 driver"), the
driver is switched off (``isolation_level = None``) and SQLAlchemy's ``begin`` event emits the BEGIN:

* ``BEGIN IMMEDIATE`` for work that writes: requests with an unsafe method (POST, PUT, PATCH,
  DELETE), GET views marked ``@writes_on_get`` (a download's counter, a first use that creates a
  row), Socket.IO events other than ``connect`` (every live-room event stores something), and work
  outside any request (CLI commands, scripts, threads). It takes the write lock before the first
  read, so concurrent writers queue on the busy timeout instead of failing, and what they read
  cannot change before they write.
* plain ``BEGIN`` (deferred) for pages people read (GET, HEAD) and the Socket.IO ``connect`` every
  page makes. In WAL mode these run in parallel with each other and with the one writer, which is
  what keeps the portal fast on SQLite. An app context outside a request may say it only reads
  with ``g.sqlite_write_lock = False`` (the test suite's own session does).

PostgreSQL is untouched: its own MVCC and row locks need none of this.
"""

from __future__ import annotations

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_ONLY_SOCKET_EVENTS = frozenset({"connect"})  # opened by every page (notifications): a read


def writes_on_get(view):
    """Mark a GET view that writes (a counter, a row made on first use): on SQLite its
    transaction then begins IMMEDIATE like a POST's."""
    view.writes_on_get = True
    return view


def wants_write_lock() -> bool:
    """Whether the transaction about to begin is expected to write (see the module docstring)."""
    if has_request_context():
        socket_event = getattr(request, "event", None)  # set by Flask-SocketIO for socket handlers
        if socket_event is not None:
            return socket_event.get("message") not in READ_ONLY_SOCKET_EVENTS
        if request.method in UNSAFE_METHODS:
            return True
        view = current_app.view_functions.get(request.endpoint) if has_app_context() else None
        return bool(getattr(view, "writes_on_get", False))
    if has_app_context() and g.get("sqlite_write_lock") is not None:
        return bool(g.sqlite_write_lock)
    return True  # a CLI command (seed, …), a script, a thread doing work


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


MMAP_BYTES = 1 << 30


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record) -> None:
    if not _is_sqlite(dbapi_connection):
        return
    dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN/COMMIT of its own: _sqlite_begin does
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Read the file through memory mapping, not a read() call and a copy per page: a search that
    # visits 1,600 scattered resources at city scale takes half the time. Address space only; the
    # pages are the operating system's page cache, shared by every connection.
    cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    if conn.dialect.name != "sqlite" or conn.dialect.driver != "pysqlite":
        return
    # On the driver's connection itself, as SQLAlchemy's own BEGIN would be: not a statement of the
    # request's (query counts and statement logs stay as they were).
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if wants_write_lock() else "BEGIN")
