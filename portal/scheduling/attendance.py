"""Attendance after a session: the assistant of each receiving classroom records how many students
were present of the class size, and a short feedback. A session with attendance is a delivered
period (its status becomes "done"); for a receiving school, the sessions with a row for its
classroom are its delivered periods. Services flush and never commit.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.models import utcnow
from ..core.sanitize import clean_text
from ..extensions import db
from .models import LiveSession, SessionAttendance
from .permissions import can_record_attendance

log = logging.getLogger("portal.audit")

MAX_CLASS_SIZE = 200
FEEDBACK_LENGTH = 500


def _whole(value, field: str, low: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_CLASS_SIZE:
        raise Invalid(message, field=field)
    return value


def record_attendance(actor: User, session: LiveSession, classroom_id: int, *, present, class_size,
                      feedback: str = "") -> SessionAttendance:
    """Record (or correct) the attendance of one receiving classroom of a session that has started."""
    live_class = session.live_class
    if not any(r.classroom_id == classroom_id for r in live_class.receiving):
        raise Invalid(_l("That classroom does not receive this class."), field="classroom_id")
    if not can_record_attendance(actor, live_class, classroom_id):
        raise NotAllowed(_l("The assistant of the classroom, the main teacher and the bureau record attendance."))
    if session.status == "cancelled":
        raise Conflict(_l("The session was cancelled: there is no attendance to record."))
    if session.starts_at > utcnow():
        raise Conflict(_l("Attendance is recorded once the session has started."))
    class_size = _whole(class_size, "class_size", 1,
                        _l("The class size must be a whole number from 1 to %(n)d.", n=MAX_CLASS_SIZE))
    present = _whole(present, "present", 0,
                     _l("The number present must be a whole number from 0 to %(n)d.", n=MAX_CLASS_SIZE))
    if present > class_size:
        raise Invalid(_l("More students present (%(present)d) than in the class (%(size)d).", present=present,
                         size=class_size), field="present")
    record = db.session.execute(
        select(SessionAttendance).where(SessionAttendance.session_id == session.id,
                                        SessionAttendance.classroom_id == classroom_id)
    ).scalar_one_or_none()
    if record is None:
        record = SessionAttendance(session_id=session.id, classroom_id=classroom_id)
        db.session.add(record)
    record.present, record.class_size = present, class_size
    record.feedback = clean_text(feedback or "", max_length=FEEDBACK_LENGTH)
    record.recorded_by_id = actor.id
    session.status = "done"
    db.session.flush()
    log.info("live attendance session=%s classroom=%s present=%s/%s by=%s", session.id, classroom_id, present,
             class_size, actor.id)
    from .services import audit_session

    audit_session(actor, "live_session.attendance", session, {"classroom_id": classroom_id, "present": present,
                                                              "class_size": class_size})
    return record


def attendance_of(session: LiveSession) -> dict[int, SessionAttendance]:
    """The session's attendance rows by classroom id (one query)."""
    rows = db.session.execute(
        select(SessionAttendance).where(SessionAttendance.session_id == session.id)
        .options(joinedload(SessionAttendance.recorded_by))
    ).scalars()
    return {row.classroom_id: row for row in rows}
