"""API: partnerships the caller may see."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.api import api, listing, login_required
from ..core.errors import NotFound
from ..core.i18n import gettext as _
from ..core.pagination import paginate
from ..core.validate import query_choice
from ..extensions import db
from .models import KINDS, Partnership
from .permissions import can_view_partnership, scope_partnerships


def partnership_json(p: Partnership) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "lead_school_id": p.lead_school_id,
        "member_school_ids": [m.school_id for m in p.members],
        "start_date": p.start_date.isoformat(),
        "end_date": p.end_date.isoformat() if p.end_date else None,
    }


@api.route("/partnerships")
@login_required
def list_partnerships():
    stmt = scope_partnerships(current_user, select(Partnership).options(selectinload(Partnership.members)).order_by(Partnership.id))
    kind = query_choice("kind", KINDS)
    if kind:
        stmt = stmt.where(Partnership.kind == kind)
    return jsonify(listing(paginate(db.session, stmt), partnership_json))


@api.route("/partnerships/<id:partnership_id>")
@login_required
def get_partnership(partnership_id: int):
    p = db.session.get(Partnership, partnership_id)
    if p is None or not can_view_partnership(current_user, p):
        raise NotFound(_("There is no partnership with this id."))
    return jsonify(partnership_json(p))
