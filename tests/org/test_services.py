"""Organisation services and predicates, called directly."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from portal.core.errors import Conflict, Invalid
from portal.core.timeutil import local_today
from portal.org import services
from portal.org.models import BellSchedule, School
from portal.org.permissions import can_edit_bell_schedule, can_manage_school, can_manage_terms, can_view_school


@pytest.fixture
def bureau(make):
    return make.user("bureau")


# --- schools and classrooms -----------------------------------------------------------------


def test_save_school_creates_and_updates(db, make, bureau):
    county = make.county()
    school = services.save_school(bureau, None, name=" 城关一小 ", kind="urban", stage="primary", county=county)
    services.save_school(
        bureau, school, name="城关一小", kind="urban", stage="nine_year", county=county, student_count=900
    )
    db.session.commit()
    assert (school.name, school.stage, school.student_count) == ("城关一小", "nine_year", 900)


def test_school_name_is_unique_within_a_county_only(db, make, bureau):
    east, west = make.county(), make.county()
    services.save_school(bureau, None, name="中心小学", kind="township", stage="primary", county=east)
    services.save_school(bureau, None, name="中心小学", kind="township", stage="primary", county=west)
    with pytest.raises(Conflict):
        services.save_school(bureau, None, name="中心小学", kind="village", stage="primary", county=east)


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": "\u202e\x00"},
        {"name": "校" * 81},
        {"kind": "city"},
        {"stage": "college"},
        {"student_count": -1},
        {"student_count": 100_001},
    ],
)
def test_save_school_refuses_bad_fields(make, bureau, fields):
    values = {"name": "新学校", "kind": "village", "stage": "primary", "county": make.county()} | fields
    with pytest.raises(Invalid):
        services.save_school(bureau, None, **values)


def test_county_is_found_or_created_by_name(db):
    first = services.get_or_create_county("示范县")
    assert services.get_or_create_county(" 示范县 ") is first
    with pytest.raises(Invalid):
        services.get_or_create_county("  ")


def test_classroom_names_are_unique_per_grade(db, make, bureau):
    school = make.school()
    one = services.save_classroom(bureau, None, school=school, grade=3, name="1班")
    services.save_classroom(bureau, None, school=school, grade=4, name="1班")
    with pytest.raises(Conflict):
        services.save_classroom(bureau, None, school=school, grade=3, name="1班")
    services.save_classroom(bureau, one, school=school, grade=3, name="1班", student_count=45)  # itself is fine


@pytest.mark.parametrize("fields", [{"grade": 0}, {"grade": 13}, {"name": " "}, {"student_count": 201}])
def test_save_classroom_refuses_bad_fields(make, bureau, fields):
    values = {"grade": 3, "name": "1班"} | fields
    with pytest.raises(Invalid):
        services.save_classroom(bureau, None, school=make.school(), **values)


# --- terms ------------------------------------------------------------------------------------


def autumn(bureau, term=None, **fields):
    values = {
        "name": "2026学年第一学期", "school_year": 2026, "semester": "autumn",
        "start": date(2026, 9, 1), "end": date(2027, 1, 22),
    } | fields
    return services.save_term(bureau, term, **values)


def test_save_term_creates_and_edits(db, bureau):
    term = autumn(bureau)
    autumn(bureau, term, end=date(2027, 1, 29))  # its own dates do not "overlap"
    db.session.commit()
    assert term.end_date == date(2027, 1, 29)


def test_overlapping_term_is_refused(db, bureau):
    autumn(bureau)
    with pytest.raises(Conflict):
        services.save_term(
            bureau, None, name="春季", school_year=2026, semester="spring",
            start=date(2027, 1, 22), end=date(2027, 7, 1),
        )


def test_same_semester_twice_is_refused(db, bureau):
    autumn(bureau)
    with pytest.raises(Conflict):
        autumn(bureau, start=date(2027, 9, 1), end=date(2028, 1, 20))


@pytest.mark.parametrize(
    "fields",
    [
        {"end": date(2026, 8, 31)},
        {"end": date(2026, 9, 1)},
        {"end": date(2027, 6, 30)},
        {"semester": "summer"},
        {"school_year": 1999},
        {"name": ""},
    ],
)
def test_bad_term_is_refused(bureau, fields):
    with pytest.raises(Invalid):
        autumn(bureau, **fields)


def test_current_term_is_the_running_one_else_the_next_else_the_last(db, make):
    def as_row(term):
        return services.TermRow(term.id, term.name, term.start_date, term.end_date)

    today = local_today()
    assert services.current_term(today) is None and services.current_term_row(today) is None
    past = make.term(start=today - timedelta(days=200), end=today - timedelta(days=100), name="过去", school_year=2000)
    assert services.current_term(today) == past and services.current_term_row(today) == as_row(past)
    future = make.term(start=today + timedelta(days=10), end=today + timedelta(days=100), name="将来", school_year=2001)
    assert services.current_term(today) == future and services.current_term_row(today) == as_row(future)
    running = make.term(start=today - timedelta(days=5), end=today + timedelta(days=5), name="现在", school_year=2002)
    assert services.current_term(today) == running and services.current_term_row(today) == as_row(running)
    assert services.current_term() == running and services.current_term_row() == as_row(running)
    # kept per day (core/cache.kept) until a term changes
    assert services.current_term_row(today + timedelta(days=50)) == as_row(future)
    running.end_date = today + timedelta(days=3)
    db.session.commit()
    assert services.current_term_row(today).end_date == today + timedelta(days=3)


# --- bell schedules --------------------------------------------------------------------------


def test_parse_periods_sorts_and_skips_blank_rows():
    periods = services.parse_periods([("2", "09:00", "09:40"), ("", "", ""), ("1", "08:00", "08:40")])
    assert periods == [(1, time(8, 0), time(8, 40)), (2, time(9, 0), time(9, 40))]


@pytest.mark.parametrize(
    "rows",
    [
        [("1", "08:00", "08:45"), ("2", "08:40", "09:20")],  # overlap
        [("1", "08:00", "08:40"), ("1", "09:00", "09:40")],  # same number
        [("1", "08:40", "08:00")],  # ends before it starts
        [("1", "08:00", "08:00")],
        [("1", "25:00", "26:00")],  # no such time
        [("1", "8点", "9点")],
        [("x", "08:00", "08:40")],
        [("0", "08:00", "08:40")],
        [("21", "08:00", "08:40")],
        [("1", "08:00", "")],
        [("", "", "")],  # nothing at all
        [],
    ],
)
def test_parse_periods_refuses_bad_rows(rows):
    with pytest.raises(Invalid):
        services.parse_periods(rows)


def test_save_bell_schedule_replaces_its_periods(db, make, bureau):
    school = make.school()
    schedule = services.save_bell_schedule(
        bureau, None, school=school, name="冬季作息", from_month_day=None, to_month_day=None,
        periods=services.parse_periods([("1", "08:00", "08:40"), ("2", "08:50", "09:30")]),
    )
    services.save_bell_schedule(
        bureau, schedule, school=school, name="冬季作息", from_month_day="", to_month_day="",
        periods=services.parse_periods([("1", "08:10", "08:50")]),
    )
    db.session.commit()
    assert [(p.number, p.start_time) for p in schedule.periods] == [(1, time(8, 10))]
    assert db.session.query(BellSchedule).count() == 1


@pytest.mark.parametrize("bounds", [("05-01", None), ("5-1", "9-30"), ("13-01", "09-30"), ("05-32", "09-30")])
def test_bell_schedule_range_must_be_two_month_days(make, bureau, bounds):
    with pytest.raises(Invalid):
        services.save_bell_schedule(
            bureau, None, school=make.school(), name="夏季作息", from_month_day=bounds[0], to_month_day=bounds[1],
            periods=services.parse_periods([("1", "08:00", "08:40")]),
        )


def test_seasonal_schedule_applies_in_its_range_and_the_default_otherwise(db, make, bureau):
    school = make.school()
    one = services.parse_periods([("1", "08:00", "08:40")])
    default = services.save_bell_schedule(
        bureau, None, school=school, name="常规", from_month_day=None, to_month_day=None, periods=one
    )
    summer = services.save_bell_schedule(
        bureau, None, school=school, name="夏季", from_month_day="05-01", to_month_day="09-30", periods=one
    )
    winter = services.save_bell_schedule(
        bureau, None, school=school, name="冬季", from_month_day="12-01", to_month_day="02-28", periods=one
    )
    assert services.schedule_for(school, date(2026, 7, 1)) == summer
    assert services.schedule_for(school, date(2026, 10, 15)) == default
    assert services.schedule_for(school, date(2027, 1, 10)) == winter  # the range wraps the new year
    assert services.schedule_for(make.school(), date(2026, 7, 1)) is None


# --- predicates ----------------------------------------------------------------------------------


def test_school_predicates(make):
    county = make.county()
    school, other = make.school(county=county), make.school()
    city, county_bureau = make.user("bureau"), make.user("bureau", county=county)
    principal = make.user("principal", school=school)
    teacher = make.user("teacher", school=school)
    assert can_manage_school(city, other) and can_manage_school(county_bureau, school)
    assert not can_manage_school(county_bureau, other)
    assert not can_manage_school(principal, school)
    assert can_edit_bell_schedule(principal, school) and not can_edit_bell_schedule(principal, other)
    assert not can_edit_bell_schedule(teacher, school)
    assert not can_edit_bell_schedule(make.user("researcher"), school)
    assert can_manage_terms(city) and not can_manage_terms(principal)
    assert can_view_school(teacher, other)


def test_predicates_are_false_for_anonymous_and_inactive(make):
    from flask_login import AnonymousUserMixin

    school: School = make.school()
    anonymous = AnonymousUserMixin()
    assert not can_manage_school(anonymous, school)
    assert not can_edit_bell_schedule(anonymous, school)
    assert not can_view_school(anonymous, school)
    gone = make.user("principal", school=school, active=False)
    assert not can_edit_bell_schedule(gone, school)
    assert not can_manage_school(make.user("bureau", active=False), school)
