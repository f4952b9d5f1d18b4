"""The one place rich text is cleaned (bleach). Every rich-text field goes through here on write."""

from __future__ import annotations

import html
import re
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter

from .errors import Invalid
from .i18n import lazy_gettext as _l

# Sanitisers are super-linear on deeply nested markup (security.md §0.6): cap size and depth first.
MAX_HTML_CHARS = 100_000
MAX_TAGS = 3_000
MAX_DEPTH = 40

TAGS = frozenset(
    {
        "p", "br", "strong", "b", "em", "i", "u", "s", "sub", "sup", "h2", "h3", "h4",
        "ul", "ol", "li", "blockquote", "pre", "code", "hr", "a",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)
ATTRIBUTES = {"a": ["href", "title"], "th": ["colspan", "rowspan"], "td": ["colspan", "rowspan"]}
PROTOCOLS = frozenset({"http", "https", "mailto"})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_LEADING = "".join(chr(c) for c in range(0x21))
_VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source"}


def _safe_rel(attrs, new=False):
    href_key = (None, "href")
    # Read the href as a browser does: entities decoded, tabs and newlines anywhere and leading
    # spaces or controls ignored, so "&#32;//evil" and "/\t/evil" are protocol-relative too.
    href = _URL_IGNORED.sub("", html.unescape(attrs.get(href_key, ""))).lstrip(_URL_LEADING)
    # bleach lets "scheme:<digits>" and protocol-relative hrefs through; drop them here.
    if href.startswith(("//", "\\", "/\\")) or re.match(r"^[a-z][a-z0-9+.-]*:\d", href, re.I):
        return None
    attrs[(None, "rel")] = "noopener noreferrer nofollow"
    return attrs


_cleaner = bleach.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    protocols=PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_safe_rel], skip_tags={"pre", "code"})],
)


def _nesting_depth(html: str) -> int:
    depth = deepest = 0
    for closing, name, selfclosing in _TAG.findall(html):
        if name.lower() in _VOID or selfclosing:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


def strip_controls(text: str) -> str:
    """Remove NUL, other C0 controls, zero-width and bidi override characters."""
    return _CONTROL.sub("", text)


LIKE_ESCAPE = "/"  # the escape character of LIKE patterns made with like_text


def like_text(text: str) -> str:
    """``text`` as the literal part of ``column.contains(bindparam(...), escape=LIKE_ESCAPE)``:
    its ``%``, ``_`` and ``/`` match themselves. SQLAlchemy's ``autoescape`` does this for a
    literal value only; statements built once bind the value per request."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def clean_html(raw: str | None) -> str:
    """Return safe HTML for the body context, or raise Invalid when the input is too big or deep."""
    if not raw:
        return ""
    if len(raw) > MAX_HTML_CHARS:
        raise Invalid(_l("The text is too long (at most %(n)d characters).", n=MAX_HTML_CHARS))
    if raw.count("<") > MAX_TAGS or _nesting_depth(raw) > MAX_DEPTH:
        raise Invalid(_l("The text has too much formatting; please simplify it."))
    return _cleaner.clean(strip_controls(raw)).strip()


def clean_text(raw: str | None, *, max_length: int | None = None) -> str:
    """Plain text: controls removed, surrounding space trimmed. Escaping is the template's job."""
    text = strip_controls(raw or "").strip()
    if max_length is not None and len(text) > max_length:
        raise Invalid(_l("The text is too long (at most %(n)d characters).", n=max_length))
    return text


_LOOKS_LIKE_MARKUP = re.compile(r"<[a-zA-Z/!]")


def rich_text(raw: str | None) -> str:
    """Safe HTML from a rich-text field. Input without markup (a phone's plain textarea) keeps
    its paragraphs and line breaks; input with markup goes through the sanitiser as it is."""
    if not raw or not raw.strip():
        return ""
    if len(raw) > MAX_HTML_CHARS:
        raise Invalid(_l("The text is too long (at most %(n)d characters).", n=MAX_HTML_CHARS))
    if not _LOOKS_LIKE_MARKUP.search(raw):
        paragraphs = re.split(r"\n\s*\n", raw.replace("\r\n", "\n").strip())
        raw = "".join("<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>" for p in paragraphs)
    return clean_html(raw)
