"""Hardening: inputs that must not become a 500, people who no longer belong, double submits,
and counters that must follow the rows they count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import false, func, select

from portal.communities import activities, discussions, projects, services
from portal.communities.models import Community, Membership, Participant, Post, Thread
from portal.communities.permissions import can_edit_activity, membership_of
from portal.core.errors import Conflict, NotAllowed
from portal.core.models import utcnow


@pytest.fixture
def world(make):
    county = make.county()
    leader = make.user("teacher", school=make.school("urban", county=county), locale="en")
    community = make.community("teacher", leader=leader, county=county)
    return community, leader


# --- dates that cannot be stored ------------------------------------------------------------------


@pytest.mark.parametrize("starts, ends", [("0001-01-01T00:00", "0001-01-01T02:00"),
                                          ("9999-12-31T20:00", "9999-12-31T22:00")])
def test_an_activity_in_an_impossible_year_is_refused_not_a_500(auth, client, world, starts, ends):
    community, leader = world
    auth.login(leader.username)
    path = f"/communities/{community.id}/activities/new"
    response = auth.post(path, {"title": "公开课", "kind": "seminar", "starts_at": starts, "ends_at": ends,
                                "place": "会议室", "host": str(leader.id), "hours": "2"}, csrf_from=path)
    assert response.status_code == 400
    assert "The start date is not plausible" in response.get_data(as_text=True)


# --- a host who has left the community ------------------------------------------------------------


def test_a_host_who_left_the_community_no_longer_changes_the_activity(make, db, world):
    community, leader = world
    host = make.member(community, role="core").user
    activity = make.activity(community, host=host, starts_at=utcnow().replace(microsecond=0) - timedelta(hours=1))
    assert can_edit_activity(host, activity, membership_of(host, community))
    services.leave(host, community)
    db.session.commit()
    assert not can_edit_activity(host, activity, membership_of(host, community))
    with pytest.raises(NotAllowed):
        activities.record_attendance(host, activity, {leader.id})


def test_a_removed_host_cannot_take_attendance_through_the_page(auth, client, make, db, world):
    community, leader = world
    host = make.member(community, role="core").user
    activity = make.activity(community, host=host, starts_at=utcnow().replace(microsecond=0) - timedelta(hours=1))
    services.remove_member(leader, membership_of(host, community))
    db.session.commit()
    auth.login(host.username)
    response = auth.post(f"/activities/{activity.id}/attendance", {"present": str(leader.id)},
                         csrf_from=f"/communities/{community.id}")
    assert response.status_code == 403


# --- closed communities: discussions stay readable, and take no more writing ---------------------


def test_authors_in_a_closed_community_no_longer_edit_or_delete_their_words(auth, client, make, db, world):
    community, leader = world
    member = make.member(community).user
    thread = make.thread(community, member)
    post = make.post(thread, member)
    community.is_active = False
    db.session.commit()
    auth.login(member.username)
    assert client.get(f"/threads/{thread.id}").status_code == 200
    csrf_from = f"/threads/{thread.id}"
    assert auth.post(f"/threads/{thread.id}/edit", {"title": "改了", "body": "改了"},
                     csrf_from=csrf_from).status_code == 403
    assert auth.post(f"/posts/{post.id}/edit", {"body": "改了"}, csrf_from=csrf_from).status_code == 403
    assert auth.post(f"/posts/{post.id}/delete", csrf_from=csrf_from).status_code == 403
    db.session.expire_all()
    assert db.session.get(Thread, thread.id).title != "改了"
    post = db.session.get(Post, post.id)
    assert post.deleted_at is None and post.body_html != "<p>改了</p>"


# --- double submits: the unique constraint answers, not a 500 ------------------------------------


def _first_select_misses(monkeypatch, db, table):
    """The service's first look for an existing row in ``table`` finds nothing, as when two
    requests check at the same moment and both go on to insert."""
    real_execute = db.session.execute
    state = {"missed": False}

    def racing(statement, *args, **kwargs):
        if not state["missed"] and getattr(statement, "is_select", False) and f"FROM {table}" in str(statement):
            state["missed"] = True
            return real_execute(statement.where(false()), *args, **kwargs)
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", racing)


def test_two_join_requests_at_once_answer_conflict(monkeypatch, make, db, world, english):
    community, _leader = world
    teacher = make.user("teacher", county=community.county)
    services.ask_to_join(teacher, community)
    db.session.commit()
    _first_select_misses(monkeypatch, db, "community_members")
    with pytest.raises(Conflict):
        services.ask_to_join(teacher, community)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.user_id == teacher.id)) == 1


def test_two_sign_ups_at_once_answer_conflict(monkeypatch, make, db, world):
    community, _leader = world
    member = make.member(community).user
    activity = make.activity(community)
    activities.sign_up(member, activity)
    db.session.commit()
    _first_select_misses(monkeypatch, db, "activity_participants")
    with pytest.raises(Conflict):
        activities.sign_up(member, activity)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1
    assert db.session.get(type(activity), activity.id).signup_count == 1


def test_adding_a_project_member_twice_at_once_answers_conflict(monkeypatch, make, db, world):
    community, leader = world
    member = make.member(community).user
    project = make.project(community)
    projects.add_project_member(leader, project, member)
    db.session.commit()
    _first_select_misses(monkeypatch, db, "research_project_members")
    with pytest.raises(Conflict):
        projects.add_project_member(leader, project, member)


# --- counters follow the rows -------------------------------------------------------------------


def _members(db, community):
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.community_id == community.id, Membership.status == "active"))


def test_member_count_follows_every_membership_flow(make, db, world):
    community, leader = world
    bureau = make.user("bureau", county=community.county)
    a, b = (make.user("teacher", county=community.county) for _ in range(2))
    steps = [
        lambda: services.ask_to_join(a, community),
        lambda: services.decide_request(leader, membership_of(a, community), False),
        lambda: services.ask_to_join(a, community),
        lambda: services.decide_request(leader, membership_of(a, community), True),
        lambda: services.leave(a, community),
        lambda: services.ask_to_join(a, community),
        lambda: services.leave(a, community),
        lambda: services.add_member(leader, community, a),
        lambda: services.add_member(bureau, community, b, "core"),
        lambda: services.remove_member(leader, membership_of(b, community)),
        lambda: services.add_member(leader, community, b),
        lambda: services.appoint_leader(bureau, community, b),
        lambda: services.remove_member(bureau, membership_of(leader, community)),
    ]
    for step in steps:
        step()
        db.session.commit()
        assert db.session.get(Community, community.id).member_count == _members(db, community)


def test_signup_and_reply_counts_follow_their_rows(make, db, world):
    community, leader = world
    members = [make.member(community).user for _ in range(3)]
    activity = make.activity(community)
    for m in members:
        activities.sign_up(m, activity)
    activities.withdraw(members[0], activity)
    db.session.commit()
    assert activity.signup_count == db.session.scalar(
        select(func.count()).select_from(Participant).where(Participant.activity_id == activity.id))

    thread = discussions.start_thread(leader, community, title="话题", body="正文")
    posts = [discussions.reply(m, thread, body="回复") for m in members]
    discussions.delete_post(members[0], posts[0])
    discussions.set_post_hidden(leader, posts[1], True)
    discussions.set_post_hidden(leader, posts[1], False)
    discussions.set_post_hidden(leader, posts[2], True)
    db.session.commit()
    visible = db.session.scalar(select(func.count()).select_from(Post).where(
        Post.thread_id == thread.id, Post.deleted_at.is_(None), Post.hidden_by_id.is_(None)))
    assert thread.reply_count == visible == 1


def test_two_people_at_the_same_moment_cannot_both_take_the_last_place(db, make):
    """The place is taken by a conditional UPDATE, not by the (possibly stale) count in memory."""
    from sqlalchemy.orm.attributes import set_committed_value

    from portal.communities import activities as activity_services
    from portal.communities.models import Participant
    from portal.core.errors import Conflict as Full

    county = make.county()
    community = make.community("teacher", leader=make.user("teacher", county=county), county=county)
    activity = make.activity(community, capacity=1)
    first, second = make.member(community).user, make.member(community).user
    activity_services.sign_up(first, activity)
    db.session.commit()
    set_committed_value(activity, "signup_count", 0)  # what a request that read it a moment earlier saw
    with pytest.raises(Full):
        activity_services.sign_up(second, activity)
    db.session.rollback()
    assert db.session.query(Participant).count() == 1
