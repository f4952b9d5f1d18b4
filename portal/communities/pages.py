"""What every community page does the same way: load a community with the viewer's membership,
show a refusal on the page it came from, find a person by username, write the community's header
and tabs."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import abort, current_app, flash, get_template_attribute, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.services import normalise_username
from ..core.converters import MAX_ID
from ..core.errors import DomainError, Invalid
from ..core.i18n import gettext as _
from ..core.i18n import lazy_gettext as _l
from ..core.i18n import safe_translation
from ..core.labels import COMMUNITY_KIND_LABELS, COMMUNITY_LEVEL_LABELS, STAGE_LABELS, SUBJECT_LABELS, label
from ..core.templating import url_for_ids
from ..extensions import db
from .blueprint import bp
from .models import KINDS, Community, Membership
from .permissions import can_view_community

# Built once: SQLAlchemy reuses the statement's cache key instead of rebuilding it per request.
# The viewer's membership comes in the same row (``membership_of`` asked a second time on every
# community page).
_COMMUNITY = (
    select(Community, Membership).where(Community.id == bindparam("community_id"))
    .outerjoin(Membership, (Membership.community_id == Community.id) & (Membership.user_id == bindparam("user_id")))
    .options(joinedload(Community.leader), joinedload(Community.county))
)


def load_community(community_id: int) -> tuple[Community, Membership | None]:
    """The community (404 if missing, or closed for all but its managers) and the viewer's membership."""
    user = current_user._get_current_object()
    viewer_id = user.id if user.is_authenticated else None  # None: no membership matches
    found = db.session.execute(_COMMUNITY, {"community_id": community_id, "user_id": viewer_id}).one_or_none()
    if found is None or not can_view_community(user, found[0]):
        abort(404)
    return found[0], found[1]


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


def post_buttons(endpoint: str, id_arg: str, text: Markup, fields: dict | None = None,
                 cls: str = "") -> Callable[[int], Markup]:
    """``post_button(url_for(endpoint, **{id_arg: id}), text, fields, cls)`` (templates/_macros/forms.html)
    for the many ids of one page: the macro is rendered once, for a stand-in id, and each id's link
    put in its place (two buttons of a member list's row, a macro call and a link each, cost four
    times the rest of the row). ``text``: translated once, marked safe as the templates' own is."""
    link = url_for_ids(endpoint, id_arg)
    button = get_template_attribute("_macros/forms.html", "post_button")
    fields = fields or {}
    sample = link(MAX_ID)
    html = button(sample, text, fields, cls)
    if html.count(sample) != 1:
        return lambda object_id: button(link(object_id), text, fields, cls)
    head, tail = html.split(sample)
    return lambda object_id: head + link(object_id) + tail  # Markup: the link is escaped as the macro does


# --- the header and tabs of every community page (templates/communities/_layout.html) -----------

TABS = (
    ("communities.community", "overview", _l("Overview")),
    ("communities.activities", "activities", _l("Activities")),
    ("communities.threads", "threads", _l("Discussions")),
    ("communities.projects", "projects", _l("Research projects")),
    ("communities.members", "members", _l("Members")),
)


class CommunityHead(NamedTuple):
    kind_url: str
    kind: str
    level: str  # with the county's name
    subject: str
    stage: str
    leader: Markup | None
    members: Markup
    tabs: list[tuple[str, str, Markup]]  # (url, name, text)


def _links() -> tuple[dict[str, str], list[tuple]]:
    """The list's address for each kind and each installed tab's link maker, resolved once per
    script root (as the menu's are): five tab links and their endpoint checks were a tenth of a
    community page."""
    kept = current_app.extensions.setdefault("community_links", {})
    links = kept.get(request.script_root)
    if links is None:
        links = kept[request.script_root] = (
            {kind: url_for("communities.index", kind=kind) for kind in KINDS},
            [(url_for_ids(endpoint, "community_id"), name, text) for endpoint, name, text in TABS
             if endpoint in current_app.view_functions],
        )
    return links


@bp.app_template_global()
def community_head(community: Community) -> CommunityHead:
    """The header's words and the tabs of a community's pages, worked out in one call rather than
    by a dozen label, translation and link calls in the template."""
    kind_urls, tabs = _links()
    level = label(COMMUNITY_LEVEL_LABELS, community.level)
    if community.county:
        level = f"{level} · {community.county.name}"
    leader = community.leader
    return CommunityHead(
        kind_url=kind_urls.get(community.kind) or url_for("communities.index", kind=community.kind),
        kind=label(COMMUNITY_KIND_LABELS, community.kind),
        level=level,
        subject=label(SUBJECT_LABELS, community.subject),
        stage=label(STAGE_LABELS, community.stage),
        leader=safe_translation(_("Leader: %(name)s")) % {"name": leader.name} if leader else None,
        members=safe_translation(_("%(n)d members")) % {"n": community.member_count},
        tabs=[(link(community.id), name, safe_translation(str(text))) for link, name, text in tabs],
    )
