"""Communities and their members: create, appoint a leader, ask to join, approve, add, leave.

Activities live in ``activities.py``, discussions in ``discussions.py``, projects in
``projects.py``, training hours in ``hours.py``. Services flush and never commit.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.audit import record as audit_record
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.labels import STAGE_LABELS, SUBJECT_LABELS
from ..core.locking import lock_row
from ..core.models import utcnow
from ..core.sanitize import clean_text, rich_text
from ..core.web import path_for
from ..extensions import db
from ..org.models import County
from .models import KINDS, LEVELS, MEMBER_ROLES, Community, Membership
from .permissions import (
    can_ask_to_join,
    can_create_community,
    can_leave,
    can_manage_community,
    can_manage_members,
    is_eligible,
    membership_of,
)

log = logging.getLogger("portal.audit")

register_message("community.join_requested", _l("%(user)s asked to join %(community)s."))
register_message("community.join_approved", _l("Welcome to %(community)s: your request was approved."))
register_message("community.join_declined", _l("Your request to join %(community)s was declined."))
register_message("community.member_added", _l("%(by)s added you to %(community)s."))
register_message("community.member_left", _l("%(user)s left %(community)s."))
register_message("community.member_removed", _l("You are no longer a member of %(community)s."))
register_message("community.leader_appointed", _l("You now lead %(community)s."))
register_message("community.role_changed", _l("Your role in %(community)s changed."))


def community_link(community: Community, endpoint: str = "communities.community") -> str:
    return path_for(endpoint, community_id=community.id)


def insert_once(row, conflict_message) -> None:
    """Insert a row that a unique constraint guards. Two requests that both checked before either
    wrote (a double click) meet here: the second gets a Conflict instead of a 500."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise Conflict(conflict_message) from None


def refresh_member_count(community: Community) -> None:
    db.session.flush()
    lock_row(community)  # two people joining at once: the second counts the first
    community.member_count = db.session.execute(
        select(func.count()).where(Membership.community_id == community.id, Membership.status == "active")
    ).scalar_one()


def _check_fields(kind, level, county, name, subject, stage) -> str:
    if kind not in KINDS:
        raise Invalid(_l("Choose a teacher or a principal community."), field="kind")
    if level not in LEVELS:
        raise Invalid(_l("Choose the city or a county."), field="level")
    if level == "county" and county is None:
        raise Invalid(_l("A county community needs its county."), field="county_id")
    name = clean_text(name, max_length=80)
    if not name:
        raise Invalid(_l("Please name the community."), field="name")
    if subject and subject not in SUBJECT_LABELS:
        raise Invalid(_l("Unknown subject."), field="subject")
    if stage and stage not in STAGE_LABELS:
        raise Invalid(_l("Unknown school stage."), field="stage")
    return name


def _check_leader(community: Community, leader: User | None) -> None:
    if leader is None:
        return
    if not leader.active:
        raise Invalid(_l("%(name)s's account is deactivated.", name=leader.name), field="leader")
    if not is_eligible(leader, community):
        if community.kind == "principal":
            raise Invalid(_l("A principal community is led by a principal."), field="leader")
        raise Invalid(_l("%(name)s cannot lead a community of this county.", name=leader.name), field="leader")


def save_community(
    actor: User,
    community: Community | None,
    *,
    kind: str,
    level: str,
    county: County | None,
    name: str,
    description: str = "",
    subject: str | None = None,
    stage: str | None = None,
    leader: User | None = None,
) -> Community:
    """Create a community (the bureau) or change its settings. The leader joins as leader."""
    if community is None and not can_create_community(actor, kind):
        raise NotAllowed(_l("Only the bureau creates communities."))
    if community is not None and not can_manage_community(actor, community):
        raise NotAllowed(_l("You cannot change this community."))
    name = _check_fields(kind, level, county, name, subject, stage)
    if level == "city":
        county = None
    if actor.county_id is not None and (county is None or county.id != actor.county_id):
        raise NotAllowed(_l("You can only manage communities of your own county."), field="county_id")
    clash = db.session.execute(
        select(Community.id).where(
            Community.kind == kind,
            Community.name == name,
            Community.county_id.is_(None) if county is None else Community.county_id == county.id,
        )
    ).scalar_one_or_none()
    if clash is not None and (community is None or clash != community.id):
        raise Conflict(_l("A community named %(name)s already exists here.", name=name), field="name")
    if community is None:
        community = Community(kind=kind)
        db.session.add(community)
    elif kind != community.kind:
        raise Invalid(_l("The kind of a community cannot change."), field="kind")
    community.level, community.county, community.name = level, county, name
    community.description_html = rich_text(description)
    if kind == "teacher":
        community.subject, community.stage = subject or None, stage or None
    else:
        community.subject = community.stage = None
    _check_leader(community, leader)
    db.session.flush()
    if leader is not None and leader.id != community.leader_id:
        appoint_leader(actor, community, leader)
    log.info("community saved id=%s by=%s", community.id, actor.id)
    audit_record(actor, "community.saved", "community", community.id, county_id=community.county_id,
                 summary=community.name, details={"kind": community.kind, "level": community.level})
    return community


def update_description(actor: User, community: Community, description: str) -> None:
    """The leader keeps the description up to date; the bureau may too."""
    if not can_manage_members(actor, community, membership_of(actor, community)):
        raise NotAllowed(_l("Only the leader or the bureau can change the description."))
    community.description_html = rich_text(description)


def appoint_leader(actor: User, community: Community, leader: User) -> Membership:
    """Make ``leader`` the community's leader; the previous leader stays as a core member."""
    if not can_manage_community(actor, community):
        raise NotAllowed(_l("Only the bureau appoints leaders."))
    _check_leader(community, leader)
    previous = community.leader_id
    if previous is not None and previous != leader.id:
        old = membership_of_id(previous, community)
        if old is not None and old.status == "active":
            old.role = "core"
    membership = membership_of(leader, community)
    if membership is None:
        membership = Membership(community=community, user=leader)
        db.session.add(membership)
    membership.role, membership.status = "leader", "active"
    membership.joined_at = membership.joined_at or utcnow()
    membership.decided_at, membership.decided_by_id = utcnow(), actor.id
    community.leader_id = leader.id
    refresh_member_count(community)
    notify([leader], "community.leader_appointed", params={"community": community.name}, link=community_link(community))
    log.info("community leader id=%s user=%s by=%s", community.id, leader.id, actor.id)
    _audit(actor, "membership.leader_appointed", membership, community, {"previous_leader_id": previous})
    return membership


def _audit(actor: User, action: str, membership: Membership, community: Community, details: dict | None = None):
    db.session.flush()  # a new membership needs its id
    person = membership.user or db.session.get(User, membership.user_id)
    audit_record(actor, action, "membership", membership.id, county_id=community.county_id,
                 summary=f"{person.name} · {community.name}",
                 details={"community_id": community.id, "user_id": membership.user_id, **(details or {})})


def membership_of_id(user_id: int, community: Community) -> Membership | None:
    return db.session.execute(
        select(Membership).where(Membership.community_id == community.id, Membership.user_id == user_id)
    ).scalar_one_or_none()


def _managers(community: Community) -> list[int]:
    return [community.leader_id] if community.leader_id else []


def ask_to_join(user: User, community: Community, note: str = "") -> Membership:
    """The person asks; the leader decides. Returns the pending membership."""
    membership = membership_of(user, community)
    if membership is not None and membership.status == "active":
        raise Conflict(_l("You are already a member of %(name)s.", name=community.name))
    if membership is not None and membership.status == "pending":
        raise Conflict(_l("Your request to join %(name)s is already waiting for the leader.", name=community.name))
    if not can_ask_to_join(user, community, membership):
        raise NotAllowed(_not_eligible_message(community))
    if membership is None:
        membership = Membership(community_id=community.id, user_id=user.id, status="pending", role="member")
        insert_once(membership, _l("Your request to join %(name)s is already waiting for the leader.",
                                   name=community.name))
    membership.status, membership.role = "pending", "member"
    membership.note = clean_text(note, max_length=200)
    membership.decided_at = membership.decided_by_id = None
    db.session.flush()
    notify(
        _managers(community),
        "community.join_requested",
        params={"user": user.name, "community": community.name},
        link=community_link(community, "communities.members"),
    )
    log.info("community join asked id=%s user=%s", community.id, user.id)
    _audit(user, "membership.requested", membership, community)
    return membership


def _not_eligible_message(community: Community):
    if not community.is_active:
        return _l("This community is closed.")
    if community.kind == "principal":
        return _l("Only principals and teaching researchers can join a principal community.")
    return _l("Only teachers, principals and researchers of this community's county can join it.")


def decide_request(actor: User, membership: Membership, approve: bool) -> Membership:
    community = membership.community
    if not can_manage_members(actor, community, membership_of(actor, community)):
        raise NotAllowed(_l("Only the leader or the bureau can answer requests."))
    if membership.status != "pending":
        raise Conflict(_l("This request has already been answered."))
    membership.status = "active" if approve else "declined"
    membership.decided_at, membership.decided_by_id = utcnow(), actor.id
    if approve:
        membership.joined_at = utcnow()
    refresh_member_count(community)
    notify(
        [membership.user_id],
        "community.join_approved" if approve else "community.join_declined",
        params={"community": community.name},
        link=community_link(community),
    )
    log.info("community request %s id=%s user=%s by=%s", "approved" if approve else "declined",
             community.id, membership.user_id, actor.id)
    _audit(actor, "membership.approved" if approve else "membership.declined", membership, community)
    return membership


def add_member(actor: User, community: Community, user: User, role: str = "member") -> Membership:
    """The leader or the bureau adds someone directly (a pending request counts as approved)."""
    if not can_manage_members(actor, community, membership_of(actor, community)):
        raise NotAllowed(_l("Only the leader or the bureau can add members."))
    if role not in ("core", "member"):
        raise Invalid(_l("Choose core member or member."), field="role")
    if not user.active:
        raise Invalid(_l("%(name)s's account is deactivated.", name=user.name), field="user_id")
    if not is_eligible(user, community):
        raise Invalid(_not_eligible_message(community), field="user_id")
    membership = membership_of(user, community)
    if membership is not None and membership.status == "active":
        raise Conflict(_l("%(name)s is already a member.", name=user.name), field="user_id")
    if membership is None:
        membership = Membership(community_id=community.id, user_id=user.id, status="active", role=role)
        insert_once(membership, _l("%(name)s is already a member.", name=user.name))
    membership.status, membership.role = "active", role
    membership.joined_at = utcnow()
    membership.decided_at, membership.decided_by_id = utcnow(), actor.id
    refresh_member_count(community)
    notify([user], "community.member_added", params={"by": actor.name, "community": community.name},
           link=community_link(community))
    log.info("community member added id=%s user=%s by=%s", community.id, user.id, actor.id)
    _audit(actor, "membership.added", membership, community, {"role": role})
    return membership


def leave(user: User, community: Community) -> None:
    """Leave the community, or withdraw a pending request."""
    membership = membership_of(user, community)
    if membership is not None and membership.role == "leader" and membership.status == "active":
        raise Conflict(_l("The leader cannot leave; ask the bureau to appoint a new leader first."))
    if not can_leave(user, community, membership):
        raise Conflict(_l("You are not a member of %(name)s.", name=community.name))
    was_active = membership.status == "active"
    membership.status = "left"
    refresh_member_count(community)
    if was_active:
        notify(_managers(community), "community.member_left", params={"user": user.name, "community": community.name},
               link=community_link(community, "communities.members"))
    log.info("community left id=%s user=%s", community.id, user.id)
    _audit(user, "membership.left" if was_active else "membership.withdrawn", membership, community)


def remove_member(actor: User, membership: Membership) -> None:
    community = membership.community
    if not can_manage_members(actor, community, membership_of(actor, community)):
        raise NotAllowed(_l("Only the leader or the bureau can remove members."))
    if membership.role == "leader":
        raise Conflict(_l("Appoint another leader before removing this one."))
    if membership.status != "active":
        raise Conflict(_l("This person is not a member."))
    membership.status = "removed"
    membership.decided_at, membership.decided_by_id = utcnow(), actor.id
    refresh_member_count(community)
    notify([membership.user_id], "community.member_removed", params={"community": community.name},
           link=community_link(community))
    log.info("community member removed id=%s user=%s by=%s", community.id, membership.user_id, actor.id)
    _audit(actor, "membership.removed", membership, community)


def set_member_role(actor: User, membership: Membership, role: str) -> None:
    community = membership.community
    if not can_manage_members(actor, community, membership_of(actor, community)):
        raise NotAllowed(_l("Only the leader or the bureau can change roles."))
    if role not in MEMBER_ROLES or role == "leader":
        raise Invalid(_l("Choose core member or member."), field="role")
    if membership.role == "leader":
        raise Conflict(_l("Appoint another leader to change the leader's role."))
    if membership.status != "active":
        raise Conflict(_l("This person is not a member."))
    if membership.role != role:
        _audit(actor, "membership.role_changed", membership, community, {"role": {"from": membership.role, "to": role}})
        membership.role = role
        notify([membership.user_id], "community.role_changed", params={"community": community.name},
               link=community_link(community))


def set_community_active(actor: User, community: Community, active: bool) -> None:
    if not can_manage_community(actor, community):
        raise NotAllowed(_l("You cannot change this community."))
    community.is_active = active
    log.info("community %s id=%s by=%s", "opened" if active else "closed", community.id, actor.id)
    audit_record(actor, "community.opened" if active else "community.closed", "community", community.id,
                 county_id=community.county_id, summary=community.name)
