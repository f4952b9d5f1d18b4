"""Home panel: the way to the supervision figures (no query: links only)."""

from __future__ import annotations

from flask import url_for

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER
from ..core.home import home_panel
from ..core.i18n import gettext as _


@home_panel(90)
def supervision_panel(user):
    """Principals: their school's figures and what is missing; the bureau and researchers: the dashboard."""
    if user.role == PRINCIPAL and user.school_id is not None:
        return {"title": _("School figures"), "items": [{
            "text": _("Figures of my school and what is missing"),
            "url": url_for("supervision.school_dashboard", school_id=user.school_id),
            "hint": _("Communities, observation quota, dual-teacher sessions, training hours"),
        }]}
    if user.role in (BUREAU, RESEARCHER):
        return {"title": _("Supervision"), "items": [{
            "text": _("Supervision dashboard"), "url": url_for("supervision.dashboard"),
            "hint": _("Coverage, quota, sessions delivered, resources, training hours, exchange"),
        }]}
    return None
