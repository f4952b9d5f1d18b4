"""The observation quota engine: rules, periods, what counts, pacing (observations.quota)."""

from __future__ import annotations

from datetime import date

import pytest

from portal.core.errors import Conflict, NotAllowed
from portal.observations import quota
from portal.observations.quota_services import save_quota_rule, set_quota_rule_active

AUTUMN = (date(2026, 9, 1), date(2027, 1, 22))  # 104 weekdays
SPRING = (date(2027, 2, 22), date(2027, 7, 9))  # 100 weekdays


@pytest.fixture
def terms(make):
    make.term(*AUTUMN, school_year=2026, semester="autumn")
    make.term(*SPRING, school_year=2026, semester="spring", name="2026学年第二学期")


def test_principal_without_a_stored_rule_gets_the_default_35_a_year(make, terms):
    principal = make.user("principal")
    progress = quota.progress_for(principal, date(2026, 11, 30))
    assert progress.required == 35
    assert progress.rule.is_builtin and progress.period == "school_year"
    assert (progress.period_start, progress.period_end) == (date(2026, 9, 1), date(2027, 8, 31))


def test_teacher_without_a_rule_has_no_quota(make, terms):
    teacher = make.user("teacher")
    make.counted(teacher, date(2026, 10, 12), periods=2)
    progress = quota.progress_for(teacher, date(2026, 11, 30))
    assert progress.status == "none" and progress.required == 0 and progress.done == 2


def test_progress_across_31_august_and_1_september(make):
    principal = make.user("principal")
    make.counted(principal, date(2026, 8, 31), periods=2)
    make.counted(principal, date(2026, 9, 1), periods=1)
    last_day = quota.progress_for(principal, date(2026, 8, 31))
    first_day = quota.progress_for(principal, date(2026, 9, 1))
    assert (last_day.school_year, last_day.done) == (2025, 2)
    assert last_day.period_end == date(2026, 8, 31)
    assert (first_day.school_year, first_day.done) == (2026, 1)
    assert first_day.period_start == date(2026, 9, 1)
    # The last day of the year: every teaching day has passed, so all 35 are expected.
    assert last_day.expected == 35 and last_day.status == "at_risk"


def test_semester_rule_counts_each_semester_apart(make, terms):
    principal = make.user("principal")
    make.quota_rule("principal", required=14, period="semester")
    make.counted(principal, date(2026, 12, 10), periods=2)
    make.counted(principal, date(2027, 2, 5), periods=1)  # winter holiday: before the spring term starts
    make.counted(principal, date(2027, 2, 25), periods=3)
    autumn = quota.progress_for(principal, date(2027, 1, 15))
    assert (autumn.semester, autumn.required, autumn.done) == ("autumn", 14, 3)
    assert autumn.period_end == date(2027, 2, 21)
    spring = quota.progress_for(principal, date(2027, 3, 1))
    assert (spring.semester, spring.done) == ("spring", 3)
    assert (spring.period_start, spring.period_end) == (date(2027, 2, 22), date(2027, 8, 31))


def test_county_rule_overrides_the_city_rule(make, terms, db):
    county, other = make.county(), make.county()
    make.quota_rule("principal", required=40)
    county_rule = make.quota_rule("principal", county=county, required=20, period="semester")
    here = make.user("principal", county=county)
    there = make.user("principal", county=other)
    assert quota.progress_for(here, date(2026, 11, 30)).required == 20
    assert quota.progress_for(there, date(2026, 11, 30)).required == 40
    county_rule.active = False
    db.session.commit()
    assert quota.progress_for(here, date(2026, 11, 30)).required == 40


def test_drafts_other_kinds_and_periods_over_the_cap_do_not_count(make, terms):
    principal = make.user("principal")
    make.quota_rule("principal", kinds=("drop_in", "open"), max_periods_per_record=2)
    make.counted(principal, date(2026, 10, 12), periods=1, kind="drop_in")
    make.counted(principal, date(2026, 10, 13), periods=4, kind="open")  # counts 2
    make.counted(principal, date(2026, 10, 14), periods=3, kind="drop_in", status="draft")
    make.counted(principal, date(2026, 10, 15), periods=1, kind="recording")
    assert quota.progress_for(principal, date(2026, 11, 30)).done == 3


@pytest.mark.parametrize("done, status", [(11, "on_track"), (8, "behind"), (7, "behind"), (6, "at_risk")])
def test_pacing_status_on_30_november(make, terms, done, status):
    principal = make.user("principal")
    if done:
        make.counted(principal, date(2026, 10, 12), periods=1)
        for _ in range((done - 1) // 4):
            make.counted(principal, date(2026, 10, 13), periods=4)
        rest = (done - 1) % 4
        if rest:
            make.counted(principal, date(2026, 10, 14), periods=rest)
    progress = quota.progress_for(principal, date(2026, 11, 30))
    # 65 of 204 teaching days: 35 × 65 // 204 = 11 expected; at risk below 11 − 4.
    assert (progress.elapsed_days, progress.total_days, progress.expected) == (65, 204, 11)
    assert progress.done == done
    assert progress.status == status


def test_holidays_and_make_up_days_change_the_pace(make, terms, db):
    from portal.scheduling.models import CalendarDay

    principal = make.user("principal")
    for day in range(1, 8):  # National Day week: five weekdays off
        db.session.add(CalendarDay(day=date(2026, 10, day), kind="holiday", name="国庆节"))
    db.session.add(CalendarDay(day=date(2026, 10, 10), kind="workday", follows_weekday=3, name="调休"))
    db.session.commit()
    progress = quota.progress_for(principal, date(2026, 11, 30))
    assert (progress.elapsed_days, progress.total_days) == (61, 200)
    assert progress.expected == 35 * 61 // 200


def test_at_risk_when_the_rest_cannot_be_done_in_time(app, make, terms):
    principal = make.user("principal")
    for _ in range(7):
        make.counted(principal, date(2027, 3, 10), periods=4)
    make.counted(principal, date(2027, 3, 11), periods=3)  # 31 done; 33 expected on 30 June
    assert quota.progress_for(principal, date(2027, 6, 30)).status == "behind"
    app.config["QUOTA_MAX_PERIODS_PER_WEEK"] = 1  # 7 teaching days left: 1 more period at most
    assert quota.progress_for(principal, date(2027, 6, 30)).status == "at_risk"


def test_met_requirement_is_on_track_and_full(make, terms):
    principal = make.user("principal")
    make.quota_rule("principal", required=3)
    make.counted(principal, date(2026, 9, 10), periods=4)
    progress = quota.progress_for(principal, date(2026, 9, 11))
    assert progress.status == "on_track" and progress.percent == 100 and progress.remaining == 0


# --- the rule services ---------------------------------------------------------------------------


def test_bureau_creates_a_county_rule_and_a_second_active_one_is_refused(make, english):
    county = make.county()
    bureau = make.user("bureau")
    rule = save_quota_rule(bureau, None, name="", county=county, role="principal", period="semester", required=14,
                           kinds=["drop_in"], max_periods_per_record=2)
    assert (rule.county_id, rule.required, rule.kinds) == (county.id, 14, ["drop_in"])
    with pytest.raises(Conflict):
        save_quota_rule(bureau, None, name="", county=county, role="principal", period="school_year", required=35,
                        kinds=[], max_periods_per_record=None)
    set_quota_rule_active(bureau, rule, False)
    again = save_quota_rule(bureau, None, name="", county=county, role="principal", period="school_year",
                            required=35, kinds=[], max_periods_per_record=None)
    with pytest.raises(Conflict):
        set_quota_rule_active(bureau, rule, True)
    assert again.active


def test_county_bureau_keeps_only_its_own_countys_rules(make):
    county, other = make.county(), make.county()
    county_bureau = make.user("bureau", county=county)
    city_rule = make.quota_rule("principal")
    with pytest.raises(NotAllowed):
        save_quota_rule(county_bureau, None, name="", county=None, role="principal", period="school_year",
                        required=30, kinds=[], max_periods_per_record=None)
    with pytest.raises(NotAllowed):
        save_quota_rule(county_bureau, None, name="", county=other, role="principal", period="school_year",
                        required=30, kinds=[], max_periods_per_record=None)
    with pytest.raises(NotAllowed):
        set_quota_rule_active(county_bureau, city_rule, False)
    with pytest.raises(NotAllowed):
        save_quota_rule(make.user("principal"), None, name="", county=county, role="principal",
                        period="school_year", required=30, kinds=[], max_periods_per_record=None)


def test_every_kind_ticked_is_stored_as_every_kind(make):
    from portal.observations.models import KINDS

    rule = save_quota_rule(make.user("bureau"), None, name="", county=None, role="teacher", period="semester",
                           required=15, kinds=list(KINDS), max_periods_per_record=None)
    assert rule.kinds == []
