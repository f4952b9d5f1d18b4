"""Coverage of rural schools: paired with an urban school directly, through an education group
or through a cluster whose centre is paired; the API numbers, the gap list and its export."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from portal.core.timeutil import local_today

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


@pytest.fixture
def world(make):
    """Two counties. In 东山县: two urban schools, a township centre school and its villages."""
    a, b = make.county("东山县"), make.county("西水县")
    return {
        "a": a, "b": b,
        "urban": make.school("urban", county=a, name="东山实验小学"),
        "urban2": make.school("urban", county=a, name="东山第一中学", stage="junior"),
        "town": make.school("township", county=a, name="东山青石镇中心小学"),
        "village": make.school("village", county=a, name="东山山口村小学", is_weak=True, student_count=96),
        "village2": make.school("village", county=a, name="东山石桥村小学"),
        "point": make.school("teaching_point", county=a, name="东山云台教学点", student_count=12),
        "far": make.school("village", county=b, name="西水河湾村小学"),
        "far_urban": make.school("urban", county=b, name="西水实验小学"),
    }


@pytest.fixture
def bureau(make):
    return make.user("bureau", username="city.bureau", locale="en")


def schools(client, **query) -> dict:
    response = client.get("/api/v1/coverage", query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def gap_page(client, **query) -> str:
    response = client.get("/supervision/coverage", query_string={"gaps": "school", **query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def ago(days: int):
    return local_today() - timedelta(days=days)


def test_a_direct_pairing_pairs_its_rural_school(world, make, client, login_as, bureau):
    login_as(bureau)
    assert schools(client)["rural_schools"] == {"total": 5, "paired": 0}
    assert "东山山口村小学" in gap_page(client)
    make.partnership("rural_school", lead=world["urban"], members=[world["village"]], start=ago(30))
    body = schools(client)
    assert body["rural_schools"] == {"total": 5, "paired": 1}
    by_name = {c["name"]: c["rural_schools"] for c in body["counties"]}
    assert by_name == {"东山县": {"total": 4, "paired": 1}, "西水县": {"total": 1, "paired": 0}}
    page = gap_page(client)
    assert "东山山口村小学" not in page and "东山石桥村小学" in page and "西水河湾村小学" in page
    assert "Rural schools with no urban partner (4)" in page
    assert "Pairings are not recorded yet" not in page


def test_a_group_led_by_an_urban_school_pairs_its_members(world, make, client, login_as, bureau):
    make.partnership("group", lead=world["urban2"], members=[world["town"], world["village2"]], start=ago(10))
    login_as(bureau)
    assert schools(client)["rural_schools"]["paired"] == 2
    page = gap_page(client)
    assert "东山青石镇中心小学" not in page and "东山石桥村小学" not in page and "东山山口村小学" in page


def test_a_cluster_is_paired_through_its_centre_only_when_the_centre_is(world, make, db, client, login_as, bureau):
    make.partnership("cluster", lead=world["town"], members=[world["village2"], world["point"]], start=ago(60))
    login_as(bureau)
    # The centre has no urban partner: nobody in the cluster is paired, but they are in a partnership.
    assert schools(client)["rural_schools"]["paired"] == 0
    page = gap_page(client)
    assert "东山云台教学点" in page and "Only with rural schools" in page
    centre = make.partnership("multi", lead=world["urban"], members=[world["town"]], start=ago(60))
    assert schools(client)["rural_schools"]["paired"] == 3  # the centre, and through it its village and point
    page = gap_page(client)
    assert "东山云台教学点" not in page and "东山石桥村小学" not in page and "东山山口村小学" in page
    centre.end_date = ago(1)
    db.session.commit()
    assert schools(client)["rural_schools"]["paired"] == 0


def test_dates_decide_whether_a_pairing_counts(world, make, db, client, login_as, bureau):
    pairing = make.partnership("rural_school", lead=world["urban"], members=[world["village"]], start=ago(400),
                               end=ago(1))
    login_as(bureau)
    assert schools(client)["rural_schools"]["paired"] == 0  # ended yesterday
    pairing.end_date = local_today()
    db.session.commit()
    assert schools(client)["rural_schools"]["paired"] == 1  # the last day still counts
    pairing.start_date, pairing.end_date = local_today() + timedelta(days=1), None
    db.session.commit()
    assert schools(client)["rural_schools"]["paired"] == 0  # not started yet
    assert "东山山口村小学" in gap_page(client)


def test_deactivated_schools_do_not_count(world, make, db, client, login_as, bureau):
    make.partnership("rural_school", lead=world["urban"], members=[world["village"], world["village2"]],
                     start=ago(30))
    login_as(bureau)
    assert schools(client)["rural_schools"] == {"total": 5, "paired": 2}
    world["village2"].is_active = False
    db.session.commit()
    assert schools(client)["rural_schools"] == {"total": 4, "paired": 1}
    world["urban"].is_active = False  # a closed lead school pairs nobody
    db.session.commit()
    assert schools(client)["rural_schools"] == {"total": 4, "paired": 0}
    page = gap_page(client)
    assert "东山山口村小学" in page and "东山石桥村小学" not in page


def test_the_gap_list_shows_the_school_and_links_to_it(world, make, client, login_as, bureau):
    login_as(bureau)
    page = gap_page(client, county=world["a"].id)
    assert f'href="/schools/{world["village"].id}"' in page
    row = page[page.index("东山山口村小学"):]
    row = row[: row.index("</tr>")]
    assert "Weak" in row and "Village school" in row and "Primary" in row and ">96<" in row and "None" in row
    assert "西水河湾村小学" not in page


def test_county_staff_see_their_county_only(world, make, client, login_as):
    make.partnership("rural_school", lead=world["far_urban"], members=[world["far"]], start=ago(5))
    login_as(make.user("researcher", county=world["a"], locale="en"))
    body = schools(client)
    assert body["rural_schools"] == {"total": 4, "paired": 0}
    page = gap_page(client)
    assert "东山山口村小学" in page and "西水河湾村小学" not in page
    assert client.get(f"/supervision/coverage?gaps=school&county={world['b'].id}").status_code == 403
    login_as(make.user("bureau", county=world["b"], locale="en"))
    assert schools(client)["rural_schools"] == {"total": 1, "paired": 1}
    assert "Every rural school here is paired" in gap_page(client)


def test_the_export_has_a_sheet_of_unpaired_schools(world, make, client, login_as, bureau):
    make.school("village", county=world["a"], name="=cmd|' /C calc'!A0")
    make.partnership("cluster", lead=world["town"], members=[world["point"]], start=ago(5))
    make.partnership("rural_school", lead=world["urban"], members=[world["village"]], start=ago(5))
    login_as(bureau)
    response = client.get("/supervision/coverage/export.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    summary, sheet = workbook.worksheets[0], workbook.worksheets[-1]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["'=cmd|' /C calc'!A0", "东山云台教学点", "东山石桥村小学", "东山青石镇中心小学",
                                    "西水河湾村小学"]
    point = next(r for r in rows if r[1] == "东山云台教学点")
    assert point == ("东山县", "东山云台教学点", "Teaching point", "Primary", "No", 12, "Yes")
    totals = next(r for r in summary.iter_rows(min_row=2, values_only=True) if r[0] == "Total")
    assert totals[7:10] == (6, 1, 16)
    one = client.get(f"/supervision/coverage/export.xlsx?county={world['b'].id}")
    rows = list(load_workbook(io.BytesIO(one.data)).worksheets[-1].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["西水河湾村小学"]


def _partnerships(make, world, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        village = make.school("village", county=world["a"], name=f"东山村小{i:03d}")
        town = make.school("township", county=world["a"], name=f"东山镇校{i:03d}")
        make.partnership("group" if i % 2 else "rural_school", lead=world["urban"], members=[village, town],
                         start=ago(20))
        make.partnership("cluster", lead=town, members=[make.school("teaching_point", county=world["a"])],
                         start=ago(20))
        make.school("village", county=world["b"], name=f"西水村小{i:03d}")  # unpaired


def test_query_count_does_not_grow_with_partnerships(world, make, client, login_as, bureau, count_queries):
    _partnerships(make, world, 5)
    login_as(bureau)
    with count_queries() as few_api:
        schools(client)
    with count_queries() as few_page:
        gap_page(client)
    _partnerships(make, world, 45, first=5)
    with count_queries() as many_api:
        body = schools(client)
    with count_queries() as many_page:
        page = gap_page(client)
    assert body["rural_schools"] == {"total": 5 + 4 * 50, "paired": 3 * 50}
    assert len(many_api) == len(few_api)
    assert len(many_page) == len(few_page)
    assert "西水村小000" in page and "Page 1 of 2" in page


def test_an_unknown_gap_list_is_refused(world, client, login_as, bureau):
    login_as(bureau)
    assert client.get("/supervision/coverage?gaps=schools").status_code == 400
