"""Communities and their members: who may create, join, approve, add, leave; notifications."""

from __future__ import annotations

import pytest

from portal.accounts.models import Notification
from portal.communities import services
from portal.communities.models import Community, Membership
from portal.core.errors import Conflict, Invalid, NotAllowed


def notes_of(db, user):
    return [n.kind for n in db.session.query(Notification).filter_by(user_id=user.id).order_by(Notification.id)]


@pytest.fixture
def teacher_community(make):
    county = make.county()
    leader = make.user("teacher", school=make.school("urban", county=county), name="陈静")
    return make.community("teacher", leader=leader, county=county)


def test_bureau_creates_a_community_and_its_leader_joins_as_leader(make, db):
    county = make.county()
    bureau = make.user("bureau")
    leader = make.user("teacher", school=make.school("urban", county=county))
    community = services.save_community(bureau, None, kind="teacher", level="county", county=county,
                                        name="初中英语名师工作室", description="<p>简介<script>x</script></p>",
                                        subject="english", stage="junior", leader=leader)
    db.session.commit()
    assert community.leader_id == leader.id
    assert community.member_count == 1
    assert community.description_html == "<p>简介x</p>"
    membership = db.session.query(Membership).one()
    assert (membership.user_id, membership.role, membership.status) == (leader.id, "leader", "active")
    assert "community.leader_appointed" in notes_of(db, leader)


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_only_the_bureau_creates_communities(make, role):
    actor = make.user(role)
    with pytest.raises(NotAllowed):
        services.save_community(actor, None, kind="principal", level="city", county=None, name="名校长工作室")


def test_a_principal_community_is_led_by_a_principal(make):
    bureau = make.user("bureau")
    with pytest.raises(Invalid):
        services.save_community(bureau, None, kind="principal", level="city", county=None, name="名校长工作室",
                                leader=make.user("teacher"))


def test_county_bureau_cannot_create_for_another_county(make):
    mine, other = make.county(), make.county()
    bureau = make.user("bureau", county=mine)
    with pytest.raises(NotAllowed):
        services.save_community(bureau, None, kind="teacher", level="county", county=other, name="数学")


def test_names_are_unique_within_a_county_and_kind(make, db):
    county = make.county()
    bureau = make.user("bureau")
    services.save_community(bureau, None, kind="teacher", level="county", county=county, name="数学")
    with pytest.raises(Conflict):
        services.save_community(bureau, None, kind="teacher", level="county", county=county, name="数学")


def test_join_flow_request_approve_with_notifications(make, db, teacher_community):
    rural = make.user("teacher", school=make.school("village", county=teacher_community.county))
    leader = teacher_community.leader
    membership = services.ask_to_join(rural, teacher_community, "我想加入")
    db.session.commit()
    assert membership.status == "pending"
    assert notes_of(db, leader)[-1] == "community.join_requested"
    assert teacher_community.member_count == 1  # a request is not a member

    services.decide_request(leader, membership, True)
    db.session.commit()
    assert membership.status == "active" and membership.joined_at is not None
    assert teacher_community.member_count == 2
    assert notes_of(db, rural)[-1] == "community.join_approved"


def test_declined_request_notifies_and_may_be_asked_again(make, db, teacher_community):
    rural = make.user("teacher", school=make.school("village", county=teacher_community.county))
    membership = services.ask_to_join(rural, teacher_community)
    services.decide_request(teacher_community.leader, membership, False)
    db.session.commit()
    assert membership.status == "declined"
    assert notes_of(db, rural)[-1] == "community.join_declined"
    again = services.ask_to_join(rural, teacher_community)
    assert again.id == membership.id and again.status == "pending"


def test_asking_twice_is_refused(make, db, teacher_community):
    rural = make.user("teacher", school=make.school("village", county=teacher_community.county))
    services.ask_to_join(rural, teacher_community)
    with pytest.raises(Conflict):
        services.ask_to_join(rural, teacher_community)


def test_a_member_cannot_approve_requests(make, db, teacher_community):
    member = make.member(teacher_community).user
    core = make.member(teacher_community, role="core").user
    rural = make.user("teacher", school=make.school("village", county=teacher_community.county))
    request = services.ask_to_join(rural, teacher_community)
    for person in (member, core):
        with pytest.raises(NotAllowed):
            services.decide_request(person, request, True)
    assert request.status == "pending"


def test_a_teacher_cannot_join_a_principal_community(make):
    county = make.county()
    community = make.community("principal", leader=make.user("principal", county=county), county=county)
    with pytest.raises(NotAllowed):
        services.ask_to_join(make.user("teacher", county=county), community)


def test_a_county_community_takes_people_of_its_county(make, teacher_community):
    outsider = make.user("teacher", county=make.county())
    with pytest.raises(NotAllowed):
        services.ask_to_join(outsider, teacher_community)
    with pytest.raises(Invalid):
        services.add_member(teacher_community.leader, teacher_community, outsider)


def test_leader_adds_directly_and_a_pending_request_counts_as_approved(make, db, teacher_community):
    rural = make.user("teacher", school=make.school("village", county=teacher_community.county))
    services.ask_to_join(rural, teacher_community)
    membership = services.add_member(teacher_community.leader, teacher_community, rural, "core")
    db.session.commit()
    assert (membership.status, membership.role) == ("active", "core")
    assert db.session.query(Membership).filter_by(user_id=rural.id).count() == 1
    assert notes_of(db, rural)[-1] == "community.member_added"
    with pytest.raises(Conflict):
        services.add_member(teacher_community.leader, teacher_community, rural)


def test_member_leaves_and_leader_is_told_but_the_leader_cannot_leave(make, db, teacher_community):
    membership = make.member(teacher_community)
    services.leave(membership.user, teacher_community)
    db.session.commit()
    assert membership.status == "left"
    assert teacher_community.member_count == 1
    assert notes_of(db, teacher_community.leader)[-1] == "community.member_left"
    with pytest.raises(Conflict):
        services.leave(teacher_community.leader, teacher_community)


def test_removing_and_promoting_members(make, db, teacher_community):
    membership = make.member(teacher_community)
    services.set_member_role(teacher_community.leader, membership, "core")
    assert membership.role == "core"
    services.remove_member(teacher_community.leader, membership)
    db.session.commit()
    assert membership.status == "removed"
    assert notes_of(db, membership.user)[-1] == "community.member_removed"
    with pytest.raises(Conflict):
        services.remove_member(teacher_community.leader, db.session.query(Membership).filter_by(role="leader").one())


def test_appointing_a_new_leader_keeps_the_old_one_as_core(make, db, teacher_community):
    bureau = make.user("bureau")
    old = teacher_community.leader
    new = make.user("teacher", school=make.school("urban", county=teacher_community.county))
    services.appoint_leader(bureau, teacher_community, new)
    db.session.commit()
    assert teacher_community.leader_id == new.id
    roles = {m.user_id: m.role for m in db.session.query(Membership)}
    assert roles == {old.id: "core", new.id: "leader"}
    assert teacher_community.member_count == 2


def test_closed_community_takes_no_requests(make, db, teacher_community):
    services.set_community_active(make.user("bureau"), teacher_community, False)
    with pytest.raises(NotAllowed):
        services.ask_to_join(make.user("teacher", county=teacher_community.county), teacher_community)


def test_member_count_is_kept_by_the_services(make, db, teacher_community):
    for _ in range(3):
        person = make.user("teacher", county=teacher_community.county)
        services.add_member(teacher_community.leader, teacher_community, person)
    db.session.commit()
    assert db.session.get(Community, teacher_community.id).member_count == 4
