"""Teacher exchanges: who records and sees placements, refused input saves nothing, the ratio per
county, the exchange rules lists, the export, fixed query counts."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.accounts.models import Notification
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.timeutil import local_today
from portal.partnerships import exchange_figures as figures
from portal.partnerships import exchanges as services
from portal.partnerships.models import TeacherExchange

# Service messages are read in English here (the default locale is Chinese).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(make, db):
    county = make.county(name="青山县")
    other_county = make.county(name="白水县")
    s0 = make.school("urban", county=county, name="实验小学")
    s1 = make.school("village", county=county, name="山口村小学")
    s2 = make.school("urban", county=other_county, name="白水一小")
    today = local_today()
    people = {
        "teacher": make.user("teacher", school=s0, username="zhang.wei", locale="en"),
        "principal0": make.user("principal", school=s0, username="p0", locale="en"),
        "principal1": make.user("principal", school=s1, username="p1", locale="en"),
        "principal2": make.user("principal", school=s2, username="p2", locale="en"),
        "researcher": make.user("researcher", county=county, username="r1", locale="en"),
        "bureau": make.user("bureau", username="bureau1", locale="en"),
        "county_bureau": make.user("bureau", county=other_county, username="bureau2", locale="en"),
    }
    return {"db": db, "county": county, "other_county": other_county, "s0": s0, "s1": s1, "s2": s2, "today": today, **people}


def count(db, model=TeacherExchange) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def record(w, **overrides):
    values = dict(user=w["teacher"], kind="rotation", to_school=w["s1"], start_date=w["today"] - timedelta(days=10),
                  end_date=w["today"] + timedelta(days=300))
    values.update(overrides)
    exchange = services.record_exchange(w["bureau"], **values)
    w["db"].session.commit()
    return exchange


def form(w, **overrides):
    data = {"username": "zhang.wei", "kind": "rotation", "to_school": str(w["s1"].id),
            "start_date": (w["today"] - timedelta(days=10)).isoformat(),
            "end_date": (w["today"] + timedelta(days=300)).isoformat(), "days_per_week": "", "partnership": "0",
            "notes": "=HYPERLINK(\"http://x\")"}
    data.update(overrides)
    return data


# --- services ------------------------------------------------------------------------------------


def test_bureau_records_a_placement_and_the_teacher_and_both_principals_are_told(db, world):
    ex = record(world)
    db.session.commit()
    assert ex.from_school_id == world["s0"].id and ex.to_school_id == world["s1"].id
    told = set(db.session.execute(select(Notification.user_id).where(Notification.kind == "exchange.recorded")).scalars())
    assert told == {world["teacher"].id, world["principal0"].id, world["principal1"].id}


@pytest.mark.parametrize("overrides, field", [
    ({"to_school": "s0"}, "to_school"),
    ({"end_date": "before"}, "end_date"),
    ({"kind": "travelling"}, "days_per_week"),
    ({"kind": "travelling", "days_per_week": 6}, "days_per_week"),
    ({"user": "researcher"}, "username"),
])
def test_refused_placements_save_nothing(db, world, overrides, field):
    values = dict(overrides)
    if values.get("to_school") == "s0":
        values["to_school"] = world["s0"]
    if values.get("end_date") == "before":
        values["end_date"] = world["today"] - timedelta(days=30)
    if values.get("user") == "researcher":
        values["user"] = world["researcher"]
    with pytest.raises(Invalid) as caught:
        record(world, **values)
    assert caught.value.field == field
    db.session.rollback()
    assert count(db) == 0


def test_a_school_cannot_exchange_with_itself_message(world):
    with pytest.raises(Invalid, match="cannot exchange with itself"):
        record(world, to_school=world["s0"])


def test_travelling_teacher_needs_days_per_week(make, world):
    ex = record(world, kind="travelling", days_per_week=2)
    assert ex.days_per_week == 2
    other = record(world, user=make.user("teacher", school=world["s0"]), kind="rotation", days_per_week=3)
    assert other.days_per_week is None  # only travelling teachers keep it


def test_overlapping_placement_is_a_conflict_naming_the_other(db, world):
    record(world)
    db.session.commit()
    with pytest.raises(Conflict, match="山口村小学"):
        record(world, to_school=world["s2"], start_date=world["today"] + timedelta(days=100), end_date=None)
    db.session.rollback()
    assert count(db) == 1
    # right after the first one ends is fine
    record(world, to_school=world["s2"], start_date=world["today"] + timedelta(days=301), end_date=None)


def test_county_bureau_records_only_placements_touching_its_county(db, world):
    with pytest.raises(NotAllowed):
        services.record_exchange(world["county_bureau"], user=world["teacher"], kind="rotation",
                                 to_school=world["s1"], start_date=world["today"], end_date=None)
    ex = services.record_exchange(world["county_bureau"], user=world["teacher"], kind="support",
                                  to_school=world["s2"], start_date=world["today"], end_date=None)
    assert ex.id


def test_only_the_bureau_records(world):
    with pytest.raises(NotAllowed):
        services.record_exchange(world["principal0"], user=world["teacher"], kind="rotation", to_school=world["s1"],
                                 start_date=world["today"], end_date=None)


def test_update_end_and_delete(db, world):
    ex = record(world)
    services.update_exchange(world["bureau"], ex, kind="support", to_school=world["s1"], start_date=ex.start_date,
                             end_date=None, notes="长期")
    assert ex.kind == "support" and ex.end_date is None
    with pytest.raises(Invalid):
        services.end_exchange(world["bureau"], ex, ex.start_date - timedelta(days=1))
    services.end_exchange(world["bureau"], ex, world["today"])
    assert ex.end_date == world["today"]
    services.delete_exchange(world["bureau"], ex)
    assert count(db) == 0


# --- the ratio -----------------------------------------------------------------------------------


def test_ratio_per_county_counts_current_non_shadowing_placements(db, make, world):
    county = make.county(name="小世界县")
    home = make.school("urban", county=county)
    away = make.school("village", county=county)
    teachers = [make.user("teacher", school=home, is_backbone=(i == 0)) for i in range(20)]
    today = world["today"]
    make.exchange(teachers[0], away, start=today - timedelta(days=5), end=today + timedelta(days=100))
    make.exchange(teachers[1], away, kind="travelling", start=today - timedelta(days=5), end=None, days_per_week=2)
    make.exchange(teachers[2], away, kind="shadowing", start=today - timedelta(days=5), end=None)  # training
    make.exchange(teachers[3], away, start=today - timedelta(days=400), end=today - timedelta(days=1))  # ended
    make.exchange(teachers[4], away, start=today + timedelta(days=1), end=None)  # not begun
    [row] = figures.exchange_ratios(county.id)
    assert (row.teachers, row.exchanged, row.backbone) == (20, 2, 1)
    assert row.percent == 10.0 and row.backbone_percent == 50.0
    assert row.meets_ratio and row.meets_backbone


def test_targets_are_settings(app, make, world):
    county = make.county()
    home = make.school("urban", county=county)
    away = make.school("village", county=county)
    teachers = [make.user("teacher", school=home) for i in range(10)]
    make.exchange(teachers[0], away, start=world["today"], end=None)
    [row] = figures.exchange_ratios(county.id)
    assert row.meets_ratio and not row.meets_backbone
    app.config["EXCHANGE_RATIO_TARGET"] = 15
    app.config["EXCHANGE_BACKBONE_TARGET"] = 0
    [row] = figures.exchange_ratios(county.id)
    assert not row.meets_ratio and row.meets_backbone


def test_an_ended_exchange_no_longer_counts(db, make, world):
    ex = record(world)
    db.session.commit()
    [row] = figures.exchange_ratios(world["county"].id)
    assert row.exchanged == 1
    services.end_exchange(world["bureau"], ex, world["today"] - timedelta(days=1))
    db.session.commit()
    [row] = figures.exchange_ratios(world["county"].id)
    assert row.exchanged == 0


# --- the rules lists -----------------------------------------------------------------------------


def test_shadowing_rule_lists_village_teachers_with_their_days(db, make, world):
    today = world["today"]
    done = make.user("teacher", school=world["s1"], username="done")
    partly = make.user("teacher", school=world["s1"], username="partly")
    make.user("teacher", school=world["s1"], username="none")
    make.exchange(done, world["s0"], kind="shadowing", start=today - timedelta(days=500), end=today - timedelta(days=300))
    make.exchange(done, world["s0"], kind="shadowing", start=today - timedelta(days=200), end=today - timedelta(days=36))
    make.exchange(partly, world["s0"], kind="shadowing", start=today - timedelta(days=9), end=today + timedelta(days=300))
    rows = {u.username: days for u, _s, _c, days in db.session.execute(figures.shadowing_statement(None))}
    assert rows == {"done": 201 + 165, "partly": 10, "none": 0}
    meets = [u.username for u, *_ in db.session.execute(figures.shadowing_statement(None, "meets"))]
    assert meets == ["done"]


def test_title_rule_counts_rural_or_weak_service(db, make, world):
    today = world["today"]
    weak = make.school("urban", county=world["county"], is_weak=True)
    rural = make.user("teacher", school=world["s0"], username="rural", title="first")
    weakling = make.user("teacher", school=world["s0"], username="weakling", title="second")
    make.user("teacher", school=world["s0"], username="senior", title="senior")  # not a candidate
    make.exchange(rural, world["s1"], kind="support", start=today - timedelta(days=400), end=today - timedelta(days=20))
    make.exchange(weakling, weak, kind="rotation", start=today - timedelta(days=800), end=today - timedelta(days=1))
    rows = {u.username: (r, wk) for u, _s, _c, r, wk in db.session.execute(figures.title_statement(None))}
    assert rows["rural"] == (381, 0) and rows["weakling"] == (0, 800)
    assert "senior" not in rows
    meets = {u.username for u, *_ in db.session.execute(figures.title_statement(None, "meets"))}
    assert meets == {"rural"}


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/exchanges", "/exchanges/new", "/exchanges/rules", "/exchanges/export.xlsx"])
def test_teacher_may_not_open_exchange_pages(login_as, client, world, path):
    login_as(world["teacher"])
    assert client.get(path).status_code == 403


def test_principal_sees_only_their_schools_placements(login_as, client, make, world):
    today = world["today"]
    record(world)
    outsider = make.user("teacher", school=world["s2"], name="外县老师")
    make.exchange(outsider, make.school("village", county=world["other_county"]), start=today, end=None)
    login_as(world["principal1"])
    page = client.get("/exchanges")
    assert page.status_code == 200
    assert "测试用户" in page.text or world["teacher"].name in page.text
    assert "外县老师" not in page.text
    assert "Exchange ratio" not in page.text
    assert client.get("/exchanges/rules").status_code == 403
    assert client.get("/exchanges/new").status_code == 403


def test_bureau_page_shows_ratio_and_placements(login_as, client, world):
    record(world)
    login_as(world["bureau"])
    page = client.get("/exchanges")
    assert page.status_code == 200
    assert "Exchange ratio" in page.text and "青山县" in page.text and "山口村小学" in page.text
    assert client.get("/exchanges?show=all&kind=rotation").status_code == 200
    assert client.get("/exchanges?kind=nope").status_code == 400


def test_county_researcher_sees_their_county_only(login_as, client, world):
    login_as(world["researcher"])
    assert client.get("/exchanges").status_code == 200
    assert client.get(f"/exchanges?county={world['other_county'].id}").status_code == 403
    assert client.get("/exchanges/rules?rule=title&status=not_yet").status_code == 200
    assert client.get("/exchanges/new").status_code == 403


def test_bureau_records_through_the_form(db, login_as, auth, world):
    login_as(world["bureau"])
    response = auth.post("/exchanges/new", form(world), csrf_from="/exchanges/new")
    assert response.status_code == 302, response.text[:2000]
    assert count(db) == 1


@pytest.mark.parametrize("overrides, status, message", [
    ({"to_school": "s0"}, 422, "cannot exchange with itself"),
    ({"end_date": "before"}, 422, "cannot be before the start date"),
    ({"username": "nobody"}, 404, "no account with the username"),
    ({"kind": "travelling"}, 422, "1 to 5 days a week"),
])
def test_form_refusals_show_the_message_and_save_nothing(db, login_as, auth, world, overrides, status, message):
    login_as(world["bureau"])
    data = form(world, **overrides)
    if overrides.get("to_school") == "s0":
        data["to_school"] = str(world["s0"].id)
    if overrides.get("end_date") == "before":
        data["end_date"] = (world["today"] - timedelta(days=30)).isoformat()
    response = auth.post("/exchanges/new", data, csrf_from="/exchanges/new")
    assert response.status_code == status
    assert message in response.text
    assert count(db) == 0


def test_overlap_through_the_form_is_409(db, login_as, auth, world):
    record(world)
    db.session.commit()
    login_as(world["bureau"])
    response = auth.post("/exchanges/new", form(world, to_school=str(world["s2"].id)), csrf_from="/exchanges/new")
    assert response.status_code == 409 and "山口村小学" in response.text
    assert count(db) == 1


def test_edit_and_delete_pages(db, login_as, auth, world):
    ex_id = record(world).id
    login_as(world["bureau"])
    assert auth.client.get(f"/exchanges/{ex_id}/edit").status_code == 200
    data = form(world)
    data.pop("username")
    data["end_date"] = world["today"].isoformat()
    response = auth.post(f"/exchanges/{ex_id}/edit", data, csrf_from=f"/exchanges/{ex_id}/edit")
    assert response.status_code == 302
    assert db.session.get(TeacherExchange, ex_id).end_date == world["today"]
    assert auth.post(f"/exchanges/{ex_id}/delete", csrf_from="/exchanges").status_code == 302
    assert count(db) == 0
    assert auth.client.get(f"/exchanges/{ex_id}/edit").status_code == 404


def test_county_bureau_cannot_change_another_countys_placement(db, login_as, auth, world):
    ex = record(world)
    db.session.commit()
    login_as(world["county_bureau"])
    assert auth.client.get(f"/exchanges/{ex.id}/edit").status_code == 403
    assert auth.post(f"/exchanges/{ex.id}/delete", csrf_from="/exchanges").status_code == 403
    assert count(db) == 1


def test_export_is_formula_safe(db, login_as, client, world):
    services.record_exchange(world["bureau"], user=world["teacher"], kind="rotation", to_school=world["s1"],
                             start_date=world["today"], end_date=None, notes="=1+1")
    db.session.commit()
    login_as(world["bureau"])
    response = client.get("/exchanges/export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    values = [c.value for row in book.worksheets[0].iter_rows() for c in row]
    assert "'=1+1" in values
    assert len(book.worksheets) == 2


def test_exchange_list_query_count_is_fixed(db, make, login_as, client, world, count_queries):
    login_as(world["bureau"])
    away = make.school("village", county=world["county"])

    def placements(n):
        for _i in range(n):
            teacher = make.user("teacher", school=world["s0"])
            make.exchange(teacher, away, start=world["today"], end=None)

    placements(5)
    with count_queries() as few:
        assert client.get("/exchanges?per_page=100").status_code == 200
    placements(35)
    with count_queries() as many:
        page = client.get("/exchanges?per_page=100")
    assert page.status_code == 200
    assert len(many) == len(few)


def test_rules_query_count_is_fixed(db, make, login_as, client, world, count_queries):
    login_as(world["bureau"])

    def teachers(n):
        for _i in range(n):
            teacher = make.user("teacher", school=world["s1"])
            make.exchange(teacher, world["s0"], kind="shadowing", start=world["today"] - timedelta(days=3), end=None)

    teachers(5)
    with count_queries() as few:
        assert client.get("/exchanges/rules?per_page=100").status_code == 200
    teachers(35)
    with count_queries() as many:
        assert client.get("/exchanges/rules?per_page=100").status_code == 200
    assert len(many) == len(few)


def test_the_kept_ratio_follows_a_new_placement_at_once(db, login_as, auth, client, world, cache_on):
    """The ratios are kept with the city's figures (the cache on, as in production): the placement
    just recorded through the form is counted on the next view of the list."""
    login_as(world["bureau"])

    def qingshan() -> list[str]:  # teachers, in exchange, backbone among them
        page = client.get("/exchanges").text
        row = page[page.index("青山县"):].split("</tr>")[0]
        return re.findall(r'<td class="num">(\d+)</td>', row)

    assert qingshan() == ["1", "0", "0"]
    assert auth.post("/exchanges/new", form(world), csrf_from="/exchanges/new").status_code == 302
    assert qingshan() == ["1", "1", "0"]
