"""Teacher exchanges (交流轮岗, 支教, 跟岗实习, 挂职, 走教): who is placed where and for how long,
the exchange ratio per county, and who meets the exchange rules of the bureau documents.

Counting rules, decided here once:

- **In exchange** (the quality-balance indicator: at least EXCHANGE_RATIO_TARGET % of teachers,
  EXCHANGE_BACKBONE_TARGET % of them backbone teachers): an active teacher account (role
  ``teacher``) at an active school, with a placement of kind rotation, support, secondment or
  travelling (``RATIO_KINDS``) whose dates cover the day. Shadowing (跟岗实习) is a new rural
  teacher's training, not an exchange: it is listed on the rules page instead. A teacher counts
  for the county of their own (home) school, once however many placements they have.
  Principals may be placed too (挂职) but are not in the teacher ratio.
- **Shadowing rule**: every teacher of an active village school or teaching point should have
  spent at least ``SHADOWING_DAYS`` (a year) shadowing at an urban or township school. We do
  not know when a teacher started, so everyone there is listed with the days served so far.
- **Senior-title rule**: an urban teacher with a title of first grade or below needs
  ``RURAL_DAYS`` (a year) of rotation or support at a rural school, or ``WEAK_DAYS`` (three
  years) at a weak urban school, to apply for a senior title.
- Days served count each calendar day of a placement from its start up to today (or its end,
  when earlier); planned days in the future do not count yet.

Every figure is one grouped query, whatever the number of teachers. Services flush and never commit.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import Date, Integer, and_, case, false, literal, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.expression import FunctionElement

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.audit import changes
from ..core.audit import record as audit_record
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, has_role
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import gettext
from ..core.i18n import lazy_gettext as _l
from ..core.labels import EXCHANGE_KIND_LABELS, label
from ..core.sanitize import clean_text
from ..core.timeutil import local_today
from ..core.web import path_for
from ..extensions import db
from ..org.models import School
from .models import EXCHANGE_KINDS, Partnership, TeacherExchange
from .permissions import can_change_exchange, can_record_exchange, school_ids_of

log = logging.getLogger("portal.audit")

RATIO_KINDS = ("rotation", "support", "secondment", "travelling")
RURAL_SERVICE_KINDS = ("rotation", "support")
SHADOWING_TARGET_KINDS = ("urban", "township")  # county-town schools and township (central) schools
NEW_TEACHER_SCHOOL_KINDS = ("village", "teaching_point")
TITLE_CANDIDATE_TITLES = ("none", "third", "second", "first")
SHADOWING_DAYS = 365
RURAL_DAYS = 365
WEAK_DAYS = 3 * 365
PLACEABLE_ROLES = ("teacher", "principal")


def _exchange_message(params: dict) -> str:
    return gettext("%(name)s's placement at %(school)s (%(kind)s) from %(start)s is recorded.",
                   name=params.get("name", ""), school=params.get("school", ""),
                   kind=label(EXCHANGE_KIND_LABELS, params.get("kind")), start=params.get("start", ""))


register_message("exchange.recorded", _exchange_message)


# --- date arithmetic that SQLite and PostgreSQL both understand ---------------------------------


class day_diff(FunctionElement):
    """Whole days from ``start`` to ``end`` (end - start)."""

    type = Integer()
    inherit_cache = True
    name = "day_diff"


@compiles(day_diff)
def _day_diff_default(element, compiler, **kw):
    end, start = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


@compiles(day_diff, "sqlite")
def _day_diff_sqlite(element, compiler, **kw):
    end, start = list(element.clauses)
    return f"CAST(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}) AS INTEGER)"


def served_days(day: date):
    """SQL: the days of a placement served up to ``day`` (inclusive); 0 for one not begun."""
    today = literal(day, Date)
    last = case((or_(TeacherExchange.end_date.is_(None), TeacherExchange.end_date > today), today),
                else_=TeacherExchange.end_date)
    return case((TeacherExchange.start_date <= today, day_diff(last, TeacherExchange.start_date) + 1), else_=0)


def covers(day: date):
    """SQL: the placement runs on ``day``."""
    return and_(TeacherExchange.start_date <= day,
                or_(TeacherExchange.end_date.is_(None), TeacherExchange.end_date >= day))


# --- services ------------------------------------------------------------------------------------


def _check(
    actor: User,
    *,
    user: User | None,
    from_school: School | None,
    kind: str,
    to_school: School | None,
    start_date: date | None,
    end_date: date | None,
    partnership: Partnership | None,
    days_per_week: int | None,
    exclude_id: int | None = None,
) -> int | None:
    if user is None:
        raise Invalid(_l("Choose the teacher (by username)."), field="username")
    if user.role not in PLACEABLE_ROLES:
        raise Invalid(_l("%(name)s is not a teacher or principal: only they are placed in exchanges.",
                         name=user.name), field="username")
    if not user.active:
        raise Invalid(_l("%(name)s's account is deactivated.", name=user.name), field="username")
    if from_school is None:
        raise Invalid(_l("%(name)s has no school to be placed from.", name=user.name), field="username")
    if kind not in EXCHANGE_KINDS:
        raise Invalid(_l("Choose the kind of exchange."), field="kind")
    if to_school is None:
        raise Invalid(_l("Choose the school the teacher is placed at."), field="to_school")
    if to_school.id == from_school.id:
        raise Invalid(_l("A school cannot exchange with itself: %(name)s is the teacher's own school.",
                         name=to_school.name), field="to_school")
    for school in (from_school, to_school):
        if not school.is_active:
            raise Invalid(_l("%(name)s is deactivated.", name=school.name), field="to_school")
    if start_date is None:
        raise Invalid(_l("Please give the start date."), field="start_date")
    if not date(2000, 1, 1) <= start_date <= date(2100, 12, 31):
        raise Invalid(_l("The start date is not plausible."), field="start_date")
    if end_date is not None and end_date < start_date:
        raise Invalid(_l("The end date cannot be before the start date."), field="end_date")
    if end_date is not None and end_date > date(2100, 12, 31):
        raise Invalid(_l("The end date is not plausible."), field="end_date")
    if kind == "travelling":
        if days_per_week is None or not 1 <= days_per_week <= 5:
            raise Invalid(_l("A travelling teacher (走教) teaches at the other school 1 to 5 days a week: "
                             "give the number of days."), field="days_per_week")
    else:
        days_per_week = None
    if actor.county_id is not None and actor.county_id not in (from_school.county_id, to_school.county_id):
        raise NotAllowed(_l("The teacher's school or the school they are placed at must be in your county."),
                         field="to_school")
    if partnership is not None and not {from_school.id, to_school.id} <= school_ids_of(partnership):
        raise Invalid(_l("Both schools must be in the partnership %(name)s.", name=partnership.name),
                      field="partnership")
    overlap = (
        select(TeacherExchange)
        .where(TeacherExchange.user_id == user.id,
               or_(TeacherExchange.end_date.is_(None), TeacherExchange.end_date >= start_date))
        .options(joinedload(TeacherExchange.to_school))
        .order_by(TeacherExchange.start_date)
        .limit(1)
    )
    if end_date is not None:
        overlap = overlap.where(TeacherExchange.start_date <= end_date)
    if exclude_id is not None:
        overlap = overlap.where(TeacherExchange.id != exclude_id)
    other = db.session.execute(overlap).scalar_one_or_none()
    if other is not None:
        raise Conflict(_l("%(name)s is already placed at %(school)s (%(kind)s) from %(start)s to %(end)s: "
                          "the dates overlap.", name=user.name, school=other.to_school.name,
                          kind=label(EXCHANGE_KIND_LABELS, other.kind), start=other.start_date.isoformat(),
                          end=other.end_date.isoformat() if other.end_date else "—"), field="start_date")
    return days_per_week


def _audit(actor: User, action: str, exchange: TeacherExchange, details: dict | None = None) -> None:
    """County: the teacher's home school's (the county that sends and counts the rotation)."""
    audit_record(actor, action, "exchange", exchange.id, county_id=exchange.from_school.county_id,
                 summary=f"{exchange.user.name} · {exchange.from_school.name} → {exchange.to_school.name}",
                 details=details)


def _tell(exchange: TeacherExchange, user: User) -> None:
    """The teacher, and the principals of both schools (except the teacher themself)."""
    params = {"name": user.name, "school": exchange.to_school.name, "kind": exchange.kind,
              "start": exchange.start_date.isoformat()}
    notify([user.id], "exchange.recorded", params=params)
    principals = db.session.execute(
        select(User.id).where(User.school_id.in_((exchange.from_school_id, exchange.to_school_id)),
                              User.role == PRINCIPAL, User.active.is_(True), User.id != user.id)
    ).scalars().all()
    if principals:
        notify(principals, "exchange.recorded", params=params, link=path_for("partnerships.exchanges"))


def record_exchange(
    actor: User,
    *,
    user: User | None,
    kind: str,
    to_school: School | None,
    start_date: date | None,
    end_date: date | None,
    partnership: Partnership | None = None,
    days_per_week: int | None = None,
    notes: str = "",
) -> TeacherExchange:
    """Place a teacher (or principal) from their own school at another one; they and both principals are told."""
    if not can_record_exchange(actor):
        raise NotAllowed(_l("Only the bureau records teacher exchanges."))
    from_school = user.school if user is not None else None
    days_per_week = _check(actor, user=user, from_school=from_school, kind=kind, to_school=to_school,
                           start_date=start_date, end_date=end_date, partnership=partnership,
                           days_per_week=days_per_week)
    exchange = TeacherExchange(
        user_id=user.id, kind=kind, from_school_id=from_school.id, to_school_id=to_school.id,
        partnership_id=partnership.id if partnership else None, start_date=start_date, end_date=end_date,
        days_per_week=days_per_week, notes=clean_text(notes, max_length=2000), created_by_id=actor.id,
    )
    exchange.to_school, exchange.from_school = to_school, from_school
    db.session.add(exchange)
    db.session.flush()
    _tell(exchange, user)
    log.info("exchange recorded id=%s user=%s kind=%s %s->%s by=%s", exchange.id, user.id, kind, from_school.id,
             to_school.id, actor.id)
    _audit(actor, "exchange.recorded", exchange, {"kind": kind, "start_date": start_date, "end_date": end_date})
    return exchange


def update_exchange(
    actor: User,
    exchange: TeacherExchange,
    *,
    kind: str,
    to_school: School | None,
    start_date: date | None,
    end_date: date | None,
    partnership: Partnership | None = None,
    days_per_week: int | None = None,
    notes: str = "",
) -> TeacherExchange:
    """Change a placement; the teacher and their home school stay those recorded."""
    if not can_change_exchange(actor, exchange):
        raise NotAllowed(_l("You cannot change this exchange."))
    days_per_week = _check(actor, user=exchange.user, from_school=exchange.from_school, kind=kind,
                           to_school=to_school, start_date=start_date, end_date=end_date, partnership=partnership,
                           days_per_week=days_per_week, exclude_id=exchange.id)
    old = {f: getattr(exchange, f) for f in ("kind", "to_school_id", "start_date", "end_date", "days_per_week")}
    exchange.kind, exchange.to_school_id, exchange.to_school = kind, to_school.id, to_school
    exchange.start_date, exchange.end_date, exchange.days_per_week = start_date, end_date, days_per_week
    exchange.partnership_id = partnership.id if partnership else None
    exchange.notes = clean_text(notes, max_length=2000)
    db.session.flush()
    log.info("exchange changed id=%s by=%s", exchange.id, actor.id)
    _audit(actor, "exchange.changed", exchange, changes(exchange, old))
    return exchange


def end_exchange(actor: User, exchange: TeacherExchange, end_date: date) -> None:
    """The placement's last day (it ended early, or it was open-ended)."""
    if not can_change_exchange(actor, exchange):
        raise NotAllowed(_l("You cannot change this exchange."))
    if end_date is None:
        raise Invalid(_l("Please give the last day."), field="end_date")
    if end_date < exchange.start_date:
        raise Invalid(_l("The end date cannot be before the start date."), field="end_date")
    old_end = exchange.end_date
    exchange.end_date = end_date
    db.session.flush()
    log.info("exchange ended id=%s on=%s by=%s", exchange.id, end_date, actor.id)
    _audit(actor, "exchange.ended", exchange, {"end_date": {"from": old_end, "to": end_date}})


def delete_exchange(actor: User, exchange: TeacherExchange) -> None:
    if not can_change_exchange(actor, exchange):
        raise NotAllowed(_l("You cannot delete this exchange."))
    log.info("exchange deleted id=%s user=%s by=%s", exchange.id, exchange.user_id, actor.id)
    _audit(actor, "exchange.deleted", exchange)
    db.session.delete(exchange)
    db.session.flush()


# --- who sees which placements -------------------------------------------------------------------


def visible_exchanges(user):
    """The placements this person may see, as a filter: county staff those from or to a school of
    their county (city staff: all), principals those from or to their school, others none."""
    if has_role(user, BUREAU, RESEARCHER):
        if user.county_id is None:
            return true()
        in_county = select(School.id).where(School.county_id == user.county_id)
        return or_(TeacherExchange.from_school_id.in_(in_county), TeacherExchange.to_school_id.in_(in_county))
    if has_role(user, PRINCIPAL) and user.school_id is not None:
        return or_(TeacherExchange.from_school_id == user.school_id, TeacherExchange.to_school_id == user.school_id)
    return false()


def placements_statement(user, *, county_id: int | None = None, kind: str | None = None, current: bool = True,
                         day: date | None = None):
    """The placements list (newest first), with the teacher and both schools in the same query."""
    day = day or local_today()
    stmt = (
        select(TeacherExchange)
        .where(visible_exchanges(user))
        .options(joinedload(TeacherExchange.user), joinedload(TeacherExchange.from_school),
                 joinedload(TeacherExchange.to_school), joinedload(TeacherExchange.partnership))
        .order_by(TeacherExchange.start_date.desc(), TeacherExchange.id.desc())
    )
    if county_id is not None:
        in_county = select(School.id).where(School.county_id == county_id)
        stmt = stmt.where(or_(TeacherExchange.from_school_id.in_(in_county),
                              TeacherExchange.to_school_id.in_(in_county)))
    if kind is not None:
        stmt = stmt.where(TeacherExchange.kind == kind)
    if current:
        stmt = stmt.where(covers(day))
    return stmt
