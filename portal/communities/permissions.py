"""Who may see or change what in a community. Every page, API route and service asks here.

Most predicates take the person's ``Membership`` of the community (or None), loaded once by
the caller with ``membership_of``, so a page asks many questions with one query.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from ..core.authz import BUREAU, PRINCIPAL, RESEARCHER, TEACHER, has_role
from ..extensions import db
from .models import Activity, Community, Membership, Post, Project, Thread

# Who may belong to each kind: 名师+ gathers teachers (principals and researchers who teach
# or guide too); 名校长+ gathers principals, with researchers as guides.
ELIGIBLE_ROLES = {"teacher": (TEACHER, PRINCIPAL, RESEARCHER), "principal": (PRINCIPAL, RESEARCHER)}


# Built once (every community page asks): SQLAlchemy reuses the statement's cache key.
_MEMBERSHIP = select(Membership).where(Membership.community_id == bindparam("community_id"),
                                       Membership.user_id == bindparam("user_id"))


def membership_of(user, community: Community | int) -> Membership | None:
    if not (user and user.is_authenticated):
        return None
    community_id = community if isinstance(community, int) else community.id
    return db.session.execute(_MEMBERSHIP, {"community_id": community_id, "user_id": user.id}).scalar_one_or_none()


def _active(membership: Membership | None) -> bool:
    return membership is not None and membership.status == "active"


def _is_leader(membership: Membership | None) -> bool:
    return _active(membership) and membership.role == "leader"


def _is_core(membership: Membership | None) -> bool:
    return _active(membership) and membership.role in ("leader", "core")


def can_create_community(user, kind: str | None = None) -> bool:
    """The bureau creates communities of both kinds and appoints their leaders."""
    return has_role(user, BUREAU)


def can_manage_community(user, community: Community) -> bool:
    """Bureau staff manage the communities of their county; city-level staff manage all."""
    if not has_role(user, BUREAU):
        return False
    return user.county_id is None or community.county_id == user.county_id


def can_view_community(user, community: Community) -> bool:
    """Any signed-in person sees an active community's name, leader, description and activities."""
    if not has_role(user, BUREAU, RESEARCHER, PRINCIPAL, TEACHER):
        return False
    return community.is_active or can_manage_community(user, community)


def can_read_community(user, community: Community, membership: Membership | None) -> bool:
    """Discussions, minutes, the member list and projects: active members and the bureau."""
    return _active(membership) or can_manage_community(user, community)


def is_eligible(user, community: Community) -> bool:
    """The person's role fits the community's kind, and a county community is of their county."""
    if not has_role(user, *ELIGIBLE_ROLES.get(community.kind, ())):
        return False
    return community.county_id is None or user.scope_county_id in (None, community.county_id)


def can_ask_to_join(user, community: Community, membership: Membership | None) -> bool:
    """Eligible people who are not in (or waiting for) an active community may ask to join."""
    if not community.is_active or not is_eligible(user, community):
        return False
    return membership is None or membership.status in ("declined", "left", "removed")


def can_leave(user, community: Community, membership: Membership | None) -> bool:
    """Members may leave, and withdraw a pending request; the leader hands over first."""
    return membership is not None and membership.status in ("active", "pending") and membership.role != "leader"


def can_manage_members(user, community: Community, membership: Membership | None) -> bool:
    """The leader and the bureau approve requests, add, remove and promote members."""
    return _is_leader(membership) or can_manage_community(user, community)


def can_create_activity(user, community: Community, membership: Membership | None) -> bool:
    """The leader and core members plan activities; the bureau may too."""
    return community.is_active and (_is_core(membership) or can_manage_community(user, community))


def can_edit_activity(user, activity: Activity, membership: Membership | None) -> bool:
    """The host (while a member), the leader and the bureau change an activity, record minutes and
    attendance: a host who left or was removed no longer grants training hours."""
    if has_role(user, BUREAU, RESEARCHER, PRINCIPAL, TEACHER) and activity.host_id == user.id and _active(membership):
        return True
    return _is_leader(membership) or can_manage_community(user, activity.community)


def can_read_minutes(user, activity: Activity, membership: Membership | None) -> bool:
    """Minutes belong to the community: its members, the host and the bureau."""
    return can_read_community(user, activity.community, membership) or can_edit_activity(user, activity, membership)


def can_sign_up(user, activity: Activity, membership: Membership | None) -> bool:
    """Active members sign up for activities that are neither cancelled nor over."""
    from ..core.models import utcnow

    return _active(membership) and not activity.is_cancelled and activity.ends_at > utcnow()


def can_post(user, community: Community, membership: Membership | None) -> bool:
    """Active members start threads and reply."""
    return community.is_active and _active(membership)


def can_moderate(user, community: Community, membership: Membership | None) -> bool:
    """The leader and the bureau hide replies, lock, pin and remove threads."""
    return _is_leader(membership) or can_manage_community(user, community)


def can_edit_thread(user, thread: Thread, membership: Membership | None) -> bool:
    """Authors edit and delete their own threads while they are members of an open community."""
    return (
        thread.deleted_at is None and thread.author_id == user.id and _active(membership)
        and thread.community.is_active
    )


def can_edit_post(user, post: Post, membership: Membership | None) -> bool:
    """Authors edit and delete their own replies while they are members of an open community and
    nobody hid them."""
    return _own_shown_post(user.id, post) and _edits_own_posts(post.thread.community, membership)


def editable_posts(user, community: Community, membership: Membership | None, posts) -> set[int]:
    """``can_edit_post`` for a page of one community's replies (rows with ``id``, ``author_id``,
    ``deleted_at`` and ``hidden_by_id``): the ids of those the person may edit, the membership, the
    community and the person (a proxy, ``current_user``) asked about once."""
    if not _edits_own_posts(community, membership):
        return set()
    user_id = user.id
    return {post.id for post in posts if _own_shown_post(user_id, post)}


def _own_shown_post(user_id: int, post) -> bool:
    return post.deleted_at is None and post.hidden_by_id is None and post.author_id == user_id


def _edits_own_posts(community: Community, membership: Membership | None) -> bool:
    return _active(membership) and community.is_active


def can_create_project(user, community: Community, membership: Membership | None) -> bool:
    """The leader and core members start research projects; the bureau may too."""
    return can_create_activity(user, community, membership)


def can_edit_project(user, project: Project, membership: Membership | None) -> bool:
    """The project's lead, the community's leader and the bureau change a project."""
    if _active(membership) and project.lead_id == user.id:
        return True
    return _is_leader(membership) or can_manage_community(user, project.community)


def can_view_hours(user, person) -> bool:
    """A person's training hours: themselves, their principal, and the bureau of their county."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.id == person.id:
        return True
    if has_role(user, PRINCIPAL):
        return person.school_id is not None and person.school_id == user.school_id
    if has_role(user, BUREAU):
        return user.county_id is None or person.scope_county_id == user.county_id
    return False


def can_record_hours(user, person) -> bool:
    """Hours from outside the portal (provincial platform, school-based training) are entered
    by the bureau."""
    return has_role(user, BUREAU) and can_view_hours(user, person)


def can_manage_activity_types(user) -> bool:
    """The bureau defines its own activity types."""
    return has_role(user, BUREAU)


def can_view_coverage(user) -> bool:
    """Coverage of rural teachers and principals: the bureau and teaching researchers."""
    return has_role(user, BUREAU, RESEARCHER)


def can_add_project_output(user, project: Project, membership: Membership | None, in_project: bool) -> bool:
    """The project's members (the lead included) attach outputs while in the community; editors may too."""
    return (_active(membership) and in_project) or can_edit_project(user, project, membership)


def can_remove_project_output(user, output, project: Project, membership: Membership | None) -> bool:
    """Whoever attached an output removes it while in the community; editors remove any."""
    if _active(membership) and output.added_by_id == user.id:
        return True
    return can_edit_project(user, project, membership)
