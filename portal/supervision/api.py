"""API: coverage of rural teachers, principals and schools (CONTRACT.md, GET /coverage)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from ..communities.permissions import can_view_coverage
from ..core.api import api, login_required
from ..core.errors import NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.validate import query_int
from .coverage import coverage_by_county, scoped_county, sum_coverage, visible_counties


@api.route("/coverage")
@login_required
def get_coverage():
    """Totals for the city (or the caller's county, or ``?county=``), and a row per county."""
    if not can_view_coverage(current_user):
        raise NotAllowed(_l("Coverage is for the bureau and teaching researchers."))
    county = scoped_county(current_user, query_int("county"))
    rows = coverage_by_county(visible_counties(current_user), county.id if county else None)
    body = sum_coverage(rows).as_json()
    body["county_id"] = county.id if county else None
    body["counties"] = [{"id": row.id, "name": row.name, **row.as_json()} for row in rows]
    return jsonify(body)
