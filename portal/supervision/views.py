"""Pages: coverage of rural teachers, principals and schools, its gap lists, and their Excel export;
the yearly health of partnerships and its export."""

from __future__ import annotations

import io
from itertools import groupby

from flask import Blueprint, current_app, render_template, send_file
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from openpyxl import Workbook

from ..core import cache
from ..core.authz import BUREAU, RESEARCHER, require_roles
from ..core.exports import XLSX_MIMETYPE, cell, header_row
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import safe_translation
from ..core.labels import (
    PAIRING_ACTIVITY_LABELS,
    PARTNERSHIP_KIND_LABELS,
    SCHOOL_KIND_LABELS,
    STAGE_LABELS,
    SUBJECT_LABELS,
    label,
    translated,
)
from ..core.pagination import Page, page_args
from ..core.templating import format_local_date, nav_item, url_for_ids
from ..core.timeutil import local_today, school_year_of
from ..core.validate import BadRequest, query_choice, query_int
from ..extensions import db
from ..partnerships.health import QUIET_DAYS, HealthQuery
from ..partnerships.models import ACTIVITY_KINDS, KINDS
from .coverage import (
    GAP_LISTS,
    GAP_ROLES,
    coverage_by_county,
    gap_statement,
    paired_today,
    scoped_county,
    sum_coverage,
    unpaired_schools_statement,
    visible_counties,
)

bp = Blueprint("supervision", __name__)

nav_item("supervision.coverage", _l("Coverage"), (BUREAU, RESEARCHER))

GAP_PER_PAGE = 50
HEALTH_PER_PAGE = 30
PROBLEM_LABELS = {"inactive": _l("Inactive"), "no_goals": _l("No goals")}


def subjects_text(codes, labels=SUBJECT_LABELS) -> str:
    return "、".join(str(labels.get(code, code)) for code in codes or ())


def _scope():
    county = scoped_county(current_user, query_int("county"))
    counties = visible_counties(current_user)
    return county, counties, coverage_by_county(counties, county.id if county else None)


def _coverage_row_texts() -> dict[str, str]:
    """The texts of the coverage page's rows, translated once per page; safe like the template's own
    ``_()``, so that ``%`` escapes only the county's name."""
    return {
        "teachers_in": safe_translation(_("Rural teachers covered in %(county)s")),
        "principals_in": safe_translation(_("Rural principals covered in %(county)s")),
        "schools_in": safe_translation(_("Rural schools paired in %(county)s")),
        "weak": _("Weak"),
        "only_rural": _("Only with rural schools"),
        "none": _("None"),
    }


@bp.route("/supervision/coverage")
@require_roles(BUREAU, RESEARCHER)
def coverage():
    county, counties, rows = _scope()
    role = query_choice("gaps", GAP_LISTS) or "teacher"
    total = sum_coverage(rows)
    # The gap list's length is already known (total - covered): no second count over the city.
    number, per_page = page_args(GAP_PER_PAGE)
    county_id = county.id if county else None
    if role == "school":
        missing = total.schools.missing

        def statement():
            return unpaired_schools_statement(county_id, paired_today(), local_today())
    else:
        missing = (total.teachers if role == "teacher" else total.principals).missing

        def statement():
            return gap_statement(role, county_id)
    # The statement is only built when the page is not kept (building it costs more than the page).
    cache_key = ("coverage_gaps", role, county_id, number, per_page, local_today())
    items = cache.cached(cache_key, lambda: list(db.session.execute(
        statement().limit(per_page).offset((number - 1) * per_page))))
    page = Page(items=items, total=missing, page=number, per_page=per_page)
    # Rows come ordered by county, school and name: group people by school, schools by county.
    # Links, labels and subjects are made here, once per page, rather than per row in the template.
    school_url = url_for_ids("org.school", "school_id")
    if role == "school":
        kinds, stages = translated(SCHOOL_KIND_LABELS), translated(STAGE_LABELS)
        groups = [
            (key, [(school_url(r[1]), r[2], r[5], kinds.get(r[3], r[3]), stages.get(r[4], r[4]), r[6], r[7])
                   for r in items])
            for key, items in groupby(page.items, key=lambda r: r[0])
        ]
    else:
        subjects = translated(SUBJECT_LABELS)
        groups = [
            ((key[0], school_url(key[1]), key[2]), [(r[4], r[5], subjects_text(r[6], subjects)) for r in items])
            for key, items in groupby(page.items, key=lambda r: (r[0], r[1], r[2]))
        ]
    county_url = url_for_ids("supervision.coverage", "county", gaps=role)
    return render_template(
        "supervision/coverage.html",
        county=county,
        rows=rows,
        total=total,
        counties=counties if current_user.county_id is None else [],
        role=role,
        page=page,
        groups=groups,
        county_links=[county_url(row.id) for row in rows],
        texts=_coverage_row_texts(),
    )


def _sheet_title(text) -> str:
    return "".join(ch for ch in str(text) if ch not in "[]:*?/\\")[:31]


def _unpaired_sheet(workbook, county) -> None:
    """The rural schools with no urban partner, one query."""
    sheet = workbook.create_sheet(_sheet_title(_("Schools not paired")))
    for letter, width in zip("ABCDEFGH", (18, 28, 14, 16, 8, 10, 22)):
        sheet.column_dimensions[letter].width = width
    header_row(sheet, [_("County"), _("School"), _("Kind"), _("Stage"), _("Weak"), _("Students"),
                    _("In a partnership")])
    yes, no = _("Yes"), _("No")
    stmt = unpaired_schools_statement(county.id if county else None, paired_today(), local_today())
    for county_name, _id, name, kind, stage, weak, students, in_partnership in db.session.execute(stmt):
        sheet.append([cell(county_name), cell(name), label(SCHOOL_KIND_LABELS, kind),
                      label(STAGE_LABELS, stage), yes if weak else no, students, yes if in_partnership else no])


@bp.route("/supervision/coverage/export.xlsx")
@require_roles(BUREAU, RESEARCHER)
def coverage_export():
    """The gap lists as a workbook: a summary sheet, then one sheet per list, one query each."""
    county, _counties, rows = _scope()
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(_sheet_title(_("Summary")))
    summary.column_dimensions["A"].width = 24
    header_row(summary, [_("County"), _("Rural teachers"), _("Covered"), "%", _("Rural principals"), _("Covered"), "%",
                      _("Rural schools"), _("Paired"), "%"])
    total = sum_coverage(rows, _("Total"))
    for row in [*rows, total]:
        summary.append([cell(row.name), row.teachers.total, row.teachers.done, row.teachers.percent,
                        row.principals.total, row.principals.done, row.principals.percent,
                        row.schools.total, row.schools.done, row.schools.percent])
    titles = {"teacher": _("Teachers not covered"), "principal": _("Principals not covered")}
    for role in GAP_ROLES:
        sheet = workbook.create_sheet(_sheet_title(titles[role]))
        for letter, width in zip("ABCDEF", (18, 28, 12, 16, 16, 20)):
            sheet.column_dimensions[letter].width = width
        header_row(sheet, [_("County"), _("School"), _("Name"), _("Username"), _("Phone"), _("Subjects")])
        stmt = gap_statement(role, county.id if county else None, with_phone=True)
        for county_name, _school_id, school_name, _user_id, name, username, subjects, phone in (
            db.session.execute(stmt.execution_options(yield_per=2000))
        ):
            sheet.append([cell(county_name), cell(school_name), cell(name), cell(username),
                          cell(phone), cell(subjects_text(subjects))])
    _unpaired_sheet(workbook, county)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    scope = f"-{county.code or county.id}" if county else ""
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"coverage-gaps{scope}-{local_today().isoformat()}.xlsx")


# --- the yearly health of partnerships ---------------------------------------------------------


def _health_query():
    """The viewer's partnerships for the school year asked (default: the current one), filtered."""
    county = scoped_county(current_user, query_int("county"))
    counties = visible_counties(current_user) if current_user.county_id is None else []
    current = school_year_of(local_today())
    year = query_int("year") or current
    if not 2000 <= year <= 2100:
        raise BadRequest(_l("Unknown school year."), field="year")
    kind = query_choice("kind", KINDS)
    only_problems = query_choice("problems", ("1",)) == "1"
    # County staff are already limited to their county's partnerships by scope_partnerships.
    county_id = county.id if county and current_user.county_id is None else None
    query = HealthQuery(current_user, year, local_today(), county_id=county_id, kind=kind, only_problems=only_problems)
    years = sorted({*range(current - 4, current + 1), year}, reverse=True)
    return query, county, counties, years


def activities_text(activities: dict, labels=PAIRING_ACTIVITY_LABELS) -> str:
    return "、".join(f"{label(labels, kind)} {n}" for kind, n in sorted(activities.items(), key=lambda kv: -kv[1]))


@bp.route("/supervision/partnerships")
@require_roles(BUREAU, RESEARCHER)
def partnership_health():
    query, county, counties, years = _health_query()
    page = query.page(HEALTH_PER_PAGE)
    # The rows are read on every request (log entries and goals are not watched by the figures
    # cache), but many viewers see the same: their HTML is kept by the very values read and the
    # language, worked out and written once rather than on each request (30 rows: 0.8 ms).
    read = tuple((row.partnership, tuple(row.activities.items()), row.people_exchanged, row.visits)
                 for row in page.items)
    html = cache.cached(("partnership-health-rows", str(get_locale()), query.only_problems, read),
                        lambda: _health_rows_html(page.items, query.only_problems))
    return render_template(
        "supervision/partnerships.html",
        query=query,
        county=county,
        counties=counties,
        years=years,
        kinds=KINDS,
        page=page,
        rows=html,
        quiet_days=QUIET_DAYS,
        # a gettext call inside a template loop copies the template's context: the years' names here
        texts={"school_year": safe_translation(_("%(start)d–%(end)d school year"))},
    )


def _health_rows_html(items, only_problems: bool) -> Markup:
    texts = {"written": _("Written"), "none": _("None"), "ok": _("OK")}
    html = render_template("supervision/_partnership_rows.html", rows=_health_rows(items), only_problems=only_problems,
                           texts=texts)
    return Markup(html)  # noqa: S704  (a rendered template: autoescape wrote every value)


def _health_rows(items) -> list[tuple]:
    """Each partnership's cells: (link or None, name, kind, "until" its end or None, lead school,
    member schools, log entries, entries by kind or "", "latest" entry or None, people exchanged,
    visits, has goals, its problems' labels), worked out here rather than by the template's
    attribute lookups, filters and filled-in texts."""
    partnership_url = (url_for_ids("partnerships.partnership", "partnership_id")
                       if "partnerships.partnership" in current_app.view_functions else None)
    kinds, problems = translated(PARTNERSHIP_KIND_LABELS), translated(PROBLEM_LABELS)
    activity_labels = translated(PAIRING_ACTIVITY_LABELS)
    until, latest = safe_translation(_("until %(day)s")), safe_translation(_("Latest: %(day)s"))
    rows = []
    for row in items:
        p = row.partnership
        rows.append((
            partnership_url(p.id) if partnership_url else None, p.name, kinds.get(p.kind) or p.kind,
            until % {"day": format_local_date(p.end_date)} if p.end_date else None, row.lead_name, row.members,
            row.entries, activities_text(row.activities, activity_labels),
            latest % {"day": format_local_date(row.last_entry)} if row.last_entry else None,
            row.people_exchanged, row.visits, row.has_goals, [problems[problem] for problem in row.problems],
        ))
    return rows


@bp.route("/supervision/partnerships/export.xlsx")
@require_roles(BUREAU, RESEARCHER)
def partnership_health_export():
    """Every partnership of the page's filters, one row each, with a column per kind of activity."""
    query, county, _counties, _years = _health_query()
    rows = query.rows(db.session.execute(query.statement()), ids=query.ids())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(_("Partnership health")))
    for letter, width in zip("ABCDE", (30, 22, 26, 12, 12)):
        sheet.column_dimensions[letter].width = width
    header_row(sheet, [_("Partnership"), _("Kind"), _("Lead school"), _("Start date"), _("End date"),
                    _("Member schools"), _("Log entries"),
                    *[label(PAIRING_ACTIVITY_LABELS, kind) for kind in ACTIVITY_KINDS],
                    _("Latest entry"), _("People exchanged"), _("Researcher visits"), _("Goals written"),
                    _("Status")])
    yes, no = _("Yes"), _("No")
    for row in rows:
        p = row.partnership
        sheet.append([
            cell(p.name), label(PARTNERSHIP_KIND_LABELS, p.kind), cell(row.lead_name), p.start_date,
            p.end_date, row.members, row.entries, *[row.activities.get(kind, 0) for kind in ACTIVITY_KINDS],
            row.last_entry, row.people_exchanged, row.visits, yes if row.has_goals else no,
            "、".join(str(PROBLEM_LABELS[problem]) for problem in row.problems) or _("OK"),
        ])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    scope = f"-{county.code or county.id}" if county else ""
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"partnership-health-{query.school_year}{scope}-{local_today().isoformat()}.xlsx")
