"""Pages of the observation quota: who is behind (per county, per school), its Excel summary,
and the bureau's rules. Routes on the ``observations`` blueprint of views.py."""

from __future__ import annotations

import functools
import io
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core import cache
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, require, require_roles
from ..core.errors import DomainError, NotAllowed, NotFound
from ..core.exports import XLSX_MIMETYPE, cell, cell_text, print_setup
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import safe_translation
from ..core.labels import OBSERVATION_KIND_LABELS, ROLE_LABELS, label, translated
from ..core.locking import submitted_version
from ..core.templating import nav_item, url_for_ids
from ..core.timeutil import local_today, school_year_of
from ..core.validate import BadRequest, query_choice, query_int
from ..extensions import db
from ..org.models import County, School
from . import quota_services as services
from .quota import STATUS_FILTERS, BehindRow, behind_statement, summary
from .quota_forms import QuotaRuleForm
from .quota_models import QUOTA_ROLES, QuotaRule
from .quota_permissions import can_change_quota_rule, can_manage_quota_rules, can_view_quota_lists
from .views import bp

nav_item("observations.quota", _l("Observation progress"), (BUREAU, RESEARCHER, PRINCIPAL))

PER_PAGE = 30
YEARS_BACK = 4
STATUS_LABELS = {"on_track": _l("On track"), "behind": _l("Behind"), "at_risk": _l("At risk"), "none": _l("No quota")}
PERIOD_LABELS = {"school_year": _l("a school year"), "semester": _l("a semester")}


# --- who is behind -------------------------------------------------------------------------------


def _year_and_day() -> tuple[int, date, list[int]]:
    """The school year asked for (default: the current one) and the day progress is measured on:
    today in the current year, the year's last day for a past one."""
    today = local_today()
    current = school_year_of(today)
    years = list(range(current, current - YEARS_BACK - 1, -1))
    raw = request.args.get("year")
    if raw in (None, ""):
        return current, today, years
    if not (raw.isascii() and raw.isdigit()) or int(raw) not in years:
        raise BadRequest(_l("Choose a school year from the list."), field="year")
    year = int(raw)
    return year, (today if year == current else date(year + 1, 8, 31)), years


# The county filter's choices (id, name): rows rather than ORM objects, the statement built once.
_COUNTY_CHOICES = select(County.id, County.name).order_by(County.name)


def _scope() -> dict:
    """Filters the viewer may use: a county bureau or researcher is held to their county, a
    principal to their school. Asking for another county or school is a 403."""
    county_id, school_id = query_int("county"), query_int("school")
    counties: list = []  # (id, name) rows
    if current_user.role == PRINCIPAL:
        school = current_user.school
        if school_id not in (None, school.id) or county_id not in (None, school.county_id):
            raise NotAllowed(_l("You can only see your own school."), field="school")
        return {"county": school.county, "school": school, "counties": [], "fixed_school": True}
    own = current_user.county_id
    if own is not None and county_id not in (None, own):
        raise NotAllowed(_l("You can only see your own county."), field="county")
    county_id = county_id or own
    county = None
    if county_id is not None:
        county = db.session.get(County, county_id)
        if county is None:
            raise NotFound(_l("There is no county with this id."), field="county")
    if own is None:
        counties = list(db.session.execute(_COUNTY_CHOICES))
    school = None
    if school_id is not None:
        school = db.session.get(School, school_id)
        if school is None:
            raise NotFound(_l("There is no school with this id."), field="school")
        if own is not None and school.county_id != own:
            raise NotAllowed(_l("You can only see your own county."), field="school")
        if county is not None and school.county_id != county.id:
            raise BadRequest(_l("That school is not in the county chosen."), field="school")
    return {"county": county, "school": school, "counties": counties, "fixed_school": False}


def _lazy_query():
    """What the list's viewer asked for, and the list's statement as a maker: most views find the
    list in the figures' cache and need no statement (making it reads the counties, the rules and
    the calendar, and works out each county's targets)."""
    require(can_view_quota_lists(current_user))
    scope = _scope()
    role = query_choice("role", QUOTA_ROLES) or PRINCIPAL
    status = query_choice("status", STATUS_FILTERS)
    year, day, years = _year_and_day()
    make = functools.cache(lambda: behind_statement(
        role, day, county_id=scope["county"].id if scope["county"] else None,
        school_id=scope["school"].id if scope["school"] else None, status=status))
    return make, scope, role, status, year, years, day


def _query():
    make, scope, role, status, year, years, _day = _lazy_query()
    return make(), scope, role, status, year, years


def rules_text(query) -> list[str]:
    """The rules in force for the list, once each, in words."""
    seen, texts = set(), []
    for rule in query.rules.values():
        key = id(rule)
        if key in seen:
            continue
        seen.add(key)
        kinds = "、".join(str(label(OBSERVATION_KIND_LABELS, k)) for k in rule.kinds) if rule.kinds else _("every kind")
        where = rule.county.name if rule.county_id and rule.county else _("the whole city")
        text = _("%(where)s: %(required)d periods in %(period)s; counting %(kinds)s",
                 where=where, required=rule.required, period=PERIOD_LABELS[rule.period], kinds=kinds)
        if rule.max_periods_per_record:
            text += _("; at most %(n)d periods from one record", n=rule.max_periods_per_record)
        if rule.is_builtin:
            text += _(" (the default rule)")
        texts.append(text)
    return texts


@bp.route("/observations/quota", endpoint="quota")
@require_roles(BUREAU, RESEARCHER, PRINCIPAL)
def quota_list():
    query, scope, role, status, year, years, day = _lazy_query()
    groups = []
    by = "school" if scope["county"] else "county"
    total = None
    # The list aggregates every record of the year in its scope (50 ms for a whole city): like the
    # dashboard's figures it is kept until a record behind it changes (core/cache.py). The
    # key holds everything the statement was built from; the day moves the pace.
    key = ("who-is-behind", role, day, scope["county"] and scope["county"].id,
           scope["school"] and scope["school"].id, status)
    # Per school means nothing for staff without a school (researchers work for a county).
    if not scope["fixed_school"] and scope["school"] is None and not (by == "school" and role == RESEARCHER):
        groups = cache.cached((*key, "summary", by), lambda: summary(query(), by=by))
        # The summary already counted everyone listed: no second pass over the city to count.
        total = sum(g["people"] for g in groups)
    page = cache.cached_page(key, lambda: query().stmt, PER_PAGE, total=total)
    # What the heading says of the rules and the period: kept with the list, in each language.
    rules, period, covered = cache.cached((*key, "heading", str(get_locale())), lambda: (
        rules_text(query()), next(iter(query().periods.values()), None), query().covered))
    status_labels = translated(STATUS_LABELS)
    # Every viewer of a page sees the same rows: written out once per language (30 rows were a
    # fifth of the page), keyed by the rows themselves, so never older than the page's own, and by
    # what their words and links follow: whether the county is named, the year of the registers.
    county = scope["county"]
    rows = cache.cached(("who-is-behind-rows", county is None, year, str(get_locale()), tuple(page.items)),
                        lambda: _rows_html(page.items, county, year, status_labels))
    return render_template(
        "observations/quota.html", page=page, scope=scope, role=role, status=status, year=year, years=years,
        on=day, covered=covered, rules=rules, group_by=by, period=period, status_labels=status_labels,
        roles=QUOTA_ROLES, rows=rows, groups=_summary_html(groups, by, scope, role, status, year, years),
        # a gettext call inside a template loop copies the whole template context: the years' names here
        school_year_text=safe_translation(_("%(start)d–%(end)d school year")),
    )


def _rows_html(items, county, year: int, status_labels: dict) -> Markup:
    # The words the rows repeat, translated once for all of them.
    texts = {"register_of": safe_translation(_("Register of %(name)s (Excel)")), "register": _("Register"),
             "short": safe_translation(_("%(n)d short"))}
    html = render_template("observations/quota_rows.html", rows=_rows(items, county, year, status_labels, texts),
                           register=texts["register"])
    return Markup(html)  # noqa: S704  (a rendered template: autoescape wrote every value)


def _rows(items, county, year: int, status_labels: dict, texts: dict) -> list[tuple]:
    """Each person's cells: (name, school or username and county, register link, its title, done,
    required, expected by now, status, status label, shortfall text or None), worked out here rather
    than by the template's attribute lookups and filled-in texts."""
    register = url_for_ids("observations.register_export", "observer_id", year=year)
    result = []
    for raw in items:
        row = BehindRow.of(raw)
        where = row.school_name or row.username
        if row.county_name and not county:
            where = f"{where} · {row.county_name}"
        state = row.status
        shortfall = row.shortfall
        result.append((row.name, where, register(row.user_id), texts["register_of"] % {"name": row.name},
                       row.done, row.required, row.expected, state, status_labels[state],
                       texts["short"] % {"n": shortfall} if shortfall else None))
    return result


def _summary_html(groups: list[dict], by: str, scope, role, status, year: int, years: list[int]) -> Markup | None:
    """The summary's lines, each county's or school's: the same for every viewer of the list, written
    out once per language (a county's 100 schools were 0.6 ms of its page), keyed by the figures
    shown and what their links follow."""
    if not groups:
        return None
    base_year = year if year != years[0] else None
    county = scope["county"]
    county_arg = county.id if by == "school" and county and scope["counties"] else None
    shown = tuple((g["id"], g["name"], g["people"], g["on_track"], g["behind"], g["at_risk"]) for g in groups)

    def render() -> Markup:
        if by == "school":
            group_url = url_for_ids("observations.quota", "school", role=role, status=status, year=base_year,
                                    county=county_arg)
        else:
            group_url = url_for_ids("observations.quota", "county", role=role, status=status, year=base_year)
        lines = [(group_url(gid) if gid else None, *figures) for gid, *figures in shown]
        html = render_template("observations/quota_summary_rows.html", groups=lines, city_staff=_("City-level staff"))
        return Markup(html)  # noqa: S704  (a rendered template: autoescape wrote every value)

    return cache.cached(("who-is-behind-summary", by, role, status, base_year, county_arg, str(get_locale()), shown),
                        render)


def _sheet_title(sheet, title: str, columns: int) -> None:
    sheet.append([cell_text(title)])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")


def _header(sheet, titles, row: int) -> None:
    sheet.append([cell_text(t) for t in titles])
    for c in sheet[row]:
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _printable(sheet, widths, header_row: int) -> None:
    from openpyxl.utils import get_column_letter

    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    print_setup(sheet, header_row)


@bp.route("/observations/quota/export.xlsx", endpoint="quota_export")
@require_roles(BUREAU, RESEARCHER, PRINCIPAL)
def quota_export():
    """The whole list as filtered (every page), and the counts per county or school."""
    query, scope, role, status, year, _years = _query()
    where = (scope["school"].name if scope["school"] else scope["county"].name if scope["county"]
             else _("the whole city"))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = cell_text(_("Who is behind"))[:31]
    titles = [_("No."), _("Name"), _("Username"), _("Role"), _("School"), _("County"), _("Done"), _("Required"),
              _("Expected by now"), _("Shortfall"), _("Status")]
    _sheet_title(sheet, _("Observation progress of %(where)s, %(start)d–%(end)d school year (as of %(day)s)",
                          where=where, start=year, end=year + 1, day=query.on.isoformat()), len(titles))
    _header(sheet, titles, 2)
    role_label = label(ROLE_LABELS, role)
    rows = db.session.execute(query.stmt.execution_options(yield_per=1000))
    for n, raw in enumerate(rows, start=1):
        row = BehindRow.of(raw)
        sheet.append([n, cell(row.name), cell(row.username), cell(role_label), cell(row.school_name or ""),
                      cell(row.county_name or ""), row.done, row.required, row.expected, row.shortfall,
                      cell(str(STATUS_LABELS[row.status]))])
    _printable(sheet, (6, 12, 14, 10, 28, 14, 8, 8, 10, 8, 10), 2)
    by = "school" if scope["county"] else "county"
    if not scope["fixed_school"] and scope["school"] is None and not (by == "school" and role == RESEARCHER):
        sheet = workbook.create_sheet(cell_text(_("Summary"))[:31])
        titles = [_("School") if by == "school" else _("County"), _("People"), _("On track"), _("Behind"),
                  _("At risk"), _("Periods done"), _("Periods required")]
        _sheet_title(sheet, _("Summary, %(start)d–%(end)d school year", start=year, end=year + 1), len(titles))
        _header(sheet, titles, 2)
        for group in summary(query, by=by):
            sheet.append([cell(group["name"] or ""), group["people"], group["on_track"], group["behind"],
                          group["at_risk"], group["done"], group["required"]])
        _printable(sheet, (28, 10, 10, 10, 10, 12, 12), 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"observation-progress-{year}-{query.on.isoformat()}.xlsx")


# --- the rules -----------------------------------------------------------------------------------


def _load_rule(rule_id: int) -> QuotaRule:
    rule = db.session.execute(
        select(QuotaRule).where(QuotaRule.id == rule_id).options(joinedload(QuotaRule.county))
    ).scalar_one_or_none()
    if rule is None:
        abort(404)
    return rule


def _county_choices(form: QuotaRuleForm) -> dict[int, County]:
    stmt = select(County).order_by(County.name)
    if current_user.county_id is not None:
        stmt = stmt.where(County.id == current_user.county_id)
    counties = {c.id: c for c in db.session.execute(stmt).scalars()}
    choices = [] if current_user.county_id is not None else [(0, _("The whole city"))]
    form.county.choices = choices + [(c.id, c.name) for c in counties.values()]
    return counties


def _values(form: QuotaRuleForm, counties: dict[int, County]) -> dict:
    county = None
    if form.county.data:
        county = counties.get(form.county.data)
        if county is None:
            raise NotAllowed(_l("A county bureau sets rules for its own county only."), field="county")
    return dict(name=form.name.data or "", county=county, role=form.role.data, period=form.period.data,
                required=form.required.data, kinds=list(form.kinds.data or []),
                max_periods_per_record=form.max_periods_per_record.data or None)


@bp.route("/observations/quota/rules", endpoint="quota_rules")
@require_roles(BUREAU)
def quota_rules():
    require(can_manage_quota_rules(current_user))
    stmt = select(QuotaRule).options(joinedload(QuotaRule.county)).order_by(
        QuotaRule.active.desc(), QuotaRule.role, QuotaRule.county_id.is_not(None), QuotaRule.id)
    if current_user.county_id is not None:
        from sqlalchemy import or_

        stmt = stmt.where(or_(QuotaRule.county_id.is_(None), QuotaRule.county_id == current_user.county_id))
    rules = list(db.session.execute(stmt).scalars())
    has_principal_city_rule = any(r.active and r.role == PRINCIPAL and r.county_id is None for r in rules)
    return render_template("observations/quota_rules.html", rules=rules, period_labels=PERIOD_LABELS,
                           can_change=lambda r: can_change_quota_rule(current_user, r),
                           has_principal_city_rule=has_principal_city_rule)


def _render_form(form, rule, status=200):
    return render_template("observations/quota_rule_form.html", form=form, rule=rule), status


@bp.route("/observations/quota/rules/new", methods=["GET", "POST"], endpoint="new_quota_rule")
@require_roles(BUREAU)
def new_quota_rule():
    require(can_manage_quota_rules(current_user))
    form = QuotaRuleForm()
    counties = _county_choices(form)
    if request.method == "GET":
        form.county.data = current_user.county_id or 0
        form.role.data, form.period.data, form.required.data = PRINCIPAL, "school_year", 35
        return _render_form(form, None)
    if form.validate_on_submit():
        try:
            services.save_quota_rule(current_user, None, **_values(form, counties))
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "required")
            return _render_form(form, None, exc.status)
        db.session.commit()
        flash(_("The rule is saved; progress is counted by it from now on."), "success")
        return redirect(url_for("observations.quota_rules"))
    return _render_form(form, None, 400)


@bp.route("/observations/quota/rules/<id:rule_id>/edit", methods=["GET", "POST"], endpoint="edit_quota_rule")
@require_roles(BUREAU)
def edit_quota_rule(rule_id: int):
    require(can_manage_quota_rules(current_user))
    rule = _load_rule(rule_id)
    require(can_change_quota_rule(current_user, rule))
    form = QuotaRuleForm()
    counties = _county_choices(form)
    if request.method == "GET":
        form.name.data, form.county.data, form.role.data = rule.name, rule.county_id or 0, rule.role
        form.period.data, form.required.data = rule.period, rule.required
        form.kinds.data = list(rule.kinds or [])
        form.max_periods_per_record.data = rule.max_periods_per_record or 0
        form.version.data = rule.version
        return _render_form(form, rule)
    if form.validate_on_submit():
        try:
            services.save_quota_rule(current_user, rule, **_values(form, counties), version=submitted_version(form))
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "required")
            return _render_form(form, _load_rule(rule_id), exc.status)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("observations.quota_rules"))
    return _render_form(form, rule, 400)


@bp.route("/observations/quota/rules/<id:rule_id>/active", methods=["POST"], endpoint="quota_rule_active")
@require_roles(BUREAU)
def quota_rule_active(rule_id: int):
    require(can_manage_quota_rules(current_user))
    rule = _load_rule(rule_id)
    require(can_change_quota_rule(current_user, rule))
    active = request.form.get("active") == "1"
    try:
        services.set_quota_rule_active(current_user, rule, active)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("observations.quota_rules"))
    db.session.commit()
    flash(_("The rule is active again.") if active else _("The rule is deactivated."), "success")
    return redirect(url_for("observations.quota_rules"))
