"""Researchers' contact schools and visits: who assigns and logs, refused input saves nothing,
progress per semester and who is behind, the bureau's overview, fixed query counts."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.core.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.core.timeutil import local_today
from portal.partnerships import visits as services
from portal.partnerships.models import ResearcherSchool, SchoolVisit

# Service messages are read in English here (the default locale is Chinese).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(make, db):
    today = local_today()
    term = make.term(start=today - timedelta(days=30), end=today + timedelta(days=60), name="本学期")
    county = make.county(name="青山县")
    other_county = make.county(name="白水县")
    s0 = make.school("urban", county=county, name="实验小学")
    s1 = make.school("village", county=county, name="山口村小学")
    s2 = make.school("teaching_point", county=county, name="石桥教学点")
    s3 = make.school("village", county=other_county, name="白水村小")
    people = {
        "teacher": make.user("teacher", school=s0, username="t0", locale="en"),
        "principal": make.user("principal", school=s0, username="p0", locale="en"),
        "researcher": make.user("researcher", county=county, username="r1", name="王教研", locale="en"),
        "researcher2": make.user("researcher", county=county, username="r2", name="李教研", locale="en"),
        "bureau": make.user("bureau", username="bureau1", locale="en"),
        "county_bureau": make.user("bureau", county=other_county, username="bureau2", locale="en"),
    }
    make.contact_school(people["researcher"], s1)
    return {"db": db, "today": today, "term": term, "county": county, "s0": s0, "s1": s1, "s2": s2, "s3": s3,
            **people}


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# --- contact schools -----------------------------------------------------------------------------


def test_bureau_assigns_rural_schools_of_the_county(db, world):
    link = services.assign_contact_school(world["bureau"], world["researcher"], world["s2"])
    assert link.is_active
    with pytest.raises(Invalid, match="contact schools are rural"):
        services.assign_contact_school(world["bureau"], world["researcher"], world["s0"])
    with pytest.raises(Invalid, match="not in"):
        services.assign_contact_school(world["bureau"], world["researcher"], world["s3"])
    with pytest.raises(Conflict):
        services.assign_contact_school(world["bureau"], world["researcher"], world["s1"])
    with pytest.raises(Invalid):
        services.assign_contact_school(world["bureau"], world["teacher"], world["s2"])
    with pytest.raises(NotAllowed):
        services.assign_contact_school(world["researcher"], world["researcher"], world["s2"])
    with pytest.raises(NotAllowed):  # another county's bureau
        services.assign_contact_school(world["county_bureau"], world["researcher2"], world["s2"])


def test_a_removed_link_comes_back(db, world):
    services.remove_contact_school(world["bureau"], world["researcher"], world["s1"])
    assert services.contact_schools(world["researcher"].id) == []
    with pytest.raises(NotFound):
        services.remove_contact_school(world["bureau"], world["researcher"], world["s1"])
    services.assign_contact_school(world["bureau"], world["researcher"], world["s1"])
    assert count(db, ResearcherSchool) == 1
    assert [s.id for s in services.contact_schools(world["researcher"].id)] == [world["s1"].id]


# --- visits --------------------------------------------------------------------------------------


def test_researcher_logs_visits_to_contact_schools_only(db, world):
    visit = services.log_visit(world["researcher"], world["researcher"], world["s1"], world["today"], "guidance",
                               "听了两节课")
    assert visit.notes_html == "<p>听了两节课</p>"
    with pytest.raises(Invalid, match="contact schools only"):
        services.log_visit(world["researcher"], world["researcher"], world["s2"], world["today"])
    with pytest.raises(Invalid, match="future"):
        services.log_visit(world["researcher"], world["researcher"], world["s1"], world["today"] + timedelta(days=1))
    with pytest.raises(Invalid, match="2000"):
        services.log_visit(world["researcher"], world["researcher"], world["s1"], date(1999, 12, 31))
    with pytest.raises(NotAllowed):
        services.log_visit(world["researcher2"], world["researcher"], world["s1"], world["today"])
    db.session.rollback()
    assert count(db, SchoolVisit) == 0  # nothing was committed; the refused ones were never added


def test_only_the_researcher_or_the_bureau_changes_a_visit(db, make, world):
    visit = make.visit(world["researcher"], world["s1"], visited_on=world["today"])
    with pytest.raises(NotAllowed):
        services.update_visit(world["researcher2"], visit, school=world["s1"], visited_on=world["today"])
    services.update_visit(world["bureau"], visit, school=world["s1"], visited_on=world["today"], kind="training")
    assert visit.kind == "training"
    with pytest.raises(NotAllowed):
        services.delete_visit(world["county_bureau"], visit)
    services.delete_visit(world["researcher"], visit)
    assert count(db, SchoolVisit) == 0


# --- progress ------------------------------------------------------------------------------------


def test_progress_counts_visits_in_the_term_and_flags_who_is_behind(app, make, world):
    researcher, s1, s2, term = world["researcher"], world["s1"], world["s2"], world["term"]
    make.contact_school(researcher, s2)
    for i in range(5):
        make.visit(researcher, s1, visited_on=term.start_date + timedelta(days=i))
    for i in range(4):
        make.visit(researcher, s2, visited_on=term.start_date + timedelta(days=i))
    make.visit(researcher, s2, visited_on=term.start_date - timedelta(days=1))  # the term before
    make.visit(world["researcher2"], s2, visited_on=term.start_date)  # somebody else's
    p = services.progress([researcher.id], term)[researcher.id]
    assert {s.name: s.visits for s in p.schools} == {"山口村小学": 5, "石桥教学点": 4}
    assert p.behind and [s.name for s in p.schools_behind] == ["石桥教学点"]
    app.config["RESEARCHER_VISITS_PER_SEMESTER"] = 4
    p = services.progress([researcher.id], term)[researcher.id]
    assert not p.behind
    app.config["RESEARCHER_MIN_SCHOOLS"] = 3
    p = services.progress([researcher.id], term)[researcher.id]
    assert p.too_few_schools and p.behind


def test_a_researcher_with_no_schools_is_behind(world):
    p = services.progress([world["researcher2"].id], world["term"])[world["researcher2"].id]
    assert p.school_count == 0 and p.behind


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "principal"])
def test_school_people_may_not_open_visit_pages(login_as, client, world, role):
    login_as(world[role])
    for path in ("/visits", "/researchers", f"/researchers/{world['researcher'].id}", "/researchers/export.xlsx"):
        assert client.get(path).status_code == 403, path


def test_researcher_sees_their_progress_and_logs_a_visit(db, login_as, auth, world):
    login_as(world["researcher"])
    page = auth.client.get("/visits")
    assert page.status_code == 200 and "山口村小学" in page.text and "0 of 5 visits" in page.text
    response = auth.post("/visits", {"school": str(world["s1"].id), "visited_on": world["today"].isoformat(),
                                     "kind": "guidance", "notes": "<script>x</script>评课"}, csrf_from="/visits")
    assert response.status_code == 302
    assert "1 of 5 visits" in auth.client.get("/visits").text
    assert "<script>x" not in auth.client.get("/visits").text
    assert auth.client.get("/researchers").status_code == 403


def test_researcher_cannot_log_at_a_non_contact_school(db, login_as, auth, world):
    login_as(world["researcher"])
    response = auth.post("/visits", {"school": str(world["s2"].id), "visited_on": world["today"].isoformat(),
                                     "kind": "guidance"}, csrf_from="/visits")
    assert response.status_code == 422
    assert "contact schools only" in response.text
    assert count(db, SchoolVisit) == 0


def test_researcher_cannot_log_for_another_researcher(db, login_as, auth, world):
    login_as(world["researcher2"])
    response = auth.post("/visits", {"researcher_id": str(world["researcher"].id), "school": str(world["s1"].id),
                                     "visited_on": world["today"].isoformat(), "kind": "guidance"},
                         csrf_from="/visits")
    assert response.status_code == 403
    assert count(db, SchoolVisit) == 0


def test_researcher_changes_only_their_own_visits(db, make, login_as, auth, world):
    visit_id = make.visit(world["researcher"], world["s1"], visited_on=world["today"]).id
    login_as(world["researcher2"])
    assert auth.client.get(f"/visits/{visit_id}/edit").status_code == 403
    assert auth.post(f"/visits/{visit_id}/delete", csrf_from="/visits").status_code == 403
    auth.logout()
    login_as(world["researcher"])
    assert auth.client.get(f"/visits/{visit_id}/edit").status_code == 200
    response = auth.post(f"/visits/{visit_id}/edit", {"school": str(world["s1"].id),
                                                      "visited_on": (world["today"] + timedelta(days=3)).isoformat(),
                                                      "kind": "observation"}, csrf_from=f"/visits/{visit_id}/edit")
    assert response.status_code == 422 and "future" in response.text
    response = auth.post(f"/visits/{visit_id}/edit", {"school": str(world["s1"].id),
                                                      "visited_on": world["today"].isoformat(),
                                                      "kind": "observation"}, csrf_from=f"/visits/{visit_id}/edit")
    assert response.status_code == 302
    assert db.session.get(SchoolVisit, visit_id).kind == "observation"
    assert auth.post(f"/visits/{visit_id}/delete", csrf_from="/visits").status_code == 302
    assert count(db, SchoolVisit) == 0


def test_bureau_overview_and_researcher_page(db, make, login_as, auth, world):
    make.visit(world["researcher"], world["s1"], visited_on=world["today"])
    login_as(world["bureau"])
    assert auth.client.get("/visits").status_code == 302
    page = auth.client.get("/researchers")
    assert page.status_code == 200 and "王教研" in page.text and "李教研" in page.text and "Behind" in page.text
    assert auth.client.get(f"/researchers?term_id={world['term'].id}").status_code == 200
    assert auth.client.get("/researchers?term_id=99999").status_code == 404
    rid = world["researcher"].id
    page = auth.client.get(f"/researchers/{rid}")
    assert page.status_code == 200 and "1 of 5 visits" in page.text
    assert auth.client.get(f"/researchers/{world['teacher'].id}").status_code == 404
    response = auth.post(f"/researchers/{rid}/schools", {"school": str(world["s2"].id)}, csrf_from=f"/researchers/{rid}")
    assert response.status_code == 302
    response = auth.post(f"/researchers/{rid}/schools", {"school": str(world["s0"].id)}, csrf_from=f"/researchers/{rid}")
    assert response.status_code == 422 and "contact schools are rural" in response.text
    response = auth.post(f"/researchers/{rid}/schools/{world['s2'].id}/remove", csrf_from=f"/researchers/{rid}")
    assert response.status_code == 302
    assert [s.id for s in services.contact_schools(rid)] == [world["s1"].id]
    # the bureau logs a visit for the researcher
    response = auth.post("/visits", {"researcher_id": str(rid), "school": str(world["s1"].id),
                                     "visited_on": world["today"].isoformat(), "kind": "research"},
                         csrf_from=f"/researchers/{rid}")
    assert response.status_code == 302
    assert count(db, SchoolVisit) == 2


def test_county_bureau_sees_only_its_researchers(login_as, client, make, world):
    other = make.user("researcher", county=world["s3"].county, name="白水教研")
    login_as(world["county_bureau"])
    page = client.get("/researchers")
    assert "白水教研" in page.text and "王教研" not in page.text
    assert client.get(f"/researchers/{world['researcher'].id}").status_code == 403
    assert client.get(f"/researchers/{other.id}").status_code == 200


def test_pages_without_terms_show_a_message(db, login_as, client, world):
    db.session.delete(world["term"])
    db.session.commit()
    login_as(world["researcher"])
    page = client.get("/visits")
    assert page.status_code == 200 and "No terms are set up yet" in page.text


def test_researcher_export(make, login_as, client, world):
    make.user("researcher", county=world["county"], name="=cmd|' /C calc'!A0")
    login_as(world["bureau"])
    response = client.get("/researchers/export.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert "王教研" in names and "'=cmd|' /C calc'!A0" in names


def test_researchers_query_count_is_fixed(make, login_as, client, world, count_queries):
    login_as(world["bureau"])

    def researchers(n):
        for _i in range(n):
            r = make.user("researcher", county=world["county"])
            make.contact_school(r, world["s1"])
            make.visit(r, world["s1"], visited_on=world["today"])

    researchers(3)  # with the world's two: 5 rows
    with count_queries() as few:
        assert client.get("/researchers?per_page=100").status_code == 200
    researchers(35)
    with count_queries() as many:
        assert client.get("/researchers?per_page=100").status_code == 200
    assert len(many) == len(few)


def test_visits_page_query_count_is_fixed(make, login_as, client, world, count_queries):
    login_as(world["researcher"])

    def visits(n):
        for i in range(n):
            make.visit(world["researcher"], world["s1"], visited_on=world["today"] - timedelta(days=i))

    visits(5)
    with count_queries() as few:
        assert client.get("/visits?per_page=100").status_code == 200
    visits(35)
    with count_queries() as many:
        assert client.get("/visits?per_page=100").status_code == 200
    assert len(many) == len(few)
