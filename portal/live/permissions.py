"""Who may be in a session's live room, and as what.

The main teacher controls; the assistant of a receiving classroom speaks for that classroom;
everyone else scheduling lets see the session (the principals of the schools involved, the
county's researchers and bureau) watches, read-only.
"""

from __future__ import annotations

from ..scheduling.models import LiveSession
from ..scheduling.permissions import can_view_session
from .protocol import ASSISTANT, OBSERVER, TEACHER


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
    return (OBSERVER, []) if can_view_session(user, session) else (None, [])


def can_view_live_summary(user, session: LiveSession) -> bool:
    """Everyone who may be in the room may read what happened in it."""
    return room_role(user, session)[0] is not None
