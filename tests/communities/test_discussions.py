"""Discussions inside a community: who reads, posts, edits, moderates; mentions; XSS; query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from portal.accounts.models import Notification, User
from portal.communities import discussions
from portal.communities.models import Membership, Post, Thread
from portal.core.models import utcnow

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


@pytest.fixture
def world(make):
    """A teacher community led by a teacher, with one plain member and a thread with a reply.
    People read the pages in English so the assertions hold whatever the Chinese catalogue says."""
    leader = make.user("teacher", name="组长老师", username="leader1", locale="en")
    community = make.community("teacher", leader=leader)
    member = make.member(community, username="member1", name="成员老师", locale="en").user
    thread = make.thread(community, leader, title="开学第一课怎么上")
    post = make.post(thread, leader, body_html="<p>组长的回复</p>")
    return {"leader": leader, "community": community, "member": member, "thread": thread, "post": post}


def text(response) -> str:
    return response.get_data(as_text=True)


def main_html(response) -> str:
    """The page's main content (the top bar's icon and the script tags live outside it)."""
    body = text(response)
    return body[body.index("<main"):body.index("</main>")]


def notes(db, user, kind: str) -> list[Notification]:
    return db.session.execute(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
    ).scalars().all()


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- who reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_a_non_member_cannot_read_threads_or_post(world, login_as, client, auth, role, db):
    login_as(role, locale="en")
    c, t = world["community"], world["thread"]
    listing = client.get(f"/communities/{c.id}/threads")
    assert listing.status_code == 403
    assert "Discussions are for members" in text(listing) and c.name in text(listing)
    assert "开学第一课怎么上" not in text(listing)
    page = client.get(f"/threads/{t.id}")
    assert page.status_code == 403 and "组长的回复" not in text(page) and t.title not in text(page)
    assert client.get(f"/communities/{c.id}/threads/new").status_code == 403
    assert auth.post(f"/threads/{t.id}/replies", {"body": "我也说两句"}).status_code == 403
    assert auth.post(f"/communities/{c.id}/threads/new", {"title": "x", "body": "y"}).status_code == 403
    assert count(db, Post) == 1 and count(db, Thread) == 1


def test_a_pending_or_former_member_cannot_read(world, make, login_as, client):
    c = world["community"]
    pending = make.member(c, status="pending").user
    login_as(pending)
    assert client.get(f"/communities/{c.id}/threads").status_code == 403
    left = make.member(c, status="left").user
    login_as(left)
    assert client.get(f"/threads/{world['thread'].id}").status_code == 403


def test_a_thread_of_another_community_is_not_leaked(world, make, login_as, client):
    other = make.community("teacher", leader=make.user("teacher"))
    secret = make.thread(other, other.leader, title="别的共同体的秘密")
    login_as(world["member"])
    page = client.get(f"/threads/{secret.id}")
    assert page.status_code == 403 and "别的共同体的秘密" not in text(page)
    assert client.get(f"/threads/{secret.id + 1000}").status_code == 404
    assert client.get("/communities/999999/threads").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(world, client):
    response = client.get(f"/threads/{world['thread'].id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_member_reads_the_list_and_the_thread(world, login_as, client):
    login_as(world["member"])
    listing = client.get(f"/communities/{world['community'].id}/threads")
    assert listing.status_code == 200
    body = text(listing)
    assert "开学第一课怎么上" in body and "组长老师" in body and "New thread" in body
    page = client.get(f"/threads/{world['thread'].id}")
    assert page.status_code == 200 and "组长的回复" in text(page)
    assert 'data-rich' in text(page)  # the reply form


def test_the_bureau_reads_and_moderates_but_does_not_post(world, login_as, client, auth):
    login_as("bureau", locale="en")
    c, t = world["community"], world["thread"]
    listing = client.get(f"/communities/{c.id}/threads")
    assert listing.status_code == 200 and "New thread" not in text(listing)
    page = client.get(f"/threads/{t.id}")
    assert page.status_code == 200 and "组长的回复" in text(page) and "Post reply" not in text(page)
    assert auth.post(f"/threads/{t.id}/replies", {"body": "局里的意见"}).status_code == 403
    assert client.get(f"/communities/{c.id}/threads/new").status_code == 403
    assert auth.post(f"/threads/{t.id}/pin").status_code == 302


def test_county_bureau_staff_of_another_county_cannot_read(world, make, login_as, client):
    login_as("bureau", county=make.county())
    assert client.get(f"/threads/{world['thread'].id}").status_code == 403


# --- posting, editing, deleting ----------------------------------------------------------------


def test_a_member_starts_a_thread_and_replies(world, login_as, client, auth, db):
    c = world["community"]
    login_as(world["member"])
    response = auth.post(f"/communities/{c.id}/threads/new", {"title": "  如何做课例研磨 ", "body": "第一段\n\n第二段"})
    assert response.status_code == 302
    thread = db.session.execute(select(Thread).where(Thread.title == "如何做课例研磨")).scalar_one()
    assert thread.body_html == "<p>第一段</p><p>第二段</p>" and thread.author_id == world["member"].id
    response = auth.post(f"/threads/{thread.id}/replies", {"body": "我先来"})
    assert response.status_code == 302
    post = db.session.execute(select(Post).where(Post.thread_id == thread.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/threads/{thread.id}#post-{post.id}")
    db.session.refresh(thread)
    assert thread.reply_count == 1 and thread.last_post_at >= post.created_at
    page = text(client.get(f"/threads/{thread.id}"))
    assert "我先来" in page and f'id="post-{post.id}"' in page


def test_a_closed_community_keeps_its_discussions_readable_but_takes_no_posts(world, login_as, client, auth, db):
    world["community"].is_active = False
    db.session.commit()
    login_as(world["member"])
    assert client.get(f"/threads/{world['thread'].id}").status_code == 200
    assert auth.post(f"/threads/{world['thread'].id}/replies", {"body": "还在吗"}).status_code == 403


def test_the_author_edits_with_a_visible_edited_mark(world, make, login_as, client, auth, db):
    member = world["member"]
    post = make.post(world["thread"], member, body_html="<p>原来的话</p>")
    login_as(member)
    form = client.get(f"/posts/{post.id}/edit")
    assert form.status_code == 200 and "原来的话" in text(form) and "&lt;p&gt;" not in text(form)
    response = auth.post(f"/posts/{post.id}/edit", {"body": "改过的话"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#post-{post.id}")
    db.session.refresh(post)
    assert post.body_html == "<p>改过的话</p>" and post.edited_at is not None
    page = text(client.get(f"/threads/{world['thread'].id}"))
    assert "改过的话" in page and 'class="edited"' in page


def test_the_thread_author_edits_and_deletes_the_thread(world, make, login_as, client, auth, db):
    thread = make.thread(world["community"], world["member"], title="旧标题")
    login_as(world["member"])
    assert client.get(f"/threads/{thread.id}/edit").status_code == 200
    assert auth.post(f"/threads/{thread.id}/edit", {"title": "新标题", "body": "新内容"}).status_code == 302
    db.session.refresh(thread)
    assert thread.title == "新标题" and thread.edited_at is not None
    assert 'class="edited"' in text(client.get(f"/threads/{thread.id}"))
    assert auth.post(f"/threads/{thread.id}/delete").status_code == 302
    db.session.refresh(thread)
    assert thread.deleted_at is not None
    assert client.get(f"/threads/{thread.id}").status_code == 404
    assert "新标题" not in text(client.get(f"/communities/{world['community'].id}/threads"))


def test_the_author_deletes_a_reply_and_its_place_says_so(world, make, login_as, client, auth, db):
    post = make.post(world["thread"], world["member"], body_html="<p>说错了</p>")
    login_as(world["member"])
    assert auth.post(f"/posts/{post.id}/delete").status_code == 302
    db.session.refresh(post)
    assert post.deleted_at is not None
    page = text(client.get(f"/threads/{world['thread'].id}"))
    assert "This reply was deleted." in page and "说错了" not in page
    db.session.refresh(world["thread"])
    assert world["thread"].reply_count == 1  # the leader's reply
    assert auth.post(f"/posts/{post.id}/edit", {"body": "复活"}).status_code == 403


def test_another_member_cannot_edit_or_delete_someone_elses_words(world, login_as, client, auth, db):
    login_as(world["member"])
    post, thread = world["post"], world["thread"]
    assert client.get(f"/posts/{post.id}/edit").status_code == 403
    assert auth.post(f"/posts/{post.id}/edit", {"body": "篡改"}).status_code == 403
    assert auth.post(f"/posts/{post.id}/delete").status_code == 403
    assert client.get(f"/threads/{thread.id}/edit").status_code == 403
    assert auth.post(f"/threads/{thread.id}/edit", {"title": "篡改", "body": "篡改"}).status_code == 403
    assert auth.post(f"/threads/{thread.id}/delete").status_code == 403
    db.session.refresh(post)
    db.session.refresh(thread)
    assert post.deleted_at is None and post.body_html == "<p>组长的回复</p>" and thread.deleted_at is None
    page = text(client.get(f"/threads/{thread.id}"))
    assert f"/posts/{post.id}/edit" not in page and f"/threads/{thread.id}/delete" not in page


def test_a_member_cannot_moderate(world, login_as, auth, db):
    login_as(world["member"])
    assert auth.post(f"/posts/{world['post'].id}/hide").status_code == 403
    assert auth.post(f"/threads/{world['thread'].id}/pin").status_code == 403
    assert auth.post(f"/threads/{world['thread'].id}/lock").status_code == 403
    db.session.refresh(world["thread"])
    assert not world["thread"].is_pinned and not world["thread"].is_locked


# --- moderation --------------------------------------------------------------------------------


def test_the_leader_hides_a_reply_and_shows_it_again(world, make, login_as, client, auth, db):
    post = make.post(world["thread"], world["member"], body_html="<p>不妥当的话</p>")
    login_as(world["leader"])
    assert auth.post(f"/posts/{post.id}/hide").status_code == 302
    db.session.refresh(post)
    assert post.hidden_by_id == world["leader"].id
    db.session.refresh(world["thread"])
    assert world["thread"].reply_count == 1
    login_as(world["member"])
    page = text(client.get(f"/threads/{world['thread'].id}"))
    assert "Hidden by the moderator" in page and "不妥当的话" not in page
    assert auth.post(f"/posts/{post.id}/edit", {"body": "换个说法"}).status_code == 403
    login_as(world["leader"])
    assert auth.post(f"/posts/{post.id}/hide").status_code == 302
    db.session.refresh(post)
    assert post.hidden_by_id is None


def test_the_leader_locks_a_thread_and_nobody_replies(world, login_as, client, auth, db):
    thread = world["thread"]
    login_as(world["leader"])
    assert auth.post(f"/threads/{thread.id}/lock").status_code == 302
    login_as(world["member"])
    page = text(client.get(f"/threads/{thread.id}"))
    assert "This thread is locked" in page and "Post reply" not in page
    response = auth.post(f"/threads/{thread.id}/replies", {"body": "还能说吗"})
    assert response.status_code == 409 and "This thread is locked" in text(response)
    assert count(db, Post) == 1
    login_as(world["leader"])
    assert auth.post(f"/threads/{thread.id}/lock").status_code == 302
    login_as(world["member"])
    assert auth.post(f"/threads/{thread.id}/replies", {"body": "还能说吗"}).status_code == 302


def test_the_leader_pins_a_thread_to_the_top(world, make, login_as, client, auth):
    c = world["community"]
    make.thread(c, world["member"], title="最新的话题", last_post_at=utcnow() + timedelta(hours=1))
    login_as(world["leader"])
    before = text(client.get(f"/communities/{c.id}/threads"))
    assert before.index("最新的话题") < before.index("开学第一课怎么上")
    assert auth.post(f"/threads/{world['thread'].id}/pin").status_code == 302
    after = text(client.get(f"/communities/{c.id}/threads"))
    assert after.index("开学第一课怎么上") < after.index("最新的话题") and "Pinned" in after


def test_the_leader_deletes_any_thread_and_still_sees_it(world, make, login_as, client, auth, db):
    thread = make.thread(world["community"], world["member"], title="跑题的帖子")
    login_as(world["leader"])
    assert auth.post(f"/threads/{thread.id}/delete").status_code == 302
    assert client.get(f"/threads/{thread.id}").status_code == 200  # moderators still see it
    login_as(world["member"])
    assert client.get(f"/threads/{thread.id}").status_code == 404
    assert auth.post(f"/threads/{thread.id}/replies", {"body": "还在吗"}).status_code == 404


# --- notifications -----------------------------------------------------------------------------


def test_a_mention_notifies_a_member_and_not_a_non_member(world, make, login_as, auth, db):
    outsider = make.user("teacher", username="outsider1")
    pending = make.member(world["community"], status="pending", username="pending1").user
    login_as(world["member"])
    body = "请 @leader1 看看，也请@outsider1 和 @pending1，还有 @member1 自己和 @nobody99。写信到 a@leader1.cn"
    assert auth.post(f"/threads/{world['thread'].id}/replies", {"body": body}).status_code == 302
    mentioned = notes(db, world["leader"], "discussion.mentioned")
    assert notes(db, outsider, "discussion.mentioned") == [] and notes(db, pending, "discussion.mentioned") == []
    assert notes(db, world["member"], "discussion.mentioned") == []  # never the author
    # The leader wrote the thread: one "replied" note, not a second "mentioned" one.
    replied = notes(db, world["leader"], "discussion.replied")
    assert mentioned == [] and len(replied) == 1
    post = db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first()
    assert replied[0].link.endswith(f"/threads/{world['thread'].id}#post-{post.id}")
    assert replied[0].params == {"user": "成员老师", "thread": "开学第一课怎么上"}


def test_a_mention_in_a_new_thread_notifies_and_names_the_thread(world, make, login_as, auth, db):
    third = make.member(world["community"], username="third1").user
    login_as(world["member"])
    assert auth.post(f"/communities/{world['community'].id}/threads/new",
                     {"title": "听课安排", "body": "<p>@third1 和 @LEADER1.</p>"}).status_code == 302
    thread = db.session.execute(select(Thread).where(Thread.title == "听课安排")).scalar_one()
    for person in (third, world["leader"]):
        [note] = notes(db, person, "discussion.mentioned")
        assert note.params["thread"] == "听课安排" and note.link == f"/threads/{thread.id}"


def test_editing_notifies_only_newly_mentioned_people(world, make, login_as, auth, db):
    third = make.member(world["community"], username="third1").user
    fourth = make.member(world["community"], username="fourth1").user
    login_as(world["member"])
    auth.post(f"/threads/{world['thread'].id}/replies", {"body": "@third1 你好"})
    post = db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first()
    assert auth.post(f"/posts/{post.id}/edit", {"body": "@third1 你好，@fourth1 也来"}).status_code == 302
    assert len(notes(db, third, "discussion.mentioned")) == 1
    assert len(notes(db, fourth, "discussion.mentioned")) == 1


def test_at_most_twenty_mentions_are_notified(world, make, login_as, auth, db):
    people = [make.member(world["community"], username=f"many{i:02d}").user for i in range(25)]
    login_as(world["member"])
    body = " ".join(f"@{p.username}" for p in people)
    assert auth.post(f"/threads/{world['thread'].id}/replies", {"body": body}).status_code == 302
    told = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "discussion.mentioned"))
    assert told == 20
    assert notes(db, people[0], "discussion.mentioned") and not notes(db, people[24], "discussion.mentioned")


def test_a_reply_notifies_the_thread_author_but_not_themselves(world, login_as, auth, db):
    login_as(world["member"])
    auth.post(f"/threads/{world['thread'].id}/replies", {"body": "学习了"})
    assert len(notes(db, world["leader"], "discussion.replied")) == 1
    login_as(world["leader"])
    auth.post(f"/threads/{world['thread'].id}/replies", {"body": "谢谢"})
    assert len(notes(db, world["leader"], "discussion.replied")) == 1
    assert notes(db, world["member"], "discussion.replied") == []


def test_notification_texts_name_who_and_the_thread(world, app):
    from portal.accounts.notifications import render

    note = Notification(kind="discussion.mentioned", params={"user": "张老师", "thread": "听课"})
    assert "张老师" in render(note) and "听课" in render(note)
    note = Notification(kind="discussion.replied", params={"user": "李老师", "thread": "评课"})
    assert "李老师" in render(note) and "评课" in render(note)


def test_the_link_of_a_reply_on_a_later_page_carries_the_page(world, db, app):
    thread = world["thread"]
    rows = [{"thread_id": thread.id, "author_id": world["leader"].id, "body_html": "<p>x</p>", "created_at": utcnow()}
            for _ in range(40)]
    db.session.execute(insert(Post), rows)
    last = db.session.execute(select(Post).order_by(Post.id.desc())).scalars().first()
    with app.test_request_context():
        assert discussions.thread_link(thread, last) == f"/threads/{thread.id}?page=2#post-{last.id}"
        assert discussions.thread_link(thread, world["post"]) == f"/threads/{thread.id}#post-{world['post'].id}"


def test_a_later_page_numbers_its_replies_and_gives_each_its_buttons(world, make, login_as, client, db):
    thread, leader, member = world["thread"], world["leader"], world["member"]
    for i in range(31):  # with the world's reply: 32, the last two on the second page
        make.post(thread, member if i == 30 else leader, body_html=f"<p>第{i}条</p>",
                  hidden_by_id=leader.id if i == 29 else None)
    mine, hidden = db.session.execute(select(Post).order_by(Post.id.desc()).limit(2)).scalars().all()
    url = f"/threads/{thread.id}?page=2"
    login_as(member)
    page = main_html(client.get(url))
    assert re.findall(r'class="post-number">#(\d+)</a>', page) == ["31", "32"]
    assert f'href="/posts/{mine.id}/edit"' in page and f'action="/posts/{mine.id}/delete"' in page
    assert f"/posts/{hidden.id}/" not in page and "/hide" not in page  # not the member's; no moderation
    login_as(leader)
    page = main_html(client.get(url))
    assert f"/posts/{mine.id}/edit" not in page and f"/posts/{mine.id}/delete" not in page  # not the leader's
    hide_forms = re.findall(r'action="/posts/(\d+)/hide" class="inline">.*?<button type="submit" class="small">(.*?)<',
                            page, re.S)
    assert hide_forms == [(str(hidden.id), "Show again"), (str(mine.id), "Hide")]


def test_editable_posts_are_the_persons_own_shown_replies_while_they_may_post(world, make, db):
    from portal.communities.permissions import can_edit_post, editable_posts

    thread, leader, member = world["thread"], world["leader"], world["member"]
    posts = [make.post(thread, member), make.post(thread, member, hidden_by_id=leader.id),
             make.post(thread, member, deleted_at=utcnow()), make.post(thread, leader)]
    membership = db.session.query(Membership).filter_by(user_id=member.id).one()
    community = world["community"]
    assert editable_posts(member, community, membership, posts) == {posts[0].id}
    assert {p.id for p in posts if can_edit_post(member, p, membership)} == {posts[0].id}
    assert editable_posts(member, community, None, posts) == set()
    community.is_active = False
    assert editable_posts(member, community, membership, posts) == set()
    assert not can_edit_post(member, posts[0], membership)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"title": "标题", "body": ""}, "Please write something."),
        ({"title": "标题", "body": "<b> </b><p>&nbsp;</p>"}, "Please write something."),
        ({"title": "", "body": "内容"}, "Please give the thread a title."),
        ({"title": "长" * 121, "body": "内容"}, "The title is too long"),
        ({"title": "标题", "body": "字" * 200_000}, "The text is too long"),
    ],
)
def test_bad_thread_input_is_refused_with_a_message(world, login_as, auth, db, form, message):
    login_as(world["member"])
    response = auth.post(f"/communities/{world['community'].id}/threads/new", form)
    assert response.status_code == 400 and message in text(response)
    assert count(db, Thread) == 1


@pytest.mark.parametrize(("body", "message"), [("", "Please write something."), ("  \n ", "Please write something."),
                                               ("字" * 200_000, "The text is too long")])
def test_bad_reply_input_is_refused_with_a_message(world, login_as, auth, db, body, message):
    login_as(world["member"])
    response = auth.post(f"/threads/{world['thread'].id}/replies", {"body": body})
    assert response.status_code == 400 and message in text(response)
    assert count(db, Post) == 1


def test_bad_edits_change_nothing(world, make, login_as, auth, db):
    post = make.post(world["thread"], world["member"], body_html="<p>原话</p>")
    login_as(world["member"])
    response = auth.post(f"/posts/{post.id}/edit", {"body": "  "})
    assert response.status_code == 400 and "Please write something." in text(response)
    db.session.refresh(post)
    assert post.body_html == "<p>原话</p>" and post.edited_at is None


# --- stored XSS --------------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "<svg onload=alert(1)><script>alert(2)</script>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<iframe src="https://evil.example/"></iframe>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<strong onclick="alert(1)">clicky</strong>',
    '<a href="https://example.org/ok" onmouseover="alert(1)">ok link</a>',
    "<strong>bold stays</strong>",
]
FORBIDDEN = ("<script", "onerror", "onload", "onclick", "onmouseover", "javascript:", "<svg", "<iframe", "style=")


def post_area(html: str) -> str:
    """The served thread and reply bodies (the sanitiser keeps no div, so none nest)."""
    bodies = re.findall(r'<div class="rich-body">(.*?)</div>', html, re.S)
    assert bodies, "no post bodies on the page"
    return "\n".join(bodies)


def assert_safe(html: str) -> None:
    lowered = html.lower()
    for bad in FORBIDDEN:
        assert bad not in lowered, f"{bad!r} served in {html[max(0, lowered.find(bad) - 200):][:400]}"


def test_stored_xss_is_impossible_through_threads_and_replies(world, client, auth, db):
    """Posted through the real pages (password login, CSRF), then read as another member."""
    payload = "\n".join(PAYLOADS)
    assert auth.login("member1").status_code == 302
    new = f"/communities/{world['community'].id}/threads/new"
    response = auth.post(new, {"title": PAYLOADS[0], "body": payload}, csrf_from=new)
    assert response.status_code == 302
    thread = db.session.execute(select(Thread).order_by(Thread.id.desc())).scalars().first()
    page_path = f"/threads/{thread.id}"
    assert auth.post(f"{page_path}/replies", {"body": payload}, csrf_from=page_path).status_code == 302
    auth.logout()
    assert auth.login("leader1").status_code == 302
    page = client.get(page_path)
    assert page.status_code == 200
    html = main_html(page)
    assert_safe(html)
    assert post_area(html).count("bold stays") == 2  # thread and reply
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the title is shown as text
    assert "<strong>bold stays</strong>" in html
    assert re.search(r'<a href="https://example.org/ok" rel="noopener noreferrer nofollow">ok link</a>', html)
    listing = main_html(client.get(f"/communities/{world['community'].id}/threads"))
    assert_safe(listing)
    # Notifications show the title as text too.
    assert_safe(main_html(client.get("/notifications")))


def test_the_edit_flow_keeps_it_safe(world, make, client, auth, db):
    post = make.post(world["thread"], world["member"], body_html="<p>好</p>")
    assert auth.login("member1").status_code == 302
    edit = f"/posts/{post.id}/edit"
    assert auth.post(edit, {"body": "\n".join(PAYLOADS)}, csrf_from=edit).status_code == 302
    form = main_html(client.get(edit))
    assert "&lt;strong&gt;bold stays&lt;/strong&gt;" in form  # the stored HTML is text inside the textarea
    assert_safe(form)
    assert_safe(main_html(client.get(f"/threads/{world['thread'].id}")))
    thread = make.thread(world["community"], world["member"], title="安全")
    edit = f"/threads/{thread.id}/edit"
    title = "<svg onload=alert(1)><img src=x onerror=alert(1)>"
    assert auth.post(edit, {"title": title, "body": "\n".join(PAYLOADS)}, csrf_from=edit).status_code == 302
    html = main_html(client.get(f"/threads/{thread.id}"))
    assert_safe(post_area(html))
    assert "<svg" not in html and "<img" not in html and "&lt;svg onload=alert(1)&gt;&lt;img" in html
    assert_safe(main_html(client.get(f"/threads/{thread.id}/edit")).replace(
        "&lt;svg onload=alert(1)&gt;&lt;img src=x onerror=alert(1)&gt;", ""))


def test_hidden_replies_shown_to_moderators_are_still_sanitised(world, make, login_as, client, auth):
    login_as(world["member"])
    auth.post(f"/threads/{world['thread'].id}/replies", {"body": "\n".join(PAYLOADS)})
    post_id = max(p.id for p in make.db.session.execute(select(Post)).scalars())
    login_as(world["leader"])
    auth.post(f"/posts/{post_id}/hide")
    html = main_html(client.get(f"/threads/{world['thread'].id}"))
    assert "Hidden by the moderator" in html
    assert_safe(html)


# --- the rich-text field -------------------------------------------------------------------------


def test_the_rich_field_is_a_plain_textarea_that_editor_js_enhances(world, login_as, client):
    login_as(world["member"])
    page = text(client.get(f"/communities/{world['community'].id}/threads/new"))
    assert re.search(r"<textarea[^>]*data-rich[^>]*>", page)
    assert 'data-label-bold="Bold"' in page
    assert "rich-toolbar" not in page  # the toolbar comes with the script only
    assert re.search(r'<script src="/static/src/editor.js[^"]*" defer></script>', page)


def test_editable_text_turns_simple_paragraphs_back_into_plain_text():
    assert discussions.editable_text("<p>一</p><p>二<br>三 &amp; 四</p>") == "一\n\n二\n三 & 四"
    assert discussions.editable_text("<p><strong>粗</strong></p>") == "<p><strong>粗</strong></p>"
    assert discussions.editable_text("<p>&lt;b&gt;</p>") == "<p>&lt;b&gt;</p>"


def test_mentions_are_read_from_text_not_addresses():
    assert discussions.mentioned_names("<p>请@Leader1、@b_2. 和 x@mail.cn</p>") == ["leader1", "b_2.", "b_2"]


# --- query counts --------------------------------------------------------------------------------


def _bulk_members(db, community, n: int) -> list[int]:
    school_id = community.leader.school_id
    password = community.leader.password_hash
    db.session.execute(insert(User), [
        {"username": f"bulk{i}", "name": f"成员{i}", "password_hash": password, "role": "teacher",
         "school_id": school_id, "county_id": community.county_id, "created_at": utcnow()}
        for i in range(n)
    ])
    ids = db.session.execute(select(User.id).where(User.username.like("bulk%"))).scalars().all()
    db.session.execute(insert(Membership), [
        {"community_id": community.id, "user_id": user_id, "role": "member", "status": "active",
         "created_at": utcnow(), "joined_at": utcnow()}
        for user_id in ids
    ])
    community.member_count += len(ids)
    db.session.commit()
    return ids


def _queries(count_queries, client, path: str) -> int:
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


def test_a_long_thread_runs_a_fixed_number_of_queries(world, db, login_as, client, count_queries):
    thread, community = world["thread"], world["community"]
    ids = _bulk_members(db, community, 2000)
    start = utcnow()
    db.session.execute(insert(Post), [
        {"thread_id": thread.id, "author_id": ids[i % len(ids)], "body_html": f"<p>回复{i + 2}号</p>",
         "created_at": start + timedelta(seconds=i), "edited_at": start if i % 7 == 0 else None,
         "hidden_by_id": world["leader"].id if i % 11 == 0 else None}
        for i in range(5000)
    ])
    discussions.refresh_thread_stats(thread)
    db.session.commit()
    login_as(world["member"])
    first = _queries(count_queries, client, f"/threads/{thread.id}")
    fiftieth = _queries(count_queries, client, f"/threads/{thread.id}?page=50")
    assert first == fiftieth and first <= 8, (first, fiftieth)
    login_as(world["leader"])  # a moderator's page shows more controls, not more queries
    assert _queries(count_queries, client, f"/threads/{thread.id}?page=50") == first
    page2 = text(client.get(f"/threads/{thread.id}?page=2"))
    assert "回复31号" in page2 and "回复30号" not in page2 and "回复62号" not in page2
    assert "Page 2 of 167" in page2
    assert client.get(f"/threads/{thread.id}?page=abc").status_code == 400


def test_a_long_thread_list_runs_a_fixed_number_of_queries(world, db, login_as, client, count_queries):
    community = world["community"]
    ids = _bulk_members(db, community, 300)
    start = utcnow()
    db.session.execute(insert(Thread), [
        {"community_id": community.id, "author_id": ids[i], "title": f"话题{i}", "body_html": "<p>x</p>",
         "created_at": start, "last_post_at": start + timedelta(minutes=i), "reply_count": i,
         "is_pinned": i == 5}
        for i in range(300)
    ])
    db.session.commit()
    login_as(world["member"])
    path = f"/communities/{community.id}/threads"
    first = _queries(count_queries, client, path)
    last = _queries(count_queries, client, path + "?page=16")
    assert first == last and first <= 8, (first, last)
    page1 = text(client.get(path))
    assert page1.index("话题5<") < page1.index("话题299<") < page1.index("话题298<")
    assert "Page 1 of 16" in page1
