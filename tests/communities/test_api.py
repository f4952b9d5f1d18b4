"""API: GET /communities and POST /communities/<id>/members as CONTRACT.md writes them."""

from __future__ import annotations

import pytest

from portal.communities.models import Membership


@pytest.fixture
def world(make):
    county = make.county()
    leader = make.user("teacher", school=make.school("urban", county=county))
    teachers = make.community("teacher", leader=leader, county=county)
    principals = make.community("principal", leader=make.user("principal", county=county), county=county)
    rural = make.user("teacher", school=make.school("village", county=county))
    return teachers, principals, leader, rural


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_list_communities_by_kind(client, api_token, world):
    teachers, principals, _leader, rural = world
    headers = bearer(api_token(rural))
    body = client.get("/api/v1/communities", headers=headers).json
    assert body["total"] == 2 and set(body) >= {"items", "total", "page", "per_page"}
    body = client.get("/api/v1/communities?kind=principal", headers=headers).json
    item = body["items"][0]
    assert {k: item[k] for k in ("id", "name", "kind", "leader_id", "member_count")} == {
        "id": principals.id, "name": principals.name, "kind": "principal",
        "leader_id": principals.leader_id, "member_count": 1}
    assert client.get("/api/v1/communities?kind=club", headers=headers).status_code == 400
    assert client.get("/api/v1/communities").status_code == 401


def test_ask_to_join_gives_202_and_the_leader_adding_gives_201(client, api_token, db, make, world):
    teachers, _principals, leader, rural = world
    response = client.post(f"/api/v1/communities/{teachers.id}/members", json={}, headers=bearer(api_token(rural)))
    assert response.status_code == 202 and response.json["status"] == "pending"
    again = client.post(f"/api/v1/communities/{teachers.id}/members", json={}, headers=bearer(api_token(rural)))
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"

    other = make.user("teacher", county=teachers.county)
    response = client.post(f"/api/v1/communities/{teachers.id}/members", json={"user_id": other.id},
                           headers=bearer(api_token(leader)))
    assert response.status_code == 201
    assert response.json["user_id"] == other.id and response.json["status"] == "active"


def test_a_member_cannot_add_people(client, api_token, make, world):
    teachers, _principals, _leader, rural = world
    member = make.member(teachers).user
    response = client.post(f"/api/v1/communities/{teachers.id}/members", json={"user_id": rural.id},
                           headers=bearer(api_token(member)))
    assert response.status_code == 403 and response.json["error"]["message"]


def test_teacher_cannot_ask_to_join_a_principal_community(client, api_token, world):
    _teachers, principals, _leader, rural = world
    response = client.post(f"/api/v1/communities/{principals.id}/members", json={}, headers=bearer(api_token(rural)))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"user_id": "7"}, 422),
        ({"user_id": -1}, 422),
        ({"user_id": 2**40}, 422),
        ({"user_id": 999_999}, 422),
        ({"user_id": True}, 422),
        ({"userid": 1}, 422),
        ([1, 2], 400),
    ],
)
def test_bad_member_bodies_are_4xx_and_change_nothing(client, api_token, db, world, body, status):
    teachers, _principals, leader, _rural = world
    response = client.post(f"/api/v1/communities/{teachers.id}/members", json=body, headers=bearer(api_token(leader)))
    assert response.status_code == status, response.json
    assert response.json["error"]["message"]
    assert db.session.query(Membership).count() == 2


def test_unknown_community_is_404(client, api_token, world):
    response = client.post("/api/v1/communities/99999/members", json={}, headers=bearer(api_token("teacher")))
    assert response.status_code == 404


def test_members_list_is_for_members(client, api_token, make, world):
    teachers, _principals, leader, rural = world
    assert client.get(f"/api/v1/communities/{teachers.id}/members", headers=bearer(api_token(rural))).status_code == 403
    body = client.get(f"/api/v1/communities/{teachers.id}/members", headers=bearer(api_token(leader))).json
    assert [m["user_id"] for m in body["items"]] == [leader.id]
