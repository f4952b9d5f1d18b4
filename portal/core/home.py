"""The home page is assembled from panels that each capability registers.

A panel function takes the current user and returns a dict for ``templates/home/_panel.html``
(``title``, ``items`` of ``{"text", "url", "hint"}``, optional ``empty`` text), or None
when it has nothing for this person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g, request
from flask_babel import get_locale
from sqlalchemy import select

from ..extensions import db

PANELS: list[tuple[int, Callable]] = []
T = TypeVar("T")


def home_panel(order: int):
    def decorator(fn):
        PANELS.append((order, fn))
        PANELS.sort(key=lambda item: item[0])
        return fn

    return decorator


def panels_for(user) -> list[dict]:
    result = []
    for _order, fn in PANELS:
        panel = fn(user)
        if panel:
            result.append(panel)
    return result


def panel_words(build: Callable[[], T]) -> T:
    """What ``build`` makes of the words and links a panel shows whoever looks (its title, fixed
    texts, translated labels, URLs or the ``url_for_ids`` of its rows), made once per language
    and script root of this process, as the page frame's (``core.templating.page_frame``): the
    catalogue and the URL rules do not change while it runs. A lookup costs about 15,000
    instructions, a URL 40,000-60,000, and the panels of a home page asked for some fifty on every
    visit. What ``build`` returns is shared: read it, never change it (a cache inside it that
    only grows, e.g. labels by period numbers, is fine)."""
    key = g.get("home_words_key")
    if key is None:
        key = g.home_words_key = (str(get_locale()), request.script_root)
    cache = current_app.extensions.setdefault("portal_home_words", {})
    found = cache.get((build, key))
    if found is None:
        found = cache[build, key] = build()
    return found


# --- what the panels need to know of the person, in one statement ----------------------------------

FACTS: dict[str, object] = {}  # name -> SQL expression bound by user_id, school_id, county_id and role


def home_fact(name: str, expression) -> None:
    """A value of the person that panels need (a name, whether they have anything to show): asked
    with all the others in one statement (``facts``) rather than a statement each. Every panel
    asked at least one; most of them find nothing for most people (no unread notification, no
    join request to answer), and each statement costs ~200,000 instructions in the ORM's
    connection, SQL and rows aside."""
    global _statement
    FACTS[name] = expression
    _statement = None


_statement = None


def facts(user):
    """The ``home_fact`` values of the person, one row read once per request (read-only pages)."""
    global _statement
    found = g.get("home_facts")
    if found is not None and found[0] == user.id:
        return found[1]
    if _statement is None:
        _statement = select(*(expression.label(name) for name, expression in FACTS.items()))
    row = db.session.connection().execute(_statement, {
        "user_id": user.id, "school_id": user.school_id, "county_id": user.county_id, "role": user.role}).one()
    g.home_facts = (user.id, row)
    return row
