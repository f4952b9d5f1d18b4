"""Coverage (覆盖率): how many rural teachers and principals belong to a community of their kind,
and how many rural schools are paired with an urban school.

A rural teacher is an active account with the role teacher at an active township school,
village school or teaching point; they are covered by an active membership of an active
名师+ (teacher) community. Rural principals likewise, with 名校长+ (principal) communities.
Every count is a grouped query with an EXISTS subquery: a fixed number of statements
whatever the size of the city. Which rural schools are paired is the partnerships' own rule
(``portal.partnerships.services.paired_school_ids``), computed once per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

from flask import g, has_request_context
from sqlalchemy import Select, case, func, or_, select

from ..accounts.models import User
from ..communities.models import Community, Membership
from ..communities.permissions import can_view_coverage
from ..core import cache
from ..core.errors import NotAllowed, NotFound
from ..core.i18n import lazy_gettext as _l
from ..core.timeutil import local_today
from ..extensions import db
from ..org.models import RURAL_KINDS, County, School
from ..partnerships.models import Partnership, PartnershipSchool
from ..partnerships.services import active_filter, paired_school_ids

# The role a person has and the kind of community that covers them happen to share names.
GAP_ROLES = ("teacher", "principal")
# The gap lists of the coverage page: people of each role, and rural schools with no urban partner.
GAP_LISTS = (*GAP_ROLES, "school")


@dataclass
class Block:
    total: int = 0
    done: int = 0  # covered people, or paired schools

    @property
    def percent(self) -> int:
        """Whole percent, rounded down so 99.6% never reads as complete."""
        return self.done * 100 // self.total if self.total else 0

    @property
    def missing(self) -> int:
        return self.total - self.done


@dataclass
class CountyCoverage:
    id: int | None
    name: str
    teachers: Block = field(default_factory=Block)
    principals: Block = field(default_factory=Block)
    schools: Block = field(default_factory=Block)

    def copy(self) -> CountyCoverage:
        """A copy a caller may change without touching the kept figures (deepcopy took 2 ms a page)."""
        return CountyCoverage(self.id, self.name, replace(self.teachers), replace(self.principals),
                              replace(self.schools))

    def as_json(self) -> dict:
        return {
            "rural_teachers": {"total": self.teachers.total, "covered": self.teachers.done},
            "rural_principals": {"total": self.principals.total, "covered": self.principals.done},
            "rural_schools": {"total": self.schools.total, "paired": self.schools.done},
        }


def scoped_county(user, county_id: int | None) -> County | None:
    """The county the caller asked for, or is limited to. None: the whole city.
    Unknown county: NotFound; another county than the caller's own: NotAllowed."""
    if not can_view_coverage(user):
        raise NotAllowed(_l("Coverage is for the bureau and teaching researchers."))
    if county_id is None:
        county_id = user.county_id
        if county_id is None:
            return None
    county = db.session.get(County, county_id)
    if county is None:
        raise NotFound(_l("There is no county with this id."), field="county")
    if user.county_id is not None and county.id != user.county_id:
        raise NotAllowed(_l("You can only see the coverage of your own county."), field="county")
    return county


class CountyChoice(NamedTuple):
    id: int
    name: str


_ALL_COUNTIES = select(County.id, County.name).order_by(County.name)  # built once: every supervision page asks


def visible_counties(user) -> list[CountyChoice]:
    """The counties the caller may choose from in the filter, as (id, name): the pages show no more
    (loading the city's counties as ORM objects took 0.2 ms). A county's own staff: their county,
    which ``scoped_county`` has usually loaded already (no second query)."""
    if user.county_id is not None:
        county = db.session.get(County, user.county_id)
        return [CountyChoice(county.id, county.name)] if county is not None else []
    return [CountyChoice(*row) for row in db.session.execute(_ALL_COUNTIES)]


def _covered():
    """EXISTS: the user (of the outer query) is an active member of an active community of their kind."""
    return (
        select(Membership.id)
        .join(Community, Community.id == Membership.community_id)
        .where(
            Membership.user_id == User.id,
            Membership.status == "active",
            Community.is_active.is_(True),
            Community.kind == User.role,
        )
        .exists()
    )


def _rural_people(stmt: Select, county_id: int | None, roles=GAP_ROLES) -> Select:
    stmt = stmt.where(
        User.active.is_(True),
        User.role.in_(roles),
        School.is_active.is_(True),
        School.kind.in_(RURAL_KINDS),
    )
    if county_id is not None:
        stmt = stmt.where(School.county_id == county_id)
    return stmt


def paired_today() -> frozenset[int]:
    """The rural schools paired today, once per request (the API and the page ask twice)."""
    if not has_request_context():
        return paired_school_ids(local_today())
    if "paired_school_ids" not in g:
        g.paired_school_ids = paired_school_ids(local_today())
    return g.paired_school_ids


def paired_rural_schools(county_ids: list[int]) -> dict[int, int]:
    """Active rural schools in an active urban-rural pairing (结对帮扶), per county: directly,
    or through the lead school of their group, cluster or central school (one rule, in
    ``paired_school_ids``). One query for the rural schools, counted in memory."""
    counts = {county_id: 0 for county_id in county_ids}
    paired = paired_today()
    if not paired or not county_ids:
        return counts
    for school_id, county_id in db.session.execute(
        select(School.id, School.county_id).where(
            School.is_active.is_(True), School.kind.in_(RURAL_KINDS), School.county_id.in_(county_ids)
        )
    ):
        if school_id in paired:
            counts[county_id] += 1
    return counts


def coverage_by_county(counties: list[CountyChoice], county_id: int | None = None) -> list[CountyCoverage]:
    """One row per county (limited to ``county_id`` when given), in the order given. Kept in the
    figures' cache: the city's count reads every rural teacher's memberships (30 ms)."""
    key = ("coverage", tuple((c.id, c.name) for c in counties), county_id, local_today())
    return [row.copy() for row in cache.cached(key, lambda: _coverage_by_county(counties, county_id))]


def _coverage_by_county(counties: list[CountyChoice], county_id: int | None) -> list[CountyCoverage]:
    rows = {c.id: CountyCoverage(c.id, c.name) for c in counties if county_id is None or c.id == county_id}
    people = _rural_people(
        select(School.county_id, User.role, func.count(), func.count(case((_covered(), 1))))
        .select_from(User)
        .join(School, School.id == User.school_id),
        county_id,
    ).group_by(School.county_id, User.role)
    for cid, role, total, covered in db.session.execute(people):
        if cid in rows:
            block = rows[cid].teachers if role == "teacher" else rows[cid].principals
            block.total, block.done = total, covered
    schools = select(School.county_id, func.count()).where(
        School.is_active.is_(True), School.kind.in_(RURAL_KINDS)
    )
    if county_id is not None:
        schools = schools.where(School.county_id == county_id)
    for cid, total in db.session.execute(schools.group_by(School.county_id)):
        if cid in rows:
            rows[cid].schools.total = total
    for cid, paired in paired_rural_schools(list(rows)).items():
        rows[cid].schools.done = paired
    return list(rows.values())


def sum_coverage(rows: list[CountyCoverage], name: str = "") -> CountyCoverage:
    total = CountyCoverage(None, name)
    for row in rows:
        for attr in ("teachers", "principals", "schools"):
            mine, theirs = getattr(total, attr), getattr(row, attr)
            mine.total += theirs.total
            mine.done += theirs.done
    return total


def gap_statement(role: str, county_id: int | None, *, with_phone: bool = False) -> Select:
    """Rural people of ``role`` in no active community of their kind, by county, school and name."""
    columns = [County.name, School.id, School.name, User.id, User.name, User.username, User.subjects]
    if with_phone:
        columns.append(User.phone)
    stmt = (
        select(*columns)
        .select_from(User)
        .join(School, School.id == User.school_id)
        .join(County, County.id == School.county_id)
        .where(~_covered())
    )
    return _rural_people(stmt, county_id, roles=(role,)).order_by(County.name, School.name, User.name, User.id)


def _in_a_partnership(day: date):
    """EXISTS: the school (of the outer query) leads or belongs to a partnership active on ``day``."""
    as_member = (
        select(PartnershipSchool.id)
        .join(Partnership, Partnership.id == PartnershipSchool.partnership_id)
        .where(PartnershipSchool.school_id == School.id, active_filter(day))
        .exists()
    )
    as_lead = select(Partnership.id).where(Partnership.lead_school_id == School.id, active_filter(day)).exists()
    return or_(as_member, as_lead)


def unpaired_schools_statement(county_id: int | None, paired: set[int], day: date) -> Select:
    """Active rural schools with no urban partner, by county and name: county name, school id,
    name, kind, stage, weak flag, students, and whether the school is in any partnership at all
    (a rural-only cluster whose centre is not paired, say)."""
    stmt = (
        select(County.name, School.id, School.name, School.kind, School.stage, School.is_weak,
               School.student_count, _in_a_partnership(day).label("in_partnership"))
        .select_from(School)
        .join(County, County.id == School.county_id)
        .where(School.is_active.is_(True), School.kind.in_(RURAL_KINDS))
        .order_by(County.name, School.name, School.id)
    )
    if paired:
        stmt = stmt.where(School.id.not_in(paired))
    if county_id is not None:
        stmt = stmt.where(School.county_id == county_id)
    return stmt
