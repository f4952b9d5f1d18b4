"""Teaching researchers' contact schools (教研员联系学校) and their visits (下校指导).

The bureau links each researcher to rural schools (township schools, village schools, teaching
points); a county researcher's schools are in their county. A researcher should have at least
RESEARCHER_MIN_SCHOOLS active contact schools and visit each at least
RESEARCHER_VISITS_PER_SEMESTER times a semester (a Term). Visits are logged only for the
researcher's own active contact schools: a visit elsewhere would count for nothing, and the
bureau decides which schools a researcher supports. Progress for a page of researchers is one
grouped query. Services flush and never commit.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import and_, bindparam, func, select

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.audit import changes
from ..core.audit import record as audit_record
from ..core.authz import RESEARCHER
from ..core.errors import Conflict, Invalid, NotAllowed, NotFound
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SCHOOL_KIND_LABELS, label
from ..core.models import plain_rows
from ..core.sanitize import rich_text
from ..core.timeutil import local_today
from ..core.web import path_for
from ..extensions import db
from ..org.models import RURAL_KINDS, School, Term
from ..org.services import TermRow
from .models import VISIT_KINDS, ResearcherSchool, SchoolVisit
from .permissions import can_assign_contact_schools, can_change_visit, can_log_visit, can_view_visits

log = logging.getLogger("portal.audit")

EARLIEST = date(2000, 1, 1)

register_message("visits.school_assigned", _l("%(school)s is now one of your contact schools."))


def min_schools() -> int:
    return int(current_app.config.get("RESEARCHER_MIN_SCHOOLS", 2))


def visits_per_semester() -> int:
    return int(current_app.config.get("RESEARCHER_VISITS_PER_SEMESTER", 5))


# --- contact schools -----------------------------------------------------------------------------


def _link(researcher: User, school: School) -> ResearcherSchool | None:
    return db.session.execute(
        select(ResearcherSchool).where(ResearcherSchool.researcher_id == researcher.id,
                                       ResearcherSchool.school_id == school.id)
    ).scalar_one_or_none()


def _check_scope(actor: User, researcher: User) -> None:
    if not can_assign_contact_schools(actor):
        raise NotAllowed(_l("Only the bureau assigns researchers' contact schools."))
    if researcher.role != RESEARCHER:
        raise Invalid(_l("%(name)s is not a teaching researcher.", name=researcher.name), field="researcher")
    if not can_view_visits(actor, researcher):
        raise NotAllowed(_l("This researcher works for another county."), field="researcher")


def assign_contact_school(actor: User, researcher: User, school: School | None,
                          since: date | None = None) -> ResearcherSchool:
    """Link a researcher to a rural school (a removed link comes back); the researcher is told."""
    _check_scope(actor, researcher)
    if not researcher.active:
        raise Invalid(_l("%(name)s's account is deactivated.", name=researcher.name), field="researcher")
    if school is None:
        raise Invalid(_l("Choose a school."), field="school")
    if school.kind not in RURAL_KINDS:
        raise Invalid(_l("%(name)s is a %(kind)s: contact schools are rural (township schools, village schools "
                         "and teaching points).", name=school.name, kind=label(SCHOOL_KIND_LABELS, school.kind)),
                      field="school")
    if not school.is_active:
        raise Invalid(_l("%(name)s is deactivated.", name=school.name), field="school")
    if researcher.county_id is not None and school.county_id != researcher.county_id:
        raise Invalid(_l("%(name)s is not in %(researcher)s's county: a county researcher supports schools of "
                         "their own county.", name=school.name, researcher=researcher.name), field="school")
    if actor.county_id is not None and school.county_id != actor.county_id:
        raise NotAllowed(_l("%(name)s is not in your county.", name=school.name), field="school")
    link = _link(researcher, school)
    if link is not None and link.is_active:
        raise Conflict(_l("%(name)s is already one of %(researcher)s's contact schools.", name=school.name,
                          researcher=researcher.name), field="school")
    if link is None:
        link = ResearcherSchool(researcher_id=researcher.id, school_id=school.id)
        db.session.add(link)
    link.is_active, link.since = True, since or local_today()
    db.session.flush()
    notify([researcher.id], "visits.school_assigned", params={"school": school.name},
           link=path_for("partnerships.visits"))
    log.info("contact school assigned researcher=%s school=%s by=%s", researcher.id, school.id, actor.id)
    audit_record(actor, "contact_school.assigned", "contact_school", link.id, county_id=school.county_id,
                 summary=f"{researcher.name} · {school.name}", details={"researcher_id": researcher.id})
    return link


def remove_contact_school(actor: User, researcher: User, school: School) -> None:
    """End a link; the visits logged stay."""
    _check_scope(actor, researcher)
    link = _link(researcher, school)
    if link is None or not link.is_active:
        raise NotFound(_l("%(name)s is not one of this researcher's contact schools.", name=school.name),
                       field="school")
    link.is_active = False
    db.session.flush()
    log.info("contact school removed researcher=%s school=%s by=%s", researcher.id, school.id, actor.id)
    audit_record(actor, "contact_school.removed", "contact_school", link.id, county_id=school.county_id,
                 summary=f"{researcher.name} · {school.name}", details={"researcher_id": researcher.id})


def contact_schools(researcher_id: int, *, active_only: bool = True) -> list[School]:
    stmt = (select(School).join(ResearcherSchool, ResearcherSchool.school_id == School.id)
            .where(ResearcherSchool.researcher_id == researcher_id).order_by(School.name))
    if active_only:
        stmt = stmt.where(ResearcherSchool.is_active.is_(True))
    return list(db.session.execute(stmt).scalars())


# --- visits --------------------------------------------------------------------------------------


def _check_visit(researcher: User, school: School | None, visited_on: date | None, kind: str,
                 *, keep_school_id: int | None = None) -> None:
    if researcher.role != RESEARCHER:
        raise Invalid(_l("%(name)s is not a teaching researcher.", name=researcher.name), field="researcher")
    if school is None:
        raise Invalid(_l("Choose the school visited."), field="school")
    if school.id != keep_school_id:
        link = _link(researcher, school)
        if link is None or not link.is_active:
            raise Invalid(_l("%(name)s is not one of the contact schools: visits are logged for contact schools "
                             "only (the bureau assigns them).", name=school.name), field="school")
    if visited_on is None:
        raise Invalid(_l("Please give the date of the visit."), field="visited_on")
    if visited_on > local_today():
        raise Invalid(_l("The date of a visit cannot be in the future."), field="visited_on")
    if visited_on < EARLIEST:
        raise Invalid(_l("The date of a visit cannot be before 2000."), field="visited_on")
    if kind not in VISIT_KINDS:
        raise Invalid(_l("Choose the kind of visit."), field="kind")


def _audit(actor: User, action: str, visit: SchoolVisit, details: dict | None = None) -> None:
    audit_record(actor, action, "visit", visit.id, county_id=visit.school.county_id,
                 summary=f"{visit.researcher.name} · {visit.school.name} · {visit.visited_on.isoformat()}",
                 details=details)


def log_visit(actor: User, researcher: User, school: School | None, visited_on: date | None,
              kind: str = "guidance", notes: str = "") -> SchoolVisit:
    """A researcher logs a visit to one of their contact schools (the bureau may log it for them)."""
    if not (can_log_visit(actor, researcher.id) and can_view_visits(actor, researcher)):
        raise NotAllowed(_l("You can only log your own visits."))
    _check_visit(researcher, school, visited_on, kind)
    visit = SchoolVisit(researcher_id=researcher.id, school_id=school.id, visited_on=visited_on, kind=kind,
                        notes_html=rich_text(notes))
    db.session.add(visit)
    db.session.flush()
    log.info("visit logged id=%s researcher=%s school=%s by=%s", visit.id, researcher.id, school.id, actor.id)
    _audit(actor, "visit.logged", visit, {"kind": kind})
    return visit


def update_visit(actor: User, visit: SchoolVisit, *, school: School | None, visited_on: date | None,
                 kind: str = "guidance", notes: str = "") -> SchoolVisit:
    """Change a visit; it may stay at a school that is no longer a contact school."""
    if not can_change_visit(actor, visit):
        raise NotAllowed(_l("You can only change your own visits."))
    _check_visit(visit.researcher, school, visited_on, kind, keep_school_id=visit.school_id)
    old = {f: getattr(visit, f) for f in ("school_id", "visited_on", "kind")}
    visit.school_id, visit.school = school.id, school
    visit.visited_on, visit.kind, visit.notes_html = visited_on, kind, rich_text(notes)
    db.session.flush()
    log.info("visit changed id=%s by=%s", visit.id, actor.id)
    _audit(actor, "visit.changed", visit, changes(visit, old))
    return visit


def delete_visit(actor: User, visit: SchoolVisit) -> None:
    if not can_change_visit(actor, visit):
        raise NotAllowed(_l("You can only delete your own visits."))
    log.info("visit deleted id=%s researcher=%s by=%s", visit.id, visit.researcher_id, actor.id)
    _audit(actor, "visit.deleted", visit)
    db.session.delete(visit)
    db.session.flush()


# --- progress in a semester ----------------------------------------------------------------------


@dataclass
class SchoolProgress:
    school_id: int
    name: str
    kind: str
    visits: int
    target: int

    @property
    def behind(self) -> bool:
        return self.visits < self.target

    @property
    def percent(self) -> int:
        return min(100, self.visits * 100 // self.target) if self.target else 100


@dataclass
class ResearcherProgress:
    researcher_id: int
    min_schools: int
    schools: list[SchoolProgress] = field(default_factory=list)

    @property
    def school_count(self) -> int:
        return len(self.schools)

    @property
    def too_few_schools(self) -> bool:
        return self.school_count < self.min_schools

    @property
    def schools_behind(self) -> list[SchoolProgress]:
        return [s for s in self.schools if s.behind]

    @property
    def behind(self) -> bool:
        return self.too_few_schools or bool(self.schools_behind)

    @property
    def visits(self) -> int:
        return sum(s.visits for s in self.schools)


@functools.cache
def _progress_statement(in_a_term: bool):
    """Built once per form (with or without a term; the researcher's home asks on every visit),
    bound per call."""
    in_term = and_(SchoolVisit.researcher_id == ResearcherSchool.researcher_id,
                   SchoolVisit.school_id == ResearcherSchool.school_id)
    if in_a_term:
        in_term = and_(in_term, SchoolVisit.visited_on >= bindparam("first"),
                       SchoolVisit.visited_on <= bindparam("last"))
    else:
        in_term = and_(in_term, SchoolVisit.id.is_(None))
    return (
        select(ResearcherSchool.researcher_id, School.id, School.name, School.kind, func.count(SchoolVisit.id))
        .join(School, School.id == ResearcherSchool.school_id)
        .outerjoin(SchoolVisit, in_term)
        .where(ResearcherSchool.researcher_id.in_(bindparam("ids", expanding=True)),
               ResearcherSchool.is_active.is_(True))
        .group_by(ResearcherSchool.researcher_id, School.id, School.name, School.kind)
        .order_by(School.name, School.id)
    )


def progress(researcher_ids: Iterable[int], term: Term | TermRow | None) -> dict[int, ResearcherProgress]:
    """Per researcher: their active contact schools and the visits to each within the term
    (none counted without a term). One grouped query for all the researchers given, as plain rows."""
    ids = sorted(set(researcher_ids))
    target, minimum = visits_per_semester(), min_schools()
    result = {rid: ResearcherProgress(rid, minimum) for rid in ids}
    if not ids:
        return result
    stmt = _progress_statement(term is not None)
    values = {"ids": ids}
    if term is not None:
        values.update(first=term.start_date, last=term.end_date)
    for rid, school_id, name, kind, visits in plain_rows(stmt, values):
        result[rid].schools.append(SchoolProgress(school_id, name, kind, int(visits), target))
    return result


def researchers_statement(actor: User, county_id: int | None = None):
    """The active researchers the actor may see, by name."""
    stmt = (select(User).where(User.role == RESEARCHER, User.active.is_(True))
            .order_by(User.name, User.id))
    scope = actor.county_id if actor.county_id is not None else county_id
    if scope is not None:
        stmt = stmt.where(User.county_id == scope)
    return stmt


def term_for(term_id: int | None) -> Term | None:
    """The term asked for (404 when unknown), else the current one (None when there are no terms)."""
    from ..org.services import current_term

    if term_id is None:
        return current_term()
    term = db.session.get(Term, term_id)
    if term is None:
        raise NotFound(_l("There is no term with this id."), field="term_id")
    return term
