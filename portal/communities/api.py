"""API: communities, their members and activities (CONTRACT.md: GET /communities,
POST /communities/<id>/members)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from sqlalchemy import or_, select

from ..accounts.models import User
from ..core.api import api, listing, login_required
from ..core.authz import BUREAU
from ..core.errors import Invalid, NotAllowed, NotFound
from ..core.i18n import gettext as _
from ..core.pagination import paginate
from ..core.timeutil import isoformat_local
from ..core.validate import get_int, get_str, json_body, query_choice
from ..extensions import db
from . import services
from .models import KINDS, Activity, Community, Membership
from .permissions import can_read_community, can_view_community, membership_of


def community_json(community: Community) -> dict:
    return {
        "id": community.id,
        "name": community.name,
        "kind": community.kind,
        "leader_id": community.leader_id,
        "member_count": community.member_count,
        "level": community.level,
        "county_id": community.county_id,
        "subject": community.subject,
        "stage": community.stage,
        "is_active": community.is_active,
    }


def membership_json(membership: Membership) -> dict:
    return {
        "id": membership.id,
        "community_id": membership.community_id,
        "user_id": membership.user_id,
        "role": membership.role,
        "status": membership.status,
        "joined_at": isoformat_local(membership.joined_at),
    }


def _load(community_id: int) -> Community:
    community = db.session.get(Community, community_id)
    if community is None or not can_view_community(current_user, community):
        raise NotFound(_("There is no community with this id."))
    return community


@api.route("/communities")
@login_required
def list_communities():
    stmt = select(Community).order_by(Community.id)
    kind = query_choice("kind", KINDS)
    if kind:
        stmt = stmt.where(Community.kind == kind)
    if current_user.role != BUREAU:
        stmt = stmt.where(Community.is_active.is_(True))
        if current_user.scope_county_id is not None:
            stmt = stmt.where(or_(Community.county_id.is_(None), Community.county_id == current_user.scope_county_id))
    elif current_user.county_id is not None:
        stmt = stmt.where(or_(Community.county_id.is_(None), Community.county_id == current_user.county_id))
    return jsonify(listing(paginate(db.session, stmt), community_json))


@api.route("/communities/<id:community_id>")
@login_required
def get_community(community_id: int):
    community = _load(community_id)
    body = community_json(community)
    membership = membership_of(current_user, community)
    body["my_status"] = membership.status if membership else None
    body["my_role"] = membership.role if membership and membership.status == "active" else None
    return jsonify(body)


@api.route("/communities/<id:community_id>/members", methods=["POST"])
@login_required
def add_community_member(community_id: int):
    """``{"user_id"}``: the leader or the bureau adds someone (201). ``{}``: ask to join (202)."""
    data = json_body()
    unknown = set(data) - {"user_id", "role", "note"}
    if unknown:
        raise Invalid(_("Unknown fields: %(names)s.", names=", ".join(sorted(unknown))))
    community = _load(community_id)
    user_id = get_int(data, "user_id", required=False)
    if user_id is None:
        membership = services.ask_to_join(current_user, community, get_str(data, "note", required=False) or "")
        db.session.commit()
        return jsonify(membership_json(membership)), 202
    user = db.session.get(User, user_id)
    if user is None:
        raise Invalid(_("There is no user with id %(id)d.", id=user_id), field="user_id")
    role = get_str(data, "role", required=False, max_length=8) or "member"
    membership = services.add_member(current_user, community, user, role)
    db.session.commit()
    return jsonify(membership_json(membership)), 201


@api.route("/communities/<id:community_id>/members")
@login_required
def list_community_members(community_id: int):
    community = _load(community_id)
    if not can_read_community(current_user, community, membership_of(current_user, community)):
        raise NotAllowed(_("Only members can see who is in this community."))
    stmt = (
        select(Membership)
        .where(Membership.community_id == community.id, Membership.status == "active")
        .order_by(Membership.id)
    )
    return jsonify(listing(paginate(db.session, stmt, default_per_page=100), membership_json))


@api.route("/communities/<id:community_id>/activities")
@login_required
def list_community_activities(community_id: int):
    community = _load(community_id)
    stmt = select(Activity).where(Activity.community_id == community.id).order_by(Activity.starts_at.desc())
    return jsonify(listing(paginate(db.session, stmt), lambda a: {
        "id": a.id,
        "title": a.title,
        "kind": a.kind,
        "starts_at": isoformat_local(a.starts_at),
        "ends_at": isoformat_local(a.ends_at),
        "is_online": a.is_online,
        "place": a.place,
        "host_id": a.host_id,
        "hours": float(a.hours_tenths) / 10,
        "signup_count": a.signup_count,
        "cancelled": a.is_cancelled,
    }))


