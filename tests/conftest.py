"""Shared fixtures: one app and schema per run, every table emptied after each test.

Set TEST_DATABASE_URL to run the suite on PostgreSQL (``.ci/run`` does on CI).
"""

from __future__ import annotations

import contextvars
import os
import re
import tempfile

import pytest
from flask import g, has_app_context
from sqlalchemy import event, text

from portal import create_app
from portal.extensions import db as _db
from portal.extensions import limiter, socketio

from .factories import Factories
from .workers import worker_database

_tmp = tempfile.mkdtemp(prefix="portal-test-")
os.environ.setdefault("PORTAL_INSTANCE_DIR", _tmp)
# Under xdist each worker gets a PostgreSQL database of its own; tests that start servers read
# the variable, so it names this worker's database for them too.
for _name in ("TEST_DATABASE_URL", "BROWSER_DATABASE_URL"):
    if os.environ.get(_name):
        os.environ[_name] = worker_database(os.environ[_name])


def _test_config() -> dict:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_tmp}/test.sqlite3"
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_DIR": _tmp,
        "UPLOAD_DIR": os.path.join(_tmp, "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "SOCKETIO_MESSAGE_QUEUE": None,  # test_client refuses a message queue
        "SERVER_NAME": None,
        **_engine_options(url),
    }


def _engine_options(url: str) -> dict:
    """On PostgreSQL a test need not wait for its commits to reach the disk: the database is thrown
    away after the run, and a lost commit on a crash loses nothing anyone needs."""
    if not url.startswith("postgresql"):
        return {}
    return {"SQLALCHEMY_ENGINE_OPTIONS": {
        "pool_pre_ping": True, "connect_args": {"options": "-c synchronous_commit=off"}}}


def in_fresh_context(fn, *args, **kwargs):
    """Run fn as a request would in production: with no app context of the test around it,
    so it gets its own ``g``, its own database session and its own Flask-Login user.

    The test's own transaction ends first: a SQLite reader keeps its snapshot until its transaction
    ends, so the request must see what the test wrote, and the test's next read what the request wrote."""
    if has_app_context():
        _db.session.commit()
    result = contextvars.Context().run(fn, *args, **kwargs)
    if has_app_context():
        _db.session.expire_all()  # the test's own objects see what the request changed
    return result


class FreshContextMiddleware:
    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        return in_fresh_context(lambda: list(self.wsgi_app(environ, start_response)))


@pytest.fixture(scope="session")
def app():
    app = create_app(_test_config())
    app.wsgi_app = FreshContextMiddleware(app.wsgi_app)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts with empty tables, default limits and a fresh rate-limit memory."""
    saved = dict(app.config)
    ctx = app.app_context()
    ctx.push()
    # The test's own session reads between requests: on SQLite it must not hold the write lock
    # (portal/core/sqlite.py); in_fresh_context ends its transaction before each request.
    g.sqlite_write_lock = False
    limiter.reset()
    yield
    _db.session.rollback()
    _db.session.remove()
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: on tables this small TRUNCATE's new files cost ~0.1 s per test.
            # One round trip for every table, then the ids start again at 1.
            conn.exec_driver_sql(
                "; ".join(f'DELETE FROM "{table}"' for table in tables)
                + "; SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"
            )
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    from portal.core import cache

    cache.clear()  # the rows went without the ORM: nothing kept of them may outlive them
    ctx.pop()
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def cache_on(app):
    """The figures' cache (core/cache.py) as in production: tests run with it off."""
    from portal.core import cache

    cache.clear()
    app.config["DASHBOARD_CACHE_SECONDS"] = 300
    yield cache
    app.config.pop("DASHBOARD_CACHE_SECONDS")
    cache.clear()


@pytest.fixture
def cache_redis(app):
    """The caches' generations (core/cache.py) in a local Redis, as with REDIS_URL in production:
    yields a client of that Redis to act as another process. Skips without a Redis on 127.0.0.1;
    one such test at a time across workers (another's commits would bump the same keys)."""
    import redis

    from .workers import redis_turn

    url = "redis://127.0.0.1:6379/8"
    try:
        other = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        other.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    with redis_turn():
        app.config["REDIS_URL"] = url  # restored with the rest of the config after the test
        app.extensions.pop("supervision_redis", None)
        try:
            yield other
        finally:
            app.extensions.pop("supervision_redis", None)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def make(app) -> Factories:
    return Factories(_db)


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Log in through the real login form, CSRF token and all."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        page = self.client.get(path)
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data)
        assert match, f"no CSRF token on {path}"
        return match.group(1).decode()

    def login(self, username: str, password: str = "Test-pass-2026!", **extra):
        token = self.csrf("/login")
        return self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token, **extra}
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf("/")})

    def post(self, path: str, data: dict | None = None, csrf_from: str | None = None, **kwargs):
        """POST a form with a valid CSRF token taken from a page the user can open."""
        token = self.csrf(csrf_from or "/")
        return self.client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def login_as(make, auth):
    """Create a user of the role (or use the one given), log in through the form, return the user."""

    def _login(role_or_user="teacher", **kwargs):
        user = role_or_user if not isinstance(role_or_user, str) else make.user(role=role_or_user, **kwargs)
        response = auth.login(user.username)
        assert response.status_code == 302, response.data[:500]
        return user

    return _login


@pytest.fixture
def api_token(client, make):
    """Return a bearer token for a user (created with the given role if a role is given)."""

    def _token(role_or_user="teacher", **kwargs):
        user = role_or_user if not isinstance(role_or_user, str) else make.user(role=role_or_user, **kwargs)
        response = client.post("/api/v1/auth/token", json={"username": user.username, "password": "Test-pass-2026!"})
        assert response.status_code == 200, response.json
        return response.json["token"]

    return _token


@pytest.fixture
def socket_client(app, client):
    """A Socket.IO test client sharing the HTTP client's cookies (and so its login)."""
    clients = []

    def _connect(namespace: str | None = None, auth=None, http_client=None):
        sc = in_fresh_context(
            socketio.test_client, app, namespace=namespace, auth=auth, flask_test_client=http_client or client
        )
        clients.append(sc)
        return IsolatedSocket(sc)

    yield _connect
    for sc in clients:
        if sc.is_connected():
            in_fresh_context(sc.disconnect)


class IsolatedSocket:
    """A Socket.IO test client whose events run outside the test's app context."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if callable(attr):
            return lambda *a, **kw: in_fresh_context(attr, *a, **kw)
        return attr


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside the block: ``with count_queries() as counter: ...``. What
    pages keep between requests (``cache.kept``) is off in a test that counts: the count is that of
    the request that does the work."""
    from contextlib import contextmanager

    app.config["PAGE_CACHE_SECONDS"] = 0

    @contextmanager
    def _count():
        statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(_db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(_db.engine, "before_cursor_execute", before)

    return _count


@pytest.fixture
def english(app):
    """Messages made outside a request (services called directly) in English, whatever the default
    locale: tests that read a message's words use this; pages pick their locale per request."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield
