"""Observation records: who may read them, finalising and amendments, refused values, rubric
versions, feedback and action steps (services and permissions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Notification
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.locking import StaleEdit
from portal.core.timeutil import local_today
from portal.observations import services
from portal.observations.models import ActionStep, Observation, ObservationAmendment, RubricTemplate
from portal.observations.permissions import can_view_observation, visible_observations
from portal.observations.rubrics import ensure_default_template, save_template_version, weighted_total


def _visible_ids(db, user):
    return set(db.session.execute(select(Observation.id).where(visible_observations(user))).scalars())


@pytest.fixture
def scene(make):
    county = make.county()
    other_county = make.county()
    school = make.school(county=county)
    other_school = make.school(county=county)
    principal = make.user("principal", school=school)
    teacher = make.user("teacher", school=school)
    record = make.observation(principal, teacher, scores={"objectives": 4}, private_notes="只给自己看")
    return {
        "county": county, "school": school, "principal": principal, "teacher": teacher, "record": record,
        "colleague": make.user("teacher", school=school),
        "other_principal": make.user("principal", school=other_school),
        "other_teacher": make.user("teacher", school=other_school),
        "researcher": make.user("researcher", county=county),
        "other_researcher": make.user("researcher", county=other_county),
        "bureau": make.user("bureau", county=county),
        "other_bureau": make.user("bureau", county=other_county),
        "city_bureau": make.user("bureau"),
    }


def test_who_may_read_a_final_record(db, scene):
    record = scene["record"]
    allowed = ["principal", "teacher", "researcher", "bureau", "city_bureau"]
    refused = ["colleague", "other_principal", "other_teacher", "other_researcher", "other_bureau"]
    for name in allowed:
        assert can_view_observation(scene[name], record), name
        assert record.id in _visible_ids(db, scene[name]), name
    for name in refused:
        assert not can_view_observation(scene[name], record), name
        assert record.id not in _visible_ids(db, scene[name]), name


def test_the_principal_of_the_observed_school_reads_a_visitors_record(db, make, scene):
    researcher = scene["researcher"]
    record = make.observation(researcher, scene["colleague"])
    assert can_view_observation(scene["principal"], record)
    assert not can_view_observation(scene["other_principal"], record)
    assert record.school_id == scene["school"].id


def test_a_draft_is_only_the_observers(db, make, scene):
    draft = make.observation(scene["principal"], scene["teacher"], final=False)
    assert can_view_observation(scene["principal"], draft)
    for name in ["teacher", "researcher", "bureau", "city_bureau", "colleague"]:
        assert not can_view_observation(scene[name], draft), name
        assert draft.id not in _visible_ids(db, scene[name]), name


def test_finalising_locks_the_record_and_tells_the_teacher(db, make, scene):
    draft = make.observation(scene["principal"], scene["teacher"], final=False, topic="认识钟表")
    services.finalize_observation(scene["principal"], draft)
    db.session.commit()
    assert draft.status == "final" and draft.finalized_at is not None
    note = db.session.execute(select(Notification).where(Notification.user_id == scene["teacher"].id,
                                                         Notification.kind == "observations.finalized")).scalars().all()
    assert len(note) == 2  # the scene's record and this one
    with pytest.raises(Conflict):
        services.update_draft(scene["principal"], draft, {"observed_teacher_id": scene["teacher"].id,
                                                          "observed_on": local_today().isoformat(), "periods": 2,
                                                          "subject": "math"})
    with pytest.raises(Conflict):
        services.finalize_observation(scene["principal"], draft)
    db.session.refresh(draft)
    assert draft.periods == 1


def test_an_amendment_is_recorded_field_by_field(db, scene, english):
    record = scene["record"]
    with pytest.raises(Invalid):
        services.amend_observation(scene["principal"], record, {"periods": 2}, reason="")
    with pytest.raises(NotAllowed):
        services.amend_observation(scene["teacher"], record, {"periods": 2}, reason="wrong")
    rows = services.amend_observation(scene["principal"], record, {"periods": "2", "topic": "分数的再认识"},
                                      reason="听了两节连堂课")
    db.session.commit()
    assert record.periods == 2 and record.topic == "分数的再认识"
    saved = db.session.execute(select(ObservationAmendment).order_by(ObservationAmendment.field)).scalars().all()
    assert [(a.field, a.old_value, a.new_value) for a in saved] == [("periods", "1", "2"),
                                                                    ("topic", "分数的初步认识", "分数的再认识")]
    assert all(a.user_id == scene["principal"].id and a.reason == "听了两节连堂课" for a in saved)
    assert len(rows) == 2
    with pytest.raises(Invalid):  # out of range in an amendment too
        services.amend_observation(scene["principal"], record, {"periods": 20}, reason="typo")
    with pytest.raises(Invalid, match="Nothing was changed"):
        services.amend_observation(scene["principal"], record, {"periods": 2}, reason="again")


@pytest.mark.parametrize("periods", [0, -1, 20, "x", None, 2.5])
def test_bad_periods_are_refused(make, scene, periods, english):
    with pytest.raises(Invalid) as info:
        make.observation(scene["principal"], scene["teacher"], periods=periods)
    assert info.value.field == "periods"


def test_a_date_in_the_future_is_refused(make, scene, english):
    with pytest.raises(Invalid, match="future") as info:
        make.observation(scene["principal"], scene["teacher"], on=local_today() + timedelta(days=1))
    assert info.value.field == "observed_on"


@pytest.mark.parametrize("scores", [{"objectives": 6}, {"objectives": 0}, {"charisma": 3}, {"effect": "good"},
                                    {"effect": True}, [3, 4]])
def test_scores_outside_the_template_are_refused(make, scene, scores, english):
    with pytest.raises(Invalid) as info:
        make.observation(scene["principal"], scene["teacher"], scores=scores)
    assert info.value.field == "scores"


def test_only_teachers_one_may_observe(make, scene, english):
    with pytest.raises(Invalid):  # oneself
        make.observation(scene["principal"], scene["principal"])
    with pytest.raises(Invalid):  # a teacher of another county
        make.observation(scene["principal"], make.user("teacher", county=make.county()))
    with pytest.raises(Invalid):  # not a teacher
        make.observation(scene["principal"], scene["researcher"])
    with pytest.raises(Invalid):  # a class of another school
        make.observation(scene["principal"], scene["teacher"], classroom_id=make.classroom(make.school()).id)


def test_weighted_total_and_the_default_rubric(db, scene):
    template = ensure_default_template()
    assert [d["label"] for d in template.dimensions] == ["教学目标", "教学内容/进度", "课程思政", "教学过程",
                                                          "教学方法", "教学效果", "教师素养"]
    assert sum(d["weight"] for d in template.dimensions) == 100
    all_five = {d["code"]: 5 for d in template.dimensions}
    assert weighted_total(template, all_five) == 100.0
    assert weighted_total(template, {d["code"]: 1 for d in template.dimensions}) == 0.0
    assert weighted_total(template, {"objectives": 3}) == 50.0
    assert weighted_total(template, {}) is None
    assert scene["record"].total_score == 75.0  # objectives 4 of 1..5


def test_editing_a_rubric_makes_a_version_and_records_keep_theirs(db, make, scene, english):
    record = scene["record"]
    old = record.rubric_template
    dims = [dict(d) for d in old.dimensions[:3]] + [{"code": "students", "label": "学生参与", "weight": 20, "min": 0,
                                                     "max": 10, "levels": []}]
    with pytest.raises(NotAllowed):
        save_template_version(scene["principal"], old, name="新表", description="", dimensions=dims)
    new = save_template_version(scene["bureau"], old, name="新表", description="", dimensions=dims)
    db.session.commit()
    assert new.version == old.version + 1 and new.is_current and new.is_default
    db.session.refresh(old)
    assert not old.is_current
    db.session.refresh(record)
    assert record.rubric_template_id == old.id
    later = make.observation(scene["principal"], scene["teacher"], scores={"students": 9})
    assert later.rubric_template_id == new.id
    with pytest.raises(Invalid):  # a dimension the new version dropped
        make.observation(scene["principal"], scene["teacher"], scores={"craft": 3})
    with pytest.raises(StaleEdit):  # an old version is not edited (someone saved a newer one)
        save_template_version(scene["bureau"], old, name="x", description="", dimensions=dims)
    assert db.session.query(RubricTemplate).filter_by(family="default").count() == 2


@pytest.mark.parametrize("bad", [
    [],
    [{"code": "Bad Code", "label": "x", "weight": 1, "min": 1, "max": 5}],
    [{"code": "a", "label": "", "weight": 1, "min": 1, "max": 5}],
    [{"code": "a", "label": "x", "weight": 0, "min": 1, "max": 5}],
    [{"code": "a", "label": "x", "weight": 10, "min": 5, "max": 5}],
    [{"code": "a", "label": "x", "weight": 10, "min": 1, "max": 5, "levels": [{"score": 9, "label": "优"}]}],
    [{"code": "a", "label": "x", "weight": 10, "min": 1, "max": 5}, {"code": "a", "label": "y", "weight": 10,
                                                                     "min": 1, "max": 5}],
])
def test_bad_rubrics_are_refused(make, scene, bad):
    with pytest.raises(Invalid):
        save_template_version(scene["bureau"], ensure_default_template(), name="表", description="", dimensions=bad)


def test_feedback_acknowledge_and_reply(db, scene, english):
    record = scene["record"]
    with pytest.raises(NotAllowed):
        services.acknowledge_observation(scene["colleague"], record)
    assert services.acknowledge_observation(scene["teacher"], record)
    assert not services.acknowledge_observation(scene["teacher"], record)  # once
    with pytest.raises(Invalid):
        services.reply_to_observation(scene["teacher"], record, "  ")
    services.reply_to_observation(scene["teacher"], record, "谢谢，下次注意板书。")
    db.session.commit()
    assert record.acknowledged_at is not None and record.teacher_reply == "谢谢，下次注意板书。"
    kinds = set(db.session.execute(select(Notification.kind).where(
        Notification.user_id == scene["principal"].id)).scalars())
    assert {"observations.acknowledged", "observations.replied"} <= kinds


def test_the_teacher_cannot_answer_a_draft(make, scene):
    draft = make.observation(scene["principal"], scene["teacher"], final=False)
    with pytest.raises(NotAllowed):
        services.acknowledge_observation(scene["teacher"], draft)


def test_action_steps_are_checked_by_the_next_observation(db, make, scene):
    first = make.observation(scene["principal"], scene["teacher"], on=local_today() - timedelta(days=7),
                             suggestions="多让学生说", action_steps="1. 每节课至少五名学生发言\n- 板书分区")
    assert [s.text for s in first.action_steps] == ["每节课至少五名学生发言", "板书分区"]
    assert all(s.teacher_id == scene["teacher"].id for s in first.action_steps)
    # The researcher of the county visits later: the steps show on their draft.
    nxt = make.observation(scene["researcher"], scene["teacher"], final=False)
    steps = services.steps_to_check(scene["researcher"], nxt)
    assert {s.text for s in steps} == {"每节课至少五名学生发言", "板书分区"}
    # Someone who may not read the first record does not see its steps.
    stranger = make.observation(scene["other_researcher"], make.user("teacher", county=scene["other_researcher"].county),
                                final=False)
    assert services.steps_to_check(scene["other_researcher"], stranger) == []
    step = next(s for s in steps if s.text == "板书分区")
    with pytest.raises(NotAllowed):
        services.check_action_step(scene["principal"], nxt, step, "met")
    services.check_action_step(scene["researcher"], nxt, step, "met")
    db.session.commit()
    assert step.status == "met" and step.checked_in_id == nxt.id
    # A met step is not asked again in a later observation.
    later = make.observation(scene["principal"], scene["teacher"], final=False)
    assert [s.text for s in services.steps_to_check(scene["principal"], later)] == ["每节课至少五名学生发言"]
    assert db.session.query(ActionStep).count() == 2


def test_live_session_prefill_and_observers(db, make, english):
    session = make.live_session()
    live_class = session.live_class
    main_school = live_class.main_classroom.school
    principal = make.user("principal", school=main_school)
    values = services.prefill_from_session(principal, session)
    assert values["observed_teacher_id"] == live_class.main_teacher_id
    assert values["classroom_id"] == live_class.main_classroom_id
    assert values["kind"] == "live" and values["subject"] == "math"
    raw = {**values, "observed_on": values["observed_on"].isoformat(), "kind": "open"}
    record = services.create_observation(principal, raw, final=True)
    assert record.kind == "live" and record.live_session_id == session.id and record.school_id == main_school.id
    outsider = make.user("principal")
    with pytest.raises(Invalid) as info:
        services.create_observation(outsider, raw)
    assert info.value.field == "live_session_id"
    # A receiving school's principal may observe the session too.
    village_principal = make.user("principal", school=live_class.receiving[0].classroom.school)
    assert services.create_observation(village_principal, raw).live_session_id == session.id
    later = make.live_session(starts_in=timedelta(days=2), county=main_school.county)
    with pytest.raises(Invalid, match="not started"):
        services.create_observation(make.user("bureau"), {**raw, "live_session_id": later.id})


def test_an_amendment_keeps_teacher_and_school_after_the_teacher_moves(db, make, scene):
    record = scene["record"]
    school_id = record.school_id
    teacher = scene["teacher"]
    teacher.school = make.school(county=make.county())  # moved to another county's school
    teacher.active = False
    db.session.commit()
    services.amend_observation(scene["principal"], record, {"topic": "更正的课题", "observed_teacher_id": 1},
                               reason="课题写错")
    db.session.commit()
    assert record.topic == "更正的课题" and record.school_id == school_id
    assert record.observed_teacher_id == teacher.id
