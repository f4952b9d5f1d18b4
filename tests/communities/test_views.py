"""Community pages: the join flow end to end, refusals by role, stored XSS, fixed query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert

from portal.accounts.models import Notification, User
from portal.communities.models import Membership
from portal.core.models import utcnow
from tests.factories import _HASH

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "<svg onload=alert(1)><circle/></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">styled</p>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
]
DANGER = re.compile(r"<script|onerror|onload|onclick|javascript:|<svg|<iframe|<math|style=", re.I)


@pytest.fixture
def world(make):
    county = make.county()
    urban = make.school("urban", county=county)
    village = make.school("village", county=county)
    leader = make.user("teacher", school=urban, name="陈静")
    community = make.community("teacher", leader=leader, county=county, name="英语名师工作室")
    rural = make.user("teacher", school=village, name="赵强")
    return community, leader, rural


def unread_texts(client) -> str:
    return client.get("/notifications").get_data(as_text=True)


def test_rural_teacher_asks_leader_approves_both_are_told(client, auth, db, world):
    community, leader, rural = world
    auth.login(rural.username)
    page = f"/communities/{community.id}"
    assert "加入" in client.get(page).get_data(as_text=True) or "Ask to join" in client.get(page).get_data(as_text=True)
    response = auth.post(f"{page}/join", {"note": "我教英语"}, csrf_from=page)
    assert response.status_code == 302
    assert db.session.query(Membership).filter_by(user_id=rural.id).one().status == "pending"
    auth.logout()

    auth.login(leader.username)
    assert "赵强" in unread_texts(client)
    members_page = client.get(f"{page}/members").get_data(as_text=True)
    assert "我教英语" in members_page
    membership = db.session.query(Membership).filter_by(user_id=rural.id).one()
    response = auth.post(f"/memberships/{membership.id}/approve", csrf_from=f"{page}/members")
    assert response.status_code == 302
    auth.logout()

    auth.login(rural.username)
    assert "英语名师工作室" in unread_texts(client)
    assert db.session.query(Notification).filter_by(user_id=rural.id, kind="community.join_approved").count() == 1
    assert client.get(f"{page}/members").status_code == 200


def test_a_member_cannot_approve_requests_through_the_page(client, auth, db, make, world):
    community, _leader, rural = world
    member = make.member(community).user
    pending = make.member(community, user=rural, status="pending")
    auth.login(member.username)
    response = auth.post(f"/memberships/{pending.id}/approve")
    assert response.status_code == 403
    assert db.session.get(Membership, pending.id).status == "pending"


def test_non_member_cannot_see_members_or_minutes(client, auth, make, world):
    community, leader, rural = world
    activity = make.activity(community, minutes_html="<p>秘密纪要</p>")
    auth.login(rural.username)
    assert client.get(f"/communities/{community.id}/members").status_code == 403
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "秘密纪要" not in page
    assert client.get(f"/communities/{community.id}").status_code == 200  # the community itself is public


def test_member_reads_minutes(client, auth, make, world):
    community, _leader, rural = world
    make.member(community, user=rural)
    activity = make.activity(community, minutes_html="<p>会议纪要内容</p>")
    auth.login(rural.username)
    assert "会议纪要内容" in client.get(f"/activities/{activity.id}").get_data(as_text=True)


def test_teacher_cannot_create_a_principal_community(client, auth, db, world):
    _community, _leader, rural = world
    auth.login(rural.username)
    assert client.get("/communities/new?kind=principal").status_code == 403
    response = auth.post("/communities/new", {"kind": "principal", "name": "校长工作室", "level": "city"})
    assert response.status_code == 403


def test_bureau_creates_a_principal_community_with_a_leader(client, auth, db, make):
    county = make.county()
    principal = make.user("principal", school=make.school("urban", county=county), username="p.leader")
    bureau = make.user("bureau")
    auth.login(bureau.username)
    response = auth.post("/communities/new", {
        "kind": "principal", "name": "名校长工作室", "level": "county", "county_id": county.id,
        "leader": "p.leader", "description": "乡村校长治校\n\n第二段",
    }, csrf_from="/communities/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "名校长工作室" in page and "<p>乡村校长治校</p><p>第二段</p>" in page
    assert db.session.query(Membership).filter_by(user_id=principal.id, role="leader").count() == 1


def test_bureau_form_errors_are_shown_and_nothing_saved(client, auth, db, make):
    auth.login(make.user("bureau").username)
    response = auth.post("/communities/new", {"kind": "principal", "name": "名校长工作室", "level": "city",
                                              "leader": "nobody.here"}, csrf_from="/communities/new")
    assert response.status_code == 400
    assert "nobody.here" in response.get_data(as_text=True)
    from portal.communities.models import Community

    assert db.session.query(Community).count() == 0


@pytest.mark.parametrize("payload", XSS)
def test_no_stored_xss_in_descriptions_and_minutes(client, auth, db, make, world, payload):
    community, leader, _rural = world
    activity = make.activity(community, starts_at=utcnow() - timedelta(hours=3))
    auth.login(leader.username)
    text = f"<p><strong>安全</strong> <a href=\"https://example.org/a\">链接</a></p>{payload}"
    response = auth.post(f"/communities/{community.id}/edit", {"description": text},
                         csrf_from=f"/communities/{community.id}/edit")
    assert response.status_code == 302
    response = auth.post(f"/activities/{activity.id}/minutes", {"minutes": text},
                         csrf_from=f"/activities/{activity.id}")
    assert response.status_code == 302
    for url in (f"/communities/{community.id}", f"/activities/{activity.id}"):
        html = client.get(url).get_data(as_text=True)
        served = "".join(re.findall(r'<div class="prose">(.*?)</div>', html, re.S))
        assert "<strong>安全</strong>" in served
        assert 'href="https://example.org/a" rel="noopener noreferrer nofollow"' in served
        assert not DANGER.search(served), served


def test_bad_input_gets_a_message_and_a_4xx(client, auth, db, make, world):
    community, leader, rural = world
    auth.login(rural.username)
    response = auth.post(f"/communities/{community.id}/join", {"note": "长" * 201})
    assert response.status_code == 422
    assert db.session.query(Membership).filter_by(user_id=rural.id).count() == 0
    auth.logout()
    auth.login(leader.username)
    response = auth.post(f"/communities/{community.id}/members", {"username": "no.such", "role": "member"})
    assert response.status_code == 422 and "no.such" in response.get_data(as_text=True)
    response = auth.post(f"/communities/{community.id}/activities/new", {
        "title": "研讨", "kind": "seminar", "starts_at": "2026-13-40T99:00", "ends_at": "x", "hours": "abc",
        "host": leader.id, "place": "会议室",
    })
    assert response.status_code == 400


def test_plan_an_activity_through_the_page_in_local_time(client, auth, db, world):
    community, leader, _rural = world
    auth.login(leader.username)
    response = auth.post(f"/communities/{community.id}/activities/new", {
        "title": "名师示范课", "kind": "demonstration", "starts_at": "2027-03-02T09:00",
        "ends_at": "2027-03-02T11:30", "hours": "2.5", "host": leader.id, "place": "实验小学",
    }, csrf_from=f"/communities/{community.id}/activities/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2027-03-02 09:00" in page and "2.5" in page
    from portal.communities.models import Activity

    assert db.session.query(Activity).one().starts_at.hour == 1  # stored in UTC


def test_sign_up_and_attendance_through_the_pages(client, auth, db, make, world):
    community, leader, rural = world
    make.member(community, user=rural)
    activity = make.activity(community, starts_at=utcnow() + timedelta(minutes=1), hours_tenths=20)
    auth.login(rural.username)
    assert auth.post(f"/activities/{activity.id}/signup").status_code == 302
    assert auth.post(f"/activities/{activity.id}/signup").status_code == 409  # twice
    auth.logout()
    activity.starts_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    auth.login(leader.username)
    response = auth.post(f"/activities/{activity.id}/attendance", {"present": str(rural.id)},
                         csrf_from=f"/activities/{activity.id}")
    assert response.status_code == 302
    response = auth.post(f"/activities/{activity.id}/attendance", {"present": "1 OR 1=1"})
    assert response.status_code == 422
    from portal.communities.models import TrainingRecord

    assert db.session.query(TrainingRecord).one().user_id == rural.id


def _many_members(db, community, n: int) -> None:
    school_id = community.leader.school_id
    rows = [dict(username=f"bulk{i}", name=f"成员{i}", password_hash=_HASH, role="teacher", school_id=school_id,
                 county_id=community.county_id, subjects=[], title="none", phone="", is_backbone=False, active=True,
                 must_change_password=False, session_nonce=f"n{i}", created_at=utcnow()) for i in range(n)]
    db.session.execute(insert(User), rows)
    ids = [u for (u,) in db.session.query(User.id).filter(User.username.like("bulk%"))]
    db.session.execute(insert(Membership), [dict(community_id=community.id, user_id=i, role="member", status="active",
                                                 note="", created_at=utcnow(), joined_at=utcnow()) for i in ids])
    community.member_count = n + 1
    db.session.commit()


def test_community_pages_run_a_fixed_number_of_queries(client, auth, db, make, count_queries, world):
    community, leader, _rural = world
    for _ in range(3):
        make.activity(community)
    auth.login(leader.username)
    urls = [f"/communities/{community.id}", f"/communities/{community.id}/members",
            f"/communities/{community.id}/activities", "/communities"]
    small = {}
    for url in urls:
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        small[url] = len(statements)
    _many_members(db, community, 2000)
    for _ in range(30):
        make.activity(community)
    for url in urls:
        with count_queries() as statements:
            page = client.get(url)
        assert page.status_code == 200
        assert len(statements) == small[url], url
    members_page = client.get(f"/communities/{community.id}/members?page=2").get_data(as_text=True)
    assert "成员" in members_page


def test_activity_types_page_is_for_the_bureau(client, auth, make):
    auth.login(make.user("teacher").username)
    assert client.get("/admin/activity-types").status_code == 403
    auth.logout()
    auth.login(make.user("bureau").username)
    response = auth.post("/admin/activity-types", {"name": "同课异构", "community_kind": "teacher"},
                         csrf_from="/admin/activity-types")
    assert response.status_code == 302
    assert "同课异构" in client.get("/admin/activity-types").get_data(as_text=True)


def _member_names(html: str) -> list[str]:
    members = html[html.rindex("<table"):]  # the last table: the members (the requests come first)
    return re.findall(r"<tr>\s*<td>(.*?)</td>", members)


def test_the_member_list_is_paged_leader_and_core_first_then_by_school_and_name(client, auth, db, make, world):
    community, leader, rural = world
    leader.locale = "en"
    db.session.commit()
    core = make.member(community, user=rural, role="core")
    _many_members(db, community, 60)  # at the leader's school, named 成员0 to 成员59
    auth.login(leader.username)
    url = f"/communities/{community.id}/members"
    first, second = client.get(url).get_data(as_text=True), client.get(f"{url}?page=2").get_data(as_text=True)
    bulk = sorted(f"成员{i}" for i in range(60))
    assert _member_names(first) == ["陈静", "赵强", *bulk[:48]]
    assert _member_names(second) == bulk[48:]
    for page in (first, second):
        assert "62 in all" in page
    assert f'href="{url}?page=2" rel="next"' in first and 'rel="prev"' not in first
    assert f'href="{url}?page=1" rel="prev"' in second and 'rel="next"' not in second
    # the leader's buttons on each row: the core member made a member again or removed, the leader neither
    assert f'action="/memberships/{core.id}/role"' in first and 'name="role" value="member"' in first
    assert f'action="/memberships/{core.id}/remove"' in first
    own = db.session.query(Membership).filter_by(user_id=leader.id).one()
    assert f"/memberships/{own.id}/" not in first
    assert first.count('name="role" value="core"') == 48  # "make core member" for each member of the page
    assert client.get(f"{url}?page=3").status_code == 200 and _member_names(client.get(f"{url}?page=3")
                                                                              .get_data(as_text=True)) == []


def test_a_member_sees_the_list_without_the_leaders_buttons(client, auth, make, world):
    community, _leader, rural = world
    make.member(community, user=rural)
    auth.login(rural.username)
    page = client.get(f"/communities/{community.id}/members").get_data(as_text=True)
    assert _member_names(page) == ["陈静", "赵强"]
    assert "/memberships/" not in page and 'id="requests"' not in page


def test_the_member_list_changes_with_the_members(client, auth, db, make, world, cache_on):
    community, leader, rural = world
    auth.login(leader.username)
    url = f"/communities/{community.id}/members"
    assert _member_names(client.get(url).get_data(as_text=True)) == ["陈静"]
    pending = make.member(community, user=rural, status="pending")
    assert auth.post(f"/memberships/{pending.id}/approve", csrf_from=url).status_code == 302
    assert _member_names(client.get(url).get_data(as_text=True)) == ["陈静", "赵强"]
    rural.name = "赵刚"
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert _member_names(page) == ["陈静", "赵刚"]
    assert auth.post(f"/memberships/{pending.id}/role", {"role": "core"}, csrf_from=url).status_code == 302
    assert 'name="role" value="member"' in client.get(url).get_data(as_text=True)


def test_the_list_of_who_signed_up_changes_with_the_sign_ups(client, auth, db, make, world, cache_on):
    community, _leader, rural = world
    make.member(community, user=rural)
    other = make.member(community, name="钱敏").user
    activity = make.activity(community)
    url = f"/activities/{activity.id}"
    auth.login(other.username)
    assert auth.post(f"{url}/signup", csrf_from=url).status_code == 302
    auth.logout()
    auth.login(rural.username)
    page = client.get(url).get_data(as_text=True)
    assert re.findall(r"<li>(\S+) <small", page) == ["钱敏"]
    assert auth.post(f"{url}/signup", csrf_from=url).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert sorted(re.findall(r"<li>(\S+) <small", page)) == ["赵强", "钱敏"]


def test_post_buttons_write_what_the_macro_writes_for_each_id(app):
    from flask import get_template_attribute, url_for
    from markupsafe import Markup

    from portal.communities.pages import post_buttons

    with app.test_request_context("/"):
        button = get_template_attribute("_macros/forms.html", "post_button")
        remove = post_buttons("communities.remove", "membership_id", Markup("移除 &amp; 退出"), cls="danger small")
        make_core = post_buttons("communities.set_role", "membership_id", Markup("设为核心"), {"role": "core"}, "small")
        for membership_id in (1, 42, 2**31 - 1):
            assert remove(membership_id) == button(url_for("communities.remove", membership_id=membership_id),
                                                   Markup("移除 &amp; 退出"), {}, "danger small")
            assert make_core(membership_id) == button(url_for("communities.set_role", membership_id=membership_id),
                                                      Markup("设为核心"), {"role": "core"}, "small")
