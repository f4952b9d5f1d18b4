"""Discussions inside a community: threads, replies, mentions and the leader's moderation.

Bodies are rich text cleaned by ``core.sanitize.rich_text`` (the one sanitiser); titles are
plain text. Deleted and hidden replies keep their place. Services flush and never commit.
"""

from __future__ import annotations

import html
import logging
import re

from sqlalchemy import func, select

from ..accounts.models import User
from ..accounts.notifications import notify, register_message
from ..core.errors import Conflict, Invalid, NotAllowed
from ..core.i18n import lazy_gettext as _l
from ..core.locking import lock_row
from ..core.models import utcnow
from ..core.sanitize import clean_text, rich_text
from ..core.web import path_for
from ..extensions import db
from .models import Community, Membership, Post, Thread
from .permissions import can_edit_post, can_edit_thread, can_moderate, can_post, membership_of

log = logging.getLogger("portal.audit")

TITLE_MAX = 120
REPLIES_PER_PAGE = 30
THREADS_PER_PAGE = 20
MAX_MENTIONS = 20  # people notified for one thread or reply
_MENTION_CANDIDATES = 100  # distinct @names looked up at most

register_message("discussion.mentioned", _l("%(user)s mentioned you in “%(thread)s”."))
register_message("discussion.replied", _l("%(user)s replied to your thread “%(thread)s”."))

# "@name" not preceded by a Latin letter, digit or dot (so e-mail addresses are not mentions);
# Chinese text writes "请@name" without a space.
_MENTION = re.compile(r"(?<![A-Za-z0-9._@-])@([a-z0-9][a-z0-9._-]{1,63})", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")


def html_text(body_html: str) -> str:
    """The readable text of sanitised HTML (tags dropped, entities decoded)."""
    return html.unescape(_TAGS.sub(" ", body_html or ""))


_SIMPLE_MARKUP = re.compile(r"</?p>|<br>")
_LOOKS_LIKE_MARKUP = re.compile(r"<[a-zA-Z/!]")


def editable_text(body_html: str) -> str:
    """What an edit form shows: plain paragraphs when the text has no other formatting (saving
    it again gives the same HTML), the stored HTML otherwise."""
    if "<" in _SIMPLE_MARKUP.sub("", body_html or ""):
        return body_html or ""
    text = (body_html or "").replace("</p><p>", "\n\n").replace("<br>", "\n")
    text = html.unescape(_SIMPLE_MARKUP.sub("", text))
    return body_html if _LOOKS_LIKE_MARKUP.search(text) else text


def mentioned_names(body_html: str) -> list[str]:
    """Distinct usernames written as @name in the text, in order of appearance."""
    names: list[str] = []
    for match in _MENTION.finditer(html_text(body_html)):
        for name in (match.group(1).lower(), match.group(1).lower().rstrip("._-")):
            if len(name) >= 3 and name not in names:
                names.append(name)
        if len(names) >= _MENTION_CANDIDATES:
            break
    return names


def _clean_body(body: str | None) -> str:
    body_html = rich_text(body)
    if not html_text(body_html).replace("\xa0", " ").strip():
        raise Invalid(_l("Please write something."), field="body")
    return body_html


def _clean_title(title: str | None) -> str:
    try:
        title = clean_text(title, max_length=TITLE_MAX)
    except Invalid:
        raise Invalid(_l("The title is too long (at most %(n)d characters).", n=TITLE_MAX), field="title") from None
    if not title:
        raise Invalid(_l("Please give the thread a title."), field="title")
    return title


def thread_link(thread: Thread, post: Post | None = None) -> str:
    """The thread's address; for a reply, the page it is on and its anchor."""
    if post is None:
        return path_for("communities.thread", thread_id=thread.id)
    before = db.session.execute(
        select(func.count()).where(Post.thread_id == thread.id, Post.id <= post.id)
    ).scalar_one()
    page = max(1, -(-before // REPLIES_PER_PAGE))
    args = {"page": page} if page > 1 else {}
    return path_for("communities.thread", thread_id=thread.id, **args) + f"#post-{post.id}"


def _active_members(community: Community):
    return (
        select(User.id, User.username)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.community_id == community.id, Membership.status == "active", User.active.is_(True))
    )


def _member_ids_by_username(community: Community, usernames: list[str]) -> dict[str, int]:
    rows = db.session.execute(_active_members(community).where(User.username.in_(usernames))).all()
    return {username: user_id for user_id, username in rows}


def _is_active_member(community: Community, user_id: int) -> bool:
    return db.session.execute(_active_members(community).where(User.id == user_id)).first() is not None


def _notify_mentions(author: User, thread: Thread, body_html: str, link: str, *, before_html: str = "",
                     skip: set[int] | None = None) -> list[int]:
    """Tell the active members newly mentioned in ``body_html`` (at most MAX_MENTIONS of them)."""
    already = set(mentioned_names(before_html))
    names = [name for name in mentioned_names(body_html) if name not in already]
    if not names:
        return []
    members = _member_ids_by_username(thread.community, names)
    skip = (skip or set()) | {author.id}
    ids: list[int] = []
    for name in names:
        user_id = members.get(name)
        if user_id is not None and user_id not in skip and user_id not in ids:
            ids.append(user_id)
        if len(ids) >= MAX_MENTIONS:
            break
    if ids:
        notify(ids, "discussion.mentioned", params={"user": author.name, "thread": thread.title}, link=link)
    return ids


def refresh_thread_stats(thread: Thread) -> None:
    """reply_count: replies readers see (neither deleted nor hidden); last_post_at: the latest of them."""
    db.session.flush()
    lock_row(thread)  # replies sent at once: each count sees the others
    count, latest = db.session.execute(
        select(func.count(), func.max(Post.created_at)).where(
            Post.thread_id == thread.id, Post.deleted_at.is_(None), Post.hidden_by_id.is_(None)
        )
    ).one()
    thread.reply_count = count
    thread.last_post_at = latest or thread.created_at or utcnow()


# --- threads and replies -------------------------------------------------------------------


def start_thread(author: User, community: Community, *, title: str, body: str) -> Thread:
    """An active member opens a thread; the people it mentions are told."""
    if not can_post(author, community, membership_of(author, community)):
        raise NotAllowed(_l("Only members of %(name)s can start a thread.", name=community.name))
    title, body_html = _clean_title(title), _clean_body(body)
    now = utcnow()
    thread = Thread(community=community, author_id=author.id, title=title, body_html=body_html,
                    created_at=now, last_post_at=now)
    db.session.add(thread)
    db.session.flush()
    _notify_mentions(author, thread, body_html, thread_link(thread))
    log.info("thread started id=%s community=%s by=%s", thread.id, community.id, author.id)
    return thread


def reply(author: User, thread: Thread, *, body: str) -> Post:
    """An active member replies to a thread that is neither deleted nor locked."""
    community = thread.community
    if not can_post(author, community, membership_of(author, community)) or thread.deleted_at is not None:
        raise NotAllowed(_l("Only members of %(name)s can reply.", name=community.name))
    if thread.is_locked:
        raise Conflict(_l("This thread is locked: no new replies."))
    body_html = _clean_body(body)
    post = Post(thread_id=thread.id, author_id=author.id, body_html=body_html, created_at=utcnow())
    db.session.add(post)
    refresh_thread_stats(thread)
    link = thread_link(thread, post)
    told = set()
    if thread.author_id != author.id and _is_active_member(community, thread.author_id):
        notify([thread.author_id], "discussion.replied", params={"user": author.name, "thread": thread.title},
               link=link)
        told.add(thread.author_id)
    _notify_mentions(author, thread, body_html, link, skip=told)
    log.info("thread reply id=%s thread=%s by=%s", post.id, thread.id, author.id)
    return post


def edit_thread(actor: User, thread: Thread, *, title: str, body: str) -> Thread:
    """The author changes the title and text; the thread shows it was edited."""
    if not can_edit_thread(actor, thread, membership_of(actor, thread.community_id)):
        raise NotAllowed(_l("Only the author can edit this thread."))
    title, body_html = _clean_title(title), _clean_body(body)
    before = thread.body_html
    if title != thread.title or body_html != before:
        thread.title, thread.body_html, thread.edited_at = title, body_html, utcnow()
        db.session.flush()
        _notify_mentions(actor, thread, body_html, thread_link(thread), before_html=before)
        log.info("thread edited id=%s by=%s", thread.id, actor.id)
    return thread


def edit_post(actor: User, post: Post, *, body: str) -> Post:
    """The author changes a reply; it shows it was edited. Only newly mentioned people are told."""
    thread = post.thread
    if not can_edit_post(actor, post, membership_of(actor, thread.community_id)) or thread.deleted_at is not None:
        raise NotAllowed(_l("Only the author can edit this reply."))
    body_html = _clean_body(body)
    before = post.body_html
    if body_html != before:
        post.body_html, post.edited_at = body_html, utcnow()
        db.session.flush()
        _notify_mentions(actor, thread, body_html, thread_link(thread, post), before_html=before)
        log.info("post edited id=%s by=%s", post.id, actor.id)
    return post


def delete_thread(actor: User, thread: Thread) -> None:
    """The author, the leader or the bureau removes a thread (kept, marked deleted)."""
    membership = membership_of(actor, thread.community_id)
    if not (can_edit_thread(actor, thread, membership) or can_moderate(actor, thread.community, membership)):
        raise NotAllowed(_l("Only the author or a moderator can delete this thread."))
    if thread.deleted_at is not None:
        raise Conflict(_l("This thread has already been deleted."))
    thread.deleted_at = utcnow()
    log.info("thread deleted id=%s by=%s", thread.id, actor.id)


def delete_post(actor: User, post: Post) -> None:
    """The author removes a reply; its place shows that it was deleted."""
    if not can_edit_post(actor, post, membership_of(actor, post.thread.community_id)):
        raise NotAllowed(_l("Only the author can delete this reply."))
    post.deleted_at = utcnow()
    refresh_thread_stats(post.thread)
    log.info("post deleted id=%s by=%s", post.id, actor.id)


# --- moderation ----------------------------------------------------------------------------


def _check_moderator(actor: User, community: Community) -> None:
    if not can_moderate(actor, community, membership_of(actor, community)):
        raise NotAllowed(_l("Only the leader or the bureau can moderate this discussion."))


def set_post_hidden(actor: User, post: Post, hidden: bool) -> None:
    """The leader or the bureau hides a reply (its place says so) or shows it again."""
    _check_moderator(actor, post.thread.community)
    if post.deleted_at is not None:
        raise Conflict(_l("This reply was deleted."))
    post.hidden_by_id = actor.id if hidden else None
    refresh_thread_stats(post.thread)
    log.info("post %s id=%s by=%s", "hidden" if hidden else "shown", post.id, actor.id)


def set_thread_pinned(actor: User, thread: Thread, pinned: bool) -> None:
    """Pinned threads stay at the top of the list."""
    _check_moderator(actor, thread.community)
    thread.is_pinned = pinned
    log.info("thread %s id=%s by=%s", "pinned" if pinned else "unpinned", thread.id, actor.id)


def set_thread_locked(actor: User, thread: Thread, locked: bool) -> None:
    """Nobody replies to a locked thread until it is unlocked."""
    _check_moderator(actor, thread.community)
    thread.is_locked = locked
    log.info("thread %s id=%s by=%s", "locked" if locked else "unlocked", thread.id, actor.id)
