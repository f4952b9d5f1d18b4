"""The pages of dual-teacher classes: create (a clash shown, its dates skipped), the class and session
pages, changing the series, attendance, resources, and who may open them."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from portal.core.timeutil import to_local
from portal.resources.models import LiveClassResource
from portal.scheduling import series
from portal.scheduling.models import LiveClass, LiveSession, SessionAttendance
from portal.scheduling.recurrence import Slot

from .live_world import next_monday, schedule, sessions_of


def form(w, **overrides) -> dict:
    first = next_monday()
    data = {"subject": "english", "grade": "3", "title": "三年级英语", "main_teacher": str(w["teacher"].id),
            "main_classroom": str(w["main_room"].id),
            "receiving-0-classroom": str(w["village_room"].id), "receiving-0-assistant": str(w["assistant"].id),
            "receiving-1-classroom": str(w["village2_room"].id), "receiving-1-assistant": str(w["assistant2"].id),
            "slots-0-weekday": "1", "slots-0-start": "09:00", "slots-0-end": "09:40", "term": "0",
            "first_date": first.isoformat(), "last_date": (first + timedelta(days=20)).isoformat()}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def switch(auth, user):
    if auth.client.get("/").status_code == 200:
        auth.logout()
    assert auth.login(user.username).status_code == 302


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_teacher_finds_the_classes_in_the_menu_and_creates_one(client, auth, db, lw):
    switch(auth, lw["teacher"])
    home = text(client.get("/"))
    assert 'href="/live-classes"' in home
    page = client.get("/live-classes/new")
    assert page.status_code == 200 and "山口村小学" in text(page) and "赵强" in text(page)
    response = auth.post("/live-classes/new", form(lw), csrf_from="/live-classes/new")
    assert response.status_code == 302, text(response)[:2000]
    live_class = db.session.query(LiveClass).one()
    assert response.headers["Location"].endswith(f"/live-classes/{live_class.id}")
    assert [r.classroom_id for r in live_class.receiving] == [lw["village_room"].id, lw["village2_room"].id]
    assert len(sessions_of(db, live_class)) == 3
    page = text(client.get(f"/live-classes/{live_class.id}"))
    assert "石桥村小学 三年级" in page and "何敏" in page
    listing = text(client.get("/live-classes"))
    assert f"/live-classes/{live_class.id}" in listing


def test_a_clash_is_shown_and_its_dates_can_be_skipped(client, auth, db, lw):
    other = schedule(lw, teacher="teacher2", room="main_room2", receiving=(("village2_room", "assistant2"),),
                     first=next_monday(2), weeks=1)
    db.session.commit()
    switch(auth, lw["teacher"])
    response = auth.post("/live-classes/new", form(lw), csrf_from="/live-classes/new")
    assert response.status_code == 409
    page = text(response)
    assert 'id="clashes"' in page and "石桥村小学 三年级" in page and "何敏" in page
    assert next_monday(2).isoformat() in page and f"/live-classes/{other.id}" in page
    assert 'name="skip_clashes" value="y"' in page
    assert db.session.query(LiveClass).count() == 1  # nothing saved
    response = auth.post("/live-classes/new", form(lw, skip_clashes="y"), csrf_from="/live-classes/new")
    assert response.status_code == 302
    created = db.session.query(LiveClass).filter(LiveClass.id != other.id).one()
    days = [to_local(s.starts_at).date() for s in sessions_of(db, created)]
    assert days == [next_monday(1), next_monday(3)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slots-0-end": "08:00"}, "must end after it starts"),
        ({"slots-0-start": "25:00"}, "like 08:30"),
        ({"first_date": "2026-02-30"}, "Not a valid date"),
        ({"slots-0-weekday": "0"}, "weekday"),
        ({"receiving-1-assistant": "0"}, "both the receiving classroom and its assistant"),
        ({"main_teacher": str(10**8)}, "main teacher"),
        ({"subject": "cooking"}, "Not a valid choice"),
    ],
)
def test_bad_input_on_the_page_is_refused_clearly(client, auth, db, lw, change, message):
    switch(auth, lw["teacher"])
    response = auth.post("/live-classes/new", form(lw, **change), csrf_from="/live-classes/new")
    assert 400 <= response.status_code < 500
    assert message in text(response)
    assert 'value="三年级英语"' in text(response)  # what was typed is kept
    assert db.session.query(LiveSession).count() == 0


def test_a_teacher_schedules_only_their_own_class_from_the_page(client, auth, db, lw):
    switch(auth, lw["teacher"])
    response = auth.post("/live-classes/new", form(lw, main_teacher=str(lw["teacher2"].id)),
                         csrf_from="/live-classes/new")
    assert response.status_code == 403 and db.session.query(LiveClass).count() == 0
    switch(auth, lw["researcher"])
    assert client.get("/live-classes/new").status_code == 403


def test_only_the_people_concerned_and_their_county_open_a_class(client, auth, db, lw):
    live_class = schedule(lw, weeks=1)
    db.session.commit()
    session = sessions_of(db, live_class)[0]
    for who, status in [("other_teacher", 404), ("other_principal", 404), ("village_teacher", 404),
                        ("teacher", 200), ("assistant", 200), ("village_principal", 200), ("researcher", 200),
                        ("county_bureau", 200)]:
        switch(auth, lw[who])
        assert client.get(f"/live-classes/{live_class.id}").status_code == status, who
        assert client.get(f"/live-sessions/{session.id}").status_code == status, who
        listed = f"/live-classes/{live_class.id}" in text(client.get("/live-classes"))
        assert listed == (status == 200), who
    assert client.get("/live-classes/999999").status_code == 404


def test_the_class_page_changes_the_series_from_a_date(client, auth, db, lw):
    live_class = schedule(lw, weeks=3)
    db.session.commit()
    switch(auth, lw["teacher"])
    url = f"/live-classes/{live_class.id}/change"
    page = text(client.get(url))
    assert 'value="09:00"' in page and 'name="from_date"' in page and "赵强" in page
    data = {"from_date": next_monday(2).isoformat(), "last_date": live_class.last_date.isoformat(),
            "main_teacher": str(lw["teacher"].id), "main_classroom": str(lw["main_room"].id),
            "receiving-0-classroom": str(lw["village_room"].id), "receiving-0-assistant": str(lw["assistant"].id),
            "slots-0-weekday": "1", "slots-0-start": "10:00", "slots-0-end": "10:40"}
    response = auth.post(url, data, csrf_from=url)
    assert response.status_code == 302, text(response)[:3000]
    times = [to_local(s.starts_at).strftime("%H:%M") for s in sessions_of(db, live_class)]
    assert times == ["09:00", "10:00", "10:00"]
    # A clash on the change is shown, nothing changes.
    schedule(lw, teacher="teacher", room="main_room2", receiving=(("point_room", "assistant3"),),
             slots=(Slot(1, time(11, 0), time(11, 40)),), first=next_monday(3), weeks=1)
    db.session.commit()
    response = auth.post(url, dict(data, **{"slots-0-start": "11:00", "slots-0-end": "11:40"}), csrf_from=url)
    assert response.status_code == 409 and 'id="clashes"' in text(response)
    response = auth.post(url, dict(data, **{"slots-0-start": "11:00", "slots-0-end": "23:61"}), csrf_from=url)
    assert response.status_code in (400, 422) and "like 08:30" in text(response)
    times = [to_local(s.starts_at).strftime("%H:%M") for s in sessions_of(db, live_class)]
    assert times == ["09:00", "10:00", "10:00"]
    switch(auth, lw["assistant"])
    assert client.get(url).status_code == 403


def test_cancel_move_and_re_add_from_the_pages(client, auth, db, lw):
    live_class = schedule(lw, weeks=2)
    schedule(lw, teacher="teacher", room="main_room2", receiving=(("point_room", "assistant3"),),
             slots=(Slot(3, time(9, 0), time(9, 40)),), first=next_monday(), weeks=1)  # the teacher's other class
    db.session.commit()
    first, second = sessions_of(db, live_class)
    switch(auth, lw["teacher"])
    page = f"/live-classes/{live_class.id}"
    assert auth.post(f"/live-sessions/{first.id}/cancel", {"back": "class"}, csrf_from=page).status_code == 302
    assert db.session.get(LiveSession, first.id).status == "cancelled"
    assert auth.post(f"/live-sessions/{first.id}/restore", {}, csrf_from=page).status_code == 302
    assert db.session.get(LiveSession, first.id).status == "scheduled"
    wednesday = (next_monday() + timedelta(days=2)).isoformat()
    response = auth.post(f"/live-sessions/{second.id}/move", {"day": wednesday, "start_time": "09:20",
                                                               "end_time": "10:00"}, csrf_from=page)
    assert response.status_code == 409 and 'id="clashes"' in text(response) and "陈静" in text(response)
    assert auth.post(f"/live-sessions/{second.id}/move", {"day": wednesday, "start_time": "09:40",
                                                           "end_time": "10:20"}, csrf_from=page).status_code == 302
    moved = db.session.get(LiveSession, second.id)
    assert moved.moved and to_local(moved.starts_at).strftime("%Y-%m-%d %H:%M") == f"{wednesday} 09:40"
    response = auth.post(f"/live-sessions/{second.id}/move", {"day": wednesday, "start_time": "25:00",
                                                               "end_time": "26:00"}, csrf_from=page)
    assert response.status_code == 400


def test_attendance_page_for_the_assistant_and_the_main_teacher(client, auth, db, lw):
    live_class = schedule(lw, first=next_monday() - timedelta(days=7), weeks=1,
                          receiving=(("village_room", "assistant"), ("point_room", "assistant3")))
    db.session.commit()
    session = sessions_of(db, live_class)[0]
    url = f"/live-sessions/{session.id}"
    switch(auth, lw["assistant"])
    page = text(client.get(url))
    assert page.count(f'action="/live-sessions/{session.id}/attendance') == 1  # their own room only
    assert 'value="24"' in page  # the class size proposed from the classroom
    post = lambda data: auth.post(url + "/attendance", data, csrf_from=url)  # noqa: E731
    room = str(lw["village_room"].id)
    for bad, message in [({"present": "25", "class_size": "24"}, "More students present"),
                         ({"present": "-1", "class_size": "24"}, "between 0 and 200"),
                         ({"present": "3", "class_size": "0"}, "between 1 and 200"),
                         ({"present": "abc", "class_size": "24"}, "Not a valid integer")]:
        response = post({"classroom_id": room, **bad})
        assert response.status_code == 400 and message in text(response), bad
    assert db.session.query(SessionAttendance).count() == 0
    assert post({"classroom_id": str(lw["point_room"].id), "present": "5", "class_size": "9"}).status_code == 403
    assert post({"classroom_id": str(lw["main_room"].id), "present": "5", "class_size": "9"}).status_code == 404
    response = post({"classroom_id": room, "present": "22", "class_size": "24", "feedback": "<b>很好</b>"})
    assert response.status_code == 302
    record = db.session.query(SessionAttendance).one()
    assert (record.present, record.class_size, record.feedback) == (22, 24, "<b>很好</b>")  # plain text
    assert "&lt;b&gt;很好" in text(client.get(url))
    switch(auth, lw["teacher"])
    page = text(client.get(url))
    assert "22 of 24 present" in page
    assert page.count("/attendance") == 2  # the main teacher may record both rooms


def test_resources_are_attached_on_the_class_page(client, auth, db, lw, make):
    live_class = schedule(lw, weeks=1)
    resource = make.resource(lw["teacher"], title="Unit 3 课件")
    db.session.commit()
    url = f"/live-classes/{live_class.id}"
    switch(auth, lw["teacher"])
    assert "Unit 3" in text(client.get(url + "?rq=Unit"))
    assert auth.post(url + "/resources", {"resource_id": str(resource.id)}, csrf_from=url).status_code == 302
    assert db.session.query(LiveClassResource).count() == 1
    switch(auth, lw["village_principal"])  # sees the class, does not change it
    assert "Unit 3 课件" in text(client.get(url))
    assert auth.post(url + f"/resources/{resource.id}/remove", {}, csrf_from=url).status_code == 403
    switch(auth, lw["assistant"])
    assert auth.post(url + f"/resources/{resource.id}/remove", {}, csrf_from=url).status_code == 302
    assert db.session.query(LiveClassResource).count() == 0
    assert auth.post(url + "/resources", {"resource_id": "x"}, csrf_from=url).status_code == 400


def test_the_class_list_filters(client, auth, db, lw):
    schedule(lw, weeks=1)
    series_class = schedule(lw, teacher="teacher2", room="main_room2", receiving=(("point_room", "assistant3"),),
                            first=next_monday() - timedelta(days=60), weeks=2)
    db.session.commit()
    switch(auth, lw["county_bureau"])
    ids = lambda q: set(re.findall(r'href="/live-classes/(\d+)"', text(client.get("/live-classes" + q))))  # noqa: E731
    assert len(ids("")) == 1 and str(series_class.id) in ids("?state=ended")
    assert len(ids("?state=all")) == 2 and ids("?state=all&q=孙丽") == {str(series_class.id)}
    assert ids("?state=all&subject=music") == set()
    assert client.get("/live-classes?page=x").status_code == 400
    assert series.class_link(series_class) == f"/live-classes/{series_class.id}"


def test_the_class_list_runs_the_same_queries_for_more_classes(client, auth, db, lw, count_queries):
    schedule(lw, weeks=1)
    db.session.commit()
    auth.login(lw["county_bureau"].username)
    client.get("/live-classes")
    with count_queries() as one:
        assert client.get("/live-classes").status_code == 200
    for i, (teacher, room, receiving) in enumerate([("teacher2", "main_room2", (("point_room", "assistant3"),)),
                                                     ("teacher", "main_room", (("village2_room", "assistant2"),))]):
        schedule(lw, teacher=teacher, room=room, receiving=receiving, first=next_monday(3 + i), weeks=1)
    db.session.commit()
    with count_queries() as three:
        page = text(client.get("/live-classes"))
    assert len(set(re.findall(r'href="/live-classes/(\d+)"', page))) == 3
    assert len(three) == len(one)


def test_the_class_page_shows_bell_period_warnings(client, auth, db, lw):
    from portal.org import services as org_services

    org_services.save_bell_schedule(lw["bureau"], None, school=lw["village"], name="作息", from_month_day=None,
                                    to_month_day=None, periods=org_services.parse_periods([("1", "08:00", "08:40")]))
    live_class = schedule(lw, weeks=2)
    db.session.commit()
    auth.login(lw["teacher"].username)
    page = text(client.get(f"/live-classes/{live_class.id}"))
    assert 'id="bell-warnings"' in page and "山口村小学 三年级" in page and "1 08:00–08:40" in page
