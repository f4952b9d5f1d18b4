"""A school's own page of the dashboard: its figures for the period and what is missing — teachers
in no community, its principals' observation quota, sessions not delivered (as main school and
as receiving school), teachers behind on training hours. A fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from sqlalchemy import and_, exists, select

from ..accounts.models import User
from ..communities.models import Community, Membership
from ..core import cache
from ..extensions import db
from ..org.models import Classroom, School
from ..partnerships.models import SchoolVisit
from ..resources.social import school_flows
from ..scheduling.models import LiveClass, LiveSession, ReceivingClassroom, SessionAttendance
from . import dashboard as figures

MISSING_SHOWN = 30


@dataclass
class SchoolPage:
    school: School
    scope: figures.Scope
    outside: list = field(default_factory=list)  # (id, name, username) of teachers in no community
    teachers: int = 0
    principals: list = field(default_factory=list)  # rows of the quota list
    main_subjects: list = field(default_factory=list)
    main_missing: list = field(default_factory=list)  # (session id, starts_at, subject, title)
    receiving: list = field(default_factory=list)  # (subject, due, delivered, ok)
    receiving_missing: list = field(default_factory=list)  # (session id, starts_at, subject, title, room)
    hours_behind: list = field(default_factory=list)  # rows of the hours list below the pace
    hours_targets: figures.HoursTargets | None = None
    flow: object = None
    visits: int = 0

    @property
    def complete(self) -> bool | None:
        """开齐开足 for the school as a receiving school: None when nothing is due."""
        if not self.receiving:
            return None
        return all(ok for *_rest, ok in self.receiving)


def _in_a_community():
    return exists().where(Membership.user_id == User.id, Membership.status == "active",
                          Community.id == Membership.community_id, Community.is_active.is_(True))


def school_page(viewer, school: School, scope: figures.Scope) -> SchoolPage:
    """The page's figures, kept in the figures' cache like the dashboard's (the same records
    behind them; about 20 ms of aggregates for a school at city scale)."""
    key = ("school_page", school.id, scope.school_year, scope.semester, scope.today)
    return SchoolPage(school, scope, **cache.cached(key, lambda: _figures(school, scope)))


def _figures(school: School, scope: figures.Scope) -> dict:
    """SchoolPage's fields but the school and the scope (request objects): plain rows and numbers."""
    page = SchoolPage(school, scope)
    teachers = db.session.execute(
        select(User.id, User.name, User.username, _in_a_community().label("inside"))
        .where(User.school_id == school.id, User.role == "teacher", User.active.is_(True))
        .order_by(User.name, User.id)
    ).all()
    page.teachers = len(teachers)
    page.outside = [(uid, name, username) for uid, name, username, inside in teachers if not inside]

    query = figures.quota_query(scope, school_id=school.id)
    if query.covered:
        page.principals = list(db.session.execute(query.stmt))

    page.main_subjects = figures.sessions_by_subject(scope, school_id=school.id)
    cond = figures.session_conditions(scope)
    page.main_missing = db.session.execute(
        select(LiveSession.id, LiveSession.starts_at, LiveClass.subject, LiveClass.title)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .where(*figures.sessions_where(scope, school.id), cond["missing"])
        .order_by(LiveSession.starts_at.desc()).limit(MISSING_SHOWN)
    ).all()

    sub = figures.receiving_statement(scope, school.id)
    ok = figures.subject_ok(sub)
    page.receiving = [(subject, int(due), int(delivered), bool(flag)) for subject, due, delivered, flag in
                      db.session.execute(select(sub.c.subject, sub.c.due, sub.c.delivered, ok).order_by(sub.c.subject))]
    page.receiving_missing = db.session.execute(
        select(LiveSession.id, LiveSession.starts_at, LiveClass.subject, LiveClass.title, Classroom.name)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .join(ReceivingClassroom, ReceivingClassroom.live_class_id == LiveClass.id)
        .join(Classroom, Classroom.id == ReceivingClassroom.classroom_id)
        .outerjoin(SessionAttendance, and_(SessionAttendance.session_id == LiveSession.id,
                                           SessionAttendance.classroom_id == ReceivingClassroom.classroom_id))
        .where(Classroom.school_id == school.id, SessionAttendance.id.is_(None),
               LiveSession.status != "cancelled", LiveSession.starts_at < scope.now,
               LiveSession.occurrence_date >= scope.start, LiveSession.occurrence_date <= scope.end)
        .order_by(LiveSession.starts_at.desc()).limit(MISSING_SHOWN)
    ).all()

    page.hours_targets = figures.hours_targets(scope)
    hours = figures.hours_statement(scope, page.hours_targets, school_id=school.id).subquery()
    page.hours_behind = db.session.execute(
        select(hours).where(hours.c.cycle < page.hours_targets.expected_tenths).order_by(hours.c.cycle, hours.c.name)
    ).all()

    page.flow = school_flows([school.id], scope.school_year)[0]
    page.visits = db.session.execute(
        select(db.func.count(SchoolVisit.id)).where(
            SchoolVisit.school_id == school.id, SchoolVisit.visited_on >= scope.start,
            SchoolVisit.visited_on <= min(scope.end, scope.today))
    ).scalar_one()
    return {f.name: getattr(page, f.name) for f in fields(page) if f.name not in ("school", "scope")}
