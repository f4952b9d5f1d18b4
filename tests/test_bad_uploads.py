"""Hostile files through every upload form and API, over HTTP: dangerous names, content that lies about
its type, active documents, a zip bomb, an empty file and an oversized one. tests/core/test_uploads.py
checks the upload service itself; this checks that each route hands its files to it and answers a
refusal with a 4xx that says why, saving neither rows nor files, and that whatever is accepted is
stored inside UPLOAD_DIR under a generated name, never where the name points."""

from __future__ import annotations

import functools
import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from .test_bad_input import (
    ENTRIES,
    File,
    baseline,
    client_for,
    csrf_token,
    explains,
    resolve_url,
    row_counts,
    scene,  # noqa: F401  (fixture)
    send,
    world,  # noqa: F401  (fixture)
)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CSV = "学校名称,类型\n".encode()
STORED = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]{2,5}$")

# Every route that takes a file: (entry key, the file field, the kind of good content it takes)
UPLOAD_ROUTES = {
    "POST /resources/new": "pdf",
    "POST /resources/<id:resource_id>/versions/new": "pdf",
    "POST /partnerships/<id:partnership_id>/log/new": "pdf",
    "POST /log/<id:entry_id>/attachments": "pdf",
    "POST /observations/<id:observation_id>/attachments": "pdf",
    "POST /api/v1/resources": "pdf",
    "POST /admin/roster": "csv",
}
FILE_FIELD = {"POST /partnerships/<id:partnership_id>/log/new": "files"}
# The record page uploads with a script asking for JSON; without one the route answers the edit page
# with the reason: a 4xx either way (tests/observations/test_pages.py checks the page).
ACCEPT = {"POST /observations/<id:observation_id>/attachments": "application/json"}


@functools.cache
def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        archive.writestr("word/media/big.bin", b"\x00" * 200_000_000)
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
HTML = b"<html><script>alert(1)</script></html>"

# (case, name with {ext} for the route's own extension, content (None: the route's good content), must refuse)
CASES = [
    ("traversal_no_extension", "../../etc/passwd", None, True),
    ("traversal", "../../../../tmp/evil.{ext}", None, False),
    ("windows_traversal", "..\\..\\windows\\win.{ext}", None, False),
    ("device_name", "CON", None, True),
    ("device_name_with_extension", "CON.{ext}", None, False),
    ("nul_in_name", "report.{ext}\x00.exe", None, True),
    ("nul_only", "\x00", None, True),
    ("long_name", "a" * 300 + ".{ext}", None, False),
    ("long_cjk_name", "教" * 300 + ".{ext}", None, False),
    ("rtl_override", "\u202egnp.{ext}", None, False),
    ("html", "page.html", HTML, True),
    ("svg", "logo.svg", SVG, True),
    ("double_extension_html", "lesson.{ext}.html", HTML, True),
    ("double_extension_exe", "lesson.{ext}.exe", b"MZ\x90\x00" + b"\x00" * 60, True),
    ("html_named_as_ext", "lesson.{ext}", HTML, True),
    ("svg_named_png", "board.png", SVG, True),
    ("executable_named_as_ext", "setup.{ext}", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, True),
    ("zip_bomb", "bomb.docx", "bomb", True),
    ("empty", "empty.{ext}", b"", True),
]


def good(kind: str) -> tuple[str, bytes]:
    return ("pdf", PDF) if kind == "pdf" else ("csv", CSV)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def upload_dir(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")  # conftest restores the config after each test
    return tmp_path / "uploads"


def _post_file(app, db, scene, key: str, file: File):  # noqa: F811
    people, names = scene
    entry = ENTRIES[key]
    method, rule = key.split(" ", 1)
    url = resolve_url(rule, entry, names)
    client = client_for(app, people, entry.role)
    token = csrf_token(client, entry.role)
    body, _ = baseline(client, entry, url, names)
    field = FILE_FIELD.get(key, "file")
    body = [(k, v) for k, v in body if k != field] + [(field, file)]
    accept = ACCEPT.get(key)
    return send(client, method, url, body, entry, token, accept=accept), url.startswith("/api/") or bool(accept)


def _stored_names(db) -> list[str]:
    from portal.observations.models import ObservationAttachment
    from portal.partnerships.models import PairingAttachment
    from portal.resources.models import ResourceVersion

    names = []
    for model in (ObservationAttachment, PairingAttachment, ResourceVersion):
        column = model.original_name if hasattr(model, "original_name") else None
        if column is not None:
            names += [n for n in db.session.execute(select(column)).scalars() if n]
    return names


@pytest.mark.parametrize("case,name,content,refuse", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("key", sorted(UPLOAD_ROUTES))
def test_hostile_files_are_refused_or_stored_safely(app, db, scene, upload_dir, key, case, name,  # noqa: F811
                                                    content, refuse):
    ext, data = good(UPLOAD_ROUTES[key])
    if content == "bomb":
        content = _bomb()
    name = name.format(ext=ext)
    instance = Path(app.config["INSTANCE_DIR"])
    outside_before = files_under(instance) | files_under(upload_dir.parent)
    before = row_counts(db)
    existing = files_under(upload_dir)
    response, is_api = _post_file(app, db, scene, key, File(name, data if content is None else content))
    status = response.status_code
    assert status < 500, (key, case, status)
    new_files = files_under(upload_dir) - existing
    if status >= 400:
        assert explains(response, is_api), (key, case, status, response.get_data(as_text=True)[:300])
        assert row_counts(db) == before, (key, case)
        assert new_files == set(), (key, case)
    else:
        assert not refuse, f"{key} accepted {case} ({status})"
        db.session.expire_all()
        for stored in new_files:
            relative = stored.resolve().relative_to(upload_dir.resolve()).as_posix()
            assert STORED.match(relative), relative
        for original in _stored_names(db):
            assert "/" not in original and "\\" not in original and "\x00" not in original, original
            assert "\u202e" not in original and len(original) <= 200, original
    outside_after = files_under(instance) | files_under(upload_dir.parent)
    new_outside = {p for p in outside_after - outside_before
                   if not p.resolve().is_relative_to(upload_dir.resolve())
                   and not re.search(r"\.sqlite3(-wal|-shm|-journal)?$", p.name)}
    assert new_outside == set(), (key, case, new_outside)
    assert not os.path.exists("/tmp/evil.pdf") and not os.path.exists("/tmp/evil.csv")  # noqa: S108  (the traversal target)


@pytest.mark.parametrize("key", sorted(UPLOAD_ROUTES))
def test_a_file_over_the_request_limit_is_413_with_a_message(app, db, scene, upload_dir, key):  # noqa: F811
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    ext, data = good(UPLOAD_ROUTES[key])
    before = row_counts(db)
    response, is_api = _post_file(app, db, scene, key, File(f"big.{ext}", data + b"0" * 150_000))
    assert response.status_code == 413, (key, response.status_code)
    assert explains(response, is_api) or b"413" in response.data
    assert row_counts(db) == before and files_under(upload_dir) == set()
