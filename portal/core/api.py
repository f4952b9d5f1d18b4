"""The /api/v1 blueprint: bearer-token authentication, the error format and list shape.

Feature packages add their routes to ``api`` in their own ``api.py``.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, jsonify, request
from flask_login import current_user

from ..extensions import csrf, db

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def error_response(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": str(message), **extra}}
    return jsonify(body), status


@api.before_request
def authenticate_request():
    """Bearer tokens authenticate API calls; the portal's own pages may use their session
    cookie instead, and then must send the CSRF token with every change."""
    from ..accounts.services import commit_token_touch, token_record

    header = request.headers.get("Authorization")
    if header:
        scheme, _, token = header.partition(" ")
        record = token_record(token.strip()) if scheme.lower() == "bearer" else None
        if record is None:
            from .i18n import gettext

            return error_response(401, "invalid_token", gettext("The token is missing, expired or revoked."))
        if record in db.session.dirty:
            commit_token_touch()  # its last-used time: read-only calls never commit otherwise
        g._login_user = record.user  # Flask-Login reads the request's user from here
        g.api_token = record
    elif request.method not in SAFE_METHODS and request.endpoint != "api.issue_token" and current_user.is_authenticated:
        # Only a logged-in cookie carries authority worth forging; anonymous calls get their 401.
        csrf.protect()


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from .i18n import gettext

            return error_response(401, "unauthorized", gettext("Please log in or send a valid token."))
        return view(*args, **kwargs)

    return wrapped


def listing(page, serialise) -> dict:
    return {
        "items": [serialise(item) for item in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


from . import openapi as _openapi  # noqa: E402,F401  (GET /api/v1/openapi.json, on this blueprint)
