"""Who may see or change partnerships, their log, exchanges and researchers' contact schools."""

from __future__ import annotations

from sqlalchemy import or_, select, union
from sqlalchemy.orm import aliased

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, has_role
from ..extensions import db
from ..org.models import School
from .models import PairingActivity, Partnership, PartnershipPerson, PartnershipSchool


def school_ids_of(partnership: Partnership) -> set[int]:
    """The lead school and every member school."""
    return {partnership.lead_school_id} | {m.school_id for m in partnership.members}


def _in_scope(user, county_id: int | None) -> bool:
    return user.county_id is None or county_id == user.county_id


def is_responsible(user, partnership: Partnership) -> bool:
    if not (user and user.is_authenticated):
        return False
    return db.session.execute(
        select(PartnershipPerson.id).where(PartnershipPerson.partnership_id == partnership.id,
                                           PartnershipPerson.user_id == user.id)
    ).first() is not None


def can_manage_partnerships(user) -> bool:
    """Bureau staff create partnerships."""
    return has_role(user, BUREAU)


def can_manage_partnership(user, partnership: Partnership) -> bool:
    """Bureau staff change the partnerships led from their county (city staff: all)."""
    return has_role(user, BUREAU) and _in_scope(user, partnership.county_id)


def can_view_partnership(user, partnership: Partnership) -> bool:
    """The bureau and researchers of its county, the people of the schools involved, and the
    people responsible see a partnership and its goals."""
    if has_role(user, BUREAU, RESEARCHER):
        return _in_scope(user, partnership.county_id) or _touches_county(user, partnership)
    if has_role(user, PRINCIPAL, TEACHER):
        return user.school_id in school_ids_of(partnership) or is_responsible(user, partnership)
    return False


def _touches_county(user, partnership: Partnership) -> bool:
    """A city partnership may reach into a county: its staff see the part that concerns them."""
    return db.session.execute(
        select(PartnershipSchool.id)
        .join(School, School.id == PartnershipSchool.school_id)
        .where(PartnershipSchool.partnership_id == partnership.id, School.county_id == user.county_id)
    ).first() is not None


def can_log_activity(user, partnership: Partnership) -> bool:
    """Principals of the schools involved, the people responsible and the bureau log activity."""
    if can_manage_partnership(user, partnership):
        return True
    if has_role(user, PRINCIPAL) and user.school_id in school_ids_of(partnership):
        return True
    return has_role(user, PRINCIPAL, TEACHER, RESEARCHER) and is_responsible(user, partnership)


def can_view_log_entry(user, entry: PairingActivity, partnership: Partnership) -> bool:
    """An entry is for the schools it names, its author, the people responsible and the bureau."""
    if can_manage_partnership(user, partnership) or (has_role(user, RESEARCHER) and
                                                      can_view_partnership(user, partnership)):
        return True
    if not has_role(user, PRINCIPAL, TEACHER):
        return False
    if entry.author_id == user.id or is_responsible(user, partnership):
        return True
    return user.school_id in {s.school_id for s in entry.schools}


def can_edit_log_entry(user, entry: PairingActivity, partnership: Partnership) -> bool:
    """Its author (while still allowed to log) and the bureau change or delete an entry."""
    if can_manage_partnership(user, partnership):
        return True
    return entry.author_id == user.id and can_log_activity(user, partnership)


def can_record_exchange(user) -> bool:
    """Teacher exchanges and 走教 placements are recorded by the bureau."""
    return has_role(user, BUREAU)


def can_view_exchanges(user) -> bool:
    """Exchange lists and ratios: the bureau, researchers and principals (their own school's)."""
    return has_role(user, BUREAU, RESEARCHER, PRINCIPAL)


def can_assign_contact_schools(user) -> bool:
    """The bureau links researchers to the rural schools they support."""
    return has_role(user, BUREAU)


def can_log_visit(user, researcher_id: int) -> bool:
    """Researchers log their own visits; the bureau may log for them."""
    if has_role(user, RESEARCHER):
        return user.id == researcher_id
    return has_role(user, BUREAU)


def can_view_visits(user, researcher) -> bool:
    """A researcher sees their own progress; the bureau of their county sees everyone's."""
    if has_role(user, RESEARCHER) and user.id == researcher.id:
        return True
    return has_role(user, BUREAU) and _in_scope(user, researcher.county_id)


def scope_partnerships(user, stmt):
    """The partnerships this person may see, as a filter: county staff their county, school
    people those of their school or that they are responsible for."""
    if user.role in (BUREAU, RESEARCHER):
        if user.county_id is None:
            return stmt
        school = aliased(School)  # never correlated to a School of the statement filtered
        in_county = (select(PartnershipSchool.partnership_id)
                     .join(school, school.id == PartnershipSchool.school_id).where(school.county_id == user.county_id))
        return stmt.where(or_(Partnership.county_id == user.county_id, Partnership.id.in_(in_county)))
    return stmt.where(Partnership.id.in_(school_partnership_ids(user.school_id, user.id)))


def school_partnership_ids(school_id, user_id):
    """The partnerships a school leads or is in, or the person is responsible for: the ids first,
    each by its own index (a handful), rather than an OR of EXISTS probes over every partnership."""
    return union(
        select(Partnership.id).where(Partnership.lead_school_id == school_id),
        select(PartnershipSchool.partnership_id).where(PartnershipSchool.school_id == school_id),
        select(PartnershipPerson.partnership_id).where(PartnershipPerson.user_id == user_id),
    )


def can_change_exchange(user, exchange) -> bool:
    """The bureau changes a placement from or to a school of its county (city staff: any)."""
    if not has_role(user, BUREAU):
        return False
    if user.county_id is None:
        return True
    return user.county_id in (exchange.from_school.county_id, exchange.to_school.county_id)


def can_change_visit(user, visit) -> bool:
    """A researcher changes their own visits; the bureau of the researcher's county changes anyone's."""
    return can_log_visit(user, visit.researcher_id) and can_view_visits(user, visit.researcher)
