"""Home panels: a teacher's today's and next dual-teacher sessions; a principal's term figures."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

from flask import url_for
from sqlalchemy import bindparam, select

from ..core.authz import PRINCIPAL, TEACHER
from ..core.home import home_panel
from ..core.i18n import gettext as _
from ..core.labels import SUBJECT_LABELS, label
from ..core.models import utcnow
from ..core.templating import url_for_ids
from ..core.timeutil import local_today, to_local
from ..extensions import db
from ..org.services import current_term
from . import timetable
from .models import LiveClass, LiveSession


@home_panel(15)
def sessions_panel(user):
    """Teachers (main or assistant) and principals who teach: today's and the next sessions."""
    if user.role not in (TEACHER, PRINCIPAL):
        return None
    now = utcnow()
    entries = timetable.upcoming_for(user, now)
    if not entries and user.role == PRINCIPAL:
        return None
    return {"title": _("Today's and next dual-teacher sessions"), "items": _session_items(user, entries, now),
            "empty": _("No dual-teacher sessions are coming up for you."),
            "more": {"url": url_for("scheduling.my_timetable"), "text": _("My timetable")}}


def _session_items(user, entries, now) -> list[dict]:
    """The words and links of the panel worked out once, not per session."""
    if not entries:
        return []
    today, today_word = local_today(), _("Today")
    cancelled, moved = " · " + _("Cancelled"), " · " + _("Moved")
    roles = {True: _("main teacher"), False: _("assistant")}
    # The live room while a session is to come; its own page (attendance) once it is over.
    room_url = url_for_ids("live.room", "session_id")
    page_url = url_for_ids("scheduling.live_session", "session_id")
    items = []
    for entry in entries:
        session, start = entry.session, entry.start
        day = today_word if start.date() == today else f"{start.month:02d}-{start.day:02d}"
        hint = f"{day} {entry.times}"
        if entry.here is not None:
            hint += " · " + entry.here.label
        if entry.cancelled:
            hint += cancelled
        elif session.moved:
            hint += moved
        role = roles[entry.live_class.main_teacher_id == user.id]
        items.append({"text": f"{label(SUBJECT_LABELS, entry.live_class.subject)} ({role})",
                      "url": room_url(session.id) if not entry.cancelled and session.ends_at > now
                      else page_url(session.id),
                      "hint": hint})
    return items


@home_panel(16)
def term_figures_panel(user):
    """Principals: this term's dual-teacher periods of their school, delivered of planned, by subject."""
    if user.role != PRINCIPAL or user.school_id is None:
        return None
    term = current_term()
    if term is None:
        return None
    overview = timetable.term_overview(user.school_id, term, utcnow())
    link = url_for("scheduling.term_overview", school_id=user.school_id)
    roles = {"main": _("as main school"), "receiving": _("as receiving school")}
    figures = _("%(done)d of %(planned)d periods delivered, %(cancelled)d cancelled")  # filled per row
    shown = islice(((role, row) for role in ("main", "receiving") for row in overview[role]), 8)
    items = [
        {"text": f"{label(SUBJECT_LABELS, row.subject)} ({roles[role]})", "url": link,
         "hint": figures % {"done": row.delivered, "planned": row.planned, "cancelled": row.cancelled}}
        for role, row in shown
    ]
    return {"title": _("Dual-teacher periods this term"), "items": items,
            "empty": _("Your school has no dual-teacher classes this term."),
            "more": {"url": link, "text": _("Term overview")}}


# --- the live room at the right time (added by the live capability) ---------------------------------

LIVE_SOON_MINUTES = 15  # a session starting this soon, or running, puts its room first on the home page
# Built once, bound per request (the home page asks on every visit of a teacher or principal); plain
# rows of the session's connection (see communities/home.py).
LIVE_SOON = (
    select(LiveSession.id, LiveSession.starts_at, LiveSession.ends_at, LiveClass.title, LiveClass.subject)
    .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
    .where(LiveSession.live_class_id.in_(bindparam("class_ids", expanding=True)), LiveSession.status != "cancelled",
           LiveSession.starts_at <= bindparam("soon"), LiveSession.ends_at > bindparam("now"))
    .order_by(LiveSession.starts_at).limit(3)
)


@home_panel(5)
def live_now_panel(user):
    """The main teacher's and assistants' way into the room of a session starting within
    LIVE_SOON_MINUTES or running now (two queries)."""
    if user.role not in (TEACHER, PRINCIPAL):
        return None
    now = utcnow()
    class_ids = timetable.teaching_class_ids(user.id)
    if not class_ids:  # the classes first: see timetable.upcoming_for
        return None
    sessions = db.session.connection().execute(LIVE_SOON, {
        "class_ids": class_ids, "now": now, "soon": now + timedelta(minutes=LIVE_SOON_MINUTES)}).all()
    if not sessions:
        return None
    items = []
    for session in sessions:
        starts, ends = to_local(session.starts_at), to_local(session.ends_at)
        state = _("Running now") if session.starts_at <= now else _("Starts at %(time)s", time=f"{starts:%H:%M}")
        items.append({"text": _("Enter the live room: %(subject)s", subject=session.title or label(
                          SUBJECT_LABELS, session.subject)),
                      "url": url_for("live.room", session_id=session.id),
                      "hint": f"{state} · {starts:%H:%M}–{ends:%H:%M}"})
    return {"title": _("Live now"), "items": items}
