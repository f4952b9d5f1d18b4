"""Home panel: the observation quota progress bar of anyone a rule covers (every principal)."""

from __future__ import annotations

from flask import url_for

from ..core.authz import PRINCIPAL
from ..core.home import home_panel
from ..core.i18n import gettext as _
from .quota import progress_for, rule_for
from .quota_models import QUOTA_ROLES


@home_panel(15)
def observation_progress_panel(user):
    """Principals (and others a rule covers): periods observed against the quota and the pace."""
    if user.role not in QUOTA_ROLES or (user.role != PRINCIPAL and rule_for(user) is None):
        return None  # principals always have a rule (the built-in 35); others only when set
    progress = progress_for(user)
    if progress.status == "none":
        return None
    return {"title": _("Lesson observations"), "items": [], "include": "observations/_home_progress.html",
            "progress": progress,
            "links": [{"url": url_for("observations.new"), "text": _("Record an observation")},
                      {"url": url_for("observations.index"), "text": _("My observations")}]}
