"""Pages: a community's research projects (课题), a project with its members and outputs.

The community's existence is public, its inside is not: non-members get a 403 here.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.authz import require
from ..core.errors import DomainError, Invalid
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.pagination import paginate
from ..core.validate import query_choice
from ..extensions import db
from . import projects
from .blueprint import bp
from .models import PROJECT_STATUSES, Community, Membership, Project, ProjectMember, ProjectOutput
from .pages import find_user
from .permissions import (
    can_add_project_output,
    can_create_project,
    can_edit_project,
    can_read_community,
    can_remove_project_output,
    can_view_community,
    membership_of,
)
from .project_forms import OutputForm, ProjectForm, ProjectMemberForm


def _community(community_id: int) -> tuple[Community, Membership | None]:
    # views.py imports this module before it defines load_community: import it when called.
    from .views import load_community

    return load_community(community_id)


def _refuse_outsiders(community: Community, membership: Membership | None) -> None:
    if not can_read_community(current_user, community, membership):
        flash(_("Only members can see this community's research projects."), "error")
        abort(403)


def _load_project(project_id: int) -> tuple[Project, Membership | None]:
    """The project with its community (404 when the community is hidden), checked readable (403)."""
    project = db.session.execute(
        select(Project).where(Project.id == project_id).options(
            joinedload(Project.lead).joinedload(User.school),
            joinedload(Project.community).joinedload(Community.leader),
            joinedload(Project.community).joinedload(Community.county),
        )
    ).scalar_one_or_none()
    if project is None or not can_view_community(current_user, project.community):
        abort(404)
    membership = membership_of(current_user, project.community_id)
    _refuse_outsiders(project.community, membership)
    return project, membership




def _status(form) -> int:
    return 400 if form.errors else 200


# --- the list ----------------------------------------------------------------------------------


@bp.route("/communities/<id:community_id>/projects", endpoint="projects")
@login_required
def projects_list(community_id: int):
    community, membership = _community(community_id)
    _refuse_outsiders(community, membership)
    status = query_choice("status", PROJECT_STATUSES)
    members = (
        select(ProjectMember.project_id, func.count().label("n")).group_by(ProjectMember.project_id).subquery()
    )
    outputs = (
        select(ProjectOutput.project_id, func.count().label("n")).group_by(ProjectOutput.project_id).subquery()
    )
    stmt = (
        select(Project, User, func.coalesce(members.c.n, 0), func.coalesce(outputs.c.n, 0))
        .join(User, User.id == Project.lead_id)
        .outerjoin(members, members.c.project_id == Project.id)
        .outerjoin(outputs, outputs.c.project_id == Project.id)
        .where(Project.community_id == community.id)
        .order_by(Project.status == "concluded", Project.status == "suspended", Project.created_at.desc(),
                  Project.id.desc())
    )
    if status:
        stmt = stmt.where(Project.status == status)
    page = paginate(db.session, stmt, scalars=False)
    return render_template(
        "communities/projects.html", community=community, membership=membership, tab="projects", page=page,
        status=status, can_create=can_create_project(current_user, community, membership),
    )


# --- create and edit -----------------------------------------------------------------------------


@bp.route("/communities/<id:community_id>/projects/new", methods=["GET", "POST"])
@login_required
def new_project(community_id: int):
    community, membership = _community(community_id)
    _refuse_outsiders(community, membership)
    require(can_create_project(current_user, community, membership))
    form = ProjectForm()
    if request.method == "GET":
        form.lead.data = current_user.username if membership is not None else ""
    if form.validate_on_submit():
        try:
            project = projects.create_project(
                current_user, community, title=form.title.data, lead=find_user(form.lead.data, "lead"),
                level=form.level.data, summary=form.summary.data or "",
                started_on=form.started_on.data, ends_on=form.ends_on.data,
            )
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "title")
        else:
            db.session.commit()
            flash(_("Research project %(title)s created.", title=project.title), "success")
            return redirect(url_for("communities.project", project_id=project.id))
    return render_template("communities/project_form.html", form=form, community=community, membership=membership,
                           tab="projects", project=None), _status(form)


@bp.route("/projects/<id:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit_project(project_id: int):
    project, membership = _load_project(project_id)
    require(can_edit_project(current_user, project, membership))
    form = ProjectForm(obj=project)
    if request.method == "GET":
        form.lead.data = project.lead.username
        form.summary.data = project.summary_html
    if form.validate_on_submit():
        try:
            projects.update_project(
                current_user, project, title=form.title.data, lead=find_user(form.lead.data, "lead"),
                level=form.level.data, summary=form.summary.data or "",
                started_on=form.started_on.data, ends_on=form.ends_on.data,
            )
            projects.set_project_status(current_user, project, form.status.data)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "title")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("communities.project", project_id=project.id))
    return render_template("communities/project_form.html", form=form, community=project.community,
                           membership=membership, tab="projects", project=project), _status(form)


# --- a project -----------------------------------------------------------------------------------


@bp.route("/projects/<id:project_id>")
@login_required
def project(project_id: int, member_form=None, output_form=None):
    project, membership = _load_project(project_id)
    people = db.session.execute(
        select(User)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project.id)
        .options(joinedload(User.school))
        .order_by(User.id != project.lead_id, User.name)
    ).scalars().all()
    outputs = db.session.execute(
        select(ProjectOutput)
        .where(ProjectOutput.project_id == project.id)
        .options(joinedload(ProjectOutput.added_by))
        .order_by(ProjectOutput.created_at.desc(), ProjectOutput.id.desc())
    ).scalars().all()
    in_project = project.lead_id == current_user.id or any(p.id == current_user.id for p in people)
    if project.lead_id not in {p.id for p in people}:
        people.insert(0, project.lead)  # older rows may lack the lead's own member line
    can_edit = can_edit_project(current_user, project, membership)
    return render_template(
        "communities/project.html",
        community=project.community,
        membership=membership,
        tab="projects",
        project=project,
        people=people,
        outputs=outputs,
        output_kinds=projects.OUTPUT_KIND_LABELS,
        can_edit=can_edit,
        can_add_output=can_add_project_output(current_user, project, membership, in_project),
        removable={o.id for o in outputs if can_remove_project_output(current_user, o, project, membership)},
        member_form=member_form or ProjectMemberForm(),
        output_form=output_form or OutputForm(),
    )


def _refused(exc: DomainError, project_id: int, **forms):
    """Show the project page again with the message, answering the error's status."""
    db.session.rollback()
    flash(str(exc.message), "error")
    return project(project_id, **forms), exc.status


@bp.route("/projects/<id:project_id>/members", methods=["POST"])
@login_required
def add_project_member(project_id: int):
    project_obj, membership = _load_project(project_id)
    require(can_edit_project(current_user, project_obj, membership))
    form = ProjectMemberForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("Please enter a username."), field="username")
        user = find_user(form.username.data, "username")
        projects.add_project_member(current_user, project_obj, user)
    except DomainError as exc:
        return _refused(exc, project_id, member_form=form)
    db.session.commit()
    flash(_("%(name)s joined the project.", name=user.name), "success")
    return redirect(url_for("communities.project", project_id=project_id) + "#members")


@bp.route("/projects/<id:project_id>/members/<id:user_id>/remove", methods=["POST"])
@login_required
def remove_project_member(project_id: int, user_id: int):
    project_obj, membership = _load_project(project_id)
    require(can_edit_project(current_user, project_obj, membership))
    user = db.get_or_404(User, user_id)
    try:
        projects.remove_project_member(current_user, project_obj, user)
    except DomainError as exc:
        return _refused(exc, project_id)
    db.session.commit()
    flash(_("%(name)s is no longer in the project.", name=user.name), "success")
    return redirect(url_for("communities.project", project_id=project_id) + "#members")


@bp.route("/projects/<id:project_id>/outputs", methods=["POST"])
@login_required
def add_project_output(project_id: int):
    project_obj, membership = _load_project(project_id)
    require(can_add_project_output(current_user, project_obj, membership,
                                   projects.is_project_member(current_user, project_obj)))
    form = OutputForm()
    try:
        if not form.validate_on_submit():
            field, errors = next(iter(form.errors.items()))
            raise Invalid(errors[0], field=field)
        projects.add_output(current_user, project_obj, title=form.title.data, kind=form.kind.data,
                            url=form.url.data or "", note=form.note.data or "")
    except DomainError as exc:
        return _refused(exc, project_id, output_form=form)
    db.session.commit()
    flash(_("Output added."), "success")
    return redirect(url_for("communities.project", project_id=project_id) + "#outputs")


@bp.route("/outputs/<id:output_id>/delete", methods=["POST"])
@login_required
def delete_project_output(output_id: int):
    output = db.get_or_404(ProjectOutput, output_id)
    project_obj, membership = _load_project(output.project_id)
    require(can_remove_project_output(current_user, output, project_obj, membership))
    try:
        projects.remove_output(current_user, output, project_obj)
    except DomainError as exc:
        return _refused(exc, project_obj.id)
    db.session.commit()
    flash(_("Output removed."), "success")
    return redirect(url_for("communities.project", project_id=project_obj.id) + "#outputs")
