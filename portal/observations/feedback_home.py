"""Home panel: observations of one's lessons waiting to be read and acknowledged."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.authz import PRINCIPAL, TEACHER
from ..core.home import home_panel
from ..core.i18n import gettext as _
from ..extensions import db
from .models import Observation


@home_panel(32)
def observations_to_acknowledge(user):
    if user.role not in (TEACHER, PRINCIPAL):
        return None
    rows = db.session.execute(
        select(Observation).where(Observation.observed_teacher_id == user.id, Observation.status == "final",
                                  Observation.acknowledged_at.is_(None))
        .options(joinedload(Observation.observer))
        .order_by(Observation.observed_on.desc()).limit(5)
    ).scalars().all()
    if not rows:
        return None
    return {"title": _("Observations of my lessons to read"),
            "items": [{"text": o.topic or _("(no topic)"),
                       "url": url_for("observations.record", observation_id=o.id),
                       "hint": _("%(date)s · observed by %(name)s", date=o.observed_on.isoformat(),
                                 name=o.observer.name)} for o in rows]}
