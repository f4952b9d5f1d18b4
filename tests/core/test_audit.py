"""The audit trail: each kind of change writes one entry with its actor, action and object; a change
rolled back writes none; the bureau's page lists, filters and scopes by county; nobody else reads it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.communities import services as communities
from portal.core.audit import AuditEntry, record
from portal.core.timeutil import local_today
from portal.observations import services as observations
from portal.partnerships import exchanges, visits
from portal.partnerships import log as pairing_log
from portal.partnerships import services as partnerships
from portal.scheduling import calendar, series
from portal.scheduling import services as scheduling

from ..scheduling.live_world import (
    lw,  # noqa: F401  (the scheduling world fixture)
    next_monday,
    schedule,
    sessions_of,
)


def entries(db, **where) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, name) == value)
    return list(db.session.execute(stmt).scalars())


def only(db, action: str) -> AuditEntry:
    found = entries(db, action=action)
    assert len(found) == 1, [e.action for e in entries(db)]
    return found[0]


# --- each kind of change writes one entry ----------------------------------------------------


def test_observation_changes_are_audited(db, make):
    county = make.county()
    school = make.school(county=county)
    principal = make.user("principal", school=school)
    teacher = make.user("teacher", school=school, name="王老师")
    raw = {"observed_teacher_id": teacher.id, "observed_on": local_today().isoformat(), "periods": 1,
           "subject": "math", "topic": "认识钟表"}
    draft = observations.create_observation(principal, raw)
    db.session.commit()
    created = only(db, "observation.created")
    assert (created.actor_id, created.object_type, created.object_id) == (principal.id, "observation", draft.id)
    assert created.county_id == county.id and "王老师" in created.summary and "认识钟表" in created.summary

    observations.finalize_observation(principal, draft)
    observations.amend_observation(principal, draft, {"periods": "2"}, reason="连堂课")
    db.session.commit()
    assert only(db, "observation.finalized").object_id == draft.id
    amended = only(db, "observation.amended")
    assert amended.details["fields"] == ["periods"] and amended.details["reason"] == "连堂课"

    other = observations.create_observation(principal, raw)
    observations.delete_draft(principal, other)
    db.session.commit()
    deleted = only(db, "observation.draft_deleted")
    assert (deleted.actor_id, deleted.object_id) == (principal.id, other.id)


def test_schedule_changes_are_audited(db, lw):  # noqa: F811
    live_class = schedule(lw, actor=lw["bureau"])
    db.session.commit()
    scheduled = only(db, "live_class.scheduled")
    assert (scheduled.actor_id, scheduled.object_type, scheduled.object_id) == (lw["bureau"].id, "live_class",
                                                                                 live_class.id)
    assert scheduled.county_id == lw["county"].id and scheduled.details["sessions"] == 4

    first, second = sessions_of(db, live_class)[:2]
    scheduling.cancel_session(lw["teacher"], first, note="运动会")
    day = second.occurrence_date + timedelta(days=1)
    scheduling.move_session(lw["teacher"], second, day, time(14, 0), time(14, 40))
    db.session.commit()
    cancelled = only(db, "live_session.cancelled")
    assert (cancelled.actor_id, cancelled.object_id, cancelled.county_id) == (lw["teacher"].id, first.id,
                                                                              lw["county"].id)
    assert cancelled.details == {"class_id": live_class.id, "note": "运动会"}
    moved = only(db, "live_session.moved")
    assert moved.object_id == second.id and moved.details["starts_at"]["to"] == f"{day.isoformat()} 14:00"

    series.restore_session(lw["teacher"], first)
    added = series.add_session(lw["teacher"], live_class, next_monday(6), time(10, 0), time(10, 40))
    db.session.commit()
    assert only(db, "live_session.restored").object_id == first.id
    assert only(db, "live_session.added").object_id == added.id


def test_calendar_days_are_audited(db, lw):  # noqa: F811
    holiday = calendar.save_day(lw["county_bureau"], day=next_monday(3), kind="holiday", name="校庆",
                                county_id=lw["county"].id)
    db.session.commit()
    saved = only(db, "calendar_day.saved")
    assert (saved.actor_id, saved.object_id, saved.county_id) == (lw["county_bureau"].id, holiday.id, lw["county"].id)
    calendar.delete_day(lw["county_bureau"], holiday)
    db.session.commit()
    assert only(db, "calendar_day.deleted").object_id == holiday.id


def test_partnership_changes_are_audited(db, make):
    county = make.county()
    bureau = make.user("bureau", county=county)
    lead = make.school("urban", county=county)
    village, village2 = make.school("village", county=county), make.school("village", county=county)
    partnership = partnerships.save_partnership(bureau, None, kind="rural_school", name="城乡结对",
                                                lead_school=lead, members=[village], start_date=date(2026, 9, 1))
    db.session.commit()
    created = only(db, "partnership.created")
    assert (created.actor_id, created.object_id, created.county_id) == (bureau.id, partnership.id, county.id)

    partnerships.save_partnership(bureau, partnership, kind="rural_school", name="城乡结对二期", lead_school=lead,
                                  members=[village, village2], start_date=date(2026, 9, 1))
    partnerships.end_partnership(bureau, partnership, date(2027, 7, 1))
    db.session.commit()
    changed = only(db, "partnership.changed")
    assert changed.details["name"] == {"from": "城乡结对", "to": "城乡结对二期"}
    assert changed.details["schools_added"] == [village2.id]
    assert only(db, "partnership.ended").details["end_date"] == {"from": None, "to": "2027-07-01"}

    entry = pairing_log.log_activity(bureau, partnership, kind="send_lessons", title="送教下乡",
                                     happened_on=date(2026, 10, 15), school_ids=[lead.id, village.id])
    db.session.commit()
    logged = only(db, "pairing_activity.logged")
    assert (logged.object_type, logged.object_id, logged.details["partnership_id"]) == (
        "pairing_activity", entry.id, partnership.id)


def test_exchanges_and_visits_are_audited(db, make):
    county = make.county()
    bureau = make.user("bureau", county=county)
    teacher = make.user("teacher", school=make.school("urban", county=county), name="李老师")
    village = make.school("village", county=county)
    exchange = exchanges.record_exchange(bureau, user=teacher, kind="rotation", to_school=village,
                                         start_date=date(2026, 9, 1), end_date=date(2027, 7, 15))
    db.session.commit()
    recorded = only(db, "exchange.recorded")
    assert (recorded.actor_id, recorded.object_id, recorded.county_id) == (bureau.id, exchange.id, county.id)
    assert "李老师" in recorded.summary

    researcher = make.user("researcher", county=county)
    visits.assign_contact_school(bureau, researcher, village)
    visit = visits.log_visit(researcher, researcher, village, local_today())
    db.session.commit()
    assert only(db, "contact_school.assigned").actor_id == bureau.id
    logged = only(db, "visit.logged")
    assert (logged.actor_id, logged.object_id, logged.county_id) == (researcher.id, visit.id, county.id)


def test_membership_changes_are_audited(db, make):
    county = make.county()
    leader = make.user("teacher", school=make.school("urban", county=county))
    community = make.community("teacher", leader=leader, county=county)
    teacher = make.user("teacher", school=make.school("village", county=county), name="赵老师")
    membership = communities.ask_to_join(teacher, community)
    db.session.commit()
    asked = only(db, "membership.requested")
    assert (asked.actor_id, asked.object_type, asked.object_id) == (teacher.id, "membership", membership.id)
    assert asked.county_id == county.id and "赵老师" in asked.summary

    communities.decide_request(leader, membership, approve=True)
    db.session.commit()
    assert only(db, "membership.approved").actor_id == leader.id
    communities.leave(teacher, community)
    db.session.commit()
    assert only(db, "membership.left").actor_id == teacher.id

    bureau = make.user("bureau")
    added = communities.add_member(bureau, community, teacher)
    communities.remove_member(bureau, added)
    new_leader = make.user("teacher", school=make.school("urban", county=county))
    communities.appoint_leader(bureau, community, new_leader)
    db.session.commit()
    assert only(db, "membership.added").object_id == added.id
    assert only(db, "membership.removed").object_id == added.id
    appointed = only(db, "membership.leader_appointed")
    assert appointed.details["user_id"] == new_leader.id and appointed.details["previous_leader_id"] == leader.id


def test_a_rolled_back_change_leaves_no_entry(db, make):
    partnership = make.partnership()
    bureau = make.user("bureau")
    partnerships.end_partnership(bureau, partnership, date(2027, 7, 1))
    assert len(entries(db)) == 1  # flushed with the change, in its transaction
    db.session.rollback()
    assert entries(db) == []
    db.session.refresh(partnership)
    assert partnership.end_date is None


def test_a_refused_change_through_a_page_leaves_no_entry(auth, make, db):
    community = make.community("teacher", county=make.county())
    make.user("bureau", username="boss")
    auth.login("boss")
    response = auth.post(f"/communities/{community.id}/edit", {"name": ""})
    assert response.status_code == 400
    assert entries(db) == []


def test_summary_is_plain_short_text_and_details_stay_small(db, make):
    actor = make.user("bureau")
    entry = record(actor, "community.saved", "community", 7, summary="<b>名\x00称</b>\u202e" + "长" * 400,
                   details={"when": date(2026, 9, 1), "ids": list(range(50)), "text": "x" * 1000})
    db.session.commit()
    db.session.refresh(entry)
    assert entry.summary.startswith("<b>名称</b>") and len(entry.summary) == 300  # escaped when shown
    assert entry.details["when"] == "2026-09-01" and len(entry.details["ids"]) == 20
    assert len(entry.details["text"]) == 200


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def trail(make, db):
    """Entries of two counties and a city-wide one, by two people, on two days."""
    mine, other = make.county(), make.county()
    alice = make.user("bureau", county=mine, username="alice", name="张三")
    bob = make.user("teacher", school=make.school(county=mine), username="bob", name="李四")
    record(alice, "partnership.created", "partnership", 11, county_id=mine.id, summary="本县结对")
    record(bob, "membership.requested", "membership", 12, county_id=mine.id, summary="本县工作室")
    record(bob, "observation.created", "observation", 13, county_id=other.id, summary="外县听课")
    record(alice, "community.saved", "community", 14, county_id=None, summary="全市工作室")
    old = record(alice, "live_class.scheduled", "live_class", 15, county_id=mine.id, summary="旧的双师课")
    old.at = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    db.session.commit()
    return {"mine": mine, "other": other, "alice": alice, "bob": bob,
            "city_bureau": make.user("bureau", username="city", locale="en"),
            "county_bureau": make.user("bureau", county=mine, username="countyb", locale="en")}


def test_city_bureau_reads_every_entry_newest_first(auth, trail):
    auth.login("city")
    page = auth.client.get("/admin/audit")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for summary in ("本县结对", "本县工作室", "外县听课", "全市工作室", "旧的双师课"):
        assert summary in text
    assert text.index("全市工作室") < text.index("本县结对") < text.index("旧的双师课")
    assert "Partnership created" in text and "张三" in text
    assert 'href="/partnerships/11"' in text and 'href="/observations/13"' in text


def test_county_bureau_reads_only_its_county(auth, trail):
    auth.login("countyb")
    text = auth.client.get("/admin/audit").get_data(as_text=True)
    assert "本县结对" in text and "本县工作室" in text
    assert "外县听课" not in text and "全市工作室" not in text


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("type=membership", ["本县工作室"], ["本县结对", "外县听课"]),
    ("actor=bob", ["本县工作室", "外县听课"], ["本县结对", "全市工作室"]),
    ("object_id=11", ["本县结对"], ["本县工作室"]),
    ("since=2026-03-01&until=2026-03-02", ["旧的双师课"], ["本县结对", "全市工作室"]),
    ("actor=nobody", [], ["本县结对", "外县听课"]),
    ("actor=%EF%BC%A2OB", ["本县工作室"], ["本县结对"]),  # full-width, upper case: the same username
])
def test_filters_narrow_the_list(auth, trail, query, shown, hidden):
    auth.login("city")
    page = auth.client.get(f"/admin/audit?{query}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert all(s in text for s in shown) and not any(h in text for h in hidden)


@pytest.mark.parametrize("query", ["since=2026-13-01", "until=yesterday", "type=users", "object_id=-1",
                                   "object_id=99999999999999999999", "since=2026-03-02&until=2026-03-01",
                                   "page=0", "per_page=100000"])
def test_bad_filters_are_a_clear_400(auth, trail, query):
    auth.login("city")
    assert auth.client.get(f"/admin/audit?{query}").status_code == 400


def test_the_export_holds_the_filtered_rows(auth, trail):
    auth.login("countyb")
    response = auth.client.get("/admin/audit.xlsx?actor=bob")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert [r[6] for r in rows[1:]] == ["本县工作室"]  # not bob's entry of the other county


@pytest.mark.parametrize("role", ["teacher", "principal", "researcher"])
def test_only_the_bureau_reads_the_trail(auth, make, trail, role):
    make.user(role, username=f"x{role}")
    auth.login(f"x{role}")
    assert auth.client.get("/admin/audit").status_code == 403
    assert auth.client.get("/admin/audit.xlsx").status_code == 403


def test_the_list_page_runs_a_fixed_number_of_queries(auth, make, trail, count_queries):
    for n in range(30):
        record(make.user("teacher"), "membership.requested", "membership", 100 + n, summary=f"申请{n}")
    make.db.session.commit()
    auth.login("city")
    with count_queries() as counted:
        assert auth.client.get("/admin/audit").status_code == 200
    assert len(counted) <= 10


def test_a_change_made_on_a_page_is_committed_with_its_entry(auth, make, db):
    county = make.county()
    community = make.community("teacher", county=county)
    boss = make.user("bureau", username="boss", locale="en")
    auth.login("boss")
    assert auth.post(f"/communities/{community.id}/active", {"active": "0"}).status_code == 302
    closed = only(db, "community.closed")
    assert (closed.actor_id, closed.object_id, closed.county_id) == (boss.id, community.id, county.id)
    text = auth.client.get("/admin/audit?type=community").get_data(as_text=True)
    assert "Community closed" in text and community.name in text
