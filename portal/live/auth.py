"""Who is on the other end of a socket. Checked at connect and again on every event,
because Flask's before_request does not run for socket events and an HTTP logout does
not reach an open socket by itself."""

from __future__ import annotations

from flask import session
from flask_login import current_user

from ..accounts.services import token_record

TOKEN_KEY = "_socket_token"  # noqa: S105 (a session key name, not a secret)


def authenticate_connect(auth) -> object | None:
    """The user for a new connection: a valid session cookie, or ``auth={"token": ...}``."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        record = token_record(auth["token"])
        if record is None:
            return None
        # The socket's session copy is private to this connection; keep the token to re-check it.
        session[TOKEN_KEY] = auth["token"]
        return record.user
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def socket_user():
    """The user for this event, or None when their login ended since they connected."""
    token = session.get(TOKEN_KEY)
    if token:
        record = token_record(token)
        return record.user if record is not None else None
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return None
