"""Who may see observation quota progress and who may keep the quota rules.

Progress of a person: themselves, the principal of their school, and researchers and bureau
staff of their county (city staff: everyone). The rules: bureau staff only; a county bureau
changes its own county's rules and reads the city's.
"""

from __future__ import annotations

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, has_role


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_view_progress(user, person) -> bool:
    """Oneself; the principal of the person's school; researchers and bureau of their county."""
    if not _active(user) or person is None:
        return False
    if user.id == person.id:
        return True
    if user.role == PRINCIPAL:
        return user.school_id is not None and person.school_id == user.school_id
    if user.role in (BUREAU, RESEARCHER):
        return user.county_id is None or person.scope_county_id == user.county_id
    return False


def can_view_quota_lists(user) -> bool:
    """The who-is-behind lists: bureau and researchers (their county), principals (their school)."""
    if has_role(user, PRINCIPAL):
        return user.school_id is not None
    return has_role(user, BUREAU, RESEARCHER)


def can_manage_quota_rules(user) -> bool:
    """The rules page: bureau staff."""
    return has_role(user, BUREAU)


def can_change_quota_rule(user, rule) -> bool:
    """City bureau: every rule; a county bureau: its own county's rules only."""
    if not can_manage_quota_rules(user):
        return False
    return user.county_id is None or (rule is not None and rule.county_id == user.county_id)


def can_export_register(user) -> bool:
    """Everyone: the register (台账) lists only final records the person may read anyway
    (observations.permissions.visible_observations)."""
    return _active(user)
