"""Home panels: a teacher's today's and next dual-teacher sessions; a principal's term figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import NamedTuple

from flask import g, url_for
from sqlalchemy import String, bindparam, cast, func, select

from ..core import cache
from ..core.authz import PRINCIPAL, TEACHER
from ..core.home import facts, home_fact, home_panel, panel_words
from ..core.i18n import gettext as _
from ..core.labels import SUBJECT_LABELS, label
from ..core.models import utcnow
from ..core.templating import url_for_ids
from ..core.timeutil import portal_tz
from ..org.services import TermRow, current_term_row
from . import timetable
from .bells import schedule_on, schedules_of
from .models import LiveClass, LiveSession

# --- the person's sessions, read once for both panels below -----------------------------------------

COMING_LIMIT = 6  # sessions listed by the "today's and next" panel
# The person's sessions from the start of their day (local: today's earlier ones too, for their
# attendance), cancelled ones included so a change is seen, with what both scheduling panels show
# of them. Built once, bound per request; plain rows of the session's connection (see
# communities/home.py). The person's school is not loaded (its periods need only its id). The
# "live now" panel reads its own rows (LIVE_TODAY): these stop at COMING_LIMIT, which a day of
# cancelled sessions can fill before the running one.
COMING = (
    select(LiveSession.id, LiveSession.starts_at, LiveSession.ends_at, LiveSession.status, LiveSession.moved,
           LiveClass.title, LiveClass.subject, LiveClass.main_teacher_id)
    .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
    .where(LiveSession.live_class_id.in_(bindparam("class_ids", expanding=True)),
           LiveSession.ends_at > bindparam("start"))
    .order_by(LiveSession.starts_at, LiveSession.id)
    .limit(COMING_LIMIT)
)


# The person's classes (as main teacher or assistant) come with the home page's other facts, as
# one text of ids ("3,17,42"; NULL when none): a statement of their own cost as much as all the
# facts together. The sessions' statements then name them (by index, few).
_taught = timetable.teacher_classes(bindparam("user_id")).subquery()
home_fact("class_ids", select(func.aggregate_strings(cast(_taught.c.id, String), ",")).scalar_subquery())


class Coming(NamedTuple):
    now: datetime
    today: date  # the portal's local day of ``now``
    start: datetime  # and its start, in UTC
    rows: tuple  # of COMING, at most COMING_LIMIT
    class_ids: list[int]  # the person's classes (main teacher or assistant)


def coming_sessions(user) -> Coming:
    """``COMING`` for the person, asked once per request (both panels read it)."""
    found = g.get("home_coming")
    if found is not None and found[0] == user.id:
        return found[1]
    now = utcnow()
    # The person's classes first (few, by index): inside the ORDER BY ... LIMIT, PostgreSQL would
    # otherwise walk every future session in time order looking for theirs. Most principals teach
    # no class: which classes the person has comes with the home page's other facts.
    found_ids = facts(user).class_ids
    class_ids = sorted(int(i) for i in found_ids.split(",")) if found_ids else []
    tz = portal_tz()
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time(0, 0), tz).astimezone(UTC)
    rows = ()
    if class_ids:
        # The same all day until a session or class changes (core/cache.kept, TIMETABLES): kept
        # per day and classes; what the time of day decides (which link, "live now") is worked out
        # per request from the rows.
        rows = cache.kept_rows(("home-coming", today, tuple(class_ids)), COMING,
                               {"class_ids": class_ids, "start": start})
    coming = Coming(now, today, start, rows, class_ids)
    g.home_coming = (user.id, coming)
    return coming


@home_panel(15)
def sessions_panel(user):
    """Teachers (main or assistant) and principals who teach: today's and the next sessions."""
    if user.role not in (TEACHER, PRINCIPAL):
        return None
    coming = coming_sessions(user)
    if not coming.rows and user.role == PRINCIPAL:
        return None
    words = panel_words(_session_words)
    return {"title": words.title, "items": _session_items(user, coming, words) if coming.rows else [],
            "empty": words.empty, "more": words.more}


class SessionWords(NamedTuple):
    title: str
    empty: str
    more: dict
    today: str
    cancelled: str
    moved: str
    subjects: dict  # (subject, as main teacher) -> the row's text
    periods: dict  # period numbers -> " · " + their label
    room_url: Callable[[int], str]
    page_url: Callable[[int], str]


def _session_words() -> SessionWords:
    return SessionWords(
        _("Today's and next dual-teacher sessions"), _("No dual-teacher sessions are coming up for you."),
        {"url": url_for("scheduling.my_timetable"), "text": _("My timetable")},
        _("Today"), " · " + _("Cancelled"), " · " + _("Moved"), {}, {},
        # The live room while a session is to come; its own page (attendance) once it is over.
        url_for_ids("live.room", "session_id"), url_for_ids("scheduling.live_session", "session_id"))


def _session_items(user, coming: Coming, words: SessionWords) -> list[dict]:
    """Each session with the periods it takes at the person's own school (by that school's bell
    schedule of the day)."""
    now, tz = coming.now, portal_tz()
    today = now.astimezone(tz).date()
    school_id = user.school_id
    schedules = ()
    if school_id:  # the school's bell schedules, kept until one changes (TIMETABLES)
        schedules = cache.kept(("home-bells", school_id), lambda: tuple(schedules_of({school_id}).get(school_id, ())))
    on_day: dict = {}
    here: dict = {}  # (day, start, end) -> " · " + the period label
    items = []
    for row in coming.rows:
        start, end = row.starts_at.astimezone(tz), row.ends_at.astimezone(tz)
        day = start.date()
        hint = (words.today if day == today else f"{start.month:02d}-{start.day:02d}") + (
            f" {start.hour:02d}:{start.minute:02d}–{end.hour:02d}:{end.minute:02d}")
        if school_id:
            key = (day, start.time(), end.time())
            periods = here.get(key)
            if periods is None:
                schedule = on_day.get(day, on_day)
                if schedule is on_day:
                    schedule = on_day[day] = schedule_on(schedules, day)
                periods = here[key] = _period_words(words, timetable.period_numbers(schedule, key[1], key[2]))
            hint += periods
        cancelled = row.status == "cancelled"
        if cancelled:
            hint += words.cancelled
        elif row.moved:
            hint += words.moved
        text_key = (row.subject, row.main_teacher_id == user.id)
        text = words.subjects.get(text_key)
        if text is None:
            text = words.subjects[text_key] = (
                f"{label(SUBJECT_LABELS, row.subject)} ({_('main teacher') if text_key[1] else _('assistant')})")
        items.append({"text": text, "url": words.room_url(row.id) if not cancelled and row.ends_at > now
                      else words.page_url(row.id), "hint": hint})
    return items


def _period_words(words: SessionWords, numbers: list[int] | None) -> str:
    key = tuple(numbers) if numbers is not None else None
    text = words.periods.get(key)
    if text is None:
        text = words.periods[key] = " · " + timetable.period_label(numbers)
    return text


@home_panel(16)
def term_figures_panel(user):
    """Principals: this term's dual-teacher periods of their school, delivered of planned, by subject."""
    if user.role != PRINCIPAL or user.school_id is None:
        return None
    term = current_term_row()
    if term is None:
        return None
    words = panel_words(_term_words)
    link = words.link(user.school_id)
    texts, figures = words.texts, words.figures
    items = []
    for role, subject, planned, delivered, cancelled in term_figures(user.school_id, term):
        text = texts.get((subject, role))
        if text is None:
            text = texts[subject, role] = f"{label(SUBJECT_LABELS, subject)} ({words.roles[role]})"
        items.append({"text": text, "url": link,
                      "hint": figures % {"done": delivered, "planned": planned, "cancelled": cancelled}})
    return {"title": words.title, "items": items, "empty": words.empty, "more": {"url": link, "text": words.more}}


class TermWords(NamedTuple):
    title: str
    empty: str
    more: str
    roles: dict
    figures: str  # filled per row
    texts: dict  # (subject, role) -> the row's text
    link: Callable[[int], str]  # the school's term overview


def _term_words() -> TermWords:
    return TermWords(
        _("Dual-teacher periods this term"), _("Your school has no dual-teacher classes this term."),
        _("Term overview"), {"main": _("as main school"), "receiving": _("as receiving school")},
        _("%(done)d of %(planned)d periods delivered, %(cancelled)d cancelled"), {},
        url_for_ids("scheduling.term_overview", "school_id"))


def term_figures(school_id: int, term: TermRow) -> tuple[tuple, ...]:
    """The panel's rows of ``timetable.term_overview``, at most 8, as main school first: (role,
    subject, planned, delivered, cancelled). Kept with the figures (core/cache.py, as the overview
    itself): the overview handed out is a deep copy of the one kept, and copying it cost more
    than all the rest of the panel."""
    def compute():
        overview = timetable.term_overview(school_id, term, utcnow())
        rows = ((role, row) for role in ("main", "receiving") for row in overview[role])
        return tuple((role, row.subject, row.planned, row.delivered, row.cancelled) for role, row in islice(rows, 8))

    return cache.cached(("home-term-figures", school_id, term.id, term.start_date, term.end_date), compute)


# --- the live room at the right time (added by the live capability) ---------------------------------

LIVE_SOON_MINUTES = 15  # a session starting this soon, or running, puts its room first on the home page
LIVE_SOON = timedelta(minutes=LIVE_SOON_MINUTES)
LIVE_SOON_SHOWN = 3
# The person's sessions that are not cancelled and may be running or about to start at some time
# of their day: from those that end after its start to those that start before the next day's
# LIVE_SOON_MINUTES. Kept per day and classes like COMING (a person's day holds a handful of
# sessions); the time of day picks the ones to show from them per request, without a statement.
LIVE_TODAY = (
    select(LiveSession.id, LiveSession.starts_at, LiveSession.ends_at, LiveClass.title, LiveClass.subject)
    .join(LiveClass, LiveClass.id == LiveSession.live_class_id)
    .where(LiveSession.live_class_id.in_(bindparam("class_ids", expanding=True)), LiveSession.status != "cancelled",
           LiveSession.starts_at < bindparam("until"), LiveSession.ends_at > bindparam("start"))
    .order_by(LiveSession.starts_at, LiveSession.id)
)


@home_panel(5)
def live_now_panel(user):
    """The main teacher's and assistants' way into the room of a session starting within
    LIVE_SOON_MINUTES or running now."""
    if user.role not in (TEACHER, PRINCIPAL):
        return None
    coming = coming_sessions(user)
    if not coming.class_ids:
        return None
    now, tz = coming.now, portal_tz()
    until = datetime.combine(coming.today + timedelta(days=1), time(0, 0), tz).astimezone(UTC) + LIVE_SOON
    day = cache.kept_rows(("home-live", coming.today, tuple(coming.class_ids)), LIVE_TODAY,
                          {"class_ids": coming.class_ids, "start": coming.start, "until": until})
    soon = now + LIVE_SOON
    sessions = [s for s in day if s.starts_at <= soon and s.ends_at > now][:LIVE_SOON_SHOWN]
    if not sessions:
        return None
    words = panel_words(_live_words)
    items = []
    for session in sessions:
        starts, ends = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
        state = words.running if session.starts_at <= now else words.starts % {"time": f"{starts:%H:%M}"}
        items.append({"text": words.enter % {"subject": session.title or label(SUBJECT_LABELS, session.subject)},
                      "url": words.room_url(session.id), "hint": f"{state} · {starts:%H:%M}–{ends:%H:%M}"})
    return {"title": words.title, "items": items}


class LiveWords(NamedTuple):
    title: str
    running: str
    starts: str  # filled with the time
    enter: str  # filled with the subject
    room_url: Callable[[int], str]


def _live_words() -> LiveWords:
    return LiveWords(_("Live now"), _("Running now"), _("Starts at %(time)s"), _("Enter the live room: %(subject)s"),
                     url_for_ids("live.room", "session_id"))
