"""Home panels: my communities and what is coming, and the requests a leader must answer."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from ..core.authz import BUREAU
from ..core.home import home_panel
from ..core.i18n import gettext as _
from ..core.models import utcnow
from ..extensions import db
from .models import Activity, Community, Membership, Participant
from .permissions import ELIGIBLE_ROLES


@home_panel(20)
def requests_panel(user):
    """Leaders: join requests waiting for an answer."""
    rows = db.session.execute(
        select(Community, func.count(Membership.id))
        .join(Membership, Membership.community_id == Community.id)
        .where(Community.leader_id == user.id, Membership.status == "pending")
        .group_by(Community.id)
        .order_by(Community.name)
        .limit(10)
    ).all()
    if not rows:
        return None
    return {
        "title": _("Requests to join"),
        "items": [
            {"text": community.name, "hint": _("%(n)d waiting", n=n),
             "url": url_for("communities.members", community_id=community.id)}
            for community, n in rows
        ],
    }


@home_panel(30)
def activities_panel(user):
    """Everyone in a community: the next activities, signed up or not."""
    if user.role == BUREAU:
        return None
    rows = db.session.execute(
        select(Activity, Community.name, Participant.id)
        .join(Community, Community.id == Activity.community_id)
        .join(Membership, (Membership.community_id == Activity.community_id) & (Membership.user_id == user.id))
        .outerjoin(Participant, (Participant.activity_id == Activity.id) & (Participant.user_id == user.id))
        .where(Membership.status == "active", Activity.ends_at >= utcnow(), Activity.cancelled_at.is_(None))
        .order_by(Activity.starts_at)
        .limit(5)
    ).all()
    if not rows:
        return None
    from flask_babel import format_datetime

    return {
        "title": _("Coming activities"),
        "items": [
            {
                "text": activity.title,
                "hint": f"{format_datetime(activity.starts_at, 'MM-dd HH:mm')} · {community_name}"
                + (f" · {_('Signed up')}" if signed else ""),
                "url": url_for("communities.activity", activity_id=activity.id),
            }
            for activity, community_name, signed in rows
        ],
    }


@home_panel(40)
def communities_panel(user):
    """My communities, or an invitation to join one (the policy wants every rural teacher in one)."""
    if user.role == BUREAU:
        return None
    rows = db.session.execute(
        select(Community, Membership.status)
        .join(Membership, Membership.community_id == Community.id)
        .where(Membership.user_id == user.id, Membership.status.in_(("active", "pending")),
               Community.is_active.is_(True))
        .order_by(Membership.status, Community.name)
        .limit(8)
    ).all()
    items = [
        {"text": community.name, "url": url_for("communities.community", community_id=community.id),
         "hint": _("Waiting for approval") if status == "pending" else ""}
        for community, status in rows
    ]
    kinds = [kind for kind, roles in ELIGIBLE_ROLES.items() if user.role in roles]
    if not items and not kinds:
        return None
    return {
        "title": _("My communities"),
        "items": items,
        "empty": _("You are not in a community yet. Find one that fits your subject and ask to join."),
        "more": {"text": _("All communities"), "url": url_for("communities.index")},
    }
