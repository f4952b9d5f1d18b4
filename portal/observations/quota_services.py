"""Keeping the quota rules: create, change, deactivate. Flushes and logs; never commits.

At most one active rule per (county, role): the county's overrides the city's
(``county_id`` NULL), so two active rules for the same place would leave it undecided.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.labels import ROLE_LABELS, label
from ..core.locking import check_version
from ..core.sanitize import clean_text
from ..extensions import db
from ..org.models import County
from .models import KINDS, MAX_PERIODS, MIN_PERIODS
from .quota_models import MAX_REQUIRED, QUOTA_PERIODS, QUOTA_ROLES, QuotaRule
from .quota_permissions import can_change_quota_rule, can_manage_quota_rules

log = logging.getLogger("portal.audit")


def _duplicate(rule: QuotaRule | None, county_id: int | None, role: str) -> bool:
    stmt = select(QuotaRule.id).where(QuotaRule.role == role, QuotaRule.active.is_(True))
    stmt = stmt.where(QuotaRule.county_id.is_(None) if county_id is None else QuotaRule.county_id == county_id)
    if rule is not None and rule.id is not None:
        stmt = stmt.where(QuotaRule.id != rule.id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _refuse_duplicate(county: County | None, role: str) -> None:
    where = county.name if county is not None else _l("the whole city")
    raise Conflict(_l("%(place)s already has an active rule for %(role)s: change that one, or deactivate it first.",
                      place=where, role=label(ROLE_LABELS, role)), field="role")


def save_quota_rule(actor, rule: QuotaRule | None, *, name: str, county: County | None, role: str, period: str,
                    required: int | None, kinds: list[str] | None, max_periods_per_record: int | None,
                    version: int | None = None) -> QuotaRule:
    """Create a rule (``rule`` None) or change one. A county bureau keeps its own county's rules.
    A change made on another ``version`` than the stored one (two bureau staff at once) is refused."""
    if not can_manage_quota_rules(actor):
        raise NotAllowed(_l("Only the bureau keeps the observation quota rules."))
    if rule is not None and not can_change_quota_rule(actor, rule):
        raise NotAllowed(_l("This rule belongs to another jurisdiction."))
    if rule is not None:
        check_version(rule, version)
    if actor.county_id is not None and (county is None or county.id != actor.county_id):
        raise NotAllowed(_l("A county bureau sets rules for its own county only."), field="county")
    if role not in QUOTA_ROLES:
        raise Invalid(_l("Choose whom the rule is for."), field="role")
    if period not in QUOTA_PERIODS:
        raise Invalid(_l("Choose a school year or a semester."), field="period")
    if required is None or isinstance(required, bool) or not 1 <= required <= MAX_REQUIRED:
        raise Invalid(_l("The number of periods must be from 1 to %(max)d.", max=MAX_REQUIRED), field="required")
    kinds = sorted(set(kinds or []))
    if any(k not in KINDS for k in kinds):
        raise Invalid(_l("Choose kinds of observation from the list."), field="kinds")
    if len(kinds) == len(KINDS):
        kinds = []  # every kind: stored as "all", so kinds added later count too
    if max_periods_per_record is not None and not MIN_PERIODS <= max_periods_per_record <= MAX_PERIODS:
        raise Invalid(_l("The cap per record must be from %(low)d to %(high)d periods.", low=MIN_PERIODS,
                         high=MAX_PERIODS), field="max_periods_per_record")
    name = clean_text(name or "", max_length=80)
    county_id = county.id if county is not None else None
    if (rule is None or rule.active) and _duplicate(rule, county_id, role):
        _refuse_duplicate(county, role)
    if rule is None:
        rule = QuotaRule(created_by_id=actor.id, active=True)
        db.session.add(rule)
    rule.name, rule.county_id, rule.county, rule.role, rule.period = name, county_id, county, role, period
    rule.required, rule.kinds, rule.max_periods_per_record = required, kinds, max_periods_per_record
    db.session.flush()
    log.info("quota rule saved id=%s county=%s role=%s required=%s/%s by=%s", rule.id, county_id, role, required,
             period, actor.id)
    return rule


def set_quota_rule_active(actor, rule: QuotaRule, active: bool) -> QuotaRule:
    """Deactivate (the person falls back to the city's rule, or for principals the built-in 35 a
    year), or bring a rule back when its place has no other active rule for the role."""
    if not can_change_quota_rule(actor, rule):
        raise NotAllowed(_l("This rule belongs to another jurisdiction."))
    if active and not rule.active and _duplicate(rule, rule.county_id, rule.role):
        _refuse_duplicate(rule.county, rule.role)
    rule.active = bool(active)
    db.session.flush()
    log.info("quota rule %s id=%s by=%s", "activated" if active else "deactivated", rule.id, actor.id)
    return rule
