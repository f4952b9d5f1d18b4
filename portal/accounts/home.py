"""Home-page panels of the foundation: what each person should do next."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

from flask import url_for
from sqlalchemy import bindparam, case, exists, func, select

from ..core import cache
from ..core.authz import BUREAU, PRINCIPAL
from ..core.home import facts, home_fact, home_panel, panel_words
from ..core.i18n import gettext as _
from ..core.templating import url_for_ids
from ..extensions import db
from ..org.models import BellSchedule, Classroom, County, School
from ..org.services import current_term_row
from .models import Notification
from .notifications import render

# The home page is everyone's first page: its statements are built once (per variant) and only
# bound per request (see notifications.UNREAD_COUNT), and read as plain rows of the session's
# connection (see communities/home.py): what ``render`` reads of a notification, not the notification.
LATEST_UNREAD = (
    select(Notification.kind, Notification.params, Notification.link)
    .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
    .order_by(Notification.id.desc())
    .limit(5)
)


class Place(NamedTuple):
    """Where a person works, as the home page shows it: their school, else their county."""

    school_name: str | None
    county_id: int | None  # their school's county, else their own (``User.scope_county_id``)
    county_name: str | None  # their own county (staff without a school)


NOWHERE = Place(None, None, None)  # city-level staff: no school, no county
# Asked with the panels' other facts (core/home.facts): the names rather than the school's or
# county's objects (loading them for the page's header, a panel and the quota's county cost four
# times as much); whether there is an unread notification (the panel's list is read only then);
# whether the school has a bell schedule (the principal's set-up panel).
home_fact("school_name", select(School.name).where(School.id == bindparam("school_id")).scalar_subquery())
home_fact("school_county_id", select(School.county_id).where(School.id == bindparam("school_id")).scalar_subquery())
home_fact("county_name", select(County.name).where(County.id == bindparam("county_id")).scalar_subquery())
home_fact("unread", exists().where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)))
home_fact("has_bells", exists().where(BellSchedule.school_id == bindparam("school_id")))


def place_of(user) -> Place:
    """The person's school and county, read once per request with the panels' facts."""
    if user.school_id is None and user.county_id is None:
        return NOWHERE
    row = facts(user)
    county_id = row.school_county_id if user.school_id is not None else user.county_id
    return Place(row.school_name, county_id, row.county_name)


@home_panel(10)
def unread_panel(user):
    if not facts(user).unread:
        return None
    rows = db.session.connection().execute(LATEST_UNREAD, {"user_id": user.id}).all()
    if not rows:
        return None
    title, fallback = panel_words(_unread_words)
    return {"title": title, "items": [{"text": render(n), "url": n.link or fallback} for n in rows]}


def _unread_words() -> tuple[str, str]:
    return _("New notifications"), url_for("accounts.notifications")


@functools.cache
def _setup_gaps_stmt(in_county: bool):
    """How many active schools (of one county, or all) have no classes, and no bell schedule: one
    pass over the schools."""
    scope = School.is_active.is_(True)
    if in_county:
        scope = scope & (School.county_id == bindparam("county_id"))

    def without(child):
        return func.coalesce(func.sum(case((~exists().where(child.school_id == School.id), 1), else_=0)), 0)

    return select(without(Classroom), without(BellSchedule)).select_from(School).where(scope)


def setup_gaps(county_id: int | None) -> tuple[int, int]:
    """(schools without classes, schools without a bell schedule) of a county or the city, kept
    with the figures (core/cache.py) until a school, class or bell schedule changes: a city's
    bureau reads them on every visit of its home page."""
    params = {"county_id": county_id} if county_id is not None else {}
    return cache.cached(("setup-gaps", county_id), lambda: tuple(
        int(n) for n in db.session.execute(_setup_gaps_stmt(county_id is not None), params).one()))


@home_panel(90)
def setup_panel(user):
    """Bureau staff: the set-up that later work depends on, with what is still missing."""
    if user.role != BUREAU:
        return None
    no_classrooms, no_bells = setup_gaps(user.county_id)
    items = []
    term = current_term_row()
    if term is None:
        items.append({"text": _("Set up the current term"), "url": url_for("org.edit_term")})
    else:
        items.append({"text": _("Current term: %(name)s", name=term.name), "url": url_for("org.terms")})
    if no_classrooms:
        items.append({"text": _("%(n)d schools have no classes yet", n=no_classrooms), "url": url_for("org.roster_import")})
    if no_bells:
        items.append({"text": _("%(n)d schools have no bell schedule yet", n=no_bells), "url": url_for("org.schools")})
    items.append({"text": _("Manage accounts"), "url": url_for("accounts.admin_users")})
    return {"title": _("Set-up"), "items": items}


@home_panel(95)
def school_panel(user):
    """Principals: their school's set-up."""
    if user.role != PRINCIPAL or user.school_id is None:
        return None
    has_bells = facts(user).has_bells
    words = panel_words(_school_words)
    items = [{"text": words.text, "url": words.school_url(user.school_id)}]
    if not has_bells:
        items.append({"text": words.enter_bells, "url": words.bells_url(user.school_id), "hint": words.bells_hint})
    return {"title": words.title, "items": items}


class SchoolWords(NamedTuple):
    title: str
    text: str
    school_url: Callable[[int], str]
    enter_bells: str
    bells_url: Callable[[int], str]
    bells_hint: str


def _school_words() -> SchoolWords:
    return SchoolWords(
        _("Your school"), _("Your school's classes and bell schedules"), url_for_ids("org.school", "school_id"),
        _("Enter your school's bell schedule"), url_for_ids("org.edit_bell_schedule", "school_id"),
        _("Dual-teacher classes show each school its own period numbers."))


@home_panel(96)
def teacher_panel(user):
    """Teachers: their school, and a word on what the portal will hold for them."""
    if user.role != "teacher" or user.school_id is None:
        return None
    words = panel_words(_teacher_words)
    return {
        "title": words.title,
        "items": [
            {"text": place_of(user).school_name, "url": words.school_url(user.school_id), "hint": words.school_hint},
            words.password,
        ],
    }


class TeacherWords(NamedTuple):
    title: str
    school_url: Callable[[int], str]
    school_hint: str
    password: dict  # the same item for every teacher (read, never changed)


def _teacher_words() -> TeacherWords:
    return TeacherWords(
        _("Your school"), url_for_ids("org.school", "school_id"), _("Classes and bell schedules"),
        {"text": _("Keep your password safe"), "url": url_for("accounts.change_password"),
         "hint": _("Change it here if someone else may know it.")})


@functools.cache
def _rural_schools(in_county: bool):
    stmt = select(func.count()).select_from(School).where(School.is_active.is_(True), School.kind != "urban")
    return stmt.where(School.county_id == bindparam("county_id")) if in_county else stmt


@home_panel(97)
def researcher_panel(user):
    """Researchers: the rural schools of their county, whom they support and visit."""
    if user.role != "researcher":
        return None
    in_county = user.county_id is not None
    params = {"county_id": user.county_id} if in_county else {}
    rural = db.session.connection().execute(_rural_schools(in_county), params).scalar_one()
    return {
        "title": _("Rural schools"),
        "items": [{"text": _("%(n)d rural schools in your area", n=rural), "url": url_for("org.schools")}],
    }
