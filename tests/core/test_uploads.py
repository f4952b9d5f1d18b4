"""Uploads: each kind accepted by its real bytes, disguises and names refused, stored once, outside static/."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from portal.core.errors import NotFound, UploadRefused, UploadTooLarge
from portal.core.uploads import KINDS, clean_filename, open_upload, save_upload, send_upload

# Service messages are read in English here (the default locale is Chinese).
pytestmark = pytest.mark.usefixtures("english")

ALL = set(KINDS)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x000\x01\x00\x9d\x01*\x01\x00\x01\x00\x02\x004%\xa4\x00\x03p\x00\xfe\xfb\x94\x00\x00"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"
M4A = b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00"
MP3_ID3 = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + b"\xff\xfb\x90\x00" + b"\x00" * 100
MP3_SYNC = b"\xff\xfb\x90\x00" + b"\x55" * 200
CONTENT_TYPES_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                     b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     b'<Default Extension="xml" ContentType="application/xml"/></Types>')


def ooxml(main: str, extra: dict | None = None, types: bytes = CONTENT_TYPES_XML) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr(main, "<document/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["姓名", "学校"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str, content_type: str = "application/octet-stream") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")  # restored after each test by conftest
    return tmp_path / "uploads"


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("教案.pdf", PDF, "application/pdf"),
        ("课堂.png", PNG, "image/png"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("动图.gif", GIF, "image/gif"),
        ("pic.webp", WEBP, "image/webp"),
        ("说课稿.docx", ooxml("word/document.xml"),
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("名单.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("课件.pptx", ooxml("ppt/presentation.xml"),
         "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("old.doc", OLE2, "application/msword"),
        ("old.xls", OLE2, "application/vnd.ms-excel"),
        ("old.ppt", OLE2, "application/vnd.ms-powerpoint"),
        ("记录.txt", "送教下乡记录\n第二行".encode(), "text/plain"),
        ("名单.csv", "姓名,学校\n张伟,山口村小学\n".encode("gb18030"), "text/csv"),
        ("bom.csv", "\ufeff姓名,学校\n".encode(), "text/csv"),
        ("课堂实录.mp4", MP4, "video/mp4"),
        ("朗读.mp3", MP3_ID3, "audio/mpeg"),
        ("raw.mp3", MP3_SYNC, "audio/mpeg"),
        ("录音.m4a", M4A, "audio/mp4"),
    ],
)
def test_each_kind_is_accepted_by_its_bytes(upload_dir, name, data, content_type):
    saved = save_upload(upload(data, name, "text/html"), kinds=ALL, max_bytes=10_000_000)
    assert saved.original_name == name and saved.content_type == content_type and saved.size == len(data)
    path = upload_dir / saved.stored_name
    assert path.read_bytes() == data
    assert saved.stored_name == f"{saved.sha256[:2]}/{saved.sha256}.{name.rsplit('.', 1)[1].lower()}"
    with open_upload(saved.stored_name) as stream:
        assert stream.read() == data
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700) and path.stat().st_mode & 0o077 == 0


def test_only_the_kinds_asked_for_are_accepted():
    with pytest.raises(UploadRefused) as caught:
        save_upload(upload(MP4, "clip.mp4"), kinds={"pdf", "image"}, max_bytes=10_000_000)
    assert "pdf" in str(caught.value.message) and "mp4" not in str(caught.value.message)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200),  # a renamed Windows executable
        ("tool.mp3", b"\x7fELF\x02\x01\x01" + b"\x00" * 200),  # a renamed Linux executable
        ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 50),  # NUL bytes are not text
        ("lesson.pdf", b"<html><script>alert(1)</script></html>"),  # HTML named .pdf
        ("lesson.pdf", b"<!-- %PDF-1.4 --><html><script>alert(1)</script></html>%PDF-1.4"),  # PDF magic not first
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),  # SVG named .png
        ("photo.jpg", PNG),  # a PNG is not a JPEG
        ("pic.png", PNG + b"<html><body><script>alert(1)</script></body></html>"),  # PNG head, HTML body
        ("doc.pdf", b"%PDF-1.4\n<html><script>alert(1)</script>"),  # PDF header with markup in its head
        ("fake.docx", b"PK\x03\x04" + b"\x00" * 100),  # a broken zip
        ("fake.docx", ooxml("xl/workbook.xml")),  # a workbook named .docx
        ("fake.xlsx", b"junk before the zip" + ooxml("xl/workbook.xml")),  # a zip with something prepended
        ("notes.docx", ooxml("other/thing.xml")),  # a zip without the main part
        ("macro.docx", ooxml("word/document.xml", {"word/vbaProject.bin": b"\x00" * 10})),
        ("xxe.docx", ooxml("word/document.xml",
                           types=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Types/>')),
        ("video.mp4", b"\x00\x00\x00\x18free" + b"\x00" * 50),
        ("gb.txt", b"\xff\xfe\xfd\x80\x81"),  # neither UTF-8 nor GB18030
    ],
)
def test_content_not_matching_its_extension_is_refused(upload_dir, name, data):
    with pytest.raises(UploadRefused) as caught:
        save_upload(upload(data, name, "application/pdf"), kinds=ALL, max_bytes=10_000_000)
    assert caught.value.status == 400
    assert stored_files(upload_dir) == []  # nothing left behind, not even the temporary file


@pytest.mark.parametrize("name", ["evil.svg", "page.html", "page.htm", "run.exe", "x.php", "slides.pptm",
                                  "doc.docm", "noextension", "a.pdf.exe", "report.pdf\x00.exe"])
def test_disallowed_extensions_are_refused(name):
    with pytest.raises(UploadRefused):
        save_upload(upload(PDF, name), kinds=ALL, max_bytes=10_000_000)


def test_an_empty_file_is_refused(upload_dir):
    with pytest.raises(UploadRefused) as caught:
        save_upload(upload(b"", "空.pdf"), kinds=ALL, max_bytes=10_000_000)
    assert "空.pdf" in str(caught.value.message) and stored_files(upload_dir) == []


@pytest.mark.parametrize("name", ["", "   ", "../", "..", "/", "\x00\x01", ".pdf", "../../.pdf"])
def test_a_name_empty_after_cleaning_is_refused(name):
    with pytest.raises(UploadRefused):
        save_upload(upload(PDF, name), kinds=ALL, max_bytes=10_000_000)


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\x.pdf", "x.pdf"),
        ("C:\\Users\\张老师\\桌面\\教案 第1课.pdf", "教案 第1课.pdf"),
        ("/abs/path/a.pdf", "a.pdf"),
        ("re\x00port\x1b[31m.pdf", "report[31m.pdf"),
        ("\u202egnp.pdf", "gnp.pdf"),  # a right-to-left override
    ],
)
def test_path_and_control_characters_never_reach_the_filesystem(upload_dir, name, clean):
    saved = save_upload(upload(PDF, name), kinds=ALL, max_bytes=10_000_000)
    assert saved.original_name == clean
    files = stored_files(upload_dir)
    assert len(files) == 1 and files[0].resolve().is_relative_to(upload_dir.resolve())
    assert files[0].name == f"{saved.sha256}.pdf"


def test_long_names_are_cut_to_200_characters_keeping_the_extension():
    saved = save_upload(upload(PDF, "教" * 300 + ".pdf"), kinds=ALL, max_bytes=10_000_000)
    assert len(saved.original_name) == 200 and saved.original_name.endswith("教.pdf")
    assert clean_filename("a" * 500) == "a" * 200


def test_too_large_is_413_and_nothing_is_kept(upload_dir):
    data = PDF + b"0" * 300_000
    with pytest.raises(UploadTooLarge) as caught:
        save_upload(upload(data, "big.pdf"), kinds=ALL, max_bytes=200_000)
    assert caught.value.status == 413 and stored_files(upload_dir) == []
    assert save_upload(upload(data, "big.pdf"), kinds=ALL, max_bytes=len(data)).size == len(data)


def test_reading_stops_at_the_limit():
    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self):
            return True

        def read(self, n=-1):
            n = 65536 if n is None or n < 0 else n
            self.read_bytes += n
            return b"%PDF-" + b"0" * (n - 5) if self.read_bytes == n else b"0" * n

    stream = Endless()
    with pytest.raises(UploadTooLarge):
        save_upload(FileStorage(stream=stream, filename="a.pdf"), kinds=ALL, max_bytes=1_000_000)
    assert stream.read_bytes < 1_200_000


def test_a_zip_bomb_is_refused(upload_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("word/document.xml", b"<document/>")
        archive.writestr("word/media/big.bin", b"\x00" * 200_000_000)
    with pytest.raises(UploadRefused) as caught:
        save_upload(upload(buffer.getvalue(), "bomb.docx"), kinds=ALL, max_bytes=10_000_000)
    assert "too much" in str(caught.value.message) and stored_files(upload_dir) == []


def test_same_content_is_stored_once(upload_dir):
    first = save_upload(upload(PDF, "一.pdf"), kinds=ALL, max_bytes=10_000_000)
    second = save_upload(upload(PDF, "二.pdf"), kinds=ALL, max_bytes=10_000_000)
    assert first.stored_name == second.stored_name and first.original_name != second.original_name
    assert len(stored_files(upload_dir)) == 1


def test_files_are_stored_outside_static(app, upload_dir):
    saved = save_upload(upload(PDF, "a.pdf"), kinds=ALL, max_bytes=10_000_000)
    path = (upload_dir / saved.stored_name).resolve()
    static = Path(app.static_folder).resolve()
    assert not path.is_relative_to(static)
    app.config["UPLOAD_DIR"] = os.path.join(app.static_folder, "uploads")
    with pytest.raises(RuntimeError):
        save_upload(upload(PDF, "a.pdf"), kinds=ALL, max_bytes=10_000_000)
    assert not os.path.exists(os.path.join(app.static_folder, "uploads"))


@pytest.mark.parametrize("stored", ["../../etc/passwd", "ab/../../x.pdf", "zz/" + "a" * 64 + ".pdf",
                                    "ab/ab" + "0" * 62 + ".exe", "", "ab/" + "cd" * 32 + ".pdf"])
def test_only_generated_names_can_be_opened(stored):
    with pytest.raises(NotFound):
        open_upload(stored)


def test_downloads_are_attachments_with_a_utf8_name_and_nosniff(app):
    saved = save_upload(upload(PDF, "教案 第1课.pdf"), kinds=ALL, max_bytes=10_000_000)
    with app.test_request_context("/"):
        response = send_upload(saved.stored_name, saved.original_name, "text/html")
        response.direct_passthrough = False
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%E6%95%99%E6%A1%88%20%E7%AC%AC1%E8%AF%BE.pdf" in disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.mimetype == "application/pdf"  # the stored extension decides, never the caller
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert response.get_data() == PDF
        response.close()
