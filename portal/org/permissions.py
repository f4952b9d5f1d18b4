"""Who may see or change schools, classrooms, terms and bell schedules."""

from __future__ import annotations

from ..core.authz import BUREAU, PRINCIPAL, has_role


def can_manage_schools(user) -> bool:
    """Bureau staff create, edit and deactivate schools and classrooms, and import rosters."""
    return has_role(user, BUREAU)


def can_manage_school(user, school) -> bool:
    """Bureau staff manage the schools of their county (city-level staff: every school)."""
    return can_manage_schools(user) and (user.county_id is None or school.county_id == user.county_id)


def can_manage_terms(user) -> bool:
    """Terms are set city-wide by the bureau."""
    return has_role(user, BUREAU)


def can_edit_bell_schedule(user, school) -> bool:
    """A school's own principal keeps its bell schedule; the bureau may too."""
    if has_role(user, PRINCIPAL):
        return user.school_id == school.id
    return can_manage_school(user, school)


def can_view_school(user, school) -> bool:
    """Every signed-in person may see a school's public facts (name, kind, classrooms)."""
    return bool(user and user.is_authenticated and user.is_active)
