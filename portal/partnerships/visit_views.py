"""Pages of researchers' contact schools and visits: a researcher's own progress and visits, the
bureau's overview of researchers, one researcher's page (assign and remove schools), the export."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.authz import BUREAU, RESEARCHER, require, require_roles
from ..core.converters import MAX_ID
from ..core.errors import DomainError, NotFound
from ..core.exports import XLSX_MIMETYPE, cell_text, header_row
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SCHOOL_KIND_LABELS, label
from ..core.pagination import paginate
from ..core.templating import nav_item
from ..core.timeutil import local_today
from ..core.validate import BadRequest, query_int
from ..extensions import db
from ..org.models import RURAL_KINDS, County, School, Term
from . import visits as services
from .blueprint import bp
from .models import ResearcherSchool, SchoolVisit
from .permissions import can_assign_contact_schools, can_change_visit, can_log_visit, can_view_visits
from .visit_forms import ContactSchoolForm, VisitForm

nav_item("partnerships.visits", _l("School visits"), (RESEARCHER,), after="partnerships.index")

PER_PAGE = 30


def _terms() -> list[Term]:
    return list(db.session.execute(select(Term).order_by(Term.start_date.desc())).scalars())


def _visits_page(researcher_id: int):
    stmt = (select(SchoolVisit).where(SchoolVisit.researcher_id == researcher_id)
            .options(joinedload(SchoolVisit.school))
            .order_by(SchoolVisit.visited_on.desc(), SchoolVisit.id.desc()))
    return paginate(db.session, stmt, default_per_page=PER_PAGE)


def _visit_choices(form: VisitForm, researcher_id: int, extra: School | None = None) -> None:
    schools = services.contact_schools(researcher_id)
    if extra is not None and all(s.id != extra.id for s in schools):
        schools.append(extra)  # a visit stays at a school that is no longer a contact school
    form.school.choices = [(s.id, s.name) for s in schools]


def _school(value: int | None) -> School | None:
    """The school picked in a form; an id no school can have is no school (the service says so)."""
    return db.session.get(School, value) if value and 1 <= value <= MAX_ID else None


def _load_researcher(researcher_id: int) -> User:
    researcher = db.session.get(User, researcher_id)
    if researcher is None or researcher.role != RESEARCHER:
        abort(404)
    return researcher


# --- a researcher's own page ---------------------------------------------------------------------


def _render_own(form: VisitForm | None = None, status: int = 200):
    term = services.term_for(query_int("term_id"))
    if form is None:
        form = VisitForm(formdata=None)
        _visit_choices(form, current_user.id)
        form.visited_on.data = local_today()
    progress = services.progress([current_user.id], term)[current_user.id]
    return render_template(
        "partnerships/visits.html", researcher=current_user, term=term, terms=_terms(), progress=progress,
        page=_visits_page(current_user.id), form=form, min_schools=services.min_schools(),
        visits_target=services.visits_per_semester(),
    ), status


@bp.route("/visits", endpoint="visits")
@require_roles(RESEARCHER, BUREAU)
def visit_list():
    if current_user.role == BUREAU:
        return redirect(url_for("partnerships.researchers"))
    return _render_own()


@bp.route("/visits", methods=["POST"])
@require_roles(RESEARCHER, BUREAU)
def log_visit():
    raw = request.form.get("researcher_id", "")
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= MAX_ID):
            raise BadRequest(_l("%(field)s must be a positive whole number.", field="researcher_id"))
        researcher = _load_researcher(int(raw))
    else:
        researcher = current_user
    require(can_log_visit(current_user, researcher.id))
    own = researcher.id == current_user.id
    if not own:
        require(can_view_visits(current_user, researcher))
    form = VisitForm()
    _visit_choices(form, researcher.id)
    if form.validate_on_submit():
        school = _school(form.school.data)
        try:
            services.log_visit(current_user, researcher, school, form.visited_on.data, form.kind.data,
                               form.notes.data or "")
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "school")
            return _render_own(form, exc.status) if own else _render_researcher(researcher, visit_form=form,
                                                                                  status=exc.status)
        db.session.commit()
        flash(_("The visit is logged."), "success")
        return redirect(url_for("partnerships.visits") if own else
                        url_for("partnerships.researcher", researcher_id=researcher.id))
    return _render_own(form, 400) if own else _render_researcher(researcher, visit_form=form, status=400)


def _load_visit(visit_id: int) -> SchoolVisit:
    visit = db.session.execute(
        select(SchoolVisit).where(SchoolVisit.id == visit_id)
        .options(joinedload(SchoolVisit.school), joinedload(SchoolVisit.researcher))
    ).scalar_one_or_none()
    if visit is None:
        abort(404)
    require(can_change_visit(current_user, visit))
    return visit


def _after_visit(visit: SchoolVisit) -> str:
    if visit.researcher_id == current_user.id:
        return url_for("partnerships.visits")
    return url_for("partnerships.researcher", researcher_id=visit.researcher_id)


@bp.route("/visits/<id:visit_id>/edit", methods=["GET", "POST"])
@require_roles(RESEARCHER, BUREAU)
def edit_visit(visit_id: int):
    visit = _load_visit(visit_id)
    form = VisitForm(formdata=request.form if request.method == "POST" else None)
    _visit_choices(form, visit.researcher_id, extra=visit.school)
    if request.method == "GET":
        form.school.data, form.visited_on.data = visit.school_id, visit.visited_on
        form.kind.data, form.notes.data = visit.kind, visit.notes_html
        return render_template("partnerships/visit_form.html", form=form, visit=visit)
    if form.validate_on_submit():
        school = _school(form.school.data)
        try:
            services.update_visit(current_user, visit, school=school, visited_on=form.visited_on.data,
                                  kind=form.kind.data, notes=form.notes.data or "")
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "school")
            return render_template("partnerships/visit_form.html", form=form, visit=_load_visit(visit_id)), exc.status
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(_after_visit(visit))
    return render_template("partnerships/visit_form.html", form=form, visit=visit), 400


@bp.route("/visits/<id:visit_id>/delete", methods=["POST"])
@require_roles(RESEARCHER, BUREAU)
def delete_visit(visit_id: int):
    visit = _load_visit(visit_id)
    target = _after_visit(visit)
    services.delete_visit(current_user, visit)
    db.session.commit()
    flash(_("The visit is deleted."), "success")
    return redirect(target)


# --- the bureau's overview -----------------------------------------------------------------------


def _county_choice() -> tuple[County | None, list[County]]:
    counties = []
    county = None
    if current_user.county_id is None:
        counties = list(db.session.execute(select(County).order_by(County.name)).scalars())
        county_id = query_int("county")
        if county_id is not None:
            county = next((c for c in counties if c.id == county_id), None)
            if county is None:
                raise NotFound(_l("There is no county with this id."), field="county")
    else:
        county = db.session.get(County, current_user.county_id)
    return county, counties


@bp.route("/researchers", endpoint="researchers")
@require_roles(BUREAU)
def researcher_list():
    county, counties = _county_choice()
    term = services.term_for(query_int("term_id"))
    stmt = services.researchers_statement(current_user, county.id if county else None).options(
        joinedload(User.county))
    page = paginate(db.session, stmt, default_per_page=PER_PAGE)
    progress = services.progress([r.id for r in page.items], term)
    return render_template(
        "partnerships/researchers.html", page=page, progress=progress, term=term, terms=_terms(), county=county,
        counties=counties, min_schools=services.min_schools(), visits_target=services.visits_per_semester(),
    )


def _rural_choices(researcher: User) -> list[tuple[int, str]]:
    county_id = researcher.county_id if researcher.county_id is not None else current_user.county_id
    linked = select(ResearcherSchool.school_id).where(ResearcherSchool.researcher_id == researcher.id,
                                                      ResearcherSchool.is_active.is_(True))
    stmt = (select(School).where(School.is_active.is_(True), School.kind.in_(RURAL_KINDS), School.id.not_in(linked))
            .options(joinedload(School.county)).order_by(School.county_id, School.name).limit(3000))
    if county_id is not None:
        stmt = stmt.where(School.county_id == county_id)
    return [(s.id, f"{s.name}（{s.county.name} · {label(SCHOOL_KIND_LABELS, s.kind)}）")
            for s in db.session.execute(stmt).scalars()]


def _render_researcher(researcher: User, *, assign_form: ContactSchoolForm | None = None,
                       visit_form: VisitForm | None = None, status: int = 200):
    term = services.term_for(query_int("term_id"))
    if assign_form is None:
        assign_form = ContactSchoolForm(formdata=None)
    assign_form.school.choices = [(0, "—")] + _rural_choices(researcher)
    if visit_form is None:
        visit_form = VisitForm(formdata=None)
        _visit_choices(visit_form, researcher.id)
        visit_form.visited_on.data = local_today()
    progress = services.progress([researcher.id], term)[researcher.id]
    removed = db.session.execute(
        select(School).join(ResearcherSchool, ResearcherSchool.school_id == School.id)
        .where(ResearcherSchool.researcher_id == researcher.id, ResearcherSchool.is_active.is_(False))
        .order_by(School.name)
    ).scalars().all()
    return render_template(
        "partnerships/researcher.html", researcher=researcher, term=term, terms=_terms(), progress=progress,
        removed=removed, page=_visits_page(researcher.id), assign_form=assign_form, visit_form=visit_form,
        min_schools=services.min_schools(), visits_target=services.visits_per_semester(),
        can_assign=can_assign_contact_schools(current_user),
    ), status


@bp.route("/researchers/<id:researcher_id>", endpoint="researcher")
@require_roles(BUREAU)
def researcher_page(researcher_id: int):
    researcher = _load_researcher(researcher_id)
    require(can_view_visits(current_user, researcher))
    return _render_researcher(researcher)


@bp.route("/researchers/<id:researcher_id>/schools", methods=["POST"])
@require_roles(BUREAU)
def assign_school(researcher_id: int):
    researcher = _load_researcher(researcher_id)
    require(can_view_visits(current_user, researcher))
    form = ContactSchoolForm()
    if not form.validate_on_submit():
        return _render_researcher(researcher, assign_form=form, status=400)
    school = _school(form.school.data)
    try:
        services.assign_contact_school(current_user, researcher, school)
    except DomainError as exc:
        db.session.rollback()
        form_error(form, exc, "school")
        return _render_researcher(researcher, assign_form=form, status=exc.status)
    db.session.commit()
    flash(_("%(school)s is now a contact school of %(name)s.", school=school.name, name=researcher.name), "success")
    return redirect(url_for("partnerships.researcher", researcher_id=researcher.id))


@bp.route("/researchers/<id:researcher_id>/schools/<id:school_id>/remove", methods=["POST"])
@require_roles(BUREAU)
def remove_school(researcher_id: int, school_id: int):
    researcher = _load_researcher(researcher_id)
    require(can_view_visits(current_user, researcher))
    school = db.session.get(School, school_id)
    if school is None:
        abort(404)
    services.remove_contact_school(current_user, researcher, school)
    db.session.commit()
    flash(_("%(school)s is no longer a contact school of %(name)s; the visits logged stay.", school=school.name,
            name=researcher.name), "success")
    return redirect(url_for("partnerships.researcher", researcher_id=researcher.id))


@bp.route("/researchers/export.xlsx")
@require_roles(BUREAU)
def researcher_export():
    """Every researcher in scope with each contact school's visits in the term: one row per school."""
    county, _counties = _county_choice()
    term = services.term_for(query_int("term_id"))
    researchers = list(db.session.execute(
        services.researchers_statement(current_user, county.id if county else None).options(joinedload(User.county))
    ).scalars())
    progress = services.progress([r.id for r in researchers], term)
    target, minimum = services.visits_per_semester(), services.min_schools()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(cell_text(_("Researchers"))[:31])
    for letter, width in zip("ABCDEFGHI", (14, 16, 14, 10, 26, 14, 10, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    header_row(sheet, [_("Name"), _("Username"), _("County"), _("Contact schools"), _("School"), _("Kind"),
                    _("Visits"), _("Target"), _("Behind")])
    yes, no = _("Yes"), _("No")
    term_name = term.name if term else ""
    for researcher in researchers:
        p = progress[researcher.id]
        county_name = researcher.county.name if researcher.county else _("City")
        head = [cell_text(researcher.name), cell_text(researcher.username), cell_text(county_name),
                f"{p.school_count} / {minimum}"]
        if not p.schools:
            sheet.append([*head, "", "", 0, target, yes])
        for school in p.schools:
            sheet.append([*head, cell_text(school.name), cell_text(label(SCHOOL_KIND_LABELS, school.kind)),
                          school.visits, target, yes if school.behind or p.too_few_schools else no])
    if term_name:
        sheet.append([])
        sheet.append([cell_text(_("Term")), cell_text(term_name), term.start_date.isoformat(),
                      term.end_date.isoformat()])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"researchers-{local_today().isoformat()}.xlsx")
