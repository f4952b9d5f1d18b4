"""The training-hours (学时) ledger: school years, the five-year cycle, the target, who sees it,
external hours by the bureau, the Excel export and the page's query count."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.communities import activities, hours
from portal.communities.models import TrainingRecord
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.timeutil import local_today, school_year_of

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)

OCT_2026 = date(2026, 10, 1)  # cycle 2022–2027: school years 2022 … 2026


def record(make, user, tenths: int, earned_on: date, title: str = "省平台培训", source: str = "external"):
    line = TrainingRecord(user_id=user.id, source=source, title=title, hours_tenths=tenths, earned_on=earned_on,
                          school_year=school_year_of(earned_on))
    make.db.session.add(line)
    make.db.session.commit()
    return line


def attended(make, community, person, starts_at: datetime, tenths: int):
    """An activity at ``starts_at`` that ``person`` attended, through the attendance service."""
    activity = make.activity(community, starts_at=starts_at, hours_tenths=tenths)
    activities.record_attendance(community.leader, activity, {person.id})
    make.db.session.commit()
    return activity


def records(db, **where) -> int:
    return db.session.scalar(select(func.count()).select_from(TrainingRecord).filter_by(**where))


@pytest.fixture
def people(make):
    """A county with a school: two teachers and their principal; a community the first teacher is in."""
    county = make.county()
    school = make.school(county=county)
    teacher = make.user("teacher", school=school)
    colleague = make.user("teacher", school=school)
    principal = make.user("principal", school=school)
    leader = make.user("teacher", county=county)
    community = make.community("teacher", leader=leader, county=county)
    make.member(community, user=teacher)
    return {"county": county, "school": school, "teacher": teacher, "colleague": colleague,
            "principal": principal, "community": community}


# --- the ledger ----------------------------------------------------------------------------------


def test_attended_hours_land_in_the_school_year_of_the_local_day(make, people):
    teacher, community = people["teacher"], people["community"]
    # 2026-08-31 23:30 and 2026-09-01 00:30 in Shanghai: the school year turns in between
    attended(make, community, teacher, datetime(2026, 8, 31, 15, 30, tzinfo=UTC), 25)
    attended(make, community, teacher, datetime(2026, 8, 31, 16, 30, tzinfo=UTC), 30)
    data = hours.ledger(teacher, today=OCT_2026)
    by_year = {y.school_year: y.tenths for y in data.years}
    assert by_year == {2022: 0, 2023: 0, 2024: 0, 2025: 25, 2026: 30}
    assert data.cycle_hours == "5.5" and data.cycle_label == "2022–2027"


def test_records_older_than_the_cycle_are_left_out(make, people):
    teacher = people["teacher"]
    record(make, teacher, 1000, date(2022, 8, 31))  # school year 2021: before the cycle
    record(make, teacher, 100, date(2022, 9, 1))  # 2022: the cycle's first year
    record(make, people["colleague"], 500, date(2025, 1, 1))  # someone else's
    data = hours.ledger(teacher, today=OCT_2026)
    assert data.cycle_tenths == 100 and [y.school_year for y in data.years] == [2022, 2023, 2024, 2025, 2026]
    # a year later 2022 has left the cycle too
    assert hours.ledger(teacher, today=date(2027, 9, 1)).cycle_tenths == 0


def test_the_target_setting_drives_percent_and_on_track(app, make, people):
    teacher = people["teacher"]
    record(make, teacher, 1800, date(2024, 3, 1))  # 180 hours
    data = hours.ledger(teacher, today=OCT_2026)
    assert (data.target, data.percent) == (360, 50)
    # October: 4 years and 2 months of 5 years have begun, so 300 hours are due
    assert data.expected_tenths == 3000 and not data.on_track
    app.config["TRAINING_HOURS_TARGET"] = 200
    data = hours.ledger(teacher, today=OCT_2026)
    assert (data.target, data.percent, data.progress_tenths) == (200, 90, 1800)
    assert data.expected_hours == "166.7" and data.on_track


def test_hours_are_parsed_strictly():
    assert hours.parse_hours("1.5") == 15 and hours.parse_hours(" 400 ") == 4000 and hours.parse_hours("0.5") == 5
    for bad in ("0", "0.4", "400.1", "1000", "abc", "1.55", "-2", "1e2", "", "١", "1,5", ".5"):
        with pytest.raises(Invalid):
            hours.parse_hours(bad)


# --- who sees it --------------------------------------------------------------------------------


def test_own_ledger_for_everyone_and_others_only_for_principal_and_county_bureau(client, login_as, make, people):
    url = f"/users/{people['colleague'].id}/training-hours"
    other_county = make.county()
    expected = [
        (people["teacher"], 403),
        (make.user("principal", county=other_county), 403),
        (make.user("researcher", county=people["county"]), 403),
        (make.user("bureau", county=other_county), 403),
        (people["principal"], 200),
        (make.user("bureau", county=people["county"]), 200),
        (make.user("bureau"), 200),  # city level
    ]
    for person, status in expected:
        login_as(person)
        assert client.get(url).status_code == status, person.role
        assert client.get(url + "/export.xlsx").status_code == status, person.role
        assert client.get("/training-hours").status_code == 200
    assert client.get("/users/999999/training-hours").status_code == 404


def test_the_page_shows_years_records_and_progress(client, login_as, make, people):
    teacher = people["teacher"]
    today = local_today()
    activity = attended(make, people["community"], teacher, datetime.now(UTC) - timedelta(days=1), 35)
    record(make, teacher, 120, today - timedelta(days=3), title="校本研修")
    record(make, teacher, 90, date(today.year - 7, 1, 1), title="很早的培训")
    login_as(teacher)
    page = client.get("/training-hours")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "校本研修" in html and activity.title in html and "很早的培训" in html
    assert '<progress class="hours-bar" max="3600" value="155">' in html
    assert f"{school_year_of(today)}–{school_year_of(today) + 1}" in html
    assert 'href="/training-hours"' in html  # the nav entry


# --- external hours -----------------------------------------------------------------------------


def test_bureau_records_external_hours_others_cannot(auth, client, login_as, make, db, people):
    colleague = people["colleague"]
    url = f"/users/{colleague.id}/training-hours"
    form = {"title": "省级平台网络研修", "hours": "12.5", "earned_on": "2026-06-30"}
    for person in (people["teacher"], people["principal"], make.user("bureau", county=make.county())):
        login_as(person)
        assert auth.post(url, form).status_code == 403, person.role
    login_as(make.user("bureau", county=people["county"]))
    response = auth.post(url, form)
    assert response.status_code == 302
    line = db.session.scalars(select(TrainingRecord)).one()
    assert (line.source, line.hours_tenths, line.school_year, line.activity_id) == ("external", 125, 2025, None)
    login_as(colleague)
    assert "省级平台网络研修" in client.get("/training-hours").get_data(as_text=True)


@pytest.mark.parametrize("field,value,message", [
    ("hours", "0", "0.5 to 400"),
    ("hours", "1000", "0.5 to 400"),
    ("hours", "abc", "0.5 to 400"),
    ("hours", "", "0.5 to 400"),
    ("earned_on", "2026-02-30", "2026-09-01"),
    ("earned_on", "yesterday", "2026-09-01"),
    ("earned_on", "2999-01-01", "past day"),
    ("title", "", "what the training was"),
])
def test_bad_input_is_a_400_with_a_message_and_nothing_saved(auth, login_as, make, db, people, field, value,
                                                               message):
    login_as(make.user("bureau", locale="en"))  # the messages are checked in English
    form = {"title": "培训", "hours": "3", "earned_on": "2026-06-30", field: value}
    response = auth.post(f"/users/{people['colleague'].id}/training-hours", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert records(db) == 0


def test_bureau_deletes_external_records_only(auth, login_as, make, db, people):
    teacher = people["teacher"]
    external = record(make, teacher, 50, date(2026, 5, 1))
    attended(make, people["community"], teacher, datetime(2026, 5, 2, 2, 0, tzinfo=UTC), 20)
    from_activity = db.session.scalars(select(TrainingRecord).filter_by(source="activity")).one()
    login_as(people["principal"])
    assert auth.post(f"/training-records/{external.id}/delete").status_code == 403
    login_as(make.user("bureau"))
    assert auth.post(f"/training-records/{from_activity.id}/delete").status_code == 409
    assert auth.post(f"/training-records/{external.id}/delete").status_code == 302
    assert records(db, source="external") == 0 and records(db, source="activity") == 1


def test_services_refuse_the_wrong_people_and_values(make, db, people):
    bureau = make.user("bureau")
    with pytest.raises(NotAllowed):
        hours.record_external_hours(people["principal"], people["teacher"], title="x", hours_tenths=10,
                                    earned_on=date(2026, 1, 1))
    with pytest.raises(Invalid):
        hours.record_external_hours(bureau, people["teacher"], title="x", hours_tenths=4001,
                                    earned_on=date(2026, 1, 1))
    line = hours.record_external_hours(bureau, people["teacher"], title="x", hours_tenths=4000,
                                       earned_on=date(2026, 1, 1))
    line.source = "activity"
    with pytest.raises(Conflict):
        hours.delete_external_record(bureau, line)


# --- export -------------------------------------------------------------------------------------


def test_export_opens_holds_the_numbers_and_neutralises_formulas(client, login_as, make, people):
    teacher = people["teacher"]
    today = local_today()
    record(make, teacher, 125, today - timedelta(days=1), title='=HYPERLINK("http://evil.example","点我")')
    record(make, teacher, 40, today - timedelta(days=2), title="@SUM(1+1)")
    record(make, teacher, 10, today - timedelta(days=3), title="-2+3")
    login_as(teacher)
    response = client.get("/training-hours/export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert today.isoformat() in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    cells = [c for row in rows for c in row if c is not None]
    assert 17.5 in cells  # the cycle total and the current year, as numbers
    titles = [row[1] for row in rows if row[3] in (12.5, 4, 1)]
    assert titles == ['\'=HYPERLINK("http://evil.example","点我")', "'@SUM(1+1)", "'-2+3"]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


# --- query count --------------------------------------------------------------------------------


def test_the_page_query_count_does_not_grow_with_records(client, login_as, make, people, count_queries):
    teacher = people["teacher"]
    login_as(teacher)
    counts = []
    for n in (2, 40):
        for i in range(n):
            record(make, teacher, 10, local_today() - timedelta(days=i))
        attended(make, people["community"], teacher, datetime.now(UTC) - timedelta(hours=n), 10)
        with count_queries() as statements:
            assert client.get("/training-hours").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
