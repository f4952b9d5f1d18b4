"""Activities: planning, sign-up, attendance giving training hours, minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts.models import Notification
from portal.communities import activities
from portal.communities.models import Participant, TrainingRecord
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.models import utcnow


@pytest.fixture
def community(make):
    county = make.county()
    leader = make.user("teacher", school=make.school("urban", county=county))
    return make.community("teacher", leader=leader, county=county)


def plan(actor, community, **overrides):
    start = overrides.pop("starts_at", utcnow().replace(microsecond=0) + timedelta(days=2))
    values = dict(title="课例研磨：分数的意义", kind="lesson_polishing", starts_at=start,
                  ends_at=start + timedelta(hours=2), place="实验小学录播教室", hours_tenths=15)
    values.update(overrides)
    return activities.save_activity(actor, community, **values)


def kinds_for(db, user):
    return [n.kind for n in db.session.query(Notification).filter_by(user_id=user.id)]


def test_leader_plans_an_activity_and_members_are_told(make, db, community):
    member = make.member(community).user
    activity = plan(community.leader, community)
    db.session.commit()
    assert activity.host_id == community.leader_id and activity.hours == "1.5"
    assert "activity.created" in kinds_for(db, member)
    assert "activity.created" not in kinds_for(db, community.leader)


def test_a_plain_member_cannot_plan_but_a_core_member_can(make, db, community):
    with pytest.raises(NotAllowed):
        plan(make.member(community).user, community)
    assert plan(make.member(community, role="core").user, community).id


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"kind": "party"}, "kind"),
        ({"hours_tenths": 401}, "hours"),
        ({"place": "", "is_online": False}, "place"),
        ({"is_online": True, "place": "", "online_url": "javascript:alert(1)"}, "online_url"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_bad_activity_values_are_refused_with_the_field(community, overrides, field):
    with pytest.raises(Invalid) as caught:
        plan(community.leader, community, **overrides)
    assert caught.value.field == field


def test_ends_before_it_starts_is_refused(community):
    start = utcnow() + timedelta(days=1)
    with pytest.raises(Invalid):
        plan(community.leader, community, starts_at=start, ends_at=start - timedelta(minutes=5))


def test_host_must_be_a_member(make, community):
    with pytest.raises(Invalid):
        plan(community.leader, community, host=make.user("teacher", county=community.county))


def test_sign_up_respects_membership_capacity_and_cancellation(make, db, community):
    activity = plan(community.leader, community, capacity=1)
    first, second = make.member(community).user, make.member(community).user
    activities.sign_up(first, activity)
    assert activity.signup_count == 1
    with pytest.raises(Conflict):
        activities.sign_up(second, activity)  # full
    with pytest.raises(Conflict):
        activities.sign_up(first, activity)  # twice
    with pytest.raises(NotAllowed):
        activities.sign_up(make.user("teacher", county=community.county), activity)  # not a member
    activities.withdraw(first, activity)
    activities.cancel_activity(community.leader, activity)
    db.session.commit()
    with pytest.raises(Conflict):
        activities.sign_up(second, activity)


def test_cancelling_tells_those_signed_up(make, db, community):
    activity = plan(community.leader, community)
    member = make.member(community).user
    activities.sign_up(member, activity)
    activities.cancel_activity(community.leader, activity)
    db.session.commit()
    assert "activity.cancelled" in kinds_for(db, member)


def test_moving_an_activity_tells_those_signed_up(make, db, community):
    activity = plan(community.leader, community)
    member = make.member(community).user
    activities.sign_up(member, activity)
    later = activity.starts_at + timedelta(days=1)
    activities.save_activity(community.leader, community, activity, title=activity.title, kind=activity.kind,
                             starts_at=later, ends_at=later + timedelta(hours=2), place=activity.place,
                             hours_tenths=15)
    db.session.commit()
    assert "activity.changed" in kinds_for(db, member)


def test_attendance_gives_training_hours_and_correction_takes_them_back(make, db, community):
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    activity = make.activity(community, starts_at=start, hours_tenths=30)
    present, absent = make.member(community).user, make.member(community).user
    for person in (present, absent):
        db.session.add(Participant(activity_id=activity.id, user_id=person.id))
    db.session.commit()

    count = activities.record_attendance(community.leader, activity, {present.id})
    db.session.commit()
    assert count == 1
    record = db.session.query(TrainingRecord).one()
    assert (record.user_id, record.hours_tenths, record.school_year, str(record.earned_on)) == (
        present.id, 30, 2026, "2026-11-02")
    assert "activity.hours_earned" in kinds_for(db, present)
    assert "activity.hours_earned" not in kinds_for(db, absent)

    activities.record_attendance(community.leader, activity, {absent.id})
    db.session.commit()
    assert [r.user_id for r in db.session.query(TrainingRecord)] == [absent.id]


def test_walk_ins_must_be_members(make, db, community):
    activity = make.activity(community, starts_at=utcnow() - timedelta(hours=1))
    walk_in = make.member(community).user
    outsider = make.user("teacher", county=community.county)
    with pytest.raises(Invalid):
        activities.record_attendance(community.leader, activity, {outsider.id})
    db.session.rollback()
    activities.record_attendance(community.leader, activity, {walk_in.id})
    db.session.commit()
    assert db.session.query(TrainingRecord).filter_by(user_id=walk_in.id).count() == 1


def test_attendance_waits_for_the_start_and_for_the_host(make, db, community):
    future = make.activity(community)
    with pytest.raises(Conflict):
        activities.record_attendance(community.leader, future, set())
    past = make.activity(community, starts_at=utcnow() - timedelta(hours=3))
    with pytest.raises(NotAllowed):
        activities.record_attendance(make.member(community).user, past, set())


def test_changing_hours_after_attendance_updates_the_ledger(make, db, community):
    activity = make.activity(community, starts_at=utcnow() - timedelta(hours=3), hours_tenths=20)
    member = make.member(community).user
    activities.record_attendance(community.leader, activity, {member.id})
    activities.save_activity(community.leader, community, activity, title=activity.title, kind=activity.kind,
                             starts_at=activity.starts_at, ends_at=activity.ends_at, place=activity.place,
                             hours_tenths=35)
    db.session.commit()
    assert db.session.query(TrainingRecord).one().hours_tenths == 35


def test_a_held_activity_cannot_be_cancelled(make, db, community):
    activity = make.activity(community, starts_at=utcnow() - timedelta(hours=3))
    activities.record_attendance(community.leader, activity, set())
    with pytest.raises(Conflict):
        activities.cancel_activity(community.leader, activity)


def test_minutes_are_sanitised(make, db, community):
    activity = make.activity(community)
    activities.save_minutes(community.leader, activity, '<p onclick="x()">纪要</p><script>alert(1)</script>')
    assert activity.minutes_html == "<p>纪要</p>alert(1)"
    with pytest.raises(NotAllowed):
        activities.save_minutes(make.member(community).user, activity, "改")


def test_custom_activity_types(make, db, community):
    bureau = make.user("bureau")
    own = activities.save_activity_type(bureau, None, name="同课异构", community_kind="teacher")
    principals_only = activities.save_activity_type(bureau, None, name="校长跟岗", community_kind="principal")
    assert plan(community.leader, community, kind="custom", custom_type=own).custom_type_id == own.id
    with pytest.raises(Invalid):
        plan(community.leader, community, kind="custom", custom_type=principals_only)
    with pytest.raises(NotAllowed):
        activities.save_activity_type(community.leader, None, name="x", community_kind=None)
    with pytest.raises(Conflict):
        activities.save_activity_type(bureau, None, name="同课异构", community_kind=None)
