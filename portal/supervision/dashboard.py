"""The supervision dashboard (督导监测): the figures the bureau is audited on, for a county (or the
city) and a school year or one of its semesters. Every figure reuses the rule of the feature that
owns it and is computed with grouped queries: a fixed number of statements whatever the size
of the city.

Definitions (also written on the page):

- Period: a school year runs 1 September – 31 August; its autumn semester ends the day before
  the spring term starts (the spring ``Term`` of that year, else 1 February), as the observation
  quota counts it. "Today" for a past period is its last day; for a future one, its first.
- Coverage (rural teachers / principals in a community of their kind, rural schools paired):
  ``coverage.py`` as it stands today (memberships and pairings have no history).
- Observation quota: the principals' rule of ``observations.quota`` measured on the period's
  day. Met: final periods ≥ required. On track: not met, ≥ the periods expected by now. Behind:
  below the pace but above the risk floor. At risk: below the risk floor.
- Dual-teacher sessions of the period (by ``occurrence_date``) of classes that touch the scope's
  county: planned = every session, cancelled included; delivered = status "done"; cancelled;
  not recorded = not cancelled, not done, ended before now; the rest are still to come.
- 开齐开足: a receiving school is fully delivered for the period when, for EVERY subject it
  receives, the periods delivered (attendance recorded for its classroom) are at least
  ``KAIQI_THRESHOLD_PERCENT`` (90) % of the periods due (sessions not cancelled that have started
  by now, one per receiving classroom). Schools with nothing due yet are not counted.
- Resource flow (``resources.social.school_flows``, school year): resources shared by urban
  schools, their downloads and "used in class" marks by people of rural schools, and rural
  schools that took at least one resource of an urban school.
- Community activity: activities of the period not cancelled that have started, and attendances
  marked present, of the county's communities (city-level communities count for the city).
- Training hours (``communities.hours``): the five-year cycle ending with the school year,
  per active teacher; on track when the cycle total reaches the share of the target the
  elapsed time calls for on the period's day.
- Researcher visits: visits of the period to the county's schools; rural schools visited.
- Teacher exchange (``partnerships.exchange_figures``): the ratio on the period's day.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from flask import current_app, url_for
from sqlalchemy import and_, bindparam, case, func, literal, select, union, union_all
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..communities import hours as hours_rules
from ..communities.models import Activity, Community, Participant, TrainingRecord
from ..core import cache
from ..core.errors import NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SEMESTER_LABELS
from ..core.models import utcnow
from ..core.timeutil import local_today, portal_tz, school_year_of
from ..extensions import db
from ..org.models import RURAL_KINDS, Classroom, County, School
from ..partnerships.exchange_figures import exchange_ratios, total_ratio
from ..partnerships.models import SchoolVisit
from ..resources.models import Resource, ResourceDownload, ResourceUse
from ..resources.permissions import visibility_clause, visibility_of
from ..resources.social import school_flows
from ..scheduling.models import LiveClass, LiveSession, ReceivingClassroom, SessionAttendance
from .coverage import coverage_by_county, sum_coverage
from .permissions import can_view_dashboard

SEMESTERS = ("autumn", "spring")
QUOTA_STATUSES = ("met", "on_track", "behind", "at_risk")
SESSION_STATUSES = ("planned", "done", "cancelled", "missing", "upcoming")
TOP_RESOURCES = 10


def kaiqi_threshold() -> int:
    return int(current_app.config.get("KAIQI_THRESHOLD_PERCENT", 90))


def percent(done: int, total: int) -> int:
    """Whole percent rounded down (99.6 % never reads as complete); 0 when there is nothing."""
    return done * 100 // total if total else 0


# --- the scope: county and period ----------------------------------------------------------------


@dataclass
class Scope:
    county: County | None
    counties: list  # the rows of the per-county tables: each with an id and a name (CountyChoice, County)
    school_year: int
    semester: str | None
    start: date
    end: date
    today: date
    now: datetime  # UTC; the end of the period when it is over
    _list_paths: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    _query: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def county_id(self) -> int | None:
        return self.county.id if self.county else None

    @property
    def day(self) -> date:
        """The day the period is measured on: today, or the nearest day of the period."""
        return min(max(self.today, self.start), self.end)

    @property
    def label(self) -> str:
        year = f"{self.school_year}–{self.school_year + 1}"
        return f"{year} {SEMESTER_LABELS[self.semester]}" if self.semester else year

    def args(self, **extra) -> dict:
        """The query-string arguments that keep this scope in a link."""
        args = {"year": self.school_year}
        if self.semester:
            args["semester"] = self.semester
        if self.county is not None:
            args["county"] = self.county.id
        args.update({k: v for k, v in extra.items() if v is not None})
        return args

    def list_url(self, key: str, **extra) -> str:
        """The list behind a figure, in this scope. Its path and the scope's part of the query are
        built once: a city's dashboard links ~400 figures (url_for for each was ~10 ms of the page,
        encoding the scope again for each another 2 ms)."""
        path = self._list_paths.get(key)
        if path is None:
            path = self._list_paths[key] = url_for("supervision.dashboard_list", key=key)
        if self._query is None:
            self._query = urlencode(self.args())
        extra = {k: v for k, v in extra.items() if v is not None}
        if not extra:
            return f"{path}?{self._query}"
        if any(k in ("year", "semester", "county") for k in extra):  # overrides the scope's own
            return f"{path}?{urlencode(self.args(**extra))}"
        return f"{path}?{self._query}&{urlencode(extra)}"


def period_bounds(school_year: int, semester: str | None) -> tuple[date, date]:
    """The period's first and last day (the observation quota's semester boundary)."""
    from ..observations.quota import teaching_calendar

    start, end = date(school_year, 9, 1), date(school_year + 1, 8, 31)
    if semester is None:
        return start, end
    boundary = teaching_calendar(school_year).spring_start()
    if semester == "autumn":
        return start, boundary - timedelta(days=1)
    return boundary, end


def make_scope(user, county: County | None, counties: list, school_year: int | None,
               semester: str | None, today: date | None = None) -> Scope:
    if not can_view_dashboard(user):
        raise NotAllowed(_l("The dashboard is for the bureau and teaching researchers."))
    return period_scope(county, counties, school_year, semester, today)


def period_scope(county: County | None, counties: list, school_year: int | None, semester: str | None,
                 today: date | None = None) -> Scope:
    """The scope without the dashboard's permission check (a school's page checks its own)."""
    today = today or local_today()
    year = school_year or school_year_of(today)
    start, end = period_bounds(year, semester)
    tz = portal_tz()
    period_over = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(utcnow().tzinfo)
    rows = [c for c in counties if county is None or c.id == county.id]
    return Scope(county, rows, year, semester, start, end, today, min(utcnow(), period_over))


def _county_filter(column, scope: Scope):
    return column == scope.county_id if scope.county_id is not None else literal(True)


# --- coverage --------------------------------------------------------------------------------------


def coverage(scope: Scope):
    rows = coverage_by_county(scope.counties, scope.county_id)
    return rows, sum_coverage(rows)


# --- observation quota of principals ------------------------------------------------------------


@dataclass
class QuotaRow:
    id: int | None
    name: str
    people: int = 0
    met: int = 0
    on_track: int = 0
    behind: int = 0
    at_risk: int = 0
    done: int = 0
    required: int = 0

    def share(self, status: str) -> int:
        return percent(getattr(self, status), self.people)

    def add(self, other: QuotaRow) -> None:
        for name in ("people", "met", "on_track", "behind", "at_risk", "done", "required"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def quota_query(scope: Scope, school_id: int | None = None):
    """The principals under the quota rule on the period's day (``quota.behind_statement``)."""
    from ..observations.quota import behind_statement

    return behind_statement("principal", scope.day, county_id=scope.county_id, school_id=school_id)


def quota_conditions(sub) -> dict:
    """SQL conditions of each status, on a subquery of ``behind_statement``'s rows."""
    met = sub.c.done >= sub.c.required
    on_pace = sub.c.done >= sub.c.expected
    return {
        "met": met,
        "on_track": and_(~met, on_pace),
        "behind": and_(~met, ~on_pace, sub.c.done >= sub.c.risk_floor),
        "at_risk": and_(~met, ~on_pace, sub.c.done < sub.c.risk_floor),
    }


def quota_figure(scope: Scope, by: str = "county", school_id: int | None = None) -> list[QuotaRow]:
    """Principals per county (or per school) by status: ONE grouped query over the quota list."""
    query = quota_query(scope, school_id)
    if not query.covered:
        return []
    sub = query.stmt.order_by(None).subquery()
    cond = quota_conditions(sub)
    key = (sub.c.county_id, sub.c.county_name) if by == "county" else (sub.c.school_id, sub.c.school_name)
    stmt = (
        select(*key, func.count(), *[func.sum(case((cond[s], 1), else_=0)) for s in QUOTA_STATUSES],
               func.sum(sub.c.done), func.sum(sub.c.required))
        .group_by(*key)
        .order_by(key[1], key[0])
    )
    return [QuotaRow(kid, name or "", int(n), *[int(v or 0) for v in rest])
            for kid, name, n, *rest in db.session.execute(stmt)]


def total_of(rows, cls, name: str = ""):
    total = cls(None, name)
    for row in rows:
        total.add(row)
    return total


# --- dual-teacher sessions -------------------------------------------------------------------------


@dataclass
class SubjectRow:
    id: str | None  # the subject code
    name: str = ""
    planned: int = 0
    done: int = 0
    cancelled: int = 0
    missing: int = 0

    @property
    def upcoming(self) -> int:
        return self.planned - self.done - self.cancelled - self.missing

    @property
    def percent(self) -> int:
        """Delivered among the sessions due (not cancelled, delivered or not recorded)."""
        return percent(self.done, self.done + self.missing)

    def add(self, other: SubjectRow) -> None:
        for name in ("planned", "done", "cancelled", "missing"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def touches_county(county_id: int):
    """A WHERE clause on LiveSession: its class's main room or a receiving room is at a school of
    the county (the county bureau's own rule in ``scheduling.permissions.visible_classes``). The
    classes are found first, so the sessions are read by their class index, not all scanned."""
    rooms = select(Classroom.id).join(School, School.id == Classroom.school_id).where(School.county_id == county_id)
    classes = union(
        select(LiveClass.id).where(LiveClass.main_classroom_id.in_(rooms)),
        select(ReceivingClassroom.live_class_id).where(ReceivingClassroom.classroom_id.in_(rooms)),
    )
    return LiveSession.live_class_id.in_(classes)


def session_conditions(scope: Scope) -> dict:
    cancelled = LiveSession.status == "cancelled"
    done = LiveSession.status == "done"
    missing = and_(~cancelled, ~done, LiveSession.ends_at <= scope.now)
    return {"done": done, "cancelled": cancelled, "missing": missing,
            "upcoming": and_(~cancelled, ~done, LiveSession.ends_at > scope.now)}


def sessions_where(scope: Scope, school_id: int | None = None) -> list:
    where = [LiveSession.occurrence_date >= scope.start, LiveSession.occurrence_date <= scope.end]
    if scope.county_id is not None:
        where.append(touches_county(scope.county_id))
    if school_id is not None:
        rooms = select(Classroom.id).where(Classroom.school_id == school_id)
        where.append(LiveClass.main_classroom_id.in_(rooms))
    return where


def sessions_by_subject(scope: Scope, school_id: int | None = None) -> list[SubjectRow]:
    """Sessions of the period per subject: planned, delivered, cancelled, not recorded. One query.
    With ``school_id``: the classes that school teaches (as main school)."""
    cond = session_conditions(scope)
    stmt = (
        select(LiveClass.subject, func.count(),
               *[func.sum(case((cond[s], 1), else_=0)) for s in ("done", "cancelled", "missing")])
        .select_from(LiveSession)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .where(*sessions_where(scope, school_id))
        .group_by(LiveClass.subject)
        .order_by(LiveClass.subject)
    )
    return [SubjectRow(subject, "", int(n), int(d or 0), int(c or 0), int(m or 0))
            for subject, n, d, c, m in db.session.execute(stmt)]


# --- 开齐开足: receiving schools whose sessions are delivered ---------------------------------------


def receiving_statement(scope: Scope, school_id: int | None = None, school_ids: list[int] | None = None):
    """Per receiving school and subject: periods due and delivered in the period. A subquery of
    (county_id, school_id, subject, due, delivered); limited to one school or a few when given."""
    room, school = aliased(Classroom), aliased(School)
    stmt = (
        select(school.county_id.label("county_id"), school.id.label("school_id"),
               LiveClass.subject.label("subject"), func.count().label("due"),
               func.count(SessionAttendance.id).label("delivered"))
        .select_from(LiveSession)
        .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
        .join(ReceivingClassroom, ReceivingClassroom.live_class_id == LiveClass.id)
        .join(room, room.id == ReceivingClassroom.classroom_id)
        .join(school, school.id == room.school_id)
        .outerjoin(SessionAttendance, and_(SessionAttendance.session_id == LiveSession.id,
                                           SessionAttendance.classroom_id == ReceivingClassroom.classroom_id))
        .where(LiveSession.occurrence_date >= scope.start, LiveSession.occurrence_date <= scope.end,
               LiveSession.status != "cancelled", LiveSession.starts_at < scope.now, school.is_active.is_(True),
               _county_filter(school.county_id, scope))
        .group_by(school.county_id, school.id, LiveClass.subject)
    )
    if school_id is not None:
        stmt = stmt.where(school.id == school_id)
    if school_ids is not None:
        stmt = stmt.where(school.id.in_(school_ids))
    return stmt.subquery("receiving")


def subject_ok(sub):
    """1 when the subject's delivered periods reach the threshold share of those due."""
    return case((sub.c.delivered * 100 >= kaiqi_threshold() * sub.c.due, 1), else_=0)


def receiving_schools_statement(scope: Scope, school_id: int | None = None):
    """Per receiving school: subjects received, subjects short, periods due and delivered, and
    whether every subject reaches the threshold. A subquery."""
    sub = receiving_statement(scope, school_id)
    ok = subject_ok(sub)
    return (
        select(sub.c.county_id, sub.c.school_id, func.count().label("subjects"),
               func.sum(1 - ok).label("short"), func.sum(sub.c.due).label("due"),
               func.sum(sub.c.delivered).label("delivered"), func.min(ok).label("complete"))
        .group_by(sub.c.county_id, sub.c.school_id)
        .subquery("receiving_schools")
    )


@dataclass
class DeliveryRow:
    id: int | None
    name: str
    schools: int = 0
    complete: int = 0
    due: int = 0
    delivered: int = 0

    @property
    def percent(self) -> int:
        return percent(self.complete, self.schools)

    @property
    def short(self) -> int:
        return self.schools - self.complete

    def add(self, other: DeliveryRow) -> None:
        for name in ("schools", "complete", "due", "delivered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def delivery_by_county(scope: Scope) -> list[DeliveryRow]:
    """Receiving schools with periods due, and those fully delivered, per county. One query."""
    per_school = receiving_schools_statement(scope)
    stmt = (
        select(per_school.c.county_id, func.count(), func.sum(per_school.c.complete), func.sum(per_school.c.due),
               func.sum(per_school.c.delivered))
        .group_by(per_school.c.county_id)
    )
    found = {cid: (int(n), int(c or 0), int(d or 0), int(v or 0)) for cid, n, c, d, v in db.session.execute(stmt)}
    return [DeliveryRow(c.id, c.name, *found.get(c.id, (0, 0, 0, 0))) for c in scope.counties]


# --- resources: the urban → rural flow -----------------------------------------------------------


@dataclass
class FlowSummary:
    id: int | None
    name: str
    urban_shared: int = 0
    rural_downloads: int = 0  # downloads of urban schools' resources by people of rural schools
    rural_uses: int = 0
    rural_schools: int = 0
    rural_receiving: int = 0  # rural schools that took at least one urban resource

    @property
    def percent(self) -> int:
        return percent(self.rural_receiving, self.rural_schools)

    def add(self, other: FlowSummary) -> None:
        for name in ("urban_shared", "rural_downloads", "rural_uses", "rural_schools", "rural_receiving"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def flow_by_county(scope: Scope) -> list[FlowSummary]:
    """``school_flows`` for the active schools of the scope (six grouped queries), summed per county."""
    stmt = select(School.id, School.county_id).where(School.is_active.is_(True), _county_filter(School.county_id, scope))
    county_of = dict(db.session.execute(stmt).all())
    result = {c.id: FlowSummary(c.id, c.name) for c in scope.counties}
    if not county_of:
        return list(result.values())
    rows = school_flows(list(county_of) if scope.county_id is not None else None, scope.school_year)
    for row in rows:
        summary = result.get(county_of.get(row.school_id))
        if summary is None:
            continue
        if row.is_rural:
            summary.rural_schools += 1
            summary.rural_receiving += 1 if row.received_from_urban else 0
        else:
            summary.urban_shared += row.shared
            summary.rural_downloads += row.downloaded_by_rural
            summary.rural_uses += row.used_by_rural
    return list(result.values())


@dataclass
class TopResource:
    id: int
    title: str
    school: str
    downloads: int
    uses: int

    @property
    def total(self) -> int:
        return self.downloads + self.uses


def flow_window(scope: Scope):
    from ..resources.social import year_bounds

    return year_bounds(scope.school_year)


TOP_CANDIDATES = 50  # the scope's most taken resources among which a viewer's top ones are looked for first


def _taken_subquery():
    """Each download and each "used in class" mark of the period by someone of a rural school, as
    rows (resource id, 1, 0) and (resource id, 0, 1); the period as bind parameters."""
    taker = aliased(School)
    return union_all(
        select(ResourceDownload.resource_id.label("resource_id"), literal(1).label("d"), literal(0).label("u"))
        .join(taker, taker.id == ResourceDownload.school_id)
        .where(taker.kind.in_(RURAL_KINDS), ResourceDownload.at >= bindparam("start"),
               ResourceDownload.at < bindparam("end")),
        select(ResourceUse.resource_id, literal(0), literal(1))
        .join(taker, taker.id == ResourceUse.school_id)
        .where(taker.kind.in_(RURAL_KINDS), ResourceUse.used_on >= bindparam("first"),
               ResourceUse.used_on <= bindparam("last")),
    ).subquery("taken")


@functools.cache  # a handful of keys: the viewer's form of the visibility rule (None: anyone's), and whether a county is chosen
def _top_statement(visibility: tuple | None, of_county: bool):
    """The urban schools' resources most taken by rural schools, most first (those the viewer may
    see, or everyone's resources when ``visibility`` is None): its period, county and the viewer's
    visibility values left as bind parameters: building it on every dashboard took 1.5 ms."""
    taken = _taken_subquery()
    downloads, uses = func.sum(taken.c.d), func.sum(taken.c.u)
    where = [School.kind == "urban", Resource.deleted_at.is_(None)]
    if visibility is not None:
        where.append(visibility_clause(visibility))
    if of_county:
        where.append(School.county_id == bindparam("county_id"))
    return (
        select(Resource.id, Resource.title, School.name, downloads, uses)
        .select_from(taken)
        .join(Resource, Resource.id == taken.c.resource_id)
        .join(School, School.id == Resource.school_id)
        .where(*where)
        .group_by(Resource.id, Resource.title, School.name)
        .order_by((downloads + uses).desc(), Resource.id.desc())
        .limit(bindparam("limit"))
    )


@functools.cache  # one per form of the visibility rule
def _visible_statement(visibility: tuple):
    """Which of the given resources (ids) the viewer may see, with their title and school now."""
    return (
        select(Resource.id, Resource.title, School.name)
        .join(School, School.id == Resource.school_id)
        .where(Resource.id.in_(bindparam("ids", expanding=True)), Resource.deleted_at.is_(None),
               visibility_clause(visibility))
    )


def _top_params(scope: Scope) -> dict:
    start, end, first, last = flow_window(scope)
    params = {"start": start, "end": end, "first": first, "last": last}
    if scope.county_id is not None:
        params["county_id"] = scope.county_id
    return params


def top_resources(viewer, scope: Scope) -> list[TopResource]:
    """Resources of urban schools (of the county) most downloaded and used by people of rural
    schools in the school year, among those the viewer may see.

    Counting what rural schools took means probing every rural school's downloads and marks
    (0.5 ms with none at all, more with many), the same for every viewer: the scope's most taken
    resources are kept with the figures (``cache.py``), and only which of them this viewer may
    see is asked (one query by id, none when nothing was taken). Should the viewer see fewer than
    ``TOP_RESOURCES`` of the first ``TOP_CANDIDATES``, the ranking is made for them alone."""
    params = _top_params(scope)
    candidates = cache.cached(("top-taken", scope.county_id, scope.school_year), lambda: [
        (rid, int(d or 0), int(u or 0)) for rid, _title, _school, d, u in db.session.execute(
            _top_statement(None, scope.county_id is not None), {**params, "limit": TOP_CANDIDATES})])
    if not candidates:
        return []
    visibility, values = visibility_of(viewer)
    shown = {rid: (title, school) for rid, title, school in db.session.execute(
        _visible_statement(visibility), {**values, "ids": [rid for rid, _d, _u in candidates]})}
    top = [TopResource(rid, *shown[rid], d, u) for rid, d, u in candidates if rid in shown][:TOP_RESOURCES]
    if len(top) == TOP_RESOURCES or len(candidates) < TOP_CANDIDATES:
        return top
    rows = db.session.execute(_top_statement(visibility, scope.county_id is not None),
                              {**params, **values, "limit": TOP_RESOURCES})
    return [TopResource(rid, title, school, int(d or 0), int(u or 0)) for rid, title, school, d, u in rows]


# --- community activity --------------------------------------------------------------------------


@dataclass
class ActivityRow:
    id: int | None
    name: str
    teacher_activities: int = 0
    principal_activities: int = 0
    attendances: int = 0

    @property
    def activities(self) -> int:
        return self.teacher_activities + self.principal_activities

    def add(self, other: ActivityRow) -> None:
        for name in ("teacher_activities", "principal_activities", "attendances"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def local_bounds(scope: Scope) -> tuple[datetime, datetime]:
    """The period as UTC datetimes: its first local midnight, and the earlier of now and its end."""
    tz = portal_tz()
    return datetime.combine(scope.start, time(), tz).astimezone(scope.now.tzinfo), scope.now


def held_activities(scope: Scope):
    """WHERE clauses: activities of the period, not cancelled, started by now."""
    start, now = local_bounds(scope)
    return [Activity.cancelled_at.is_(None), Activity.starts_at >= start, Activity.starts_at < now]


def activity_by_county(scope: Scope) -> tuple[list[ActivityRow], ActivityRow]:
    """Activities held and attendances per county of the community (None: city-level ones). One
    query. Returns the county rows and the total (which includes the city-level communities)."""
    attended = (
        select(Participant.activity_id, func.count().label("n"))
        .where(Participant.attended.is_(True))
        .group_by(Participant.activity_id)
        .subquery()
    )
    stmt = (
        select(Community.county_id, Community.kind, func.count(Activity.id), func.coalesce(func.sum(attended.c.n), 0))
        .select_from(Activity)
        .join(Community, Community.id == Activity.community_id)
        .outerjoin(attended, attended.c.activity_id == Activity.id)
        .where(*held_activities(scope))
        .group_by(Community.county_id, Community.kind)
    )
    if scope.county_id is not None:
        stmt = stmt.where(Community.county_id == scope.county_id)
    rows = {c.id: ActivityRow(c.id, c.name) for c in scope.counties}
    total = ActivityRow(None, "")
    for cid, kind, n, people in db.session.execute(stmt):
        for row in (rows.get(cid), total):
            if row is None:
                continue
            if kind == "principal":
                row.principal_activities += int(n)
            else:
                row.teacher_activities += int(n)
            row.attendances += int(people)
    return list(rows.values()), total


# --- training hours ----------------------------------------------------------------------------


@dataclass
class HoursRow:
    id: int | None
    name: str
    teachers: int = 0
    cycle_tenths: int = 0
    year_tenths: int = 0
    on_track: int = 0
    complete: int = 0

    @property
    def average_cycle(self) -> float:
        return round(self.cycle_tenths / 10 / self.teachers, 1) if self.teachers else 0.0

    @property
    def average_year(self) -> float:
        return round(self.year_tenths / 10 / self.teachers, 1) if self.teachers else 0.0

    @property
    def percent(self) -> int:
        return percent(self.on_track, self.teachers)

    def add(self, other: HoursRow) -> None:
        for name in ("teachers", "cycle_tenths", "year_tenths", "on_track", "complete"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class HoursTargets:
    target: int  # hours over the cycle
    expected_tenths: int  # on the period's day
    first_year: int
    last_year: int

    @property
    def expected(self) -> float:
        return self.expected_tenths / 10

    @property
    def yearly(self) -> float:
        return round(self.target / hours_rules.CYCLE_YEARS, 1)


def hours_targets(scope: Scope) -> HoursTargets:
    target = max(int(current_app.config.get("TRAINING_HOURS_TARGET", 360)), 0)
    months = hours_rules.elapsed_months(scope.day)
    expected = -(-target * 10 * months // (hours_rules.CYCLE_YEARS * 12))
    return HoursTargets(target, expected, scope.school_year - hours_rules.CYCLE_YEARS + 1, scope.school_year)


def hours_statement(scope: Scope, targets: HoursTargets, school_id: int | None = None):
    """Active teachers of active schools of the scope with their cycle and year totals (tenths):
    rows (user id, name, username, school id, school name, county id, county name, cycle, year).
    With ``school_id`` only that school's teachers' records are summed (not the whole city's)."""
    sums = (
        select(TrainingRecord.user_id,
               func.sum(TrainingRecord.hours_tenths).label("cycle"),
               func.sum(case((TrainingRecord.school_year == targets.last_year, TrainingRecord.hours_tenths),
                             else_=0)).label("year"))
        .where(TrainingRecord.school_year.between(targets.first_year, targets.last_year))
    )
    if school_id is not None:
        sums = sums.where(TrainingRecord.user_id.in_(select(User.id).where(User.school_id == school_id)))
    sums = sums.group_by(TrainingRecord.user_id).subquery("hours")
    cycle, year = func.coalesce(sums.c.cycle, 0), func.coalesce(sums.c.year, 0)
    stmt = (
        select(User.id, User.name, User.username, School.id.label("school_id"), School.name.label("school_name"),
               County.id.label("county_id"), County.name.label("county_name"), cycle.label("cycle"),
               year.label("year"))
        .select_from(User)
        .join(School, School.id == User.school_id)
        .join(County, County.id == School.county_id)
        .outerjoin(sums, sums.c.user_id == User.id)
        .where(User.role == "teacher", User.active.is_(True), School.is_active.is_(True),
               _county_filter(School.county_id, scope))
    )
    if school_id is not None:
        stmt = stmt.where(School.id == school_id)
    return stmt


def hours_by_county(scope: Scope, targets: HoursTargets) -> list[HoursRow]:
    sub = hours_statement(scope, targets).subquery()
    stmt = (
        select(sub.c.county_id, func.count(), func.sum(sub.c.cycle), func.sum(sub.c.year),
               func.sum(case((sub.c.cycle >= targets.expected_tenths, 1), else_=0)),
               func.sum(case((sub.c.cycle >= targets.target * 10, 1), else_=0)))
        .group_by(sub.c.county_id)
    )
    found = {cid: [int(v or 0) for v in rest] for cid, *rest in db.session.execute(stmt)}
    return [HoursRow(c.id, c.name, *found.get(c.id, [0] * 5)) for c in scope.counties]


# --- researcher visits -----------------------------------------------------------------------------


@dataclass
class VisitRow:
    id: int | None
    name: str
    visits: int = 0
    schools: int = 0  # distinct schools visited
    rural_visited: int = 0
    rural_schools: int = 0

    @property
    def percent(self) -> int:
        return percent(self.rural_visited, self.rural_schools)

    def add(self, other: VisitRow) -> None:
        for name in ("visits", "schools", "rural_visited", "rural_schools"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def visits_by_county(scope: Scope, rural_schools: dict[int, int]) -> list[VisitRow]:
    """Visits of the period per county of the school visited; ``rural_schools``: active rural
    schools per county (from the coverage figure, not counted again). One query."""
    rural = School.kind.in_(RURAL_KINDS)
    stmt = (
        select(School.county_id, func.count(SchoolVisit.id), func.count(func.distinct(SchoolVisit.school_id)),
               func.count(func.distinct(case((rural, SchoolVisit.school_id)))))
        .select_from(SchoolVisit)
        .join(School, School.id == SchoolVisit.school_id)
        .where(SchoolVisit.visited_on >= scope.start, SchoolVisit.visited_on <= min(scope.end, scope.today),
               School.is_active.is_(True), _county_filter(School.county_id, scope))
        .group_by(School.county_id)
    )
    found = {cid: (int(v), int(s), int(r)) for cid, v, s, r in db.session.execute(stmt)}
    return [VisitRow(c.id, c.name, *found.get(c.id, (0, 0, 0)), rural_schools.get(c.id, 0)) for c in scope.counties]


# --- everything ------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    scope: Scope
    coverage: list = field(default_factory=list)
    coverage_total: object = None
    quota: list[QuotaRow] = field(default_factory=list)
    quota_total: QuotaRow | None = None
    subjects: list[SubjectRow] = field(default_factory=list)
    subjects_total: SubjectRow | None = None
    delivery: list[DeliveryRow] = field(default_factory=list)
    delivery_total: DeliveryRow | None = None
    flow: list[FlowSummary] = field(default_factory=list)
    flow_total: FlowSummary | None = None
    top: list[TopResource] = field(default_factory=list)
    activity: list[ActivityRow] = field(default_factory=list)
    activity_total: ActivityRow | None = None
    hours: list[HoursRow] = field(default_factory=list)
    hours_total: HoursRow | None = None
    hours_targets: HoursTargets | None = None
    visits: list[VisitRow] = field(default_factory=list)
    visits_total: VisitRow | None = None
    exchange: list = field(default_factory=list)
    exchange_total: object = None
    computed_at: datetime | None = None


def build(viewer, scope: Scope) -> Dashboard:
    """Every figure of the dashboard: a fixed number of grouped queries, the scope's figures
    cached (``cache.py``) and the viewer's own (the top resources they may see) always fresh."""
    key = ("dashboard", scope.county_id, tuple(c.id for c in scope.counties), scope.school_year, scope.semester,
           scope.today)
    board = cache.cached(key, lambda: compute(scope))
    board = replace(board, scope=scope)
    board.top = top_resources(viewer, scope)
    return board


def compute(scope: Scope) -> Dashboard:
    """The figures that depend only on the scope (county, period, day)."""
    board = Dashboard(scope, computed_at=utcnow())
    board.coverage, board.coverage_total = coverage(scope)
    board.quota = quota_figure(scope)
    board.quota_total = total_of(board.quota, QuotaRow)
    board.subjects = sessions_by_subject(scope)
    board.subjects_total = total_of(board.subjects, SubjectRow)
    board.delivery = delivery_by_county(scope)
    board.delivery_total = total_of(board.delivery, DeliveryRow)
    board.flow = flow_by_county(scope)
    board.flow_total = total_of(board.flow, FlowSummary)
    board.activity, board.activity_total = activity_by_county(scope)
    board.hours_targets = hours_targets(scope)
    board.hours = hours_by_county(scope, board.hours_targets)
    board.hours_total = total_of(board.hours, HoursRow)
    board.visits = visits_by_county(scope, {row.id: row.schools.total for row in board.coverage})
    board.visits_total = total_of(board.visits, VisitRow)
    board.exchange = exchange_ratios(scope.county_id, scope.day)
    board.exchange = [row for row in board.exchange if any(c.id == row.id for c in scope.counties)]
    board.exchange_total = total_ratio(board.exchange, "")
    return board


# Chart colours that say what a status means (the default palette would paint "at risk" calm blue).
GREEN, LIGHT_GREEN, AMBER, RED, GREY, BLUE = "#12805c", "#7bc47f", "#e0a100", "#d92d20", "#98a2b3", "#3b6fd8"


def chart_data(board: Dashboard, labels: dict) -> dict:
    """The figures the charts draw (``static/src/supervision/dashboard.js``), as plain JSON."""
    def names(rows):
        return [row.name for row in rows]

    cov = board.coverage
    return {
        "coverage": {
            "categories": names(cov),
            "unit": "%",
            "series": [
                {"name": labels["teachers"], "data": [r.teachers.percent for r in cov]},
                {"name": labels["principals"], "data": [r.principals.percent for r in cov]},
                {"name": labels["schools"], "data": [r.schools.percent for r in cov]},
            ],
        },
        "quota": {
            "categories": names(board.quota),
            "stack": True,
            "colors": [GREEN, LIGHT_GREEN, AMBER, RED],
            "series": [{"name": labels[s], "data": [getattr(r, s) for r in board.quota]} for s in QUOTA_STATUSES],
        },
        "sessions": {
            "categories": [labels["subject:" + (r.id or "")] for r in board.subjects],
            "stack": True,
            "colors": [GREEN, AMBER, GREY, BLUE],
            "series": [{"name": labels["session:" + s], "data": [getattr(r, s) for r in board.subjects]}
                       for s in ("done", "missing", "cancelled", "upcoming")],
        },
        "delivery": {
            "categories": names(board.delivery),
            "unit": "%",
            "series": [{"name": labels["kaiqi"], "data": [r.percent for r in board.delivery]}],
        },
        "flow": {
            "categories": names(board.flow),
            "series": [{"name": labels["rural_downloads"], "data": [r.rural_downloads for r in board.flow]},
                       {"name": labels["rural_uses"], "data": [r.rural_uses for r in board.flow]}],
        },
        "hours": {
            "categories": names(board.hours),
            "series": [{"name": labels["hours_average"], "data": [r.average_cycle for r in board.hours]}],
            "target": board.hours_targets.expected if board.hours_targets else None,
            "target_name": labels["hours_expected"],
        },
        "exchange": {
            "categories": names(board.exchange),
            "unit": "%",
            "series": [{"name": labels["exchange"], "data": [r.percent for r in board.exchange]}],
            "target": board.exchange_total.ratio_target if board.exchange_total else None,
            "target_name": labels["exchange_target"],
        },
    }
