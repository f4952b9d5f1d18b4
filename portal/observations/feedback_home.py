"""Home panel: observations of one's lessons waiting to be read and acknowledged."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from ..accounts.models import User
from ..core.authz import PRINCIPAL, TEACHER
from ..core.home import home_panel
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


@home_panel(32)
def observations_to_acknowledge(user):
    if user.role not in (TEACHER, PRINCIPAL):
        return None
    rows = db.session.connection().execute(TO_ACKNOWLEDGE, {"user_id": user.id}).all()
    if not rows:
        return None
    no_topic, hint = _("(no topic)"), _("%(date)s · observed by %(name)s")  # translated once, filled per row
    record_url = url_for_ids("observations.record", "observation_id")
    return {"title": _("Observations of my lessons to read"),
            "items": [{"text": o.topic or no_topic, "url": record_url(o.id),
                       "hint": hint % {"date": o.observed_on.isoformat(), "name": o.observer}} for o in rows]}
