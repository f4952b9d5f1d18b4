"""Home panel: the way to the supervision figures (no query: links only)."""

from __future__ import annotations

from flask import url_for

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER
from ..core.home import home_panel, panel_words
from ..core.i18n import gettext as _
from ..core.templating import url_for_ids


@home_panel(90)
def supervision_panel(user):
    """Principals: their school's figures and what is missing; the bureau and researchers: the dashboard."""
    if user.role == PRINCIPAL and user.school_id is not None:
        words = panel_words(_school_words)
        return {"title": words["title"], "items": [{
            "text": words["text"], "url": words["url"](user.school_id), "hint": words["hint"]}]}
    if user.role in (BUREAU, RESEARCHER):
        return panel_words(_dashboard_panel)
    return None


def _school_words() -> dict:
    return {"title": _("School figures"), "text": _("Figures of my school and what is missing"),
            "url": url_for_ids("supervision.school_dashboard", "school_id"),
            "hint": _("Communities, observation quota, dual-teacher sessions, training hours")}


def _dashboard_panel() -> dict:
    """The same for everyone of a language (read, never changed)."""
    return {"title": _("Supervision"), "items": [{
        "text": _("Supervision dashboard"), "url": url_for("supervision.dashboard"),
        "hint": _("Coverage, quota, sessions delivered, resources, training hours, exchange"),
    }]}
