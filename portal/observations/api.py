"""API: POST /api/v1/observations (CONTRACT.md)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..core.api import api, login_required
from ..core.errors import Invalid, NotAllowed
from ..core.i18n import gettext as _
from ..core.timeutil import isoformat_local
from ..core.validate import json_body
from ..extensions import db
from . import services
from .permissions import can_record_observations

REQUIRED = ("observed_teacher_id", "date", "periods", "subject")
# API names → the record's fields
RENAMED = {"date": "observed_on", "notes": "record_html"}
OPTIONAL = {"topic", "notes", "scores", "suggestions", "live_session_id", "kind", "classroom_id", "strengths",
            "problems", "grade", "private_notes", "action_steps", "draft"}


def observation_json(observation) -> dict:
    return {
        "id": observation.id,
        "observer_id": observation.observer_id,
        "observed_teacher_id": observation.observed_teacher_id,
        "school_id": observation.school_id,
        "classroom_id": observation.classroom_id,
        "date": observation.observed_on.isoformat(),
        "periods": observation.periods,
        "subject": observation.subject,
        "topic": observation.topic,
        "kind": observation.kind,
        "status": observation.status,
        "finalized_at": isoformat_local(observation.finalized_at),
        "live_session_id": observation.live_session_id,
        "rubric_template_id": observation.rubric_template_id,
        "scores": observation.scores or {},
        "total_score": observation.total_score,
        "grade": observation.grade,
        "notes": observation.record_html,
        "strengths": observation.strengths,
        "problems": observation.problems,
        "suggestions": observation.suggestions,
        "action_steps": [s.text for s in observation.action_steps],
    }


@api.route("/observations", methods=["POST"])
@login_required
def create_observation():
    """Record a lesson observation. The record is FINALISED on creation (locked, counted by the
    quota, the observed teacher is told) unless the body says ``"draft": true``. Scores are
    keyed by the dimension codes of the current default rubric; a date in the future, periods
    outside 1–4 and scores outside the rubric are refused with a 422 naming the field."""
    if not can_record_observations(current_user):
        raise NotAllowed(_("You cannot record observations."))
    data = json_body()
    unknown = set(data) - set(REQUIRED) - OPTIONAL
    if unknown:
        raise Invalid(_("Unknown fields: %(names)s.", names=", ".join(sorted(unknown))))
    for name in REQUIRED:
        if data.get(name) is None:
            raise Invalid(_("%(field)s is required.", field=name), field=name)
    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        raise Invalid(_("draft must be true or false."), field="draft")
    for name in ("date", "subject", "topic", "notes", "suggestions", "kind", "strengths", "problems", "grade",
                 "private_notes"):
        if name in data and data[name] is not None and not isinstance(data[name], str):
            raise Invalid(_("%(field)s must be text.", field=name), field=name)
    for name in ("observed_teacher_id", "periods", "live_session_id", "classroom_id"):
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise Invalid(_("%(field)s must be a whole number.", field=name), field=name)
    raw = {RENAMED.get(k, k): v for k, v in data.items() if k != "draft"}
    try:
        observation = services.create_observation(current_user, raw, final=not draft)
    except Invalid as exc:
        # Report the API's own field names.
        reverse = {v: k for k, v in RENAMED.items()}
        if exc.field in reverse:
            exc.field = reverse[exc.field]
        raise
    db.session.commit()
    return jsonify(observation_json(observation)), 201
