"""Home-page panels of the foundation: what each person should do next."""

from __future__ import annotations

import functools
from typing import NamedTuple

from flask import g, url_for
from sqlalchemy import bindparam, case, exists, func, select

from ..core import cache
from ..core.authz import BUREAU, PRINCIPAL
from ..core.home import home_panel
from ..core.i18n import gettext as _
from ..extensions import db
from ..org.models import BellSchedule, Classroom, County, School
from ..org.services import current_term
from .models import Notification, User
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
# Built once, bound per request (the home page is everyone's first page).
_PLACE = (
    select(School.name, School.county_id, County.name)
    .select_from(User)
    .outerjoin(School, School.id == User.school_id)
    .outerjoin(County, County.id == User.county_id)
    .where(User.id == bindparam("user_id"))
)


def place_of(user) -> Place:
    """The person's school and county as one plain row, read once per request: loading the school
    (or county) object for the page's header, a panel and the quota's county cost four times as much."""
    if user.school_id is None and user.county_id is None:
        return NOWHERE
    place = g.get("home_place")
    if place is None or place[0] != user.id:
        school_name, school_county_id, county_name = db.session.connection().execute(
            _PLACE, {"user_id": user.id}).one()
        county_id = school_county_id if user.school_id is not None else user.county_id
        place = g.home_place = (user.id, Place(school_name, county_id, county_name))
    return place[1]


@home_panel(10)
def unread_panel(user):
    rows = db.session.connection().execute(LATEST_UNREAD, {"user_id": user.id}).all()
    if not rows:
        return None
    fallback = url_for("accounts.notifications")
    return {"title": _("New notifications"), "items": [{"text": render(n), "url": n.link or fallback} for n in rows]}


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
    term = current_term()
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


HAS_BELLS = select(exists().where(BellSchedule.school_id == bindparam("school_id")))


@home_panel(95)
def school_panel(user):
    """Principals: their school's set-up."""
    if user.role != PRINCIPAL or user.school_id is None:
        return None
    has_bells = db.session.connection().execute(HAS_BELLS, {"school_id": user.school_id}).scalar()
    items = [{"text": _("Your school's classes and bell schedules"), "url": url_for("org.school", school_id=user.school_id)}]
    if not has_bells:
        items.append({
            "text": _("Enter your school's bell schedule"),
            "url": url_for("org.edit_bell_schedule", school_id=user.school_id),
            "hint": _("Dual-teacher classes show each school its own period numbers."),
        })
    return {"title": _("Your school"), "items": items}


@home_panel(96)
def teacher_panel(user):
    """Teachers: their school, and a word on what the portal will hold for them."""
    if user.role != "teacher" or user.school_id is None:
        return None
    return {
        "title": _("Your school"),
        "items": [
            {"text": place_of(user).school_name, "url": url_for("org.school", school_id=user.school_id),
             "hint": _("Classes and bell schedules")},
            {"text": _("Keep your password safe"), "url": url_for("accounts.change_password"),
             "hint": _("Change it here if someone else may know it.")},
        ],
    }


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
