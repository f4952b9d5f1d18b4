"""What every community page does the same way: load a community with the viewer's membership,
show a refusal on the page it came from, find a person by username."""

from __future__ import annotations

from flask import abort, flash
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.services import normalise_username
from ..core.errors import DomainError, Invalid
from ..core.i18n import lazy_gettext as _l
from ..extensions import db
from .models import Community, Membership
from .permissions import can_view_community, membership_of

# Built once: SQLAlchemy reuses the statement's cache key instead of rebuilding it per request.
_COMMUNITY = (
    select(Community).where(Community.id == bindparam("community_id"))
    .options(joinedload(Community.leader), joinedload(Community.county))
)


def load_community(community_id: int) -> tuple[Community, Membership | None]:
    """The community (404 if missing, or closed for all but its managers) and the viewer's membership."""
    community = db.session.execute(_COMMUNITY, {"community_id": community_id}).scalar_one_or_none()
    if community is None or not can_view_community(current_user, community):
        abort(404)
    return community, membership_of(current_user, community)


def fail(exc: DomainError, view, **kwargs):
    """Answer a refused action on the page it came from: the message, and the error's 4xx."""
    db.session.rollback()
    flash(str(exc.message), "error")
    return view(**kwargs), exc.status


def refuse(message) -> None:
    """A 403 page that says why: the community itself is public, its inside is not."""
    flash(str(message), "error")
    abort(403)


def find_user(username: str, field: str) -> User | None:
    username = normalise_username(username or "")
    if not username:
        return None
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise Invalid(_l("There is no account with the username %(username)s.", username=username), field=field)
    return user
