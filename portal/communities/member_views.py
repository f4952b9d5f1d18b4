"""Pages: a community's members, join requests, roles and its leader."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.authz import BUREAU, require, require_roles
from ..core.errors import DomainError, Invalid
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.labels import MEMBER_ROLE_LABELS, translated
from ..core.pagination import page_of
from ..extensions import db
from ..org.models import School
from . import services
from .blueprint import bp
from .forms import AddMemberForm
from .models import Membership
from .pages import fail, find_user, load_community, refuse
from .permissions import can_manage_community, can_manage_members, can_read_community, can_view_community, membership_of

# --- members -----------------------------------------------------------------------------------

# Built once, values as bind parameters (SQLAlchemy reuses their cache keys); rows of the
# columns the page shows rather than whole memberships and users.
_MEMBERS = (
    select(Membership.id, Membership.role, Membership.joined_at, User.name, School.name.label("school_name"))
    .join(User, User.id == Membership.user_id)
    .outerjoin(School, School.id == User.school_id)
    .where(Membership.community_id == bindparam("community_id"), Membership.status == "active")
    .order_by(Membership.role != "leader", Membership.role != "core", School.name, User.name)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
# Every membership has its user (a foreign key), so the count needs neither users nor schools.
_MEMBER_COUNT = select(func.count()).where(Membership.community_id == bindparam("community_id"),
                                           Membership.status == "active")
_PENDING = (
    select(Membership.id, Membership.note, User.name, User.username, School.name.label("school_name"))
    .join(User, User.id == Membership.user_id)
    .outerjoin(School, School.id == User.school_id)
    .where(Membership.community_id == bindparam("community_id"), Membership.status == "pending")
    .order_by(Membership.created_at)
    .limit(200)
)


@bp.route("/communities/<id:community_id>/members")
@login_required
def members(community_id: int):
    community, membership = load_community(community_id)
    if not can_read_community(current_user, community, membership):
        refuse(_("Only members can see who is in this community."))
    params = {"community_id": community.id}
    page = page_of(db.session, _MEMBERS, _MEMBER_COUNT, params, default_per_page=50)
    manage = can_manage_members(current_user, community, membership)
    pending = db.session.execute(_PENDING, params).all() if manage else []
    return render_template("communities/members.html", community=community, membership=membership,
                           tab="members", page=page, pending=pending, manage=manage, add_form=AddMemberForm(),
                           # translated once per page, not once per member
                           role_labels=translated(MEMBER_ROLE_LABELS))


@bp.route("/communities/<id:community_id>/members", methods=["POST"])
@login_required
def add_member(community_id: int):
    community, membership = load_community(community_id)
    require(can_manage_members(current_user, community, membership))
    form = AddMemberForm()
    try:
        if not form.validate_on_submit():
            raise Invalid(_l("Please enter a username."), field="username")
        user = find_user(form.username.data, "username")
        services.add_member(current_user, community, user, form.role.data)
    except DomainError as exc:
        return fail(exc, members, community_id=community.id)
    db.session.commit()
    flash(_("%(name)s is now a member.", name=user.name), "success")
    return redirect(url_for("communities.members", community_id=community.id))


def _load_membership(membership_id: int) -> Membership:
    membership = db.session.execute(
        select(Membership).where(Membership.id == membership_id)
        .options(joinedload(Membership.community), joinedload(Membership.user))
    ).scalar_one_or_none()
    if membership is None or not can_view_community(current_user, membership.community):
        abort(404)
    require(can_manage_members(current_user, membership.community, membership_of(current_user, membership.community)))
    return membership


def _membership_action(membership_id: int, action, done_message):
    membership = _load_membership(membership_id)
    community_id = membership.community_id
    try:
        action(membership)
    except DomainError as exc:
        return fail(exc, members, community_id=community_id)
    db.session.commit()
    flash(done_message(membership), "success")
    return redirect(url_for("communities.members", community_id=membership.community_id))


@bp.route("/memberships/<id:membership_id>/approve", methods=["POST"])
@login_required
def approve(membership_id: int):
    return _membership_action(
        membership_id, lambda m: services.decide_request(current_user, m, True),
        lambda m: _("%(name)s joined the community.", name=m.user.name))


@bp.route("/memberships/<id:membership_id>/decline", methods=["POST"])
@login_required
def decline(membership_id: int):
    return _membership_action(
        membership_id, lambda m: services.decide_request(current_user, m, False),
        lambda m: _("The request of %(name)s was declined.", name=m.user.name))


@bp.route("/memberships/<id:membership_id>/remove", methods=["POST"])
@login_required
def remove(membership_id: int):
    return _membership_action(
        membership_id, lambda m: services.remove_member(current_user, m),
        lambda m: _("%(name)s is no longer a member.", name=m.user.name))


@bp.route("/memberships/<id:membership_id>/role", methods=["POST"])
@login_required
def set_role(membership_id: int):
    role = request.form.get("role", "")
    return _membership_action(
        membership_id, lambda m: services.set_member_role(current_user, m, role),
        lambda m: _("The role of %(name)s was changed.", name=m.user.name))


@bp.route("/communities/<id:community_id>/leader", methods=["POST"])
@require_roles(BUREAU)
def appoint_leader(community_id: int):
    community, _membership = load_community(community_id)
    require(can_manage_community(current_user, community))
    try:
        leader = find_user(request.form.get("username", ""), "username")
        if leader is None:
            raise Invalid(_l("Please enter a username."), field="username")
        services.appoint_leader(current_user, community, leader)
    except DomainError as exc:
        return fail(exc, members, community_id=community.id)
    db.session.commit()
    flash(_("%(name)s now leads the community.", name=leader.name), "success")
    return redirect(url_for("communities.members", community_id=community.id))
