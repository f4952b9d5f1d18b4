"""Light pages: static URLs carry their content hash and are cached for a year, text answers are
compressed when the browser asks, files handed to people never are, and conditional requests still
answer 304."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
from pathlib import Path

import brotli
import pytest
from openpyxl import load_workbook

from portal.core.assets import IMMUTABLE, SHORT

from ..resources import form_fields

STATIC = Path(__file__).resolve().parents[2] / "static"


def content_hash(relative: str) -> str:
    return hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()[:12]


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_every_static_url_on_a_page_carries_the_hash_of_the_files_content(client, login_as):
    login_as("teacher")
    urls = static_urls(client.get("/").get_data(as_text=True)) + static_urls(client.get("/login").get_data(as_text=True))
    assert any("src/portal.css" in url for url in urls), urls
    for url in urls:
        path, _, version = url.partition("?v=")
        assert version == content_hash(path.removeprefix("/static/")), url


def test_a_hashed_static_file_is_cached_for_a_year_an_unhashed_one_briefly(client):
    current = f"/static/src/portal.css?v={content_hash('src/portal.css')}"
    response = client.get(current)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    # no hash, or the hash of an older version: the browser must look again soon
    for url in ("/static/src/portal.css", "/static/src/portal.css?v=0123456789ab"):
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == SHORT, url
    assert "Cookie" not in client.get(current).headers.get("Vary", "")


@pytest.mark.parametrize("encoding, decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_text_answers_are_compressed_when_the_browser_asks(client, login_as, encoding, decode):
    plain_css = (STATIC / "src/portal.css").read_bytes()
    css = client.get(f"/static/src/portal.css?v={content_hash('src/portal.css')}",
                     headers={"Accept-Encoding": encoding})
    assert css.headers["Content-Encoding"] == encoding and "Accept-Encoding" in css.headers["Vary"]
    assert decode(css.data) == plain_css and len(css.data) < len(plain_css) / 2
    login_as("teacher")
    plain_page = client.get("/").data
    page = client.get("/", headers={"Accept-Encoding": encoding})
    assert page.headers["Content-Encoding"] == encoding
    assert b"</html>" in decode(page.data) and len(page.data) < len(plain_page)
    api = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": encoding})
    assert api.headers["Content-Encoding"] == encoding and decode(api.data).startswith(b"{")


def test_nothing_is_compressed_for_a_browser_that_does_not_ask(client):
    response = client.get("/login")
    assert "Content-Encoding" not in response.headers and b"</html>" in response.data
    response = client.get("/login", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers


def test_an_uploaded_file_is_downloaded_byte_for_byte_never_compressed(client, auth, login_as, make, db):
    from portal.resources.models import Resource

    text = ("第一课 分数的意义\n" * 400).encode()  # text/plain, well worth compressing were it a page
    login_as(make.user("teacher", school=make.school("urban"), locale="en"))
    body = form_fields()
    body["file"] = (io.BytesIO(text), "教案.txt")
    assert auth.post("/resources/new", body, content_type="multipart/form-data").status_code == 302
    resource = db.session.query(Resource).one()
    download = client.get(f"/resources/{resource.id}/download", headers={"Accept-Encoding": "gzip, br"})
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "Content-Encoding" not in download.headers and download.data == text


def test_an_excel_export_is_not_compressed(client, login_as):
    login_as("bureau")
    export = client.get("/admin/audit.xlsx", headers={"Accept-Encoding": "gzip, br"})
    assert export.status_code == 200 and "Content-Encoding" not in export.headers
    assert load_workbook(io.BytesIO(export.data)).active.max_row >= 1


def test_socket_io_polling_is_left_to_engine_io(client):
    response = client.get("/socket.io/?EIO=4&transport=polling", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") != "br"
    body = gzip.decompress(response.data) if response.headers.get("Content-Encoding") == "gzip" else response.data
    assert body.startswith(b'0{"sid"')  # the Engine.IO open packet


@pytest.mark.parametrize("encoding", ["gzip", "br", ""])
def test_a_static_file_asked_again_with_its_etag_answers_304(client, encoding):
    url = f"/static/src/portal.css?v={content_hash('src/portal.css')}"
    first = client.get(url, headers={"Accept-Encoding": encoding})
    etag = first.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": encoding, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == IMMUTABLE
    # the compressed and the plain body are different bytes: their validators differ
    if encoding:
        assert etag.endswith(f':{encoding}"')
        plain = client.get(url, headers={"If-None-Match": etag})
        assert plain.status_code == 200 and plain.data == (STATIC / "src/portal.css").read_bytes()


def test_the_api_document_answers_304_when_compressed(client):
    first = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    again = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_changed_static_file_gets_its_new_hash_once_the_disk_is_looked_at_again(app, tmp_path, monkeypatch):
    from portal.core import assets

    (tmp_path / "x.css").write_text("a{}")
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    with app.test_request_context():
        first = assets.static_hash("x.css")
        assert first and len(first) == assets.HASH_LENGTH
        (tmp_path / "x.css").write_text("a{color:red}")
        assert assets.static_hash("x.css") == first  # within RECHECK_SECONDS: no system call
        monkeypatch.setattr(assets, "RECHECK_SECONDS", 0)
        assert assets.static_hash("x.css") not in (None, first)
        assert assets.static_hash("missing.css") is None
