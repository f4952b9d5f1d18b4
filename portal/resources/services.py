"""Sharing resources: upload or link, metadata, who sees it, new versions, taking down, and the
view and download counters. Services flush and never commit.

Files go through ``core.uploads`` (checked by content, stored by hash outside the web root);
the original file name is kept on the version for display and for the download's filename*.
Visibility is decided by ``permissions.visible_resources``; this module only checks that the
communities and partnerships a resource is shared with are ones the owner may choose.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, MutableMapping
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from sqlalchemy import Select, bindparam, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..communities.models import Community, Membership
from ..core.authz import BUREAU, has_role
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.labels import SUBJECT_LABELS
from ..core.locking import check_version
from ..core.models import plain_rows, utcnow
from ..core.pagination import Page
from ..core.sanitize import clean_text
from ..core.timeutil import local_today
from ..core.uploads import CONTENT_TYPES, save_upload
from ..core.web import path_for
from ..extensions import db
from ..org.models import School
from ..partnerships.models import Partnership, PartnershipSchool
from ..partnerships.permissions import scope_partnerships
from ..partnerships.services import active_filter
from .models import EDITIONS, KINDS, VISIBILITIES, Resource, ResourceAudience, ResourceDownload, ResourceVersion
from .permissions import can_delete_resource, can_edit_resource, can_share, visibility_clause, visibility_of
from .search import normalise_query, search_clause, search_of, search_order, search_text_of, title_match
from .search_memory import (
    filter_terms,
    matches_of,
    page_of,
    public_more_than,
    reach_keys,
    visible_rule,
    walked_filters,
)

log = logging.getLogger("portal.audit")

register_message("resource.taken_down", _l("%(by)s took down your resource %(title)s."))

FILE_KINDS = frozenset({"pdf", "image", "office", "text", "video", "audio"})
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# School stages a resource is made for, with the grades each one spans.
STAGE_GRADES = {"primary": range(1, 7), "junior": range(7, 10), "senior": range(10, 13)}
STAGES = tuple(STAGE_GRADES)
SORTS = ("relevance", "date")
MAX_TITLE = 120
MAX_DESCRIPTION = 5000
MAX_UNIT = 80
MAX_TAGS = 10
MAX_TAG_LENGTH = 20
MAX_LINK = 500
MAX_NOTE = 200
MAX_AUDIENCES = 50
VERSION_ATTEMPTS = 3  # numbers tried when uploads of new versions meet
VIEW_WINDOW = 3600  # seconds: one person's views of one resource count once an hour
MAX_SEEN = 60  # resources remembered per person for that (kept in the signed session cookie)
# Shown in the browser, not downloaded: extension → how the page embeds it.
PREVIEW_KINDS = {"png": "image", "jpg": "image", "jpeg": "image", "gif": "image", "webp": "image",
                 "pdf": "pdf", "mp3": "audio", "m4a": "audio", "mp4": "video"}
_TAG_SEPARATORS = re.compile(r"[\s,，、;；]+")


def resource_link(resource: Resource) -> str:
    return path_for("resources.resource", resource_id=resource.id)


def max_upload_bytes() -> int:
    """The largest file a resource takes: the request limit (MAX_UPLOAD_MB, 200 MB by default)."""
    return current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BYTES


def preview_kind(version: ResourceVersion | None) -> str | None:
    """"image", "pdf", "audio" or "video" when the browser can show the version inline; else None."""
    if version is None:
        return None
    return PREVIEW_KINDS.get(version.stored_name.rsplit(".", 1)[-1].lower())


def preview_content_type(version: ResourceVersion) -> str:
    """The inline content type, from the stored extension (never from the uploading browser)."""
    return CONTENT_TYPES[version.stored_name.rsplit(".", 1)[-1].lower()]


# --- checking what people type -------------------------------------------------------------------


def parse_tags(raw: str | Iterable[str] | None) -> str:
    """Tags split on spaces, commas and 、, duplicates dropped; at most 10 of 20 characters each."""
    if raw is None:
        return ""
    text = raw if isinstance(raw, str) else " ".join(raw)
    tags = list(dict.fromkeys(t for t in _TAG_SEPARATORS.split(clean_text(text)) if t))
    if len(tags) > MAX_TAGS:
        raise Invalid(_l("At most %(n)d tags.", n=MAX_TAGS), field="tags")
    too_long = [t for t in tags if len(t) > MAX_TAG_LENGTH]
    if too_long:
        raise Invalid(_l("A tag has at most %(n)d characters: %(tag)s", n=MAX_TAG_LENGTH, tag=too_long[0][:30]),
                      field="tags")
    return " ".join(tags)


def parse_grade(raw) -> int | None:
    """A grade from a form or the API: empty is none; otherwise a whole number (checked later)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 3:
        return int(raw.strip())
    raise Invalid(_l("The grade must be a whole number from 1 to 12."), field="grade")


def parse_ids(values: Iterable | None, field: str) -> list[int]:
    """Ids given as repeated fields and/or comma-separated text; junk is refused."""
    ids: list[int] = []
    for value in values or ():
        parts = [value] if isinstance(value, int) and not isinstance(value, bool) else str(value).split(",")
        for part in parts:
            part = str(part).strip()
            if not part:
                continue
            if not (part.isascii() and part.isdigit()) or len(part) > 10:
                raise Invalid(_l("%(field)s must be ids separated by commas.", field=field), field=field)
            ids.append(int(part))
    return list(dict.fromkeys(ids))


def check_link(raw: str | None) -> str:
    """An external link: http or https with a host, no spaces, at most 500 characters."""
    link = clean_text(raw)
    if len(link) > MAX_LINK:
        raise Invalid(_l("The link is too long (at most %(n)d characters).", n=MAX_LINK), field="link_url")
    try:
        parts = urlsplit(link)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or re.search(r"\s", link):
        raise Invalid(_l("The link must be a web address starting with http:// or https://."), field="link_url")
    return link


def _check_metadata(*, title, description, kind, subject, stage, grade, edition, unit, tags) -> dict:
    title = clean_text(title)
    if not title:
        raise Invalid(_l("Please give the resource a title."), field="title")
    if len(title) > MAX_TITLE:
        raise Invalid(_l("The title is too long (at most %(n)d characters).", n=MAX_TITLE), field="title")
    description = clean_text(description).replace("\r\n", "\n")
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(_l("The description is too long (at most %(n)d characters).", n=MAX_DESCRIPTION),
                      field="description")
    if kind not in KINDS:
        raise Invalid(_l("Choose the kind of resource."), field="kind")
    if subject not in SUBJECT_LABELS:
        raise Invalid(_l("Choose the subject."), field="subject")
    if stage not in STAGE_GRADES:
        raise Invalid(_l("Choose the stage: primary, junior or senior secondary."), field="stage")
    grade = parse_grade(grade)
    if grade is not None and not 1 <= grade <= 12:
        raise Invalid(_l("The grade must be a whole number from 1 to 12."), field="grade")
    if grade is not None and grade not in STAGE_GRADES[stage]:
        raise Invalid(_l("Grade %(grade)d is not in the stage chosen.", grade=grade), field="grade")
    edition = edition or ""
    if edition and edition not in EDITIONS:
        raise Invalid(_l("Choose a textbook edition from the list."), field="edition")
    unit = clean_text(unit)
    if len(unit) > MAX_UNIT:
        raise Invalid(_l("The unit or chapter is too long (at most %(n)d characters).", n=MAX_UNIT), field="unit")
    return dict(title=title, description=description, kind=kind, subject=subject, stage=stage, grade=grade,
                edition=edition, unit=unit, tags=parse_tags(tags))


# --- who a resource can be shared with -------------------------------------------------------------


def shareable_communities(user: User) -> list[Community]:
    """Communities ``user`` may share with: active ones they are an active member of; the
    bureau: every active community of its scope (its county's and the city-level ones)."""
    stmt = select(Community).where(Community.is_active.is_(True)).order_by(Community.name, Community.id)
    if has_role(user, BUREAU):
        if user.county_id is not None:
            stmt = stmt.where(or_(Community.county_id.is_(None), Community.county_id == user.county_id))
    else:
        stmt = stmt.where(exists().where(Membership.community_id == Community.id, Membership.user_id == user.id,
                                         Membership.status == "active"))
    return list(db.session.execute(stmt).scalars())


def shareable_partnerships(user: User) -> list[Partnership]:
    """Current partnerships ``user`` may share with: those their school leads or belongs to; the
    bureau: every current partnership of its scope."""
    stmt = select(Partnership).where(active_filter(local_today())).order_by(Partnership.name, Partnership.id)
    if has_role(user, BUREAU):
        stmt = scope_partnerships(user, stmt)
    elif user.school_id is None:
        return []
    else:
        member = exists().where(PartnershipSchool.partnership_id == Partnership.id,
                                PartnershipSchool.school_id == user.school_id)
        stmt = stmt.where(or_(Partnership.lead_school_id == user.school_id, member))
    return list(db.session.execute(stmt).scalars())


def _audiences(actor: User, visibility: str, community_ids, partnership_ids,
               resource: Resource | None = None) -> list[ResourceAudience]:
    """The audiences for a visibility; ids outside what the actor may choose are refused.
    Audiences a resource already has may stay, even if the owner has since left them."""
    if visibility not in VISIBILITIES:
        raise Invalid(_l("Choose who can see the resource: everyone, communities, a partnership or only you."),
                      field="visibility")
    if visibility not in ("community", "pairing"):
        return []
    field = "community_ids" if visibility == "community" else "partnership_ids"
    ids = parse_ids(community_ids if visibility == "community" else partnership_ids, field)
    if not ids:
        message = (_l("Choose at least one community to share with.") if visibility == "community"
                   else _l("Choose at least one partnership to share with."))
        raise Invalid(message, field=field)
    if len(ids) > MAX_AUDIENCES:
        raise Invalid(_l("Share with at most %(n)d at once.", n=MAX_AUDIENCES), field=field)
    kept = set()
    if resource is not None:
        kept = {a.community_id if visibility == "community" else a.partnership_id for a in resource.audiences}
    choices = shareable_communities(actor) if visibility == "community" else shareable_partnerships(actor)
    allowed = {c.id for c in choices} | kept
    if not set(ids) <= allowed:
        message = (_l("You can only share with communities you are an active member of.")
                   if visibility == "community"
                   else _l("You can only share with current partnerships of your school."))
        raise Invalid(message, field=field)
    if visibility == "community":
        return [ResourceAudience(community_id=i) for i in ids]
    return [ResourceAudience(partnership_id=i) for i in ids]


def _set_audiences(resource: Resource, audiences: list[ResourceAudience]) -> None:
    old = {(a.community_id, a.partnership_id) for a in resource.audiences}
    new = {(a.community_id, a.partnership_id) for a in audiences}
    if old != new:
        resource.audiences = audiences
        db.session.flush()  # the old rows go before anything reads the new ones


# --- sharing, changing, versions, taking down ----------------------------------------------------------


def _new_version(actor: User, resource: Resource, file, note: str) -> ResourceVersion:
    saved = save_upload(file, kinds=FILE_KINDS, max_bytes=max_upload_bytes())
    # Two uploads at once (a double click) read the same highest number: the one that loses the
    # unique (resource, number) race takes the next number instead of failing with a 500.
    for attempt in range(VERSION_ATTEMPTS):
        number = (db.session.execute(select(func.max(ResourceVersion.number))
                                     .where(ResourceVersion.resource_id == resource.id)).scalar() or 0) + 1
        version = ResourceVersion(resource_id=resource.id, number=number, stored_name=saved.stored_name,
                                  original_name=saved.original_name, content_type=saved.content_type,
                                  size=saved.size, sha256=saved.sha256, note=note, uploaded_by_id=actor.id)
        try:
            with db.session.begin_nested():
                db.session.add(version)
                db.session.flush()
        except IntegrityError:
            if attempt == VERSION_ATTEMPTS - 1:
                raise Conflict(_l("Another version was uploaded at the same moment; please try again."),
                               field="file") from None
            continue
        break
    resource.current_version_id = version.id
    resource.current_version = version
    return version


def _has_file(file) -> bool:
    return file is not None and bool(getattr(file, "filename", ""))


def share_resource(
    actor: User,
    *,
    title: str,
    description: str = "",
    kind: str,
    subject: str,
    stage: str,
    grade=None,
    edition: str = "",
    unit: str = "",
    tags: str | Iterable[str] = "",
    visibility: str = "public",
    community_ids: Iterable | None = (),
    partnership_ids: Iterable | None = (),
    file=None,
    link_url: str | None = None,
) -> Resource:
    """Share a file (its first version) or an external link. Exactly one of ``file`` / ``link_url``."""
    if not can_share(actor):
        raise NotAllowed(_l("You cannot share resources."))
    values = _check_metadata(title=title, description=description, kind=kind, subject=subject, stage=stage,
                             grade=grade, edition=edition, unit=unit, tags=tags)
    audiences = _audiences(actor, visibility, community_ids, partnership_ids)
    has_link = bool((link_url or "").strip())
    if _has_file(file) == has_link:
        raise Invalid(_l("Upload a file or give a link (one of the two)."), field="file")
    link = check_link(link_url) if has_link else ""
    resource = Resource(**values, visibility=visibility, link_url=link, owner_id=actor.id,
                        school_id=actor.school_id, county_id=actor.scope_county_id,
                        search_text=search_text_of(values["title"], values["description"], values["tags"]))
    resource.audiences = audiences
    db.session.add(resource)
    db.session.flush()
    if not has_link:
        version = _new_version(actor, resource, file, "")
        log.info("resource shared id=%s by=%s visibility=%s file=%s size=%s", resource.id, actor.id, visibility,
                 version.stored_name, version.size)
    else:
        log.info("resource shared id=%s by=%s visibility=%s link", resource.id, actor.id, visibility)
    return resource


def update_resource(
    actor: User,
    resource: Resource,
    *,
    title: str,
    description: str = "",
    kind: str,
    subject: str,
    stage: str,
    grade=None,
    edition: str = "",
    unit: str = "",
    tags: str | Iterable[str] = "",
    visibility: str,
    community_ids: Iterable | None = (),
    partnership_ids: Iterable | None = (),
    link_url: str | None = None,
    version: int | None = None,
) -> Resource:
    """Change the metadata and who sees it; the audiences are replaced by the ones given.
    A link resource may change its link (``link_url`` None keeps it). A change made on another
    ``version`` than the stored one (the same resource open in two tabs or devices) is refused."""
    if not can_edit_resource(actor, resource):
        raise NotAllowed(_l("Only the owner changes a resource."))
    check_version(resource, version)
    values = _check_metadata(title=title, description=description, kind=kind, subject=subject, stage=stage,
                             grade=grade, edition=edition, unit=unit, tags=tags)
    audiences = _audiences(actor, visibility, community_ids, partnership_ids, resource)
    if resource.is_link and link_url is not None:
        resource.link_url = check_link(link_url)
    for key, value in values.items():
        setattr(resource, key, value)
    resource.search_text = search_text_of(values["title"], values["description"], values["tags"])
    resource.visibility = visibility
    _set_audiences(resource, audiences)
    resource.updated_at = utcnow()
    db.session.flush()
    log.info("resource changed id=%s by=%s visibility=%s", resource.id, actor.id, visibility)
    return resource


def add_version(actor: User, resource: Resource, file, note: str = "") -> ResourceVersion:
    """Upload a new file for a resource: it becomes the current version, the old ones stay."""
    if not can_edit_resource(actor, resource):
        raise NotAllowed(_l("Only the owner uploads new versions."))
    if resource.is_link:
        raise Invalid(_l("This resource is a link; it has no files."), field="file")
    note = clean_text(note)
    if len(note) > MAX_NOTE:
        raise Invalid(_l("The note is too long (at most %(n)d characters).", n=MAX_NOTE), field="note")
    version = _new_version(actor, resource, file, note)
    resource.updated_at = utcnow()
    db.session.flush()
    log.info("resource version added id=%s version=%s number=%s by=%s size=%s", resource.id, version.id,
             version.number, actor.id, version.size)
    return version


def delete_resource(actor: User, resource: Resource) -> None:
    """Take a resource down (kept, marked deleted; nobody sees it or its files afterwards)."""
    if not can_delete_resource(actor, resource):
        raise NotAllowed(_l("Only the owner or the bureau takes a resource down."))
    resource.deleted_at = utcnow()
    db.session.flush()
    log.info("resource deleted id=%s by=%s owner=%s", resource.id, actor.id, resource.owner_id)
    if actor.id != resource.owner_id:
        notify([resource.owner_id], "resource.taken_down", params={"by": actor.name, "title": resource.title},
               link=path_for("resources.index", mine=1))


# --- counters ------------------------------------------------------------------------------------


def record_view(user: User, resource: Resource, seen: MutableMapping[str, int] | None = None,
                now: float | None = None) -> bool:
    """Count a view of the detail page, once per person per resource per hour; the owner's own
    views are not counted. ``seen`` is where the caller remembers recent views (the page passes
    a dict kept in the person's session: resource id → time counted); at most 60 are kept, the
    oldest dropped. Returns whether the view was counted."""
    if user.id == resource.owner_id:
        return False
    now = time.time() if now is None else now
    if seen is not None:
        for key in [k for k, at in seen.items() if not isinstance(at, (int, float)) or now - at >= VIEW_WINDOW]:
            del seen[key]
        key = str(resource.id)
        if key in seen:
            return False
        while len(seen) >= MAX_SEEN:
            del seen[min(seen, key=seen.get)]
        seen[key] = int(now)
    # On the session's connection, not through the session: the ORM's hooks (core/cache.py) would
    # take any UPDATE of resources for a change of the bureau's figures, which no figure reads the
    # view count for, and throw them away (seconds to compute again at city scale) on every view.
    db.session.connection().execute(
        Resource.__table__.update().where(Resource.id == resource.id).values(view_count=Resource.view_count + 1)
    )
    return True


def counts_as_download(response) -> bool:
    """Whether a file response is a download to count: the whole file, or a range from its first
    byte (a resumable client starting). Not a HEAD or a 304, nor the later pieces of a split or
    resumed one."""
    if has_request_context() and request.method != "GET":
        return False
    if response.status_code == 200:
        return True
    if response.status_code != 206 or not has_request_context() or request.range is None:
        return False
    return request.range.ranges[0][0] == 0


def record_download(user: User, resource: Resource, version: ResourceVersion | None,
                    response=None) -> ResourceDownload | None:
    """A download: a row with the person's school (the urban→rural flow) and the counter.
    The owner fetching their own file is not a download of the shared resource; given the
    response, partial and not-modified answers are not counted (``counts_as_download``)."""
    if user.id == resource.owner_id or (response is not None and not counts_as_download(response)):
        return None
    download = ResourceDownload(resource_id=resource.id, version_id=version.id if version else None,
                                user_id=user.id, school_id=user.school_id)
    db.session.add(download)
    db.session.execute(
        Resource.__table__.update().where(Resource.id == resource.id)
        .values(download_count=Resource.download_count + 1)
    )
    db.session.flush()
    return download


# --- the list ------------------------------------------------------------------------------------


class ResourceCard(NamedTuple):
    """What a card of the list shows (templates/resources/index.html): a row, not a loaded
    resource with its owner, school and version (building those cost more than finding them)."""

    id: int
    title: str
    kind: str
    subject: str
    stage: str
    grade: int | None
    edition: str
    visibility: str
    link_url: str
    created_at: datetime
    download_count: int
    rating_count: int
    rating_sum: int
    owner_name: str
    school_name: str | None
    size: int | None  # of the current version; None for a link

    rating = property(Resource.rating.fget)
    is_link = property(Resource.is_link.fget)


_CARD_COLUMNS = (Resource.id, Resource.title, Resource.kind, Resource.subject, Resource.stage, Resource.grade,
                 Resource.edition, Resource.visibility, Resource.link_url, Resource.created_at,
                 Resource.download_count, Resource.rating_count, Resource.rating_sum, User.name, School.name,
                 ResourceVersion.size)
FILTERS = ("subject", "stage", "grade", "kind", "edition", "owner_id")  # columns a list is narrowed to


@lru_cache(maxsize=256)
def _listing_statements(visibility: tuple, filters: tuple[str, ...], how: str, order: str, counted: bool,
                        cards: bool, walked: tuple[str, ...] | None = None) -> tuple[Select, Select]:
    """The count and the page of a list, built once per combination of what it holds (the
    person's form of the visibility rule, the filters given, the way of searching): every value
    is a bind parameter, so a list costs its queries and not the building of them.

    A search's page also carries the number of matches (the last column): its matches are all
    found to be sorted anyway, and counting them apart found them a second time. They are found
    once into a materialised set that is both counted and sorted (a two-character search at
    200,000 resources: 32 -> 20 million instructions in SQLite, callgrind; a window count over
    the page's select was 25). The count statement is then only for a page past the last, which
    has no row to carry the number."""
    where = [visibility_clause(visibility), *filter_terms(filters, walked)]
    if how != "all":
        where.append(search_clause(how))
    # Every column, as the ORM's select of Resource has them: with only the id, SQLite counts from
    # the covering listing index in its (visibility, date) order and the first thousand of an
    # unfiltered list took a third longer to find than scanning the table.
    matching = select(Resource.__table__).where(*where)
    if counted:
        matching = matching.limit(bindparam("count_up_to"))
    count = select(func.count()).select_from(matching.subquery())
    # The page's rows are found first and joined to the rest afterwards: joined in the same
    # select, SQLite looked up the owner, school and version of every match before sorting them
    # (1,200 for a two-character search, 40% of the query). The title and date come along for
    # the outer select to keep the order.
    if _counts_on_page(how):
        # Whether the title holds the query is worked out as each match is found, and only that is
        # kept with it, not the title: the matches' set is narrower and the sort reads a column
        # (a two-character search: 21 -> 20 million instructions, callgrind).
        by_relevance = order != "date"
        columns = [Resource.id, Resource.created_at]
        if by_relevance:
            columns.append(title_match().label("in_title"))
        matches = select(*columns).where(*where).cte("matches").prefix_with("MATERIALIZED")
        total = select(func.count()).select_from(matches).scalar_subquery().label("total")
        found = select(*matches.c, total).order_by(*_found_order(matches.c, by_relevance))
    else:
        found = select(Resource.id, Resource.title, Resource.created_at).where(*where)
        found = found.order_by(*search_order(how, order))
    found = found.limit(bindparam("limit")).offset(bindparam("offset")).subquery("found")
    if cards:
        page = (select(*_CARD_COLUMNS).select_from(found).join(Resource, Resource.id == found.c.id)
                .outerjoin(User, User.id == Resource.owner_id)
                .outerjoin(School, School.id == Resource.school_id)
                .outerjoin(ResourceVersion, ResourceVersion.id == Resource.current_version_id))
    else:
        page = select(Resource).join(found, found.c.id == Resource.id).options(joinedload(Resource.current_version))
    if _counts_on_page(how):
        return count, page.add_columns(found.c.total).order_by(*_found_order(found.c, order != "date"))
    return count, page.order_by(*search_order(how, order, found.c))


@lru_cache(maxsize=64)
def _by_id_statement(visibility: tuple, cards: bool) -> Select:
    """The rows of given ids that the person may see (the visibility rule once more: see search_memory)."""
    where = (Resource.id.in_(bindparam("ids", expanding=True)), visibility_clause(visibility))
    if not cards:
        return select(Resource).where(*where).options(joinedload(Resource.current_version))
    return (select(*_CARD_COLUMNS).select_from(Resource).where(*where)
            .outerjoin(User, User.id == Resource.owner_id)
            .outerjoin(School, School.id == Resource.school_id)
            .outerjoin(ResourceVersion, ResourceVersion.id == Resource.current_version_id))


def _rows_by_id(visibility: tuple, cards: bool, ids: list[int], values: dict) -> list:
    """``ResourceCard`` rows (or resources with their current version) of ``ids``, in their order."""
    if not ids:
        return []
    if cards:  # plain rows (core/models.plain_rows), read on every search
        found = {row.id: row for row in map(ResourceCard._make, plain_rows(_by_id_statement(visibility, True),
                                                                            {**values, "ids": ids}))}
    else:
        found = {r.id: r for r in db.session.execute(_by_id_statement(visibility, False), {**values, "ids": ids}).scalars()}
    return [found[i] for i in ids if i in found]


def _found_order(rows, by_relevance: bool) -> tuple:
    """``search_order`` over the found matches, their title's match already worked out (``in_title``)."""
    newest = (rows.created_at.desc(), rows.id.desc())
    return (rows.in_title.desc(), *newest) if by_relevance else newest


def _stage_beside(stage: str | None, grade: int | None) -> tuple[str | None, bool]:
    """The stage filter still to ask for beside ``grade``, and whether no resource can match both.
    Every resource's grade lies in its stage (_check_metadata): a grade names its stage. Asked of
    the database, a grade of another stage walked that grade's 20,000 rows to find none."""
    if not (stage and grade):
        return stage, False
    return None, grade not in STAGE_GRADES.get(stage, ())


def _counts_on_page(how: str) -> bool:
    """Whether a list looked for as ``how`` carries its count on its page's rows: a search does;
    the whole list (its newest first read from an index, stopping at the page) counts apart."""
    return how not in ("all", "nothing")


def resource_page(
    user: User,
    *,
    page: int = 1,
    per_page: int = 20,
    count_up_to: int | None = None,
    cards: bool = True,
    q: str | None = None,
    subject: str | None = None,
    stage: str | None = None,
    grade: int | None = None,
    kind: str | None = None,
    edition: str | None = None,
    sort: str | None = None,
    mine: bool = False,
) -> Page:
    """A page of the resources ``user`` may see matching the search and filters, and how many
    there are (counting stops past ``count_up_to``: the page then says "more"). Items are
    ``ResourceCard`` rows, or with ``cards=False`` resources with their current version (the API)."""
    q = normalise_query(q)
    stage, impossible = _stage_beside(stage, grade)
    if impossible:
        return Page(items=[], total=0, page=page, per_page=per_page, more=False)
    order = sort if sort in SORTS else ("relevance" if q else "date")
    visibility, values = visibility_of(user)
    given = (subject, stage, grade, kind, edition, user.id if mine else None)
    filters = {name: value for name, value in zip(FILTERS, given, strict=True) if value}
    matches = matches_of(q) if q else None
    if matches is not None:
        ids, total = page_of(matches, visible_rule(visibility, values), filters, order == "date",
                             (page - 1) * per_page, per_page, reach_keys(visibility, values))
        items = _rows_by_id(visibility, cards, ids, values)
        more = count_up_to is not None and total > count_up_to
        return Page(items=items, total=count_up_to if more else total, page=page, per_page=per_page, more=more)
    how, searched = search_of(q)
    walked = walked_filters(filters) if how == "all" else None
    count, rows = _listing_statements(visibility, tuple(filters), how, order, count_up_to is not None, cards, walked)
    params = {**values, **searched, **filters}
    if count_up_to is not None:
        params["count_up_to"] = count_up_to + 1
    run = plain_rows if cards else db.session.execute  # cards: columns, read as plain rows
    if _counts_on_page(how):
        found = run(rows, {**params, "limit": per_page, "offset": (page - 1) * per_page}).all()
        if found:
            total = found[0][-1]
        else:  # past the last page (or nothing matches: then the count is quick)
            total = plain_rows(count, params).scalar_one() if page > 1 else 0
        items = [ResourceCard._make(row[:-1]) for row in found] if cards else [row[0] for row in found]
    else:
        if (count_up_to is not None and how == "all" and visibility[0] != "nobody"
                and public_more_than(filters, count_up_to, walked)):
            total = count_up_to + 1  # as the count stops: more than count_up_to
        else:
            total = plain_rows(count, params).scalar_one()
        result = run(rows, {**params, "limit": per_page, "offset": (page - 1) * per_page})
        items = [ResourceCard._make(row) for row in result] if cards else list(result.scalars())
    more = count_up_to is not None and total > count_up_to
    return Page(items=items, total=count_up_to if more else total, page=page, per_page=per_page, more=more)


def versions_of(resource: Resource) -> list[ResourceVersion]:
    """The history, newest first, with who uploaded each."""
    return list(db.session.execute(
        select(ResourceVersion).where(ResourceVersion.resource_id == resource.id)
        .options(joinedload(ResourceVersion.uploaded_by)).order_by(ResourceVersion.number.desc())
    ).scalars())


def audience_names(resource: Resource) -> list[str]:
    """Names of the communities or partnerships a resource is shared with."""
    community_ids = [a.community_id for a in resource.audiences if a.community_id]
    partnership_ids = [a.partnership_id for a in resource.audiences if a.partnership_id]
    names: list[str] = []
    if community_ids:
        names += db.session.execute(select(Community.name).where(Community.id.in_(community_ids))
                                    .order_by(Community.name)).scalars().all()
    if partnership_ids:
        names += db.session.execute(select(Partnership.name).where(Partnership.id.in_(partnership_ids))
                                    .order_by(Partnership.name)).scalars().all()
    return names
