"""Home panel: observations of one's lessons waiting to be read and acknowledged."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import bindparam, exists, select

from ..accounts.models import User
from ..core.authz import PRINCIPAL, TEACHER
from ..core.home import facts, home_fact, home_panel, panel_words
from ..core.i18n import gettext as _
from ..core.templating import url_for_ids
from ..extensions import db
from .models import Observation

# Built once, bound per request (the home page is everyone's first page); only what the panel shows,
# as plain rows of the session's connection (see communities/home.py).
TO_ACKNOWLEDGE = (
    select(Observation.id, Observation.topic, Observation.observed_on, User.name.label("observer"))
    .join(User, User.id == Observation.observer_id)
    .where(Observation.observed_teacher_id == bindparam("user_id"), Observation.status == "final",
           Observation.acknowledged_at.is_(None))
    .order_by(Observation.observed_on.desc()).limit(5)
)

# Whether any is waiting comes with the home page's other facts (core/home.facts): the list is read
# only then (most people have none).
home_fact("to_acknowledge", exists().where(
    Observation.observed_teacher_id == bindparam("user_id"), Observation.status == "final",
    Observation.acknowledged_at.is_(None), User.id == Observation.observer_id))


@home_panel(32)
def observations_to_acknowledge(user):
    if user.role not in (TEACHER, PRINCIPAL):
        return None
    if not facts(user).to_acknowledge:
        return None
    rows = db.session.connection().execute(TO_ACKNOWLEDGE, {"user_id": user.id}).all()
    if not rows:
        return None
    words = panel_words(_words)
    no_topic, hint, record_url = words.no_topic, words.hint, words.record_url
    return {"title": words.title,
            "items": [{"text": o.topic or no_topic, "url": record_url(o.id),
                       "hint": hint % {"date": o.observed_on.isoformat(), "name": o.observer}} for o in rows]}


class Words(NamedTuple):
    title: str
    no_topic: str
    hint: str  # filled per row
    record_url: Callable[[int], str]


def _words() -> Words:
    return Words(_("Observations of my lessons to read"), _("(no topic)"), _("%(date)s · observed by %(name)s"),
                 url_for_ids("observations.record", "observation_id"))
