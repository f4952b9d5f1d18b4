"""API: GET /live-sessions/<id>/summary (CONTRACT.md: {"id", "attendance": [...], "events": N, ...})."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..core.api import api, login_required
from ..core.errors import NotAllowed, NotFound
from ..core.i18n import lazy_gettext as _l
from .permissions import can_view_live_summary
from .room import load_session
from .summary import build_summary, summary_json


@api.get("/live-sessions/<id:session_id>/summary")
@login_required
def live_session_summary(session_id: int):
    session = load_session(session_id)
    if session is None:
        raise NotFound(_l("There is no such session."))
    if not can_view_live_summary(current_user, session):
        raise NotAllowed(_l("Only the people of this session and its observers see its summary."))
    return jsonify(summary_json(build_summary(session)))
