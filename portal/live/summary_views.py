"""The summary page of a session's live room, and its Excel export."""

from __future__ import annotations

from flask import render_template, send_file
from flask_login import current_user

from ..core.authz import ROLES, require, require_roles
from ..core.exports import XLSX_MIMETYPE
from ..core.timeutil import to_local
from .permissions import can_view_live_summary
from .summary import build_summary, summary_workbook
from .views import bp, load_session


@bp.route("/live-sessions/<id:session_id>/summary")
@require_roles(*ROLES)
def summary(session_id: int):
    session = load_session(session_id)
    require(can_view_live_summary(current_user, session))
    return render_template("live/summary.html", session=session, live_class=session.live_class,
                           summary=build_summary(session))


@bp.route("/live-sessions/<id:session_id>/summary.xlsx")
@require_roles(*ROLES)
def summary_export(session_id: int):
    session = load_session(session_id)
    require(can_view_live_summary(current_user, session))
    day = to_local(session.starts_at).date().isoformat()
    return send_file(summary_workbook(build_summary(session)), mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"live-session-{session.id}-{day}.xlsx")
