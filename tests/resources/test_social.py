"""Ratings, comments, "used in my class" marks and the per-school flows of resources."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.core.errors import Invalid, NotAllowed, NotFound
from portal.core.timeutil import local_today
from portal.resources import social
from portal.resources.models import ResourceComment, ResourceDownload, ResourceRating, ResourceUse

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(make):
    """An urban school with two teachers and its principal, a rural school of the same county."""
    county = make.county()
    urban = make.school(kind="urban", county=county, name="城关实验小学")
    rural = make.school(kind="village", county=county, name="山口村小学")
    owner = make.user("teacher", school=urban, name="陈静", locale="en")
    return {
        "county": county, "urban": urban, "rural": rural, "owner": owner,
        "teacher": make.user("teacher", school=urban, locale="en"),
        "principal": make.user("principal", school=urban, locale="en"),
        "rural_teacher": make.user("teacher", school=rural, locale="en"),
        "resource": make.resource(owner, "三年级英语《At the farm》教案"),
    }


# --- ratings ---------------------------------------------------------------------------------------


def test_a_rating_is_set_and_changed_and_the_counters_stay_exact(world, make, db):
    resource, teacher, principal = world["resource"], world["teacher"], world["principal"]
    social.rate_resource(teacher, resource, 4)
    social.rate_resource(principal, resource, "2")
    db.session.commit()
    db.session.refresh(resource)
    assert (resource.rating_count, resource.rating_sum, resource.rating) == (2, 6, 3.0)
    social.rate_resource(teacher, resource, 5)  # changed, not added
    social.rate_resource(principal, resource, 2)  # the same again: nothing changes
    db.session.commit()
    db.session.refresh(resource)
    assert (resource.rating_count, resource.rating_sum) == (2, 7)
    assert count(db, ResourceRating) == 2


@pytest.mark.parametrize("raw", [0, 6, "0", "6", "3.5", 3.5, "abc", "", None, True, "-1", " ", "٣"])
def test_parse_stars_refuses_what_is_not_one_to_five(raw):
    with pytest.raises(Invalid):
        social.parse_stars(raw)


@pytest.mark.parametrize("raw", ["0", "6", "3.5", "abc", None])
def test_a_rating_out_of_range_is_refused_on_the_page(world, login_as, auth, client, db, raw):
    resource = world["resource"]
    login_as(world["teacher"])
    data = {} if raw is None else {"stars": raw}
    response = auth.post(f"/resources/{resource.id}/rating", data)
    assert response.status_code == 400
    assert "Choose a rating from 1 to 5 stars." in response.get_data(as_text=True)
    db.session.refresh(resource)
    assert count(db, ResourceRating) == 0 and (resource.rating_count, resource.rating_sum) == (0, 0)


def test_a_teacher_rates_on_the_page_and_changes_the_rating(world, login_as, auth, client, db):
    resource = world["resource"]
    login_as(world["teacher"])
    response = auth.post(f"/resources/{resource.id}/rating", {"stars": "4"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/resources/{resource.id}#rating")
    assert auth.post(f"/resources/{resource.id}/rating", {"stars": "2"}).status_code == 302
    db.session.refresh(resource)
    assert (resource.rating_count, resource.rating_sum) == (1, 2)
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert 'value="2" checked' in page


def test_nobody_rates_their_own_resource(world, login_as, auth, db):
    resource, owner = world["resource"], world["owner"]
    with pytest.raises(NotAllowed):
        social.rate_resource(owner, resource, 5)
    db.session.rollback()
    login_as(owner)
    assert auth.post(f"/resources/{resource.id}/rating", {"stars": "5"}).status_code == 403
    assert count(db, ResourceRating) == 0


def test_a_resource_one_cannot_see_is_not_found_for_rating_use_and_comments(world, make, login_as, auth, db):
    hidden = make.resource(world["owner"], "私人教案", "private")
    comment = social.add_comment(world["owner"], hidden, body="自己的备注")
    db.session.commit()
    with pytest.raises(NotFound):
        social.rate_resource(world["teacher"], hidden, 5)
    db.session.rollback()
    login_as(world["teacher"])
    assert auth.post(f"/resources/{hidden.id}/rating", {"stars": "5"}).status_code == 404
    assert auth.post(f"/resources/{hidden.id}/used", {}).status_code == 404
    assert auth.post(f"/resources/{hidden.id}/comments", {"body": "看不见"}).status_code == 404
    assert auth.post(f"/resource-comments/{comment.id}/delete").status_code == 404
    assert auth.client.get(f"/resource-comments/{comment.id}/edit").status_code == 404
    assert count(db, ResourceRating) == 0 and count(db, ResourceUse) == 0 and count(db, ResourceComment) == 1


# --- comments --------------------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>很好",
    '<img src=x onerror="alert(1)">很好',
    '<a href="javascript:alert(1)">链接</a>很好',
    '<svg onload="alert(1)"><circle r="1"/></svg>很好',
    '<a href="jav&#x09;ascript:alert(1)">链接</a>很好',
    '<p style="background:url(javascript:alert(1))" onclick="x()">很好</p>',
]


def test_comments_are_sanitised_and_served_safe(world, login_as, auth, client, db):
    resource = world["resource"]
    login_as(world["teacher"])
    for payload in XSS:
        assert auth.post(f"/resources/{resource.id}/comments", {"body": payload}).status_code == 302
    db.session.refresh(resource)
    assert resource.comment_count == len(XSS)
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    start = page.index('id="comments"')
    comments = page[start:page.index("</section>", start)]
    assert comments.count("很好") == len(XSS)
    lowered = comments.lower()
    for bad in ("<script", "onerror", "javascript:", "<svg", "onload", "onclick", "style=", "<img"):
        assert bad not in lowered, bad


def test_an_empty_comment_is_refused_with_a_message(world, login_as, auth, db):
    login_as(world["teacher"])
    response = auth.post(f"/resources/{world['resource'].id}/comments", {"body": "<p> </p>"})
    assert response.status_code == 400 and "Please write something." in response.get_data(as_text=True)
    assert count(db, ResourceComment) == 0


def test_only_the_author_edits_and_deletes_and_the_bureau_may_delete(world, make, login_as, auth, client, db):
    resource, teacher = world["resource"], world["teacher"]
    comment = social.add_comment(teacher, resource, body="第一版")
    other = social.add_comment(teacher, resource, body="第二条")
    db.session.commit()

    login_as(world["principal"])
    assert client.get(f"/resource-comments/{comment.id}/edit").status_code == 403
    assert auth.post(f"/resource-comments/{comment.id}/edit", {"body": "改"}).status_code == 403
    assert auth.post(f"/resource-comments/{comment.id}/delete").status_code == 403
    login_as(world["owner"])  # owning the resource gives no say over others' comments
    assert auth.post(f"/resource-comments/{comment.id}/delete").status_code == 403

    login_as(teacher)
    assert client.get(f"/resource-comments/{comment.id}/edit").status_code == 200
    assert auth.post(f"/resource-comments/{comment.id}/edit", {"body": "第二版"}).status_code == 302
    db.session.refresh(comment)
    assert comment.body_html == "<p>第二版</p>" and comment.edited_at is not None
    assert auth.post(f"/resource-comments/{comment.id}/delete").status_code == 302

    bureau = make.user("bureau", locale="en")  # city level
    login_as(bureau)
    assert client.get(f"/resource-comments/{other.id}/edit").status_code == 403
    assert auth.post(f"/resource-comments/{other.id}/delete").status_code == 302
    db.session.refresh(resource)
    assert resource.comment_count == 0
    assert "第二版" not in client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert client.get(f"/resource-comments/{comment.id}/edit").status_code == 404  # deleted


def test_another_countys_bureau_cannot_delete_a_comment(world, make, login_as, auth, db):
    comment = social.add_comment(world["teacher"], world["resource"], body="评论")
    db.session.commit()
    login_as(make.user("bureau", county=make.county()))
    assert auth.post(f"/resource-comments/{comment.id}/delete").status_code == 403


def test_a_comment_tells_the_owner(world, db):
    from portal.accounts.models import Notification

    social.add_comment(world["teacher"], world["resource"], body="很实用")
    db.session.commit()
    note = db.session.execute(select(Notification)).scalar_one()
    assert note.user_id == world["owner"].id and note.kind == "resource.commented"


# --- used in my class ------------------------------------------------------------------------------


def test_teachers_and_principals_mark_a_resource_used_and_the_counter_follows(world, login_as, auth, db):
    resource = world["resource"]
    login_as(world["rural_teacher"])
    day = (local_today() - timedelta(days=2)).isoformat()
    response = auth.post(f"/resources/{resource.id}/used", {"used_on": day, "note": "三年级二班 第2课时"})
    assert response.status_code == 302
    assert auth.post(f"/resources/{resource.id}/used", {"used_on": day, "note": "三年级一班"}).status_code == 302
    login_as(world["principal"])
    assert auth.post(f"/resources/{resource.id}/used", {}).status_code == 302
    db.session.refresh(resource)
    assert resource.use_count == 2
    use = db.session.execute(select(ResourceUse).where(ResourceUse.user_id == world["rural_teacher"].id)).scalar_one()
    assert use.note == "三年级一班" and use.school_id == world["rural"].id and use.used_on.isoformat() == day
    assert auth.post(f"/resources/{resource.id}/used", {"remove": "1"}).status_code == 302
    db.session.refresh(resource)
    assert resource.use_count == 1


@pytest.mark.parametrize("role", ["researcher", "bureau"])
def test_researchers_and_the_bureau_do_not_mark_used(world, make, login_as, auth, db, role):
    login_as(make.user(role, county=world["county"]))
    assert auth.post(f"/resources/{world['resource'].id}/used", {}).status_code == 403
    assert count(db, ResourceUse) == 0


def test_a_use_in_the_future_or_with_a_long_note_is_refused(world, login_as, auth, db):
    login_as(world["teacher"])
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    response = auth.post(f"/resources/{world['resource'].id}/used", {"used_on": tomorrow})
    assert response.status_code == 400 and "cannot be in the future" in response.get_data(as_text=True)
    response = auth.post(f"/resources/{world['resource'].id}/used", {"note": "长" * 201})
    assert response.status_code == 400
    assert count(db, ResourceUse) == 0


# --- the detail page's social part -------------------------------------------------------------------


def test_the_social_part_runs_a_fixed_number_of_queries(world, make, db, count_queries, login_as, client, app):
    resource = world["resource"]
    viewer = world["principal"]

    def measure():
        db.session.expire_all()
        with app.test_request_context("/"), count_queries() as statements:
            context = social.social_context(viewer, resource)
        return len(statements), context

    db.session.add(ResourceComment(resource_id=resource.id, author_id=world["teacher"].id, body_html="<p>1</p>"))
    resource.comment_count = 1
    db.session.commit()
    few, _ = measure()
    authors = [make.user("teacher", school=world["rural"]) for _ in range(5)]
    for i in range(30):
        db.session.add(ResourceComment(resource_id=resource.id, author_id=authors[i % 5].id, body_html=f"<p>{i}</p>"))
        db.session.add(ResourceRating(resource_id=resource.id, user_id=make.user("teacher").id, stars=3))
    resource.comment_count = 31
    db.session.commit()
    many, context = measure()
    assert many == few <= 6
    assert len(context["social"].comments.items) == social.COMMENTS_PER_PAGE

    login_as(viewer)
    with count_queries() as small_page:
        assert client.get(f"/resources/{resource.id}?cpage=2").status_code == 200
    with count_queries() as big_page:
        assert client.get(f"/resources/{resource.id}").status_code == 200
    assert len(big_page) <= len(small_page) + 1  # a first view may be counted (one UPDATE)


# --- school flows ------------------------------------------------------------------------------------


@pytest.fixture
def flows(world, make, db):
    """The urban school shares 3 (and one private); the rural school downloads 2 and marks 1 used;
    another urban school downloads 1; a researcher's download has no school."""
    owner, rural_teacher = world["owner"], world["rural_teacher"]
    shared = [world["resource"], make.resource(owner, "四年级数学课件", kind="courseware"),
              make.resource(owner, "音乐微课", kind="micro_lesson")]
    make.resource(owner, "私人草稿", "private")
    city2 = make.school(kind="urban", county=world["county"], name="城关二小")
    city2_teacher = make.user("teacher", school=city2)
    researcher = make.user("researcher", county=world["county"])
    for resource, user in [(shared[0], rural_teacher), (shared[1], rural_teacher), (shared[1], rural_teacher),
                           (shared[0], city2_teacher), (shared[2], researcher)]:
        db.session.add(ResourceDownload(resource_id=resource.id, user_id=user.id, school_id=user.school_id))
    social.mark_used(rural_teacher, shared[0], note="三年级二班")
    # the rural school shares one resource the urban school uses
    rural_resource = make.resource(rural_teacher, "乡土音乐课例", kind="lesson_case")
    social.mark_used(world["teacher"], rural_resource)
    # last school year: not counted
    old = ResourceDownload(resource_id=shared[2].id, user_id=rural_teacher.id, school_id=world["rural"].id,
                           at=social.year_bounds(social.current_school_year() - 1)[0] + timedelta(days=10))
    db.session.add(old)
    db.session.commit()
    return shared


def test_school_flows_count_what_flows_from_urban_to_rural(world, flows, db):
    year = social.current_school_year()
    rows = {r.school_id: r for r in social.school_flows([world["urban"].id, world["rural"].id], year)}
    urban, rural = rows[world["urban"].id], rows[world["rural"].id]
    assert urban.shared == 3 and urban.shared_by_kind == {"lesson_plan": 1, "courseware": 1, "micro_lesson": 1}
    assert (urban.downloaded_by_rural, urban.downloaded_by_urban, urban.downloaded_by_others) == (3, 1, 4)
    assert (urban.used_by_rural, urban.used_by_urban, urban.used_by_others) == (1, 0, 1)
    assert (urban.received_from_urban, urban.received_from_rural) == (0, 1)
    assert rural.shared == 1 and rural.used_by_urban == 1 and rural.downloaded_by_others == 0
    # two distinct resources of an urban school downloaded, one of them also used
    assert (rural.received_from_urban, rural.received_from_rural) == (2, 0)
    assert social.school_flows([world["urban"].id], year - 1)[0].downloaded_by_rural == 1
    everyone = social.school_flows(None, year)
    assert {r.school_id for r in everyone} >= {world["urban"].id, world["rural"].id}
    assert social.school_flows([], year) == []


def test_the_flows_page_shows_the_figures_and_the_top_lists(world, flows, login_as, client):
    login_as(world["principal"])
    page = client.get(f"/schools/{world['urban'].id}/resources")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "四年级数学课件" in text and "乡土音乐课例" in text and "私人草稿" not in text
    top = social.top_shared(world["principal"], world["urban"], social.current_school_year())
    assert [(t.resource.title, t.downloads, t.uses) for t in top][:2] == [
        ("三年级英语《At the farm》教案", 2, 1), ("四年级数学课件", 2, 0)]


def test_the_flows_page_is_refused_to_teachers_and_other_counties(world, make, login_as, client):
    url = f"/schools/{world['urban'].id}/resources"
    login_as(world["teacher"])
    assert client.get(url).status_code == 403
    login_as(make.user("principal", school=world["rural"]))
    assert client.get(url).status_code == 403
    login_as(make.user("bureau", county=make.county()))
    assert client.get(url).status_code == 403
    assert client.get(url + "/export.xlsx").status_code == 403
    login_as(make.user("researcher", county=world["county"]))
    assert client.get(url).status_code == 200
    assert client.get(url + "?year=1999").status_code == 400


def test_the_flows_page_runs_a_fixed_number_of_queries(world, make, db, login_as, client, count_queries):
    url = f"/schools/{world['urban'].id}/resources"
    login_as(world["principal"])
    client.get(url)
    with count_queries() as empty:
        assert client.get(url).status_code == 200
    for i in range(15):
        resource = make.resource(world["owner"], f"课件{i}")
        reader = make.user("teacher", school=make.school(kind="village", county=world["county"]))
        db.session.add(ResourceDownload(resource_id=resource.id, user_id=reader.id, school_id=reader.school_id))
        social.mark_used(reader, resource)
    db.session.commit()
    with count_queries() as full:
        page = client.get(url)
    assert page.status_code == 200 and "课件14" in page.get_data(as_text=True)
    assert len(full) == len(empty)


def test_the_flows_export_is_a_workbook_with_formulas_kept_as_text(world, make, db, login_as, client):
    resource = make.resource(world["owner"], "=HYPERLINK(\"http://x\")")
    db.session.add(ResourceDownload(resource_id=resource.id, user_id=world["rural_teacher"].id,
                                    school_id=world["rural"].id))
    db.session.commit()
    login_as(make.user("bureau"))
    response = client.get(f"/schools/{world['urban'].id}/resources/export.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.worksheets[0]["B2"].value == 2  # the world's resource and this one
    assert book.worksheets[1]["A2"].value.startswith("'=")
