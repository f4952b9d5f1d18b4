"""The resources API (CONTRACT.md): POST /resources (multipart), GET /resources with ?q= and
filters, GET /resources/<id>/download; bad input is a 4xx JSON error and saves nothing."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from portal.core.timeutil import local_today
from portal.resources.models import Resource, ResourceDownload

from . import EXE, HTML, PDF, SVG, form_fields


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def teacher(make):
    return make.user("teacher", school=make.school("urban"), locale="en")


@pytest.fixture
def bearer(api_token, teacher):
    return {"Authorization": f"Bearer {api_token(teacher)}"}


def post(client, headers, data: bytes | None = PDF, name: str = "教案.pdf", **fields):
    body = form_fields(**fields)
    if data is not None:
        body["file"] = (io.BytesIO(data), name)
    return client.post("/api/v1/resources", data=body, headers=headers, content_type="multipart/form-data")


def test_sharing_a_file_answers_201_with_the_resource(db, client, bearer, teacher):
    response = post(client, bearer, name="分数的意义.pdf", tags="分数、教案")
    assert response.status_code == 201, response.json
    body = response.json
    resource = db.session.get(Resource, body["id"])
    assert body["title"] == "五年级《分数的意义》教学设计" and resource.owner_id == teacher.id
    assert {k: body[k] for k in ("kind", "subject", "stage", "grade", "edition", "unit", "visibility")} == {
        "kind": "lesson_plan", "subject": "math", "stage": "primary", "grade": 5, "edition": "pep",
        "unit": "第四单元", "visibility": "public"}
    assert body["tags"] == ["分数", "教案"] and body["owner_id"] == teacher.id
    assert body["size"] == len(PDF) and body["original_name"] == "分数的意义.pdf"
    assert body["download_url"] == f"/api/v1/resources/{resource.id}/download"
    assert body["preview_url"] == f"/resources/{resource.id}/preview"
    assert body["rating"] is None and body["download_count"] == 0
    assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None


def test_sharing_a_link_through_the_api(client, bearer):
    response = post(client, bearer, None, link_url="https://www.zxx.edu.cn/a")
    assert response.status_code == 201
    assert response.json["link_url"] == "https://www.zxx.edu.cn/a" and response.json["download_url"] is None


def test_community_and_partnership_ids_comma_separated_or_repeated(db, client, make, bearer, teacher):
    c1 = make.community("teacher", leader=make.user("teacher"))
    c2 = make.community("teacher", leader=make.user("teacher"))
    for community in (c1, c2):
        make.member(community, user=teacher)
    response = post(client, bearer, visibility="community", community_ids=f"{c1.id},{c2.id}")
    assert response.status_code == 201
    ids = {a.community_id for a in db.session.get(Resource, response.json["id"]).audiences}
    assert ids == {c1.id, c2.id}
    partnership = make.partnership(lead=teacher.school, start=local_today() - timedelta(days=3))
    body = {**form_fields(visibility="pairing"), "partnership_ids": [str(partnership.id), str(partnership.id)],
            "file": (io.BytesIO(PDF), "a.pdf")}
    response = client.post("/api/v1/resources", data=body, headers=bearer, content_type="multipart/form-data")
    assert response.status_code == 201
    assert [a.partnership_id for a in db.session.get(Resource, response.json["id"]).audiences] == [partnership.id]


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "poster"}, "kind"),
    ({"grade": "13"}, "grade"),
    ({"visibility": "friends"}, "visibility"),
    ({"visibility": None}, "visibility"),
    ({"visibility": "community", "community_ids": "999"}, "community_ids"),
    ({"visibility": "community", "community_ids": "1;DROP"}, "community_ids"),
    ({"visibility": "pairing"}, "partnership_ids"),
    ({"title": None}, "title"),
])
def test_bad_metadata_is_422_with_a_message_and_nothing_saved(db, client, bearer, fields, field):
    response = post(client, bearer, **fields)
    assert response.status_code == 422, response.json
    assert response.json["error"]["field"] == field and response.json["error"]["message"]
    assert count(db, Resource) == 0


def test_a_community_the_owner_is_not_in_is_refused(db, client, make, bearer):
    community = make.community("teacher", leader=make.user("teacher"))
    response = post(client, bearer, visibility="community", community_ids=str(community.id))
    assert response.status_code == 422 and "active member" in response.json["error"]["message"]
    assert count(db, Resource) == 0


@pytest.mark.parametrize(("data", "name"), [
    (EXE, "教案.pdf"), (HTML, "a.html"), (HTML, "a.pdf"), (SVG, "a.svg"), (b"", "a.pdf"), (PDF, "..")])
def test_dangerous_or_empty_files_are_refused(db, client, bearer, data, name):
    response = post(client, bearer, data, name)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "bad_upload" and response.json["error"]["message"]
    assert count(db, Resource) == 0


def test_an_oversized_upload_is_413_json(app, db, client, bearer):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = post(client, bearer, PDF + b"0" * 4000)
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    assert count(db, Resource) == 0


def test_no_file_and_no_link_is_refused(db, client, bearer):
    response = post(client, bearer, None)
    assert response.status_code in (400, 422) and response.json["error"]["message"]
    assert count(db, Resource) == 0


def test_a_cookie_post_needs_the_csrf_token(db, client, make):
    user = make.user("teacher")
    with client.session_transaction() as session:  # logged in by cookie, as the portal's own pages are
        session["_user_id"] = user.get_id()
    response = post(client, {})
    assert response.status_code == 400 and response.json["error"]["code"] == "csrf"
    assert count(db, Resource) == 0


def test_anonymous_is_401(client):
    assert client.get("/api/v1/resources").status_code == 401
    assert post(client, {}).status_code == 401


def test_the_list_searches_chinese_and_filters(client, make, bearer):
    other = make.user("teacher")
    a = make.resource(other, title="人教版五年级分数的意义教学设计", subject="math")
    b = make.resource(other, title="英语阅读", description="课文《分数的意义》的英文版", subject="english")
    make.resource(other, title="分数的意义（私人）", visibility="private")
    response = client.get("/api/v1/resources?q=分数的意义", headers=bearer)
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"items", "total", "page", "per_page"}
    assert [i["id"] for i in body["items"]] == [a.id, b.id] and body["total"] == 2
    response = client.get("/api/v1/resources?q=分数的意义&subject=english", headers=bearer)
    assert [i["id"] for i in response.json["items"]] == [b.id]
    response = client.get("/api/v1/resources?per_page=1&page=2&sort=date", headers=bearer)
    assert response.json["per_page"] == 1 and response.json["page"] == 2 and response.json["total"] == 2


@pytest.mark.parametrize("query", ["subject=astrology", "grade=13", "grade=x", "kind=poster", "sort=best",
                                   "page=0", "edition=人教版"])
def test_bad_list_parameters_are_400(client, bearer, query):
    response = client.get(f"/api/v1/resources?{query}", headers=bearer)
    assert response.status_code == 400 and response.json["error"]["message"]


def test_download_is_an_attachment_with_the_chinese_name_and_counts(db, client, make, bearer, teacher):
    resource = make.resource(make.user("teacher"))
    make.resource_version(resource, name="第一单元 教案.pdf")
    response = client.get(f"/api/v1/resources/{resource.id}/download", headers=bearer)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" + quote("第一单元 教案.pdf") in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert re.search(r"sandbox", response.headers["Content-Security-Policy"])
    db.session.refresh(resource)
    assert resource.download_count == 1
    assert db.session.execute(select(ResourceDownload.school_id)).scalar_one() == teacher.school_id


def test_a_private_or_missing_resource_is_404_and_a_link_has_no_file(db, client, make, bearer):
    private = make.resource(make.user("teacher"), visibility="private")
    make.resource_version(private)
    link = make.resource(make.user("teacher"), link_url="https://a.cn")
    for resource_id in (private.id, 999_999):
        response = client.get(f"/api/v1/resources/{resource_id}/download", headers=bearer)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
        assert client.get(f"/api/v1/resources/{resource_id}", headers=bearer).status_code == 404
    assert client.get(f"/api/v1/resources/{link.id}/download", headers=bearer).status_code == 404
    assert client.get(f"/api/v1/resources/{link.id}", headers=bearer).json["link_url"] == "https://a.cn"
    assert count(db, ResourceDownload) == 0
