"""The audit trail: who changed what on observations, schedules, partnerships and memberships.

``record`` adds one ``AuditEntry`` in the transaction of the change it describes (it flushes,
never commits), so a change that is rolled back leaves no entry; it also logs to ``portal.audit``.
The bureau reads the trail on /admin/audit (accounts.audit_views).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, insert, select
from sqlalchemy.orm import Mapped, make_transient_to_detached, mapped_column, relationship

from ..extensions import db
from .i18n import lazy_gettext as _l
from .models import UTCDateTime, utcnow
from .sanitize import strip_controls

log = logging.getLogger("portal.audit")

MAX_SUMMARY = 300
MAX_DETAIL_KEYS = 20
MAX_DETAIL_TEXT = 200

OBJECT_TYPE_LABELS = {
    "observation": _l("Observation"),
    "live_class": _l("Dual-teacher class"),
    "live_session": _l("Class session"),
    "calendar_day": _l("Calendar day"),
    "partnership": _l("Partnership"),
    "pairing_activity": _l("Pairing activity"),
    "exchange": _l("Teacher exchange"),
    "visit": _l("Researcher visit"),
    "contact_school": _l("Contact school"),
    "community": _l("Community"),
    "membership": _l("Membership"),
}
# What the trail covers; the page offers these as the "object type" filter.
OBJECT_TYPES = tuple(OBJECT_TYPE_LABELS)

ACTION_LABELS = {
    "observation.created": _l("Observation recorded"),
    "observation.finalized": _l("Observation finalised"),
    "observation.amended": _l("Observation amended"),
    "observation.draft_deleted": _l("Draft observation deleted"),
    "live_class.scheduled": _l("Class scheduled"),
    "live_class.series_changed": _l("Class series changed"),
    "live_session.cancelled": _l("Session cancelled"),
    "live_session.moved": _l("Session moved"),
    "live_session.restored": _l("Session re-added"),
    "live_session.added": _l("Session added"),
    "live_session.attendance": _l("Attendance recorded"),
    "calendar_day.saved": _l("Calendar day added"),
    "calendar_day.deleted": _l("Calendar day removed"),
    "partnership.created": _l("Partnership created"),
    "partnership.changed": _l("Partnership changed"),
    "partnership.ended": _l("Partnership ended"),
    "partnership.people_set": _l("People responsible changed"),
    "partnership.goals_set": _l("Yearly goals set"),
    "pairing_activity.logged": _l("Pairing activity logged"),
    "pairing_activity.changed": _l("Pairing activity changed"),
    "pairing_activity.deleted": _l("Pairing activity deleted"),
    "exchange.recorded": _l("Exchange recorded"),
    "exchange.changed": _l("Exchange changed"),
    "exchange.ended": _l("Exchange ended"),
    "exchange.deleted": _l("Exchange deleted"),
    "visit.logged": _l("Visit logged"),
    "visit.changed": _l("Visit changed"),
    "visit.deleted": _l("Visit deleted"),
    "contact_school.assigned": _l("Contact school assigned"),
    "contact_school.removed": _l("Contact school removed"),
    "community.saved": _l("Community saved"),
    "community.opened": _l("Community reopened"),
    "community.closed": _l("Community closed"),
    "membership.requested": _l("Asked to join"),
    "membership.approved": _l("Join request approved"),
    "membership.declined": _l("Join request declined"),
    "membership.added": _l("Member added"),
    "membership.left": _l("Member left"),
    "membership.withdrawn": _l("Join request withdrawn"),
    "membership.removed": _l("Member removed"),
    "membership.role_changed": _l("Member role changed"),
    "membership.leader_appointed": _l("Leader appointed"),
}


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        # The list filters: one object's history, one person's changes, a county's trail by date.
        Index("ix_audit_entries_object", "object_type", "object_id"),
        Index("ix_audit_entries_county_at", "county_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int | None] = mapped_column(Integer)
    # The county the object belongs to (NULL: city-wide); a county bureau reads only its own.
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(String(MAX_SUMMARY), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User")


def _plain(value):
    """A JSON-safe, short value for ``details``."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in list(value)[:MAX_DETAIL_KEYS]]
    if isinstance(value, dict):
        return {str(k)[:60]: _plain(v) for k, v in list(value.items())[:MAX_DETAIL_KEYS]}
    return strip_controls(str(value))[:MAX_DETAIL_TEXT]


def changes(obj, before: dict) -> dict:
    """``{field: {"from": old, "to": new}}`` for the fields of ``before`` whose value on ``obj`` differs now."""
    return {name: {"from": old, "to": getattr(obj, name)} for name, old in before.items() if getattr(obj, name) != old}


def school_county(school_id: int | None) -> int | None:
    """The county of a school (usually already in the session's identity map)."""
    if school_id is None:
        return None
    from ..org.models import School

    school = db.session.get(School, school_id)
    return school.county_id if school is not None else None


# One table INSERT, not the ORM's flush of the entry (~0.3 ms of every audited change).
_NEW_ENTRY = insert(AuditEntry.__table__).returning(AuditEntry.__table__.c.id)


def record(actor, action: str, obj_type: str, obj_id: int | None, *, county_id: int | None = None,
           summary: str = "", details: dict | None = None) -> AuditEntry:
    """Add an audit entry for a change made in the current transaction (flushes, never commits)."""
    values = dict(
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        action=action[:60],
        object_type=obj_type[:30],
        object_id=obj_id,
        county_id=county_id,
        summary=" ".join(strip_controls(summary or "").split())[:MAX_SUMMARY],
        details=_plain(details or {}),
    )
    db.session.flush()  # the change's own pending rows first, as the ORM's flush of the entry did
    entry = AuditEntry(id=db.session.connection().execute(_NEW_ENTRY, values).scalar_one(), **values)
    make_transient_to_detached(entry)
    # merge, not add: after a rollback the database may give an id again that the session still
    # holds (expired); merge makes that object this entry.
    entry = db.session.merge(entry, load=False)
    log.info("%s %s=%s county=%s by=%s", action, obj_type, obj_id, county_id, values["actor_id"])
    return entry


def can_read_audit(user) -> bool:
    """The bureau reads the audit trail (a county's staff: their county's entries only)."""
    from .authz import BUREAU, has_role

    return has_role(user, BUREAU)


def visible_audit_entries(user):
    """The entries ``user`` may read, newest first: city staff all; county staff their county's
    (city-wide entries, e.g. a city community's memberships, are the city's to read)."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if not can_read_audit(user):
        return stmt.where(False)
    if user.county_id is not None:
        stmt = stmt.where(AuditEntry.county_id == user.county_id)
    return stmt
