"""Pages: a community's discussion threads, a thread with its replies, and moderation.

Members (and the bureau) read; active members post; authors edit and delete their own
words; the leader and the bureau hide replies, pin, lock and remove threads. Each page
loads the viewer's membership once and runs a fixed number of queries however long the
thread is.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask import abort, flash, get_template_attribute, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.errors import DomainError
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.i18n import safe_translation
from ..core.pagination import Page, page_args, page_of
from ..core.templating import format_local_datetime, url_for_ids
from ..extensions import db
from . import discussions
from .blueprint import bp
from .discussion_forms import ReplyForm, ThreadForm
from .models import Community, Post, Thread
from .pages import post_buttons
from .permissions import (
    can_edit_post,
    can_edit_thread,
    can_moderate,
    can_post,
    can_read_community,
    editable_posts,
    membership_of,
)


def _community_options():
    return (joinedload(Community.leader), joinedload(Community.county))


# Statements built once, values as bind parameters: SQLAlchemy then reuses their cache keys
# instead of rebuilding them on every request.
_COMMUNITY = select(Community).where(Community.id == bindparam("community_id")).options(*_community_options())
_THREAD = (
    select(Thread)
    .where(Thread.id == bindparam("thread_id"))
    .options(joinedload(Thread.author), joinedload(Thread.community).options(*_community_options()))
)
_LISTED = (Thread.community_id == bindparam("community_id"), Thread.deleted_at.is_(None))
_THREAD_COUNT = select(func.count()).select_from(Thread).where(*_LISTED)
# The list shows titles and counts: rows without the bodies or the authors' whole accounts (in the
# order _thread_rows reads them).
_THREADS = (
    select(Thread.id, Thread.title, Thread.is_pinned, Thread.is_locked, Thread.reply_count, Thread.last_post_at,
           User.name.label("author_name"))
    .join(User, User.id == Thread.author_id)
    .where(*_LISTED)
    .order_by(Thread.is_pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_REPLY_COUNT = select(func.count()).where(Post.thread_id == bindparam("thread_id"))
# The page's replies are picked from the index alone, then joined to their authors: with the join
# under the OFFSET, the last page of a 5,000-reply thread looked up every earlier reply's author.
# Rows of the columns shown and those the edit rule reads, with the author's name (in the order
# _replies reads them): 30 replies loaded as records, each with its author, were a fifth of the page.
_REPLIES = (
    select(Post.id, Post.author_id, Post.body_html, Post.created_at, Post.edited_at, Post.deleted_at,
           Post.hidden_by_id, User.name.label("author_name"))
    .join(User, User.id == Post.author_id)
    .where(Post.id.in_(
        select(Post.id)
        .where(Post.thread_id == bindparam("thread_id"))
        .order_by(Post.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    ))
    .order_by(Post.id)
)


def _forbidden(community: Community, membership):
    """403 with the community's header and a way back to its public page."""
    return render_template(
        "communities/threads.html", community=community, membership=membership, tab="threads", forbidden=True,
        page=None, can_start=False,
    ), 403


def _load_community(community_id: int) -> Community:
    community = db.session.execute(_COMMUNITY, {"community_id": community_id}).unique().scalar_one_or_none()
    if community is None:
        abort(404)
    return community


def _load_thread(thread_id: int):
    """The thread, its community and the viewer's membership, or the response that refuses them."""
    thread = db.session.execute(_THREAD, {"thread_id": thread_id}).unique().scalar_one_or_none()
    if thread is None:
        abort(404)
    community = thread.community
    membership = membership_of(current_user, community)
    if not can_read_community(current_user, community, membership):
        return thread, membership, _forbidden(community, membership)
    if thread.deleted_at is not None and not can_moderate(current_user, community, membership):
        abort(404)
    return thread, membership, None


def _load_post(post_id: int):
    post = db.get_or_404(Post, post_id)
    thread, membership, refused = _load_thread(post.thread_id)
    if refused is not None:
        abort(403)
    return post, thread, membership


def _thread_url(thread: Thread, post: Post | None = None) -> str:
    return discussions.thread_link(thread, post)


# --- the list ------------------------------------------------------------------------------


@bp.route("/communities/<id:community_id>/threads")
@login_required
def threads(community_id: int):
    community = _load_community(community_id)
    membership = membership_of(current_user, community)
    if not can_read_community(current_user, community, membership):
        return _forbidden(community, membership)
    page = page_of(db.session, _THREADS, _THREAD_COUNT, {"community_id": community.id}, discussions.THREADS_PER_PAGE)
    return render_template(
        "communities/threads.html",
        community=community,
        membership=membership,
        tab="threads",
        forbidden=False,
        page=page,
        rows=_thread_rows(page.items),
        can_start=can_post(current_user, community, membership),
    )


class ThreadRow(NamedTuple):
    url: str
    title: str
    is_pinned: bool
    is_locked: bool
    author_name: str
    reply_count: int
    last_post: str  # written in the portal's time


def _thread_rows(items) -> list[ThreadRow]:
    """The list's rows with their links and times written once here rather than by the template's
    lookups, link and time filter per thread."""
    link = url_for_ids("communities.thread", "thread_id")
    return [ThreadRow(link(thread_id), title, is_pinned, is_locked, author_name, reply_count,
                      format_local_datetime(last_post_at))
            for thread_id, title, is_pinned, is_locked, reply_count, last_post_at, author_name in items]


@bp.route("/communities/<id:community_id>/threads/new", methods=["GET", "POST"])
@login_required
def new_thread(community_id: int):
    community = _load_community(community_id)
    membership = membership_of(current_user, community)
    if not can_post(current_user, community, membership):
        if not can_read_community(current_user, community, membership):
            return _forbidden(community, membership)
        abort(403)
    form = ThreadForm()
    if form.validate_on_submit():
        try:
            thread = discussions.start_thread(current_user, community, title=form.title.data, body=form.body.data)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "body")
        else:
            db.session.commit()
            flash(_("Thread started."), "success")
            return redirect(url_for("communities.thread", thread_id=thread.id))
    return render_template(
        "communities/thread_form.html", community=community, membership=membership, tab="threads",
        form=form, thread=None, post=None,
    ), 400 if form.errors else 200


# --- a thread ------------------------------------------------------------------------------


class Reply(NamedTuple):
    id: int
    number: int  # its place in the thread, from 1
    author_id: int
    author_name: str
    created: str  # written in the portal's time
    edited_at: datetime | None
    deleted_at: datetime | None
    hidden_by_id: int | None
    body_html: str


def _replies(thread: Thread, page_number: int | None = None) -> Page:
    """One page of replies in order, with their authors' names (two queries), their numbers and
    times written once here: the template's lookups in 30 rows and its time filter were a third of
    a thread's page."""
    number, per_page = page_args(discussions.REPLIES_PER_PAGE)
    total = db.session.execute(_REPLY_COUNT, {"thread_id": thread.id}).scalar_one()
    if page_number == -1:  # the last page, where a new reply lands
        number = max(1, -(-total // per_page))
    offset = (number - 1) * per_page
    rows = db.session.execute(_REPLIES, {"thread_id": thread.id, "limit": per_page, "offset": offset})
    items = [Reply(post_id, offset + place, author_id, author_name, format_local_datetime(created_at), edited_at,
                   deleted_at, hidden_by_id, body_html)
             for place, (post_id, author_id, body_html, created_at, edited_at, deleted_at, hidden_by_id, author_name)
             in enumerate(rows, 1)]
    return Page(items=items, total=total, page=number, per_page=per_page)


_EMPTY_REPLY_FIELDS: dict[str, Markup] = {}  # by language


def _empty_reply_field() -> Markup:
    """The reply box of a fresh form (``rich_field``, templates/_macros/rich.html) written once per
    language and kept: its toolbar's eight words and the field's attributes were a tenth of a thread's
    page. A form sent back with its text or errors is written by the template as before."""
    locale = str(get_locale())
    html = _EMPTY_REPLY_FIELDS.get(locale)
    if html is None:
        rich_field = get_template_attribute("_macros/rich.html", "rich_field")
        hint = safe_translation(_("Write @username to tell a member of the community."))
        html = _EMPTY_REPLY_FIELDS[locale] = rich_field(ReplyForm(formdata=None).body, hint=hint, rows=5)
    return html


def _post_actions(moderator: bool, editable: set[int]) -> dict:
    """The replies' links and buttons, each made once for the page and given each reply's id."""
    actions = {}
    if editable:
        actions["edit"] = url_for_ids("communities.edit_post", "post_id")
        actions["delete"] = post_buttons("communities.delete_post", "post_id", safe_translation(_("Delete")),
                                         cls="small danger")
    if moderator:
        actions["hide"] = post_buttons("communities.hide_post", "post_id", safe_translation(_("Hide")), cls="small")
        actions["show"] = post_buttons("communities.hide_post", "post_id", safe_translation(_("Show again")),
                                       cls="small")
    return actions


def _render_thread(thread: Thread, membership, reply_form: ReplyForm | None = None, status: int = 200,
                   page_number: int | None = None):
    community = thread.community
    page = _replies(thread, page_number)
    moderator = can_moderate(current_user, community, membership)
    editable = editable_posts(current_user, community, membership, page.items)
    return render_template(
        "communities/thread.html",
        community=community,
        membership=membership,
        tab="threads",
        thread=thread,
        page=page,
        reply_form=reply_form or ReplyForm(formdata=None),
        reply_field=None if reply_form else _empty_reply_field(),
        can_reply=can_post(current_user, community, membership) and thread.deleted_at is None,
        can_edit=can_edit_thread(current_user, thread, membership),
        moderator=moderator,
        editable=editable,
        actions=_post_actions(moderator, editable),
    ), status


@bp.route("/threads/<id:thread_id>")
@login_required
def thread(thread_id: int):
    thread, membership, refused = _load_thread(thread_id)
    if refused is not None:
        return refused
    return _render_thread(thread, membership)


@bp.route("/threads/<id:thread_id>/replies", methods=["POST"])
@login_required
def reply(thread_id: int):
    thread, membership, refused = _load_thread(thread_id)
    if refused is not None:
        return refused
    if not can_post(current_user, thread.community, membership) or thread.deleted_at is not None:
        abort(403)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            post = discussions.reply(current_user, thread, body=form.body.data)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "body")
            return _render_thread(thread, membership, form, 400 if exc.status == 422 else exc.status, -1)
        url = _thread_url(thread, post)
        db.session.commit()
        flash(_("Reply posted."), "success")
        return redirect(url)
    return _render_thread(thread, membership, form, 400, -1)


@bp.route("/threads/<id:thread_id>/edit", methods=["GET", "POST"])
@login_required
def edit_thread(thread_id: int):
    thread, membership, refused = _load_thread(thread_id)
    if refused is not None:
        return refused
    if not can_edit_thread(current_user, thread, membership):
        abort(403)
    form = ThreadForm(data={"title": thread.title, "body": discussions.editable_text(thread.body_html)})
    if form.validate_on_submit():
        try:
            discussions.edit_thread(current_user, thread, title=form.title.data, body=form.body.data)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "body")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("communities.thread", thread_id=thread.id))
    return render_template(
        "communities/thread_form.html", community=thread.community, membership=membership, tab="threads",
        form=form, thread=thread, post=None,
    ), 400 if form.errors else 200


@bp.route("/threads/<id:thread_id>/delete", methods=["POST"])
@login_required
def delete_thread(thread_id: int):
    thread, membership, refused = _load_thread(thread_id)
    if refused is not None:
        return refused
    community = thread.community
    if not (can_edit_thread(current_user, thread, membership) or can_moderate(current_user, community, membership)):
        abort(403)
    try:
        discussions.delete_thread(current_user, thread)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        db.session.commit()
        flash(_("The thread was deleted."), "success")
    return redirect(url_for("communities.threads", community_id=community.id))


def _load_for_moderation(thread_id: int) -> Thread:
    thread, membership, refused = _load_thread(thread_id)
    if refused is not None or not can_moderate(current_user, thread.community, membership):
        abort(403)
    return thread


@bp.route("/threads/<id:thread_id>/pin", methods=["POST"])
@login_required
def pin_thread(thread_id: int):
    thread = _load_for_moderation(thread_id)
    discussions.set_thread_pinned(current_user, thread, not thread.is_pinned)
    db.session.commit()
    flash(_("The thread is pinned.") if thread.is_pinned else _("The thread is no longer pinned."), "success")
    return redirect(url_for("communities.thread", thread_id=thread.id))


@bp.route("/threads/<id:thread_id>/lock", methods=["POST"])
@login_required
def lock_thread(thread_id: int):
    thread = _load_for_moderation(thread_id)
    discussions.set_thread_locked(current_user, thread, not thread.is_locked)
    db.session.commit()
    flash(_("The thread is locked.") if thread.is_locked else _("The thread is open for replies again."), "success")
    return redirect(url_for("communities.thread", thread_id=thread.id))


# --- replies -------------------------------------------------------------------------------


@bp.route("/posts/<id:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id: int):
    post, thread, membership = _load_post(post_id)
    if not can_edit_post(current_user, post, membership) or thread.deleted_at is not None:
        abort(403)
    form = ReplyForm(data={"body": discussions.editable_text(post.body_html)})
    if form.validate_on_submit():
        try:
            discussions.edit_post(current_user, post, body=form.body.data)
        except DomainError as exc:
            db.session.rollback()
            form_error(form, exc, "body")
        else:
            url = _thread_url(thread, post)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url)
    return render_template(
        "communities/thread_form.html", community=thread.community, membership=membership, tab="threads",
        form=form, thread=thread, post=post,
    ), 400 if form.errors else 200


@bp.route("/posts/<id:post_id>/delete", methods=["POST"])
@login_required
def delete_post(post_id: int):
    post, thread, membership = _load_post(post_id)
    if not can_edit_post(current_user, post, membership) or thread.deleted_at is not None:
        abort(403)
    discussions.delete_post(current_user, post)
    url = _thread_url(thread, post)
    db.session.commit()
    flash(_("The reply was deleted."), "success")
    return redirect(url)


@bp.route("/posts/<id:post_id>/hide", methods=["POST"])
@login_required
def hide_post(post_id: int):
    post, thread, membership = _load_post(post_id)
    if not can_moderate(current_user, thread.community, membership):
        abort(403)
    try:
        discussions.set_post_hidden(current_user, post, post.hidden_by_id is None)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        db.session.commit()
        flash(_("The reply is hidden.") if post.hidden_by_id else _("The reply is shown again."), "success")
    return redirect(_thread_url(thread, post))
