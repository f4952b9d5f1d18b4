"""Hardening: ids and dates in forms that cannot be stored, ids that name another county's partnership,
and ended partnerships."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.core.errors import Invalid
from portal.core.timeutil import local_today
from portal.partnerships import services
from portal.partnerships.models import Partnership, ResearcherSchool, SchoolVisit, TeacherExchange

HUGE = "99999999999999999999"


@pytest.fixture
def world(make):
    county, other = make.county(), make.county()
    urban, village = make.school("urban", county=county), make.school("village", county=county)
    far_urban, far_village = make.school("urban", county=other), make.school("village", county=other)
    return {
        "county": county, "urban": urban, "village": village,
        "teacher": make.user("teacher", school=urban),
        "bureau": make.user("bureau", county=county, locale="en"),
        "secret": make.partnership(lead=far_urban, members=[far_village], name="白水县秘密结对"),
        "researcher": make.user("researcher", county=county, locale="en"),
    }


def _exchange(world, partnership: str) -> dict:
    return {"username": world["teacher"].username, "kind": "rotation", "to_school": str(world["village"].id),
            "start_date": "2026-09-01", "partnership": partnership}


@pytest.mark.parametrize("partnership", [HUGE, "-3"])
def test_an_exchange_with_an_impossible_partnership_id_is_refused_not_a_500(auth, client, world, partnership):
    auth.login(world["bureau"].username)
    response = auth.post("/exchanges/new", _exchange(world, partnership), csrf_from="/exchanges/new")
    assert response.status_code == 422
    assert "Choose a partnership from the list" in response.get_data(as_text=True)


def test_an_exchange_form_does_not_tell_another_countys_partnership_names(auth, client, db, world):
    auth.login(world["bureau"].username)
    response = auth.post("/exchanges/new", _exchange(world, str(world["secret"].id)), csrf_from="/exchanges/new")
    assert response.status_code == 422
    assert "白水县秘密结对" not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TeacherExchange)) == 0


def test_an_exchange_edit_with_a_huge_partnership_id_is_refused(auth, client, make, world):
    exchange = make.exchange(world["teacher"], world["village"])
    auth.login(world["bureau"].username)
    path = f"/exchanges/{exchange.id}/edit"
    data = {k: v for k, v in _exchange(world, HUGE).items() if k != "username"}
    assert auth.post(path, data, csrf_from=path).status_code == 422


def test_a_visit_to_a_school_with_a_huge_id_is_refused_not_a_500(auth, client, make, db, world):
    make.contact_school(world["researcher"], world["village"])
    auth.login(world["researcher"].username)
    day = (local_today() - timedelta(days=1)).isoformat()
    response = auth.post("/visits", {"school": HUGE, "visited_on": day, "kind": "guidance"}, csrf_from="/visits")
    assert response.status_code == 422
    visit = make.visit(world["researcher"], world["village"], visited_on=local_today() - timedelta(days=2))
    path = f"/visits/{visit.id}/edit"
    assert auth.post(path, {"school": HUGE, "visited_on": day, "kind": "guidance"},
                     csrf_from=path).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(SchoolVisit)) == 1


def test_assigning_a_contact_school_with_a_huge_id_is_refused_not_a_500(auth, client, db, world):
    auth.login(world["bureau"].username)
    path = f"/researchers/{world['researcher'].id}"
    response = auth.post(f"{path}/schools", {"school": HUGE}, csrf_from=path)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(ResearcherSchool)) == 0


@pytest.mark.parametrize("year", ["9999", "0000", "1999"])
def test_a_log_filtered_by_a_year_without_dates_is_the_whole_log_not_a_500(auth, client, make, world, year):
    partnership = make.partnership(lead=world["urban"], members=[world["village"]])
    make.pairing_activity(partnership, title="送教下乡活动")
    auth.login(world["bureau"].username)
    response = client.get(f"/partnerships/{partnership.id}/log?year={year}")
    assert response.status_code == 200
    assert "送教下乡活动" in response.get_data(as_text=True)


@pytest.mark.parametrize("start, end, message", [
    ("0001-01-01", "", "The start date is not plausible"),
    ("2026-09-01", "9999-12-31", "The end date is not plausible"),
])
def test_a_partnership_in_an_impossible_year_is_refused(auth, client, db, world, start, end, message):
    # Once stored, year 1 broke every log page of the partnership (30 days before its start).
    auth.login(world["bureau"].username)
    response = auth.post("/partnerships/new", {
        "kind": "rural_school", "name": "新结对", "lead_school": str(world["urban"].id),
        "members": str(world["village"].id), "start_date": start, "end_date": end,
    }, csrf_from="/partnerships/new")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Partnership)) == 1  # the fixture's own


def test_a_partnership_cannot_be_ended_in_year_9999(auth, client, make, db, world):
    partnership = make.partnership(lead=world["urban"], members=[world["village"]])
    auth.login(world["bureau"].username)
    path = f"/partnerships/{partnership.id}"
    assert auth.post(f"{path}/end", {"end_date": "9999-12-31"}, csrf_from=path).status_code == 422
    db.session.refresh(partnership)
    assert partnership.end_date is None


def test_an_ended_partnership_takes_no_goals_for_years_after_it_ended(make, db, world, english):
    partnership = make.partnership(lead=world["urban"], members=[world["village"]], start=date(2024, 9, 1),
                                   end=date(2026, 7, 15))
    principal = make.user("principal", school=world["urban"])
    services.set_goals(principal, partnership, 2025, "总结")  # the last year it ran
    with pytest.raises(Invalid, match="after the partnership ended"):
        services.set_goals(principal, partnership, 2026, "新目标")
