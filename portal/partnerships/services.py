"""Partnerships: create and change them (the bureau), their people and yearly goals, and which
rural schools they pair with an urban school. Services flush and never commit.

The activity log lives in ``log.py``, exchanges in ``exchanges.py``, researchers' contact
schools and visits in ``visits.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_, select

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core import cache
from ..core.audit import changes
from ..core.audit import record as audit_record
from ..core.errors import Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.locking import check_version, mark_edited
from ..core.sanitize import clean_text, rich_text
from ..core.timeutil import local_today
from ..core.web import path_for
from ..extensions import db
from ..org.models import RURAL_KINDS, School
from .models import CARRYING_KINDS, KINDS, Partnership, PartnershipGoal, PartnershipPerson, PartnershipSchool
from .permissions import can_manage_partnership, can_manage_partnerships, is_responsible

log = logging.getLogger("portal.audit")

register_message("partnership.added", _l("Your school is now in the partnership %(name)s."))
register_message("partnership.responsible", _l("You are now responsible for the partnership %(name)s (%(duty)s)."))

# What each kind asks of its schools (SPEC.md §3). None: any kind of school.
LEAD_KINDS = {
    "multi": ("urban",),
    "new_school": ("urban",),
    "weak_school": ("urban",),
    "rural_school": ("urban",),
    "group": ("urban",),
    "trusteeship": ("urban", "township"),
    "central_points": ("township",),
    "cluster": ("township", "village"),
}
MEMBER_KINDS = {
    "rural_school": RURAL_KINDS,
    "central_points": ("village", "teaching_point"),
    "cluster": ("village", "teaching_point"),
}
MAX_MEMBERS = 60
PLAUSIBLE = (date(2000, 1, 1), date(2100, 12, 31))


def partnership_link(partnership: Partnership) -> str:
    return path_for("partnerships.partnership", partnership_id=partnership.id)


def _check_schools(kind: str, lead: School | None, members: list[School]) -> None:
    from ..core.labels import SCHOOL_KIND_LABELS, label

    if lead is None:
        raise Invalid(_l("Choose the lead school."), field="lead_school")
    if not members:
        raise Invalid(_l("Add at least one member school."), field="members")
    if len(members) > MAX_MEMBERS:
        raise Invalid(_l("A partnership has at most %(n)d member schools.", n=MAX_MEMBERS), field="members")
    if any(m.id == lead.id for m in members):
        raise Invalid(_l("%(name)s cannot be paired with itself.", name=lead.name), field="members")
    for school in [lead, *members]:
        if not school.is_active:
            raise Invalid(_l("%(name)s is deactivated.", name=school.name), field="members")
    if lead.kind not in LEAD_KINDS[kind]:
        kinds = "、".join(label(SCHOOL_KIND_LABELS, k) for k in LEAD_KINDS[kind])
        raise Invalid(_l("For this kind of partnership the lead school must be: %(kinds)s.", kinds=kinds),
                      field="lead_school")
    allowed = MEMBER_KINDS.get(kind)
    for school in members:
        if allowed is not None and school.kind not in allowed:
            kinds = "、".join(label(SCHOOL_KIND_LABELS, k) for k in allowed)
            raise Invalid(_l("%(name)s is a %(kind)s; the member schools of this kind of partnership must be: "
                             "%(kinds)s.", name=school.name, kind=label(SCHOOL_KIND_LABELS, school.kind),
                             kinds=kinds), field="members")
        if kind == "weak_school" and not school.is_weak:
            raise Invalid(_l("%(name)s is not marked as a weak school.", name=school.name), field="members")


def save_partnership(
    actor: User,
    partnership: Partnership | None,
    *,
    kind: str,
    name: str,
    lead_school: School | None,
    members: Iterable[School],
    start_date: date | None,
    end_date: date | None = None,
    description: str = "",
    version: int | None = None,
) -> Partnership:
    """Create a partnership (the bureau) or change it; new member schools' principals are told.
    A change made on another ``version`` than the stored one (two bureau staff at once) is refused."""
    if partnership is None and not can_manage_partnerships(actor):
        raise NotAllowed(_l("Only the bureau creates partnerships."))
    if partnership is not None and not can_manage_partnership(actor, partnership):
        raise NotAllowed(_l("You cannot change this partnership."))
    if partnership is not None:
        check_version(partnership, version)
    if kind not in KINDS:
        raise Invalid(_l("Choose the kind of partnership."), field="kind")
    name = clean_text(name, max_length=100)
    if not name:
        raise Invalid(_l("Please name the partnership."), field="name")
    if start_date is None:
        raise Invalid(_l("Please give the start date."), field="start_date")
    # The log reaches 30 days before the start: year 1 is a date arithmetic overflow on every log page.
    if not PLAUSIBLE[0] <= start_date <= PLAUSIBLE[1]:
        raise Invalid(_l("The start date is not plausible."), field="start_date")
    if end_date is not None and end_date < start_date:
        raise Invalid(_l("The end date cannot be before the start date."), field="end_date")
    if end_date is not None and end_date > PLAUSIBLE[1]:
        raise Invalid(_l("The end date is not plausible."), field="end_date")
    members = list({s.id: s for s in members}.values())
    _check_schools(kind, lead_school, members)
    if actor.county_id is not None and lead_school.county_id != actor.county_id:
        raise NotAllowed(_l("The lead school must be of your own county."), field="lead_school")
    if partnership is None:
        partnership = Partnership(created_by_id=actor.id)
        db.session.add(partnership)
        before: set[int] = set()
        old = {}
    else:
        before = {m.school_id for m in partnership.members}
        old = {f: getattr(partnership, f) for f in ("kind", "name", "lead_school_id", "start_date", "end_date")}
        mark_edited(partnership, "name")
    partnership.kind, partnership.name = kind, name
    partnership.lead_school_id, partnership.county_id = lead_school.id, lead_school.county_id
    partnership.start_date, partnership.end_date = start_date, end_date
    partnership.description_html = rich_text(description)
    wanted = {s.id for s in members}
    partnership.members = [m for m in partnership.members if m.school_id in wanted] + [
        PartnershipSchool(school_id=sid) for sid in sorted(wanted - before)
    ]
    db.session.flush()
    added = wanted - before
    if added:
        principals = db.session.execute(
            select(User.id).where(User.school_id.in_(added), User.role == "principal", User.active.is_(True))
        ).scalars().all()
        notify(principals, "partnership.added", params={"name": name}, link=partnership_link(partnership))
    log.info("partnership saved id=%s kind=%s by=%s", partnership.id, kind, actor.id)
    audit_record(actor, "partnership.changed" if old else "partnership.created", "partnership", partnership.id,
                 county_id=partnership.county_id, summary=name, details={**changes(partnership, old),
                 "schools_added": sorted(added), "schools_removed": sorted(before - wanted)})
    return partnership


def end_partnership(actor: User, partnership: Partnership, end_date: date) -> None:
    if not can_manage_partnership(actor, partnership):
        raise NotAllowed(_l("You cannot change this partnership."))
    if end_date < partnership.start_date:
        raise Invalid(_l("The end date cannot be before the start date."), field="end_date")
    if end_date > PLAUSIBLE[1]:
        raise Invalid(_l("The end date is not plausible."), field="end_date")
    old_end = partnership.end_date
    partnership.end_date = end_date
    log.info("partnership ended id=%s on=%s by=%s", partnership.id, end_date, actor.id)
    audit_record(actor, "partnership.ended", "partnership", partnership.id, county_id=partnership.county_id,
                 summary=partnership.name, details={"end_date": {"from": old_end, "to": end_date}})


def set_people(actor: User, partnership: Partnership, people: list[tuple[User, str]]) -> None:
    """Replace the people responsible (user, duty); newcomers are told."""
    if not can_manage_partnership(actor, partnership):
        raise NotAllowed(_l("You cannot change this partnership."))
    if len(people) > 30:
        raise Invalid(_l("At most 30 people can be responsible."), field="people")
    seen = {}
    for user, duty in people:
        if not user.active:
            raise Invalid(_l("%(name)s's account is deactivated.", name=user.name), field="people")
        seen[user.id] = (user, clean_text(duty, max_length=40))
    current = {p.user_id: p for p in partnership.people}
    for user_id, person in list(current.items()):
        if user_id not in seen:
            partnership.people.remove(person)
    for user_id, (_user, duty) in seen.items():
        if user_id in current:
            current[user_id].duty = duty
        else:
            partnership.people.append(PartnershipPerson(user_id=user_id, duty=duty))
            notify([user_id], "partnership.responsible", params={"name": partnership.name, "duty": duty or "—"},
                   link=partnership_link(partnership))
    db.session.flush()
    audit_record(actor, "partnership.people_set", "partnership", partnership.id, county_id=partnership.county_id,
                 summary=partnership.name, details={"added": sorted(set(seen) - set(current)),
                                                    "removed": sorted(set(current) - set(seen))})


def can_set_goals(user, partnership: Partnership) -> bool:
    """The bureau, the lead school's principal and the people responsible write the year's goals."""
    if can_manage_partnership(user, partnership):
        return True
    if user.role == "principal" and user.school_id == partnership.lead_school_id:
        return True
    return is_responsible(user, partnership)


def set_goals(actor: User, partnership: Partnership, school_year: int, goals: str) -> PartnershipGoal:
    if not can_set_goals(actor, partnership):
        raise NotAllowed(_l("Only the bureau, the lead school's principal and the people responsible set goals."))
    if not 2000 <= school_year <= 2100:
        raise Invalid(_l("Unknown school year."), field="school_year")
    # An ended partnership keeps its record, but has no goals for years after it ended.
    if partnership.end_date is not None and date(school_year, 9, 1) > partnership.end_date:
        raise Invalid(_l("The date is after the partnership ended (%(day)s).", day=partnership.end_date.isoformat()),
                      field="school_year")
    goal = db.session.execute(
        select(PartnershipGoal).where(PartnershipGoal.partnership_id == partnership.id,
                                      PartnershipGoal.school_year == school_year)
    ).scalar_one_or_none()
    if goal is None:
        goal = PartnershipGoal(partnership_id=partnership.id, school_year=school_year)
        db.session.add(goal)
    goal.goals_html = rich_text(goals)
    goal.updated_by_id = actor.id
    db.session.flush()
    audit_record(actor, "partnership.goals_set", "partnership", partnership.id, county_id=partnership.county_id,
                 summary=f"{partnership.name} · {school_year}", details={"school_year": school_year})
    return goal


def active_filter(day: date):
    return (Partnership.start_date <= day) & or_(Partnership.end_date.is_(None), Partnership.end_date >= day)


def paired_school_ids(day: date | None = None) -> frozenset[int]:
    """Rural schools paired with an urban school on ``day`` (default: today), directly or through
    the lead school of a group, cluster or central school partnership they belong to.

    Kept in the figures' cache (``core/cache.py``; dropped when a partnership or school changes):
    finding them reads every active partnership of the city, 20 ms at city scale."""
    day = day or local_today()
    return cache.cached(("paired_schools", day), lambda: frozenset(_paired_school_ids(day)))


def _paired_school_ids(day: date) -> set[int]:
    """Two queries whatever the size of the city: every active partnership's schools with their
    kind, then the reasoning in memory (a city has a few thousand such rows)."""
    rows = db.session.execute(
        select(Partnership.id, Partnership.kind, Partnership.lead_school_id, School.kind)
        .join(School, School.id == Partnership.lead_school_id)
        .where(active_filter(day), School.is_active.is_(True))
    ).all()
    if not rows:
        return set()
    members: dict[int, list[tuple[int, str]]] = {}
    for pid, school_id, school_kind in db.session.execute(
        select(PartnershipSchool.partnership_id, PartnershipSchool.school_id, School.kind)
        .join(School, School.id == PartnershipSchool.school_id)
        .join(Partnership, Partnership.id == PartnershipSchool.partnership_id)
        .where(active_filter(day), School.is_active.is_(True))
    ):
        members.setdefault(pid, []).append((school_id, school_kind))
    paired: set[int] = set()
    for pid, _kind, lead_id, lead_kind in rows:
        schools = [(lead_id, lead_kind), *members.get(pid, [])]
        if any(k == "urban" for _sid, k in schools):
            paired |= {sid for sid, k in schools if k in RURAL_KINDS}
    # A school in a cluster, group or central school's partnership is paired when its lead is.
    changed = True
    while changed:
        changed = False
        for pid, kind, lead_id, _lead_kind in rows:
            if kind in CARRYING_KINDS and lead_id in paired:
                carried = {sid for sid, k in members.get(pid, []) if k in RURAL_KINDS} - paired
                if carried:
                    paired |= carried
                    changed = True
    return paired
