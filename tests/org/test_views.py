"""Organisation pages: schools, classrooms, terms and bell schedules."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from portal.org.models import BellSchedule, Classroom, School, Term

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


def school_form(**overrides) -> dict:
    form = {"name": "青山村小", "kind": "village", "stage": "primary", "county": "示范县", "student_count": "86"}
    form.update(overrides)
    return form


def term_form(**overrides) -> dict:
    form = {
        "name": "2026学年第一学期", "school_year": "2026", "semester": "autumn",
        "start_date": "2026-09-01", "end_date": "2027-01-22",
    }
    form.update(overrides)
    return form


def bell_form(rows, **overrides) -> dict:
    form = {"name": "夏季作息", "from_month_day": "", "to_month_day": ""}
    for i, (number, start, end) in enumerate(rows):
        form |= {f"periods-{i}-number": number, f"periods-{i}-start": start, f"periods-{i}-end": end}
    form.update(overrides)
    return form


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def bureau(login_as):
    return login_as("bureau")


# --- schools -------------------------------------------------------------------------------------


def test_everyone_signed_in_sees_the_school_list_and_a_school(login_as, make, client):
    school = make.school(name="城关一小")
    make.classroom(school=school, name="一班")
    login_as("teacher")
    assert "城关一小" in client.get("/schools").get_data(as_text=True)
    page = client.get(f"/schools/{school.id}")
    assert page.status_code == 200 and "一班" in page.get_data(as_text=True)


def test_school_list_filters_by_kind_and_name(login_as, make, client):
    make.school(kind="urban", name="城关一小")
    make.school(kind="village", name="青山村小")
    login_as("teacher")
    page = client.get("/schools?kind=village").get_data(as_text=True)
    assert "青山村小" in page and "城关一小" not in page
    page = client.get("/schools?q=城关").get_data(as_text=True)
    assert "城关一小" in page and "青山村小" not in page
    assert client.get("/schools?q=%00&kind=nope").status_code == 200
    page = client.get("/schools", query_string={"q": "%"}).get_data(as_text=True)  # a character, not a wildcard
    assert "城关一小" not in page and "青山村小" not in page


def test_school_list_counts_each_schools_active_classrooms(login_as, make, client, db):
    big = make.school(name="城关一小")
    make.school(name="青山村小")
    for n in range(3):
        make.classroom(school=big, name=f"{n + 1}班")
    make.classroom(school=big, name="旧班").is_active = False
    db.session.commit()
    login_as("teacher")
    rows = {re.sub(r"<[^>]+>|\s+", " ", row).split()[0]: row
            for row in re.findall(r"<tr class=[^>]*>(.*?)</tr>", client.get("/schools").get_data(as_text=True), re.S)}
    classes = {name: re.findall(r'<td class="num">(\d+)</td>', row)[0] for name, row in rows.items()}
    assert classes["城关一小"] == "3" and classes["青山村小"] == "0"  # the inactive class not counted


def test_school_list_query_count_does_not_grow(login_as, make, client, count_queries):
    login_as("teacher")
    make.classroom()
    with count_queries() as few:
        client.get("/schools")
    for _ in range(6):
        make.classroom(school=make.school())
    with count_queries() as many:
        client.get("/schools")
    assert len(many) == len(few)


@pytest.mark.parametrize("path", ["/schools/99999999999999999999", "/schools/0", "/schools/１", "/schools/999999", "/schools/-1"])
def test_unknown_or_odd_school_id_is_404(login_as, client, path):
    login_as("teacher")
    assert client.get(path).status_code == 404


def test_schools_page_refuses_absurd_page_numbers(login_as, client):
    login_as("teacher")
    assert client.get("/schools?page=99999999999").status_code == 400


def test_bureau_creates_a_school_in_a_new_county(bureau, auth, db):
    response = auth.post("/admin/schools/new", school_form(), csrf_from="/admin/schools/new")
    assert response.status_code == 302
    school = db.session.scalars(select(School)).one()
    assert (school.name, school.kind, school.county.name, school.student_count) == ("青山村小", "village", "示范县", 86)
    assert response.headers["Location"] == f"/schools/{school.id}"


def test_duplicate_school_name_in_a_county_is_refused(bureau, auth, make, db):
    make.school(county=make.county(name="示范县"), name="青山村小")
    response = auth.post("/admin/schools/new", school_form(), csrf_from="/admin/schools/new")
    assert response.status_code == 400 and b'id="name-err"' in response.data
    assert count(db, School) == 1


@pytest.mark.parametrize(
    "overrides, field",
    [({"name": ""}, "name"), ({"kind": "city"}, "kind"), ({"student_count": "-3"}, "student_count"), ({"county": ""}, "county")],
)
def test_bad_school_is_refused(bureau, auth, db, overrides, field):
    response = auth.post("/admin/schools/new", school_form(**overrides), csrf_from="/admin/schools/new")
    assert response.status_code == 400 and f'id="{field}-err"'.encode() in response.data
    assert count(db, School) == 0


def test_bureau_edits_a_school(bureau, auth, make):
    school = make.school(kind="village", name="旧名")
    response = auth.post(
        f"/admin/schools/{school.id}", school_form(name="新名", county=school.county.name, kind="teaching_point")
    )
    assert response.status_code == 302
    assert (school.name, school.kind) == ("新名", "teaching_point")


def test_partial_school_edit_is_a_form_error_not_a_crash(bureau, auth, make):
    school = make.school(name="旧名")
    response = auth.post(f"/admin/schools/{school.id}", {"name": "新名"})
    assert response.status_code == 400
    assert school.name == "旧名"


def test_bureau_deactivates_a_school_and_others_no_longer_see_it(bureau, auth, make, app):
    school = make.school(name="撤并学校")
    assert auth.post(f"/admin/schools/{school.id}/active", {"active": "0"}).status_code == 302
    assert school.is_active is False
    assert auth.client.get(f"/schools/{school.id}").status_code == 200  # the bureau still can
    from ..conftest import Auth

    teacher = Auth(app.test_client())
    teacher.login(make.user("teacher").username)
    assert teacher.client.get(f"/schools/{school.id}").status_code == 404
    assert "撤并学校" not in teacher.client.get("/schools").get_data(as_text=True)
    auth.post(f"/admin/schools/{school.id}/active", {"active": "1"})
    assert school.is_active is True


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_only_bureau_manages_schools(login_as, auth, make, db, role):
    user = login_as(role)
    school = user.school or make.school()
    assert auth.client.get("/admin/schools/new").status_code == 403
    assert auth.post("/admin/schools/new", school_form()).status_code == 403
    assert auth.post(f"/admin/schools/{school.id}", school_form(name="改名")).status_code == 403
    assert auth.post(f"/admin/schools/{school.id}/active", {"active": "0"}).status_code == 403
    assert school.is_active and school.name != "改名"
    assert count(db, School) == 1


def test_county_bureau_cannot_create_a_school_in_another_county(login_as, auth, make, db):
    login_as(make.user("bureau", county=make.county(name="东县")))
    response = auth.post("/admin/schools/new", school_form(county="西县"), csrf_from="/admin/schools/new")
    assert response.status_code == 400
    assert count(db, School) == 0


# --- classrooms ----------------------------------------------------------------------------------


def test_bureau_adds_edits_and_deactivates_a_classroom(bureau, auth, make):
    school = make.school()
    response = auth.post(f"/admin/schools/{school.id}/classrooms", {"grade": "3", "name": "2班", "student_count": "41"})
    assert response.status_code == 302
    (classroom,) = school.classrooms
    assert (classroom.grade, classroom.name, classroom.student_count) == (3, "2班", 41)
    assert auth.client.get(f"/admin/classrooms/{classroom.id}").status_code == 200
    response = auth.post(f"/admin/classrooms/{classroom.id}", {"grade": "4", "name": "2班", "student_count": "40"})
    assert response.status_code == 302 and classroom.grade == 4
    auth.post(f"/admin/classrooms/{classroom.id}/active", {"active": "0"})
    assert classroom.is_active is False
    auth.post(f"/admin/classrooms/{classroom.id}/active", {"active": "1"})
    assert classroom.is_active is True


def test_duplicate_or_bad_classroom_is_not_added(bureau, auth, make, db):
    school = make.school()
    make.classroom(school=school, grade=3, name="1班")
    for form in (
        {"grade": "3", "name": "1班", "student_count": "30"},
        {"grade": "13", "name": "9班", "student_count": "30"},
        {"grade": "3", "name": "", "student_count": "30"},
        {"grade": "3", "name": "9班", "student_count": "999"},
    ):
        assert auth.post(f"/admin/schools/{school.id}/classrooms", form).status_code == 302
    assert count(db, Classroom) == 1


def test_renaming_a_classroom_onto_another_is_refused(bureau, auth, make):
    school = make.school()
    make.classroom(school=school, grade=3, name="1班")
    second = make.classroom(school=school, grade=3, name="2班")
    response = auth.post(f"/admin/classrooms/{second.id}", {"grade": "3", "name": "1班", "student_count": "30"})
    assert response.status_code == 400 and b'id="name-err"' in response.data
    assert second.name == "2班"


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_only_bureau_manages_classrooms(login_as, auth, make, db, role):
    user = login_as(role)
    classroom = make.classroom(school=user.school or make.school())
    assert auth.post(f"/admin/schools/{classroom.school_id}/classrooms", {"grade": "3", "name": "新班", "student_count": "1"}).status_code == 403
    assert auth.client.get(f"/admin/classrooms/{classroom.id}").status_code == 403
    assert auth.post(f"/admin/classrooms/{classroom.id}/active", {"active": "0"}).status_code == 403
    assert count(db, Classroom) == 1 and classroom.is_active


# --- terms -----------------------------------------------------------------------------------------


def test_everyone_sees_terms(login_as, make, client):
    make.term(name="2026学年第一学期")
    login_as("teacher")
    assert "2026学年第一学期" in client.get("/terms").get_data(as_text=True)


def test_bureau_creates_and_edits_a_term(bureau, auth, db):
    assert auth.post("/admin/terms/new", term_form(), csrf_from="/admin/terms/new").status_code == 302
    term = db.session.scalars(select(Term)).one()
    assert (term.start_date, term.end_date, term.semester) == (date(2026, 9, 1), date(2027, 1, 22), "autumn")
    response = auth.post(f"/admin/terms/{term.id}", term_form(end_date="2027-01-29"), csrf_from=f"/admin/terms/{term.id}")
    assert response.status_code == 302 and term.end_date == date(2027, 1, 29)


def test_overlapping_term_is_refused(bureau, auth, make, db):
    make.term(start=date(2026, 9, 1), end=date(2027, 1, 22))
    form = term_form(name="春季", semester="spring", start_date="2027-01-15", end_date="2027-07-01")
    response = auth.post("/admin/terms/new", form, csrf_from="/admin/terms/new")
    assert response.status_code == 400 and b'id="start_date-err"' in response.data
    assert count(db, Term) == 1


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"end_date": "2026-08-01"}, "end_date"),
        ({"end_date": "2026-09-01"}, "end_date"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"school_year": "99999999999999999999"}, "school_year"),
        ({"semester": "summer"}, "semester"),
    ],
)
def test_bad_term_is_refused(bureau, auth, db, overrides, field):
    response = auth.post("/admin/terms/new", term_form(**overrides), csrf_from="/admin/terms/new")
    assert response.status_code == 400 and f'id="{field}-err"'.encode() in response.data
    assert count(db, Term) == 0


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_only_bureau_manages_terms(login_as, auth, db, role):
    login_as(role)
    assert auth.client.get("/admin/terms/new").status_code == 403
    assert auth.post("/admin/terms/new", term_form()).status_code == 403
    assert count(db, Term) == 0


# --- bell schedules --------------------------------------------------------------------------------


ROWS = [("1", "08:00", "08:40"), ("2", "08:50", "09:30")]


def test_principal_creates_edits_and_deletes_the_bell_schedule(login_as, auth, make, db):
    principal = login_as("principal")
    school = principal.school
    url = f"/schools/{school.id}/bells/new"
    assert auth.client.get(url).status_code == 200
    response = auth.post(url, bell_form(ROWS), csrf_from=url)
    assert response.status_code == 302
    schedule = db.session.scalars(select(BellSchedule)).one()
    assert schedule.school_id == school.id
    assert [(p.number, p.start_time, p.end_time) for p in schedule.periods] == [
        (1, time(8, 0), time(8, 40)), (2, time(8, 50), time(9, 30)),
    ]
    edit = f"/schools/{school.id}/bells/{schedule.id}"
    page = auth.client.get(edit).get_data(as_text=True)
    assert 'value="08:50"' in page
    response = auth.post(edit, bell_form([("1", "08:10", "08:50")], name="冬季作息", from_month_day="11-01", to_month_day="03-31"))
    assert response.status_code == 302
    assert (schedule.name, schedule.from_month_day, len(schedule.periods)) == ("冬季作息", "11-01", 1)
    assert auth.post(f"/schools/{school.id}/bells/{schedule.id}/delete").status_code == 302
    assert count(db, BellSchedule) == 0


def test_bureau_may_keep_a_schools_bell_schedule(bureau, auth, make, db):
    school = make.school()
    assert auth.post(f"/schools/{school.id}/bells/new", bell_form(ROWS)).status_code == 302
    assert count(db, BellSchedule) == 1


@pytest.fixture
def other_schools_schedule(make, db):
    from portal.org import services

    school = make.school()
    schedule = services.save_bell_schedule(
        make.user("bureau"), None, school=school, name="作息", from_month_day=None, to_month_day=None,
        periods=services.parse_periods(ROWS),
    )
    db.session.commit()
    return schedule


@pytest.mark.parametrize("role", ["teacher", "researcher", "principal"])
def test_others_cannot_touch_a_schools_bell_schedule(login_as, auth, db, other_schools_schedule, role):
    login_as(role)  # a principal of another school, a teacher, a researcher
    school_id, schedule_id = other_schools_schedule.school_id, other_schools_schedule.id
    assert auth.client.get(f"/schools/{school_id}/bells/new").status_code == 403
    assert auth.post(f"/schools/{school_id}/bells/new", bell_form(ROWS)).status_code == 403
    assert auth.client.get(f"/schools/{school_id}/bells/{schedule_id}").status_code == 403
    assert auth.post(f"/schools/{school_id}/bells/{schedule_id}", bell_form(ROWS, name="改")).status_code == 403
    assert auth.post(f"/schools/{school_id}/bells/{schedule_id}/delete").status_code == 403
    assert count(db, BellSchedule) == 1 and other_schools_schedule.name == "作息"


def test_teacher_cannot_edit_own_schools_bell_schedule(login_as, auth):
    teacher = login_as("teacher")
    assert auth.post(f"/schools/{teacher.school_id}/bells/new", bell_form(ROWS)).status_code == 403


def test_schedule_of_another_school_is_404_through_my_school(login_as, auth, db, other_schools_schedule):
    principal = login_as("principal")
    mine = f"/schools/{principal.school_id}/bells/{other_schools_schedule.id}"
    assert auth.client.get(mine).status_code == 404
    assert auth.post(mine, bell_form(ROWS, name="改")).status_code == 404
    assert auth.post(mine + "/delete").status_code == 404
    assert count(db, BellSchedule) == 1


@pytest.mark.parametrize(
    "rows, extra",
    [
        ([("1", "08:00", "08:45"), ("2", "08:40", "09:20")], {}),  # overlapping periods
        ([("1", "08:00", "08:40"), ("1", "09:00", "09:40")], {}),
        ([("1", "8:00am", "9")], {}),
        ([("1", "25:00", "25:40")], {}),
        ([("1", "09:00", "08:00")], {}),
        ([], {}),
        (ROWS, {"from_month_day": "05-01"}),
        (ROWS, {"from_month_day": "5月1日", "to_month_day": "9月30日"}),
        (ROWS, {"name": ""}),
    ],
)
def test_bad_bell_schedule_is_refused(login_as, auth, db, rows, extra):
    principal = login_as("principal")
    response = auth.post(f"/schools/{principal.school_id}/bells/new", bell_form(rows, **extra))
    assert response.status_code == 400
    assert count(db, BellSchedule) == 0
