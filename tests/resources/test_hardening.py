"""Hardening of the resource library and the upload storage: counters that must not drift when two
requests meet (double clicks, two tabs), downloads counted once, and OOXML packages whose central
directory alone would cost the worker seconds and hundreds of MB to read."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import event, text

from portal.core.errors import UploadRefused
from portal.core.uploads import KINDS, save_upload
from portal.resources import social
from portal.resources.models import Resource

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)
from . import upload


@pytest.fixture
def world(make):
    county = make.county()
    urban = make.school(kind="urban", county=county)
    owner = make.user("teacher", school=urban, locale="en")
    return {
        "owner": owner,
        "teacher": make.user("teacher", school=urban, locale="en"),
        "resource": make.resource(owner, "三年级英语《At the farm》教案"),
    }


def counters(db, resource) -> tuple[int, int, int, int]:
    db.session.expire_all()
    fresh = db.session.get(Resource, resource.id)
    return fresh.rating_count, fresh.rating_sum, fresh.use_count, fresh.comment_count


def meanwhile(db, table: str, *statements: str):
    """Run ``statements`` (another request, already committed) just after the first statement this
    session sends about ``table``: a SELECT runs first and its rows are kept, so the caller goes on
    with what it read; a write runs after them. The interleaving two simultaneous requests get on
    PostgreSQL."""
    done = []

    @event.listens_for(db.session, "do_orm_execute")
    def interleave(state):
        if done or table not in str(state.statement):
            return None
        done.append(True)
        if state.is_select:
            frozen = state.invoke_statement().freeze()
            for sql in statements:
                state.session.execute(text(sql))
            return frozen()
        for sql in statements:
            state.session.execute(text(sql))
        return None

    return interleave


# --- counters ------------------------------------------------------------------------------------


def test_a_rating_changed_twice_at_once_keeps_the_sum_exact(world, db):
    """Two tabs change the same rating (3 → 5 and 3 → 1): the sum follows the stars finally kept."""
    resource, teacher = world["resource"], world["teacher"]
    social.rate_resource(teacher, resource, 3)
    db.session.commit()
    resource = db.session.get(Resource, resource.id)
    meanwhile(db, "resource_ratings",
              f"UPDATE resource_ratings SET stars = 5 WHERE user_id = {teacher.id}",
              f"UPDATE resources SET rating_sum = rating_sum + 2 WHERE id = {resource.id}")
    social.rate_resource(teacher, resource, 1)
    db.session.commit()
    stars = db.session.execute(text("SELECT stars FROM resource_ratings")).scalar_one()
    rating_count, rating_sum, _uses, _comments = counters(db, resource)
    assert stars == 1 and (rating_count, rating_sum) == (1, 1)


def test_a_used_mark_removed_twice_at_once_counts_once(world, db):
    resource, teacher = world["resource"], world["teacher"]
    social.mark_used(teacher, resource)
    db.session.commit()
    resource = db.session.get(Resource, resource.id)
    meanwhile(db, "resource_uses",
              f"DELETE FROM resource_uses WHERE user_id = {teacher.id}",
              f"UPDATE resources SET use_count = use_count - 1 WHERE id = {resource.id}")
    social.unmark_used(teacher, resource)
    db.session.commit()
    assert counters(db, resource)[2] == 0


def test_a_comment_deleted_twice_at_once_counts_once(world, db):
    resource, teacher = world["resource"], world["teacher"]
    social.add_comment(teacher, resource, body="第一条")
    comment = social.add_comment(teacher, resource, body="第二条")
    db.session.commit()
    assert counters(db, resource)[3] == 2
    resource = db.session.get(Resource, resource.id)
    comment = db.session.get(type(comment), comment.id)
    assert comment.deleted_at is None  # what the second request read
    # the first request deletes it and commits
    db.session.execute(text(f"UPDATE resource_comments SET deleted_at = CURRENT_TIMESTAMP WHERE id = {comment.id}"))
    db.session.execute(text(f"UPDATE resources SET comment_count = comment_count - 1 WHERE id = {resource.id}"))
    social.delete_comment(teacher, comment, resource)
    db.session.commit()
    assert counters(db, resource)[3] == 1


def test_partial_and_not_modified_answers_are_not_counted_as_downloads(world, make, login_as, client, db):
    resource = world["resource"]
    make.resource_version(resource, data=b"%PDF-1.4 " + b"x" * 5000)
    login_as(world["teacher"])
    whole = client.get(f"/resources/{resource.id}/download")
    assert whole.status_code == 200
    assert client.get(f"/resources/{resource.id}/download", headers={"Range": "bytes=100-199"}).status_code == 206
    assert client.get(f"/resources/{resource.id}/download",
                      headers={"If-None-Match": whole.headers["ETag"]}).status_code == 304
    assert client.get(f"/api/v1/resources/{resource.id}/download",
                      headers={"Range": "bytes=2000-"}).status_code == 206
    assert client.head(f"/resources/{resource.id}/download").status_code == 200
    db.session.expire_all()
    assert db.session.get(Resource, resource.id).download_count == 1
    # a download that starts at the first byte (a resumable client) is one
    assert client.get(f"/resources/{resource.id}/download", headers={"Range": "bytes=0-"}).status_code == 206
    db.session.expire_all()
    assert db.session.get(Resource, resource.id).download_count == 2


# --- uploads -------------------------------------------------------------------------------------


def test_an_ooxml_package_with_a_huge_central_directory_is_refused_before_it_is_read(app, monkeypatch,
                                                                                   english):
    """Thousands of empty entries cost nothing to send (46 bytes each) but a ZipInfo object each to
    read: 200 MB of them take seconds and over a GB. The end record is checked first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        for i in range(6000):
            archive.writestr(zipfile.ZipInfo(str(i)), b"")
    opened = []
    real = zipfile.ZipFile

    class Watched(real):
        def __init__(self, *args, **kwargs):
            opened.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", Watched)
    with pytest.raises(UploadRefused) as caught:
        save_upload(upload(buffer.getvalue(), "many.docx"), kinds=set(KINDS), max_bytes=10_000_000)
    assert "too much" in str(caught.value.message)
    assert opened == []


def test_two_new_versions_uploaded_at_once_both_get_a_number(world, db, english):
    """A double-clicked "upload a new version": both requests read the same highest number; the
    second one takes the next free number instead of failing on the unique (resource, number)."""
    from portal.resources import services

    from . import PDF

    owner = world["owner"]
    resource = services.share_resource(owner, title="教案", kind="lesson_plan", subject="math", stage="primary",
                                       file=upload(PDF, "一.pdf"))
    db.session.commit()
    meanwhile(db, "max(resource_versions.number)",
              "INSERT INTO resource_versions (resource_id, number, stored_name, original_name, content_type, size,"
              " sha256, note, created_at) SELECT resource_id, 2, stored_name, original_name, content_type, size,"
              f" sha256, '', created_at FROM resource_versions WHERE resource_id = {resource.id} AND number = 1")
    version = services.add_version(owner, resource, upload(PDF + b"%v3", "二.pdf"))
    db.session.commit()
    assert version.number == 3
    numbers = db.session.execute(text(f"SELECT number FROM resource_versions WHERE resource_id = {resource.id}"
                                      " ORDER BY number")).scalars().all()
    assert numbers == [1, 2, 3] and db.session.get(Resource, resource.id).current_version_id == version.id


# --- visibility ----------------------------------------------------------------------------------


def test_a_county_bureau_sees_the_shared_resources_of_its_own_county_only(make, login_as, client):
    """The bureau supervises what is shared in its scope (as it takes down and reads flows there):
    a county's bureau does not read another county's community or pairing resources; public
    ones are everyone's, and the city's bureau sees all that is not private."""
    from portal.resources.permissions import can_view_resource

    home, away = make.county(), make.county()
    teacher = make.user("teacher", school=make.school("urban", county=away))
    community = make.community("teacher", leader=teacher, county=away)
    shared = make.resource(teacher, title="外县共同体资源", visibility="community", communities=[community])
    public = make.resource(teacher, title="外县公开资源")
    mine = make.resource(make.user("teacher", school=make.school("urban", county=home)), title="本县共同体资源",
                         visibility="community", communities=[make.community("teacher", leader=teacher, county=home)])
    county_bureau = make.user("bureau", county=home)
    city_bureau = make.user("bureau")
    assert not can_view_resource(county_bureau, shared)
    assert can_view_resource(county_bureau, public) and can_view_resource(county_bureau, mine)
    assert can_view_resource(city_bureau, shared)
    login_as(county_bureau)
    assert client.get(f"/resources/{shared.id}").status_code == 404
    assert client.get(f"/api/v1/resources/{shared.id}").status_code == 404
    ids = {item["id"] for item in client.get("/api/v1/resources").json["items"]}
    assert ids == {public.id, mine.id}
