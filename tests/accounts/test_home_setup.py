"""The bureau's set-up panel on the home page: what is still missing in its county."""

from __future__ import annotations

from datetime import time

import pytest

from portal.org.models import BellPeriod, BellSchedule


def setup_items(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return html[html.index("Set-up"):]


@pytest.fixture
def county(make):
    return make.county()


def test_the_panel_counts_the_county_schools_without_classes_or_bells(make, client, login_as, county):
    make.school("village", county=county)
    with_class = make.school("urban", county=county)
    make.classroom(with_class)
    make.school("village", county=make.county())  # another county's: not counted
    login_as(make.user("bureau", county=county, locale="en"))
    items = setup_items(client)
    assert "1 schools have no classes yet" in items
    assert "2 schools have no bell schedule yet" in items


def test_the_counts_kept_with_the_figures_follow_a_new_class_and_bell_schedule(make, db, client, login_as, county,
                                                                              cache_on):
    school = make.school("village", county=county)
    login_as(make.user("bureau", county=county, locale="en"))
    items = setup_items(client)
    assert "1 schools have no classes yet" in items and "1 schools have no bell schedule yet" in items
    schedule = BellSchedule(school_id=school.id, name="Default")
    schedule.periods.append(BellPeriod(number=1, start_time=time(8, 0), end_time=time(8, 40)))
    db.session.add(schedule)
    db.session.commit()
    items = setup_items(client)
    assert "1 schools have no classes yet" in items and "have no bell schedule yet" not in items
    make.classroom(school)
    assert "have no classes yet" not in setup_items(client)
