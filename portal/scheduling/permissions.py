"""Who may schedule, change and see dual-teacher classes."""

from __future__ import annotations

from sqlalchemy import select, union

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, has_role
from ..org.models import Classroom, School
from .models import LiveClass, ReceivingClassroom


def can_schedule_for(user, main_teacher, main_classroom) -> bool:
    """Teachers schedule their own classes from a room of their school; principals any class of
    their school; the bureau any class of its county (city staff: all)."""
    if has_role(user, TEACHER):
        return main_teacher.id == user.id and main_classroom.school_id == user.school_id
    if has_role(user, PRINCIPAL):
        return main_classroom.school_id == user.school_id
    if has_role(user, BUREAU):
        return user.county_id is None or main_classroom.school.county_id == user.county_id
    return False


def can_change_class(user, live_class: LiveClass) -> bool:
    """The main teacher, the main school's principal and the bureau change a class and its sessions."""
    if has_role(user, TEACHER):
        return live_class.main_teacher_id == user.id
    if has_role(user, PRINCIPAL):
        return live_class.main_classroom.school_id == user.school_id
    if has_role(user, BUREAU):
        return user.county_id is None or live_class.main_classroom.school.county_id == user.county_id
    return False


def _receiving_classes(condition):
    # An uncorrelated IN (…) rather than EXISTS per class: the database starts from the few
    # receiving rows (by their index) instead of testing each of the city's classes.
    return select(ReceivingClassroom.live_class_id).where(condition)


def visible_classes(user):
    """A WHERE clause on LiveClass: the people concerned (main teacher, assistants, the principals
    of the schools involved), the researchers and the bureau (county staff: classes that touch
    their county). ``can_view_class`` is the same rule for one class.

    The ids come from a UNION of index lookups: one WHERE "main side OR id IN (receiving side)"
    made PostgreSQL test every class against the OR and walk the sessions in time order (0.8 s for
    one teacher's week of sessions at city scale; docs/query-plans.md)."""
    if not (user and user.is_authenticated and user.is_active):
        return LiveClass.id.is_(None)
    if user.role in (BUREAU, RESEARCHER):
        if user.county_id is None:
            return LiveClass.id.is_not(None)
        county_rooms = select(Classroom.id).join(School, School.id == Classroom.school_id).where(
            School.county_id == user.county_id)
        return LiveClass.id.in_(union(
            select(LiveClass.id).where(LiveClass.main_classroom_id.in_(county_rooms)),
            _receiving_classes(ReceivingClassroom.classroom_id.in_(county_rooms))))
    mine = [select(LiveClass.id).where(LiveClass.main_teacher_id == user.id),
            _receiving_classes(ReceivingClassroom.assistant_id == user.id)]
    if user.role == PRINCIPAL and user.school_id is not None:
        school_rooms = select(Classroom.id).where(Classroom.school_id == user.school_id)
        mine.append(select(LiveClass.id).where(LiveClass.main_classroom_id.in_(school_rooms)))
        mine.append(_receiving_classes(ReceivingClassroom.classroom_id.in_(school_rooms)))
    return LiveClass.id.in_(union(*mine))


def _schools_of(live_class: LiveClass) -> set[int]:
    return {live_class.main_classroom.school_id} | {r.classroom.school_id for r in live_class.receiving}


def can_view_class(user, live_class: LiveClass) -> bool:
    """The main teacher, the assistants, the principals of the schools involved, and researchers
    and bureau staff of a county the class touches (city staff: every class)."""
    if not has_role(user, BUREAU, RESEARCHER, PRINCIPAL, TEACHER):
        return False
    if user.id == live_class.main_teacher_id or any(r.assistant_id == user.id for r in live_class.receiving):
        return True
    if user.role in (BUREAU, RESEARCHER):
        if user.county_id is None:
            return True
        counties = {live_class.main_classroom.school.county_id} | {r.classroom.school.county_id
                                                                   for r in live_class.receiving}
        return user.county_id in counties
    if user.role == PRINCIPAL:
        return user.school_id is not None and user.school_id in _schools_of(live_class)
    return False


def can_view_session(user, session) -> bool:
    """Whoever may see the class sees its sessions."""
    return can_view_class(user, session.live_class)


def can_attach_to_class(user, live_class: LiveClass) -> bool:
    """Resources of a class: those who change it, and its assistants (materials for their room)."""
    if has_role(user, TEACHER, PRINCIPAL) and any(r.assistant_id == user.id for r in live_class.receiving):
        return True
    return can_change_class(user, live_class)


def can_record_attendance(user, live_class: LiveClass, classroom_id: int) -> bool:
    """A receiving room's attendance: its assistant, the main teacher, and the bureau of the county."""
    if has_role(user, TEACHER, PRINCIPAL):
        if user.id == live_class.main_teacher_id:
            return True
        return any(r.classroom_id == classroom_id and r.assistant_id == user.id for r in live_class.receiving)
    if has_role(user, BUREAU):
        return user.county_id is None or live_class.main_classroom.school.county_id == user.county_id or any(
            r.classroom_id == classroom_id and r.classroom.school.county_id == user.county_id
            for r in live_class.receiving)
    return False
