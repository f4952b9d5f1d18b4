"""Query budgets: every main page and API list runs the same number of SQL statements however
much it lists (no N+1), and stays under an absolute budget.

Each row of PAGES names a page, who opens it and a grower that adds ``n`` more of what the page
lists (schools, members, records, receiving classrooms...). The check renders the page on a small
world (the grower run once, so no list is empty), counts the statements, grows the world by six,
renders again and wants the same count. Pages whose budget is tested next to their feature are
listed in ELSEWHERE (the test that does it), and test_every_main_page_has_a_budget fails when a
GET route is in neither table nor in NOT_PAGES (forms, files and redirects).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from portal.core.models import utcnow
from portal.core.timeutil import local_today
from portal.scheduling.recurrence import Slot

BUDGET = 25  # statements per request: a regression past this shows even when the count is flat
MORE = 6  # how many more of the listed kind the larger world has


# --- the world ----------------------------------------------------------------------------------


def _monday() -> date:
    today = local_today()
    return today - timedelta(days=today.weekday())


@pytest.fixture
def w(make, db):
    """One county: a town school and a village school with their classes, people of every role,
    the current term, a community, a partnership, a dual-teacher class this week, a record."""
    county = make.county("示范县")
    today = local_today()
    term = make.term(start=today - timedelta(days=60), end=today + timedelta(days=60), name="本学期")
    city = make.school("urban", county=county, name="实验小学")
    village = make.school("village", county=county, name="山口村小学")
    world = {
        "county": county, "term": term, "city": city, "village": village,
        "city_room": make.classroom(city, grade=3, name="三(1)班"),
        "village_room": make.classroom(village, grade=3, name="三年级", student_count=20),
        "bureau": make.user("bureau", county=county, locale="en"),
        "researcher": make.user("researcher", county=county, locale="en"),
        "principal": make.user("principal", school=village, locale="en"),
        "city_principal": make.user("principal", school=city, locale="en"),
        "teacher": make.user("teacher", school=village, locale="en"),
        "city_teacher": make.user("teacher", school=city, locale="en"),
        "monday": _monday(),
    }
    world["community"] = make.community("teacher", leader=world["city_teacher"], county=county)
    make.member(world["community"], world["teacher"])
    world["activity"] = make.activity(world["community"])
    world["partnership"] = make.partnership(lead=city, members=[village])
    world["resource"] = make.resource(world["city_teacher"], "分数的意义")
    world["slots"] = 0
    _class(make, world, [(world["village_room"], world["teacher"])], main_room=world["city_room"], subject="english")
    world["observation"] = make.observation(world["principal"], world["teacher"])
    return world


def _class(make, w, receiving, *, main_room=None, subject="math", whole_week=False, day=None, main_teacher=None):
    """A dual-teacher class (of the city teacher unless told) in a ten-minute slot of its own: today, every
    weekday of this week, or one given day; its first session becomes ``w["session"]``."""
    from portal.scheduling import services as scheduling
    from portal.scheduling.models import LiveSession

    w["slots"] += 1
    minutes = 6 * 60 + 10 * w["slots"]
    start, end = time(minutes // 60, minutes % 60), time(minutes // 60, minutes % 60 + 9)
    first, last = (day, day) if day else (w["monday"], w["monday"] + timedelta(days=6))
    days = range(1, 6) if whole_week else [(day or local_today()).isoweekday()]
    live_class = scheduling.schedule_live_class(
        w["bureau"], subject=subject, grade=3, main_teacher=main_teacher or w["city_teacher"],
        main_classroom=main_room or make.classroom(w["city"]), receiving=receiving,
        slots=[Slot(d, start, end) for d in days], first_date=first, last_date=last, term=w["term"])
    make.db.session.commit()
    w["live_class"] = live_class
    w["session"] = make.db.session.query(LiveSession).filter_by(live_class_id=live_class.id).order_by(
        LiveSession.starts_at).first()
    return live_class


def _village_room(make, w):
    village = make.school("village", county=w["county"])
    return make.classroom(village), make.user("teacher", school=village)


# --- growers: each adds n more of what a page lists ---------------------------------------------


def more_schools(make, w, n):
    for i in range(n):
        school = make.school("village" if i % 2 else "township", county=w["county"])
        make.classroom(school)
        make.user("teacher", school=school)


def more_school_people(make, w, n):
    """More classes and teachers at the village school, and one more bell schedule."""
    from portal.org import services as org

    for i in range(n):
        make.classroom(w["village"], grade=1 + i % 6)
        make.user("teacher", school=w["village"])
    k = make._n()
    org.save_bell_schedule(w["bureau"], None, school=w["village"], name=f"作息{k}", from_month_day=f"{1 + k % 12:02d}-01",
                           to_month_day=f"{1 + k % 12:02d}-02",
                           periods=[(p + 1, time(8 + p, 0), time(8 + p, 40)) for p in range(6)])
    make.db.session.commit()


def more_notifications(make, w, n):
    from portal.accounts.notifications import notify

    for i in range(n):
        for who in ("teacher", "principal", "researcher", "bureau"):
            notify([w[who]], "system.message", params={"text": f"通知{i}"}, link="/communities")
    make.db.session.commit()


def more_memberships(make, w, n):
    """More communities the teacher and the principal are in, each with a coming activity."""
    for _ in range(n):
        community = make.community("teacher", leader=make.user("teacher", county=w["county"]), county=w["county"])
        make.member(community, w["teacher"])
        make.activity(community)
        principals = make.community("principal", leader=make.user("principal", county=w["county"]),
                                    county=w["county"])
        make.member(principals, w["principal"])
        make.member(principals, w["researcher"], user_role="researcher")


def more_members(make, w, n):
    for _ in range(n):
        make.member(w["community"])
        make.member(w["community"], status="pending")


def more_activities(make, w, n):
    """More coming activities of the world's community, each hosted by another member."""
    for i in range(n):
        host = make.member(w["community"]).user
        make.activity(w["community"], host=host, starts_at=utcnow().replace(microsecond=0) + timedelta(days=1 + i))


def more_participants(make, w, n):
    from portal.communities.models import Participant

    for _ in range(n):
        member = make.member(w["community"]).user
        make.db.session.add(Participant(activity_id=w["activity"].id, user_id=member.id))
    make.db.session.commit()


def more_partnerships(make, w, n):
    for _ in range(n):
        city = make.school("urban", county=w["county"])
        make.partnership(lead=city, members=[w["village"], make.school("village", county=w["county"])])


def more_partners(make, w, n):
    """More member schools and log entries of the world's partnership."""
    from portal.partnerships.models import PartnershipSchool

    partnership = w["partnership"]
    for _ in range(n):
        school = make.school("village", county=w["county"])
        partnership.members.append(PartnershipSchool(school_id=school.id))
        make.db.session.commit()
        make.pairing_activity(partnership, author=make.user("principal", school=school))


def more_resources(make, w, n):
    """More public resources of the community, every other one by a teacher of the city school."""
    for i in range(n):
        owner = make.user("teacher", school=w["city"] if i % 2 else make.school("village", county=w["county"]))
        resource = make.resource(owner, f"分数{i}", communities=[w["community"]])
        make.resource_version(resource)


def more_resource_social(make, w, n):
    """Comments, ratings and versions of the world's resource."""
    from portal.resources.models import ResourceComment, ResourceRating

    resource = w["resource"]
    for i in range(n):
        rater = make.user("teacher", school=make.school("village", county=w["county"]))
        make.db.session.add(ResourceComment(resource_id=resource.id, author_id=rater.id, body_html=f"<p>好{i}</p>"))
        make.db.session.add(ResourceRating(resource_id=resource.id, user_id=rater.id, stars=4))
        resource.comment_count += 1
        resource.rating_count += 1
        resource.rating_sum += 4
        make.db.session.commit()
        make.resource_version(resource)


def more_classes(make, w, n):
    """More classes the city teacher teaches this week, each to a new village classroom."""
    for _ in range(n):
        _class(make, w, [_village_room(make, w)], whole_week=True)


def more_assisted(make, w, n):
    """More classes the village teacher assists in, in the village school's classroom, each
    taught by another city teacher."""
    for _ in range(n):
        _class(make, w, [(w["village_room"], w["teacher"])], whole_week=True,
               main_teacher=make.user("teacher", school=w["city"]))


def more_receiving(make, w, n):
    """A class like the world's, a week ago, with ``len(receiving) + n`` receiving classrooms
    (each with a different assistant) and their attendance; the session pages show it."""
    from portal.scheduling.attendance import record_attendance

    rooms = [(w["village_room"], w["teacher"])]
    rooms += [_village_room(make, w) for _ in range(len(w["live_class"].receiving) + n - 1)]
    _class(make, w, rooms, main_room=w["city_room"], day=local_today() - timedelta(days=7))
    for room, assistant in rooms:
        record_attendance(assistant, w["session"], room.id, present=18, class_size=20, feedback="好")
    make.db.session.commit()


def more_observations(make, w, n):
    """More final records by the village principal, each of another teacher of the school."""
    for i in range(n):
        make.observation(w["principal"], make.user("teacher", school=w["village"]), on=local_today() - timedelta(days=i))


def more_feedback(make, w, n):
    """More final records of the village teacher's lessons, each by another observer (researchers)."""
    for i in range(n):
        researcher = make.user("researcher", county=w["county"])
        make.counted(researcher, on=local_today() - timedelta(days=i), teacher=w["teacher"], topic=f"课{i}")


def more_record_detail(make, w, n):
    """A record with ``1 + n`` action steps, amendments and files."""
    from portal.observations import services

    raw = {"action_steps": [f"改进{i}" for i in range(1 + n)]}
    w["observation"] = observation = make.observation(w["principal"], w["teacher"], **raw)
    for i in range(n):
        services.amend_observation(w["principal"], observation, {"topic": f"改{i}"}, reason=f"补充{i}")
        make.db.session.commit()


def more_principals(make, w, n):
    for _ in range(n):
        principal = make.user("principal", school=make.school("village", county=w["county"]))
        make.counted(principal)


def more_contact_schools(make, w, n):
    for _ in range(n):
        school = make.school("village", county=w["county"])
        make.contact_school(w["researcher"], school)
        make.visit(w["researcher"], school, visited_on=local_today())


def more_users(make, w, n):
    for _ in range(n):
        make.user("teacher", school=w["village"])
        make.user("principal", school=make.school("village", county=w["county"]))


def more_hours(make, w, n):
    """More activities the village teacher attended, each in another community."""
    from portal.communities import activities

    for i in range(n):
        community = make.community("teacher", leader=make.user("teacher", county=w["county"]), county=w["county"])
        make.member(community, w["teacher"])
        activity = make.activity(community, starts_at=utcnow().replace(microsecond=0) - timedelta(days=2 + i))
        activities.record_attendance(community.leader, activity, {w["teacher"].id})
        make.db.session.commit()


def more_terms(make, w, n):
    """Past terms."""
    for _ in range(n):
        year = 1990 + make._n()
        make.term(start=date(year, 9, 1), end=date(year + 1, 1, 20), name=f"{year}学年")


def more_rules(make, w, n):
    for i in range(n):
        make.quota_rule(county=w["county"], required=30 + i, role="principal" if i % 2 else "teacher",
                        name=f"规则{i}")


def more_tokens(make, w, n):
    from portal.accounts.models import ApiToken

    for i in range(n):
        make.db.session.add(ApiToken(user_id=w["teacher"].id, token_hash=f"{make._n():064d}", name=f"t{i}",
                                     expires_at=utcnow() + timedelta(days=30)))
    make.db.session.commit()


def more_audit(make, w, n):
    from portal.core.audit import record

    for i in range(n):
        record(make.user("teacher", school=w["village"]), "membership.requested", "membership", 100 + i,
               county_id=w["county"].id, summary=f"申请{i}")
    make.db.session.commit()


def more_room_events(make, w, n):
    """Receiving classrooms, and chat in the room from each of them."""
    from portal.live.models import LiveEvent

    more_receiving(make, w, n)
    for i, room in enumerate(w["live_class"].receiving):
        make.db.session.add(LiveEvent(session_id=w["session"].id, seq=i + 1, kind="chat", user_id=room.assistant_id,
                                      classroom_id=room.classroom_id, payload={"text": f"你好{i}"}))
    make.db.session.commit()


def more_exchanges(make, w, n):
    for _ in range(n):
        make.exchange(make.user("teacher", school=w["city"]), make.school("village", county=w["county"]),
                      start=local_today() - timedelta(days=10), end=None)


def more_log_schools(make, w, n):
    """A log entry of the world's partnership naming ``1 + n`` more schools."""
    from portal.partnerships.models import PartnershipSchool

    schools = [make.school("village", county=w["county"]) for _ in range(n)]
    w["partnership"].members += [PartnershipSchool(school_id=s.id) for s in schools]
    make.db.session.commit()
    w["entry"] = make.pairing_activity(w["partnership"], author=w["principal"])


def more_activity_types(make, w, n):
    from portal.communities.models import ActivityType

    for _ in range(n):
        k = make._n()
        make.db.session.add(ActivityType(name=f"类型{k}", community_kind="teacher" if k % 2 else None))
    make.db.session.commit()


def more_calendar_days(make, w, n):
    from portal.scheduling.models import CalendarDay

    for _ in range(n):
        k = make._n()
        make.db.session.add(CalendarDay(day=local_today() + timedelta(days=30 + k), kind="holiday", name=f"假{k}",
                                        county_id=w["county"].id))
    make.db.session.commit()


def more_rubrics(make, w, n):
    """More rubric templates of one to ten dimensions; the rubric page shows the last one."""
    from portal.observations.models import RubricTemplate

    for _ in range(n):
        k = make._n()
        dimensions = [{"code": f"d{i}", "label": f"维度{i}", "weight": 1, "min": 1, "max": 5, "levels": []}
                      for i in range(k % 10 + 1)]
        template = RubricTemplate(family=f"f{k}", version=1, name=f"评价表{k}", dimensions=dimensions,
                                  created_by_id=make.user("bureau", county=w["county"]).id)
        make.db.session.add(template)
        make.db.session.commit()
        w["rubric"] = template


# --- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    path: str  # formatted with the world's objects' ids: {school}, {community}...
    who: str  # a key of the world; "@who" calls the API with that person's token
    grow: object
    budget: int = BUDGET
    extra: int = 0  # a documented constant difference (none so far)
    shows_more: bool = True  # the larger world's page differs: the grower added what the page shows


PAGES = {
    "home_bureau": Page("/", "bureau", more_schools),
    "home_bureau_notes": Page("/", "bureau", more_notifications),
    "home_researcher": Page("/", "researcher", more_contact_schools),
    "home_researcher_communities": Page("/", "researcher", more_memberships),
    "home_principal": Page("/", "principal", more_partnerships),
    "home_principal_records": Page("/", "principal", more_observations),
    "home_principal_classes": Page("/", "city_principal", more_classes),
    "home_teacher": Page("/", "teacher", more_memberships),
    "home_teacher_notes": Page("/", "teacher", more_notifications),
    "home_teacher_classes": Page("/", "city_teacher", more_classes),
    "home_teacher_records": Page("/", "teacher", more_feedback),
    "school_page": Page("/schools/{village}", "principal", more_school_people),
    "school_page_bureau": Page("/schools/{village}", "bureau", more_school_people),
    "notifications": Page("/notifications", "teacher", more_notifications),
    "terms": Page("/terms", "bureau", more_terms),
    "tokens": Page("/tokens", "teacher", more_tokens),
    "audit": Page("/admin/audit", "bureau", more_audit),
    # the members page's members: communities/test_views.py; here the requests a leader answers
    "community_members_pending": Page("/communities/{community}/members", "city_teacher", more_members),
    # the activity page's attached resources: resources/test_links.py; here its sign-ups
    "activity_participants": Page("/activities/{activity}", "city_teacher", more_participants),
    "user_hours": Page("/users/{teacher}/training-hours", "principal", more_hours),
    "coverage_page": Page("/supervision/coverage", "bureau", more_schools),
    "partnership_page": Page("/partnerships/{partnership}", "bureau", more_partners),
    "partnership_page_principal": Page("/partnerships/{partnership}", "principal", more_partners),
    "resource_page": Page("/resources/{resource}", "teacher", more_resource_social),
    "resource_page_owner": Page("/resources/{resource}", "city_teacher", more_resource_social),
    "timetable_teacher": Page("/timetable?week={monday}", "city_teacher", more_classes),
    "timetable_assistant": Page("/timetable?week={monday}", "teacher", more_assisted),
    "timetable_of_teacher": Page("/timetable/teachers/{city_teacher}?week={monday}", "city_principal",
                                 more_classes),
    "timetable_classroom": Page("/timetable/classrooms/{village_room}?week={monday}", "principal", more_assisted),
    "class_page": Page("/live-classes/{live_class}", "bureau", more_receiving),
    "class_page_assistant": Page("/live-classes/{live_class}", "teacher", more_receiving),
    "session_page": Page("/live-sessions/{session}", "city_teacher", more_receiving),
    "session_page_assistant": Page("/live-sessions/{session}", "teacher", more_receiving),
    # the room's classrooms and chat come over the socket (tests/live/test_room.py counts those)
    "live_room": Page("/live-sessions/{session}/room", "city_teacher", more_room_events, shows_more=False),
    "live_room_watcher": Page("/live-sessions/{session}/room", "bureau", more_room_events, shows_more=False),
    "live_summary": Page("/live-sessions/{session}/summary", "city_teacher", more_room_events),
    "observations_list": Page("/observations", "principal", more_observations),
    "observations_of_others": Page("/observations?scope=all", "bureau", more_principals),
    "observations_of_me": Page("/observations/of-me", "teacher", more_feedback),
    "observations_teachers": Page("/observations/teachers?school_id={village}", "principal", more_school_people),
    "observation_record": Page("/observations/{observation}", "principal", more_record_detail),
    "observation_record_teacher": Page("/observations/{observation}", "teacher", more_record_detail),
    "observations_register": Page("/observations/register.xlsx?observer_id={principal}", "principal",
                                  more_observations),
    "quota_export": Page("/observations/quota/export.xlsx", "bureau", more_principals),
    "quota_rules": Page("/observations/quota/rules", "bureau", more_rules),
    "researcher_page": Page("/researchers/{researcher}", "bureau", more_contact_schools),
    "log_entry": Page("/log/{entry}", "principal", more_log_schools),
    "activity_types": Page("/admin/activity-types", "bureau", more_activity_types),
    "school_calendar": Page("/admin/calendar", "bureau", more_calendar_days),
    "rubrics": Page("/observations/rubrics", "bureau", more_rubrics),
    "rubric": Page("/observations/rubrics/{rubric}", "principal", more_rubrics),
    # the Excel registers
    "audit_export": Page("/admin/audit.xlsx", "bureau", more_audit),
    "exchanges_export": Page("/exchanges/export.xlsx", "bureau", more_exchanges),
    "researchers_export": Page("/researchers/export.xlsx", "bureau", more_contact_schools),
    "school_resources_export": Page("/schools/{city}/resources/export.xlsx", "city_principal", more_resources),
    "coverage_export": Page("/supervision/coverage/export.xlsx", "bureau", more_schools),
    "term_export": Page("/timetable/schools/{village}/term.xlsx", "principal", more_assisted),
    "hours_export": Page("/training-hours/export.xlsx", "teacher", more_hours),
    "user_hours_export": Page("/users/{teacher}/training-hours/export.xlsx", "principal", more_hours),
    "live_summary_export": Page("/live-sessions/{session}/summary.xlsx", "city_teacher", more_room_events),
    # the API
    "api_me": Page("/api/v1/me", "@teacher", more_memberships, shows_more=False),  # oneself only
    "api_users": Page("/api/v1/users", "@bureau", more_users),
    "api_users_by_school": Page("/api/v1/users?school_id={village}", "@bureau", more_users),
    "api_schools": Page("/api/v1/schools", "@teacher", more_schools),
    "api_classrooms": Page("/api/v1/schools/{village}/classrooms", "@teacher", more_school_people),
    "api_term_current": Page("/api/v1/terms/current", "@teacher", more_terms, shows_more=False),  # one term
    "api_communities": Page("/api/v1/communities", "@teacher", more_memberships),
    "api_community": Page("/api/v1/communities/{community}", "@teacher", more_members),
    "api_community_members": Page("/api/v1/communities/{community}/members", "@teacher", more_members),
    "api_community_activities": Page("/api/v1/communities/{community}/activities", "@teacher", more_activities),
    "api_partnerships": Page("/api/v1/partnerships", "@principal", more_partnerships),
    "api_partnership": Page("/api/v1/partnerships/{partnership}", "@principal", more_partners),
    "api_resources": Page("/api/v1/resources", "@teacher", more_resources),
    "api_resources_search": Page("/api/v1/resources?q=分数", "@teacher", more_resources),
    "api_resource": Page("/api/v1/resources/{resource}", "@teacher", more_resource_social),
    "api_live_sessions": Page("/api/v1/live-sessions?from={monday}&to={sunday}", "@city_teacher", more_classes),
    "api_live_summary": Page("/api/v1/live-sessions/{session}/summary", "@city_teacher", more_room_events),
    "api_calendar": Page("/api/v1/calendar/{city_teacher}.ics", "@city_teacher", more_classes),
    "api_observation_progress_bureau": Page("/api/v1/observations/progress?observer_id={principal}", "@bureau",
                                            more_observations),
    "api_observation_progress": Page("/api/v1/observations/progress?observer_id={principal}", "@principal",
                                     more_observations),
}


# Pages whose budget is tested next to their feature: path → the test (file::function) that does it.
ELSEWHERE = {
    "/schools": "org/test_views.py::test_school_list_query_count_does_not_grow",
    "/admin/users": "accounts/test_admin.py::test_user_list_query_count_does_not_grow_with_users",
    "/communities": "communities/test_views.py::test_community_pages_run_a_fixed_number_of_queries",
    "/communities/<community_id>": "communities/test_views.py::test_community_pages_run_a_fixed_number_of_queries",
    "/communities/<community_id>/activities":
        "communities/test_views.py::test_community_pages_run_a_fixed_number_of_queries",
    "/communities/<community_id>/threads":
        "communities/test_discussions.py::test_a_long_thread_list_runs_a_fixed_number_of_queries",
    "/communities/<community_id>/projects":
        "communities/test_projects.py::test_list_and_project_pages_run_a_fixed_number_of_queries",
    "/threads/<thread_id>": "communities/test_discussions.py::test_a_long_thread_runs_a_fixed_number_of_queries",
    "/projects/<project_id>": "communities/test_projects.py::test_list_and_project_pages_run_a_fixed_number_of_queries",
    "/training-hours": "communities/test_hours.py::test_the_page_query_count_does_not_grow_with_records",
    "/partnerships": "partnerships/test_partnerships.py::test_list_and_page_query_counts_do_not_grow",
    "/partnerships/<partnership_id>/log": "partnerships/test_log.py::test_log_page_queries_do_not_grow_with_entries",
    "/researchers": "partnerships/test_visits.py::test_researchers_query_count_is_fixed",
    "/visits": "partnerships/test_visits.py::test_visits_page_query_count_is_fixed",
    "/exchanges": "partnerships/test_exchanges.py::test_exchange_list_query_count_is_fixed",
    "/exchanges/rules": "partnerships/test_exchanges.py::test_rules_query_count_is_fixed",
    "/resources": "resources/test_views.py::test_the_list_query_count_does_not_grow",
    "/schools/<school_id>/resources": "resources/test_social.py::test_the_flows_page_runs_a_fixed_number_of_queries",
    "/timetable/schools/<school_id>": "scheduling/test_timetable.py::test_week_view_query_count_does_not_grow_with_sessions",
    "/timetable/schools/<school_id>/term":
        "scheduling/test_timetable.py::test_term_overview_query_count_does_not_grow_with_classes",
    "/live-classes": "scheduling/test_class_pages.py::test_the_class_list_runs_the_same_queries_for_more_classes",
    "/observations/quota": "observations/test_quota_views.py::test_page_query_count_is_constant",
    "/supervision/dashboard": "supervision/test_dashboard.py::test_the_query_count_does_not_grow_with_the_data",
    "/supervision/dashboard/lists/<key>": "supervision/test_dashboard.py::test_the_query_count_does_not_grow_with_the_data",
    "/supervision/dashboard/lists/<key>/export.xlsx":
        "supervision/test_dashboard.py::test_the_query_count_does_not_grow_with_the_data",
    "/supervision/schools/<school_id>": "supervision/test_dashboard.py::test_the_query_count_does_not_grow_with_the_data",
    "/supervision/partnerships": "supervision/test_health.py::test_query_count_does_not_grow_with_partnerships",
    "/supervision/partnerships/export.xlsx": "supervision/test_health.py::test_query_count_does_not_grow_with_partnerships",
    "/api/v1/coverage": "supervision/test_coverage.py::test_query_count_does_not_grow_with_the_gaps",
}

# GET routes that are no list or detail page: forms (and the bureau's edit pages of one school, user,
# classroom, term or bell schedule), files, the health check, the fixed OpenAPI document.
NOT_PAGES = re.compile(
    r"(/new|/edit|/change|/amend|/download|/preview|\.js|/template/<kind>)$|^/static/|^/healthz$|^/login$"
    r"|^/password$|^/attachments/|^/observations/files/|^/api/v1/openapi\.json$|^/admin/roster$"
    r"|^/admin/(users|schools|classrooms|terms)/<\w+>$|^/schools/<school_id>/bells/<schedule_id>$"
)


def _ids(w) -> dict:
    ids = {key: getattr(value, "id", value) for key, value in w.items()}
    ids["sunday"] = w["monday"] + timedelta(days=6)
    return ids


def _get(client, count_queries, path: str, token: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with count_queries() as statements:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    return len(statements), response.data


def _content(body: bytes) -> bytes:
    """The page without what changes on every request (CSRF tokens)."""
    return re.sub(rb'name="csrf_token"[^>]*>|<meta name="csrf-token"[^>]*>', b"", body)


def _log_in(client, user) -> None:
    """The session cookie the login form sets (the form itself is tested in accounts/; its
    password hashing would dominate this module's run time)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_page_runs_as_many_statements_on_more_data(name, w, make, db, client, count_queries):
    from portal.accounts.services import issue_token

    page = PAGES[name]
    user = w[page.who.lstrip("@")]
    token = None
    if page.who.startswith("@"):
        token = issue_token(user)
        db.session.commit()
    else:
        _log_in(client, user)
    counts, bodies = [], []
    for n in (1, MORE):
        page.grow(make, w, n)
        path = page.path.format(**_ids(w))
        _get(client, count_queries, path, token)  # a first view may be counted or cached
        statements, body = _get(client, count_queries, path, token)
        counts.append(statements)
        bodies.append(body)
    small, larger = counts
    print(f"QUERIES {name} {path} {small} {larger}")
    if page.shows_more:
        assert _content(bodies[1]) != _content(bodies[0]), f"{path}: the larger world shows nothing new"
    assert larger == small + page.extra, f"{path}: {small} statements on a small world, {larger} on a larger one"
    assert larger <= page.budget, f"{path}: {larger} statements, the budget is {page.budget}"


def _rule_path(rule) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)


def test_every_main_page_has_a_budget(app):
    """A new GET page or API list gets a row in PAGES or a budget test of its own (ELSEWHERE)."""
    here = {re.sub(r"\{(\w+)\}", "<x>", p.path.split("?")[0]) for p in PAGES.values()}
    tests = Path(__file__).parent
    for test in ELSEWHERE.values():
        file, function = test.split("::")
        assert f"def {function}(" in (tests / file).read_text(encoding="utf-8"), test
    missing = []
    for rule in app.url_map.iter_rules():
        path = _rule_path(rule)
        if "GET" not in rule.methods or NOT_PAGES.search(path) or path in ELSEWHERE:
            continue
        if re.sub(r"<\w+>", "<x>", path) not in here:
            missing.append(path)
    assert not missing, f"GET pages without a query budget: {sorted(missing)}"
