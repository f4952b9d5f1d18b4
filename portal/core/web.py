"""Cross-cutting request handling: error pages and JSON errors, security headers, locale."""

from __future__ import annotations

import logging

from babel import Locale
from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .api import error_response
from .errors import DomainError
from .i18n import gettext

log = logging.getLogger("portal")

# Assets come only from the portal itself; no inline script (every page script is a file).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}


def _messages() -> dict[int, str]:
    return {
        400: gettext("The request could not be understood."),
        401: gettext("Please log in first."),
        403: gettext("You do not have permission to do this."),
        404: gettext("The page or item was not found."),
        405: gettext("This action is not allowed here."),
        409: gettext("This conflicts with something that already exists."),
        413: gettext("The upload is too large."),
        415: gettext("This type of content is not accepted."),
        422: gettext("Some of the information is not valid."),
        429: gettext("Too many attempts. Please wait a little and try again."),
        500: gettext("Something went wrong on our side. Please try again later."),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _render_error(status: int, message: str | None = None):
    message = message or _messages().get(status, _messages()[400])
    if wants_json():
        return error_response(status, HTTP_CODES.get(status, "error"), message)
    return render_template("errors/error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            extra = dict(exc.details)
            if exc.field:
                extra["field"] = exc.field
            return error_response(exc.status, exc.code, str(exc.message), **extra)
        return _render_error(exc.status, str(exc.message))

    @app.errorhandler(StaleDataError)
    def stale_data(exc: StaleDataError):
        # Two edits of a versioned record at the same moment (core/locking.py): the later one's
        # UPDATE found another version; nothing of it was saved.
        from ..extensions import db
        from .locking import STALE_MESSAGE

        db.session.rollback()
        log.info("stale edit refused path=%s", request.path)
        if wants_json():
            return error_response(409, "stale", str(STALE_MESSAGE))
        return _render_error(409, str(STALE_MESSAGE))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        log.info("csrf refused path=%s reason=%s", request.path, exc.description)
        message = gettext("The form has expired or was not sent from this site. Please reload the page and try again.")
        if wants_json():
            return error_response(400, "csrf", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if status == 401 and not wants_json():
            flash(gettext("Please log in first."), "info")
            next_path = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("accounts.login", next=next_path))
        if status == 429:
            log.warning("rate limited path=%s", request.path)
        return _render_error(status)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        log.exception("unhandled error path=%s", request.path)
        from ..extensions import db

        # A failed statement leaves PostgreSQL's transaction aborted: the error page's own
        # queries (unread count) would fail too and turn the 500 page into a crash.
        db.session.rollback()
        return _render_error(500)


class PortalResponse(Response):
    """Every cookie is Secure when the portal is reached over https. Done in set_cookie because
    the session and remember-me cookies are written after every after_request hook has run."""

    def set_cookie(self, key, *args, **kwargs):
        if has_request_context() and request.is_secure:
            kwargs["secure"] = True
        super().set_cookie(key, *args, **kwargs)


def _logged_in() -> bool:
    """Whether the request is a logged-in person's. The person already loaded is asked whether
    they are anonymous, not whether they are active: after a commit their row is expired, and
    reading it again began a transaction (on SQLite a write lock) and a query on every POST."""
    user = g._get_current_object().get("_login_user")
    if user is not None:
        return not user.is_anonymous
    return current_user.is_authenticated


def register_security_headers(app: Flask) -> None:
    app.response_class = PortalResponse

    @app.after_request
    def security_headers(response):
        req = request._get_current_object()  # every response: the proxy once, not per use
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "geolocation=(), payment=(), usb=()"
        if req.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        # Pages with people's data must not linger in shared browser caches. (Static files are
        # the same for everyone: no need to look the person up for them.)
        if not req.path.startswith("/static/") and _logged_in():
            headers["Cache-Control"] = "no-store"
        return response


# One babel Locale per language, parsed once: Flask-Babel parses what the selector returns on every
# request, and parsing a language whose calendar data was never loaded looks for its file on disk.
_LOCALES: dict[str, Locale] = {}


def _locale(code: str) -> Locale:
    locale = _LOCALES.get(code)
    if locale is None:
        locale = _LOCALES[code] = Locale.parse(code)
    return locale


def select_locale() -> Locale:
    """The person's language, else the one chosen in this browser, else the default."""
    config = current_app.config
    languages = config["LANGUAGES"]
    if not has_request_context():  # services called from the CLI or a background job
        return _locale(config["BABEL_DEFAULT_LOCALE"])
    user = current_user._get_current_object()  # the proxy costs a lookup on every use
    if user and user.is_authenticated and user.locale in languages:
        return _locale(user.locale)
    chosen = session.get("locale")
    if chosen in languages:
        return _locale(chosen)
    return _locale(config["BABEL_DEFAULT_LOCALE"])


def path_for(endpoint: str, **values) -> str:
    """A site-relative URL for links stored with notifications: works inside a request and in
    services called from the command line or tests, where no request is under way."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)
