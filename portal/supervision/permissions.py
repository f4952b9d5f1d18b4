"""Who sees the supervision dashboard and a school's page of it."""

from __future__ import annotations

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, has_role


def can_view_dashboard(user) -> bool:
    """The whole dashboard: the bureau and teaching researchers (county staff: their county)."""
    return has_role(user, BUREAU, RESEARCHER)


def can_view_school_dashboard(user, school) -> bool:
    """A school's figures: its principals, and the bureau and researchers of its county (city staff: all)."""
    if has_role(user, PRINCIPAL):
        return user.school_id is not None and user.school_id == school.id
    if has_role(user, BUREAU, RESEARCHER):
        return user.county_id is None or user.county_id == school.county_id
    return False
