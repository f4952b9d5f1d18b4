"""A week timetable page's heading, links and words, and its days with their session cards
written out as HTML, once per page.

A school's week holds dozens of sessions, each card showing some thirty values (its times, its
class, the periods at every school it links, the receiving classrooms). Written by the template,
each value cost a lookup and an escape and each word a translation, per card: most of the page's
time. Here the words are translated once per page, every school, classroom and person is escaped
once per page, the parts a class shows alike on each of its sessions (subject, people, receiving
classrooms) and each school's periods at a lesson time are written once, and a card joins them.
The markup is the one ``scheduling/week.html`` had for the days and cards, character for
character; the template keeps the heading and the week's navigation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import request, url_for
from flask_babel import get_locale
from markupsafe import Markup, escape

from ..core.converters import MAX_ID
from ..core.i18n import gettext as _
from ..core.i18n import ngettext, safe_translation, translations
from ..core.labels import SUBJECT_LABELS, label
from ..core.templating import format_local_date, url_for_ids
from ..core.timeutil import local_today
from . import timetable


class WeekWords(NamedTuple):
    """The page's words, translated once here: the template's own ``_()`` costs several times as
    much (a dozen per page). Safe as the template's are (our catalogue)."""

    weeks: Markup
    previous_week: Markup
    next_week: Markup
    this_week: Markup
    go_to: Markup
    show: Markup
    whole_school: Markup
    term_overview: Markup
    today: Markup
    no_sessions: Markup
    holiday: Markup
    make_up_day: Markup

    @classmethod
    def translated(cls) -> WeekWords:
        return cls(*map(safe_translation, (
            _("Weeks"), _("Previous week"), _("Next week"), _("This week"), _("Go to the week of"), _("Show"),
            _("Timetable of the whole school"), _("Term overview"), _("Today"), _("No sessions"), _("Holiday"),
            _("Make-up working day (调休)"))))


class WeekHead(NamedTuple):
    heading: Markup
    intro: Markup | None  # whose bell schedule the periods are those of
    previous: str  # the links to the week before, the week after and this week
    next: str
    this_week: str
    range: str  # "2026-09-07 – 09-13"
    monday: str
    school_week: str | None  # the whole school's week, for those who may see it from another timetable
    term_overview: str | None
    count: Markup  # "12 dual-teacher sessions this week"
    words: WeekWords


def week_head(kind: str, subject, week: timetable.Week, school, *, mine: bool = False,
              can_school: bool = False) -> WeekHead:
    """The heading, links and words above the days of a teacher's (``mine``: one's own), a
    classroom's or a school's week (``school``: whose periods are shown, if any; ``can_school``:
    whether the viewer may see that school's week)."""
    if kind == "teacher":
        heading = safe_translation(_("My timetable")) if mine else (
            safe_translation(_("Timetable of %(name)s")) % {"name": subject.name})
    elif kind == "classroom":
        heading = safe_translation(_("Timetable of %(room)s")) % {"room": f"{subject.school.name} {subject.name}"}
    else:
        heading = safe_translation(_("Timetable of %(school)s")) % {"school": subject.name}
    intro = None
    if school:
        intro = safe_translation(_("Periods are those of %(school)s's own bell schedule; each session also shows "
                                   "the periods at every school it links.")) % {"school": school.name}
    # This week's link, and the others with the week asked for (the view's arguments are in its path).
    this_week = url_for(request.endpoint, **request.view_args)
    monday = week.monday.isoformat()
    school_week = term_overview = None
    if school and kind != "school" and can_school:
        school_week = url_for("scheduling.school_timetable", school_id=school.id, week=monday)
    if school_week or kind == "school":
        term_overview = url_for("scheduling.term_overview", school_id=school.id)
    count = safe_translation(translations().ungettext(
        "%(num)d dual-teacher session this week", "%(num)d dual-teacher sessions this week", week.count))
    return WeekHead(
        heading, intro, f"{this_week}?week={week.previous.isoformat()}", f"{this_week}?week={week.next.isoformat()}",
        this_week, f"{format_local_date(week.monday)} – {format_local_date(week.sunday, 'MM-dd')}", monday,
        school_week, term_overview, count % {"num": week.count}, WeekWords.translated())


def week_grid(user, week: timetable.Week, school_id: int | None, words: WeekWords) -> Markup:
    """The week's days, each with its session cards as the viewer sees them: the periods of
    ``school_id`` (the school of the timetable) highlighted, and a link to each classroom's week
    the viewer may open (each classroom asked once)."""
    today = local_today()
    weekdays = get_locale().days["format"]["wide"]  # what format_date(day, "EEEE") says
    cards = _Cards(user, week, school_id)
    html = ['<ol class="week-grid">\n']
    today_tag = f' <span class="status">{words.today}</span>'
    for day in week.days:
        is_today = day.day == today
        css = "week-day" + (" today" if is_today else "") + ("" if day.entries else " empty")
        html.append(f'  <li class="{css}" data-day="{day.day.isoformat()}">\n'
                    f'    <h2 class="week-day-head">{weekdays[day.day.weekday()]} '
                    f'<span class="muted">{format_local_date(day.day, "MM-dd")}</span>'
                    f'{today_tag if is_today else ""}</h2>\n')
        special = day.special
        if special:
            name = f": {escape(special.name)}" if special.name else ""
            html.append(f'    <p class="week-special {escape(special.kind)}">'
                        f'{words.holiday if special.kind == "holiday" else words.make_up_day}{name}</p>\n')
        if day.entries:
            html.append('    <ul class="week-sessions">\n')
            html.append("\n".join([cards.card(entry) for entry in day.entries]))
            html.append("\n    </ul>\n")
        else:
            html.append(f'    <p class="muted week-none">{words.no_sessions}</p>\n')
        html.append("  </li>\n")
    html.append("</ol>")
    return Markup("".join(html))  # noqa: S704  (every value in it escaped here or by _Cards)


def _escaped(link: Callable[[int], str]) -> Callable[[int], str]:
    """A ``url_for_ids`` link escaped for an attribute once, rather than once per id (ids are
    digits, which escaping leaves as they are)."""
    stand_in = str(MAX_ID)
    sample = str(escape(link(MAX_ID)))
    if sample.count(stand_in) != 1:
        return lambda object_id: str(escape(link(object_id)))
    head, tail = sample.split(stand_in)
    return lambda object_id: f"{head}{object_id}{tail}"


class _Cards:
    """Writes the session cards of one page, keeping what repeats between them."""

    def __init__(self, user, week: timetable.Week, school_id: int | None):
        self.user = user
        self.school_id = school_id
        self.session_link = _escaped(url_for_ids("scheduling.live_session", "session_id"))
        self.room_link = _escaped(url_for_ids("scheduling.classroom_timetable", "classroom_id",
                                              week=week.monday.isoformat()))
        # The template's own _() marks its translations safe: so do these (our catalogue).
        self.main, self.assistant = safe_translation(_("main")), safe_translation(_("assistant"))
        self.main_teacher = safe_translation(_("Main teacher"))
        self.periods_at_each = safe_translation(_("Periods at each school"))
        self.status = {
            "cancelled": f'<p><span class="status cancelled">{safe_translation(_("Cancelled"))}</span>',
            "moved": f'<p><span class="status moved">{safe_translation(_("Moved"))}</span>',
            "done": f'<p><span class="status ok">{safe_translation(_("Delivered"))}</span></p>',
        }
        self.grade_text = safe_translation(_("Grade %(n)d"))
        self.from_text = safe_translation(_("from %(day)s"))
        self.rooms: dict[int, tuple[str, str | None]] = {}  # classroom id -> (escaped name, link or None)
        self.open_schools: dict[int, bool] = {}  # school id -> whether its classrooms' weeks may be opened
        self.subjects: dict[str, str] = {}  # subject code -> its name, escaped
        self.counts: dict[int, str] = {}  # number of receiving classrooms -> "2 receiving classrooms"
        self.classes: dict[int, tuple[str, str, str]] = {}  # class id -> its card's head, middle and tail
        self.periods: dict[tuple, tuple[str, str]] = {}  # a school's periods -> (list item, highlight)
        self.names: dict[int, str] = {}  # school id -> its name, escaped

    def room(self, classroom) -> tuple[str, str | None]:
        found = self.rooms.get(classroom.id)
        if found is None:
            # Whether the viewer may open a classroom's week follows from its school alone.
            school = classroom.school
            may = self.open_schools.get(school.id)
            if may is None:
                may = self.open_schools[school.id] = timetable.can_view_classroom_week(self.user, classroom)
            found = self.rooms[classroom.id] = (escape(f"{school.name} {classroom.name}"),
                                                self.room_link(classroom.id) if may else None)
        return found

    def room_html(self, classroom) -> str:
        name, link = self.room(classroom)
        return f'<a href="{link}">{name}</a>' if link else name

    def live_class(self, live_class: timetable.WeekClass) -> tuple[str, str, str]:
        """A class's subject (the link's text), its title line, and from its people to the end of
        the card but for the session's periods, split around them."""
        found = self.classes.get(live_class.id)
        if found is None:
            subject = self.subjects.get(live_class.subject)
            if subject is None:
                subject = self.subjects[live_class.subject] = escape(label(SUBJECT_LABELS, live_class.subject))
            if live_class.grade:
                subject = f"{subject} · {self.grade_text % {'n': live_class.grade}}"
            title = f'<span class="muted">{escape(live_class.title)}</span>' if live_class.title else ""
            people = (f'        <p class="week-people">{self.main_teacher}: {escape(live_class.main_teacher.name)} · '
                      f'{self.room_html(live_class.main_classroom)}</p>\n'
                      f'        <ul class="week-periods" aria-label="{self.periods_at_each}">\n')
            receiving = live_class.receiving
            count = self.counts.get(len(receiving))
            if count is None:
                count = self.counts[len(receiving)] = safe_translation(ngettext(
                    "%(num)d receiving classroom", "%(num)d receiving classrooms", len(receiving))) % {"num": len(receiving)}
            rooms = "".join([f'            <li>{self.room_html(r.classroom)} · {self.assistant} '
                             f'{escape(r.assistant.name)}</li>\n' for r in receiving])
            tail = (f'        </ul>\n        <details class="week-rooms">\n          <summary>{count}</summary>\n'
                    f'          <ul>\n{rooms}          </ul>\n        </details>\n      </li>')
            found = self.classes[live_class.id] = (f"{subject}</a>\n{title}", people, tail)
        return found

    def school_periods(self, periods: timetable.SchoolPeriods) -> tuple[str, str]:
        """A school's periods as a list item, and as the highlight of the timetable's own school."""
        school = periods.school
        key = (school.id, periods.role, periods.label, tuple(periods.periods or ()))
        found = self.periods.get(key)
        if found is None:
            name = self.names.get(school.id)
            if name is None:
                name = self.names[school.id] = escape(school.name)
            text = escape(periods.label)
            numbers = ",".join(map(str, periods.periods or ()))
            here = ' class="here"' if school.id == self.school_id else ""
            main = f" ({self.main})" if periods.role == "main" else ""
            item = (f'          <li{here} data-school="{name}" data-numbers="{numbers}">\n'
                    f'            <span>{name}{main}</span>\n            <strong>{text}</strong>\n          </li>\n')
            outside = "" if periods.periods else " outside"
            highlight = f'<strong class="week-period{outside}" data-period data-numbers="{numbers}">{text}</strong>'
            found = self.periods[key] = (item, highlight)
        return found

    def card(self, entry: timetable.Entry) -> str:
        session = entry.session
        head, people, tail = self.live_class(entry.live_class)
        cancelled, done = session.status == "cancelled", session.status == "done"
        css = "week-session" + (" cancelled" if cancelled else "") + (" moved" if session.moved else "") + (
            " done" if done else "")
        if cancelled:
            status = self.status["cancelled"] + (
                f' <span class="muted">{escape(session.note)}</span>' if session.note else "") + "</p>\n"
        elif session.moved:
            status = self.status["moved"]
            if session.occurrence_date != entry.start.date():
                day = format_local_date(session.occurrence_date, "MM-dd")
                status += f' <span class="muted">{self.from_text % {"day": day}}</span>'
            status += "</p>\n"
        elif done:
            status = self.status["done"]
        else:
            status = ""
        here = self.school_periods(entry.here)[1] if entry.here else ""
        periods = "".join([self.school_periods(p)[0] for p in entry.schools])
        return (f'      <li class="{css}" data-session="{session.id}" data-class="{entry.live_class.id}">\n'
                f'        <p class="week-when"><time datetime="{entry.start.isoformat()}">{entry.times}</time>\n'
                f'{here}</p>\n        <p class="week-subject">\n          <a href="{self.session_link(session.id)}">'
                f'{head}        </p>\n{status}{people}{periods}{tail}')
