"""The pairing activity log: what a partnership did (送教下乡, 跟岗学习, 联合教研, 挂职, 交流轮岗,
shared lessons, visits), on which day, with which schools and people, with notes and files.

An entry is seen by the schools it names, its author, the people responsible, the bureau and
the county's researchers (``can_view_log_entry``; ``visible_entries`` is the same rule as a
query filter for lists). Services flush and never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import exists, false, func, or_, select, true

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.audit import changes
from ..core.audit import record as audit_record
from ..core.authz import PRINCIPAL, RESEARCHER, TEACHER, has_role
from ..core.errors import Conflict, Invalid, NotAllowed, UploadRefused
from ..core.i18n import lazy_gettext as _l
from ..core.models import utcnow
from ..core.sanitize import clean_text, rich_text
from ..core.timeutil import local_today
from ..core.uploads import save_upload
from ..core.web import path_for
from ..extensions import db
from .models import (
    ACTIVITY_KINDS,
    PairingActivity,
    PairingActivityPerson,
    PairingActivitySchool,
    PairingAttachment,
    Partnership,
    PartnershipPerson,
)
from .permissions import (
    can_edit_log_entry,
    can_log_activity,
    can_manage_partnership,
    can_view_partnership,
    is_responsible,
    school_ids_of,
)

log = logging.getLogger("portal.audit")

register_message("pairing.logged", _l("%(school)s logged %(title)s in %(partnership)s"))

MAX_PEOPLE = 50
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
ATTACHMENT_KINDS = frozenset({"pdf", "image", "office", "text", "video", "audio"})
EARLIEST = timedelta(days=30)  # preparation visits before the start date are logged too


def entry_link(entry: PairingActivity) -> str:
    return path_for("partnerships.log_entry", entry_id=entry.id)


def attachment_max_bytes() -> int:
    configured = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(configured, MAX_ATTACHMENT_BYTES) if configured else MAX_ATTACHMENT_BYTES


def visible_entries(user, partnership: Partnership):
    """``can_view_log_entry`` as a filter on PairingActivity, for lists of one partnership."""
    if can_manage_partnership(user, partnership) or (
        has_role(user, RESEARCHER) and can_view_partnership(user, partnership)
    ):
        return true()
    if not has_role(user, PRINCIPAL, TEACHER):
        return false()
    if is_responsible(user, partnership):
        return true()
    named = exists().where(PairingActivitySchool.activity_id == PairingActivity.id,
                           PairingActivitySchool.school_id == user.school_id)
    return or_(PairingActivity.author_id == user.id, named)


def _check_entry(
    partnership: Partnership,
    *,
    kind: str,
    title: str,
    happened_on: date | None,
    notes: str,
    school_ids: Iterable[int],
    person_ids: Iterable[int],
    other_people: str,
) -> tuple[str, str, str, list[int], list[int]]:
    if kind not in ACTIVITY_KINDS:
        raise Invalid(_l("Choose the kind of activity."), field="kind")
    title = clean_text(title, max_length=120)
    if not title:
        raise Invalid(_l("Please give the entry a title."), field="title")
    if happened_on is None:
        raise Invalid(_l("Please give the date it happened."), field="happened_on")
    if happened_on > local_today() + timedelta(days=1):
        raise Invalid(_l("The log records what has happened: the date cannot be in the future."),
                      field="happened_on")
    if happened_on < partnership.start_date - EARLIEST:
        raise Invalid(_l("The date is more than 30 days before the partnership started (%(day)s).",
                         day=partnership.start_date.isoformat()), field="happened_on")
    if partnership.end_date is not None and happened_on > partnership.end_date:
        raise Invalid(_l("The date is after the partnership ended (%(day)s).",
                         day=partnership.end_date.isoformat()), field="happened_on")
    schools = sorted(set(school_ids))
    if not schools:
        raise Invalid(_l("Tick at least one school involved."), field="schools")
    if not set(schools) <= school_ids_of(partnership):
        raise Invalid(_l("Only the partnership's own schools can be named."), field="schools")
    people = sorted(set(person_ids))
    if len(people) > MAX_PEOPLE:
        raise Invalid(_l("An entry names at most %(n)d people.", n=MAX_PEOPLE), field="people")
    if people:
        responsible = select(PartnershipPerson.user_id).where(PartnershipPerson.partnership_id == partnership.id)
        found = set(db.session.execute(
            select(User.id).where(User.id.in_(people), User.active.is_(True),
                                  or_(User.school_id.in_(schools), User.id.in_(responsible)))
        ).scalars())
        missing = [i for i in people if i not in found]
        if missing:
            names = db.session.execute(select(User.name).where(User.id.in_(missing)).limit(10)).scalars().all()
            raise Invalid(_l("Only active people of the schools ticked, or the people responsible, can be named: "
                             "%(names)s.", names="、".join(names) or "?"), field="people")
    notes_html = rich_text(notes)
    other_people = clean_text(other_people, max_length=300)
    return title, notes_html, other_people, schools, people


def _tell_principals(actor: User, entry: PairingActivity, partnership: Partnership, school_ids: set[int]) -> None:
    """The principals of the named schools hear of it, except those of the author's own school."""
    school_ids = school_ids - {actor.school_id}
    if not school_ids:
        return
    principals = db.session.execute(
        select(User.id).where(User.school_id.in_(school_ids), User.role == PRINCIPAL, User.active.is_(True),
                              User.id != actor.id)
    ).scalars().all()
    who = actor.school.name if actor.school is not None else actor.name
    notify(principals, "pairing.logged", params={"school": who, "title": entry.title, "partnership": partnership.name},
           link=entry_link(entry))


def _audit(actor: User, action: str, entry: PairingActivity, partnership: Partnership, details: dict | None = None):
    audit_record(actor, action, "pairing_activity", entry.id, county_id=partnership.county_id,
                 summary=f"{partnership.name} · {entry.happened_on.isoformat()} · {entry.title}",
                 details={"partnership_id": partnership.id, **(details or {})})


def log_activity(
    actor: User,
    partnership: Partnership,
    *,
    kind: str,
    title: str,
    happened_on: date | None,
    notes: str = "",
    school_ids: Iterable[int],
    person_ids: Iterable[int] = (),
    other_people: str = "",
) -> PairingActivity:
    """Add an entry to the partnership's log; the named schools' principals are told."""
    if not can_log_activity(actor, partnership):
        raise NotAllowed(_l("Only the principals of the schools involved, the people responsible and the bureau "
                            "log activity."))
    title, notes_html, other_people, schools, people = _check_entry(
        partnership, kind=kind, title=title, happened_on=happened_on, notes=notes, school_ids=school_ids,
        person_ids=person_ids, other_people=other_people,
    )
    entry = PairingActivity(partnership_id=partnership.id, kind=kind, title=title, happened_on=happened_on,
                            notes_html=notes_html, other_people=other_people, author_id=actor.id)
    entry.schools = [PairingActivitySchool(school_id=i) for i in schools]
    entry.people = [PairingActivityPerson(user_id=i) for i in people]
    db.session.add(entry)
    db.session.flush()
    _tell_principals(actor, entry, partnership, set(schools))
    log.info("pairing activity logged id=%s partnership=%s kind=%s by=%s", entry.id, partnership.id, kind, actor.id)
    _audit(actor, "pairing_activity.logged", entry, partnership)
    return entry


def update_entry(
    actor: User,
    entry: PairingActivity,
    *,
    kind: str,
    title: str,
    happened_on: date | None,
    notes: str = "",
    school_ids: Iterable[int],
    person_ids: Iterable[int] = (),
    other_people: str = "",
) -> PairingActivity:
    """Change an entry (its author or the bureau); schools newly named are told."""
    partnership = entry.partnership
    if not can_edit_log_entry(actor, entry, partnership):
        raise NotAllowed(_l("Only the author and the bureau change this entry."))
    title, notes_html, other_people, schools, people = _check_entry(
        partnership, kind=kind, title=title, happened_on=happened_on, notes=notes, school_ids=school_ids,
        person_ids=person_ids, other_people=other_people,
    )
    before = {s.school_id for s in entry.schools}
    old = {f: getattr(entry, f) for f in ("kind", "title", "happened_on")}
    entry.kind, entry.title, entry.happened_on = kind, title, happened_on
    entry.notes_html, entry.other_people = notes_html, other_people
    entry.schools = [s for s in entry.schools if s.school_id in schools] + [
        PairingActivitySchool(school_id=i) for i in schools if i not in before]
    had = {p.user_id for p in entry.people}
    entry.people = [p for p in entry.people if p.user_id in people] + [
        PairingActivityPerson(user_id=i) for i in people if i not in had]
    entry.edited_at = utcnow()
    db.session.flush()
    _tell_principals(actor, entry, partnership, set(schools) - before)
    log.info("pairing activity changed id=%s by=%s", entry.id, actor.id)
    _audit(actor, "pairing_activity.changed", entry, partnership, changes(entry, old))
    return entry


def delete_entry(actor: User, entry: PairingActivity) -> None:
    """Delete an entry with its schools, people and attachment rows (stored files stay: they
    are shared by content)."""
    if not can_edit_log_entry(actor, entry, entry.partnership):
        raise NotAllowed(_l("Only the author and the bureau delete this entry."))
    log.info("pairing activity deleted id=%s partnership=%s by=%s", entry.id, entry.partnership_id, actor.id)
    _audit(actor, "pairing_activity.deleted", entry, entry.partnership)
    db.session.delete(entry)
    db.session.flush()


def add_attachment(actor: User, entry: PairingActivity, file_storage) -> PairingAttachment:
    """Store a file (checked by content) and attach it; at most 10 per entry."""
    if not can_edit_log_entry(actor, entry, entry.partnership):
        raise NotAllowed(_l("Only the author and the bureau add files to this entry."))
    count = db.session.execute(
        select(func.count()).where(PairingAttachment.activity_id == entry.id)
    ).scalar_one() if entry.id is not None else 0
    if count >= MAX_ATTACHMENTS:
        raise Conflict(_l("An entry has at most %(n)d files.", n=MAX_ATTACHMENTS), field="files")
    try:
        saved = save_upload(file_storage, kinds=set(ATTACHMENT_KINDS), max_bytes=attachment_max_bytes())
    except UploadRefused as exc:
        log.info("pairing attachment refused entry=%s by=%s code=%s", entry.id, actor.id, exc.code)
        raise
    attachment = PairingAttachment(activity_id=entry.id, original_name=saved.original_name,
                                   stored_name=saved.stored_name, content_type=saved.content_type,
                                   size=saved.size, uploaded_by_id=actor.id)
    db.session.add(attachment)
    db.session.flush()
    log.info("pairing attachment added id=%s entry=%s sha256=%s size=%s by=%s", attachment.id, entry.id,
             saved.sha256, saved.size, actor.id)
    return attachment


def remove_attachment(actor: User, attachment: PairingAttachment) -> None:
    entry = db.session.get(PairingActivity, attachment.activity_id)
    if entry is None or not can_edit_log_entry(actor, entry, entry.partnership):
        raise NotAllowed(_l("Only the author and the bureau remove files from this entry."))
    log.info("pairing attachment removed id=%s entry=%s by=%s", attachment.id, entry.id, actor.id)
    db.session.delete(attachment)
    db.session.flush()
