"""Pages: the partnership list, a partnership's page, the bureau's forms, people and goals."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..accounts.models import User
from ..accounts.services import normalise_username
from ..core.authz import BUREAU, require, require_roles
from ..core.errors import DomainError, Invalid
from ..core.forms import form_error, form_status
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.locking import submitted_version
from ..core.pagination import paginate
from ..core.sanitize import strip_controls
from ..core.timeutil import local_today, school_year_of
from ..extensions import db
from ..org.models import County, School
from . import exchange_views, log_views, services, visit_views  # noqa: F401  (routes on bp)
from .blueprint import bp
from .forms import EndForm, GoalsForm, PartnershipFilterForm, PartnershipForm, PeopleForm
from .models import KINDS, Partnership, PartnershipGoal, PartnershipPerson, PartnershipSchool
from .permissions import (
    can_log_activity,
    can_manage_partnership,
    can_manage_partnerships,
    can_view_partnership,
    is_responsible,
    scope_partnerships,
)

__all__ = ["bp"]


def load_partnership(partnership_id: int) -> Partnership:
    partnership = db.session.execute(
        select(Partnership).where(Partnership.id == partnership_id)
        .options(joinedload(Partnership.lead_school), selectinload(Partnership.members).joinedload(
            PartnershipSchool.school), selectinload(Partnership.people).joinedload(PartnershipPerson.user))
    ).scalar_one_or_none()
    if partnership is None:
        abort(404)
    # Existence is private to those involved: the rest get the same answer as for a wrong id.
    require(can_view_partnership(current_user, partnership), hide=True)
    return partnership


# --- list ------------------------------------------------------------------------------------


@bp.route("/partnerships")
@login_required
def index():
    form = PartnershipFilterForm(request.args)
    # Member schools counted for the listed rows only (by index), not grouped over every
    # partnership of the city before the page is cut.
    members = (select(func.count()).select_from(PartnershipSchool)
               .where(PartnershipSchool.partnership_id == Partnership.id).scalar_subquery())
    lead = aliased(School)
    stmt = (
        select(Partnership, lead.name, members)
        .join(lead, lead.id == Partnership.lead_school_id)
        .order_by(Partnership.start_date.desc(), Partnership.id.desc())
    )
    stmt = scope_partnerships(current_user, stmt)
    today = local_today()
    state = form.state.data if form.state.data in ("current", "ended", "all") else "current"
    if state == "current":
        stmt = stmt.where(or_(Partnership.end_date.is_(None), Partnership.end_date >= today))
    elif state == "ended":
        stmt = stmt.where(Partnership.end_date < today)
    if form.kind.data in KINDS:
        stmt = stmt.where(Partnership.kind == form.kind.data)
    query = strip_controls(form.q.data or "").strip()
    if query:
        named = exists().where(PartnershipSchool.partnership_id == Partnership.id,
                               PartnershipSchool.school_id == School.id,
                               School.name.contains(query, autoescape=True))
        stmt = stmt.where(or_(Partnership.name.contains(query, autoescape=True),
                              lead.name.contains(query, autoescape=True), named))
    page = paginate(db.session, stmt, scalars=False)
    return render_template("partnerships/index.html", page=page, form=form, today=today,
                           can_create=can_manage_partnerships(current_user))


# --- one partnership -----------------------------------------------------------------------------


@bp.route("/partnerships/<id:partnership_id>")
@login_required
def partnership(partnership_id: int):
    item = load_partnership(partnership_id)
    today = local_today()
    year = school_year_of(today)
    goals = db.session.execute(
        select(PartnershipGoal).where(PartnershipGoal.partnership_id == item.id)
        .order_by(PartnershipGoal.school_year.desc()).limit(5)
    ).scalars().all()
    paired = services.paired_school_ids(today)
    manage = can_manage_partnership(current_user, item)
    goals_form = GoalsForm(school_year=year)
    current_goal = next((g for g in goals if g.school_year == year), None)
    if current_goal is not None:
        goals_form.goals.data = current_goal.goals_html
    people_form = PeopleForm()
    people_form.people.data = "\n".join(f"{p.user.username} {p.duty}".strip() for p in item.people)
    return render_template(
        "partnerships/partnership.html",
        partnership=item,
        today=today,
        year=year,
        goals=goals,
        paired=paired,
        manage=manage,
        can_goals=services.can_set_goals(current_user, item),
        responsible=is_responsible(current_user, item),
        can_log=can_log_activity(current_user, item),
        goals_form=goals_form,
        people_form=people_form,
        end_form=EndForm(end_date=today),
    )


def _refused(exc: DomainError, partnership_id: int):
    db.session.rollback()
    flash(str(exc.message), "error")
    return partnership(partnership_id=partnership_id), exc.status


@bp.route("/partnerships/<id:partnership_id>/goals", methods=["POST"])
@login_required
def goals(partnership_id: int):
    item = load_partnership(partnership_id)
    require(services.can_set_goals(current_user, item))
    form = GoalsForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("Please give the school year (the year it starts)."), field="school_year")
        services.set_goals(current_user, item, form.school_year.data, form.goals.data or "")
    except DomainError as exc:
        return _refused(exc, partnership_id)
    db.session.commit()
    flash(_("Goals saved."), "success")
    return redirect(url_for("partnerships.partnership", partnership_id=partnership_id) + "#goals")


_LINE = re.compile(r"^\s*(\S+)\s*(.*?)\s*$")


@bp.route("/partnerships/<id:partnership_id>/people", methods=["POST"])
@require_roles(BUREAU)
def people(partnership_id: int):
    item = load_partnership(partnership_id)
    require(can_manage_partnership(current_user, item))
    form = PeopleForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("The list is too long."), field="people")
        wanted = []
        for line in (form.people.data or "").splitlines():
            match = _LINE.match(line)
            if match and match.group(1):
                wanted.append((normalise_username(match.group(1)), match.group(2)))
        users = {u.username: u for u in db.session.execute(
            select(User).where(User.username.in_([w[0] for w in wanted]))).scalars()}
        unknown = [name for name, _duty in wanted if name not in users]
        if unknown:
            raise Invalid(_l("Unknown usernames: %(names)s", names=", ".join(unknown[:10])), field="people")
        services.set_people(current_user, item, [(users[name], duty) for name, duty in wanted])
    except DomainError as exc:
        return _refused(exc, partnership_id)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("partnerships.partnership", partnership_id=partnership_id) + "#people")


@bp.route("/partnerships/<id:partnership_id>/end", methods=["POST"])
@require_roles(BUREAU)
def end(partnership_id: int):
    item = load_partnership(partnership_id)
    require(can_manage_partnership(current_user, item))
    form = EndForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("Please give the last day as YYYY-MM-DD."), field="end_date")
        services.end_partnership(current_user, item, form.end_date.data)
    except DomainError as exc:
        return _refused(exc, partnership_id)
    db.session.commit()
    flash(_("The partnership ends on %(day)s.", day=form.end_date.data.isoformat()), "success")
    return redirect(url_for("partnerships.partnership", partnership_id=partnership_id))


# --- the bureau's form ---------------------------------------------------------------------------


def _county_for_form(item: Partnership | None) -> County | None:
    """Schools are chosen within one county: the bureau member's own, or the one picked."""
    if current_user.county_id is not None:
        return db.session.get(County, current_user.county_id)
    raw = request.values.get("county_id", "")
    if raw.isascii() and raw.isdigit() and len(raw) < 10:
        return db.session.get(County, int(raw))
    if item is not None:
        return db.session.get(County, item.county_id)
    return db.session.execute(select(County).order_by(County.name).limit(1)).scalar_one_or_none()


def _school_choices(form: PartnershipForm, county: County | None) -> dict[int, School]:
    schools = []
    if county is not None:
        schools = db.session.execute(
            select(School).where(School.county_id == county.id, School.is_active.is_(True))
            .order_by(School.kind, School.name)
        ).scalars().all()
    from ..core.labels import SCHOOL_KIND_LABELS, label

    form.lead_school.choices = [(0, "—")] + [(s.id, f"{s.name}（{label(SCHOOL_KIND_LABELS, s.kind)}）")
                                            for s in schools]
    form.members.choices = [(s.id, f"{s.name}（{label(SCHOOL_KIND_LABELS, s.kind)}）") for s in schools]
    return {s.id: s for s in schools}


def _save(form: PartnershipForm, item: Partnership | None, schools: dict[int, School]) -> Partnership | None:
    try:
        return services.save_partnership(
            current_user, item, kind=form.kind.data, name=form.name.data,
            lead_school=schools.get(form.lead_school.data),
            members=[schools[i] for i in form.members.data or [] if i in schools],
            start_date=form.start_date.data, end_date=form.end_date.data, description=form.description.data or "",
            version=submitted_version(form) if item is not None else None,
        )
    except DomainError as exc:
        db.session.rollback()
        form_error(form, exc, "name")
        return None


def _counties() -> list[County]:
    if current_user.county_id is not None:
        return []
    return db.session.execute(select(County).order_by(County.name)).scalars().all()


@bp.route("/partnerships/new", methods=["GET", "POST"])
@require_roles(BUREAU)
def new_partnership():
    require(can_manage_partnerships(current_user))
    form = PartnershipForm()
    county = _county_for_form(None)
    schools = _school_choices(form, county)
    if request.method == "GET":
        form.kind.data = request.args.get("kind") if request.args.get("kind") in KINDS else "rural_school"
        form.start_date.data = local_today()
    if form.validate_on_submit():
        item = _save(form, None, schools)
        if item is not None:
            db.session.commit()
            flash(_("Partnership %(name)s created; the member schools' principals were told.", name=item.name),
                  "success")
            return redirect(url_for("partnerships.partnership", partnership_id=item.id))
    return render_template("partnerships/form.html", form=form, partnership=None, county=county,
                           counties=_counties()), 400 if form.errors else 200


@bp.route("/partnerships/<id:partnership_id>/edit", methods=["GET", "POST"])
@require_roles(BUREAU)
def edit_partnership(partnership_id: int):
    item = load_partnership(partnership_id)
    require(can_manage_partnership(current_user, item))
    form = PartnershipForm()
    county = _county_for_form(item)
    schools = _school_choices(form, county)
    if request.method == "GET":
        form.kind.data, form.name.data = item.kind, item.name
        form.lead_school.data = item.lead_school_id
        form.members.data = [m.school_id for m in item.members]
        form.start_date.data, form.end_date.data = item.start_date, item.end_date
        form.description.data = item.description_html
        form.version.data = item.version
    if form.validate_on_submit():
        if _save(form, item, schools) is not None:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("partnerships.partnership", partnership_id=item.id))
    return render_template("partnerships/form.html", form=form, partnership=item, county=county,
                           counties=_counties()), form_status(form)
