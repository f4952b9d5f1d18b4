"""Resources attached to things people do together: community activities and dual-teacher
classes. A kind of link names its table, the column holding the owner and who may attach.

To add a kind: a model like ``ActivityResource`` (owner id, resource_id, added_by_id, unique on
the pair), a ``LinkKind`` in ``KINDS``, and thin wrappers like the activity ones below.

Everyone sees, among the attached resources, only those they may see themselves
(``visible_resources``): a private resource attached by its owner stays hidden from the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, has_request_context, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..communities.models import Activity
from ..communities.permissions import can_edit_activity, can_view_community, membership_of
from ..core.errors import NotAllowed, NotFound
from ..core.i18n import lazy_gettext as _l
from ..extensions import db
from .models import ActivityResource, LiveClassResource, Resource
from .permissions import can_view_resource, visible_resources
from .search import apply_search, normalise_query

log = logging.getLogger("portal.audit")

SHOWN = 50  # attached resources listed at most
MATCHES = 10  # search results offered for attaching


@dataclass(frozen=True)
class LinkKind:
    name: str
    model: type
    owner_column: str
    can_attach: Callable  # (user, owner) -> bool

    @property
    def column(self):
        return getattr(self.model, self.owner_column)


def _can_attach_to_activity(user, activity: Activity) -> bool:
    return can_edit_activity(user, activity, membership_of(user, activity.community))


def _can_attach_to_live_class(user, live_class) -> bool:
    from ..scheduling.permissions import can_attach_to_class

    return can_attach_to_class(user, live_class)


ACTIVITY = LinkKind("activity", ActivityResource, "activity_id", _can_attach_to_activity)
LIVE_CLASS = LinkKind("live_class", LiveClassResource, "live_class_id", _can_attach_to_live_class)
KINDS: dict[str, LinkKind] = {ACTIVITY.name: ACTIVITY, LIVE_CLASS.name: LIVE_CLASS}


# --- the generic services ------------------------------------------------------------------------


def attach_resource(actor, kind: LinkKind, owner, resource: Resource) -> bool:
    """Attach a resource the actor can see; False when it was attached already."""
    if not kind.can_attach(actor, owner):
        raise NotAllowed(_l("You cannot attach resources here."))
    if not can_view_resource(actor, resource):
        raise NotFound(_l("The resource was not found."))
    exists = db.session.execute(
        select(kind.model.id).where(kind.column == owner.id, kind.model.resource_id == resource.id)
    ).first()
    if exists is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(kind.model(**{kind.owner_column: owner.id}, resource_id=resource.id,
                                      added_by_id=actor.id))
            db.session.flush()
    except IntegrityError:
        return False
    log.info("resource attached kind=%s owner=%s resource=%s by=%s", kind.name, owner.id, resource.id, actor.id)
    return True


def detach_resource(actor, kind: LinkKind, owner, resource: Resource) -> bool:
    """Detach a resource; False when it was not attached."""
    if not kind.can_attach(actor, owner):
        raise NotAllowed(_l("You cannot remove resources here."))
    if not can_view_resource(actor, resource):
        raise NotFound(_l("The resource was not found."))
    result = db.session.execute(
        delete(kind.model).where(kind.column == owner.id, kind.model.resource_id == resource.id)
    )
    if result.rowcount:
        log.info("resource detached kind=%s owner=%s resource=%s by=%s", kind.name, owner.id, resource.id,
                 actor.id)
    return bool(result.rowcount)


def linked_resources(viewer, kind: LinkKind, owner_id: int, limit: int = SHOWN) -> list[Resource]:
    """The attached resources the viewer may see, newest link first, owners loaded (one query)."""
    return list(db.session.execute(
        select(Resource)
        .join(kind.model, kind.model.resource_id == Resource.id)
        .where(kind.column == owner_id, visible_resources(viewer))
        .options(joinedload(Resource.owner))
        .order_by(kind.model.id.desc())
        .limit(limit)
    ).scalars())


def attachable(viewer, query: str, exclude_owner_id: int | None = None, kind: LinkKind = ACTIVITY,
               limit: int = MATCHES) -> list[Resource]:
    """Up to ``limit`` resources the viewer may see whose text matches ``query`` (not attached yet)."""
    q = normalise_query(query)
    if not q:
        return []
    stmt = select(Resource).where(visible_resources(viewer))
    if exclude_owner_id is not None:
        attached = select(kind.model.resource_id).where(kind.column == exclude_owner_id)
        stmt = stmt.where(Resource.id.not_in(attached))
    return list(db.session.execute(apply_search(stmt, q, "relevance").limit(limit)).scalars())


# --- community activities -----------------------------------------------------------------------


def load_activity(activity_id: int, user) -> tuple[Activity, object]:
    """The activity (404 unless the person may see its community) and their membership."""
    activity = db.session.execute(
        select(Activity).where(Activity.id == activity_id).options(joinedload(Activity.community))
    ).scalar_one_or_none()
    if activity is None or not can_view_community(user, activity.community):
        abort(404)
    return activity, membership_of(user, activity.community)


def attach_to_activity(actor, activity: Activity, resource: Resource) -> bool:
    return attach_resource(actor, ACTIVITY, activity, resource)


def detach_from_activity(actor, activity: Activity, resource: Resource) -> bool:
    return detach_resource(actor, ACTIVITY, activity, resource)


def activity_resources(viewer, activity: Activity) -> list[Resource]:
    return linked_resources(viewer, ACTIVITY, activity.id)


def activity_context(user, activity: Activity, membership) -> dict:
    """What ``resources/_linked.html`` needs on the activity page: the attached
    resources the person may see and, for those who may change the activity, the matches of
    ``?rq=`` to attach. Two queries."""
    editable = can_edit_activity(user, activity, membership)
    rq = normalise_query(request.args.get("rq")) if has_request_context() and editable else ""
    return {
        "activity_resources": activity_resources(user, activity),
        "can_attach_resources": editable,
        "resource_query": rq,
        "resource_matches": attachable(user, rq, activity.id) if rq else [],
    }



# --- dual-teacher classes ---------------------------------------------------------------------------


def live_class_context(user, live_class, editable: bool) -> dict:
    """What ``resources/_linked.html`` needs on a class's page (two queries)."""
    rq = normalise_query(request.args.get("rq")) if has_request_context() and editable else ""
    return {
        "class_resources": linked_resources(user, LIVE_CLASS, live_class.id),
        "can_attach_resources": editable,
        "resource_query": rq,
        "resource_matches": attachable(user, rq, live_class.id, kind=LIVE_CLASS) if rq else [],
    }
