"""Uploaded files: checked by their content, stored once by their SHA-256, sent back only as downloads.

A file is accepted when its extension belongs to one of the kinds the caller allows *and* its
bytes are what that extension says (magic bytes, a real OOXML package, valid text): the
browser's content type is never trusted. It is streamed in chunks to a temporary file inside
UPLOAD_DIR (outside the web root), hashed on the way, and renamed atomically to
``ab/abcdef….ext``: identical content is stored once. The original name is kept only as
display metadata for the caller's table; downloads are always ``attachment`` with ``nosniff``
(security.md §1.3, §3 E).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, send_file

from .errors import NotFound, UploadRefused, UploadTooLarge
from .i18n import lazy_gettext as _l
from .sanitize import strip_controls

CHUNK = 64 * 1024
HEAD = 4096  # bytes kept for the magic-number checks
MAX_NAME = 200
# OOXML packages: never inflated here beyond [Content_Types].xml, but refused when their
# declared contents are absurd, so no later reader (preview, indexing) meets a zip bomb.
MAX_ZIP_ENTRIES = 5_000
MAX_ZIP_ENTRY_BYTES = 46 + 1024  # a central directory record with a long name and extras
MAX_ZIP_UNPACKED = 1024 * 1024 * 1024
MAX_ZIP_RATIO = 100
MAX_CONTENT_TYPES_XML = 1024 * 1024

# kind → the extensions it takes
KINDS: dict[str, tuple[str, ...]] = {
    "pdf": ("pdf",),
    "image": ("png", "jpg", "jpeg", "gif", "webp"),
    "office": ("docx", "xlsx", "pptx", "doc", "xls", "ppt"),
    "text": ("txt", "csv"),
    "video": ("mp4",),
    "audio": ("mp3", "m4a"),
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "txt": "text/plain",
    "csv": "text/csv",
    "mp4": "video/mp4",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
}
# The part each OOXML extension must contain.
_OOXML_MAIN = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
# Markup a browser could run if it ever sniffed the file; never in the head of a binary format.
_ACTIVE_MARKUP = re.compile(rb"<\s*(?:script|html|svg|iframe|body|object|embed|!doctype\s+html)\b", re.I)
_STORED_NAME = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{64})\.([a-z0-9]{2,5})$")


def _mismatch(name: str) -> UploadRefused:
    return UploadRefused(_l("The content of %(name)s does not match its extension; it is refused.", name=name))


@dataclass(frozen=True)
class SavedFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def extensions_of(kinds: set[str] | frozenset[str]) -> list[str]:
    """The extensions a set of kinds accepts, for the file input's ``accept`` and messages."""
    return [ext for kind in KINDS if kind in kinds for ext in KINDS[kind]]


def clean_filename(raw: str | None) -> str:
    """A display name: NFC, controls removed, the last path component only, at most 200
    characters (the extension kept). Chinese names stay as they are."""
    name = unicodedata.normalize("NFC", strip_controls(raw or ""))
    name = re.sub(r"[\x00-\x1f\x7f-\x9f]", "", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = name.strip().strip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME]
    return name


def _upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    static = Path(current_app.static_folder).resolve() if current_app.static_folder else None
    if static is not None and (root == static or static in root.parents):
        raise RuntimeError("UPLOAD_DIR must be outside the static folder")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


class _TextCheck:
    """Feeds every chunk to a UTF-8 and a GB18030 decoder; the text is valid if either survives."""

    def __init__(self):
        self.decoders = {"utf-8": codecs.getincrementaldecoder("utf-8")(),
                         "gb18030": codecs.getincrementaldecoder("gb18030")()}
        self.has_nul = False

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if b"\x00" in chunk:
            self.has_nul = True
        for name, decoder in list(self.decoders.items()):
            try:
                decoder.decode(chunk, final)
            except UnicodeDecodeError:
                del self.decoders[name]

    @property
    def ok(self) -> bool:
        return bool(self.decoders) and not self.has_nul


def _matches(ext: str, head: bytes, path: Path) -> bool:
    """Whether the bytes are the format the extension names."""
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == "gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    if ext == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if ext in ("doc", "xls", "ppt"):
        return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if ext in _OOXML_MAIN:
        return head.startswith(b"PK\x03\x04") and _is_ooxml(path, ext)
    if ext in ("mp4", "m4a"):
        return head[4:8] == b"ftyp"
    if ext == "mp3":
        return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    return False


def _central_directory_fits(path: Path) -> bool:
    """Whether the zip's end record announces at most MAX_ZIP_ENTRIES entries in a central
    directory of a matching size, read before ``ZipFile`` parses every entry into an object:
    46-byte empty entries cost nothing to send and seconds and GBs to read by the million.
    (``ZipFile`` reads the directory by its size, so the size is checked, not only the count.)"""
    read_end = getattr(zipfile, "_EndRecData", None)  # the stdlib's own reader of the end record
    if read_end is None:
        return True
    with path.open("rb") as stream:
        end = read_end(stream)
    if end is None:
        return True  # not a zip: ZipFile refuses it below
    return (end[zipfile._ECD_ENTRIES_TOTAL] <= MAX_ZIP_ENTRIES
            and end[zipfile._ECD_SIZE] <= MAX_ZIP_ENTRIES * MAX_ZIP_ENTRY_BYTES)


def _is_ooxml(path: Path, ext: str) -> bool:
    """A zip holding [Content_Types].xml and the extension's main part; no macros, no DTD;
    declared sizes within reason (the same zip-bomb guard as the roster import)."""
    try:
        if not _central_directory_fits(path):
            raise UploadRefused(_l("This document unpacks to too much data; it is refused."))
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
            unpacked = sum(e.file_size for e in entries)
            size = path.stat().st_size
            if len(entries) > MAX_ZIP_ENTRIES or unpacked > min(MAX_ZIP_UNPACKED, MAX_ZIP_RATIO * size + 10_000_000):
                raise UploadRefused(_l("This document unpacks to too much data; it is refused."))
            if "[Content_Types].xml" not in names or _OOXML_MAIN[ext] not in names:
                return False
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise UploadRefused(_l("Documents with macros are not accepted; save it without macros."))
            with archive.open("[Content_Types].xml") as stream:  # streamed: a lying header cannot inflate more
                types = stream.read(MAX_CONTENT_TYPES_XML + 1)
    except UploadRefused:
        raise
    except Exception:  # zipfile raises many kinds for a broken or foreign archive
        return False
    if len(types) > MAX_CONTENT_TYPES_XML or b"<!DOCTYPE" in types.upper() or b"<!ENTITY" in types.upper():
        return False
    if b"macroenabled" in types.lower():
        raise UploadRefused(_l("Documents with macros are not accepted; save it without macros."))
    return b"<Types" in types


def save_upload(file_storage, *, kinds: set[str], max_bytes: int) -> SavedFile:
    """Check and store one uploaded file (a werkzeug FileStorage). Raises UploadRefused (400)
    or UploadTooLarge (413); nothing is left on disk when it does."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise UploadRefused(_l("Choose a file to upload."))
    original = clean_filename(file_storage.filename)
    stem, dot, ext = original.rpartition(".")
    ext = ext.lower() if dot else ""
    if not original or not stem.strip():
        raise UploadRefused(_l("The file has no usable name; rename it and try again."))
    allowed = extensions_of(kinds)
    if ext not in allowed:
        raise UploadRefused(_l("Files of this type are not accepted. Accepted: %(exts)s.", exts=", ".join(allowed)))
    kind = next(k for k, exts in KINDS.items() if ext in exts)

    root = _upload_root()
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(mode=0o700, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="up-")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        head = b""
        text = _TextCheck() if kind == "text" else None
        stream = file_storage.stream
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(_l("The file is larger than %(n)s MB.", n=_megabytes(max_bytes)))
                if len(head) < HEAD:
                    head += chunk[: HEAD - len(head)]
                digest.update(chunk)
                if text is not None:
                    text.feed(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRefused(_l("The file %(name)s is empty.", name=original))
        if text is not None:
            text.feed(b"", final=True)
            if not text.ok:
                raise _mismatch(original)
        elif not _matches(ext, head, tmp) or _ACTIVE_MARKUP.search(head[:1024]):
            raise _mismatch(original)
        hexdigest = digest.hexdigest()
        stored_name = f"{hexdigest[:2]}/{hexdigest}.{ext}"
        final = root / stored_name
        final.parent.mkdir(mode=0o700, exist_ok=True)
        if final.exists() and final.stat().st_size == size:
            tmp.unlink()  # the same content is already stored
        else:
            os.chmod(tmp, 0o600)
            os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return SavedFile(stored_name=stored_name, original_name=original, content_type=CONTENT_TYPES[ext],
                     size=size, sha256=hexdigest)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}" if n >= 1024 * 1024 else f"{n / (1024 * 1024):.2f}"


def upload_path(stored_name: str) -> Path:
    """The file's path; only names this module generated are accepted (no traversal)."""
    match = _STORED_NAME.match(stored_name or "")
    if match is None or not match.group(2).startswith(match.group(1)) or match.group(3) not in CONTENT_TYPES:
        raise NotFound(_l("The file was not found."))
    path = Path(current_app.config["UPLOAD_DIR"]).resolve() / stored_name
    if not path.is_file():
        raise NotFound(_l("The file was not found."))
    return path


def open_upload(stored_name: str):
    """The stored file opened for reading in binary mode (the caller closes it)."""
    return upload_path(stored_name).open("rb")


def send_upload(stored_name: str, download_name: str, content_type: str):
    """A download response: always an attachment (RFC 6266/5987 UTF-8 filename), ``nosniff``,
    a sandboxing CSP, and a content type from the stored extension, never an active one."""
    path = upload_path(stored_name)
    ext = stored_name.rsplit(".", 1)[-1]
    mimetype = CONTENT_TYPES.get(ext, "application/octet-stream")
    if content_type != mimetype:
        content_type = mimetype  # the stored extension decides; HTML or SVG can never come back
    name = clean_filename(download_name) or f"file.{ext}"
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=name,
                         conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
