"""The home page's lists: each row's words and link (worked out once per page, filled in per row)."""

from __future__ import annotations

from portal.accounts.notifications import notify
from portal.communities.models import Participant


def panel(client, title: str) -> str:
    html = client.get("/").get_data(as_text=True)
    assert title in html, html
    return html.split(title, 1)[1].split("</section>", 1)[0]


def test_a_leader_sees_the_requests_and_the_asker_waits_for_approval(make, client, auth, login_as):
    leader = make.user("teacher", locale="en")
    community = make.community(leader=leader, name="数学名师共同体")
    make.member(community, make.user("teacher", locale="en"), status="pending")
    asker = make.user("teacher", locale="en")
    make.member(community, asker, status="pending")
    login_as(leader)
    requests = panel(client, "Requests to join")
    assert "数学名师共同体" in requests and "2 waiting" in requests
    assert f'href="/communities/{community.id}/members"' in requests
    auth.logout()
    login_as(asker)
    mine = panel(client, "My communities")
    assert f'href="/communities/{community.id}">数学名师共同体</a>' in mine and "Waiting for approval" in mine


def test_coming_activities_say_which_ones_one_signed_up_for(db, make, client, login_as):
    teacher = make.user("teacher", locale="en")
    community = make.community(leader=make.user("teacher"), name="英语共同体")
    make.member(community, teacher)
    signed, other = make.activity(community, title="已报名的活动"), make.activity(community, title="未报名的活动")
    db.session.add(Participant(activity_id=signed.id, user_id=teacher.id))
    db.session.commit()
    login_as(teacher)
    activities = panel(client, "Coming activities")
    rows = {row.split('">')[0]: row for row in activities.split('href="/activities/')[1:]}
    assert "英语共同体 · Signed up" in rows[str(signed.id)]
    assert "英语共同体" in rows[str(other.id)] and "Signed up" not in rows[str(other.id)]


def test_records_to_read_name_the_observer_and_stand_in_for_a_missing_topic(make, client, login_as):
    principal = make.user("principal", name="王校长")
    teacher = make.user("teacher", school=principal.school, locale="en")
    record = make.observation(principal, teacher, topic="")
    login_as(teacher)
    records = panel(client, "Observations of my lessons to read")
    assert f'href="/observations/{record.id}">(no topic)</a>' in records
    assert f"{record.observed_on.isoformat()} · observed by 王校长" in records


def test_a_notification_without_a_link_leads_to_the_notifications(db, client, login_as):
    user = login_as("teacher", locale="en")
    notify([user], "system.message", params={"text": "没有链接的通知"})
    db.session.commit()
    notes = panel(client, "New notifications")
    assert 'href="/notifications">' in notes and "没有链接的通知" in notes


def test_an_empty_panel_says_what_to_do_instead_of_showing_an_empty_list(client, login_as):
    # A panel's items were tested as `panel.items` (the dict's method, always true): the empty list
    # was shown and these sentences never were.
    login_as("teacher", locale="en")
    mine = panel(client, "My communities")
    assert "You are not in a community yet." in mine and "<li>" not in mine
    assert "No dual-teacher sessions are coming up for you." in panel(client, "dual-teacher sessions")


def test_my_communities_follow_an_approval_a_new_name_and_leaving(db, make, client, auth, login_as):
    """The panel's rows are kept between visits (core/cache.kept): each change shows on the next one."""
    from portal.communities import services
    from portal.communities.models import Membership

    leader = make.user("teacher", locale="en")
    community = make.community(leader=leader, name="数学名师共同体")
    asker = make.user("teacher", locale="en")
    make.member(community, asker, status="pending")
    login_as(asker)
    assert "Waiting for approval" in panel(client, "My communities")
    services.decide_request(leader, db.session.query(Membership).filter_by(user_id=asker.id).one(), approve=True)
    db.session.commit()
    mine = panel(client, "My communities")
    assert "数学名师共同体" in mine and "Waiting for approval" not in mine
    community.name = "小学数学名师共同体"
    db.session.commit()
    assert "小学数学名师共同体" in panel(client, "My communities")
    services.leave(asker, community)
    db.session.commit()
    assert "小学数学名师共同体" not in panel(client, "My communities")
