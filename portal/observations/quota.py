"""The observation quota engine: which rule covers a person, what counts, and pacing.

Policy (SPEC §6, research §4.3): every principal observes at least 35 class periods a school
year; other jurisdictions set other numbers per semester and per role. Rules are rows of
``QuotaRule`` (quota_models.py). When the bureau has stored no active rule for principals,
the built-in default below applies (35 periods per school year, every kind of observation,
no cap per record), so a principal is never left without the documented requirement.

Which rule: a person's county (their school's, or their own for researchers) with an active
rule for their role overrides the city-wide rule (``county_id`` NULL). No rule: status "none".

Periods (calendar boundaries, so that every observation date belongs to exactly one period):
- "school_year": 1 September to 31 August (``core.timeutil.school_year_of``).
- "semester": autumn from 1 September to the day before the spring term starts (the spring
  ``Term`` of that school year; 1 February when the bureau has not entered it), spring from
  then to 31 August. Observations in the holidays count for the period they fall in.

What counts: observations with status "final", observed_on inside the period, of a kind the
rule lists (every kind when the list is empty), each record counting its ``periods`` capped at
``max_periods_per_record``. Drafts never count.

Pacing: teaching days are Monday–Friday inside the terms of the period (the bureau's ``Term``
rows; where a semester has no Term, 1 Sep–20 Jan and 20 Feb–10 Jul), minus the holidays of the
school calendar (``scheduling.CalendarDay`` city-wide or of the person's county), plus its
make-up working days (调休). Teaching weeks are teaching days / 5, so
    expected = floor(required × teaching days elapsed (up to and including `on`) / teaching days in the period)
Status:
- on_track: done ≥ expected (or done ≥ required);
- at_risk: done < expected − margin, where margin = ceil(required × QUOTA_RISK_MARGIN_PERCENT / 100)
  (default 10 %: 4 periods of 35), or the rest cannot be done at the most a person can
  realistically observe, QUOTA_MAX_PERIODS_PER_WEEK (default 5, one a teaching day), in the
  teaching days left; once the period's teaching days are over, anything short is at risk;
- behind: the rest of done < expected.
The same arithmetic runs in Python (``progress_for``) and in SQL (``behind_statement``) so a
list of 3,000 principals is one grouped query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, cached_property
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, and_, bindparam, case, false, func, literal, or_, select
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..core.authz import PRINCIPAL
from ..core.i18n import lazy_gettext as _l
from ..core.models import plain_rows
from ..core.timeutil import local_today, school_year_of
from ..extensions import db
from ..org.models import County, School, Term
from .models import Observation
from .quota_models import QUOTA_PERIODS, QUOTA_ROLES, QuotaRule

__all__ = ["QuotaRule", "Progress", "RuleTerms", "progress_for", "progress_under", "rule_for", "rule_of",
           "default_rule", "behind_statement", "QUOTA_ROLES", "QUOTA_PERIODS", "STATUSES"]

DEFAULT_REQUIRED = 35
STATUSES = ("on_track", "behind", "at_risk", "none")
# Status filters of the lists: one status, or everyone not on track.
STATUS_FILTERS = ("on_track", "behind", "at_risk", "not_on_track")
# Where a semester has no Term row: (month, day) of its usual first and last day of lessons.
DEFAULT_TERMS = {"autumn": ((9, 1), (1, 20)), "spring": ((2, 20), (7, 10))}
CITY = 0  # the "county" of city-level staff (no school, no county) in the SQL targets


def default_rule() -> QuotaRule:
    """The documented policy: principals, 35 periods per school year, every kind counts."""
    return QuotaRule(id=None, name=str(_l("Principals: 35 periods a school year (default)")), county_id=None,
                     role=PRINCIPAL, period="school_year", required=DEFAULT_REQUIRED, kinds=[],
                     max_periods_per_record=None, active=True)


def risk_margin_percent() -> int:
    return int(current_app.config.get("QUOTA_RISK_MARGIN_PERCENT", 10))


def max_periods_per_week() -> int:
    return int(current_app.config.get("QUOTA_MAX_PERIODS_PER_WEEK", 5))


# --- rules ---------------------------------------------------------------------------------------


@cache
def _active_rules_stmt(of_counties: bool):
    """Built once (asked on every principal's and teacher's home page), bound per request."""
    stmt = select(QuotaRule).where(QuotaRule.role == bindparam("role"), QuotaRule.active.is_(True))
    if of_counties:  # an empty list matches no county (SQLAlchemy writes an always-false IN)
        stmt = stmt.where(or_(QuotaRule.county_id.is_(None),
                              QuotaRule.county_id.in_(bindparam("county_ids", expanding=True))))
    return stmt.order_by(QuotaRule.id)


def active_rules(role: str, county_ids=None) -> list[QuotaRule]:
    """Active rules for a role: city-wide ones and those of the counties given (all when None)."""
    params = {"role": role}
    if county_ids is not None:
        params["county_ids"] = [c for c in county_ids if c is not None]
    return list(db.session.execute(_active_rules_stmt(county_ids is not None), params).scalars())


def pick_rule(rules: list[QuotaRule] | list[RuleTerms], role: str, county_id: int | None,
              default: QuotaRule | RuleTerms | None = None) -> QuotaRule | RuleTerms | None:
    """From active rules of one role: the county's, else the city's, else the built-in default
    (``default`` when given, so that a list shares one default object)."""
    county_rule = next((r for r in rules if county_id is not None and r.county_id == county_id), None)
    if county_rule is not None:
        return county_rule
    city_rule = next((r for r in rules if r.county_id is None), None)
    if city_rule is not None:
        return city_rule
    if role != PRINCIPAL:
        return None
    return default if default is not None else default_rule()


class RuleTerms(NamedTuple):
    """What a person's progress reads of the rule that covers them (``rule_for``): the columns of a
    ``QuotaRule`` row, or the built-in default's (``id`` None)."""

    id: int | None
    county_id: int | None
    period: str
    required: int
    kinds: Sequence[str]  # empty: every kind counts
    max_periods_per_record: int | None

    @property
    def is_builtin(self) -> bool:
        return self.id is None


BUILTIN_TERMS = RuleTerms(None, None, "school_year", DEFAULT_REQUIRED, (), None)  # as ``default_rule``

# A person's rule is looked up on the home page of every principal and of anyone a rule could
# cover: built once, bound per request, read as plain rows of the session's connection (loading
# rule objects was half of the home page's progress panel).
_RULES_OF_COUNTY = (
    select(QuotaRule.id, QuotaRule.county_id, QuotaRule.period, QuotaRule.required, QuotaRule.kinds,
           QuotaRule.max_periods_per_record)
    .where(QuotaRule.role == bindparam("role"), QuotaRule.active.is_(True),
           or_(QuotaRule.county_id.is_(None), QuotaRule.county_id == bindparam("county_id")))
    .order_by(QuotaRule.id)
)


def rule_for(user: User) -> RuleTerms | None:
    """The terms of the rule covering ``user`` (``pick_rule``: their county's, the city's, the
    built-in default for principals), or None."""
    if user is None or user.role not in QUOTA_ROLES:
        return None
    return rule_of(user.role, user.scope_county_id)


def rule_of(role: str, county_id: int | None, any_rule: bool = True) -> RuleTerms | None:
    """``rule_for`` a person of ``role`` whose county (``User.scope_county_id``) is already known.
    ``any_rule=False``: the caller knows no active rule exists for the role (the built-in one, if
    any, applies without asking)."""
    if role not in QUOTA_ROLES:
        return None
    rows = plain_rows(_RULES_OF_COUNTY, {"role": role, "county_id": county_id}).all() if any_rule else []
    return pick_rule([RuleTerms(*row) for row in rows], role, county_id, BUILTIN_TERMS)


# --- the teaching calendar -----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str  # "school_year" or "semester"
    school_year: int
    semester: str | None
    start: date
    end: date


class TeachingCalendar:
    """The terms and school-calendar days of one school year, loaded with two queries and then
    asked about any county and period of that year."""

    def __init__(self, school_year: int):
        from ..scheduling.models import CalendarDay

        self.school_year = school_year
        self.year_start, self.year_end = date(school_year, 9, 1), date(school_year + 1, 8, 31)
        terms = db.session.execute(select(Term).where(Term.school_year == school_year)).scalars()
        self.terms = {t.semester: (t.start_date, t.end_date) for t in terms}
        rows = db.session.execute(
            select(CalendarDay.day, CalendarDay.kind, CalendarDay.county_id)
            .where(CalendarDay.day >= self.year_start, CalendarDay.day <= self.year_end)
        ).all()
        self.special: dict[int | None, dict[date, str]] = {}
        for day, kind, county_id in rows:
            self.special.setdefault(county_id, {})[day] = kind
        self._days: dict[int | None, list[date]] = {}
        self._elapsed: dict[tuple, tuple[int, int]] = {}

    def term_dates(self, semester: str) -> tuple[date, date]:
        if semester in self.terms:
            return self.terms[semester]
        (m1, d1), (m2, d2) = DEFAULT_TERMS[semester]
        y = self.school_year if semester == "autumn" else self.school_year + 1
        return date(y, m1, d1), date(self.school_year + 1, m2, d2)

    def spring_start(self) -> date:
        """Where the autumn semester's period ends: the spring term's first day, else 1 February."""
        if "spring" in self.terms:
            return max(self.terms["spring"][0], date(self.school_year + 1, 1, 1))
        return date(self.school_year + 1, 2, 1)

    def period(self, rule: QuotaRule, on: date) -> Period:
        if rule.period == "semester":
            boundary = self.spring_start()
            if on < boundary:
                return Period("semester", self.school_year, "autumn", self.year_start, boundary - timedelta(days=1))
            return Period("semester", self.school_year, "spring", boundary, self.year_end)
        return Period("school_year", self.school_year, None, self.year_start, self.year_end)

    def teaching_days(self, county_id: int | None) -> list[date]:
        """Sorted teaching days of the whole school year for a county (None: city-wide calendar only)."""
        if county_id in self._days:
            return self._days[county_id]
        special = dict(self.special.get(None, {}))
        if county_id is not None:
            special.update(self.special.get(county_id, {}))  # a county's own day wins over the city's
        days = []
        for semester in ("autumn", "spring"):
            start, end = self.term_dates(semester)
            day = start
            while day <= end:
                kind = special.get(day)
                if kind == "workday" or (kind != "holiday" and day.weekday() < 5):
                    days.append(day)
                day += timedelta(days=1)
        self._days[county_id] = sorted(set(days))
        return self._days[county_id]

    def elapsed(self, period: Period, county_id: int | None, on: date) -> tuple[int, int]:
        """(teaching days of the period up to and including ``on``, teaching days of the period).
        Kept with the calendar: a city's list asks for every county on each page (0.3 ms of it)."""
        key = (period, county_id, on)
        found = self._elapsed.get(key)
        if found is None:
            inside = [d for d in self.teaching_days(county_id) if period.start <= d <= period.end]
            found = self._elapsed[key] = (sum(1 for d in inside if d <= on), len(inside))
        return found


def teaching_calendar(school_year: int) -> TeachingCalendar:
    """The year's calendar, kept between requests like the dashboard's figures (core/cache.py):
    terms and calendar days are watched tables, so changing one drops it. Working out the teaching
    days of every county of a city was a third of a who-is-behind page."""
    from ..core import cache

    return cache.cached(("teaching-calendar", school_year), lambda: TeachingCalendar(school_year))


# --- pacing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """What a rule asks of one county on a day: the numbers the status is decided by."""

    required: int
    expected: int
    risk_floor: int  # done below this: at risk
    elapsed_days: int
    total_days: int


def targets(required: int, elapsed: int, total: int) -> Targets:
    expected = required * elapsed // total if total else 0
    margin = max(1, math.ceil(required * risk_margin_percent() / 100))
    capacity = max_periods_per_week() * (total - elapsed) // 5
    risk_floor = max(expected - margin, required - capacity)
    return Targets(required, expected, risk_floor, elapsed, total)


def status_of(done: int, t: Targets) -> str:
    if done >= t.expected or done >= t.required:
        return "on_track"
    if done < t.risk_floor:
        return "at_risk"
    return "behind"


@dataclass
class Progress:
    required: int
    done: int
    expected: int
    status: str  # on_track | behind | at_risk | none
    period_start: date
    period_end: date
    rule: RuleTerms | None
    period: str = "school_year"
    school_year: int = 0
    semester: str | None = None
    elapsed_days: int = 0
    total_days: int = 0
    on: date | None = None  # the day measured on

    @property
    def percent(self) -> int:
        if not self.required:
            return 0
        return min(100, self.done * 100 // self.required)

    @property
    def expected_percent(self) -> int:
        return min(100, self.expected * 100 // self.required) if self.required else 0

    @property
    def remaining(self) -> int:
        return max(0, self.required - self.done)

    @property
    def shortfall(self) -> int:
        return max(0, self.expected - self.done)

    @property
    def on_track(self) -> bool:
        return self.status in ("on_track", "none")

    @property
    def week(self) -> int:
        """The teaching week we are in (teaching days elapsed / 5, rounded up)."""
        return -(-self.elapsed_days // 5)

    @property
    def weeks(self) -> int:
        return -(-self.total_days // 5)


def counted_periods(rule: QuotaRule):
    """SQL: the periods a final record counts for under the rule (capped per record)."""
    cap = rule.max_periods_per_record
    if cap:
        return case((Observation.periods > cap, cap), else_=Observation.periods)
    return Observation.periods


def counts(rule: QuotaRule, period: Period):
    """SQL: the observation rows the rule counts in the period (besides belonging to the person)."""
    cond = and_(Observation.status == "final", Observation.observed_on >= period.start,
                Observation.observed_on <= period.end)
    if rule.kinds:
        cond = and_(cond, Observation.kind.in_(list(rule.kinds)))
    return cond


@cache
def _periods_done_stmt(cap: int | None, kinds: tuple[str, ...]):
    """The periods one person's final records count from ``start`` to ``end`` under a rule's
    per-record cap and kinds (as ``counted_periods`` and ``counts``; none: every record in full).
    Built once per rule shape (every principal's home page asks), person and dates bound per request."""
    periods = case((Observation.periods > cap, cap), else_=Observation.periods) if cap else Observation.periods
    cond = and_(Observation.observer_id == bindparam("observer_id"), Observation.status == "final",
                Observation.observed_on >= bindparam("start"), Observation.observed_on <= bindparam("end"))
    if kinds:
        cond = and_(cond, Observation.kind.in_(list(kinds)))
    return select(func.coalesce(func.sum(periods), 0)).where(cond)


def progress_for(user: User, on: date | None = None, *, calendar: TeachingCalendar | None = None) -> Progress:
    """A person's progress on ``on`` (default: today, local) under the rule that covers them.
    A handful of queries whatever the number of records."""
    county_id = user.scope_county_id
    return progress_under(rule_of(user.role, county_id), user.id, county_id, on, calendar=calendar)


def progress_under(rule: RuleTerms | None, observer_id: int, county_id: int | None, on: date | None = None, *,
                   calendar: TeachingCalendar | None = None) -> Progress:
    """``progress_for`` a person (id, county) whose rule was already found by ``rule_of``: the
    home page asks for the rule first, to show nothing to those no rule covers, and knows the
    county without loading the person's school."""
    on = on or local_today()
    year = school_year_of(on)
    if rule is None:
        start, end = date(year, 9, 1), date(year + 1, 8, 31)
        done = plain_rows(_periods_done_stmt(None, ()),
                           {"observer_id": observer_id, "start": start, "end": end}).scalar_one()
        return Progress(0, int(done), 0, "none", start, end, None, "school_year", year, on=on)
    if calendar is None or calendar.school_year != year:
        calendar = teaching_calendar(year)
    period = calendar.period(rule, on)
    done = plain_rows(
        _periods_done_stmt(rule.max_periods_per_record, tuple(rule.kinds or ())),
        {"observer_id": observer_id, "start": period.start, "end": period.end},
    ).scalar_one()
    elapsed, total = calendar.elapsed(period, county_id, on)
    t = targets(rule.required, elapsed, total)
    done = int(done)
    return Progress(rule.required, done, t.expected, status_of(done, t), period.start, period.end, rule,
                    period.kind, year, period.semester, elapsed, total, on)


# --- who is behind: one grouped query for a whole list -------------------------------------------


@dataclass
class BehindQuery:
    """The statement of a who-is-behind list and what it was built from (for headings)."""

    build: Callable[[], object]  # makes ``stmt``
    role: str
    on: date
    rules: dict  # county id (CITY for city-level staff) -> QuotaRule
    periods: dict  # county id -> Period
    covered: bool  # some county in scope has a rule for the role

    @cached_property
    def stmt(self):
        """Built when first asked for: a list kept in the figures' cache does not need it, and
        building it (a CASE per rule and county) was a third of such a page's time."""
        return self.build()


_COUNTY_IDS = select(County.id).order_by(County.id)  # built once: every list asks


def behind_statement(role: str, on: date | None = None, *, county_id: int | None = None,
                     school_id: int | None = None, status: str | None = None) -> BehindQuery:
    """Active people of ``role`` under a rule, in one county (or all), one school (or all), with
    rows (user id, name, username, school id, school name, county id, county name, required,
    expected, risk floor, done), sorted by shortfall against the pace, largest first.

    Four small queries (counties, rules, the calendar's terms and days) build the per-county
    targets; the list itself is ONE statement around one aggregate of final observations grouped
    by observer."""
    if role not in QUOTA_ROLES:
        raise ValueError(role)
    on = on or local_today()
    calendar = teaching_calendar(school_year_of(on))
    if county_id is not None:
        county_ids = [county_id]
    else:
        county_ids = list(db.session.execute(_COUNTY_IDS).scalars())
    rules = active_rules(role, county_ids if county_id is not None else None)
    # The built-in rule stands in only where no city-wide rule does (making it: 0.13 ms a list).
    builtin = default_rule() if role == PRINCIPAL and not any(r.county_id is None for r in rules) else None
    by_county: dict[int, QuotaRule] = {}
    for cid in county_ids:
        rule = pick_rule(rules, role, cid, builtin)
        if rule is not None:
            by_county[cid] = rule
    if county_id is None and school_id is None:
        city_rule = pick_rule(rules, role, None, builtin)
        if city_rule is not None:
            by_county[CITY] = city_rule  # city-level staff without a county
    periods = {cid: calendar.period(rule, on) for cid, rule in by_county.items()}
    rows = []
    for cid, rule in by_county.items():
        elapsed, total = calendar.elapsed(periods[cid], None if cid == CITY else cid, on)
        t = targets(rule.required, elapsed, total)
        rows.append((cid, t.required, t.expected, t.risk_floor))

    if not rows:
        return BehindQuery(lambda: select(User.id).where(false()), role, on, by_county, periods, False)
    return BehindQuery(lambda: _behind_stmt(role, county_id, school_id, status, by_county, periods, rows),
                       role, on, by_county, periods, True)


def _behind_stmt(role: str, county_id: int | None, school_id: int | None, status: str | None,
                 by_county: dict, periods: dict, rows: list[tuple]):
    """``behind_statement``'s statement from the rules, periods and targets (cid, required,
    expected, risk floor) of each county listed."""
    # Counties sharing a rule share one branch of the CASE; the window is the union of periods.
    branches: dict[int, tuple[QuotaRule, Period, list[int]]] = {}
    for cid, rule in by_county.items():
        key = id(rule)
        if key not in branches:
            branches[key] = (rule, periods[cid], [])
        branches[key][2].append(cid)
    lo = min(p.start for p in periods.values())
    hi = max(p.end for p in periods.values())

    # The one aggregate: final observations in the window, grouped by observer. Where counties
    # follow different rules, each record counts under its observer's county's rule.
    observer, observer_school = aliased(User), aliased(School)
    agg = (select(Observation.observer_id.label("observer_id"))
           .join(observer, observer.id == Observation.observer_id)
           .where(observer.role == role, Observation.status == "final", Observation.observed_on >= lo,
                  Observation.observed_on <= hi))
    # A county's or a school's list reads only its own people's records (index probes per person),
    # not the whole city's window.
    if school_id is not None:
        agg = agg.where(Observation.observer_id.in_(select(User.id).where(User.role == role,
                                                                          User.school_id == school_id)))
    elif county_id is not None:
        agg = agg.where(Observation.observer_id.in_(
            select(User.id).outerjoin(School, School.id == User.school_id)
            .where(User.role == role, func.coalesce(School.county_id, User.county_id, CITY) == county_id)))
    if len(branches) == 1:  # the usual case: one rule for everyone listed
        rule, period, _cids = next(iter(branches.values()))
        whens = [(counts(rule, period), counted_periods(rule))]
    else:
        agg = agg.outerjoin(observer_school, observer_school.id == observer.school_id)
        observer_county = func.coalesce(observer_school.county_id, observer.county_id, CITY)
        whens = [(and_(observer_county.in_(cids), counts(rule, period)), counted_periods(rule))
                 for rule, period, cids in branches.values()]
    agg = agg.add_columns(func.sum(case(*whens, else_=0)).label("done")).group_by(Observation.observer_id)
    agg = agg.subquery("observed")

    # Per-county targets as CASE lookups on the person's county (a handful of counties).
    county_col = func.coalesce(School.county_id, User.county_id, CITY)

    def per_county(index: int):
        return case({row[0]: literal(row[index], Integer) for row in rows}, value=county_col)

    required, expected, risk_floor = per_county(1), per_county(2), per_county(3)
    done = func.coalesce(agg.c.done, 0)
    stmt = (
        select(User.id, User.name, User.username, School.id.label("school_id"), School.name.label("school_name"),
               County.id.label("county_id"), County.name.label("county_name"), required.label("required"),
               expected.label("expected"), risk_floor.label("risk_floor"), done.label("done"))
        .select_from(User)
        .outerjoin(School, School.id == User.school_id)
        .outerjoin(County, County.id == county_col)
        .outerjoin(agg, agg.c.observer_id == User.id)
        .where(User.role == role, User.active.is_(True), or_(School.id.is_(None), School.is_active.is_(True)),
               county_col.in_(list(by_county)))
        .order_by((expected - done).desc(), County.name, School.name, User.name, User.id)
    )
    if school_id is not None:
        stmt = stmt.where(User.school_id == school_id)
    if status == "on_track":
        stmt = stmt.where(or_(done >= expected, done >= required))
    elif status in ("behind", "at_risk", "not_on_track"):
        stmt = stmt.where(and_(done < expected, done < required))
        if status == "behind":
            stmt = stmt.where(done >= risk_floor)
        elif status == "at_risk":
            stmt = stmt.where(done < risk_floor)
    return stmt


@dataclass
class BehindRow:
    user_id: int
    name: str
    username: str
    school_id: int | None
    school_name: str | None
    county_id: int | None
    county_name: str | None
    required: int
    expected: int
    risk_floor: int
    done: int

    @classmethod
    def of(cls, row) -> BehindRow:
        return cls(*row[:7], int(row[7]), int(row[8]), int(row[9]), int(row[10]))

    @property
    def status(self) -> str:
        return status_of(self.done, Targets(self.required, self.expected, self.risk_floor, 0, 0))

    @property
    def shortfall(self) -> int:
        return max(0, self.expected - self.done)

    @property
    def remaining(self) -> int:
        return max(0, self.required - self.done)

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.required) if self.required else 0


def summary(query: BehindQuery, by: str = "county") -> list[dict]:
    """Per county (or per school): people under the rule and how many are on track, behind,
    at risk. One grouped query over the list's statement."""
    if not query.covered:
        return []
    sub = query.stmt.order_by(None).subquery()
    on_track = or_(sub.c.done >= sub.c.expected, sub.c.done >= sub.c.required)
    at_risk = and_(~on_track, sub.c.done < sub.c.risk_floor)
    key = (sub.c.county_id, sub.c.county_name) if by == "county" else (sub.c.school_id, sub.c.school_name)
    stmt = (
        select(*key, func.count(), func.sum(case((on_track, 1), else_=0)), func.sum(case((at_risk, 1), else_=0)),
               func.sum(sub.c.done), func.sum(sub.c.required))
        .group_by(*key)
        .order_by(key[1])
    )
    result = []
    for kid, name, people, ok, risk, done, required in db.session.execute(stmt):
        people, ok, risk = int(people), int(ok or 0), int(risk or 0)
        result.append({"id": kid, "name": name, "people": people, "on_track": ok, "at_risk": risk,
                       "behind": people - ok - risk, "done": int(done or 0), "required": int(required or 0)})
    return result


def progress_in(user: User, school_year: int, semester: str | None = None, today: date | None = None) -> Progress:
    """Progress within a school year (and optionally one of its semesters), measured today when
    today falls inside, on the last day when it is past, on the first day when it is to come."""
    today = today or local_today()
    calendar = teaching_calendar(school_year)
    start, end = calendar.year_start, calendar.year_end
    if semester == "autumn":
        end = calendar.spring_start() - timedelta(days=1)
    elif semester == "spring":
        start = calendar.spring_start()
    return progress_for(user, min(max(today, start), end), calendar=calendar)
