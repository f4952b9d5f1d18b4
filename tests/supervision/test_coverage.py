"""Coverage of rural teachers and principals: the API, the page with its gap lists, the export."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from portal.accounts.models import User
from portal.communities import services
from portal.core.models import utcnow

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


@pytest.fixture
def world(make, db):
    """Two counties; in the first a teacher and a principal community led from an urban school."""
    a, b = make.county("东山县"), make.county("西水县")
    urban = make.school("urban", county=a, name="东山实验小学")
    village = make.school("village", county=a, name="东山石桥村小学")
    point = make.school("teaching_point", county=a, name="东山岭上教学点")
    far = make.school("village", county=b, name="西水河湾村小学")
    leader = make.user("teacher", school=urban, name="陈静", username="lead.teacher")
    head = make.user("principal", school=urban, name="张伟", username="lead.principal")
    teachers = make.community("teacher", leader=leader, county=a, name="东山英语名师工作室")
    principals = make.community("principal", leader=head, county=a, name="东山名校长工作室")
    return {
        "a": a, "b": b, "urban": urban, "village": village, "point": point, "far": far,
        "leader": leader, "head": head, "teachers": teachers, "principals": principals,
    }


@pytest.fixture
def bureau(make):
    return make.user("bureau", username="city.bureau", locale="en")  # city level: no county; English pages


def coverage(client, **query) -> dict:
    response = client.get("/api/v1/coverage", query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def gaps_page(client, **query) -> str:
    response = client.get("/supervision/coverage", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("cached", [False, True], ids=["cache-off", "cache-on"])
def test_numbers_change_when_a_rural_teacher_joins_or_leaves(world, make, db, client, login_as, bureau, request,
                                                             cached):
    if cached:  # as in production: the figures and the gap list are kept until a change commits
        request.getfixturevalue("cache_on")
    rural = make.user("teacher", school=world["village"], name="赵强", username="zhao.qiang", subjects=["english"])
    login_as(bureau)
    before = coverage(client)
    assert before["rural_teachers"] == {"total": 1, "covered": 0}
    assert "zhao.qiang" in gaps_page(client)

    services.add_member(bureau, world["teachers"], rural)
    db.session.commit()
    assert coverage(client)["rural_teachers"] == {"total": 1, "covered": 1}
    assert "zhao.qiang" not in gaps_page(client)

    services.leave(rural, world["teachers"])
    db.session.commit()
    assert coverage(client)["rural_teachers"] == {"total": 1, "covered": 0}
    page = gaps_page(client)
    assert "zhao.qiang" in page and "东山石桥村小学" in page


def test_a_pending_request_does_not_cover_until_approved(world, make, db, client, login_as, bureau):
    rural = make.user("teacher", school=world["point"], username="point.teacher")
    membership = services.ask_to_join(rural, world["teachers"], "想参加")
    db.session.commit()
    login_as(bureau)
    assert coverage(client)["rural_teachers"]["covered"] == 0
    services.decide_request(world["leader"], membership, approve=True)
    db.session.commit()
    assert coverage(client)["rural_teachers"]["covered"] == 1


def test_what_is_not_counted(world, make, db, client, login_as, bureau):
    counted = make.user("teacher", school=world["village"], username="counted")
    make.member(world["teachers"], counted)
    make.member(world["teachers"], make.user("teacher", school=world["urban"]))  # urban: not rural
    gone = make.user("teacher", school=world["village"], username="gone", active=False)
    make.member(world["teachers"], gone)
    closed_school = make.school("village", county=world["a"], is_active=False)
    make.member(world["teachers"], make.user("teacher", school=closed_school, username="closed.school"))
    login_as(bureau)
    body = coverage(client)
    assert body["rural_teachers"] == {"total": 1, "covered": 1}
    assert body["rural_schools"] == {"total": 3, "paired": 0}  # two in 东山县 (one closed), one in 西水县

    world["teachers"].is_active = False  # a closed community covers nobody
    db.session.commit()
    assert coverage(client)["rural_teachers"] == {"total": 1, "covered": 0}
    page = gaps_page(client)
    assert "counted" in page and "gone" not in page and "closed.school" not in page


def test_principals_are_covered_only_by_principal_communities(world, make, db, client, login_as, bureau):
    in_both = make.user("principal", school=world["village"], username="p.village")
    services.add_member(bureau, world["teachers"], in_both)  # a teacher community does not cover a principal
    db.session.commit()
    other = make.user("principal", school=world["point"], username="p.point")
    login_as(bureau)
    assert coverage(client)["rural_principals"] == {"total": 2, "covered": 0}
    services.add_member(bureau, world["principals"], in_both)
    db.session.commit()
    body = coverage(client)
    assert body["rural_principals"] == {"total": 2, "covered": 1}
    assert body["rural_teachers"] == {"total": 0, "covered": 0}
    page = gaps_page(client, gaps="principal")
    assert "p.point" in page and "p.village" not in page
    assert client.get("/supervision/coverage?gaps=nobody").status_code == 400
    assert other.id


def test_per_county_breakdown_and_county_filter(world, make, client, login_as, bureau):
    make.member(world["teachers"], make.user("teacher", school=world["village"]))
    make.user("teacher", school=world["far"])
    make.user("teacher", school=world["far"])
    login_as(bureau)
    body = coverage(client)
    assert body["rural_teachers"] == {"total": 3, "covered": 1}
    by_name = {c["name"]: c for c in body["counties"]}
    assert by_name["东山县"]["rural_teachers"] == {"total": 1, "covered": 1}
    assert by_name["西水县"]["rural_teachers"] == {"total": 2, "covered": 0}
    only_b = coverage(client, county=world["b"].id)
    assert only_b["rural_teachers"] == {"total": 2, "covered": 0}
    assert [c["id"] for c in only_b["counties"]] == [world["b"].id]
    page = gaps_page(client)
    assert "东山县" in page and "西水县" in page


def test_county_staff_see_only_their_county(world, make, client, login_as):
    make.user("teacher", school=world["village"])
    make.user("teacher", school=world["far"], username="far.teacher")
    login_as(make.user("researcher", county=world["a"]))
    body = coverage(client)
    assert body["rural_teachers"]["total"] == 1 and [c["id"] for c in body["counties"]] == [world["a"].id]
    assert coverage(client, county=world["a"].id)["rural_teachers"]["total"] == 1
    assert client.get(f"/api/v1/coverage?county={world['b'].id}").status_code == 403
    assert client.get(f"/supervision/coverage?county={world['b'].id}").status_code == 403
    assert client.get(f"/supervision/coverage/export.xlsx?county={world['b'].id}").status_code == 403
    assert "far.teacher" not in gaps_page(client)


@pytest.mark.parametrize("value, status", [("abc", 400), ("-1", 400), ("0", 400), ("1.5", 400),
                                           ("99999999999", 400), ("999999", 404)])
def test_bad_or_unknown_county(world, client, login_as, bureau, value, status):
    login_as(bureau)
    response = client.get("/api/v1/coverage", query_string={"county": value})
    assert response.status_code == status
    assert response.json["error"]["message"]
    assert client.get("/supervision/coverage", query_string={"county": value}).status_code == status


def test_who_may_see_coverage(world, make, client, login_as):
    assert client.get("/api/v1/coverage").status_code == 401
    page = client.get("/supervision/coverage")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.get("/supervision/coverage/export.xlsx").status_code == 302
    login_as(make.user("teacher", school=world["village"]))
    assert client.get("/api/v1/coverage").status_code == 403
    assert client.get("/api/v1/coverage?county=abc").status_code == 403  # the role is checked first
    assert client.get("/supervision/coverage").status_code == 403
    assert client.get("/supervision/coverage/export.xlsx").status_code == 403
    login_as(make.user("principal", school=world["far"]))
    assert client.get("/api/v1/coverage").status_code == 403
    assert client.get("/supervision/coverage").status_code == 403


def _add_uncovered(db, school, n: int, start: int) -> None:
    from tests.factories import _HASH

    db.session.add_all(
        User(username=f"gap{start + i}", name=f"乡村教师{start + i}", password_hash=_HASH, role="teacher",
             school_id=school.id, county_id=school.county_id, subjects=["math"])
        for i in range(n)
    )
    db.session.commit()


def test_query_count_does_not_grow_with_the_gaps(world, make, db, client, login_as, bureau, count_queries):
    _add_uncovered(db, world["village"], 10, 0)
    login_as(bureau)
    with count_queries() as few_api:
        client.get("/api/v1/coverage")
    with count_queries() as few_page:
        gaps_page(client)
    for i in range(19):
        _add_uncovered(db, make.school("village", county=world["a" if i % 2 else "b"]), 10, 100 + i * 10)
    with count_queries() as many_api:
        assert coverage(client)["rural_teachers"]["total"] == 200
    with count_queries() as many_page:
        page = gaps_page(client)
    assert len(many_api) == len(few_api)
    assert len(many_page) == len(few_page)
    assert "Page 1 of 4" in page and "gap0" in page


def test_export_lists_the_gaps_safely(world, make, db, client, login_as, bureau):
    make.user("teacher", school=world["village"], name="=HYPERLINK(\"http://x\")", username="formula",
              phone="+8613800000000", subjects=["math", "english"])
    make.user("principal", school=world["far"], name="李校长", username="far.head")
    make.member(world["teachers"], make.user("teacher", school=world["point"], username="covered.one"))
    login_as(bureau)
    response = client.get("/supervision/coverage/export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert utcnow().strftime("%Y") in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    summary, teachers, principals, _schools = workbook.worksheets
    teacher_rows = list(teachers.iter_rows(min_row=2, values_only=True))
    assert teacher_rows == [("东山县", "东山石桥村小学", "'=HYPERLINK(\"http://x\")", "formula", "'+8613800000000",
                             "Mathematics、English")]
    principal_rows = list(principals.iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in principal_rows] == ["far.head"]
    names = [row[0] for row in summary.iter_rows(min_row=2, values_only=True)]
    assert "东山县" in names and "西水县" in names and "Total" in names


def test_export_of_one_county(world, make, client, login_as, bureau):
    make.user("teacher", school=world["village"], username="east.gap")
    make.user("teacher", school=world["far"], username="west.gap")
    login_as(bureau)
    response = client.get(f"/supervision/coverage/export.xlsx?county={world['b'].id}")
    rows = list(load_workbook(io.BytesIO(response.data)).worksheets[1].iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in rows] == ["west.gap"]
