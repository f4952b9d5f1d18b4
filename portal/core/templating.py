"""What every template can use: labels, local time formatting, navigation, unread count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user
from markupsafe import Markup

from . import labels
from .assets import static_url
from .authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER
from .converters import MAX_ID
from .i18n import gettext, safe_translation
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
        # The application, request and person are taken from Flask's proxies once here: each use
        # of a proxy costs several times a plain attribute, and a page's frame used them ~40 times.
        portal = current_app._get_current_object()
        locale = str(get_locale())
        values = {
            "labels": labels,
            "label": labels.label,
            "current_locale": locale,
            "languages": portal.config["LANGUAGES"],
            "has_endpoint": lambda endpoint: endpoint in portal.view_functions,
            "request_path": "/",
        }
        if not has_request_context():
            return values
        req = request._get_current_object()
        user = current_user._get_current_object()
        signed_in = user.is_authenticated

        def nav_for_user():
            return nav_links(user.role, locale) if signed_in else []

        def menu():
            return _nav_menu(portal, req, user.role, locale) if signed_in else Markup("")

        def unread():
            if not signed_in:
                return 0
            loaded = getattr(user, "unread_when_loaded", None)  # counted as the person was loaded
            if loaded is not None:
                return loaded
            from ..accounts.notifications import unread_count

            return unread_count(user)

        values.update(
            nav_for_user=nav_for_user,
            nav_menu=menu,
            unread_notifications=unread,
            frame=_page_frame(portal, locale, req.script_root),
            static_url=lambda filename: static_url(filename, portal, req.script_root),
            request_path=req.full_path.rstrip("?"),
        )
        return values

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


def nav_links(role: str, locale: str | None = None) -> list[tuple[str, str, Markup]]:
    """The menu of a role: (endpoint, url, label) of each entry whose capability is installed.
    Built once per role, language and script root (the URLs of endpoints without arguments never
    change, nor do the catalogue's words) rather than resolving a dozen URLs and labels on every
    page. Labels are marked safe, as a lazy label is shown by the template."""
    cache = current_app.extensions.setdefault("portal_nav", {})
    key = (role, locale or str(get_locale()), request.script_root)
    links = cache.get(key)
    if links is None:
        links = cache[key] = [
            (endpoint, url_for(endpoint), Markup(str(text)))  # noqa: S704  (our catalogue)
            for endpoint, text, roles in NAV
            if role in roles and endpoint in current_app.view_functions
        ]
    return links


def nav_menu(role: str, locale: str) -> Markup:
    """The menu's list of links (templates/_macros/nav.html) with the page's own entry marked:
    rendered once per role, language, script root and marked entry, as its links are. Pages
    outside the menu share one rendering. Rendered afresh while templates are reloaded (debug)."""
    return _nav_menu(current_app._get_current_object(), request._get_current_object(), role, locale)


def _nav_menu(app: Flask, req, role: str, locale: str) -> Markup:
    links = nav_links(role, locale)
    here = req.endpoint
    if not any(endpoint == here for endpoint, _url, _text in links):
        here = None
    jinja = app.jinja_env
    if jinja.auto_reload:
        return jinja.get_template("_macros/nav.html").module.nav_list(links, here)
    cache = app.extensions.setdefault("portal_nav_menus", {})
    key = (role, locale, req.script_root, here)
    menu = cache.get(key)
    if menu is None:
        menu = cache[key] = jinja.get_template("_macros/nav.html").module.nav_list(links, here)
    return menu


def page_frame(locale: str) -> SimpleNamespace:
    """The words and links of the frame around every page (base.html): its title, menu, footer
    and the links of the person's own pages. They are the same on every page of one language and
    script root, so they are looked up once for each rather than ~25 translations and URLs per
    page. Texts are as the template's ``_()`` gives them (marked safe, %-formatted)."""
    return _page_frame(current_app._get_current_object(), locale, request.script_root)


def _page_frame(app: Flask, locale: str, script_root: str) -> SimpleNamespace:
    cache = app.extensions.setdefault("portal_frame", {})
    key = (locale, script_root)
    frame = cache.get(key)
    if frame is None:
        frame = cache[key] = _build_frame(locale)
    return frame


def _frame_text(text: str, **variables) -> Markup:
    return safe_translation(text) % variables


def _build_frame(locale: str) -> SimpleNamespace:
    return SimpleNamespace(
        lang="zh-Hans" if locale.startswith("zh") else locale,
        site=_frame_text(gettext("Urban-Rural Teaching Community")),
        skip=_frame_text(gettext("Skip to content")),
        notifications=_frame_text(gettext("Notifications")),
        change_password=_frame_text(gettext("Change password")),
        api_tokens=_frame_text(gettext("API tokens")),
        log_out=_frame_text(gettext("Log out")),
        unsent=_frame_text(
            gettext(
                "%(count)s observation record(s) on this device have not reached the server yet. Logging out "
                "deletes them from this device. Log out anyway?"
            ),
            count="{count}",
        ),
        main=_frame_text(gettext("Main")),
        menu=_frame_text(gettext("Menu")),
        times=_frame_text(gettext("Times shown in %(tz)s"), tz=current_app.config["PORTAL_TIMEZONE"]),
        languages=[
            (code, name, "zh-Hans" if code.startswith("zh") else code)
            for code, name in current_app.config["LANGUAGES"].items()
        ],
        home_url=url_for("accounts.home"),
        notifications_url=url_for("accounts.notifications"),
        change_password_url=url_for("accounts.change_password"),
        tokens_url=url_for("accounts.tokens"),
        logout_url=url_for("accounts.logout"),
        language_url=url_for("accounts.set_language"),
    )


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
