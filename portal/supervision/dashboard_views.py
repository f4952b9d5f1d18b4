"""Pages: the supervision dashboard (督导监测), the lists behind its figures with their Excel
registers, and a school's own page for its principals. Routes on the supervision blueprint."""

from __future__ import annotations

import io

from flask import abort, render_template, request, send_file
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from ..core import cache
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, require, require_roles
from ..core.exports import XLSX_MIMETYPE, cell, cell_text, print_setup
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SEMESTER_LABELS, SUBJECT_LABELS, label
from ..core.templating import nav_item, url_for_ids
from ..core.timeutil import local_today, school_year_of, to_local
from ..core.validate import BadRequest, query_choice, query_int
from ..extensions import db
from ..org.models import School
from . import dashboard as figures
from . import home as _home  # noqa: F401  (the home panel)
from .coverage import scoped_county, visible_counties
from .drilldown import LISTS, QUOTA_LABELS, SESSION_LABELS, Link, listing
from .permissions import can_view_school_dashboard
from .school_figures import school_page
from .views import bp

nav_item("supervision.dashboard", _l("Dashboard"), (BUREAU, RESEARCHER), after="supervision.coverage")

LIST_PER_PAGE = 50
YEARS_SHOWN = 5


def _period() -> tuple[int, str | None, list[int]]:
    current = school_year_of(local_today())
    year = query_int("year") or current
    if not 2000 <= year <= current + 1:
        raise BadRequest(_l("Unknown school year."), field="year")
    years = sorted({*range(current - YEARS_SHOWN + 1, current + 1), year}, reverse=True)
    return year, query_choice("semester", figures.SEMESTERS), years


def _scope() -> tuple[figures.Scope, list, list[int]]:
    county = scoped_county(current_user, query_int("county"))
    counties = visible_counties(current_user)
    year, semester, years = _period()
    scope = figures.make_scope(current_user, county, counties, year, semester)
    choosable = counties if current_user.county_id is None else []
    return scope, choosable, years


def chart_labels() -> dict:
    labels = {
        "teachers": _("Rural teachers in a 名师+ community"), "principals": _("Rural principals in a 名校长+ community"),
        "schools": _("Rural schools paired"), "kaiqi": _("Receiving schools fully delivered"),
        "rural_downloads": _("Downloads by rural schools"), "rural_uses": _("Used by rural schools"),
        "hours_average": _("Average cycle hours per teacher"), "hours_expected": _("Expected by now"),
        "exchange": _("Teachers in exchange"), "exchange_target": _("Target"),
    }
    labels.update({status: str(text) for status, text in QUOTA_LABELS.items()})
    labels.update({"session:" + status: str(text) for status, text in SESSION_LABELS.items()})
    labels.update({"subject:" + code: str(text) for code, text in SUBJECT_LABELS.items()})
    return labels


@bp.route("/supervision/dashboard")
@require_roles(BUREAU, RESEARCHER)
def dashboard():
    scope, choosable, years = _scope()
    board = figures.build(current_user, scope)
    return render_template(
        "supervision/dashboard.html", board=board, scope=scope, counties=choosable, years=years,
        semesters=SEMESTER_LABELS, figures=_figures_html(board, scope, choosable),
        computed_at=to_local(board.computed_at), cache_minutes=max(1, -(-cache.seconds() // 60)),
        resource_url=url_for_ids("resources.resource", "resource_id") if board.top else None,
    )


def _figures_html(board: figures.Dashboard, scope: figures.Scope, choosable: list) -> Markup:
    """The scope's figures as HTML, rendered once per computation of them (``computed_at``) and
    language: every viewer of a scope sees the same figures and links (a city's ~400 linked figures
    took most of the page's time to write out). Whether the viewer may choose a county decides
    whether the per-county links name their county, so it is part of the key."""
    key = ("dashboard_html", scope.county_id, tuple(c.id for c in scope.counties), scope.school_year,
           scope.semester, scope.today, board.computed_at, str(get_locale()), bool(choosable))
    def render() -> Markup:
        html = render_template(
            "supervision/_dashboard_figures.html", board=board, scope=scope, counties=choosable,
            charts=figures.chart_data(board, chart_labels()), quota_labels=QUOTA_LABELS,
            session_labels=SESSION_LABELS, threshold=figures.kaiqi_threshold())
        return Markup(html)  # noqa: S704  (a rendered template: autoescape wrote every value)

    return cache.cached(key, render)


def _listing(key: str):
    if key not in LISTS:
        abort(404)
    scope, choosable, years = _scope()
    return scope, choosable, years, listing(key, scope, request.args)


@bp.route("/supervision/dashboard/lists/<key>")
@require_roles(BUREAU, RESEARCHER)
def dashboard_list(key: str):
    scope, choosable, years, found = _listing(key)
    # The list's length and each page opened are aggregates over the same records as the figures
    # (0.5 s for the city's receiving schools): kept like the figures, dropped on any change.
    cache_key = ("list", key, scope.county_id, scope.school_year, scope.semester, scope.today,
                 tuple(sorted((k, v) for k, v in found.filters.items() if v is not None)))
    page = cache.cached_page(cache_key, found.stmt, LIST_PER_PAGE)
    # A page's rows may need one more aggregate (the receiving schools' short subjects: 15 ms for
    # the city); they hold translated words and links of the scope only, not of the viewer, so they
    # are kept written out as HTML (a page's 500 cells took 1 ms to write).
    rows = cache.cached((*cache_key, "rows", page.page, page.per_page, str(get_locale())),
                        lambda: _rows_html(found, page.items))
    return render_template("supervision/dashboard_list.html", scope=scope, listing=found, page=page,
                           rows=rows, counties=choosable, years=years, semesters=SEMESTER_LABELS)


def _rows_html(found, items) -> Markup:
    html = render_template("supervision/_dashboard_list_rows.html", rows=_cells(found.columns, found.rows(items)),
                           columns=found.columns)
    return Markup(html)  # noqa: S704  (a rendered template: autoescape wrote every value)


_NUMBER = Markup(' class="num"')


def _cells(columns, rows) -> list[list[tuple]]:
    """Each row's cells as (class attribute, link or None, text), worked out here once per cell rather
    than by the template's attribute lookups (a page is 500 cells). Kept rows are not changed."""
    classes = [_NUMBER if column.number else "" for column in columns]

    def cell(index: int, value) -> tuple:
        css = classes[index] if index < len(classes) else ""
        if value is None:
            return css, None, ""
        if isinstance(value, Link):
            return css, value.url, value.text
        return css, None, value

    return [[cell(index, value) for index, value in enumerate(row)] for row in rows]


def scope_text(scope: figures.Scope) -> str:
    county = scope.county.name if scope.county else _("Whole city")
    return _("%(county)s · %(period)s · as of %(day)s", county=county, period=scope.label,
             day=local_today().isoformat())


def register_workbook(title: str, subtitle: str, columns, rows) -> io.BytesIO:
    """A printable register (台账): a title row, the scope, a bold framed header repeated on every
    printed page, set widths, landscape and fitted to the page width."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "".join(ch for ch in cell_text(title) if ch not in "[]:*?/\\'")[:31] or "Sheet1"
    width = max(len(columns), 1)
    sheet.append([cell_text(title)])
    sheet.append([cell_text(subtitle)])
    sheet.append([cell_text(column.title) for column in columns])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet["A2"].alignment = Alignment(horizontal="center")
    thin = Side(style="thin")
    for index, column in enumerate(columns, start=1):
        header = sheet.cell(row=3, column=index)
        header.font = Font(bold=True)
        header.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for row in rows:
        sheet.append([cell(str(value)) if isinstance(value, Link) else cell(value) for value in row])
    print_setup(sheet, header_row=3)
    sheet.print_options.horizontalCentered = True
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


@bp.route("/supervision/dashboard/lists/<key>/export.xlsx")
@require_roles(BUREAU, RESEARCHER)
def dashboard_list_export(key: str):
    scope, _choosable, _years, found = _listing(key)
    rows = found.rows(db.session.execute(found.statement()).all())
    title = _("Supervision register: %(title)s", title=found.title)
    buffer = register_workbook(title, scope_text(scope), found.columns, rows)
    county = f"-{scope.county.code or scope.county.id}" if scope.county else ""
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"supervision-{key}-{scope.school_year}{county}-{local_today().isoformat()}.xlsx")


@bp.route("/supervision/schools/<id:school_id>")
@require_roles(BUREAU, RESEARCHER, PRINCIPAL)
def school_dashboard(school_id: int):
    school = db.get_or_404(School, school_id)
    require(can_view_school_dashboard(current_user, school))
    year, semester, years = _period()
    scope = figures.period_scope(school.county, [school.county], year, semester)
    page = school_page(current_user, school, scope)
    return render_template("supervision/dashboard_school.html", page=page, school=school, scope=scope, years=years,
                           semesters=SEMESTER_LABELS, quota_labels=QUOTA_LABELS, threshold=figures.kaiqi_threshold(),
                           subject_label=lambda code: label(SUBJECT_LABELS, code), to_local=to_local)
