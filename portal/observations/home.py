"""Home panel: the observation quota progress bar of anyone a rule covers (every principal)."""

from __future__ import annotations

from flask import url_for

from ..accounts.home import place_of
from ..core.home import home_panel
from ..core.i18n import gettext as _
from .quota import progress_under, rule_of
from .quota_models import QUOTA_ROLES


@home_panel(15)
def observation_progress_panel(user):
    """Principals (and others a rule covers): periods observed against the quota and the pace."""
    if user.role not in QUOTA_ROLES:
        return None
    county_id = place_of(user).county_id
    rule = rule_of(user.role, county_id)  # principals always have one (the built-in 35); others only when set
    if rule is None:
        return None
    progress = progress_under(rule, user.id, county_id)
    return {"title": _("Lesson observations"), "items": [], "include": "observations/_home_progress.html",
            "progress": progress,
            "links": [{"url": url_for("observations.new"), "text": _("Record an observation")},
                      {"url": url_for("observations.index"), "text": _("My observations")}]}
