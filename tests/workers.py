"""The suite runs on several pytest-xdist workers (``make test``, ``--dist loadfile``: a file's tests on
one worker, in order): each needs a database of its own, and the Redis tests need turns.

A SQLite file already is per process (a temporary directory per worker). A PostgreSQL URL gets the
worker's name as a suffix: ``…/portal_ci`` becomes ``…/portal_ci_gw0``, made empty for the run on
the same server. Without xdist the URL is used as given.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile

from sqlalchemy import create_engine, make_url, text


def worker_name() -> str | None:
    return os.environ.get("PYTEST_XDIST_WORKER")


def worker_database(url: str | None) -> str | None:
    """url itself, or a fresh, empty database of this worker's on the same PostgreSQL server."""
    worker = worker_name()
    if not url or not worker or not url.startswith("postgresql"):
        return url
    given = make_url(url)
    mine = given.set(database=f"{given.database}_{worker}")
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{mine.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    finally:
        engine.dispose()
    return mine.render_as_string(hide_password=False)


@contextlib.contextmanager
def redis_turn():
    """One test module at a time, across workers, for the tests whose servers meet on Redis: pub/sub
    channels are shared by every database number, and so are the login limits' keys per address.
    (pytest-xdist's xdist_group does not group under pytest 9.2: it sets a node id pytest no longer
    reads, so a lock file does it.)"""
    path = os.path.join(tempfile.gettempdir(), "portal-tests-redis.lock")
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
