"""API: GET /api/v1/observations/progress (CONTRACT.md)."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from ..accounts.models import User
from ..core.api import api, login_required
from ..core.errors import NotAllowed, NotFound
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.timeutil import local_today, school_year_of
from ..core.validate import BadRequest, query_choice, query_int
from ..extensions import db
from .quota import Progress, progress_in
from .quota_permissions import can_view_progress


def progress_json(user: User, school_year: int, progress: Progress, on) -> dict:
    return {
        "observer_id": user.id,
        "school_year": school_year,
        "required": progress.required,
        "done": progress.done,
        "on_track": progress.on_track,
        "expected": progress.expected,
        "status": progress.status,
        "percent": progress.percent,
        "period": progress.period,
        "semester": progress.semester,
        "period_start": progress.period_start.isoformat(),
        "period_end": progress.period_end.isoformat(),
        "as_of": on.isoformat(),
        "rule_id": progress.rule.id if progress.rule is not None else None,
    }


def _school_year() -> int:
    raw = request.args.get("school_year")
    if raw is None or raw == "":
        return school_year_of(local_today())
    if not (raw.isascii() and raw.isdigit()) or len(raw) != 4 or not 2000 <= int(raw) <= 2100:
        raise BadRequest(_l("school_year must be a year from 2000 to 2100, the year the school year starts."),
                         field="school_year")
    return int(raw)


@api.route("/observations/progress")
@login_required
def observation_progress():
    """?observer_id= (default: oneself), ?school_year= (the year it starts; default: the current
    one), ?semester=autumn|spring (optional). Oneself, the principal of the person's school and
    researchers and bureau of their county may ask; others get 403."""
    observer_id = query_int("observer_id") or current_user.id
    school_year = _school_year()
    semester = query_choice("semester", ("autumn", "spring"))
    person = db.session.get(User, observer_id)
    if person is None:
        raise NotFound(_("There is no account with this id."), field="observer_id")
    if not can_view_progress(current_user, person):
        raise NotAllowed(_("You may not see this person's observation progress."), field="observer_id")
    progress = progress_in(person, school_year, semester)
    return jsonify(progress_json(person, school_year, progress, progress.on))

