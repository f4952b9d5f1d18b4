"""Home panels: my communities and what is coming, and the requests a leader must answer."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import bindparam, func, select

from ..core.authz import BUREAU
from ..core.home import home_panel
from ..core.i18n import gettext as _
from ..core.models import utcnow
from ..core.templating import format_local_datetime, url_for_ids
from ..extensions import db
from .models import Activity, Community, Membership, Participant
from .permissions import ELIGIBLE_ROLES

# Built once, bound per request (the home page is everyone's first page); names, not whole rows.
# They run on the session's connection, as plain rows without the ORM's result handling: 25-70 us
# less per panel (of 50-170). Each is one object, which keeps its cached compilation its own (Core
# adapts a cached compilation's result columns to an equal but other statement on every run).
PENDING_REQUESTS = (
    select(Community.id, Community.name, func.count(Membership.id).label("waiting"))
    .join(Membership, Membership.community_id == Community.id)
    .where(Community.leader_id == bindparam("user_id"), Membership.status == "pending")
    .group_by(Community.id, Community.name)
    .order_by(Community.name)
    .limit(10)
)
COMING_ACTIVITIES = (
    select(Activity.id, Activity.title, Activity.starts_at, Community.name.label("community"),
           Participant.id.label("signed"))
    .join(Community, Community.id == Activity.community_id)
    .join(Membership, (Membership.community_id == Activity.community_id) & (Membership.user_id == bindparam("user_id")))
    .outerjoin(Participant, (Participant.activity_id == Activity.id) & (Participant.user_id == bindparam("user_id")))
    .where(Membership.status == "active", Activity.ends_at >= bindparam("now"), Activity.cancelled_at.is_(None))
    .order_by(Activity.starts_at)
    .limit(5)
)
MY_COMMUNITIES = (
    select(Community.id, Community.name, Membership.status)
    .join(Membership, Membership.community_id == Community.id)
    .where(Membership.user_id == bindparam("user_id"), Membership.status.in_(("active", "pending")),
           Community.is_active.is_(True))
    .order_by(Membership.status, Community.name)
    .limit(8)
)
MAY_JOIN = frozenset(role for roles in ELIGIBLE_ROLES.values() for role in roles)  # some kind of community


@home_panel(20)
def requests_panel(user):
    """Leaders: join requests waiting for an answer."""
    rows = db.session.connection().execute(PENDING_REQUESTS, {"user_id": user.id}).all()
    if not rows:
        return None
    members_url = url_for_ids("communities.members", "community_id")
    return {
        "title": _("Requests to join"),
        "items": [{"text": row.name, "hint": _("%(n)d waiting", n=row.waiting), "url": members_url(row.id)}
                  for row in rows],
    }


@home_panel(30)
def activities_panel(user):
    """Everyone in a community: the next activities, signed up or not."""
    if user.role == BUREAU:
        return None
    rows = db.session.connection().execute(COMING_ACTIVITIES, {"user_id": user.id, "now": utcnow()}).all()
    if not rows:
        return None
    signed = f" · {_('Signed up')}"
    activity_url = url_for_ids("communities.activity", "activity_id")
    return {
        "title": _("Coming activities"),
        "items": [
            {
                "text": row.title,
                "hint": f"{format_local_datetime(row.starts_at, 'MM-dd HH:mm')} · {row.community}"
                + (signed if row.signed else ""),
                "url": activity_url(row.id),
            }
            for row in rows
        ],
    }


@home_panel(40)
def communities_panel(user):
    """My communities, or an invitation to join one (the policy wants every rural teacher in one)."""
    if user.role == BUREAU:
        return None
    rows = db.session.connection().execute(MY_COMMUNITIES, {"user_id": user.id}).all()
    if not rows and user.role not in MAY_JOIN:
        return None
    community_url = url_for_ids("communities.community", "community_id")
    waiting = _("Waiting for approval")
    items = [{"text": row.name, "url": community_url(row.id), "hint": waiting if row.status == "pending" else ""}
             for row in rows]
    return {
        "title": _("My communities"),
        "items": items,
        "empty": _("You are not in a community yet. Find one that fits your subject and ask to join."),
        "more": {"text": _("All communities"), "url": url_for("communities.index")},
    }
