"""What every template can use: labels, local time formatting, navigation, unread count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from . import labels
from .authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER
from .converters import MAX_ID
from .i18n import lazy_gettext as _l
from .timeutil import to_local

# (endpoint, label, roles). Capabilities append their entries as they land.
NAV: list[tuple[str, object, tuple[str, ...]]] = [
    ("accounts.home", _l("Home"), (BUREAU, RESEARCHER, PRINCIPAL, TEACHER)),
    ("org.schools", _l("Schools"), (BUREAU, RESEARCHER, PRINCIPAL, TEACHER)),
    ("org.terms", _l("Terms"), (BUREAU, RESEARCHER, PRINCIPAL, TEACHER)),
    ("accounts.admin_users", _l("Accounts"), (BUREAU,)),
    ("org.roster_import", _l("Import roster"), (BUREAU,)),
]


def nav_item(endpoint: str, label, roles: tuple[str, ...], *, after: str | None = None) -> None:
    entry = (endpoint, label, roles)
    if after:
        index = next((i for i, item in enumerate(NAV) if item[0] == after), len(NAV) - 1)
        NAV.insert(index + 1, entry)
    else:
        NAV.append(entry)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        def nav_for_user():
            if not current_user.is_authenticated:
                return []
            return nav_links(current_user.role)

        def unread():
            if not current_user.is_authenticated:
                return 0
            from ..accounts.notifications import unread_count

            return unread_count(current_user)

        return {
            "labels": labels,
            "label": labels.label,
            "nav_for_user": nav_for_user,
            "unread_notifications": unread,
            "current_locale": str(get_locale()),
            "languages": current_app.config["LANGUAGES"],
            "request_path": request.full_path.rstrip("?") if request else "/",
            "has_endpoint": lambda endpoint: endpoint in current_app.view_functions,
        }

    app.jinja_env.filters["datetime"] = format_local_datetime
    app.jinja_env.filters["date"] = format_local_date


def url_for_ids(endpoint: str, id_arg: str, **values) -> Callable[[int], str]:
    """``url_for(endpoint, **{id_arg: id}, **values)`` for the many ids of one page, resolved once:
    the URL of a stand-in id is cut around it and each id put in its place (url_for for every row
    of a list cost as much as the rest of the row). Ids are digits in a path segment or a query
    argument, left as they are by URL quoting; should the stand-in show up twice, url_for is asked
    for each id."""
    stand_in = str(MAX_ID)
    sample = url_for(endpoint, **{id_arg: MAX_ID}, **values)
    if sample.count(stand_in) != 1:
        return lambda object_id: url_for(endpoint, **{id_arg: object_id}, **values)
    head, tail = sample.split(stand_in)
    return lambda object_id: f"{head}{int(object_id)}{tail}"


def nav_links(role: str) -> list[tuple[str, str, object]]:
    """The menu of a role: (endpoint, url, label) of each entry whose capability is installed.
    Built once per role and script root (the URLs of endpoints without arguments never change)
    rather than resolving a dozen URLs on every page."""
    cache = current_app.extensions.setdefault("portal_nav", {})
    key = (role, request.script_root)
    links = cache.get(key)
    if links is None:
        links = cache[key] = [
            (endpoint, url_for(endpoint), text)
            for endpoint, text, roles in NAV
            if role in roles and endpoint in current_app.view_functions
        ]
    return links


# Patterns made only of numbers read the same in every language, so they are written directly
# rather than through the locale's calendar data (a list page shows dozens of dates).
NUMERIC_PATTERNS = {
    "yyyy-MM-dd": lambda v: f"{v.year:04d}-{v.month:02d}-{v.day:02d}",
    "yyyy-MM-dd HH:mm": lambda v: f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}",
    "MM-dd": lambda v: f"{v.month:02d}-{v.day:02d}",
    "MM-dd HH:mm": lambda v: f"{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}",
    "HH:mm": lambda v: f"{v.hour:02d}:{v.minute:02d}",
    "HH:mm:ss": lambda v: f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}",
}


def _in_portal_time(value: datetime) -> datetime:
    """What Flask-Babel does before formatting: naive values are UTC, shown in the portal's zone."""
    return to_local(value if value.tzinfo else value.replace(tzinfo=UTC))


def format_local_datetime(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    if not value:
        return ""
    write = NUMERIC_PATTERNS.get(fmt)
    if write is None or not isinstance(value, datetime):
        return format_datetime(value, fmt)
    return write(_in_portal_time(value))


def format_local_date(value, fmt: str = "yyyy-MM-dd") -> str:
    if not value:
        return ""
    write = NUMERIC_PATTERNS.get(fmt)
    if write is None or "H" in fmt:
        return format_date(value, fmt)
    return write(_in_portal_time(value) if isinstance(value, datetime) else value)
