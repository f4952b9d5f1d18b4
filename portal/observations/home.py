"""Home panel: the observation quota progress bar of anyone a rule covers (every principal)."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _

from ..core.home import home_panel
from .quota import progress_for
from .quota_models import QUOTA_ROLES

# The observations list of OBS-RECORDS' pages, by the first endpoint that exists.
LIST_ENDPOINTS = ("observations.index", "observations.mine", "observations.list")
NEW_ENDPOINTS = ("observations.new", "observations.new_observation", "observations.create")


def _first(endpoints) -> str | None:
    return next((e for e in endpoints if e in current_app.view_functions), None)


@home_panel(15)
def observation_progress_panel(user):
    """Principals (and others a rule covers): periods observed against the quota and the pace."""
    if user.role not in QUOTA_ROLES:
        return None
    progress = progress_for(user)
    if progress.status == "none":
        return None
    panel = {"title": _("Lesson observations"), "items": [], "include": "observations/_home_progress.html",
             "progress": progress}
    links = []
    new, listing = _first(NEW_ENDPOINTS), _first(LIST_ENDPOINTS)
    if new:
        links.append({"url": url_for(new), "text": _("Record an observation")})
    if listing:
        links.append({"url": url_for(listing), "text": _("My observations")})
    panel["links"] = links
    return panel
