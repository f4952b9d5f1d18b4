"""Home panel: the observation quota progress bar of anyone a rule covers (every principal)."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import bindparam, exists

from ..accounts.home import place_of
from ..core.home import facts, home_fact, home_panel, panel_words
from ..core.i18n import gettext as _
from .quota import progress_under, rule_of
from .quota_models import QUOTA_ROLES, QuotaRule

# Most roles have no rule at all (principals then have the built-in one): whether the person's
# role has any active rule comes with the home page's other facts (core/home.facts), and the
# rules of their county are read only then.
home_fact("quota_rules", exists().where(QuotaRule.role == bindparam("role"), QuotaRule.active.is_(True)))


@home_panel(15)
def observation_progress_panel(user):
    """Principals (and others a rule covers): periods observed against the quota and the pace."""
    if user.role not in QUOTA_ROLES:
        return None
    county_id = place_of(user).county_id
    # principals always have one (the built-in 35); others only when set
    rule = rule_of(user.role, county_id, any_rule=facts(user).quota_rules)
    if rule is None:
        return None
    progress = progress_under(rule, user.id, county_id)
    title, links = panel_words(_words)
    return {"title": title, "items": [], "include": "observations/_home_progress.html", "progress": progress,
            "links": links}


def _words() -> tuple[str, list[dict]]:
    return _("Lesson observations"), [{"url": url_for("observations.new"), "text": _("Record an observation")},
                                      {"url": url_for("observations.index"), "text": _("My observations")}]
