"""Resource pages: the list with its filters and fixed query count, sharing through the form (files
refused by content, Chinese names kept), the detail page with its preview, versions, changing,
taking down, downloads and inline previews with safe headers."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from portal.core.timeutil import local_today
from portal.resources.models import Resource, ResourceDownload, ResourceVersion

from ..core import fast_login_as  # noqa: F401  (login_as without a password check)
from . import EXE, HTML, MP4, PDF, PNG, SVG, TXT, form_fields


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp") if root.exists() else []


def share(auth, data: bytes | None = None, name: str = "教案.pdf", **fields):
    body = form_fields(**fields)
    if data is not None:
        body["file"] = (io.BytesIO(data), name)
    return auth.post("/resources/new", body, content_type="multipart/form-data")


@pytest.fixture
def teacher(login_as, make):
    return login_as(make.user("teacher", school=make.school("urban", name="实验小学"), locale="en"))


# --- the list ------------------------------------------------------------------------------------


def test_the_list_shows_what_one_may_see_with_owner_and_school(client, make, teacher):
    owner = make.user("teacher", school=make.school("urban", name="城关一小"), name="王老师")
    make.resource(owner, title="五年级分数的意义教案", grade=5, download_count=7)
    make.resource(owner, title="私人草稿", visibility="private")
    page = client.get("/resources").get_data(as_text=True)
    assert "五年级分数的意义教案" in page and "王老师" in page and "城关一小" in page and "Downloads: 7" in page
    assert "私人草稿" not in page


def test_a_long_list_stops_counting_and_still_pages_to_the_end(client, make, teacher, monkeypatch):
    from portal.resources import views

    monkeypatch.setattr(views, "RESOURCES_COUNTED", 3)
    owner = make.user("teacher")
    for n in range(5):
        make.resource(owner, title=f"教案{n}")
    first = client.get("/resources?per_page=2").get_data(as_text=True)
    assert "more than 3" in first and "in all" not in first and 'rel="next"' in first
    last = client.get("/resources?per_page=2&page=3").get_data(as_text=True)
    assert len(re.findall(r"教案\d", last)) == 1 and 'rel="next"' not in last and 'rel="prev"' in last
    monkeypatch.setattr(views, "RESOURCES_COUNTED", 10)
    exact = client.get("/resources?per_page=2").get_data(as_text=True)
    assert "Page 1 of 3" in exact and "5 in all" in exact


def test_the_list_filters_searches_and_shows_mine(client, make, teacher):
    other = make.user("teacher")
    make.resource(other, title="小学数学分数教案", subject="math", stage="primary", grade=5, kind="lesson_plan",
                  edition="pep")
    make.resource(other, title="初中英语阅读课件", subject="english", stage="junior", grade=8, kind="courseware",
                  edition="bnu")
    make.resource(teacher, title="我的语文学案", subject="chinese", kind="learning_guide")

    def titles(query: str) -> set[str]:
        page = client.get("/resources" + query)
        assert page.status_code == 200
        return set(re.findall(r'<h2><a href="/resources/\d+">([^<]+)</a>', page.get_data(as_text=True)))

    assert titles("") == {"小学数学分数教案", "初中英语阅读课件", "我的语文学案"}
    assert titles("?q=数学分") == {"小学数学分数教案"}
    assert titles("?subject=english") == {"初中英语阅读课件"}
    assert titles("?stage=junior&grade=8") == {"初中英语阅读课件"}
    assert titles("?kind=learning_guide") == {"我的语文学案"}
    assert titles("?edition=pep") == {"小学数学分数教案"}
    assert titles("?mine=y") == {"我的语文学案"}
    assert titles("?sort=date&q=课") == {"初中英语阅读课件"}
    assert titles("?subject=nope&grade=99&kind=%00&sort=x") == {"小学数学分数教案", "初中英语阅读课件", "我的语文学案"}


def test_the_filter_form_shows_each_lists_values_in_the_viewers_language(client, make, teacher, db):
    def form(query: str) -> str:
        page = client.get("/resources" + query).get_data(as_text=True)
        return page.split('role="search">')[1].split("</form>")[0]

    math = form("?subject=math&grade=5&q=分数&mine=y")
    assert '<option selected value="math">Mathematics</option>' in math and 'value="分数"' in math
    assert '<option selected value="5">' in math and 'checked' in math
    chinese = form("?subject=chinese&sort=date")
    assert '<option selected value="chinese">' in chinese and '<option selected value="math">' not in chinese
    assert '<option selected value="date">' in chinese and 'value="分数"' not in chinese and "checked" not in chinese
    assert form("?q=%3Cb%3E").count('value="&lt;b&gt;"') == 1  # typed text escaped, kept or not
    teacher.locale = "zh_Hans"
    db.session.commit()
    assert '<option selected value="math">数学</option>' in form("?subject=math&grade=5&q=分数&mine=y")


def test_every_filter_of_the_form_is_in_the_kept_forms_key(app):
    from portal.resources import views
    from portal.resources.forms import FilterForm

    with app.test_request_context("/resources"):
        assert set(views._FILTER_FIELDS) == set(FilterForm().data)


def test_the_list_query_count_does_not_grow(client, make, teacher, count_queries):
    def fill(n):
        for i in range(n):
            owner = make.user("teacher", school=make.school())
            resource = make.resource(owner, title=f"资源{i}")
            if i % 2:
                make.resource_version(resource)

    fill(5)
    counts = {}
    for url in ("/resources", "/resources?q=资源", "/resources?q=资源1&sort=date"):
        with count_queries() as few:
            assert client.get(url).status_code == 200
        counts[url] = len(few)
    fill(45)
    for url, before in counts.items():
        with count_queries() as many:
            assert client.get(url).status_code == 200
        assert len(many) == before, url


# --- sharing -------------------------------------------------------------------------------------


def test_sharing_a_file_with_a_chinese_name_downloads_with_its_name(app, db, client, auth, make, teacher, login_as):
    response = share(auth, PDF, "五年级 分数的意义（第1课时）.pdf")
    assert response.status_code == 302
    resource = db.session.execute(select(Resource)).scalar_one()
    assert response.headers["Location"].endswith(f"/resources/{resource.id}")
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert "五年级 分数的意义（第1课时）.pdf" in page and "<iframe" in page
    login_as(make.user("teacher"))
    download = client.get(f"/resources/{resource.id}/download")
    assert download.status_code == 200 and download.data == PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" + quote("五年级 分数的意义（第1课时）.pdf") in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"
    assert count(db, ResourceDownload) == 1
    stored_name = resource.current_version.stored_name
    assert "分数" not in stored_name and re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{64}\.pdf", stored_name)


def test_sharing_a_link(db, client, auth, teacher):
    response = share(auth, None, link_url="https://www.zxx.edu.cn/lesson/1")
    assert response.status_code == 302
    resource = db.session.execute(select(Resource)).scalar_one()
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert 'href="https://www.zxx.edu.cn/lesson/1" rel="noopener noreferrer nofollow"' in page
    assert client.get(f"/resources/{resource.id}/download").status_code == 404
    assert client.get(f"/resources/{resource.id}/versions/new").status_code == 404


def test_the_form_offers_only_ones_own_communities_and_partnerships(client, make, teacher):
    community = make.community("teacher", leader=make.user("teacher"), name="数学名师工作室")
    make.member(community, user=teacher)
    make.community("teacher", leader=make.user("teacher"), name="别人的工作室")
    make.partnership(lead=teacher.school, start=local_today() - timedelta(days=5), name="实验小学结对")
    page = client.get("/resources/new").get_data(as_text=True)
    assert "数学名师工作室" in page and "实验小学结对" in page and "别人的工作室" not in page


@pytest.mark.parametrize(("data", "name", "status"), [
    (EXE, "教案.pdf", 400),  # a program renamed to .pdf
    (EXE, "setup.exe", 400),
    (HTML, "课件.html", 400),
    (HTML, "课件.pdf", 400),  # markup renamed to .pdf
    (SVG, "图.svg", 400),
    (b"%PDF-1.4\n<script>alert(1)</script>", "a.pdf", 400),  # active markup in a PDF's head
    (b"", "空.pdf", 400),
])
def test_dangerous_or_empty_files_are_refused_and_nothing_is_saved(app, db, auth, teacher, data, name, status):
    before = stored(app)
    response = share(auth, data, name)
    assert response.status_code == status
    assert 'class="error"' in response.get_data(as_text=True)
    assert count(db, Resource) == 0 and count(db, ResourceVersion) == 0 and stored(app) == before


def test_an_oversized_file_is_refused(app, db, auth, teacher):
    app.config["MAX_CONTENT_LENGTH"] = 4096  # restored after the test by conftest
    before = stored(app)
    response = share(auth, PDF + b"0" * 5000, "大文件.pdf")
    assert response.status_code == 413
    assert count(db, Resource) == 0 and stored(app) == before


def test_a_file_just_under_the_request_limit_but_over_the_size_limit_is_413(app, db, client, auth, teacher):
    # The form's other fields count toward the request; a file alone over the limit is refused by the store.
    token = auth.csrf("/")
    app.config["MAX_CONTENT_LENGTH"] = 3000
    response = client.post("/resources/new", data={**form_fields(), "csrf_token": token,
                                                   "file": (io.BytesIO(PDF + b"0" * 2000), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and count(db, Resource) == 0


def test_a_path_in_the_file_name_is_dropped(app, db, client, auth, teacher):
    response = share(auth, PDF, "../../../etc/教案.pdf")
    assert response.status_code == 302
    version = db.session.execute(select(ResourceVersion)).scalar_one()
    assert version.original_name == "教案.pdf"
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    assert all(root in p.resolve().parents for p in stored(app))
    download = client.get(f"/versions/{version.id}/download")
    assert "filename*=UTF-8''" + quote("教案.pdf") in download.headers["Content-Disposition"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "poster"}, "Choose the kind of resource."),
    ({"grade": "13"}, "The grade must be a whole number from 1 to 12."),
    ({"visibility": "friends"}, "Choose who can see the resource"),
    ({"visibility": "community", "communities": "999"}, "You can only share with communities you are an active member of."),
    ({"visibility": "community"}, "Choose at least one community to share with."),
    ({"title": ""}, "Please give the resource a title."),
])
def test_bad_metadata_on_the_form_is_a_4xx_with_a_message(app, db, auth, teacher, fields, message):
    before = stored(app)
    response = share(auth, PDF, "a.pdf", **fields)
    assert 400 <= response.status_code < 500
    assert message in response.get_data(as_text=True)
    assert count(db, Resource) == 0 and stored(app) == before


def test_sharing_without_the_csrf_token_is_refused(db, client, teacher):
    response = client.post("/resources/new", data={**form_fields(), "file": (io.BytesIO(PDF), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and count(db, Resource) == 0


# --- one resource --------------------------------------------------------------------------------


def test_the_detail_page_counts_a_view_once_and_not_for_the_owner(db, client, make, teacher):
    owner = make.user("teacher")
    resource = make.resource(owner, title="分数的意义")
    for _ in range(3):
        assert client.get(f"/resources/{resource.id}").status_code == 200
    db.session.refresh(resource)
    assert resource.view_count == 1
    mine = make.resource(teacher)
    client.get(f"/resources/{mine.id}")
    db.session.refresh(mine)
    assert mine.view_count == 0


def test_a_view_keeps_the_bureaus_figures_and_a_download_drops_them(app, db, client, make, teacher, cache_on):
    """No figure reads the view count: a view must not throw the city's figures away (seconds to
    compute again); a download is counted by them."""
    resource = make.resource(make.user("teacher"), title="分数的意义")
    with app.test_request_context():
        before = cache_on.generation()
    assert client.get(f"/resources/{resource.id}").status_code == 200
    db.session.refresh(resource)
    assert resource.view_count == 1
    with app.test_request_context():
        assert cache_on.generation() == before
    make.resource_version(resource)
    with app.test_request_context():
        before = cache_on.generation()
    assert client.get(f"/resources/{resource.id}/download").status_code == 200
    with app.test_request_context():
        assert cache_on.generation() != before


def test_owner_changes_metadata_and_visibility(db, client, auth, make, teacher):
    community = make.community("teacher", leader=make.user("teacher"))
    make.member(community, user=teacher)
    resource = make.resource(teacher, title="旧标题")
    page = client.get(f"/resources/{resource.id}/edit")
    assert page.status_code == 200 and "旧标题" in page.get_data(as_text=True)
    response = auth.post(f"/resources/{resource.id}/edit",
                         form_fields(title="新标题", visibility="community", communities=str(community.id)))
    assert response.status_code == 302
    db.session.refresh(resource)
    assert resource.title == "新标题" and resource.visibility == "community"
    assert [a.community_id for a in resource.audiences] == [community.id]
    assert "新标题" in resource.search_text


def test_others_cannot_change_or_take_down_and_invisible_is_404(db, client, auth, make, teacher):
    owner = make.user("teacher")
    public = make.resource(owner)
    private = make.resource(owner, visibility="private")
    make.resource_version(private)
    assert client.get(f"/resources/{public.id}/edit").status_code == 403
    assert auth.post(f"/resources/{public.id}/edit", form_fields()).status_code == 403
    assert auth.post(f"/resources/{public.id}/delete").status_code == 403
    assert client.get(f"/resources/{public.id}/versions/new").status_code == 403
    for path in ("", "/edit", "/download", "/preview", "/versions/new"):
        assert client.get(f"/resources/{private.id}{path}").status_code == 404, path
    assert auth.post(f"/resources/{private.id}/delete").status_code == 404
    version_id = private.current_version_id
    assert client.get(f"/versions/{version_id}/download").status_code == 404
    assert client.get(f"/versions/{version_id}/preview").status_code == 404
    assert client.get("/resources/999999").status_code == 404


def test_a_private_resources_download_by_another_user_is_refused(db, client, make, teacher):
    owner = make.user("teacher")
    private = make.resource(owner, visibility="private")
    version = make.resource_version(private)
    assert client.get(f"/resources/{private.id}/download").status_code == 404
    assert client.get(f"/versions/{version.id}/download").status_code == 404
    assert count(db, ResourceDownload) == 0


def test_owner_takes_a_resource_down(db, client, auth, make, teacher):
    resource = make.resource(teacher)
    make.resource_version(resource)
    assert auth.post(f"/resources/{resource.id}/delete").status_code == 302
    assert client.get(f"/resources/{resource.id}").status_code == 404
    assert client.get(f"/resources/{resource.id}/download").status_code == 404


def test_a_new_version_keeps_the_old_one_downloadable(db, client, auth, make, teacher):
    assert share(auth, PDF, "第一版.pdf").status_code == 302
    resource = db.session.execute(select(Resource)).scalar_one()
    first = resource.current_version_id
    assert client.get(f"/resources/{resource.id}/versions/new").status_code == 200
    response = auth.post(f"/resources/{resource.id}/versions/new",
                         {"file": (io.BytesIO(PDF + b"%v2"), "第二版.pdf"), "note": "补充了练习"},
                         content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(resource)
    assert resource.current_version.number == 2
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert "第一版.pdf" in page and "第二版.pdf" in page and "补充了练习" in page
    assert client.get(f"/resources/{resource.id}/download").data == PDF + b"%v2"
    old = client.get(f"/versions/{first}/download")
    assert old.status_code == 200 and old.data == PDF
    assert quote("第一版.pdf") in old.headers["Content-Disposition"]
    refused = auth.post(f"/resources/{resource.id}/versions/new", {"file": (io.BytesIO(EXE), "x.pdf")},
                        content_type="multipart/form-data")
    assert refused.status_code == 400 and count(db, ResourceVersion) == 2


# --- previews ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "name", "content_type", "embed"), [
    (PDF, "讲义.pdf", "application/pdf", "<iframe"),
    (PNG, "板书.png", "image/png", "<img"),
    (MP4, "微课.mp4", "video/mp4", '<video controls preload="metadata"'),
])
def test_previews_are_inline_sandboxed_and_nosniff(client, make, teacher, data, name, content_type, embed):
    resource = make.resource(make.user("teacher"))
    make.resource_version(resource, data=data, name=name)
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert embed in page and f'src="/resources/{resource.id}/preview"' in page
    response = client.get(f"/resources/{resource.id}/preview")
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'self'" in csp


def test_video_preview_answers_range_requests(client, make, teacher):
    resource = make.resource(make.user("teacher"))
    make.resource_version(resource, data=MP4, name="微课.mp4")
    response = client.get(f"/resources/{resource.id}/preview", headers={"Range": "bytes=0-99"})
    assert response.status_code == 206 and len(response.data) == 100
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(MP4)}"


@pytest.mark.parametrize(("data", "name"), [(TXT, "说明.txt")])
def test_other_types_have_no_inline_preview(client, make, teacher, data, name):
    resource = make.resource(make.user("teacher"))
    version = make.resource_version(resource, data=data, name=name)
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert "<iframe" not in page and f'href="/resources/{resource.id}/download"' in page
    assert client.get(f"/resources/{resource.id}/preview").status_code == 404
    assert client.get(f"/versions/{version.id}/preview").status_code == 404
    download = client.get(f"/resources/{resource.id}/download")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Type"].startswith("text/plain")


def test_office_files_have_no_inline_preview(client, make, teacher):
    from tests.core.test_uploads import ooxml

    resource = make.resource(make.user("teacher"))
    make.resource_version(resource, data=ooxml("word/document.xml"), name="教案.docx")
    assert client.get(f"/resources/{resource.id}/preview").status_code == 404
    download = client.get(f"/resources/{resource.id}/download")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")


def test_an_old_version_has_its_own_preview(client, make, teacher):
    resource = make.resource(make.user("teacher"))
    old = make.resource_version(resource, data=PNG, name="旧.png")
    make.resource_version(resource, data=TXT, name="新.txt")
    assert client.get(f"/versions/{old.id}/preview").headers["Content-Type"] == "image/png"
    assert client.get(f"/resources/{resource.id}/preview").status_code == 404
