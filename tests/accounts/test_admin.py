"""Account administration pages: only bureau staff, and county staff only within their county."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Notification, User

from ..conftest import Auth
from ..core import fast_login_as  # noqa: F401  (login_as without a password check)
from ..factories import PASSWORD

STRONG = "Mountain-school-2026"


def user_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def new_user_form(**overrides) -> dict:
    form = {
        "username": "li.na",
        "name": "李娜",
        "role": "teacher",
        "school_id": "0",
        "county_id": "0",
        "title": "none",
        "password": STRONG,
    }
    form.update(overrides)
    return form


def edit_form(user, **overrides) -> dict:
    form = {
        "name": user.name,
        "role": user.role,
        "school_id": str(user.school_id or 0),
        "county_id": str(user.county_id or 0) if user.school_id is None else "0",
        "title": user.title,
    }
    form.update(overrides)
    return form


@pytest.fixture
def bureau(login_as):
    return login_as("bureau")


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_only_bureau_opens_user_admin(login_as, client, role):
    login_as(role)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403


def test_teacher_cannot_open_user_admin(login_as, client):
    login_as("teacher")
    assert client.get("/admin/users").status_code == 403


def test_teacher_cannot_create_a_user(login_as, auth, db, make):
    login_as("teacher")
    school = make.school()
    before = user_count(db)
    response = auth.post("/admin/users/new", new_user_form(school_id=school.id))
    assert response.status_code == 403
    assert user_count(db) == before


def test_bureau_lists_and_filters_users(bureau, make, client):
    school = make.school()
    make.user("teacher", username="zhao.lei", name="赵磊", school=school)
    make.user("principal", username="qian.min", name="钱敏")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "zhao.lei" in page and "qian.min" in page
    page = client.get("/admin/users?role=principal").get_data(as_text=True)
    assert "qian.min" in page and "zhao.lei" not in page
    page = client.get("/admin/users?q=赵").get_data(as_text=True)
    assert "zhao.lei" in page and "qian.min" not in page
    page = client.get(f"/admin/users?school_id={school.id}").get_data(as_text=True)
    assert "zhao.lei" in page and "qian.min" not in page


@pytest.mark.parametrize("query", ["page=99999999999", "page=0", "page=-1", "page=abc", "page=１", "per_page=1000"])
def test_user_list_refuses_absurd_pages(bureau, client, query):
    assert client.get(f"/admin/users?{query}").status_code == 400


@pytest.mark.parametrize("query", ["school_id=99999999999999999999", "school_id=9999999999", "q=%00", "role=nope"])
def test_user_list_survives_odd_filters(bureau, client, query):
    assert client.get(f"/admin/users?{query}").status_code == 200


def test_user_list_query_count_does_not_grow_with_users(bureau, make, client, count_queries):
    school = make.school()
    make.user("teacher", school=school)
    with count_queries() as few:
        client.get("/admin/users")
    for _ in range(8):
        make.user("teacher", school=make.school())
    with count_queries() as many:
        client.get("/admin/users")
    assert len(many) == len(few)


def test_bureau_creates_a_teacher_who_must_change_the_password(bureau, auth, make, app):
    school = make.school()
    response = auth.post("/admin/users/new", new_user_form(school_id=school.id), csrf_from="/admin/users/new")
    assert response.status_code == 302
    user = User.query.filter_by(username="li.na").one()
    assert (user.name, user.role, user.school_id, user.county_id) == ("李娜", "teacher", school.id, school.county_id)
    assert user.must_change_password and user.password_hash.startswith("scrypt:")
    assert Notification.query.filter_by(user_id=user.id, kind="account.created").count() == 1
    newcomer = Auth(app.test_client())
    assert newcomer.login("li.na", STRONG).headers["Location"] == "/password"


def test_bureau_creates_a_researcher_for_a_county(bureau, auth, make):
    county = make.county()
    form = new_user_form(username="sun.yan", role="researcher", county_id=county.id)
    assert auth.post("/admin/users/new", form, csrf_from="/admin/users/new").status_code == 302
    user = User.query.filter_by(username="sun.yan").one()
    assert user.school_id is None and user.county_id == county.id


def test_teacher_account_needs_a_school(bureau, auth, db):
    before = user_count(db)
    response = auth.post("/admin/users/new", new_user_form(), csrf_from="/admin/users/new")
    assert response.status_code == 400
    assert b'id="school_id-err"' in response.data
    assert user_count(db) == before


def test_duplicate_username_is_refused_and_nothing_is_created(bureau, auth, make, db):
    school = make.school()
    make.user("teacher", username="li.na")
    before = user_count(db)
    response = auth.post("/admin/users/new", new_user_form(username="LI.NA", school_id=school.id), csrf_from="/admin/users/new")
    assert response.status_code == 400
    assert b'id="username-err"' in response.data
    assert user_count(db) == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"password": ""}, "password"),
        ({"password": "12345678"}, "password"),
        ({"password": "li.na-2026-spring"}, "password"),
        ({"username": "张三"}, "username"),
        ({"username": "ab"}, "username"),
        ({"name": ""}, "name"),
        ({"role": "admin"}, "role"),
    ],
)
def test_bad_new_account_is_refused(bureau, auth, make, db, overrides, field):
    school = make.school()
    before = user_count(db)
    response = auth.post("/admin/users/new", new_user_form(school_id=school.id, **overrides), csrf_from="/admin/users/new")
    assert response.status_code == 400
    assert f'id="{field}-err"'.encode() in response.data
    assert user_count(db) == before


def test_new_account_form_without_csrf_token_is_refused(bureau, client, make, db):
    school = make.school()
    before = user_count(db)
    response = client.post("/admin/users/new", data=new_user_form(school_id=school.id))
    assert response.status_code == 400
    assert user_count(db) == before


def test_bureau_edits_a_user(bureau, auth, make):
    user = make.user("teacher", name="旧名字")
    response = auth.post(f"/admin/users/{user.id}", edit_form(user, name="新名字", title="first"), csrf_from="/")
    assert response.status_code == 302
    assert (user.name, user.title) == ("新名字", "first")


def test_bureau_changes_a_role_and_the_person_is_told(bureau, auth, make):
    user = make.user("teacher")
    response = auth.post(f"/admin/users/{user.id}", edit_form(user, role="principal"))
    assert response.status_code == 302
    assert user.role == "principal"
    assert Notification.query.filter_by(user_id=user.id, kind="account.role_changed").one().params == {"role": "principal"}


def test_bureau_cannot_change_own_role(bureau, auth):
    response = auth.post(f"/admin/users/{bureau.id}", edit_form(bureau, role="teacher", school_id="0"))
    assert response.status_code == 400
    assert bureau.role == "bureau"


def test_editing_an_unknown_user_is_404(bureau, client):
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/users/99999999999999999999").status_code == 404


def test_bureau_deactivates_and_reactivates_a_user(bureau, auth, make, app):
    user = make.user("teacher")
    response = auth.post(f"/admin/users/{user.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert user.active is False
    assert Auth(app.test_client()).login(user.username).status_code == 401
    auth.post(f"/admin/users/{user.id}/active", {"active": "1"})
    assert user.active is True
    assert Auth(app.test_client()).login(user.username).status_code == 302


def test_bureau_cannot_deactivate_self(bureau, auth, client):
    response = auth.post(f"/admin/users/{bureau.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert bureau.active is True
    assert client.get("/admin/users").status_code == 200


def test_password_reset_gives_a_one_time_password_that_works_once_changed(bureau, auth, make, app):
    user = make.user("teacher")
    response = auth.post(f"/admin/users/{user.id}/reset-password")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    temporary = re.search(r'<code class="token">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert user.must_change_password is True
    person = Auth(app.test_client())
    assert person.login(user.username, PASSWORD).status_code == 401
    response = person.login(user.username, temporary)
    assert response.status_code == 302 and response.headers["Location"] == "/password"
    assert person.client.get("/schools").headers["Location"] == "/password"
    response = person.post(
        "/password",
        {"current_password": temporary, "password": "Own-choice-for-2026", "confirm": "Own-choice-for-2026"},
        csrf_from="/password",
    )
    assert response.status_code == 302
    assert person.client.get("/schools").status_code == 200
    assert user.must_change_password is False


def test_password_reset_logs_the_person_out_everywhere(bureau, auth, make, app):
    user = make.user("teacher")
    person = Auth(app.test_client())
    person.login(user.username)
    auth.post(f"/admin/users/{user.id}/reset-password")
    assert person.client.get("/").status_code == 302


# --- county-level bureau staff ------------------------------------------------------------------


@pytest.fixture
def county_bureau(make, login_as):
    home = make.county(name="东县")
    return login_as(make.user("bureau", county=home))


def test_county_bureau_cannot_see_or_change_a_user_of_another_county(county_bureau, auth, make, client):
    outsider = make.user("teacher", username="xi.teacher", county=make.county(name="西县"))
    assert client.get(f"/admin/users/{outsider.id}").status_code == 404
    assert auth.post(f"/admin/users/{outsider.id}", edit_form(outsider, name="改名")).status_code == 404
    assert auth.post(f"/admin/users/{outsider.id}/active", {"active": "0"}).status_code == 404
    assert auth.post(f"/admin/users/{outsider.id}/reset-password").status_code == 404
    assert outsider.active and outsider.name != "改名" and not outsider.must_change_password
    assert "xi.teacher" not in client.get("/admin/users").get_data(as_text=True)


def test_county_bureau_manages_users_of_its_own_county(county_bureau, auth, make, client):
    insider = make.user("teacher", username="dong.teacher", county=county_bureau.county)
    assert "dong.teacher" in client.get("/admin/users").get_data(as_text=True)
    assert client.get(f"/admin/users/{insider.id}").status_code == 200
    assert auth.post(f"/admin/users/{insider.id}/active", {"active": "0"}).status_code == 302
    assert insider.active is False


def test_county_bureau_cannot_place_a_new_user_in_another_county(county_bureau, auth, make, db):
    elsewhere = make.school(county=make.county(name="西县"))
    before = user_count(db)
    response = auth.post("/admin/users/new", new_user_form(school_id=elsewhere.id, county_id=county_bureau.county_id))
    assert response.status_code == 400
    assert user_count(db) == before


def test_county_bureau_cannot_see_or_change_a_school_of_another_county(county_bureau, auth, make, client):
    school = make.school(county=make.county(name="西县"), name="西县一小")
    assert client.get(f"/admin/schools/{school.id}").status_code == 404
    assert auth.post(f"/admin/schools/{school.id}/active", {"active": "0"}).status_code == 404
    assert auth.post(f"/admin/schools/{school.id}/classrooms", {"grade": "3", "name": "1班", "student_count": "30"}).status_code == 404
    assert school.is_active and school.classrooms == []
    assert "西县一小" not in client.get("/schools").get_data(as_text=True)
