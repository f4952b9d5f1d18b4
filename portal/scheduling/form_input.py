"""Reading the dual-teacher class forms: the classrooms and people they offer (grouped by school),
the series part (people, rooms, weekly times) loaded for the services, and the services' refusals
shown under the right field."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.authz import PRINCIPAL, TEACHER
from ..core.errors import DomainError, Invalid
from ..core.forms import form_error
from ..core.i18n import lazy_gettext as _l
from ..core.labels import GRADE_LABELS, label
from ..core.validate import parse_time
from ..extensions import db
from ..org.models import Classroom, School
from .forms import MAX_ROWS, MAX_SLOTS
from .recurrence import Slot

MAX_OPTIONS = 3000  # classrooms or people offered in one form

# The service's field names → the form's.
ALIASES = {"main_teacher_id": "main_teacher", "main_classroom_id": "main_classroom", "weekday": "slots",
           "start_time": "slots", "end_time": "slots", "term_id": "term"}
LIST_FIELDS = ("receiving", "slots")


# --- the options the forms offer ---------------------------------------------------------------


def options_for(user, keep_rooms=(), keep_people=()) -> dict:
    """Classrooms and teachers grouped by school (the person's county; city staff: all), and
    which of them may be the main teacher and room. ``keep_*`` are ids shown whatever the scope
    (the people and rooms of a class being changed). Two queries."""
    county = user.scope_county_id
    rooms = select(Classroom.id, Classroom.grade, Classroom.name, School.id, School.name).join(
        School, School.id == Classroom.school_id)
    people = select(User.id, User.name, User.username, School.id, School.name).join(School, School.id == User.school_id)
    in_scope_rooms = Classroom.is_active & School.is_active
    in_scope_people = User.active & User.role.in_((TEACHER, PRINCIPAL))
    if county is not None:
        in_scope_rooms &= School.county_id == county
        in_scope_people &= School.county_id == county
    if keep_rooms:
        in_scope_rooms = or_(in_scope_rooms, Classroom.id.in_(list(keep_rooms)))
    if keep_people:
        in_scope_people = or_(in_scope_people, User.id.in_(list(keep_people)))
    room_rows = db.session.execute(rooms.where(in_scope_rooms).order_by(School.name, Classroom.grade, Classroom.name)
                                   .limit(MAX_OPTIONS)).all()
    people_rows = db.session.execute(people.where(in_scope_people).order_by(School.name, User.name)
                                     .limit(MAX_OPTIONS)).all()

    def grouped(rows, own_school=None):
        """{school name: [(id, text, grade or None)]}, for <optgroup>s."""
        groups: dict[str, list[tuple[int, str, int | None]]] = {}
        for value, text, grade, school_id, school_name in rows:
            if own_school is None or school_id == own_school:
                groups.setdefault(school_name, []).append((value, text, grade))
        return groups

    # The school in the text too: a closed <select> shows the option, not its group.
    room_rows = [(r[0], f"{r[4]} {label(GRADE_LABELS, r[1])} {r[2]}", r[1], r[3], r[4]) for r in room_rows]
    people_rows = [(p[0], f"{p[1]} ({p[2]})", None, p[3], p[4]) for p in people_rows]
    own = user.school_id if user.role in (TEACHER, PRINCIPAL) else None
    main_people = grouped(people_rows, own)
    if user.role == TEACHER:
        main_people = {k: [p for p in v if p[0] == user.id] for k, v in main_people.items()}
        main_people = {k: v for k, v in main_people.items() if v}
    return {"rooms": grouped(room_rows), "people": grouped(people_rows), "main_rooms": grouped(room_rows, own),
            "main_people": main_people}


# --- reading the series part of the form -------------------------------------------------------


def read_time(raw: str | None):
    try:
        return parse_time((raw or "").strip(), "time")
    except Invalid:
        raise Invalid(_l("Times are written like 08:30 (from 00:00 to 23:59)."), field="slots") from None


def read_series(form) -> dict:
    """The people, rooms and weekly times chosen, loaded (two queries), as the services take them."""
    pairs = []
    for row in form.receiving:
        room, person = row.classroom.data or 0, row.assistant.data or 0
        if not room and not person:
            continue
        if not room or not person:
            raise Invalid(_l("Choose both the receiving classroom and its assistant teacher."), field="receiving")
        pairs.append((room, person))
    slots = []
    for row in form.slots:
        weekday, start, end = row.weekday.data or 0, (row.start.data or "").strip(), (row.end.data or "").strip()
        if not weekday and not start and not end:
            continue
        if not 1 <= weekday <= 7:
            raise Invalid(_l("Choose the weekday of each time."), field="slots")
        slots.append(Slot(weekday, read_time(start), read_time(end)))
    ids = {form.main_classroom.data or 0} | {c for c, _a in pairs}
    rooms = {c.id: c for c in db.session.execute(select(Classroom).where(Classroom.id.in_(ids))
                                                 .options(joinedload(Classroom.school))).scalars()}
    user_ids = {form.main_teacher.data or 0} | {a for _c, a in pairs}
    people = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()}
    receiving = []
    for room, person in pairs:
        if room not in rooms or person not in people:
            raise Invalid(_l("Choose the receiving classrooms and assistants from the lists."), field="receiving")
        receiving.append((rooms[room], people[person]))
    return {"main_teacher": people.get(form.main_teacher.data or 0),
            "main_classroom": rooms.get(form.main_classroom.data or 0), "receiving": receiving, "slots": slots}


def show_error(form, exc: DomainError, default_field: str, list_errors: dict) -> None:
    name = ALIASES.get(exc.field, exc.field)
    if name in LIST_FIELDS:
        list_errors.setdefault(name, []).append(str(exc.message))
    else:
        form_error(form, exc, default_field, ALIASES)


def pad_rows(form) -> None:
    """A blank row to fill in after the rows given (the script adds more; without it, one is there)."""
    if len(form.receiving) < MAX_ROWS and (not form.receiving.entries or form.receiving.entries[-1].classroom.data):
        form.receiving.append_entry()
    if len(form.slots) < MAX_SLOTS and (not form.slots.entries or form.slots.entries[-1].weekday.data):
        form.slots.append_entry()
