"""Resources attached to community activities."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.core.errors import NotAllowed, NotFound
from portal.resources import links
from portal.resources.models import ActivityResource

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


@pytest.fixture
def world(make):
    county = make.county()
    school = make.school(kind="urban", county=county)
    leader = make.user("teacher", school=school, name="陈静", locale="en")
    community = make.community(leader=leader, county=county)
    member = make.member(community, make.user("teacher", school=school, locale="en")).user
    activity = make.activity(community, title="绘本阅读教学研讨")
    return {"county": county, "school": school, "leader": leader, "member": member, "community": community,
            "activity": activity}


def attached(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ActivityResource))


def test_the_leader_attaches_a_resource_and_a_member_sees_it(world, make, login_as, auth, client, db):
    activity = world["activity"]
    resource = make.resource(make.user("teacher"), "三年级英语绘本《The Little Red Hen》课件")
    login_as(world["leader"])
    page = client.get(f"/activities/{activity.id}?rq=绘本").get_data(as_text=True)
    assert "The Little Red Hen" in page and f'value="{resource.id}"' in page
    response = auth.post(f"/activities/{activity.id}/resources", {"resource_id": str(resource.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/activities/{activity.id}#resources")
    assert auth.post(f"/activities/{activity.id}/resources", {"resource_id": str(resource.id)}).status_code == 302
    assert attached(db) == 1  # once
    login_as(world["member"])
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "The Little Red Hen" in page and f"/resources/{resource.id}" in page
    assert "Find a resource to attach" not in page and "/remove" not in page


def test_a_member_who_cannot_edit_the_activity_cannot_attach_or_detach(world, make, login_as, auth, db):
    activity = world["activity"]
    resource = make.resource(world["leader"], "课件")
    links.attach_to_activity(world["leader"], activity, resource)
    db.session.commit()
    login_as(world["member"])
    assert auth.post(f"/activities/{activity.id}/resources", {"resource_id": str(resource.id)}).status_code == 403
    assert auth.post(f"/activities/{activity.id}/resources/{resource.id}/remove").status_code == 403
    with pytest.raises(NotAllowed):
        links.attach_to_activity(world["member"], activity, make.resource(world["member"], "我的"))
    assert attached(db) == 1


def test_a_private_resource_attached_by_its_owner_stays_hidden_from_the_others(world, make, login_as, client, db):
    activity = world["activity"]
    private = make.resource(world["leader"], "组长的私人草稿", "private")
    public = make.resource(world["leader"], "公开课件")
    links.attach_to_activity(world["leader"], activity, private)
    links.attach_to_activity(world["leader"], activity, public)
    db.session.commit()
    assert [r.title for r in links.activity_resources(world["member"], activity)] == ["公开课件"]
    login_as(world["member"])
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "公开课件" in page and "组长的私人草稿" not in page
    login_as(world["leader"])
    assert "组长的私人草稿" in client.get(f"/activities/{activity.id}").get_data(as_text=True)


def test_a_resource_the_editor_cannot_see_is_not_found(world, make, login_as, auth, db):
    activity = world["activity"]
    hidden = make.resource(make.user("teacher"), "别人的私人资源", "private")
    with pytest.raises(NotFound):
        links.attach_to_activity(world["leader"], activity, hidden)
    db.session.rollback()
    login_as(world["leader"])
    assert auth.post(f"/activities/{activity.id}/resources", {"resource_id": str(hidden.id)}).status_code == 404
    assert auth.post(f"/activities/{activity.id}/resources", {"resource_id": "abc"}).status_code == 400
    assert attached(db) == 0
    # nor is it offered by the search
    assert links.attachable(world["leader"], "别人的") == []


def test_the_leader_detaches_and_the_bureau_may_too(world, make, login_as, auth, db):
    activity = world["activity"]
    first, second = make.resource(world["leader"], "甲"), make.resource(world["leader"], "乙")
    links.attach_to_activity(world["leader"], activity, first)
    links.attach_to_activity(world["leader"], activity, second)
    db.session.commit()
    login_as(world["leader"])
    assert auth.post(f"/activities/{activity.id}/resources/{first.id}/remove").status_code == 302
    login_as(make.user("bureau"))
    assert auth.post(f"/activities/{activity.id}/resources/{second.id}/remove").status_code == 302
    assert attached(db) == 0


def test_the_activity_page_queries_do_not_grow_with_attached_resources(world, make, login_as, client, db,
                                                                      count_queries):
    activity = world["activity"]
    login_as(world["member"])
    links.attach_to_activity(world["leader"], activity, make.resource(world["leader"], "一"))
    db.session.commit()
    client.get(f"/activities/{activity.id}")
    with count_queries() as few:
        client.get(f"/activities/{activity.id}")
    for i in range(8):
        links.attach_to_activity(world["leader"], activity, make.resource(make.user("teacher"), f"资源{i}"))
    db.session.commit()
    with count_queries() as many:
        page = client.get(f"/activities/{activity.id}")
    assert "资源7" in page.get_data(as_text=True)
    assert len(many) == len(few)
