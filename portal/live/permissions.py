"""Who may be in a session's live room, and as what.

The main teacher controls; the assistant of a receiving classroom speaks for that classroom;
everyone else scheduling lets see the session (the principals of the schools involved, the
county's researchers and bureau) watches, read-only.
"""

from __future__ import annotations

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, has_role
from ..scheduling.models import LiveSession
from .protocol import ASSISTANT, OBSERVER, TEACHER

try:  # scheduling's own predicate (contracts.md); the fallback below follows the same rule
    from ..scheduling.permissions import can_view_session as _can_view_session
except ImportError:  # pragma: no cover - only until scheduling ships it
    _can_view_session = None


def _observes(user, session: LiveSession) -> bool:
    live_class = session.live_class
    rooms = [live_class.main_classroom, *(r.classroom for r in live_class.receiving)]
    if has_role(user, PRINCIPAL):
        return user.school_id is not None and any(room.school_id == user.school_id for room in rooms)
    if has_role(user, RESEARCHER, BUREAU):
        return user.county_id is None or any(room.school.county_id == user.county_id for room in rooms)
    return False


def room_role(user, session: LiveSession) -> tuple[str | None, list[int]]:
    """(role, classroom ids the person speaks for) in this session's room; (None, []) if not allowed."""
    if not (user and user.is_authenticated and user.is_active):
        return None, []
    live_class = session.live_class
    if live_class.main_teacher_id == user.id:
        return TEACHER, [live_class.main_classroom_id]
    mine = [r.classroom_id for r in live_class.receiving if r.assistant_id == user.id]
    if mine:
        return ASSISTANT, mine
    allowed = _can_view_session(user, session) if _can_view_session is not None else _observes(user, session)
    return (OBSERVER, []) if allowed else (None, [])


def can_view_live_summary(user, session: LiveSession) -> bool:
    """Everyone who may be in the room may read what happened in it."""
    return room_role(user, session)[0] is not None
