"""The audit trail page for the bureau (/admin/audit) and its Excel export; routes on accounts.bp."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

from flask import render_template, request, send_file
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.audit import (
    ACTION_LABELS,
    OBJECT_TYPE_LABELS,
    OBJECT_TYPES,
    AuditEntry,
    can_read_audit,
    visible_audit_entries,
)
from ..core.authz import BUREAU, require, require_roles
from ..core.errors import Invalid
from ..core.exports import XLSX_MIMETYPE, cell_text, header_row
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import label
from ..core.pagination import paginate
from ..core.templating import nav_item
from ..core.timeutil import portal_tz, to_local
from ..core.validate import BadRequest, parse_date, query_choice, query_int, query_str
from ..extensions import db
from .models import User
from .services import normalise_username
from .views import bp

nav_item("accounts.audit_log", _l("Audit log"), (BUREAU,), after="accounts.admin_users")

MAX_EXPORT_ROWS = 10_000
# The page an entry's object is read on: object type → (endpoint, its id argument). The target
# page checks access itself; an object deleted since shows its 404.
OBJECT_PAGES = {
    "observation": ("observations.record", "observation_id"),
    "live_class": ("scheduling.live_class", "class_id"),
    "live_session": ("scheduling.live_session", "session_id"),
    "partnership": ("partnerships.partnership", "partnership_id"),
    "community": ("communities.community", "community_id"),
}


def _day_start(day) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=portal_tz()).astimezone(UTC)


def _query_date(name: str):
    """A date filter; anything but a date like 2026-09-01 is a 400 with the reason."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_date(raw, name)
    except Invalid as exc:
        raise BadRequest(exc.message, field=name) from None


def _filtered(user):
    """The visible entries narrowed by the query string's filters, and the filters as given."""
    stmt = visible_audit_entries(user)
    filters = {
        "type": query_choice("type", OBJECT_TYPES),
        "object_id": query_int("object_id"),
        "actor": query_str("actor", max_length=64),
        "since": _query_date("since"),
        "until": _query_date("until"),
    }
    if filters["type"]:
        stmt = stmt.where(AuditEntry.object_type == filters["type"])
    if filters["object_id"]:
        stmt = stmt.where(AuditEntry.object_id == filters["object_id"])
    if filters["actor"]:
        stmt = stmt.where(AuditEntry.actor_id.in_(select(User.id).where(User.username == normalise_username(filters["actor"]))))
    since, until = filters["since"], filters["until"]
    if since and until and until < since:
        raise BadRequest(_l("The end date cannot be before the start date."), field="until")
    if since:
        stmt = stmt.where(AuditEntry.at >= _day_start(since))
    if until:
        stmt = stmt.where(AuditEntry.at < _day_start(until + timedelta(days=1)))
    return stmt.options(selectinload(AuditEntry.actor)), filters


@bp.route("/admin/audit")
@require_roles(BUREAU)
def audit_log():
    require(can_read_audit(current_user))
    stmt, filters = _filtered(current_user)
    page = paginate(db.session, stmt, default_per_page=50)
    return render_template("accounts/audit.html", page=page, filters=filters, types=OBJECT_TYPE_LABELS,
                           actions=ACTION_LABELS, export_args=request.args.to_dict(),
                           object_pages=OBJECT_PAGES)


@bp.route("/admin/audit.xlsx")
@require_roles(BUREAU)
def audit_log_export():
    require(can_read_audit(current_user))
    stmt, _filters = _filtered(current_user)
    rows = db.session.execute(stmt.limit(MAX_EXPORT_ROWS)).scalars()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Audit log"))
    header_row(sheet, [_("When"), _("Who"), _("Username"), _("Action"), _("Object"), _("Id"), _("Summary")])
    for entry in rows:
        sheet.append([
            to_local(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
            cell_text(entry.actor.name if entry.actor else "—"),
            cell_text(entry.actor.username if entry.actor else ""),
            cell_text(label(ACTION_LABELS, entry.action)),
            cell_text(label(OBJECT_TYPE_LABELS, entry.object_type)),
            entry.object_id,
            cell_text(entry.summary),
        ])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name="audit-log.xlsx")
