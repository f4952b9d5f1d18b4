"""The yearly health of partnerships (督导): per partnership and school year, its log entries by
kind, the people exchanged, researchers' visits to its schools, whether goals were written,
and a simple status.

A school year runs from 1 September to 31 August and is named by the year it starts. A
partnership is "inactive" when it has been running for the last 90 days (up to today, or the
end of a past year) without a log entry; "no goals" when nobody wrote goals for the year.
Everything is a grouped query over the page's partnerships: a fixed number of statements
whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, and_, exists, func, or_, select, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..org.models import School
from .models import (
    PairingActivity,
    Partnership,
    PartnershipGoal,
    PartnershipSchool,
    SchoolVisit,
    TeacherExchange,
)
from .permissions import scope_partnerships

QUIET_DAYS = 90
PROBLEMS = ("inactive", "no_goals")


def year_bounds(school_year: int) -> tuple[date, date]:
    """1 September of ``school_year`` to 31 August of the next."""
    return date(school_year, 9, 1), date(school_year + 1, 8, 31)


@dataclass
class Health:
    partnership: Partnership
    lead_name: str
    members: int
    has_goals: bool
    last_entry: date | None
    problems: list[str]
    activities: dict[str, int] = field(default_factory=dict)  # kind -> entries that year
    people_exchanged: int = 0
    visits: int = 0

    @property
    def entries(self) -> int:
        return sum(self.activities.values())


class HealthQuery:
    """The partnerships a viewer sees for a school year, with the conditions behind the status."""

    def __init__(self, user, school_year: int, today: date, *, county_id: int | None = None,
                 kind: str | None = None, only_problems: bool = False):
        self.school_year = school_year
        self.start, self.end = year_bounds(school_year)
        # Activity is judged up to today, or up to the end of a year that is over.
        self.reference = min(today, self.end)
        self.quiet_since = self.reference - timedelta(days=QUIET_DAYS)
        self.user, self.county_id, self.kind, self.only_problems = user, county_id, kind, only_problems

    # --- the conditions, as SQL expressions on Partnership ---

    def _has_goals(self):
        return exists().where(PartnershipGoal.partnership_id == Partnership.id,
                              PartnershipGoal.school_year == self.school_year)

    def _inactive(self):
        """Running for the whole of the last QUIET_DAYS days, with no log entry in them."""
        recent = exists().where(PairingActivity.partnership_id == Partnership.id,
                                PairingActivity.happened_on > self.quiet_since,
                                PairingActivity.happened_on <= self.reference)
        return and_(
            Partnership.start_date <= self.quiet_since,
            or_(Partnership.end_date.is_(None), Partnership.end_date >= self.reference),
            ~recent,
        )

    def _scoped(self, stmt: Select) -> Select:
        stmt = stmt.where(Partnership.start_date <= self.end,
                          or_(Partnership.end_date.is_(None), Partnership.end_date >= self.start))
        stmt = scope_partnerships(self.user, stmt)
        if self.county_id is not None:
            member, school = aliased(PartnershipSchool), aliased(School)
            reaches = exists().where(member.partnership_id == Partnership.id, school.id == member.school_id,
                                     school.county_id == self.county_id)
            stmt = stmt.where(or_(Partnership.county_id == self.county_id, reaches))
        if self.kind:
            stmt = stmt.where(Partnership.kind == self.kind)
        if self.only_problems:
            stmt = stmt.where(or_(~self._has_goals(), self._inactive()))
        return stmt

    def ids(self) -> Select:
        """The partnerships' ids, as a subquery for the grouped counts (the export's case)."""
        # Never correlated: it is used inside queries that select from partnerships themselves.
        return self._scoped(select(Partnership.id)).correlate(None)

    def statement(self) -> Select:
        """Rows of (partnership, lead school's name, members, has goals, inactive, last entry)."""
        lead = aliased(School)  # aliased: scope_partnerships correlates a plain School to its own subquery
        members = (
            select(func.count(PartnershipSchool.id)).where(PartnershipSchool.partnership_id == Partnership.id)
            .correlate(Partnership).scalar_subquery()
        )
        last_entry = (
            select(func.max(PairingActivity.happened_on))
            .where(PairingActivity.partnership_id == Partnership.id, PairingActivity.happened_on <= self.reference)
            .correlate(Partnership).scalar_subquery()
        )
        stmt = (
            select(Partnership, lead.name, members, self._has_goals(), self._inactive(), last_entry)
            .join(lead, lead.id == Partnership.lead_school_id)
            .order_by(lead.name, Partnership.name, Partnership.id)
        )
        return self._scoped(stmt)

    def rows(self, raw_rows, ids=None) -> list[Health]:
        """Health rows for the page's raw rows; ``ids``: a subquery standing for all of them."""
        result: dict[int, Health] = {}
        for partnership, lead_name, members, has_goals, inactive, last_entry in raw_rows:
            problems = [p for p, on in (("inactive", inactive), ("no_goals", not has_goals)) if on]
            result[partnership.id] = Health(partnership, lead_name, members or 0, bool(has_goals), last_entry,
                                            problems)
        if not result:
            return []
        if ids is None:
            ids = list(result)
        for pid, kind, n in db.session.execute(
            select(PairingActivity.partnership_id, PairingActivity.kind, func.count())
            .where(PairingActivity.partnership_id.in_(ids), PairingActivity.happened_on.between(self.start, self.end))
            .group_by(PairingActivity.partnership_id, PairingActivity.kind)
        ):
            if pid in result:
                result[pid].activities[kind] = n
        for pid, n in db.session.execute(
            select(TeacherExchange.partnership_id, func.count(func.distinct(TeacherExchange.user_id)))
            .where(TeacherExchange.partnership_id.in_(ids), TeacherExchange.start_date <= self.end,
                   or_(TeacherExchange.end_date.is_(None), TeacherExchange.end_date >= self.start))
            .group_by(TeacherExchange.partnership_id)
        ):
            if pid in result:
                result[pid].people_exchanged = n
        schools = union_all(
            select(Partnership.id.label("pid"), Partnership.lead_school_id.label("school_id"))
            .where(Partnership.id.in_(ids)),
            select(PartnershipSchool.partnership_id, PartnershipSchool.school_id)
            .where(PartnershipSchool.partnership_id.in_(ids)),
        ).subquery()
        for pid, n in db.session.execute(
            select(schools.c.pid, func.count(SchoolVisit.id))
            .join(SchoolVisit, SchoolVisit.school_id == schools.c.school_id)
            .where(SchoolVisit.visited_on.between(self.start, self.end))
            .group_by(schools.c.pid)
        ):
            if pid in result:
                result[pid].visits = n
        return list(result.values())

