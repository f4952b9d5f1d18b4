"""In-app notifications: the one service every capability calls to tell people something.

A notification stores a message key and parameters; the text is looked up here at display
time, so each reader sees it in their own language. Capabilities register their keys with
``register_message`` at import time.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import bindparam, func, select, update

from ..core.i18n import gettext
from ..core.i18n import lazy_gettext as _l
from ..core.labels import ROLE_LABELS, label
from ..core.models import after_commit, utcnow
from ..core.sanitize import clean_text
from ..extensions import db
from ..live.protocol import push_notification
from .models import Notification, User

MESSAGES: dict[str, object] = {
    "account.password_changed": _l("Your password was changed. If this was not you, tell the bureau at once."),
    "account.password_reset": _l("An administrator reset your password."),
    "account.role_changed": lambda p: gettext("Your role is now: %(role)s.", role=label(ROLE_LABELS, p.get("role"))),
    "account.created": _l("Welcome, %(name)s! Your account is ready."),
    "system.message": _l("%(text)s"),
}


def register_message(kind: str, text) -> None:
    MESSAGES[kind] = text


def render(notification: Notification) -> str:
    """The notification's text in the current language. A message is a lazy string with
    %-placeholders, or a function of the parameters for texts that need lookups."""
    template = MESSAGES.get(notification.kind)
    params = notification.params or {}
    if template is None:
        return notification.kind
    if callable(template) and not hasattr(template, "format"):
        return template(params)
    try:
        return str(template) % params if params else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


# Built once, bound per call (each scheduled class, sign-up or answer notifies someone).
_LOCALES = select(User.id, User.locale).where(User.id.in_(bindparam("ids", expanding=True)))


def notify(users: Iterable[User | int], kind: str, *, params: dict | None = None, link: str = "") -> list[Notification]:
    """Record a notification for each person and push it to their open pages after commit."""
    if kind not in MESSAGES:
        raise KeyError(f"unregistered notification kind {kind!r}")
    params = {k: clean_text(str(v), max_length=500) for k, v in (params or {}).items()}
    ids = {u if isinstance(u, int) else u.id for u in users}
    locales = dict(db.session.execute(_LOCALES, {"ids": list(ids)}).all())
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    created = []
    for user_id in sorted(locales):
        note = Notification(user_id=user_id, kind=kind, params=params, link=link[:300])
        db.session.add(note)
        created.append(note)
    db.session.flush()
    for note in created:
        with force_locale(locales[note.user_id] or default):
            payload = {"id": note.id, "text": render(note), "link": note.link}
        after_commit(push_notification, note.user_id, payload)
    return created


# Asked on every page (the bell's count): built once, so a request only binds the id (a statement
# built per request costs about three times as much to run: construction and its cache key).
UNREAD_COUNT = select(func.count()).where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))


def unread_count(user: User) -> int:
    return db.session.execute(UNREAD_COUNT, {"user_id": user.id}).scalar_one()


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    return db.session.execute(stmt.values(read_at=utcnow())).rowcount
