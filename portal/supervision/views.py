"""Pages: coverage of rural teachers and principals, its gap lists, and their Excel export."""

from __future__ import annotations

import io
from itertools import groupby

from flask import Blueprint, render_template, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ..core.authz import BUREAU, RESEARCHER, require_roles
from ..core.labels import SUBJECT_LABELS
from ..core.pagination import Page, page_args
from ..core.templating import nav_item
from ..core.timeutil import local_today
from ..core.validate import query_choice, query_int
from ..extensions import db
from .coverage import GAP_ROLES, coverage_by_county, gap_statement, scoped_county, sum_coverage, visible_counties

bp = Blueprint("supervision", __name__)

nav_item("supervision.coverage", _l("Coverage"), (BUREAU, RESEARCHER))

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GAP_PER_PAGE = 50


def subjects_text(codes) -> str:
    return "、".join(str(SUBJECT_LABELS.get(code, code)) for code in codes or ())


def _scope():
    county = scoped_county(current_user, query_int("county"))
    counties = visible_counties(current_user)
    return county, counties, coverage_by_county(counties, county.id if county else None)


@bp.route("/supervision/coverage")
@require_roles(BUREAU, RESEARCHER)
def coverage():
    county, counties, rows = _scope()
    role = query_choice("gaps", GAP_ROLES) or "teacher"
    total = sum_coverage(rows)
    # The gap list's length is already known (total - covered): no second count over the city.
    number, per_page = page_args(GAP_PER_PAGE)
    stmt = gap_statement(role, county.id if county else None).limit(per_page).offset((number - 1) * per_page)
    missing = (total.teachers if role == "teacher" else total.principals).missing
    page = Page(items=list(db.session.execute(stmt)), total=missing, page=number, per_page=per_page)
    # Rows come ordered by county, school and name: group them by school for the table.
    groups = [(key, list(items)) for key, items in groupby(page.items, key=lambda r: (r[0], r[1], r[2]))]
    return render_template(
        "supervision/coverage.html",
        county=county,
        rows=rows,
        total=total,
        counties=counties if current_user.county_id is None else [],
        role=role,
        page=page,
        groups=groups,
        subjects_text=subjects_text,
    )


_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet would run as a formula is kept as text (formula injection)."""
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        return "'" + value
    return value


def _header(sheet, titles) -> None:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=str(title))
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)


def _sheet_title(text) -> str:
    return "".join(ch for ch in str(text) if ch not in "[]:*?/\\")[:31]


@bp.route("/supervision/coverage/export.xlsx")
@require_roles(BUREAU, RESEARCHER)
def coverage_export():
    """The gap lists as a workbook: a summary sheet, then one sheet per list, one query each."""
    county, _counties, rows = _scope()
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(_sheet_title(_("Summary")))
    summary.column_dimensions["A"].width = 24
    _header(summary, [_("County"), _("Rural teachers"), _("Covered"), "%", _("Rural principals"), _("Covered"), "%",
                      _("Rural schools"), _("Paired")])
    total = sum_coverage(rows, _("Total"))
    for row in [*rows, total]:
        summary.append([safe_cell(row.name), row.teachers.total, row.teachers.done, row.teachers.percent,
                        row.principals.total, row.principals.done, row.principals.percent,
                        row.schools.total, row.schools.done])
    summary.append([])
    summary.append([_("Pairings are not recorded yet: no rural school counts as paired.")])
    titles = {"teacher": _("Teachers not covered"), "principal": _("Principals not covered")}
    for role in GAP_ROLES:
        sheet = workbook.create_sheet(_sheet_title(titles[role]))
        for letter, width in zip("ABCDEF", (18, 28, 12, 16, 16, 20)):
            sheet.column_dimensions[letter].width = width
        _header(sheet, [_("County"), _("School"), _("Name"), _("Username"), _("Phone"), _("Subjects")])
        stmt = gap_statement(role, county.id if county else None, with_phone=True)
        for county_name, _school_id, school_name, _user_id, name, username, subjects, phone in (
            db.session.execute(stmt.execution_options(yield_per=2000))
        ):
            sheet.append([safe_cell(county_name), safe_cell(school_name), safe_cell(name), safe_cell(username),
                          safe_cell(phone), safe_cell(subjects_text(subjects))])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    scope = f"-{county.code or county.id}" if county else ""
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"coverage-gaps{scope}-{local_today().isoformat()}.xlsx")
