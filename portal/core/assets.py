"""Light pages on slow links: static URLs that carry their content's hash, long caching of those,
and compressed text responses.

Every ``url_for('static', filename=...)`` gets ``?v=<first 12 hex of the file's sha256>``; the
hash is computed once per file (again only when the file on disk changes) and kept in memory. A
request whose ``v`` is the file's current hash is cached for a year as immutable; any other
static request (no ``v``, or an old one) only for a few minutes, so a changed file is seen soon.

Text responses (HTML, CSS, JS, JSON, SVG) are compressed by Flask-Compress (brotli or gzip, as
the browser asks); a static file is compressed once per content hash and kept in memory. Never
compressed: a file handed to people (anything else sent with a Content-Disposition: uploads,
previews, Excel exports, the calendar feed go byte for byte), partial content (206), and streamed
responses. Socket.IO is answered by Engine.IO before Flask and never reaches these hooks.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from flask import Flask, current_app, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress

HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"

# Endpoints that send files of ours (scripts, styles, icons): compressed although send_file
# streams them and names them with an inline Content-Disposition.
FILE_ENDPOINTS = frozenset({"static", "observations.service_worker"})

compress = Compress()

# Static files are compressed once per algorithm and content hash; pages never reach this cache.
STATIC_KEY = "static:"


class StaticFileCache:
    """Flask-Compress's cache backend: it keeps the compressed bodies of static files (whose keys
    carry STATIC_KEY, see static_cache_key) and nothing else, so no page is ever served from it."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key) if STATIC_KEY in key else None

    def set(self, key: str, value: bytes) -> None:
        if STATIC_KEY in key:
            self.data[key] = value


def static_cache_key(req) -> str:
    """``static:<filename>@<hash>`` for a static file, else "" (not kept)."""
    filename = (req.view_args or {}).get("filename") if req.endpoint == "static" else None
    version = static_hash(filename) if filename else None
    return f"{STATIC_KEY}{filename}@{version}" if version else ""


_hashes: dict[str, tuple[int, int, str]] = {}
_lock = threading.Lock()
# A page names five static files: resolving and stat-ing each one on every request cost ~0.5 ms
# of system calls. A file's answer is reused for RECHECK_SECONDS before its disk is looked at again.
RECHECK_SECONDS = 2.0
_recent: dict[tuple[str, str], tuple[float, str | None]] = {}


def static_hash(filename: str, app: Flask | None = None) -> str | None:
    """The first 12 hex digits of the sha256 of static/<filename>, or None when there is no such file.
    Kept per file and recomputed only when its modification time or size changes (looked at once
    every RECHECK_SECONDS at most)."""
    folder = (app or current_app._get_current_object()).static_folder or ""
    key = (folder, filename)
    now = time.monotonic()
    recent = _recent.get(key)
    if recent is not None and now - recent[0] < RECHECK_SECONDS:
        return recent[1]
    value = _hash_on_disk(folder, filename)
    _recent[key] = (now, value)
    return value


def _hash_on_disk(folder: str, filename: str) -> str | None:
    if not folder:
        return None
    path = Path(folder) / filename
    try:
        resolved = path.resolve()
        if Path(folder).resolve() not in resolved.parents:
            return None
        stat = resolved.stat()
    except (OSError, ValueError):
        return None
    if not resolved.is_file():
        return None
    key = str(resolved)
    cached = _hashes.get(key)
    if cached and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
        return cached[2]
    digest = hashlib.sha256()
    with resolved.open("rb") as fh:
        for block in iter(lambda: fh.read(65536), b""):
            digest.update(block)
    value = digest.hexdigest()[:HASH_LENGTH]
    with _lock:
        _hashes[key] = (stat.st_mtime_ns, stat.st_size, value)
    return value


def add_static_hash(endpoint: str, values: dict) -> None:
    """url_defaults hook: ``url_for('static', filename=f)`` gains ``v=<hash of f>``."""
    if endpoint != "static" or "v" in values or not values.get("filename"):
        return
    version = static_hash(os.fspath(values["filename"]))
    if version:
        values["v"] = version


def static_url(filename: str, app: Flask | None = None, script_root: str | None = None) -> str:
    """``url_for('static', filename=filename)`` for the files every page names (the frame's style,
    icon and scripts): the URL is kept per script root, file and content hash, so a page asks only
    for the file's hash (which follows the file on disk as above), not for a URL build. The
    application and script root may be given by a caller that has them at hand."""
    app = app or current_app._get_current_object()
    if script_root is None:
        script_root = request.script_root
    version = static_hash(filename, app)
    cache = app.extensions.setdefault("portal_static_urls", {})
    key = (script_root, filename, version)
    url = cache.get(key)
    if url is None:
        values = {"v": version} if version else {}
        url = cache[key] = url_for("static", filename=filename, **values)
    return url


def static_cache_headers(response):
    """A year, immutable, for a static file asked for by its current hash; a few minutes otherwise."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    version = request.args.get("v")
    filename = (request.view_args or {}).get("filename")
    current = static_hash(filename) if version and filename else None
    response.headers["Cache-Control"] = IMMUTABLE if current and version == current else SHORT
    return response


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie as Flask keeps it, except that a static file never varies by Cookie.
    (Flask adds ``Vary: Cookie`` whenever a request looked at the session, as the login hooks do on
    every request: the browser would then fetch every cached script again once the login cookie
    changes.)"""

    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        if request.endpoint == "static" and "Vary" in response.headers:
            kept = [value for value in response.vary if value.lower() != "cookie"]
            if kept:
                response.headers["Vary"] = ", ".join(kept)
            else:
                del response.headers["Vary"]


def compressible(response) -> bool:
    """Whether the response may be compressed at all (Flask-Compress then checks type, size, encoding)."""
    if request.endpoint in FILE_ENDPOINTS:  # our own scripts and styles (send_file names them inline)
        return response.status_code != 206
    # Anything else named by a Content-Disposition (uploads, exports, the calendar feed) is a file
    # handed over byte for byte; streamed answers are sent as they come.
    return "Content-Disposition" not in response.headers and not response.is_streamed


def prepare_file(response) -> None:
    """Read a file response of ours into memory so that Flask-Compress (which leaves streamed
    responses alone) compresses it; the file is closed here."""
    if response.is_streamed and response.status_code == 200:
        response.direct_passthrough = False
        response.set_data(response.get_data())


def compress_response(response):
    """after_request hook: hand what may be compressed to Flask-Compress."""
    if not compressible(response):
        return response
    if request.endpoint in FILE_ENDPOINTS:
        prepare_file(response)
    return compress.after_request(response)


COMPRESS_SETTINGS = {
    "COMPRESS_REGISTER": False,  # compress_response below decides which responses go through
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_CACHE_BACKEND": StaticFileCache,
    "COMPRESS_CACHE_KEY": static_cache_key,
    "COMPRESS_STREAMS": False,  # our static files are read whole first (prepare_file below)
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/plain",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/problem+json",
        "application/manifest+json",
        "image/svg+xml",
    ],
}


def register_assets(app: Flask) -> None:
    for key, value in COMPRESS_SETTINGS.items():
        app.config.setdefault(key, value)
    compress.init_app(app)
    app.session_interface = SessionInterface()
    app.url_defaults(add_static_hash)
    # after_request hooks run last-registered first: compression after the cache headers are set.
    app.after_request(compress_response)
    app.after_request(static_cache_headers)
