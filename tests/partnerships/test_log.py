"""The pairing activity log: who logs and reads entries, refused input saves nothing, files, fixed query counts."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Notification
from portal.core.errors import Conflict, Invalid, NotAllowed
from portal.core.timeutil import local_today
from portal.partnerships import log as services
from portal.partnerships.models import PairingActivity, PairingAttachment
from portal.partnerships.permissions import can_view_log_entry
from tests.core.test_uploads import PDF

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def world(make):
    county = make.county()
    s0 = make.school("urban", county=county, name="实验小学")
    s1 = make.school("village", county=county, name="山口村小学")
    s2 = make.school("village", county=county, name="石桥村小学")
    start = local_today() - timedelta(days=60)
    partnership = make.partnership(lead=s0, members=[s1, s2], start=start, name="实验小学结对")
    people = {
        "principal0": make.user("principal", school=s0, username="p0", locale="en"),
        "principal1": make.user("principal", school=s1, username="p1", locale="en"),
        "teacher0": make.user("teacher", school=s0, username="zhang.wei", locale="en"),
        "teacher1": make.user("teacher", school=s1, username="li.na", locale="en"),
        "teacher2": make.user("teacher", school=s2, username="t2", locale="en"),
        "outsider": make.user("principal", school=make.school("urban", county=county), username="px", locale="en"),
        "bureau": make.user("bureau", username="bureau1", locale="en"),
        "researcher": make.user("researcher", county=county, username="r1", locale="en"),
    }
    return {"partnership": partnership, "s0": s0, "s1": s1, "s2": s2, "start": start, **people}


def entry_of(make, w, **kwargs):
    return make.pairing_activity(w["partnership"], author=w["bureau"], schools=[w["s0"], w["s1"]],
                                 happened_on=local_today() - timedelta(days=3), **kwargs)


def form(w, **overrides):
    data = {"kind": "send_lessons", "title": "送教下乡：三年级数学", "happened_on": (local_today() - timedelta(days=2)).isoformat(),
            "schools": [str(w["s0"].id), str(w["s1"].id)], "people": "zhang.wei, li.na", "other_people": "县教研室 王老师",
            "notes": "上了两节示范课。\n\n评课一小时。"}
    data.update(overrides)
    return data


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# --- logging ---------------------------------------------------------------------------------------


def test_a_member_schools_principal_logs_sending_lessons(client, auth, db, world):
    w = world
    auth.login("p1")
    new = f"/partnerships/{w['partnership'].id}/log/new"
    page = client.get(new)
    assert page.status_code == 200 and "实验小学" in page.get_data(as_text=True)
    response = auth.post(new, form(w), csrf_from=new)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    entry = db.session.execute(select(PairingActivity)).scalar_one()
    assert response.headers["Location"].endswith(f"/log/{entry.id}")
    assert entry.kind == "send_lessons" and entry.author_id == w["principal1"].id and entry.edited_at is None
    assert {s.school_id for s in entry.schools} == {w["s0"].id, w["s1"].id}
    assert {p.user_id for p in entry.people} == {w["teacher0"].id, w["teacher1"].id}
    assert entry.notes_html == "<p>上了两节示范课。</p><p>评课一小时。</p>" and entry.other_people == "县教研室 王老师"
    # The lead school's principal is told; the author's own school is not.
    told = db.session.execute(select(Notification.user_id).where(Notification.kind == "pairing.logged")).scalars()
    assert list(told) == [w["principal0"].id]
    auth.logout()
    auth.login("p0")
    text = client.get("/notifications").get_data(as_text=True)
    assert "山口村小学 logged 送教下乡：三年级数学 in 实验小学结对" in text
    listing = client.get(f"/partnerships/{w['partnership'].id}/log").get_data(as_text=True)
    assert "送教下乡：三年级数学" in listing and "Sending lessons to the countryside" in listing


def test_the_new_form_ticks_the_authors_school_and_the_lead_school(client, auth, world):
    auth.login("p1")
    html = client.get(f"/partnerships/{world['partnership'].id}/log/new").get_data(as_text=True)
    for school, ticked in (("s0", True), ("s1", True), ("s2", False)):
        assert (f'value="{world[school].id}" checked' in html) is ticked


def test_an_uninvolved_principal_can_neither_log_nor_read(client, auth, db, make, world):
    entry = entry_of(make, world)
    pid = world["partnership"].id
    auth.login("px")
    # Outside the partnership, it does not exist for them.
    assert client.get(f"/partnerships/{pid}/log/new").status_code == 404
    assert auth.post(f"/partnerships/{pid}/log/new", form(world)).status_code == 404
    assert client.get(f"/partnerships/{pid}/log").status_code == 404
    assert client.get(f"/log/{entry.id}").status_code == 404
    assert count(db, PairingActivity) == 1
    with pytest.raises(NotAllowed):
        services.log_activity(world["outsider"], world["partnership"], kind="visit", title="x",
                              happened_on=local_today(), school_ids=[world["s0"].id])


def test_teachers_read_entries_naming_their_school_only(client, auth, make, world):
    entry = entry_of(make, world, title="联合教研：作文")
    auth.login("li.na")  # a teacher of S1, named by the entry
    assert client.get(f"/log/{entry.id}").status_code == 200
    assert client.get(f"/partnerships/{world['partnership'].id}/log/new").status_code == 403  # teachers do not log
    auth.logout()
    auth.login("t2")  # a teacher of S2: in the partnership, not named by the entry
    assert client.get(f"/log/{entry.id}").status_code == 403
    listing = client.get(f"/partnerships/{world['partnership'].id}/log")
    assert listing.status_code == 200 and "联合教研：作文" not in listing.get_data(as_text=True)


def test_the_bureau_reads_and_edits(client, auth, db, make, world):
    entry = entry_of(make, world, title="跟岗学习")
    auth.login("bureau1")
    assert client.get(f"/log/{entry.id}").status_code == 200
    edit = f"/log/{entry.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "跟岗学习" in page
    response = auth.post(edit, form(world, title="跟岗学习（两周）", kind="shadowing", people=""), csrf_from=edit)
    assert response.status_code == 302
    db.session.refresh(entry)
    assert entry.title == "跟岗学习（两周）" and entry.kind == "shadowing" and entry.edited_at is not None
    assert "edited" in client.get(f"/log/{entry.id}").get_data(as_text=True)


def test_the_countys_researcher_reads(client, auth, make, world):
    entry = entry_of(make, world)
    auth.login("r1")
    assert client.get(f"/log/{entry.id}").status_code == 200
    assert str(entry.title) in client.get(f"/partnerships/{world['partnership'].id}/log").get_data(as_text=True)
    assert client.get(f"/log/{entry.id}/edit").status_code == 403


def test_only_the_author_and_the_bureau_change_or_delete(client, auth, db, make, world):
    entry = entry_of(make, world)
    auth.login("p0")  # a principal of a named school, not the author
    assert client.get(f"/log/{entry.id}/edit").status_code == 403
    assert auth.post(f"/log/{entry.id}/delete").status_code == 403
    auth.logout()
    mine = make.pairing_activity(world["partnership"], author=world["principal0"], schools=[world["s0"]],
                                 happened_on=local_today())
    auth.login("p0")
    assert auth.post(f"/log/{mine.id}/delete").status_code == 302
    assert count(db, PairingActivity) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"happened_on": "FUTURE"}, "cannot be in the future"),
        ({"happened_on": "TOO_EARLY"}, "more than 30 days before the partnership started"),
        ({"schools": ["OTHER"]}, "Only the partnership&#39;s own schools"),
        ({"schools": []}, "Tick at least one school"),
        ({"people": "zhang.wei nobody.here"}, "Unknown usernames: nobody.here"),
        ({"people": "px"}, "Only active people of the schools ticked"),  # a real user of another school
        ({"title": "   "}, "Please give the entry a title."),
        ({"title": "长" * 121}, "120"),
        ({"kind": "party"}, "Not a valid choice"),
        ({"happened_on": "2026-02-30"}, "Not a valid date"),
    ],
)
def test_bad_input_is_a_400_with_its_message_and_saves_nothing(client, auth, db, make, world, overrides, message):
    other = make.school("village", county=world["s0"].county)
    values = {"FUTURE": (local_today() + timedelta(days=2)).isoformat(),
              "TOO_EARLY": (world["start"] - timedelta(days=31)).isoformat(), "OTHER": str(other.id)}
    overrides = {k: ([values.get(x, x) for x in v] if isinstance(v, list) else values.get(v, v))
                 for k, v in overrides.items()}
    auth.login("p1")
    new = f"/partnerships/{world['partnership'].id}/log/new"
    response = auth.post(new, form(world, **overrides), csrf_from=new)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db, PairingActivity) == 0 and count(db, Notification) == 0


def test_dates_tomorrow_and_a_month_before_the_start_are_fine_but_not_after_the_end(db, world):
    w = world
    for day in (local_today() + timedelta(days=1), w["start"] - timedelta(days=30)):
        services.log_activity(w["principal1"], w["partnership"], kind="visit", title="互访", happened_on=day,
                              school_ids=[w["s1"].id])
    w["partnership"].end_date = local_today() - timedelta(days=10)
    with pytest.raises(Invalid) as caught:
        services.log_activity(w["principal1"], w["partnership"], kind="visit", title="互访",
                              happened_on=local_today() - timedelta(days=5), school_ids=[w["s1"].id])
    assert caught.value.field == "happened_on"


def test_at_most_50_people(world, make):
    w = world
    ids = [make.user("teacher", school=w["s1"]).id for _ in range(51)]
    with pytest.raises(Invalid) as caught:
        services.log_activity(w["principal1"], w["partnership"], kind="visit", title="互访", happened_on=local_today(),
                              school_ids=[w["s1"].id], person_ids=ids)
    assert caught.value.field == "people"


def test_the_people_responsible_can_be_named_and_log(db, make, world):
    from portal.partnerships.models import PartnershipPerson

    w = world
    liaison = make.user("researcher", county=w["s0"].county)
    db.session.add(PartnershipPerson(partnership_id=w["partnership"].id, user_id=liaison.id, duty="联络人"))
    db.session.commit()
    entry = services.log_activity(liaison, w["partnership"], kind="joint_research", title="联合教研",
                                  happened_on=local_today(), school_ids=[w["s2"].id],
                                  person_ids=[liaison.id, w["teacher2"].id])
    assert {p.user_id for p in entry.people} == {liaison.id, w["teacher2"].id}


def test_the_list_filter_matches_the_predicate(db, make, world):
    w = world
    entries = [entry_of(make, w), make.pairing_activity(w["partnership"], author=w["principal1"], schools=[w["s2"]],
                                                        happened_on=local_today()),
               make.pairing_activity(w["partnership"], author=None, schools=[w["s2"]], happened_on=local_today())]
    for name in ("principal0", "principal1", "teacher0", "teacher1", "teacher2", "outsider", "bureau", "researcher"):
        user = w[name]
        listed = set(db.session.execute(
            select(PairingActivity.id).where(services.visible_entries(user, w["partnership"]))).scalars())
        assert listed == {e.id for e in entries if can_view_log_entry(user, e, w["partnership"])}, name


def test_kind_and_school_year_filters(client, auth, make, world, db):
    w = world
    w["partnership"].start_date = local_today() - timedelta(days=400)  # last school year is a choice too
    db.session.commit()
    entry_of(make, w, title="本学年送教", kind="send_lessons")
    entry_of(make, w, title="本学年互访", kind="visit")
    auth.login("bureau1")
    base = f"/partnerships/{w['partnership'].id}/log"
    text = client.get(base + "?kind=visit").get_data(as_text=True)
    assert "本学年互访" in text and "本学年送教" not in text
    from portal.core.timeutil import school_year_of

    year = school_year_of(local_today() - timedelta(days=3))
    assert "本学年送教" in client.get(f"{base}?year={year}").get_data(as_text=True)
    assert "本学年送教" not in client.get(f"{base}?year={year - 1}").get_data(as_text=True)
    assert client.get(base + "?year=abc&kind=<script>").status_code == 200


def test_update_tells_newly_named_schools_and_delete_removes_rows(db, make, world):
    w = world
    entry = services.log_activity(w["principal1"], w["partnership"], kind="visit", title="互访",
                                  happened_on=local_today(), school_ids=[w["s1"].id])
    principal2 = make.user("principal", school=w["s2"])
    services.update_entry(w["principal1"], entry, kind="visit", title="互访", happened_on=local_today(),
                          school_ids=[w["s1"].id, w["s2"].id])
    assert db.session.execute(select(Notification.user_id)).scalars().all() == [principal2.id]
    services.delete_entry(w["bureau"], entry)
    db.session.commit()
    assert count(db, PairingActivity) == 0


# --- attachments -----------------------------------------------------------------------------------


def test_a_pdf_uploaded_with_the_entry_downloads_as_an_attachment(client, auth, db, world):
    w = world
    auth.login("p1")
    new = f"/partnerships/{w['partnership'].id}/log/new"
    data = form(w, files=[(io.BytesIO(PDF), "送教 教案.pdf")])
    response = auth.post(new, data, csrf_from=new, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    attachment = db.session.execute(select(PairingAttachment)).scalar_one()
    assert attachment.original_name == "送教 教案.pdf" and attachment.size == len(PDF)
    assert attachment.content_type == "application/pdf" and attachment.uploaded_by_id == w["principal1"].id
    auth.logout()

    auth.login("li.na")
    assert "送教 教案.pdf" in client.get(f"/log/{attachment.activity_id}").get_data(as_text=True)
    download = client.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('送教 教案.pdf')}" in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff" and download.mimetype == "application/pdf"
    auth.logout()

    for outsider in ("t2", "px"):
        auth.login(outsider)
        assert client.get(f"/attachments/{attachment.id}").status_code in (403, 404)
        auth.logout()
    assert client.get(f"/attachments/{attachment.id}").status_code == 302  # anonymous: to the login page


def test_an_empty_file_input_is_no_file(client, auth, db, world):
    auth.login("p1")
    new = f"/partnerships/{world['partnership'].id}/log/new"
    response = auth.post(new, form(world, files=[(io.BytesIO(b""), "")]), csrf_from=new,
                         content_type="multipart/form-data")
    assert response.status_code == 302 and count(db, PairingActivity) == 1 and count(db, PairingAttachment) == 0


def test_html_disguised_as_pdf_on_the_new_form_saves_neither_entry_nor_file(client, auth, db, world):
    w = world
    auth.login("p1")
    new = f"/partnerships/{w['partnership'].id}/log/new"
    data = form(w, files=[(io.BytesIO(PDF), "good.pdf"), (io.BytesIO(HTML), "lesson.pdf")])
    response = auth.post(new, data, csrf_from=new, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "lesson.pdf does not match its extension" in response.get_data(as_text=True)
    assert count(db, PairingActivity) == 0 and count(db, PairingAttachment) == 0 and count(db, Notification) == 0


def test_files_added_to_an_entry_later(client, auth, db, make, world):
    entry = make.pairing_activity(world["partnership"], author=world["principal1"], schools=[world["s1"]],
                                  happened_on=local_today())
    page = f"/log/{entry.id}"
    auth.login("p1")
    url = f"/log/{entry.id}/attachments"
    refused = auth.post(url, {"file": (io.BytesIO(HTML), "notes.pdf")}, csrf_from=page,
                        content_type="multipart/form-data")
    assert refused.status_code == 400 and "does not match its extension" in refused.get_data(as_text=True)
    svg = auth.post(url, {"file": (io.BytesIO(b"<svg onload=alert(1)/>"), "x.svg")}, csrf_from=page,
                    content_type="multipart/form-data")
    assert svg.status_code == 400
    assert auth.post(url, {}, csrf_from=page).status_code == 400
    assert count(db, PairingAttachment) == 0
    ok = auth.post(url, {"file": (io.BytesIO(PDF), "记录.pdf")}, csrf_from=page, content_type="multipart/form-data")
    assert ok.status_code == 302
    attachment = db.session.execute(select(PairingAttachment)).scalar_one()
    assert auth.post(f"/attachments/{attachment.id}/delete", csrf_from=page).status_code == 302
    assert count(db, PairingAttachment) == 0
    auth.logout()
    auth.login("p0")  # the entry names only S1: the lead's principal neither reads it nor adds files
    assert auth.post(url, {"file": (io.BytesIO(PDF), "x.pdf")}, content_type="multipart/form-data").status_code == 403


def test_too_large_attachment_is_413_and_nothing_is_saved(client, auth, app, db, make, world, monkeypatch):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    assert services.attachment_max_bytes() == 1024 * 1024  # the smaller of the request limit and 50 MB
    monkeypatch.setattr(services, "MAX_ATTACHMENT_BYTES", 100_000)
    entry = make.pairing_activity(world["partnership"], author=world["principal1"], schools=[world["s1"]],
                                  happened_on=local_today())
    auth.login("p1")
    response = auth.post(f"/log/{entry.id}/attachments", {"file": (io.BytesIO(PDF + b"0" * 150_000), "big.pdf")},
                         csrf_from=f"/log/{entry.id}", content_type="multipart/form-data")
    assert response.status_code == 413 and "larger than" in response.get_data(as_text=True)
    new = f"/partnerships/{world['partnership'].id}/log/new"
    response = auth.post(new, form(world, files=[(io.BytesIO(PDF + b"0" * 150_000), "big.pdf")]), csrf_from=new,
                         content_type="multipart/form-data")
    assert response.status_code == 413
    assert count(db, PairingAttachment) == 0 and count(db, PairingActivity) == 1


def test_at_most_ten_files_per_entry(db, make, world):
    from werkzeug.datastructures import FileStorage

    entry = make.pairing_activity(world["partnership"], author=world["principal1"], schools=[world["s1"]],
                                  happened_on=local_today())
    for i in range(10):
        services.add_attachment(world["principal1"], entry, FileStorage(stream=io.BytesIO(PDF), filename=f"{i}.pdf"))
    with pytest.raises(Conflict):
        services.add_attachment(world["principal1"], entry, FileStorage(stream=io.BytesIO(PDF), filename="11.pdf"))


# --- query counts ----------------------------------------------------------------------------------


def _fill(db, make, w, n):
    for i in range(n):
        entry = make.pairing_activity(w["partnership"], author=w["principal1"], schools=[w["s0"], w["s1"]],
                                      happened_on=local_today() - timedelta(days=i % 50), title=f"记录{i}")
        db.session.add(PairingAttachment(activity_id=entry.id, original_name=f"{i}.pdf", stored_name="ab/x.pdf",
                                         content_type="application/pdf", size=10, uploaded_by_id=w["principal1"].id))
    from portal.partnerships.models import PairingActivityPerson

    for entry in db.session.execute(select(PairingActivity)).scalars():
        if not entry.people:
            entry.people = [PairingActivityPerson(user_id=w["teacher0"].id), PairingActivityPerson(user_id=w["teacher1"].id)]
    db.session.commit()


@pytest.mark.parametrize("viewer", ["p0", "bureau1"])
def test_log_page_queries_do_not_grow_with_entries(client, auth, db, make, world, count_queries, viewer):
    auth.login(viewer)
    url = f"/partnerships/{world['partnership'].id}/log"
    _fill(db, make, world, 5)
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    _fill(db, make, world, 35)
    with count_queries() as many:
        page = client.get(url)
    assert page.status_code == 200 and page.get_data(as_text=True).count("/log/") >= 20
    assert len(many) == len(few), many
