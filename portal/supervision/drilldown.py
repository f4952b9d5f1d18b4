"""The lists behind the dashboard's figures (drill-down): one statement each, paginated on the page
and written whole to an Excel register. A list is named by its key and narrowed by filters in
the query string (status, subject, side), always inside the dashboard's scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import Select, and_, case, func, select

from ..accounts.models import User
from ..communities.models import Activity, Community, Participant
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import (
    COMMUNITY_KIND_SHORT,
    EXCHANGE_KIND_LABELS,
    SCHOOL_KIND_LABELS,
    SUBJECT_LABELS,
    label,
)
from ..core.timeutil import to_local
from ..core.validate import BadRequest
from ..extensions import db
from ..org.models import RURAL_KINDS, Classroom, County, School
from ..partnerships.exchanges import RATIO_KINDS, covers
from ..partnerships.models import SchoolVisit, TeacherExchange
from ..resources.social import school_flows
from ..scheduling.models import LiveClass, LiveSession
from . import dashboard as figures
from .coverage import gap_statement, paired_today, unpaired_schools_statement

QUOTA_LABELS = {"met": _l("Quota met"), "on_track": _l("On track"), "behind": _l("Behind"),
                "at_risk": _l("At risk")}
SESSION_LABELS = {"planned": _l("Planned"), "done": _l("Delivered"), "cancelled": _l("Cancelled"),
                  "missing": _l("Not recorded"), "upcoming": _l("Still to come")}


@dataclass
class Link:
    text: str
    url: str

    def __str__(self) -> str:
        return str(self.text)


@dataclass
class Column:
    title: object
    width: int = 14
    number: bool = False


@dataclass
class Listing:
    key: str
    title: str
    columns: list[Column]
    stmt: Select | Callable[[], Select]  # or a function making it: only built when the page is not kept
    rows: Callable[[list], list[list]]
    filters: dict = field(default_factory=dict)  # the list's own query arguments
    tabs: list[tuple[str, dict, bool]] = field(default_factory=list)  # (label, filters, current)

    def statement(self) -> Select:
        return self.stmt() if callable(self.stmt) else self.stmt


def _choice(args, name: str, choices, default=None):
    raw = args.get(name) or default
    if raw is None:
        return None
    if raw not in choices:
        raise BadRequest(_l("%(field)s must be one of: %(choices)s.", field=name, choices=", ".join(choices)),
                         field=name)
    return raw


def _school_link(scope, school_id, name) -> Link | str:
    if school_id is None:
        return name or ""
    return Link(name, url_for("supervision.school_dashboard", school_id=school_id, **scope.args(county=None)))


def _tabs(key: str, name: str, choices: dict, current, other: dict | None = None) -> list:
    return [(str(text), {**(other or {}), name: value}, value == current) for value, text in choices.items()]


# --- coverage gaps ---------------------------------------------------------------------------------


def _people_gap(scope, args, role: str) -> Listing:
    title = _("Rural teachers in no 名师+ community") if role == "teacher" else _(
        "Rural principals in no 名校长+ community")

    def rows(items):
        return [[county, _school_link(scope, school_id, school), name, username,
                 "、".join(str(SUBJECT_LABELS.get(s, s)) for s in subjects or ())]
                for county, school_id, school, _uid, name, username, subjects in items]

    return Listing(f"uncovered_{role}s", title,
                   [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Name"), 12),
                    Column(_l("Username"), 16), Column(_l("Subjects"), 20)],
                   gap_statement(role, scope.county_id), rows)


def _unpaired(scope, args) -> Listing:
    def rows(items):
        return [[county, _school_link(scope, sid, name), str(label(SCHOOL_KIND_LABELS, kind)), students,
                 _("Yes") if in_partnership else _("No")]
                for county, sid, name, kind, _stage, _weak, students, in_partnership in items]

    return Listing("unpaired_schools", _("Rural schools with no urban partner"),
                   [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Kind"), 12),
                    Column(_l("Students"), 10, True), Column(_l("In a partnership"), 14)],
                   unpaired_schools_statement(scope.county_id, paired_today(), scope.today), rows)


# --- observation quota -----------------------------------------------------------------------------


def _quota(scope, args) -> Listing:
    status = _choice(args, "status", QUOTA_LABELS)
    query = figures.quota_query(scope)
    if not query.covered:
        stmt = select(User.id).where(User.id.is_(None))
        return Listing("principals", _("Principals and their observation quota"), [], stmt, lambda items: [])
    sub = query.stmt.order_by(None).subquery()
    cond = figures.quota_conditions(sub)
    stmt = select(sub).order_by((sub.c.expected - sub.c.done).desc(), sub.c.county_name, sub.c.school_name,
                                sub.c.name, sub.c.id)
    if status:
        stmt = stmt.where(cond[status])

    def status_of(row) -> str:
        if row.done >= row.required:
            return "met"
        if row.done >= row.expected:
            return "on_track"
        return "behind" if row.done >= row.risk_floor else "at_risk"

    def rows(items):
        return [[row.county_name or "", _school_link(scope, row.school_id, row.school_name), row.name, row.username,
                 int(row.required), int(row.expected), int(row.done), str(QUOTA_LABELS[status_of(row)])]
                for row in items]

    title = _("Principals and their observation quota")
    if status:
        title = f"{title}: {QUOTA_LABELS[status]}"
    return Listing("principals", title,
                   [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Principal"), 12),
                    Column(_l("Username"), 16), Column(_l("Required"), 10, True),
                    Column(_l("Expected by now"), 12, True), Column(_l("Done"), 10, True), Column(_l("Status"), 12)],
                   stmt, rows, {"status": status},
                   _tabs("principals", "status", {None: _l("All"), **QUOTA_LABELS}, status))


def _quota_schools(scope, args) -> Listing:
    """Per school: its principals under the rule and how many are in each status (one grouped query)."""
    query = figures.quota_query(scope)
    columns = [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Principals"), 10, True),
               *[Column(text, 10, True) for text in QUOTA_LABELS.values()]]
    if not query.covered:
        return Listing("quota_schools", _("Observation quota per school"), columns,
                       select(User.id).where(User.id.is_(None)), lambda items: [])
    sub = query.stmt.order_by(None).subquery()
    cond = figures.quota_conditions(sub)
    stmt = (
        select(sub.c.county_name, sub.c.school_id, sub.c.school_name, func.count(),
               *[func.sum(case((cond[s], 1), else_=0)) for s in figures.QUOTA_STATUSES])
        .group_by(sub.c.county_name, sub.c.school_id, sub.c.school_name)
        .order_by(func.sum(case((cond["at_risk"], 1), else_=0)).desc(), sub.c.county_name, sub.c.school_name,
                  sub.c.school_id)
    )

    def rows(items):
        return [[county or "", _school_link(scope, sid, name), int(n), *[int(v or 0) for v in counts]]
                for county, sid, name, n, *counts in items]

    return Listing("quota_schools", _("Observation quota per school"), columns, stmt, rows)


# --- dual-teacher sessions -------------------------------------------------------------------------


def _sessions(scope, args) -> Listing:
    status = _choice(args, "status", SESSION_LABELS, "planned")
    subject = _choice(args, "subject", SUBJECT_LABELS)
    cond = figures.session_conditions(scope)
    room = Classroom.__table__.alias("main_room")
    main_school = School.__table__.alias("main_school")
    stmt = (
        select(LiveSession.id, LiveSession.starts_at, LiveSession.status, LiveClass.subject, LiveClass.title,
               main_school.c.id, main_school.c.name, User.name)
        .select_from(LiveSession)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .join(room, room.c.id == LiveClass.main_classroom_id)
        .join(main_school, main_school.c.id == room.c.school_id)
        .join(User, User.id == LiveClass.main_teacher_id)
        .where(*figures.sessions_where(scope))
        .order_by(LiveSession.starts_at, LiveSession.id)
    )
    if status != "planned":
        stmt = stmt.where(cond[status])
    if subject:
        stmt = stmt.where(LiveClass.subject == subject)
    labels = {"scheduled": _("Scheduled"), "cancelled": _("Cancelled"), "done": _("Delivered")}

    def rows(items):
        result = []
        for sid, starts_at, state, subj, title, school_id, school, teacher in items:
            local = to_local(starts_at)
            if state == "scheduled" and starts_at is not None:
                text = labels["scheduled"]
            else:
                text = labels.get(state, state)
            result.append([local.date(), local.strftime("%H:%M"), str(label(SUBJECT_LABELS, subj)),
                           Link(title or str(label(SUBJECT_LABELS, subj)), url_for("scheduling.live_session", session_id=sid)),
                           _school_link(scope, school_id, school), teacher, text])
        return result

    title = _("Dual-teacher sessions: %(status)s", status=SESSION_LABELS[status])
    if subject:
        title = f"{title} · {label(SUBJECT_LABELS, subject)}"
    return Listing("sessions", title,
                   [Column(_l("Date"), 12), Column(_l("Time"), 8), Column(_l("Subject"), 10), Column(_l("Class"), 24),
                    Column(_l("Main school"), 26), Column(_l("Main teacher"), 12), Column(_l("Status"), 10)],
                   stmt, rows, {"status": status, "subject": subject},
                   _tabs("sessions", "status", SESSION_LABELS, status, {"subject": subject}))


# --- 开齐开足 ----------------------------------------------------------------------------------------


def _receiving(scope, args) -> Listing:
    status = _choice(args, "status", {"short": 1, "complete": 1})

    def statement() -> Select:  # built only when the page is not kept (building it cost 2 ms)
        per_school = figures.receiving_schools_statement(scope)
        stmt = (
            select(County.name, School.id, School.name, School.kind, per_school.c.subjects, per_school.c.short,
                   per_school.c.due, per_school.c.delivered, per_school.c.complete)
            .select_from(per_school)
            .join(School, School.id == per_school.c.school_id)
            .join(County, County.id == School.county_id)
            .order_by(per_school.c.complete, County.name, School.name, School.id)
        )
        if status == "short":
            stmt = stmt.where(per_school.c.complete == 0)
        elif status == "complete":
            stmt = stmt.where(per_school.c.complete == 1)
        return stmt

    def rows(items):
        ids = [row[1] for row in items]
        short_subjects: dict[int, list[str]] = {}
        if ids:  # the subjects short of the threshold, for this page's schools: one query
            sub = figures.receiving_statement(scope, school_ids=ids)
            ok = figures.subject_ok(sub)
            for school_id, subject, due, delivered in db.session.execute(
                select(sub.c.school_id, sub.c.subject, sub.c.due, sub.c.delivered)
                .where(ok == 0).order_by(sub.c.subject)
            ):
                short_subjects.setdefault(school_id, []).append(
                    f"{label(SUBJECT_LABELS, subject)} {delivered}/{due}")
        return [[county, _school_link(scope, sid, name), str(label(SCHOOL_KIND_LABELS, kind)), int(subjects),
                 int(short or 0), int(due or 0), int(delivered or 0), figures.percent(int(delivered or 0), int(due or 0)),
                 _("Yes") if complete else _("No"), "、".join(short_subjects.get(sid, []))]
                for county, sid, name, kind, subjects, short, due, delivered, complete in items]

    titles = {None: _l("All"), "short": _l("Not fully delivered"), "complete": _l("Fully delivered")}
    return Listing("receiving_schools", _("Receiving schools: courses delivered (开齐开足)"),
                   [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Kind"), 10),
                    Column(_l("Subjects received"), 10, True), Column(_l("Subjects short"), 10, True),
                    Column(_l("Periods due"), 10, True), Column(_l("Delivered"), 10, True), Column("%", 6, True),
                    Column(_l("Fully delivered"), 10), Column(_l("Subjects short (delivered/due)"), 30)],
                   statement, rows, {"status": status}, _tabs("receiving_schools", "status", titles, status))


# --- resource flow -----------------------------------------------------------------------------------


def _flow(scope, args) -> Listing:
    side = _choice(args, "side", {"urban": 1, "rural": 1}, "urban")
    kinds = ("urban",) if side == "urban" else RURAL_KINDS
    stmt = (
        select(County.name, School.id, School.name, School.kind)
        .join(County, County.id == School.county_id)
        .where(School.is_active.is_(True), School.kind.in_(kinds), figures._county_filter(School.county_id, scope))
        .order_by(County.name, School.name, School.id)
    )

    def rows(items):
        ids = [row[1] for row in items]
        flows = {row.school_id: row for row in school_flows(ids, scope.school_year)} if ids else {}
        result = []
        for county, sid, name, kind in items:
            row = flows.get(sid)
            if side == "urban":
                result.append([county, _school_link(scope, sid, name), row.shared if row else 0,
                               row.downloaded_by_rural if row else 0, row.used_by_rural if row else 0])
            else:
                result.append([county, _school_link(scope, sid, name), str(label(SCHOOL_KIND_LABELS, kind)),
                               row.received_from_urban if row else 0, row.received_from_rural if row else 0])
        return result

    if side == "urban":
        columns = [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Resources shared"), 12, True),
                   Column(_l("Downloads by rural schools"), 14, True), Column(_l("Used by rural schools"), 14, True)]
        title = _("Urban schools: resources shared and taken by rural schools")
    else:
        columns = [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Kind"), 10),
                   Column(_l("Resources taken from urban schools"), 16, True),
                   Column(_l("Resources taken from rural schools"), 16, True)]
        title = _("Rural schools: resources taken from other schools")
    return Listing("flow", title, columns, stmt, rows, {"side": side},
                   _tabs("flow", "side", {"urban": _l("Urban schools"), "rural": _l("Rural schools")}, side))


# --- community activity -------------------------------------------------------------------------------


def _communities(scope, args) -> Listing:
    status = _choice(args, "status", {"quiet": 1})
    held = (
        select(Activity.community_id, func.count(Activity.id).label("n"))
        .where(*figures.held_activities(scope))
        .group_by(Activity.community_id)
        .subquery("held")
    )
    attended = (
        select(Activity.community_id, func.count(Participant.id).label("n"))
        .join(Participant, Participant.activity_id == Activity.id)
        .where(Participant.attended.is_(True), *figures.held_activities(scope))
        .group_by(Activity.community_id)
        .subquery("attended")
    )
    n, people = func.coalesce(held.c.n, 0), func.coalesce(attended.c.n, 0)
    stmt = (
        select(County.name, Community.id, Community.name, Community.kind, Community.member_count, n, people)
        .select_from(Community)
        .outerjoin(County, County.id == Community.county_id)
        .outerjoin(held, held.c.community_id == Community.id)
        .outerjoin(attended, attended.c.community_id == Community.id)
        .where(Community.is_active.is_(True))
        .order_by(n, County.name, Community.name, Community.id)
    )
    if scope.county_id is not None:
        stmt = stmt.where(Community.county_id == scope.county_id)
    if status == "quiet":
        stmt = stmt.where(n == 0)

    def rows(items):
        return [[county or _("City level"), Link(name, url_for("communities.community", community_id=cid)),
                 str(label(COMMUNITY_KIND_SHORT, kind)), int(members or 0), int(held_n), int(people_n)]
                for county, cid, name, kind, members, held_n, people_n in items]

    return Listing("communities", _("Communities and their activities"),
                   [Column(_l("County"), 14), Column(_l("Community"), 30), Column(_l("Kind"), 12),
                    Column(_l("Members"), 10, True), Column(_l("Activities held"), 10, True),
                    Column(_l("Attendances"), 10, True)],
                   stmt, rows, {"status": status},
                   _tabs("communities", "status", {None: _l("All"), "quiet": _l("No activity")}, status))


# --- training hours ---------------------------------------------------------------------------------


def _hours(scope, args) -> Listing:
    status = _choice(args, "status", {"behind": 1})
    targets = figures.hours_targets(scope)
    sub = figures.hours_statement(scope, targets).subquery()
    stmt = select(sub).order_by(sub.c.cycle, sub.c.county_name, sub.c.school_name, sub.c.name, sub.c.id)
    if status == "behind":
        stmt = stmt.where(sub.c.cycle < targets.expected_tenths)

    def rows(items):
        return [[row.county_name, _school_link(scope, row.school_id, row.school_name), row.name, row.username,
                 int(row.cycle) / 10, int(row.year) / 10, targets.expected, targets.target,
                 _("Yes") if int(row.cycle) >= targets.expected_tenths else _("No")]
                for row in items]

    return Listing("training", _("Training hours of teachers"),
                   [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Name"), 12),
                    Column(_l("Username"), 16), Column(_l("Cycle hours"), 10, True),
                    Column(_l("Hours this school year"), 10, True), Column(_l("Expected by now"), 10, True),
                    Column(_l("Target"), 8, True), Column(_l("On track"), 8)],
                   stmt, rows, {"status": status},
                   _tabs("training", "status", {None: _l("All"), "behind": _l("Behind the pace")}, status))


# --- researcher visits --------------------------------------------------------------------------------


def _visits(scope, args) -> Listing:
    status = _choice(args, "status", {"unvisited": 1, "visited": 1})
    last_day = min(scope.end, scope.today)
    counts = (
        select(SchoolVisit.school_id, func.count().label("n"), func.max(SchoolVisit.visited_on).label("last"))
        .where(SchoolVisit.visited_on >= scope.start, SchoolVisit.visited_on <= last_day)
        .group_by(SchoolVisit.school_id)
        .subquery("visits")
    )
    n = func.coalesce(counts.c.n, 0)
    stmt = (
        select(County.name, School.id, School.name, School.kind, n, counts.c.last)
        .select_from(School)
        .join(County, County.id == School.county_id)
        .outerjoin(counts, counts.c.school_id == School.id)
        .where(School.is_active.is_(True), School.kind.in_(RURAL_KINDS), figures._county_filter(School.county_id, scope))
        .order_by(n, County.name, School.name, School.id)
    )
    if status == "unvisited":
        stmt = stmt.where(n == 0)
    elif status == "visited":
        stmt = stmt.where(n > 0)

    def rows(items):
        return [[county, _school_link(scope, sid, name), str(label(SCHOOL_KIND_LABELS, kind)), int(visits), last]
                for county, sid, name, kind, visits, last in items]

    titles = {None: _l("All"), "unvisited": _l("Not visited"), "visited": _l("Visited")}
    return Listing("visits", _("Rural schools and researchers' visits"),
                   [Column(_l("County"), 14), Column(_l("School"), 28), Column(_l("Kind"), 10),
                    Column(_l("Visits"), 8, True), Column(_l("Latest visit"), 12)],
                   stmt, rows, {"status": status}, _tabs("visits", "status", titles, status))


# --- teacher exchange ---------------------------------------------------------------------------------


def _exchanges(scope, args) -> Listing:
    day = scope.day
    target = School.__table__.alias("to_school")
    placed = and_(TeacherExchange.kind.in_(RATIO_KINDS), covers(day))
    stmt = (
        select(County.name, School.id, School.name, User.name, User.username, User.is_backbone,
               TeacherExchange.kind, target.c.name, TeacherExchange.start_date, TeacherExchange.end_date)
        .select_from(TeacherExchange)
        .join(User, User.id == TeacherExchange.user_id)
        .join(School, School.id == User.school_id)
        .join(County, County.id == School.county_id)
        .join(target, target.c.id == TeacherExchange.to_school_id)
        .where(placed, User.role == "teacher", User.active.is_(True), School.is_active.is_(True),
               figures._county_filter(School.county_id, scope))
        .order_by(County.name, School.name, User.name, TeacherExchange.start_date, TeacherExchange.id)
    )

    def rows(items):
        return [[county, _school_link(scope, sid, school), name, username, _("Yes") if backbone else _("No"),
                 str(label(EXCHANGE_KIND_LABELS, kind)), to_school, start, end]
                for county, sid, school, name, username, backbone, kind, to_school, start, end in items]

    return Listing("exchanges", _("Teachers in exchange on %(day)s", day=day.isoformat()),
                   [Column(_l("County"), 14), Column(_l("Home school"), 26), Column(_l("Name"), 12),
                    Column(_l("Username"), 16), Column(_l("Backbone teacher"), 10), Column(_l("Kind"), 10),
                    Column(_l("Placed at"), 26), Column(_l("Start date"), 12), Column(_l("End date"), 12)],
                   stmt, rows)


LISTS: dict[str, Callable] = {
    "uncovered_teachers": lambda scope, args: _people_gap(scope, args, "teacher"),
    "uncovered_principals": lambda scope, args: _people_gap(scope, args, "principal"),
    "unpaired_schools": _unpaired,
    "principals": _quota,
    "quota_schools": _quota_schools,
    "sessions": _sessions,
    "receiving_schools": _receiving,
    "flow": _flow,
    "communities": _communities,
    "training": _hours,
    "visits": _visits,
    "exchanges": _exchanges,
}


def listing(key: str, scope, args) -> Listing:
    return LISTS[key](scope, args)
