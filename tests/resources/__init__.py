"""Tests of the resource library. Shared by its test modules: file bytes of each kind, an upload
helper and the form and API field sets."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4000
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 500
TXT = "第一课 分数的意义\n".encode()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200  # a Windows program
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def upload(data: bytes, name: str, content_type: str = "application/octet-stream") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


def metadata(**overrides) -> dict:
    """Service keyword arguments for a valid resource."""
    values = dict(title="五年级《分数的意义》教学设计", description="第一课时", kind="lesson_plan", subject="math",
                  stage="primary", grade=5, edition="pep", unit="第四单元", tags="分数 教案", visibility="public",
                  community_ids=[], partnership_ids=[])
    values.update(overrides)
    return values


def form_fields(**overrides) -> dict:
    """Form or multipart API fields for a valid resource (no file)."""
    fields = {"title": "五年级《分数的意义》教学设计", "description": "第一课时", "kind": "lesson_plan",
              "subject": "math", "stage": "primary", "grade": "5", "edition": "pep", "unit": "第四单元",
              "tags": "分数 教案", "visibility": "public"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}
