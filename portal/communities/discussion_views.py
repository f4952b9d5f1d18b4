"""Pages: a community's discussion threads, a thread with its replies, and moderation.

Members (and the bureau) read; active members post; authors edit and delete their own
words; the leader and the bureau hide replies, pin, lock and remove threads. Each page
loads the viewer's membership once and runs a fixed number of queries however long the
thread is.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..core.errors import DomainError
from ..core.forms import form_error
from ..core.i18n import gettext as _
from ..core.pagination import Page, page_args, page_of
from ..extensions import db
from . import discussions
from .blueprint import bp
from .discussion_forms import ReplyForm, ThreadForm
from .models import Community, Post, Thread
from .permissions import can_edit_post, can_edit_thread, can_moderate, can_post, can_read_community, membership_of


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
# The list shows titles and counts: rows without the bodies or the authors' whole accounts.
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
# Only the authors' names are shown.
_REPLIES = (
    select(Post)
    .where(Post.id.in_(
        select(Post.id)
        .where(Post.thread_id == bindparam("thread_id"))
        .order_by(Post.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    ))
    .options(joinedload(Post.author).load_only(User.name))
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
        can_start=can_post(current_user, community, membership),
    )


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


def _replies(thread: Thread, page_number: int | None = None) -> Page:
    """One page of replies in order, their authors loaded with them (two queries)."""
    number, per_page = page_args(discussions.REPLIES_PER_PAGE)
    total = db.session.execute(_REPLY_COUNT, {"thread_id": thread.id}).scalar_one()
    if page_number == -1:  # the last page, where a new reply lands
        number = max(1, -(-total // per_page))
    items = db.session.execute(
        _REPLIES, {"thread_id": thread.id, "limit": per_page, "offset": (number - 1) * per_page}
    ).scalars().all()
    return Page(items=list(items), total=total, page=number, per_page=per_page)


def _render_thread(thread: Thread, membership, reply_form: ReplyForm | None = None, status: int = 200,
                   page_number: int | None = None):
    community = thread.community
    page = _replies(thread, page_number)
    moderator = can_moderate(current_user, community, membership)
    editable = {post.id for post in page.items if can_edit_post(current_user, post, membership)}
    return render_template(
        "communities/thread.html",
        community=community,
        membership=membership,
        tab="threads",
        thread=thread,
        page=page,
        reply_form=reply_form or ReplyForm(formdata=None),
        can_reply=can_post(current_user, community, membership) and thread.deleted_at is None,
        can_edit=can_edit_thread(current_user, thread, membership),
        moderator=moderator,
        editable=editable,
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
