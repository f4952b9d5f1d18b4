"""The iCalendar feed: parsed with the icalendar library, local times with TZID, cancellations kept."""

from __future__ import annotations

from datetime import time, timedelta

import icalendar
import pytest

from portal.core.timeutil import local_today
from portal.scheduling import services
from portal.scheduling.models import LiveSession
from portal.scheduling.recurrence import Slot


@pytest.fixture
def world(make, db):
    county = make.county()
    city, village = make.school("urban", county=county), make.school("village", county=county)
    teacher = make.user("teacher", school=city)
    assistant = make.user("teacher", school=village)
    start = local_today() + timedelta(days=1)
    live_class = services.schedule_live_class(
        make.user("bureau"), subject="art", grade=4, main_teacher=teacher, main_classroom=make.classroom(city),
        receiving=[(make.classroom(village), assistant)],
        slots=[Slot(d, time(14, 30), time(15, 10)) for d in range(1, 8)], first_date=start,
        last_date=start + timedelta(days=6))
    db.session.commit()
    return {"teacher": teacher, "assistant": assistant, "class": live_class, "start": start}


def parse(response) -> list:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert any(c.name == "VTIMEZONE" and str(c["TZID"]) == "Asia/Shanghai" for c in calendar.walk())
    return [c for c in calendar.walk() if c.name == "VEVENT"]


def test_the_feed_has_every_session_in_local_time(client, api_token, world):
    token = api_token(world["assistant"])
    events = parse(client.get(f"/api/v1/calendar/{world['assistant'].id}.ics?token={token}"))
    assert len(events) == 7
    first = events[0]["DTSTART"].dt
    assert (first.date(), first.hour, first.minute, str(first.tzinfo)) == (world["start"], 14, 30, "Asia/Shanghai")
    assert len({str(e["UID"]) for e in events}) == 7


def test_a_cancelled_session_stays_marked_cancelled_with_a_higher_sequence(client, api_token, db, world):
    session = db.session.query(LiveSession).order_by(LiveSession.starts_at).first()
    services.cancel_session(world["teacher"], session)
    db.session.commit()
    events = parse(client.get(f"/api/v1/calendar/{world['teacher'].id}.ics",
                              headers={"Authorization": f"Bearer {api_token(world['teacher'])}"}))
    assert [str(e["STATUS"]) for e in events].count("CANCELLED") == 1
    assert int(events[0]["SEQUENCE"]) == 1


def test_a_feed_fetched_again_shows_each_change(client, api_token, db, world):
    """The feed is kept between fetches (core/cache.kept): a cancellation, a school's new name and
    a new class are in the next one."""
    url = f"/api/v1/calendar/{world['assistant'].id}.ics?token={api_token(world['assistant'])}"
    assert [str(e["STATUS"]) for e in parse(client.get(url))].count("CANCELLED") == 0
    session = db.session.query(LiveSession).order_by(LiveSession.starts_at).first()
    services.cancel_session(world["teacher"], session)
    db.session.commit()
    assert [str(e["STATUS"]) for e in parse(client.get(url))].count("CANCELLED") == 1
    world["class"].main_classroom.school.name = "实验小学东校区"
    db.session.commit()
    assert all("实验小学东校区" in str(e["LOCATION"]) for e in parse(client.get(url)))
    live_class = world["class"]
    services.schedule_live_class(
        world["teacher"], subject="music", grade=4, main_teacher=world["teacher"],
        main_classroom=live_class.main_classroom, receiving=[(live_class.receiving[0].classroom, world["assistant"])],
        slots=[Slot(d, time(9, 0), time(9, 40)) for d in range(1, 8)], first_date=world["start"],
        last_date=world["start"] + timedelta(days=6))
    db.session.commit()
    assert len(parse(client.get(url))) == 14


def test_nobody_else_reads_a_feed(client, api_token, make, world):
    url = f"/api/v1/calendar/{world['teacher'].id}.ics"
    assert client.get(url).status_code == 401
    assert client.get(url + "?token=not-a-token").status_code == 401
    other = api_token(world["assistant"])
    assert client.get(f"{url}?token={other}").status_code == 404
    assert client.get("/api/v1/calendar/999999.ics?token=" + other).status_code == 404
    assert client.get(f"{url}?token={api_token('bureau')}").status_code == 200




def test_names_with_commas_and_long_lines_read_back_exactly(client, api_token, db, world):
    # Long Chinese names fold across lines (75 octets, never inside a character); commas,
    # semicolons and backslashes are escaped.
    school = world["class"].main_classroom.school
    school.name = "城关第一实验小学；东校区，" + "教学楼" * 12 + "\\北"
    world["teacher"].name = "欧阳,明;远"
    db.session.commit()
    events = parse(client.get(f"/api/v1/calendar/{world['assistant'].id}.ics?token={api_token(world['assistant'])}"))
    room = world["class"].main_classroom.name
    assert {str(e["LOCATION"]) for e in events} == {f"{school.name} {room}"}
    assert {str(e["DESCRIPTION"]) for e in events} == {"主讲教师：欧阳,明;远"}


def test_the_feed_writes_lines_as_the_standard_says():
    from portal.scheduling.feeds import _line, _text

    folded = _line("LOCATION", _text("校" * 40))
    lines = folded.split(b"\r\n")
    assert folded.endswith(b"\r\n") and all(len(line) <= 75 for line in lines)
    assert all(line.startswith(b" ") for line in lines[1:-1])
    assert b"".join(line.removeprefix(b" ") for line in lines).decode() == "LOCATION:" + "校" * 40
    assert _text("a,b;c\\d\r\ne") == "a\\,b\\;c\\\\d\\ne"
