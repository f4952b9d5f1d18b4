"""Pages of teacher exchanges: placements and the ratio per county, the form, the rules lists, the export."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.services import normalise_username
from ..core import cache
from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, has_role, require, require_roles
from ..core.converters import MAX_ID
from ..core.errors import DomainError, Invalid, NotAllowed, NotFound
from ..core.exports import XLSX_MIMETYPE, cell_text, header_row
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import EXCHANGE_KIND_LABELS, SCHOOL_KIND_LABELS, label
from ..core.pagination import paginate
from ..core.timeutil import local_today
from ..core.validate import query_choice, query_int
from ..extensions import db
from ..org.models import County, School
from . import exchange_figures as figures
from . import exchanges as services
from .blueprint import bp
from .exchange_forms import ExchangeForm
from .models import EXCHANGE_KINDS, Partnership, TeacherExchange
from .permissions import (
    can_change_exchange,
    can_record_exchange,
    can_view_exchanges,
    can_view_partnership,
    scope_partnerships,
)

PER_PAGE = 30
RULE_STATUSES = ("meets", "not_yet")


def _county_filter() -> tuple[County | None, list[County]]:
    """The county asked for (or the viewer's own) and the counties they may choose from."""
    county_id = query_int("county")
    own = current_user.county_id if has_role(current_user, BUREAU, RESEARCHER) else None
    if own is not None and county_id not in (None, own):
        raise NotAllowed(_l("You can only see your own county."), field="county")
    county_id = county_id or own
    county = None
    if county_id is not None:
        county = db.session.get(County, county_id)
        if county is None:
            raise NotFound(_l("There is no county with this id."), field="county")
    counties = []
    if own is None and has_role(current_user, BUREAU, RESEARCHER):
        counties = list(db.session.execute(select(County).order_by(County.name)).scalars())
    return county, counties


def _sees_ratios() -> bool:
    return has_role(current_user, BUREAU, RESEARCHER)


def _kept_ratios(county_id: int | None, day) -> list[figures.CountyRatio]:
    """``exchange_ratios`` kept with the city's figures (core/cache.py: computed again once a
    placement, teacher or school changes, or after the cache's seconds): it looks at every teacher
    of the scope (60,000 in a city: 76 ms on SQLite) and is the same for every viewer of it."""
    return cache.cached(("exchange-ratios", county_id, day), lambda: figures.exchange_ratios(county_id, day))


@bp.route("/exchanges", endpoint="exchanges")
@require_roles(BUREAU, RESEARCHER, PRINCIPAL)
def exchange_list():
    require(can_view_exchanges(current_user))
    county, counties = _county_filter()
    kind = query_choice("kind", EXCHANGE_KINDS)
    show = query_choice("show", ("current", "all")) or "current"
    today = local_today()
    ratios, total = [], None
    if _sees_ratios():
        ratios = _kept_ratios(county.id if county else None, today)
        total = figures.total_ratio(ratios, _("Total")) if len(ratios) > 1 else None
    stmt = services.placements_statement(current_user, county_id=county.id if county else None, kind=kind,
                                         current=show == "current", day=today)
    page = paginate(db.session, stmt, default_per_page=PER_PAGE)
    return render_template(
        "partnerships/exchanges.html", page=page, ratios=ratios, total=total, county=county, counties=counties,
        kind=kind, show=show, today=today, can_record=can_record_exchange(current_user),
        ratio_target=figures.targets()[0], backbone_target=figures.targets()[1],
        can_change=lambda ex: can_change_exchange(current_user, ex),
    )


# --- the form ------------------------------------------------------------------------------------


def _prepare(form: ExchangeForm) -> dict[int, School]:
    schools = {s.id: s for s in db.session.execute(
        select(School).where(School.is_active.is_(True)).options(joinedload(School.county))
        .order_by(School.county_id, School.name)
    ).scalars()}
    form.to_school.choices = [(0, "—")] + [
        (s.id, f"{s.name}（{s.county.name} · {label(SCHOOL_KIND_LABELS, s.kind)}）") for s in schools.values()]
    stmt = scope_partnerships(current_user, select(Partnership).order_by(Partnership.name).limit(500))
    partnerships = list(db.session.execute(stmt).scalars())
    form.partnership.choices = [(0, _("None"))] + [(p.id, p.name) for p in partnerships]
    return schools


def _partnership(value: int | None) -> Partnership | None:
    """The partnership picked (0: none). An id out of range or of a partnership the viewer may not
    see gets the same answer, so the form neither fails nor tells another county's names."""
    if not value:
        return None
    partnership = db.session.get(Partnership, value) if 1 <= value <= MAX_ID else None
    if partnership is None or not can_view_partnership(current_user, partnership):
        raise Invalid(_l("Choose a partnership from the list."), field="partnership")
    return partnership


def _values(form: ExchangeForm, schools: dict[int, School]) -> dict:
    partnership = _partnership(form.partnership.data)
    return dict(kind=form.kind.data, to_school=schools.get(form.to_school.data), start_date=form.start_date.data,
                end_date=form.end_date.data, partnership=partnership, days_per_week=form.days_per_week.data,
                notes=form.notes.data or "")


def _render_form(form, exchange, status=200):
    return render_template("partnerships/exchange_form.html", form=form, exchange=exchange), status


@bp.route("/exchanges/new", methods=["GET", "POST"])
@require_roles(BUREAU, RESEARCHER, PRINCIPAL)
def new_exchange():
    require(can_record_exchange(current_user))
    form = ExchangeForm()
    schools = _prepare(form)
    if request.method == "GET":
        partnership_id = query_int("partnership_id")
        if partnership_id and any(value == partnership_id for value, _label in form.partnership.choices):
            form.partnership.data = partnership_id
        form.start_date.data = local_today()
        return _render_form(form, None)
    if form.validate_on_submit():
        username = normalise_username(form.username.data or "")
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        try:
            if user is None:
                raise NotFound(_l("There is no account with the username %(name)s.", name=username), field="username")
            exchange = services.record_exchange(current_user, user=user, **_values(form, schools))
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "to_school")
            return _render_form(form, None, exc.status)
        db.session.commit()
        flash(_("The placement is recorded; the teacher and both principals were told."), "success")
        return redirect(url_for("partnerships.exchanges", show="all" if exchange.start_date > local_today() else None))
    return _render_form(form, None, 400)


def _load(exchange_id: int) -> TeacherExchange:
    exchange = db.session.execute(
        select(TeacherExchange).where(TeacherExchange.id == exchange_id)
        .options(joinedload(TeacherExchange.user), joinedload(TeacherExchange.from_school),
                 joinedload(TeacherExchange.to_school))
    ).scalar_one_or_none()
    if exchange is None:
        abort(404)
    return exchange


@bp.route("/exchanges/<id:exchange_id>/edit", methods=["GET", "POST"])
@require_roles(BUREAU, RESEARCHER, PRINCIPAL)
def edit_exchange(exchange_id: int):
    require(can_record_exchange(current_user))
    exchange = _load(exchange_id)
    require(can_change_exchange(current_user, exchange))
    form = ExchangeForm()
    del form.username  # the teacher stays the one recorded
    schools = _prepare(form)
    if request.method == "GET":
        form.kind.data, form.to_school.data = exchange.kind, exchange.to_school_id
        form.start_date.data, form.end_date.data = exchange.start_date, exchange.end_date
        form.days_per_week.data, form.partnership.data = exchange.days_per_week, exchange.partnership_id or 0
        form.notes.data = exchange.notes
        return _render_form(form, exchange)
    if form.validate_on_submit():
        try:
            services.update_exchange(current_user, exchange, **_values(form, schools))
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "to_school")
            return _render_form(form, _load(exchange_id), exc.status)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("partnerships.exchanges", show="all"))
    return _render_form(form, exchange, 400)


@bp.route("/exchanges/<id:exchange_id>/delete", methods=["POST"])
@require_roles(BUREAU, RESEARCHER, PRINCIPAL)
def delete_exchange(exchange_id: int):
    require(can_record_exchange(current_user))
    exchange = _load(exchange_id)
    require(can_change_exchange(current_user, exchange))
    services.delete_exchange(current_user, exchange)
    db.session.commit()
    flash(_("The placement is deleted."), "success")
    return redirect(url_for("partnerships.exchanges", show="all"))


# --- the rules -----------------------------------------------------------------------------------


@bp.route("/exchanges/rules")
@require_roles(BUREAU, RESEARCHER)
def exchange_rules():
    county, counties = _county_filter()
    rule = query_choice("rule", figures.RULES) or "shadowing"
    status = query_choice("status", RULE_STATUSES)
    county_id = county.id if county else None
    if rule == "shadowing":
        stmt = figures.shadowing_statement(county_id, status)
    else:
        stmt = figures.title_statement(county_id, status)
    page = paginate(db.session, stmt, default_per_page=50, scalars=False)
    return render_template(
        "partnerships/exchange_rules.html", page=page, rule=rule, status=status, county=county, counties=counties,
        shadowing_days=services.SHADOWING_DAYS, rural_days=services.RURAL_DAYS, weak_days=services.WEAK_DAYS,
    )


# --- Excel ---------------------------------------------------------------------------------------






@bp.route("/exchanges/export.xlsx")
@require_roles(BUREAU, RESEARCHER, PRINCIPAL)
def exchange_export():
    """Every placement in the viewer's scope (current or all, as filtered), and the ratios for the bureau."""
    require(can_view_exchanges(current_user))
    county, _counties = _county_filter()
    kind = query_choice("kind", EXCHANGE_KINDS)
    show = query_choice("show", ("current", "all")) or "current"
    today = local_today()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(cell_text(_("Placements"))[:31])
    for letter, width in zip("ABCDEFGHIJK", (14, 16, 10, 16, 24, 24, 12, 12, 8, 24, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    header_row(sheet, [_("Name"), _("Username"), _("Backbone"), _("Kind"), _("From"), _("Placed at"), _("Start date"),
                    _("End date"), _("Days a week"), _("Partnership"), _("Notes")])
    yes = _("Yes")
    stmt = services.placements_statement(current_user, county_id=county.id if county else None, kind=kind,
                                         current=show == "current", day=today)
    for ex in db.session.execute(stmt.execution_options(yield_per=1000)).scalars():
        sheet.append([cell_text(ex.user.name), cell_text(ex.user.username), yes if ex.user.is_backbone else "",
                      cell_text(label(EXCHANGE_KIND_LABELS, ex.kind)), cell_text(ex.from_school.name),
                      cell_text(ex.to_school.name), ex.start_date.isoformat(),
                      ex.end_date.isoformat() if ex.end_date else "", ex.days_per_week or "",
                      cell_text(ex.partnership.name if ex.partnership else ""), cell_text(ex.notes)])
    if _sees_ratios():
        ratios = figures.exchange_ratios(county.id if county else None, today)
        sheet = workbook.create_sheet(cell_text(_("Exchange ratio"))[:31])
        sheet.column_dimensions["A"].width = 20
        ratio_target, backbone_target = figures.targets()
        header_row(sheet, [_("County"), _("Teachers"), _("In exchange"), "%", _("Target %"), _("Backbone teachers"),
                        "%", _("Target %"), _("As of")])
        for row in [*ratios, figures.total_ratio(ratios, _("Total"))]:
            sheet.append([cell_text(row.name), row.teachers, row.exchanged, row.percent, ratio_target, row.backbone,
                          row.backbone_percent, backbone_target, today.isoformat()])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"exchanges-{today.isoformat()}.xlsx")
