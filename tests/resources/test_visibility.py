"""Every visibility level against every role and a non-member: the list, the search, the detail
page, the download, the API list and the API download all agree with ``visible_resources``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.core.timeutil import local_today
from portal.resources.permissions import can_view_resource

LEVELS = ("public", "community", "pairing", "private")
PEOPLE = ("owner", "member", "non_member", "partner_principal", "other_principal", "researcher", "bureau")
# Who sees a resource of each level. The owner's school S0 leads a partnership with a village
# school V; the owner and "member" (a teacher at another urban school) are in community C.
SEES = {
    "public": set(PEOPLE),
    "community": {"owner", "member", "bureau"},
    "pairing": {"owner", "partner_principal", "bureau"},
    "private": {"owner"},
}
PHRASE = "分数的意义"


@pytest.fixture
def world(make):
    county = make.county()
    s0 = make.school("urban", county=county, name="实验小学")
    village = make.school("village", county=county)
    s2 = make.school("urban", county=county)
    s3 = make.school("township", county=county)
    people = {
        "owner": make.user("teacher", school=s0),
        "member": make.user("teacher", school=s2),
        "non_member": make.user("teacher", school=s3),
        "partner_principal": make.user("principal", school=village),
        "other_principal": make.user("principal", school=s3),
        "researcher": make.user("researcher", county=county),
        "bureau": make.user("bureau"),
    }
    community = make.community("teacher", leader=people["member"], county=county)
    make.member(community, user=people["owner"])
    make.member(community, user=people["non_member"], status="pending")
    partnership = make.partnership(lead=s0, members=[village], start=local_today() - timedelta(days=30))
    make.partnership(lead=s2, members=[s3], start=local_today() - timedelta(days=30))  # another pairing
    resources = {}
    for level in LEVELS:
        resource = make.resource(people["owner"], title=f"五年级{PHRASE}{level}教案", visibility=level,
                                 communities=[community] if level == "community" else (),
                                 partnerships=[partnership] if level == "pairing" else ())
        make.resource_version(resource, name=f"{level}.pdf")
        resources[level] = resource
    return people, resources


def login(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("level", LEVELS)
def test_every_door_agrees(client, world, level, who):
    people, resources = world
    user, resource = people[who], resources[level]
    expected = who in SEES[level]
    login(client, user)
    assert can_view_resource(user, resource) is expected
    marker = f'href="/resources/{resource.id}"'
    assert (marker in client.get("/resources").get_data(as_text=True)) is expected, "list"
    assert (marker in client.get(f"/resources?q={PHRASE}").get_data(as_text=True)) is expected, "search"
    assert client.get(f"/resources/{resource.id}").status_code == (200 if expected else 404), "detail"
    assert client.get(f"/resources/{resource.id}/download").status_code == (200 if expected else 404), "download"
    version = resource.current_version_id
    assert client.get(f"/versions/{version}/download").status_code == (200 if expected else 404), "version"
    assert client.get(f"/resources/{resource.id}/preview").status_code == (200 if expected else 404), "preview"
    ids = {item["id"] for item in client.get("/api/v1/resources?per_page=100").json["items"]}
    assert (resource.id in ids) is expected, "API list"
    ids = {item["id"] for item in client.get(f"/api/v1/resources?q={PHRASE}").json["items"]}
    assert (resource.id in ids) is expected, "API search"
    status = client.get(f"/api/v1/resources/{resource.id}/download").status_code
    assert status == (200 if expected else 404), "API download"


@pytest.mark.parametrize("who", PEOPLE)
def test_a_taken_down_resource_is_gone_for_everyone(db, client, world, who):
    from portal.core.models import utcnow

    people, resources = world
    resource = resources["public"]
    resource.deleted_at = utcnow()
    db.session.commit()
    login(client, people[who])
    assert client.get(f"/resources/{resource.id}").status_code == 404
    assert client.get(f"/api/v1/resources/{resource.id}/download").status_code == 404
    assert resource.id not in {i["id"] for i in client.get("/api/v1/resources").json["items"]}


def test_an_ended_partnership_no_longer_shares(db, client, world):
    people, resources = world
    from portal.partnerships.models import Partnership
    from portal.resources.models import ResourceAudience

    audience = db.session.query(ResourceAudience).filter(ResourceAudience.partnership_id.isnot(None)).one()
    db.session.get(Partnership, audience.partnership_id).end_date = local_today() - timedelta(days=1)
    db.session.commit()
    login(client, people["partner_principal"])
    assert client.get(f"/resources/{resources['pairing'].id}").status_code == 404


# --- the person's audiences are kept between requests (permissions._audiences_of) ----------------


def listed(client, resource) -> bool:
    return f'href="/resources/{resource.id}"' in client.get("/resources").get_data(as_text=True)


def test_a_request_decided_and_a_community_left_show_on_the_next_list(db, client, world):
    from portal.communities import services
    from portal.communities.models import Community, Membership

    people, resources = world
    login(client, people["non_member"])
    assert not listed(client, resources["community"])  # pending: not yet a member
    pending = db.session.query(Membership).filter_by(user_id=people["non_member"].id).one()
    services.decide_request(people["member"], pending, approve=True)  # the leader lets them in
    db.session.commit()
    assert listed(client, resources["community"])
    services.leave(people["non_member"], db.session.get(Community, pending.community_id))
    db.session.commit()
    assert not listed(client, resources["community"])


def test_an_ended_partnership_after_a_list_no_longer_shares(db, client, world):
    from portal.partnerships import services
    from portal.partnerships.models import Partnership
    from portal.resources.models import ResourceAudience

    people, resources = world
    login(client, people["partner_principal"])
    assert listed(client, resources["pairing"])
    audience = db.session.query(ResourceAudience).filter(ResourceAudience.partnership_id.isnot(None)).one()
    services.end_partnership(people["bureau"], db.session.get(Partnership, audience.partnership_id),
                             local_today() - timedelta(days=1))
    db.session.commit()
    assert not listed(client, resources["pairing"])
    assert client.get(f"/resources/{resources['pairing'].id}").status_code == 404


def test_a_partnership_starting_tomorrow_shares_from_tomorrow(db, client, make, world, monkeypatch):
    from portal.resources import permissions

    people, _resources = world
    village = people["other_principal"].school
    tomorrow = local_today() + timedelta(days=1)
    starting = make.partnership(lead=people["owner"].school, members=[village], start=tomorrow)
    shared = make.resource(people["owner"], title="明天起共享", visibility="pairing", partnerships=[starting])
    login(client, people["other_principal"])
    assert not listed(client, shared)
    monkeypatch.setattr(permissions, "local_today", lambda: tomorrow)
    assert listed(client, shared)


def test_a_membership_made_in_the_same_transaction_is_seen_at_once(app, db, world):
    """Nothing kept hides what the request itself has just changed (core/cache.kept)."""
    from portal.communities.models import Membership
    from portal.resources.models import ResourceAudience

    people, resources = world
    person = people["other_principal"]
    community_id = db.session.query(ResourceAudience.community_id).filter(
        ResourceAudience.community_id.isnot(None)).scalar()
    with app.test_request_context():
        assert not can_view_resource(person, resources["community"])  # read, and kept
        db.session.add(Membership(community_id=community_id, user_id=person.id, role="member", status="active"))
        assert can_view_resource(person, resources["community"])  # not yet committed: read again
        db.session.rollback()
        assert not can_view_resource(person, resources["community"])
