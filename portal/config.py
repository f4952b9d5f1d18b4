"""Every setting, read from the environment in one place (CONTRACT.md lists the public ones)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _instance_dir() -> Path:
    path = Path(os.environ.get("PORTAL_INSTANCE_DIR", ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        # O_EXCL: two processes starting at once must not each write a different key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def load_config() -> dict:
    instance = _instance_dir()
    redis_url = os.environ.get("REDIS_URL") or None
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite3'}"
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A server's connections can drop between requests (a restart, an idle timeout): ping each
        # one as it is taken from the pool. A SQLite file cannot drop; the ping would only cost.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "REDIS_URL": redis_url,
        # What pages keep between requests (core/cache.py ``kept``), at most this long.
        "PAGE_CACHE_SECONDS": _int("PAGE_CACHE_SECONDS", 600),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR") or str(instance / "uploads"),
        "PORTAL_TIMEZONE": os.environ.get("PORTAL_TIMEZONE") or "Asia/Shanghai",
        # Flask-Babel
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("PORTAL_TIMEZONE") or "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LANGUAGES": {"zh_Hans": "简体中文", "en": "English"},
        # Sessions and cookies (Secure is added per response when the request came over https).
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE") == "1",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE") == "1",
        # Forms
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 200) * 1024 * 1024,
        # Rate limits (Flask-Limiter): memory per process by default, Redis when scaled out.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STRATEGY": "moving-window",
        "LOGIN_LIMIT_PER_IP": os.environ.get("LOGIN_LIMIT_PER_IP") or "30/minute;200/hour",
        "LOGIN_LIMIT_PER_USER": os.environ.get("LOGIN_LIMIT_PER_USER") or "5/minute;30/hour",
        # Socket.IO
        "SOCKETIO_MESSAGE_QUEUE": redis_url,
        # threading (gthread workers) or gevent (gevent workers): set explicitly, never detected.
        "SOCKETIO_ASYNC_MODE": os.environ.get("SOCKETIO_ASYNC_MODE") or "threading",
        # The Redis pub/sub channel (channels ignore the db number: portals sharing a Redis need their own).
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL") or "flask-socketio",
        # Origins allowed to open a socket (comma-separated, e.g. https://portal.example.cn), never "*";
        # unset: the portal's own origin only (what the page was served from).
        "SOCKETIO_CORS_ORIGINS": [o.strip() for o in os.environ.get("SOCKETIO_ALLOWED_ORIGINS", "").split(",")
                                  if o.strip() and o.strip() != "*"] or None,
        # Behind a reverse proxy: how many hops of X-Forwarded-* to trust (0: none).
        "TRUSTED_PROXY_HOPS": _int("TRUSTED_PROXY_HOPS", 0),
        # Resource searches whose matches each process keeps (resources/search_memory.py; 0: none).
        "RESOURCE_SEARCH_MEMORY": _int("RESOURCE_SEARCH_MEMORY", 256),
        # make bench reads the SQL statement count of each request from a response header.
        "EXPOSE_QUERY_COUNT": os.environ.get("EXPOSE_QUERY_COUNT") == "1",
        # API tokens
        "API_TOKEN_LIFETIME": timedelta(days=_int("API_TOKEN_DAYS", 30)),
        # Continuing-education norm (hours in a five-year cycle); used by later capabilities.
        "TRAINING_HOURS_TARGET": _int("TRAINING_HOURS_TARGET", 360),
        # County quality-balance indicators (县域义务教育优质均衡): teachers in exchange, in percent
        # of all teachers, and backbone teachers, in percent of those exchanged.
        "EXCHANGE_RATIO_TARGET": _int("EXCHANGE_RATIO_TARGET", 10),
        "EXCHANGE_BACKBONE_TARGET": _int("EXCHANGE_BACKBONE_TARGET", 20),
        # Teaching researchers: rural contact schools each, and visits to each per semester.
        "RESEARCHER_MIN_SCHOOLS": _int("RESEARCHER_MIN_SCHOOLS", 2),
        "RESEARCHER_VISITS_PER_SEMESTER": _int("RESEARCHER_VISITS_PER_SEMESTER", 5),
    }
