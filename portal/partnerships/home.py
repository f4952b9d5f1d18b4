"""Home panels: a researcher's contact schools behind on visits; a principal's partnerships."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import url_for
from sqlalchemy import Date, bindparam, select

from ..core import cache
from ..core.authz import PRINCIPAL, RESEARCHER
from ..core.home import home_panel, panel_words
from ..core.i18n import gettext as _
from ..core.templating import url_for_ids
from ..core.timeutil import local_today
from ..org.services import current_term_row
from .models import Partnership
from .permissions import school_partnership_ids
from .services import active_filter
from .visits import progress


@home_panel(25)
def visits_panel(user):
    """Researchers: how this term's visits stand at each contact school."""
    if user.role != RESEARCHER:
        return None
    mine = progress([user.id], current_term_row())[user.id]
    words = panel_words(_visits_words)
    visits_url, hint = words.visits_url, words.hint
    items = [
        {"text": school.name, "url": visits_url, "hint": hint % {"n": school.visits, "target": school.target}}
        for school in sorted(mine.schools, key=lambda s: (not s.behind, s.name))[:8]
    ]
    if mine.too_few_schools:
        items.insert(0, {"text": _("You support %(n)d rural schools; at least %(min)d are asked for.",
                                   n=mine.school_count, min=mine.min_schools), "url": visits_url})
    return {"title": words.title, "items": items[:8], "empty": words.empty}


class VisitsWords(NamedTuple):
    title: str
    empty: str
    hint: str  # filled per row
    visits_url: str


def _visits_words() -> VisitsWords:
    return VisitsWords(_("My contact schools"), _("The bureau has not linked you to any rural school yet."),
                       _("%(n)d of %(target)d visits this term"), url_for("partnerships.visits"))


# Built once, bound per request (the home page is every principal's first page): the school's
# partnerships running or to come, as ``scope_partnerships`` finds them for a principal; plain rows
# of the session's connection (see communities/home.py).
_PRINCIPALS_PARTNERSHIPS = (
    select(Partnership.id, Partnership.name)
    .where(Partnership.id.in_(school_partnership_ids(bindparam("school_id"), bindparam("user_id"))),
           active_filter(bindparam("today", type_=Date)) | (Partnership.start_date > bindparam("today", type_=Date)))
    .order_by(Partnership.start_date.desc())
    .limit(6)
)


@home_panel(35)
def partnerships_panel(user):
    """Principals: the current partnerships of their school, to log what happens."""
    if user.role != PRINCIPAL or user.school_id is None:
        return None
    today = local_today()
    # Kept per person, school and day until a partnership, its schools or its people change
    # (core/cache.kept, AUDIENCES): every visit to a principal's home page asks.
    rows = cache.kept_rows(("home-partnerships", user.id, user.school_id, today), _PRINCIPALS_PARTNERSHIPS,
                           {"user_id": user.id, "school_id": user.school_id, "today": today}, cache.AUDIENCES)
    words = panel_words(_partnership_words)
    if not rows:
        return {"title": words.title, "items": [], "empty": words.empty}
    partnership_url, log = words.partnership_url, words.log
    return {"title": words.title,
            "items": [{"text": name, "url": partnership_url(pid), "hint": log} for pid, name in rows]}


class PartnershipWords(NamedTuple):
    title: str
    empty: str
    log: str
    partnership_url: Callable[[int], str]


def _partnership_words() -> PartnershipWords:
    return PartnershipWords(
        _("Partnerships"), _("Your school is in no partnership yet. Every rural school needs an urban partner."),
        _("Log an activity"), url_for_ids("partnerships.partnership", "partnership_id"))
