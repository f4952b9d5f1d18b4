"""Who may read, write, amend and answer lesson observations.

Reading: the observer (drafts: only them); once final, the observed teacher, the principal of
the observed school, and researchers and bureau staff of that school's county (city staff: all).
Nobody else.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, ROLES, TEACHER, has_role
from ..org.models import School
from ..scheduling.permissions import can_view_session
from .models import Observation

OBSERVER_ROLES = ROLES  # principals mostly; teachers observe peers; researchers and the bureau visit


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_record_observations(user) -> bool:
    return has_role(user, *OBSERVER_ROLES)


def can_view_observation(user, observation: Observation) -> bool:
    if not _active(user):
        return False
    if observation.observer_id == user.id:
        return True
    if observation.status != "final":
        return False
    if observation.observed_teacher_id == user.id:
        return True
    if user.role == PRINCIPAL:
        return user.school_id is not None and observation.school_id == user.school_id
    if user.role in (BUREAU, RESEARCHER):
        return user.county_id is None or observation.school.county_id == user.county_id
    return False


def visible_observations(user):
    """A WHERE clause on Observation matching can_view_observation."""
    if not _active(user):
        return false()
    final = Observation.status == "final"
    mine = Observation.observer_id == user.id
    if user.role in (BUREAU, RESEARCHER):
        if user.county_id is None:
            return or_(mine, final)
        county_schools = select(School.id).where(School.county_id == user.county_id)
        return or_(mine, and_(final, Observation.school_id.in_(county_schools)))
    others = [Observation.observed_teacher_id == user.id]
    if user.role == PRINCIPAL and user.school_id is not None:
        others.append(Observation.school_id == user.school_id)
    return or_(mine, and_(final, or_(*others)))


def can_see_private_notes(user, observation: Observation) -> bool:
    return _active(user) and observation.observer_id == user.id


def can_edit_observation(user, observation: Observation) -> bool:
    """Only the observer, and only while it is a draft (a final record is amended instead)."""
    return _active(user) and observation.observer_id == user.id and observation.status == "draft"


def can_amend_observation(user, observation: Observation) -> bool:
    return _active(user) and observation.observer_id == user.id and observation.status == "final"


def can_respond_to_observation(user, observation: Observation) -> bool:
    """The observed teacher acknowledges and replies, once the record is final."""
    return _active(user) and observation.observed_teacher_id == user.id and observation.status == "final"


def can_observe_teacher(user, teacher) -> bool:
    """Whom one may record: an active teacher or principal of a school, not oneself, within the
    observer's county (city staff and people without a county: anywhere)."""
    if not can_record_observations(user) or teacher is None or not teacher.active:
        return False
    if teacher.id == user.id or teacher.role not in (TEACHER, PRINCIPAL) or teacher.school_id is None:
        return False
    county = user.scope_county_id
    return county is None or teacher.school.county_id == county


def can_observe_session(user, session) -> bool:
    """Allowed observers of a live dual-teacher session: as scheduling's can_view_session."""
    return can_record_observations(user) and can_view_session(user, session)
