"""Who may see or change accounts. One predicate per decision; False for anonymous visitors."""

from __future__ import annotations

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, has_role


def can_manage_users(user) -> bool:
    """Bureau staff create, edit and deactivate accounts."""
    return has_role(user, BUREAU)


def can_manage_user(user, target) -> bool:
    """Bureau staff manage accounts within their county (city-level staff: all of them)."""
    if not can_manage_users(user):
        return False
    return user.county_id is None or target.scope_county_id == user.county_id


def can_list_users(user) -> bool:
    """Any signed-in person may look colleagues up (to invite, pair, observe)."""
    return has_role(user, BUREAU, RESEARCHER, PRINCIPAL, "teacher")


def can_view_user_details(user, target) -> bool:
    """Contact details: the person, their principal, researchers and bureau of their county."""
    if not has_role(user, BUREAU, RESEARCHER, PRINCIPAL, "teacher"):
        return False
    if user.id == target.id:
        return True
    if user.role == PRINCIPAL:
        return target.school_id is not None and target.school_id == user.school_id
    if user.role in (BUREAU, RESEARCHER):
        return user.county_id is None or target.scope_county_id == user.county_id
    return False
