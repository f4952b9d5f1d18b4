"""What people do with a shared resource: ratings (1 to 5, one each, changeable), comments
(sanitised rich text), "used in my class" marks, and the per-school view of what flows from
urban to rural schools (shared, downloaded and used by other schools).

The counters on ``Resource`` (rating_sum/rating_count, comment_count, use_count) change here
only, by SQL increments in the same transaction as the row they count, so they stay exact.
Services flush and never commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask import g, has_request_context, request
from sqlalchemy import delete, func, select, true, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.errors import Invalid, NotAllowed, NotFound
from ..core.i18n import lazy_gettext as _l
from ..core.locking import add_to_counts
from ..core.models import utcnow
from ..core.pagination import Page
from ..core.sanitize import clean_text, rich_text
from ..core.timeutil import local_today, portal_tz, school_year_of
from ..core.web import path_for
from ..extensions import db
from ..org.models import RURAL_KINDS, School
from .models import Resource, ResourceComment, ResourceDownload, ResourceRating, ResourceUse
from .permissions import (
    can_delete_comment,
    can_edit_comment,
    can_mark_used,
    can_rate,
    can_view_resource,
    visible_resources,
)

log = logging.getLogger("portal.audit")

STARS = range(1, 6)
COMMENTS_PER_PAGE = 20
NOTE_MAX = 200
TOP = 10

register_message("resource.commented", _l("%(user)s commented on your resource “%(title)s”."))
register_message("resource.used", _l("%(user)s (%(school)s) used your resource “%(title)s” in class."))


# --- ratings -------------------------------------------------------------------------------------


def parse_stars(raw) -> int:
    """A whole number of stars from 1 to 5, from a form or JSON value; anything else is refused."""
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 2:
        value = int(raw.strip())
    else:
        value = None
    if value not in STARS:
        raise Invalid(_l("Choose a rating from 1 to 5 stars."), field="stars")
    return value


def rate_resource(actor: User, resource: Resource, stars) -> ResourceRating:
    """Set (or change) the actor's rating; the resource's sum and count follow exactly."""
    if not can_view_resource(actor, resource):
        raise NotFound(_l("The resource was not found."))
    if not can_rate(actor, resource):
        raise NotAllowed(_l("You cannot rate your own resource."))
    stars = parse_stars(stars)
    rating = db.session.execute(
        select(ResourceRating).where(ResourceRating.resource_id == resource.id, ResourceRating.user_id == actor.id)
    ).scalar_one_or_none()
    if rating is None:
        rating = ResourceRating(resource_id=resource.id, user_id=actor.id, stars=stars, updated_at=utcnow())
        try:
            with db.session.begin_nested():  # two first ratings sent at once: the second becomes a change
                db.session.add(rating)
                db.session.flush()
        except IntegrityError:
            rating = db.session.execute(
                select(ResourceRating).where(ResourceRating.resource_id == resource.id,
                                             ResourceRating.user_id == actor.id)
            ).scalar_one()
        else:
            add_to_counts(resource, rating_count=1, rating_sum=stars)
            log.info("resource rated id=%s stars=%s by=%s", resource.id, stars, actor.id)
            return rating
    # A change is written only over the stars it was computed from: when two requests change the
    # same rating at once, the later one re-reads the other's stars, so the sum never drifts.
    while rating.stars != stars:
        before = rating.stars
        changed = db.session.execute(
            update(ResourceRating).where(ResourceRating.id == rating.id, ResourceRating.stars == before)
            .values(stars=stars, updated_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            db.session.refresh(rating)
            continue
        set_committed_value(rating, "stars", stars)
        set_committed_value(rating, "updated_at", utcnow())
        add_to_counts(resource, rating_sum=stars - before)
        log.info("resource rating changed id=%s stars=%s by=%s", resource.id, stars, actor.id)
    return rating


# --- "used in my class" --------------------------------------------------------------------------


def mark_used(actor: User, resource: Resource, *, used_on: date | None = None, note: str = "") -> ResourceUse:
    """A teacher or principal marks the resource used in class (once; a second mark changes the
    date and note). The owner is told the first time."""
    if not can_view_resource(actor, resource):
        raise NotFound(_l("The resource was not found."))
    if not can_mark_used(actor, resource):
        raise NotAllowed(_l("Only teachers and principals mark a resource as used in class."))
    used_on = used_on or local_today()
    if used_on > local_today():
        raise Invalid(_l("The date of the lesson cannot be in the future."), field="used_on")
    if used_on.year < 2000:
        raise Invalid(_l("The date of the lesson is not valid."), field="used_on")
    try:
        note = clean_text(note, max_length=NOTE_MAX)
    except Invalid:
        raise Invalid(_l("The note is too long (at most %(n)d characters).", n=NOTE_MAX), field="note") from None
    use = db.session.execute(
        select(ResourceUse).where(ResourceUse.resource_id == resource.id, ResourceUse.user_id == actor.id)
    ).scalar_one_or_none()
    if use is not None:
        use.used_on, use.note = used_on, note
        db.session.flush()
        log.info("resource use changed id=%s by=%s", resource.id, actor.id)
        return use
    use = ResourceUse(resource_id=resource.id, user_id=actor.id, school_id=actor.school_id, used_on=used_on,
                      note=note)
    try:
        with db.session.begin_nested():
            db.session.add(use)
            db.session.flush()
    except IntegrityError:  # marked twice at once: keep the first
        return db.session.execute(
            select(ResourceUse).where(ResourceUse.resource_id == resource.id, ResourceUse.user_id == actor.id)
        ).scalar_one()
    add_to_counts(resource, use_count=1)
    if resource.owner_id != actor.id:
        school = actor.school.name if actor.school is not None else ""
        notify([resource.owner_id], "resource.used",
               params={"user": actor.name, "school": school, "title": resource.title},
               link=path_for("resources.resource", resource_id=resource.id))
    log.info("resource used id=%s by=%s", resource.id, actor.id)
    return use


def unmark_used(actor: User, resource: Resource) -> bool:
    """Take back one's own mark; False when there was none."""
    if not can_view_resource(actor, resource):
        raise NotFound(_l("The resource was not found."))
    use = db.session.execute(
        select(ResourceUse).where(ResourceUse.resource_id == resource.id, ResourceUse.user_id == actor.id)
    ).scalar_one_or_none()
    if use is None:
        return False
    # Only the request whose DELETE removed the row counts it (two clicks at once: one decrement).
    removed = db.session.execute(
        delete(ResourceUse).where(ResourceUse.id == use.id).execution_options(synchronize_session=False)
    ).rowcount
    db.session.expunge(use)
    if not removed:
        return False
    add_to_counts(resource, use_count=-1)
    log.info("resource use removed id=%s by=%s", resource.id, actor.id)
    return True


# --- comments ------------------------------------------------------------------------------------


def _clean_body(body: str | None) -> str:
    from ..communities.discussions import html_text

    body_html = rich_text(body)
    if not html_text(body_html).replace("\xa0", " ").strip():
        raise Invalid(_l("Please write something."), field="body")
    return body_html


def add_comment(actor: User, resource: Resource, *, body: str) -> ResourceComment:
    """Anyone who can see a resource comments on it; the owner is told."""
    if not can_view_resource(actor, resource):
        raise NotFound(_l("The resource was not found."))
    comment = ResourceComment(resource_id=resource.id, author_id=actor.id, body_html=_clean_body(body),
                              created_at=utcnow())
    db.session.add(comment)
    db.session.flush()
    add_to_counts(resource, comment_count=1)
    if resource.owner_id != actor.id:
        notify([resource.owner_id], "resource.commented", params={"user": actor.name, "title": resource.title},
               link=path_for("resources.resource", resource_id=resource.id) + f"#comment-{comment.id}")
    log.info("resource comment id=%s resource=%s by=%s", comment.id, resource.id, actor.id)
    return comment


def edit_comment(actor: User, comment: ResourceComment, resource: Resource, *, body: str) -> ResourceComment:
    """The author changes their comment; it shows it was edited."""
    if not can_edit_comment(actor, comment, resource):
        raise NotAllowed(_l("Only the author can edit this comment."))
    body_html = _clean_body(body)
    if body_html != comment.body_html:
        comment.body_html, comment.edited_at = body_html, utcnow()
        db.session.flush()
        log.info("resource comment edited id=%s by=%s", comment.id, actor.id)
    return comment


def delete_comment(actor: User, comment: ResourceComment, resource: Resource) -> None:
    """The author (or the bureau) removes a comment; it is kept, marked deleted, and no longer shown."""
    if not can_delete_comment(actor, comment, resource):
        raise NotAllowed(_l("Only the author can delete this comment."))
    # Only the request that marks it deleted counts it (two clicks at once: one decrement).
    now = utcnow()
    marked = db.session.execute(
        update(ResourceComment).where(ResourceComment.id == comment.id, ResourceComment.deleted_at.is_(None))
        .values(deleted_at=now).execution_options(synchronize_session=False)
    ).rowcount
    set_committed_value(comment, "deleted_at", now)
    if not marked:
        return
    add_to_counts(resource, comment_count=-1)
    log.info("resource comment deleted id=%s by=%s", comment.id, actor.id)


def comments_page(resource: Resource, number: int = 1, per_page: int = COMMENTS_PER_PAGE) -> Page:
    """A page of the comments shown (newest first), their authors loaded with them: one query,
    the total comes from the kept counter."""
    items = db.session.execute(
        select(ResourceComment)
        .where(ResourceComment.resource_id == resource.id, ResourceComment.deleted_at.is_(None))
        .options(joinedload(ResourceComment.author))
        .order_by(ResourceComment.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).scalars().all()
    return Page(items=list(items), total=max(resource.comment_count or 0, len(items)), page=number,
                per_page=per_page)


# --- what the detail page shows --------------------------------------------------------------------


@dataclass
class Social:
    resource: Resource
    my_stars: int | None
    my_use: ResourceUse | None
    comments: Page
    rating_form: object
    use_form: object
    comment_form: object
    can_rate: bool
    can_mark_used: bool
    can_comment: bool
    is_owner: bool
    editable: set[int] = field(default_factory=set)
    deletable: set[int] = field(default_factory=set)


def _comment_page_number() -> int:
    if not has_request_context():
        return 1
    raw = request.args.get("cpage", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 5 and int(raw) > 0 else 1


def social_context(user, resource: Resource) -> dict:
    """The context of ``resources/_social.html``: the viewer's rating and use mark, a page of
    comments (``?cpage=``), the forms and what the viewer may do. Six queries at most, whatever
    the number of comments, ratings or uses."""
    from .social_forms import CommentForm, RatingForm, UseForm

    my_stars = db.session.execute(
        select(ResourceRating.stars).where(ResourceRating.resource_id == resource.id,
                                           ResourceRating.user_id == user.id)
    ).scalar_one_or_none()
    my_use = db.session.execute(
        select(ResourceUse).where(ResourceUse.resource_id == resource.id, ResourceUse.user_id == user.id)
    ).scalar_one_or_none()
    page = comments_page(resource, _comment_page_number())
    failed = getattr(g, "social_forms", {}) if has_request_context() else {}
    rating_form = failed.get("rating") or RatingForm(formdata=None, data={"stars": my_stars})
    use_form = failed.get("use") or UseForm(
        formdata=None, data={"used_on": my_use.used_on if my_use else local_today(),
                             "note": my_use.note if my_use else ""})
    comment_form = failed.get("comment") or CommentForm(formdata=None)
    return {
        "social": Social(
            resource=resource,
            my_stars=my_stars,
            my_use=my_use,
            comments=page,
            rating_form=rating_form,
            use_form=use_form,
            comment_form=comment_form,
            can_rate=can_rate(user, resource),
            can_mark_used=can_mark_used(user, resource),
            can_comment=can_view_resource(user, resource),
            is_owner=resource.owner_id == user.id,
            editable={c.id for c in page.items if can_edit_comment(user, c, resource)},
            deletable={c.id for c in page.items if can_delete_comment(user, c, resource)},
        )
    }


# --- school flows ----------------------------------------------------------------------------------


@dataclass
class FlowRow:
    """One school's resource flows in a school year. "Others" are people of other schools;
    "received" counts distinct resources of other schools its people downloaded or marked used."""

    school_id: int
    name: str
    kind: str
    shared: int = 0
    shared_by_kind: dict[str, int] = field(default_factory=dict)
    downloaded_by_urban: int = 0
    downloaded_by_rural: int = 0
    used_by_urban: int = 0
    used_by_rural: int = 0
    received_from_urban: int = 0
    received_from_rural: int = 0

    @property
    def is_rural(self) -> bool:
        return self.kind in RURAL_KINDS

    @property
    def downloaded_by_others(self) -> int:
        return self.downloaded_by_urban + self.downloaded_by_rural

    @property
    def used_by_others(self) -> int:
        return self.used_by_urban + self.used_by_rural


def year_bounds(school_year: int) -> tuple[datetime, datetime, date, date]:
    """1 September to 31 August in the portal's time zone, as UTC datetimes and as dates."""
    first, last = date(school_year, 9, 1), date(school_year + 1, 8, 31)
    tz = portal_tz()
    start = datetime.combine(first, time(), tz).astimezone(UTC)
    end = datetime.combine(date(school_year + 1, 9, 1), time(), tz).astimezone(UTC)
    return start, end, first, last


def current_school_year() -> int:
    return school_year_of(local_today())


def _in(column, school_ids):
    return column.in_(school_ids) if school_ids is not None else true()


def school_flows(school_ids: list[int] | None, school_year: int) -> list[FlowRow]:
    """One row per school (all schools when ``school_ids`` is None), by name: what it shared,
    how often other schools downloaded and used it (split by their kind, urban or rural), and how
    many resources of urban and of rural schools its own people took. Five grouped queries."""
    start, end, first, last = year_bounds(school_year)
    stmt = select(School.id, School.name, School.kind).order_by(School.name, School.id)
    if school_ids is not None:
        if not school_ids:
            return []
        stmt = stmt.where(School.id.in_(school_ids))
    rows = {sid: FlowRow(school_id=sid, name=name, kind=kind) for sid, name, kind in db.session.execute(stmt)}
    if not rows:
        return []
    ids = list(rows) if school_ids is not None else None

    shared = db.session.execute(
        select(Resource.school_id, Resource.kind, func.count())
        .where(_in(Resource.school_id, ids), Resource.deleted_at.is_(None), Resource.visibility != "private",
               Resource.created_at >= start, Resource.created_at < end)
        .group_by(Resource.school_id, Resource.kind)
    )
    for sid, kind, n in shared:
        if sid in rows:
            rows[sid].shared += n
            rows[sid].shared_by_kind[kind] = n

    taker = School.__table__.alias("taker")
    downloads = db.session.execute(
        select(Resource.school_id, taker.c.kind, func.count())
        .select_from(ResourceDownload)
        .join(Resource, Resource.id == ResourceDownload.resource_id)
        .join(taker, taker.c.id == ResourceDownload.school_id)
        .where(_in(Resource.school_id, ids), ResourceDownload.school_id != Resource.school_id,
               ResourceDownload.at >= start, ResourceDownload.at < end)
        .group_by(Resource.school_id, taker.c.kind)
    )
    # Grouped by the school kind itself (PostgreSQL cannot group by an IN with bound values).
    for sid, kind, n in downloads:
        if sid in rows:
            if kind in RURAL_KINDS:
                rows[sid].downloaded_by_rural += n
            else:
                rows[sid].downloaded_by_urban += n

    uses = db.session.execute(
        select(Resource.school_id, taker.c.kind, func.count())
        .select_from(ResourceUse)
        .join(Resource, Resource.id == ResourceUse.resource_id)
        .join(taker, taker.c.id == ResourceUse.school_id)
        .where(_in(Resource.school_id, ids), ResourceUse.school_id != Resource.school_id,
               ResourceUse.used_on >= first, ResourceUse.used_on <= last)
        .group_by(Resource.school_id, taker.c.kind)
    )
    for sid, kind, n in uses:
        if sid in rows:
            if kind in RURAL_KINDS:
                rows[sid].used_by_rural += n
            else:
                rows[sid].used_by_urban += n

    taken = _taken(ids, start, end, first, last)
    source = School.__table__.alias("source")
    received = db.session.execute(
        select(taken.c.school_id, source.c.kind, func.count())
        .select_from(taken)
        .join(Resource, Resource.id == taken.c.resource_id)
        .join(source, source.c.id == Resource.school_id)
        .where(Resource.school_id != taken.c.school_id)
        .group_by(taken.c.school_id, source.c.kind)
    )
    for sid, kind, n in received:
        if sid in rows:
            if kind in RURAL_KINDS:
                rows[sid].received_from_rural += n
            else:
                rows[sid].received_from_urban += n
    return list(rows.values())


def _taken(ids, start, end, first, last):
    """(school_id, resource_id): a school's people downloaded or marked the resource used."""
    return union(
        select(ResourceDownload.school_id, ResourceDownload.resource_id)
        .where(_in(ResourceDownload.school_id, ids), ResourceDownload.at >= start, ResourceDownload.at < end),
        select(ResourceUse.school_id, ResourceUse.resource_id)
        .where(_in(ResourceUse.school_id, ids), ResourceUse.used_on >= first, ResourceUse.used_on <= last),
    ).subquery("taken")


@dataclass
class TopRow:
    resource: Resource
    school_name: str
    school_kind: str
    downloads: int
    uses: int


def top_shared(viewer, school: School, school_year: int, limit: int = TOP) -> list[TopRow]:
    """The school's resources most downloaded and used by other schools in the year, among
    those the viewer may see (one query)."""
    start, end, first, last = year_bounds(school_year)
    dl = (
        select(ResourceDownload.resource_id, func.count().label("n"))
        .join(Resource, Resource.id == ResourceDownload.resource_id)
        .where(Resource.school_id == school.id, ResourceDownload.school_id.is_not(None),
               ResourceDownload.school_id != school.id, ResourceDownload.at >= start, ResourceDownload.at < end)
        .group_by(ResourceDownload.resource_id)
        .subquery()
    )
    us = (
        select(ResourceUse.resource_id, func.count().label("n"))
        .join(Resource, Resource.id == ResourceUse.resource_id)
        .where(Resource.school_id == school.id, ResourceUse.school_id.is_not(None),
               ResourceUse.school_id != school.id, ResourceUse.used_on >= first, ResourceUse.used_on <= last)
        .group_by(ResourceUse.resource_id)
        .subquery()
    )
    downloads, uses = func.coalesce(dl.c.n, 0), func.coalesce(us.c.n, 0)
    rows = db.session.execute(
        select(Resource, downloads, uses)
        .outerjoin(dl, dl.c.resource_id == Resource.id)
        .outerjoin(us, us.c.resource_id == Resource.id)
        .options(joinedload(Resource.owner))
        .where(Resource.school_id == school.id, visible_resources(viewer), (downloads + uses) > 0)
        .order_by((downloads + uses).desc(), Resource.id.desc())
        .limit(limit)
    ).all()
    return [TopRow(resource=r, school_name=school.name, school_kind=school.kind, downloads=d, uses=u)
            for r, d, u in rows]


def top_received(viewer, school: School, school_year: int, limit: int = TOP) -> list[TopRow]:
    """Resources of other schools the school's people downloaded or used most in the year,
    among those the viewer may see, with the source school (one query)."""
    start, end, first, last = year_bounds(school_year)
    dl = (
        select(ResourceDownload.resource_id, func.count().label("n"))
        .where(ResourceDownload.school_id == school.id, ResourceDownload.at >= start, ResourceDownload.at < end)
        .group_by(ResourceDownload.resource_id)
        .subquery()
    )
    us = (
        select(ResourceUse.resource_id, func.count().label("n"))
        .where(ResourceUse.school_id == school.id, ResourceUse.used_on >= first, ResourceUse.used_on <= last)
        .group_by(ResourceUse.resource_id)
        .subquery()
    )
    taken = union(select(dl.c.resource_id), select(us.c.resource_id)).subquery("taken")
    downloads, uses = func.coalesce(dl.c.n, 0), func.coalesce(us.c.n, 0)
    rows = db.session.execute(
        select(Resource, School.name, School.kind, downloads, uses)
        .select_from(taken)
        .join(Resource, Resource.id == taken.c.resource_id)
        .join(School, School.id == Resource.school_id)
        .outerjoin(dl, dl.c.resource_id == Resource.id)
        .outerjoin(us, us.c.resource_id == Resource.id)
        .options(joinedload(Resource.owner))
        .where(Resource.school_id != school.id, visible_resources(viewer))
        .order_by((downloads + uses).desc(), Resource.id.desc())
        .limit(limit)
    ).all()
    return [TopRow(resource=r, school_name=name, school_kind=kind, downloads=d, uses=u)
            for r, name, kind, d, u in rows]
