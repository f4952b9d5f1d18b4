"""The yearly health of partnerships: log entries by kind, people exchanged, researchers' visits,
goals and status per partnership; filters, scope, the export and a fixed query count."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from portal.core.timeutil import local_today, school_year_of
from portal.partnerships.models import PartnershipGoal

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


def today() -> date:
    return local_today()


def year_start() -> date:
    return date(school_year_of(today()), 9, 1)


def last_year_day() -> date:
    """A day of last school year, more than 90 days ago."""
    return min(today() - timedelta(days=120), year_start() - timedelta(days=10))


@pytest.fixture
def world(make, db):
    a, b = make.county("东山县"), make.county("西水县")
    urban = make.school("urban", county=a, name="东山实验小学")
    village = make.school("village", county=a, name="东山山口村小学")
    town = make.school("township", county=a, name="东山青石镇中心小学")
    point = make.school("teaching_point", county=a, name="东山云台教学点")
    far_urban = make.school("urban", county=b, name="西水实验小学")
    far = make.school("village", county=b, name="西水河湾村小学")
    started = today() - timedelta(days=400)
    pairing = make.partnership("rural_school", lead=urban, members=[village], start=started, name="实验—山口结对")
    cluster = make.partnership("cluster", lead=town, members=[village, point], start=started, name="青石片区")
    western = make.partnership("rural_school", lead=far_urban, members=[far], start=started, name="西水结对")
    # This year: three entries of two kinds, goals, one exchange, two visits; last year: one of each.
    make.pairing_activity(pairing, kind="send_lessons", happened_on=today())
    make.pairing_activity(pairing, kind="send_lessons", happened_on=today())
    make.pairing_activity(western, kind="visit", happened_on=today(), title="互访")
    make.pairing_activity(pairing, kind="shadowing", happened_on=today(), title="跟岗学习")
    make.pairing_activity(pairing, kind="joint_research", happened_on=last_year_day(), title="联合教研")
    db.session.add(PartnershipGoal(partnership_id=pairing.id, school_year=school_year_of(today()),
                                   goals_html="<p>每月送教一次</p>"))
    db.session.add(PartnershipGoal(partnership_id=western.id, school_year=school_year_of(today()), goals_html=""))
    db.session.commit()
    teacher = make.user("teacher", school=urban)
    make.exchange(teacher, village, start=year_start(), end=None, partnership_id=pairing.id)
    make.exchange(teacher, village, start=year_start() - timedelta(days=400), end=year_start() - timedelta(days=30),
                  partnership_id=pairing.id)
    make.exchange(make.user("teacher", school=urban), village, start=year_start() - timedelta(days=400),
                  end=year_start() - timedelta(days=30), partnership_id=pairing.id)
    researcher = make.user("researcher", county=a)
    make.visit(researcher, village, visited_on=today())
    make.visit(researcher, urban, visited_on=today())
    make.visit(researcher, village, visited_on=last_year_day())
    # The cluster: an old entry only (inactive), no goals; it shares 山口村小学, so its visits count too.
    make.pairing_activity(cluster, kind="joint_research", happened_on=last_year_day(), title="片区教研")
    return {"a": a, "b": b, "urban": urban, "village": village, "town": town, "point": point, "pairing": pairing,
            "cluster": cluster, "western": western}


@pytest.fixture
def bureau(make):
    return make.user("bureau", username="city.bureau", locale="en")


def page(client, **query) -> str:
    response = client.get("/supervision/partnerships", query_string=query)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def row_of(html: str, name: str) -> str:
    start = html.index(name)
    return html[start: html.index("</tr>", start)]


def test_the_years_numbers_per_partnership(world, client, login_as, bureau):
    login_as(bureau)
    html = page(client)
    row = row_of(html, "实验—山口结对")
    assert "<strong>3</strong>" in row
    assert "Sending lessons to the countryside 2" in row and "Shadow placement 1" in row
    assert "Joint teaching research" not in row  # last year's
    cells = [c.split("</td>")[0].strip() for c in row.split('<td class="num">')[1:]]
    assert cells == ["1", "1", "2"]  # members, people exchanged this year, visits (village and lead school)
    assert "Written" in row and "OK" in row
    cluster = row_of(html, "青石片区")
    assert "Inactive" in cluster and "No goals" in cluster
    assert f'href="/partnerships/{world["pairing"].id}"' in html
    assert "西水结对" in html


def test_last_year(world, client, login_as, bureau):
    login_as(bureau)
    html = page(client, year=school_year_of(last_year_day()))
    row = row_of(html, "实验—山口结对")
    assert "Joint teaching research 1" in row and "Sending lessons" not in row
    cells = [c.split("</td>")[0].strip() for c in row.split('<td class="num">')[1:]]
    assert cells[1:] == ["2", "1"]  # two teachers exchanged, one visit
    assert "No goals" in row


def test_a_new_partnership_is_not_inactive_and_ended_ones_drop_out(world, make, client, login_as, bureau):
    make.partnership("multi", lead=world["urban"], members=[world["town"]], start=today() - timedelta(days=10),
                     name="新结对")
    make.partnership("multi", lead=world["urban"], members=[world["town"]], start=year_start() - timedelta(days=500),
                     end=year_start() - timedelta(days=1), name="已结束的结对")
    login_as(bureau)
    html = page(client)
    row = row_of(html, "新结对")
    assert "No goals" in row and "Inactive" not in row
    assert "已结束的结对" not in html
    assert "已结束的结对" in page(client, year=school_year_of(today()) - 1)


def test_filters(world, client, login_as, bureau):
    login_as(bureau)
    problems = page(client, problems="1")
    assert "青石片区" in problems and "实验—山口结对" not in problems and "西水结对" not in problems
    clusters = page(client, kind="cluster")
    assert "青石片区" in clusters and "实验—山口结对" not in clusters
    west = page(client, county=world["b"].id)
    assert "西水结对" in west and "青石片区" not in west
    for bad in ({"year": "abc"}, {"year": "1999"}, {"kind": "nope"}, {"problems": "yes"}, {"county": "x"}):
        assert client.get("/supervision/partnerships", query_string=bad).status_code == 400, bad
    assert client.get("/supervision/partnerships?county=999999").status_code == 404


def test_who_may_see_it(world, make, client, login_as):
    assert client.get("/supervision/partnerships").status_code == 302
    assert client.get("/supervision/partnerships/export.xlsx").status_code == 302
    for role in ("teacher", "principal"):
        login_as(make.user(role, school=world["urban"]))
        assert client.get("/supervision/partnerships").status_code == 403
        assert client.get("/supervision/partnerships/export.xlsx").status_code == 403
    login_as(make.user("researcher", county=world["b"], locale="en"))
    html = page(client)
    assert "西水结对" in html and "青石片区" not in html
    assert client.get(f"/supervision/partnerships?county={world['a'].id}").status_code == 403
    assert client.get(f"/supervision/partnerships/export.xlsx?county={world['a'].id}").status_code == 403


def test_export(world, make, client, login_as, bureau):
    make.partnership("multi", lead=world["urban"], members=[world["town"]], start=today() - timedelta(days=10),
                     name="=1+1")
    login_as(bureau)
    response = client.get("/supervision/partnerships/export.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"实验—山口结对", "青石片区", "西水结对", "'=1+1"}
    pairing = rows["实验—山口结对"]
    assert pairing["Log entries"] == 3 and pairing["Sending lessons to the countryside"] == 2
    assert pairing["Shadow placement"] == 1 and pairing["Joint teaching research"] == 0
    assert pairing["People exchanged"] == 1 and pairing["Researcher visits"] == 2
    assert pairing["Goals written"] == "Yes" and pairing["Status"] == "OK"
    assert rows["青石片区"]["Status"] == "Inactive、No goals"
    only = client.get("/supervision/partnerships/export.xlsx?problems=1")
    names = [r[0] for r in load_workbook(io.BytesIO(only.data)).worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["青石片区", "'=1+1"])


def _more(make, world, n: int) -> None:
    for _ in range(n):
        village = make.school("village", county=world["a"])
        p = make.partnership("rural_school", lead=world["urban"], members=[village],
                             start=today() - timedelta(days=30))
        make.pairing_activity(p, happened_on=today())
        make.visit(make.user("researcher", county=world["a"]), village, visited_on=today())
        make.exchange(make.user("teacher", school=world["urban"]), village, start=year_start(), end=None,
                      partnership_id=p.id)


def test_query_count_does_not_grow_with_partnerships(world, make, client, login_as, bureau, count_queries):
    _more(make, world, 2)
    login_as(bureau)
    with count_queries() as few:
        page(client)
    with count_queries() as few_export:
        client.get("/supervision/partnerships/export.xlsx")
    _more(make, world, 45)
    with count_queries() as many:
        html = page(client)
    with count_queries() as many_export:
        response = client.get("/supervision/partnerships/export.xlsx")
    assert len(many) == len(few)
    assert len(many_export) == len(few_export)
    assert "Page 1 of 2" in html
    assert load_workbook(io.BytesIO(response.data)).worksheets[0].max_row == 1 + 50


def test_a_kept_page_shows_new_log_entries_and_partnerships(world, make, client, login_as, bureau, cache_on,
                                                            count_queries):
    """Which partnerships a page lists is kept like the dashboard's lists (core/cache.py); their log
    entries and goals, which that cache does not watch, are read on every request."""
    login_as(bureau)
    assert "Inactive" in row_of(page(client), "青石片区")
    with count_queries() as kept:
        page(client)
    cache_on.clear()
    with count_queries() as fresh:
        page(client)
    assert len(kept) < len(fresh)

    make.pairing_activity(world["cluster"], kind="joint_research", happened_on=today(), title="片区教研")
    cluster = row_of(page(client), "青石片区")
    assert "Inactive" not in cluster and "No goals" in cluster and "<strong>1</strong>" in cluster
    make.partnership("multi", lead=world["urban"], members=[world["town"]], start=today(), name="新结对")
    assert "新结对" in page(client) and "新结对" in page(client, problems="1")  # no goals yet
