"""Resource services: sharing a file or a link, metadata rules, audiences, versions, taking down,
view and download counters. Refused input saves nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Notification
from portal.core.errors import Invalid, NotAllowed, UploadRefused
from portal.core.timeutil import local_today
from portal.resources import services
from portal.resources.models import Resource, ResourceAudience, ResourceDownload, ResourceVersion
from portal.resources.search import search_text_of

from . import EXE, PDF, TXT, metadata, upload


@pytest.fixture
def people(make):
    county = make.county()
    s0 = make.school("urban", county=county, name="实验小学")
    village = make.school("village", county=county, name="山口村小学")
    other = make.school("urban", county=county)
    owner = make.user("teacher", school=s0)
    community = make.community("teacher", leader=make.user("teacher", school=other), county=county)
    make.member(community, user=owner)
    partnership = make.partnership(lead=s0, members=[village], start=local_today() - timedelta(days=30))
    return {"county": county, "s0": s0, "village": village, "owner": owner, "community": community,
            "partnership": partnership, "bureau": make.user("bureau"),
            "teacher": make.user("teacher", school=other)}


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_sharing_a_file_stores_version_one_and_the_owner_school(db, people):
    owner = people["owner"]
    resource = services.share_resource(owner, **metadata(tags="分数, 教案、分数  五年级"), file=upload(PDF, "分数的意义.pdf"))
    db.session.commit()
    assert resource.school_id == people["s0"].id and resource.county_id == people["county"].id
    assert resource.tags == "分数 教案 五年级"
    assert resource.search_text == search_text_of(resource.title, resource.description, resource.tags)
    version = resource.current_version
    assert version.number == 1 and version.original_name == "分数的意义.pdf" and version.size == len(PDF)
    assert version.stored_name.endswith(".pdf") and version.content_type == "application/pdf"
    assert version.uploaded_by_id == owner.id


def test_sharing_a_link_keeps_no_file(db, people):
    resource = services.share_resource(people["owner"], **metadata(), link_url="https://example.edu.cn/微课/1")
    db.session.commit()
    assert resource.is_link and resource.current_version_id is None
    assert count(db, ResourceVersion) == 0


@pytest.mark.parametrize("link", ["javascript:alert(1)", "ftp://example.com/a", "http://", "example.com/a",
                                  "https://exa mple.com", "data:text/html,<script>"])
def test_only_web_links_are_accepted(db, people, link):
    with pytest.raises(Invalid):
        services.share_resource(people["owner"], **metadata(), link_url=link)


def test_a_file_or_a_link_but_not_both_nor_neither(db, people):
    with pytest.raises(Invalid):
        services.share_resource(people["owner"], **metadata())
    with pytest.raises(Invalid):
        services.share_resource(people["owner"], **metadata(), file=upload(PDF, "a.pdf"), link_url="https://a.cn")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "poster"}, "kind"),
    ({"grade": 13}, "grade"),
    ({"grade": "13"}, "grade"),
    ({"grade": "五"}, "grade"),
    ({"grade": 8}, "grade"),  # grade 8 is not primary
    ({"visibility": "friends"}, "visibility"),
    ({"subject": "astrology"}, "subject"),
    ({"stage": "college"}, "stage"),
    ({"edition": "人教版"}, "edition"),
    ({"title": "  "}, "title"),
    ({"title": "长" * 121}, "title"),
    ({"tags": " ".join(f"t{i}" for i in range(11))}, "tags"),
    ({"tags": "很" * 21}, "tags"),
    ({"visibility": "community"}, "community_ids"),
    ({"visibility": "pairing"}, "partnership_ids"),
    ({"visibility": "community", "community_ids": ["x1"]}, "community_ids"),
])
def test_bad_metadata_is_refused_and_nothing_is_saved(app, db, people, overrides, field):
    before = stored(app)
    with pytest.raises(Invalid) as info:
        services.share_resource(people["owner"], **metadata(**overrides), file=upload(PDF, "a.pdf"))
    db.session.rollback()
    assert info.value.field == field and str(info.value.message)
    assert count(db, Resource) == 0 and stored(app) == before


def test_only_communities_one_is_an_active_member_of(db, make, people):
    owner, community = people["owner"], people["community"]
    elsewhere = make.community("teacher", leader=people["teacher"])
    pending = make.community("teacher", leader=people["teacher"])
    make.member(pending, user=owner, status="pending")
    assert {c.id for c in services.shareable_communities(owner)} == {community.id}
    for forged in (elsewhere.id, pending.id, 999_999):
        with pytest.raises(Invalid):
            services.share_resource(owner, **metadata(visibility="community", community_ids=[community.id, forged]),
                                    link_url="https://a.cn")
    resource = services.share_resource(owner, **metadata(visibility="community", community_ids=[str(community.id)]),
                                       link_url="https://a.cn")
    assert [a.community_id for a in resource.audiences] == [community.id]


def test_the_bureau_shares_with_any_community_in_its_scope(db, make, people):
    bureau = people["bureau"]
    other = make.community("teacher", leader=make.user("teacher"))
    closed = make.community("teacher", leader=make.user("teacher"), is_active=False)
    ids = {c.id for c in services.shareable_communities(bureau)}
    assert {people["community"].id, other.id} <= ids and closed.id not in ids
    county_bureau = make.user("bureau", county=make.county())
    assert people["community"].id not in {c.id for c in services.shareable_communities(county_bureau)}


def test_only_current_partnerships_of_ones_school(db, make, people):
    owner, partnership = people["owner"], people["partnership"]
    ended = make.partnership(lead=people["s0"], start=local_today() - timedelta(days=400),
                             end=local_today() - timedelta(days=10))
    foreign = make.partnership()
    assert [p.id for p in services.shareable_partnerships(owner)] == [partnership.id]
    village_teacher = make.user("teacher", school=people["village"])
    assert [p.id for p in services.shareable_partnerships(village_teacher)] == [partnership.id]
    assert services.shareable_partnerships(make.user("researcher", county=people["county"])) == []
    for forged in (ended.id, foreign.id):
        with pytest.raises(Invalid):
            services.share_resource(owner, **metadata(visibility="pairing", partnership_ids=f"{forged}"),
                                    link_url="https://a.cn")
    resource = services.share_resource(owner, **metadata(visibility="pairing",
                                                         partnership_ids=[f"{partnership.id},{partnership.id}"]),
                                       link_url="https://a.cn")
    assert [a.partnership_id for a in resource.audiences] == [partnership.id]


def test_changing_visibility_replaces_the_audiences(db, make, people):
    owner = people["owner"]
    resource = services.share_resource(owner, **metadata(visibility="community",
                                                         community_ids=[people["community"].id]),
                                       file=upload(PDF, "a.pdf"))
    db.session.commit()
    services.update_resource(owner, resource, **metadata(title="新标题", visibility="pairing",
                                                         partnership_ids=[people["partnership"].id]))
    db.session.commit()
    rows = db.session.execute(select(ResourceAudience.community_id, ResourceAudience.partnership_id)).all()
    assert rows == [(None, people["partnership"].id)]
    assert resource.search_text.startswith("新标题")
    services.update_resource(owner, resource, **metadata(visibility="private"))
    db.session.commit()
    assert count(db, ResourceAudience) == 0


def test_an_audience_already_chosen_may_stay_after_the_owner_left_it(db, make, people):
    owner, community = people["owner"], people["community"]
    resource = make.resource(owner, visibility="community", communities=[community])
    from portal.communities.models import Membership

    db.session.execute(Membership.__table__.update().where(Membership.user_id == owner.id).values(status="left"))
    db.session.commit()
    services.update_resource(owner, resource, **metadata(visibility="community", community_ids=[community.id]))
    db.session.commit()
    assert [a.community_id for a in resource.audiences] == [community.id]


def test_only_the_owner_changes_a_resource(db, make, people):
    resource = make.resource(people["owner"])
    for other in (people["teacher"], people["bureau"]):
        with pytest.raises(NotAllowed):
            services.update_resource(other, resource, **metadata())
        with pytest.raises(NotAllowed):
            services.add_version(other, resource, upload(PDF, "b.pdf"))


def test_a_new_version_becomes_current_and_the_old_one_stays(db, make, people):
    owner = people["owner"]
    resource = services.share_resource(owner, **metadata(), file=upload(PDF, "第一版.pdf"))
    db.session.commit()
    first = resource.current_version
    second = services.add_version(owner, resource, upload(PDF + b"%v2", "第二版.pdf"), note="改了例题")
    db.session.commit()
    assert second.number == 2 and second.note == "改了例题" and resource.current_version_id == second.id
    assert [v.number for v in services.versions_of(resource)] == [2, 1]
    assert db.session.get(ResourceVersion, first.id).stored_name != second.stored_name


def test_a_refused_version_changes_nothing(db, make, people):
    owner = people["owner"]
    resource = services.share_resource(owner, **metadata(), file=upload(PDF, "a.pdf"))
    db.session.commit()
    with pytest.raises(UploadRefused):
        services.add_version(owner, resource, upload(EXE, "setup.pdf"))
    db.session.rollback()
    assert count(db, ResourceVersion) == 1
    link = services.share_resource(owner, **metadata(), link_url="https://a.cn")
    with pytest.raises(Invalid):
        services.add_version(owner, link, upload(TXT, "a.txt"))


def test_owner_and_bureau_take_a_resource_down(db, make, people):
    owner = people["owner"]
    mine = make.resource(owner, title="我的")
    services.delete_resource(owner, mine)
    assert mine.deleted_at is not None
    other = make.resource(owner, title="违规资源")
    with pytest.raises(NotAllowed):
        services.delete_resource(people["teacher"], other)
    with pytest.raises(NotAllowed):
        services.delete_resource(make.user("bureau", county=make.county()), other)
    services.delete_resource(people["bureau"], other)
    db.session.commit()
    assert other.deleted_at is not None
    assert db.session.scalar(select(Notification.user_id).where(Notification.kind == "resource.taken_down")) == owner.id


def test_a_view_counts_once_an_hour_per_person_and_not_for_the_owner(db, make, people):
    resource = make.resource(people["owner"])
    seen: dict = {}
    assert services.record_view(people["teacher"], resource, seen, now=1000)
    assert not services.record_view(people["teacher"], resource, seen, now=1000 + 3599)
    assert services.record_view(people["teacher"], resource, seen, now=1000 + 3600)
    assert not services.record_view(people["owner"], resource, {}, now=1000)
    db.session.commit()
    db.session.refresh(resource)
    assert resource.view_count == 2


def test_the_remembered_views_stay_few(db, make, people):
    resource = make.resource(people["owner"])
    seen = {str(10_000 + i): 1000 + i for i in range(services.MAX_SEEN)}
    assert services.record_view(people["teacher"], resource, seen, now=2000)
    assert len(seen) == services.MAX_SEEN and "10000" not in seen and str(resource.id) in seen


def test_a_download_records_the_school_and_counts(db, make, people):
    resource = make.resource(people["owner"])
    version = make.resource_version(resource)
    services.record_download(people["teacher"], resource, version)
    assert services.record_download(people["owner"], resource, version) is None
    db.session.commit()
    db.session.refresh(resource)
    row = db.session.execute(select(ResourceDownload)).scalar_one()
    assert (row.user_id, row.school_id, row.version_id) == (people["teacher"].id, people["teacher"].school_id,
                                                           version.id)
    assert resource.download_count == 1


def test_tags_are_split_deduplicated_and_bounded():
    assert services.parse_tags("分数，教案、 分数;五年级") == "分数 教案 五年级"
    assert services.parse_tags(["a", "b a"]) == "a b"
    assert services.parse_tags("") == ""
    with pytest.raises(Invalid):
        services.parse_tags("x" * 21)
