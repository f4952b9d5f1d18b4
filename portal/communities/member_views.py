"""Pages: a community's members, join requests, roles and its leader."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.authz import BUREAU, require, require_roles
from ..core.errors import DomainError, Invalid
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import safe_translation
from ..core.labels import MEMBER_ROLE_LABELS, translated
from ..core.pagination import Page, page_of
from ..core.templating import format_local_date
from ..extensions import db
from ..org.models import School
from . import services
from .blueprint import bp
from .forms import AddMemberForm
from .models import Membership
from .pages import fail, find_user, load_community, post_buttons, refuse
from .permissions import can_manage_community, can_manage_members, can_read_community, can_view_community, membership_of

# --- members -----------------------------------------------------------------------------------

MEMBERS_PER_PAGE = 50

# Built once, the community as a bind parameter; rows of the columns the page shows rather than
# whole memberships and users.
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
    page = _members_page(community.id)
    manage = can_manage_members(current_user, community, membership)
    pending = db.session.execute(_PENDING, {"community_id": community.id}).all() if manage else []
    return render_template("communities/members.html", community=community, membership=membership,
                           tab="members", page=page, rows=_member_rows(page.items), pending=pending, manage=manage,
                           buttons=_buttons(pending, page.items) if manage else None,
                           add_form=AddMemberForm() if manage else None)


def _members_page(community_id: int) -> Page:
    """The requested page of a community's members, ordered by role, school and name."""
    return page_of(db.session, _MEMBERS, _MEMBER_COUNT,
                   {"community_id": community_id}, default_per_page=MEMBERS_PER_PAGE)


class MemberRow(NamedTuple):
    id: int
    name: str
    school: str
    role: str
    role_label: str
    joined: str


def _member_rows(items) -> list[MemberRow]:
    """The members' cells, role labels translated and dates written once per page rather than by
    the template per member."""
    roles = translated(MEMBER_ROLE_LABELS)
    return [MemberRow(row.id, row.name, row.school_name or "", row.role, roles.get(row.role, row.role),
                      format_local_date(row.joined_at)) for row in items]


def _buttons(pending, items) -> dict[str, Callable[[int], Markup]]:
    """The manager's buttons, each made once for the page and given each membership's id."""
    buttons = {}
    if pending:
        buttons["approve"] = post_buttons("communities.approve", "membership_id", safe_translation(_("Approve")),
                                          cls="primary small")
        buttons["decline"] = post_buttons("communities.decline", "membership_id", safe_translation(_("Decline")),
                                          cls="small")
    if items:
        buttons["make_core"] = post_buttons("communities.set_role", "membership_id",
                                            safe_translation(_("Make core member")), {"role": "core"}, "small")
        buttons["make_member"] = post_buttons("communities.set_role", "membership_id",
                                              safe_translation(_("Make member")), {"role": "member"}, "small")
        buttons["remove"] = post_buttons("communities.remove", "membership_id", safe_translation(_("Remove")),
                                         cls="danger small")
    return buttons


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
