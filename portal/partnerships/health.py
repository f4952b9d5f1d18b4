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

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import (
    Date,
    Row,
    Select,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from ..core import cache
from ..core.pagination import Page, page_args
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
# Aliased once: scope_partnerships correlates a plain School to its own subquery, and a new alias
# per request costs a millisecond adapting its columns the first time they are used.
_LEAD = aliased(School)
_MEMBER, _MEMBER_SCHOOL = aliased(PartnershipSchool), aliased(School)
PROBLEMS = ("inactive", "no_goals")


def year_bounds(school_year: int) -> tuple[date, date]:
    """1 September of ``school_year`` to 31 August of the next."""
    return date(school_year, 9, 1), date(school_year + 1, 8, 31)


@dataclass
class Health:
    partnership: Row  # id, name, kind, start_date, end_date
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


# HealthQuery.page_statements: statements (not results) by viewer, filters and day.
_PAGE_STATEMENTS: dict[tuple, tuple[Select, Select]] = {}
_MAX_PAGE_STATEMENTS = 256


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

    def _scoped(self, stmt: Select) -> Select:
        stmt = stmt.where(Partnership.start_date <= self.end,
                          or_(Partnership.end_date.is_(None), Partnership.end_date >= self.start))
        stmt = scope_partnerships(self.user, stmt)
        if self.county_id is not None:
            member, school = _MEMBER, _MEMBER_SCHOOL
            reaches = exists().where(member.partnership_id == Partnership.id, school.id == member.school_id,
                                     school.county_id == self.county_id)
            stmt = stmt.where(or_(Partnership.county_id == self.county_id, reaches))
        if self.kind:
            stmt = stmt.where(Partnership.kind == self.kind)
        if self.only_problems:
            stmt = stmt.where(or_(~_has_goals(self.school_year), _inactive(self.quiet_since, self.reference)))
        return stmt

    def ids(self) -> Select:
        """The partnerships' ids, as a subquery for the grouped counts (the export's case)."""
        # Never correlated: it is used inside queries that select from partnerships themselves.
        return self._scoped(select(Partnership.id)).correlate(None)

    def statement(self) -> Select:
        """Rows of (partnership's id, name, kind, start and end dates, lead school's name, members,
        has goals, inactive, last entry): columns, not the ORM object, for a list."""
        return self._scoped(_listed(self.school_year, self.quiet_since, self.reference))

    def order(self) -> Select:
        """The ids of ``statement``'s rows, in its order."""
        return self._scoped(select(Partnership.id).join(_LEAD, _LEAD.id == Partnership.lead_school_id)
                            .order_by(*_ORDER))

    def count(self) -> Select:
        """How many rows ``statement`` has. Without its per-row subqueries, and without its join to
        the lead school: every partnership has one (a NOT NULL foreign key), and the join made
        the count six times slower."""
        return self._scoped(select(func.count(Partnership.id)))

    def page_statements(self) -> tuple[Select, Select]:
        """``statement`` for one page (``limit`` and ``offset`` bound) and ``count``, built once per
        viewer, filters and day and then reused: building them cost more than running them. The
        key names everything they are built from: the viewer's scope, the year, the day, the filters."""
        user = self.user
        key = (user.id, user.role, user.county_id, user.school_id, self.school_year, self.reference,
               self.county_id, self.kind, self.only_problems)
        found = _PAGE_STATEMENTS.get(key)
        if found is None:
            found = (self.statement().limit(bindparam("limit")).offset(bindparam("offset")), self.count())
            if len(_PAGE_STATEMENTS) >= _MAX_PAGE_STATEMENTS:
                _PAGE_STATEMENTS.clear()
            _PAGE_STATEMENTS[key] = found
        return found

    def page(self, default_per_page: int) -> Page:
        """The page asked for (``page_args``) of Health rows.

        Which partnerships are on it and how many there are in all follow from the partnerships,
        their schools and the viewer's scope, which the figures cache (core/cache.py) watches: kept
        there like the dashboard's lists (ordering the city's 1,500 partnerships by lead school and
        reading their rows was 1.5 ms), and the page's own rows read by id. Its log entries and goals
        are not watched: read on every request, and with "only problems", which filters on them, the
        whole page is."""
        if self.only_problems:
            number, per_page = page_args(default_per_page)
            stmt, count = self.page_statements()
            total = db.session.execute(count).scalar_one()
            raw = db.session.execute(stmt, {"limit": per_page, "offset": (number - 1) * per_page})
            return Page(items=self.rows(raw), total=total, page=number, per_page=per_page)
        user = self.user
        key = ("partnership-health", user.id, user.role, user.county_id, user.school_id, self.school_year,
               self.county_id, self.kind)
        total = cache.cached((*key, "count"), lambda: db.session.execute(self.count()).scalar_one())
        page = cache.cached_page(key, self.order, default_per_page, total=total)
        if not page.items:
            return page
        raw = db.session.execute(_PAGE_ROWS, {"ids": [pid for pid, in page.items], "school_year": self.school_year,
                                              "quiet_since": self.quiet_since, "reference": self.reference})
        return replace(page, items=self.rows(raw))

    def rows(self, raw_rows, ids=None) -> list[Health]:
        """Health rows for the page's raw rows; ``ids``: a subquery standing for all of them."""
        result: dict[int, Health] = {}
        width = len(PARTNERSHIP_COLUMNS)
        for row in raw_rows:
            lead_name, members, has_goals, inactive, last_entry = row[width:]
            problems = [p for p, on in (("inactive", inactive), ("no_goals", not has_goals)) if on]
            result[row[0]] = Health(row, lead_name, members or 0, bool(has_goals), last_entry, problems)
        if not result:
            return []
        if ids is None:
            # A page's partnerships: the statements built once, the ids bound (building them cost more).
            params = {"ids": list(result), "start": self.start, "end": self.end}
            rows = {"activity": [], "exchanged": [], "visits": []}
            for what, pid, kind, n in db.session.execute(_PAGE_COUNTS, params):
                rows[what].append((pid, kind, n) if what == "activity" else (pid, n))
            self._add_counts(result, rows["activity"], rows["exchanged"], rows["visits"])
            return list(result.values())
        params = {"start": self.start, "end": self.end}
        self._add_counts(result, *(db.session.execute(stmt, params) for stmt in _counts(ids)))
        return list(result.values())

    @staticmethod
    def _add_counts(result: dict[int, Health], activities, exchanged, visits) -> None:
        for pid, kind, n in activities:
            if pid in result:
                result[pid].activities[kind] = n
        for pid, n in exchanged:
            if pid in result:
                result[pid].people_exchanged = n
        for pid, n in visits:
            if pid in result:
                result[pid].visits = n


PARTNERSHIP_COLUMNS = (Partnership.id, Partnership.name, Partnership.kind, Partnership.start_date,
                       Partnership.end_date)
_ORDER = (_LEAD.name, Partnership.name, Partnership.id)


# --- the conditions, as SQL expressions on Partnership: of given values, or of bind parameters ---


def _has_goals(school_year):
    return exists().where(PartnershipGoal.partnership_id == Partnership.id, PartnershipGoal.school_year == school_year)


def _inactive(quiet_since, reference):
    """Running for the whole of the last QUIET_DAYS days, with no log entry in them."""
    recent = exists().where(PairingActivity.partnership_id == Partnership.id,
                            PairingActivity.happened_on > quiet_since, PairingActivity.happened_on <= reference)
    return and_(
        Partnership.start_date <= quiet_since,
        or_(Partnership.end_date.is_(None), Partnership.end_date >= reference),
        ~recent,
    )


def _listed(school_year, quiet_since, reference) -> Select:
    """``HealthQuery.statement`` before its scope and filters."""
    members = (
        select(func.count(PartnershipSchool.id)).where(PartnershipSchool.partnership_id == Partnership.id)
        .correlate(Partnership).scalar_subquery()
    )
    last_entry = (
        select(func.max(PairingActivity.happened_on))
        .where(PairingActivity.partnership_id == Partnership.id, PairingActivity.happened_on <= reference)
        .correlate(Partnership).scalar_subquery()
    )
    return (
        select(*PARTNERSHIP_COLUMNS, _LEAD.name, members, _has_goals(school_year),
               _inactive(quiet_since, reference), last_entry)
        .join(_LEAD, _LEAD.id == Partnership.lead_school_id)
        .order_by(*_ORDER)
    )


def _counts(ids) -> tuple[Select, Select, Select]:
    """Per partnership of ``ids`` (a list or a subquery) and the school year bound as ``start`` and
    ``end``: log entries by kind, people exchanged, researchers' visits to its schools."""
    start, end = bindparam("start"), bindparam("end")
    activities = (
        select(PairingActivity.partnership_id, PairingActivity.kind, func.count())
        .where(PairingActivity.partnership_id.in_(ids), PairingActivity.happened_on.between(start, end))
        .group_by(PairingActivity.partnership_id, PairingActivity.kind)
    )
    exchanged = (
        select(TeacherExchange.partnership_id, func.count(func.distinct(TeacherExchange.user_id)))
        .where(TeacherExchange.partnership_id.in_(ids), TeacherExchange.start_date <= end,
               or_(TeacherExchange.end_date.is_(None), TeacherExchange.end_date >= start))
        .group_by(TeacherExchange.partnership_id)
    )
    schools = union_all(
        select(Partnership.id.label("pid"), Partnership.lead_school_id.label("school_id"))
        .where(Partnership.id.in_(ids)),
        select(PartnershipSchool.partnership_id, PartnershipSchool.school_id)
        .where(PartnershipSchool.partnership_id.in_(ids)),
    ).subquery()
    visits = (
        select(schools.c.pid, func.count(SchoolVisit.id))
        .join(SchoolVisit, SchoolVisit.school_id == schools.c.school_id)
        .where(SchoolVisit.visited_on.between(start, end))
        .group_by(schools.c.pid)
    )
    return activities, exchanged, visits


def _page_counts() -> Select:
    """``_counts`` for a page's partnerships (bound as the expanding list ``ids``) as one statement:
    rows of (which count, partnership id, kind of entry or NULL, number)."""
    activities, exchanged, visits = _counts(bindparam("ids", expanding=True))
    no_kind = cast(null(), PairingActivity.kind.type)
    return union_all(
        activities.with_only_columns(literal_column("'activity'"), *activities.selected_columns),
        exchanged.with_only_columns(literal_column("'exchanged'"), exchanged.selected_columns[0], no_kind,
                                    exchanged.selected_columns[1]),
        visits.with_only_columns(literal_column("'visits'"), visits.selected_columns[0], no_kind,
                                 visits.selected_columns[1]),
    )


# Built once: only the page's ids, the year's start and end change.
_PAGE_COUNTS = _page_counts()
# The rows of a page whose partnerships are known (``HealthQuery.page``): built once, the ids, year and days bound.
_PAGE_ROWS = _listed(bindparam("school_year"), bindparam("quiet_since", type_=Date),
                     bindparam("reference", type_=Date)).where(Partnership.id.in_(bindparam("ids", expanding=True)))

