"""Research projects (课题): services, who may do what, the pages and their query counts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Notification
from portal.communities import projects
from portal.communities.models import Project, ProjectMember, ProjectOutput
from portal.core.errors import Conflict, Invalid, NotAllowed

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


@pytest.fixture
def world(make):
    """A teacher community: its leader, a core member, a plain member; a teacher outside it."""
    county = make.county()
    leader = make.user("teacher", county=county)
    community = make.community("teacher", leader=leader, county=county)
    core = make.member(community, role="core").user
    member = make.member(community).user
    outsider = make.user("teacher", county=county)
    return community, leader, core, member, outsider


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def kinds_for(db, user) -> list[str]:
    return list(db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)))


def new_project(community, actor, lead=None, **kwargs):
    return projects.create_project(actor, community, title=kwargs.pop("title", "乡村小学数学作业设计研究"),
                                   lead=lead or actor, level=kwargs.pop("level", "county"), **kwargs)


# --- services ------------------------------------------------------------------------------------


def test_leader_creates_a_project_whose_lead_is_a_member_and_is_told(db, world):
    community, leader, core, _member, _outsider = world
    project = new_project(community, leader, lead=core, summary="目标\n\n方法", started_on=date(2026, 9, 1),
                          ends_on=date(2027, 6, 30))
    db.session.commit()
    assert project.status == "proposed" and project.lead_id == core.id
    assert project.summary_html == "<p>目标</p><p>方法</p>"
    assert count(db, ProjectMember, ProjectMember.project_id == project.id, ProjectMember.user_id == core.id) == 1
    assert "project.lead_appointed" in kinds_for(db, core)


def test_a_plain_member_cannot_start_a_project_and_the_lead_must_be_a_member(db, world, make):
    community, leader, _core, member, outsider = world
    with pytest.raises(NotAllowed):
        new_project(community, member)
    with pytest.raises(Invalid):
        new_project(community, leader, lead=outsider)
    with pytest.raises(Invalid):
        new_project(community, leader, title="  ")
    with pytest.raises(Invalid):
        new_project(community, leader, started_on=date(2027, 1, 1), ends_on=date(2026, 1, 1))
    bureau = make.user("bureau")
    assert new_project(community, bureau, lead=leader).lead_id == leader.id


def test_members_are_community_members_notified_once_and_the_lead_stays(db, world):
    community, leader, core, member, outsider = world
    project = new_project(community, leader)
    projects.add_project_member(leader, project, member)
    db.session.commit()
    assert kinds_for(db, member) == ["project.member_added"]
    with pytest.raises(Conflict):
        projects.add_project_member(leader, project, member)
    with pytest.raises(Invalid):
        projects.add_project_member(leader, project, outsider)
    with pytest.raises(NotAllowed):
        projects.add_project_member(core, project, core)  # a core member who does not lead this project
    with pytest.raises(Conflict):
        projects.remove_project_member(leader, project, leader)
    projects.remove_project_member(leader, project, member)
    assert count(db, ProjectMember, ProjectMember.project_id == project.id) == 1


def test_a_new_lead_joins_and_the_old_one_stays(db, world):
    community, leader, core, _member, _outsider = world
    project = new_project(community, leader)
    projects.update_project(leader, project, title="新题目", lead=core, level="city")
    db.session.commit()
    ids = set(db.session.scalars(select(ProjectMember.user_id).where(ProjectMember.project_id == project.id)))
    assert ids == {leader.id, core.id} and project.lead_id == core.id and project.title == "新题目"
    # the new lead may now change it; the status must be one of the four
    projects.set_project_status(core, project, "in_progress")
    with pytest.raises(Invalid):
        projects.set_project_status(core, project, "finished")
    assert project.status == "in_progress"


def test_project_members_add_outputs_others_cannot_and_links_are_web_links_only(db, world):
    community, leader, core, member, _outsider = world
    project = new_project(community, leader)
    projects.add_project_member(leader, project, member)
    output = projects.add_output(member, project, title="中期报告", kind="report", url="https://example.org/r.pdf")
    assert output.added_by_id == member.id
    with pytest.raises(NotAllowed):
        projects.add_output(core, project, title="不是成员")
    for bad in ("javascript:alert(1)", "data:text/html,<script>", "//evil.example", "ftp://x.org/a", "/local",
                'https://x.org/"onmouseover=alert(1)'):
        with pytest.raises(Invalid):
            projects.add_output(member, project, title="链接", url=bad)
    with pytest.raises(Invalid):
        projects.add_output(member, project, title="种类", kind="video")
    other = projects.add_output(leader, project, title="论文", kind="paper")
    with pytest.raises(NotAllowed):
        projects.remove_output(member, other)  # someone else's output
    projects.remove_output(member, output)  # their own
    projects.remove_output(leader, other)  # the lead removes any
    assert count(db, ProjectOutput) == 0


# --- pages ---------------------------------------------------------------------------------------


def test_non_members_get_403_members_and_the_bureau_read(client, login_as, make, world):
    community, leader, _core, member, outsider = world
    project = make.project(community, title="阅读课题")
    output = ProjectOutput(project_id=project.id, title="成果一", added_by_id=leader.id)
    make.db.session.add(output)
    make.db.session.commit()
    urls = [f"/communities/{community.id}/projects", f"/projects/{project.id}"]
    for person in (outsider, make.user("principal", county=community.county), make.user("researcher")):
        login_as(person)
        for url in urls:
            assert client.get(url).status_code == 403, (person.role, url)
        assert client.get(f"/communities/{community.id}/projects/new").status_code == 403
    for person in (member, make.user("bureau")):
        login_as(person)
        for url in urls:
            page = client.get(url)
            assert page.status_code == 200 and "阅读课题" in page.get_data(as_text=True)
    assert client.get("/projects/999999").status_code == 404


def test_list_filters_by_status_and_refuses_junk(client, login_as, make, world):
    community, leader, *_ = world
    make.project(community, title="进行中的课题", status="in_progress")
    make.project(community, title="已结题的课题", status="concluded")
    login_as(leader)
    page = client.get(f"/communities/{community.id}/projects?status=concluded").get_data(as_text=True)
    assert "已结题的课题" in page and "进行中的课题" not in page
    assert client.get(f"/communities/{community.id}/projects?status=nope").status_code == 400


def test_leader_creates_edits_and_manages_a_project_through_the_pages(client, auth, login_as, db, world):
    community, leader, core, member, outsider = world
    login_as(leader)
    new_url = f"/communities/{community.id}/projects/new"
    response = auth.post(new_url, {"title": "<b>课题</b>", "lead": leader.username, "level": "city",
                                   "summary": "<p onclick=x()>好<script>alert(1)</script></p>",
                                   "started_on": "2026-09-01", "ends_on": ""}, csrf_from=new_url)
    assert response.status_code == 302, response.data[:400]
    project = db.session.scalars(select(Project)).one()
    assert project.summary_html == "<p>好alert(1)</p>" and project.ends_on is None
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "&lt;b&gt;课题&lt;/b&gt;" in page and "<script>" not in page

    url = f"/projects/{project.id}"
    assert auth.post(url + "/members", {"username": member.username}, csrf_from=url).status_code == 302
    assert auth.post(url + "/members", {"username": outsider.username}, csrf_from=url).status_code == 422
    assert auth.post(url + "/members", {"username": "nobody-here"}, csrf_from=url).status_code == 422
    assert auth.post(url + f"/members/{member.id}/remove", csrf_from=url).status_code == 302
    assert auth.post(url + f"/members/{leader.id}/remove", csrf_from=url).status_code == 409

    edit = url + "/edit"
    bad = auth.post(edit, {"title": "课题", "lead": leader.username, "level": "county", "status": "concluded",
                           "started_on": "2026-13-01"}, csrf_from=edit)
    assert bad.status_code == 400 and "2026-09-01" in bad.get_data(as_text=True)
    good = auth.post(edit, {"title": "课题二", "lead": core.username, "level": "county", "status": "concluded"},
                     csrf_from=edit)
    assert good.status_code == 302
    db.session.refresh(project)
    assert (project.title, project.status, project.lead_id) == ("课题二", "concluded", core.id)


def test_outputs_through_the_pages(client, auth, login_as, db, world):
    community, leader, core, member, _outsider = world
    project = projects.create_project(leader, community, title="课题", lead=leader)
    projects.add_project_member(leader, project, member)
    db.session.commit()
    url = f"/projects/{project.id}"
    login_as(core)  # in the community, not in the project
    assert auth.post(url + "/outputs", {"title": "x", "kind": "report"}, csrf_from=url).status_code == 403
    login_as(member)
    bad = auth.post(url + "/outputs", {"title": "报告", "kind": "report", "url": "javascript:alert(1)"},
                    csrf_from=url)
    assert bad.status_code == 422 and "http" in bad.get_data(as_text=True)
    assert auth.post(url + "/outputs", {"title": "", "kind": "report"}, csrf_from=url).status_code == 422
    assert count(db, ProjectOutput) == 0
    ok = auth.post(url + "/outputs", {"title": "结题报告", "kind": "report", "url": "https://example.org/a"},
                   csrf_from=url)
    assert ok.status_code == 302
    output = db.session.scalars(select(ProjectOutput)).one()
    page = client.get(url).get_data(as_text=True)
    assert 'href="https://example.org/a"' in page and "结题报告" in page
    login_as(core)
    assert auth.post(f"/outputs/{output.id}/delete", csrf_from=url).status_code == 403
    login_as(member)
    assert auth.post(f"/outputs/{output.id}/delete", csrf_from=url).status_code == 302
    assert count(db, ProjectOutput) == 0


def _fill(make, community, n_projects: int, n_people: int):
    leader = community.leader
    made = []
    for i in range(n_projects):
        project = make.project(community, title=f"课题{i}")
        for _ in range(n_people):
            person = make.member(community).user
            make.db.session.add(ProjectMember(project_id=project.id, user_id=person.id))
            make.db.session.add(ProjectOutput(project_id=project.id, title="成果", added_by_id=person.id))
        make.db.session.add(ProjectMember(project_id=project.id, user_id=leader.id))
        made.append(project)
    make.db.session.commit()
    return made


def test_list_and_project_pages_run_a_fixed_number_of_queries(client, login_as, make, count_queries):
    counts = {}
    for size in (2, 8):
        leader = make.user("teacher")
        community = make.community("teacher", leader=leader)
        project = _fill(make, community, size, size)[0]
        login_as(leader)
        with count_queries() as listing:
            assert client.get(f"/communities/{community.id}/projects").status_code == 200
        with count_queries() as page:
            assert client.get(f"/projects/{project.id}").status_code == 200
        counts[size] = (len(listing), len(page))
    assert counts[2] == counts[8], counts
