"""Home panels: my communities and what is coming, and the requests a leader must answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import url_for
from sqlalchemy import bindparam, exists, func, select

from ..core import cache
from ..core.authz import BUREAU
from ..core.home import facts, home_fact, home_panel, panel_words
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
# Most people lead no community: whether any request waits comes with the home page's other facts
# (core/home.facts), and the list is read only then.
home_fact("join_requests", exists().where(Community.leader_id == bindparam("user_id"), Membership.community_id == Community.id,
                                          Membership.status == "pending"))
MAY_JOIN = frozenset(role for roles in ELIGIBLE_ROLES.values() for role in roles)  # some kind of community


@home_panel(20)
def requests_panel(user):
    """Leaders: join requests waiting for an answer."""
    if not facts(user).join_requests:
        return None
    rows = db.session.connection().execute(PENDING_REQUESTS, {"user_id": user.id}).all()
    if not rows:
        return None
    words = panel_words(_request_words)
    return {
        "title": words.title,
        "items": [{"text": row.name, "hint": words.waiting % {"n": row.waiting}, "url": words.members_url(row.id)}
                  for row in rows],
    }


class RequestWords(NamedTuple):
    title: str
    waiting: str  # filled with the number
    members_url: Callable[[int], str]


def _request_words() -> RequestWords:
    return RequestWords(_("Requests to join"), _("%(n)d waiting"), url_for_ids("communities.members", "community_id"))


@home_panel(30)
def activities_panel(user):
    """Everyone in a community: the next activities, signed up or not."""
    if user.role == BUREAU:
        return None
    rows = db.session.connection().execute(COMING_ACTIVITIES, {"user_id": user.id, "now": utcnow()}).all()
    if not rows:
        return None
    words = panel_words(_activity_words)
    return {
        "title": words.title,
        "items": [
            {
                "text": row.title,
                "hint": f"{format_local_datetime(row.starts_at, 'MM-dd HH:mm')} · {row.community}"
                + (words.signed if row.signed else ""),
                "url": words.activity_url(row.id),
            }
            for row in rows
        ],
    }


class ActivityWords(NamedTuple):
    title: str
    signed: str
    activity_url: Callable[[int], str]


def _activity_words() -> ActivityWords:
    return ActivityWords(_("Coming activities"), f" · {_('Signed up')}", url_for_ids("communities.activity", "activity_id"))


@home_panel(40)
def communities_panel(user):
    """My communities, or an invitation to join one (the policy wants every rural teacher in one)."""
    if user.role == BUREAU:
        return None
    # Kept until a membership or a community changes (core/cache.kept, AUDIENCES, as the resource
    # lists' audiences): every visit to the home page asks.
    rows = cache.kept_rows(("home-communities", user.id), MY_COMMUNITIES, {"user_id": user.id}, cache.AUDIENCES)
    if not rows and user.role not in MAY_JOIN:
        return None
    words = panel_words(_community_words)
    community_url, waiting = words.community_url, words.waiting
    items = [{"text": row.name, "url": community_url(row.id), "hint": waiting if row.status == "pending" else ""}
             for row in rows]
    return {"title": words.title, "items": items, "empty": words.empty, "more": words.more}


class CommunityWords(NamedTuple):
    title: str
    waiting: str
    empty: str
    more: dict
    community_url: Callable[[int], str]


def _community_words() -> CommunityWords:
    return CommunityWords(
        _("My communities"), _("Waiting for approval"),
        _("You are not in a community yet. Find one that fits your subject and ask to join."),
        {"text": _("All communities"), "url": url_for("communities.index")},
        url_for_ids("communities.community", "community_id"))
