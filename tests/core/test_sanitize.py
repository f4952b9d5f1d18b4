"""The rich-text sanitiser (security.md §3.A): what goes in, what may come out."""

from __future__ import annotations

import re
import time

import pytest

from portal.core.errors import Invalid
from portal.core.sanitize import ATTRIBUTES, MAX_HTML_CHARS, TAGS, clean_html, clean_text, strip_controls

REL = 'rel="noopener noreferrer nofollow"'

ACTIVE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    '<p onclick="alert(1)">x</p>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" \tjavascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="javascript://%0aalert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<noscript><style></noscript><img src=x onerror=alert(1)>",
    "<svg><style><img src=x onerror=alert(1)>",
    "<math><p></p><style><!--</style><img src/onerror=alert(1)>--></style></math>",
    '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;/mglyph&gt;&lt;img&Tab;src=1&Tab;onerror=alert(1)&gt;">',
    '<svg><a><set attributeName="href" to="javascript:alert(1)"/><text y="30">x</text></a></svg>',
    "javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"`/+/onmouseover=1/+/[*/[]/+alert(42);//'>",
    "<form><button formaction=javascript:alert(1)>X</button></form>",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<img id="csrf_token" name="forms">',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
]


@pytest.mark.parametrize("payload", ACTIVE)
def test_active_content_is_removed(payload):
    out = clean_html(payload).lower()
    for marker in ("<script", "<img", "<svg", "<math", "<style", "<iframe", "<form", "<base", "<meta", "<object",
                   "<embed", "<link", "<button", "<set", "srcdoc", "formaction"):
        assert marker not in out, (payload, out)
    # What is left of a payload may be inert text; no tag may keep an event handler or a script URL.
    for tag in re.findall(r"<[a-z][^>]*>", out):
        assert not re.search(r"\son\w+\s*=|(javascript|vbscript|data):", tag), (payload, out)


def test_style_attributes_and_blocks_are_removed():
    out = clean_html('<p style="position:fixed;top:0;width:100%">请重新登录</p><style>p{color:red}</style>')
    assert "style" not in out and "<p>请重新登录</p>" in out


def test_allowed_formatting_survives():
    html = "<h2>教学目标</h2><p><strong>重点</strong>与<em>难点</em></p><ul><li>一</li></ul><table><tr><td colspan=\"2\">x</td></tr></table>"
    out = clean_html(html)
    for tag in ("<h2>", "<strong>", "<em>", "<ul>", "<li>", 'colspan="2"'):
        assert tag in out


def test_links_get_rel_and_lose_target():
    out = clean_html('<a href="https://www.edu.cn/" target="_blank" rel="opener">教育部</a>')
    assert out == f'<a href="https://www.edu.cn/" {REL}>教育部</a>'


def test_bare_urls_become_safe_links():
    assert clean_html("见 https://www.edu.cn/a 。") == f'见 <a href="https://www.edu.cn/a" {REL}>https://www.edu.cn/a</a> 。'


def test_relative_and_mail_links_survive():
    assert clean_html('<a href="/schools/1">x</a>') == f'<a href="/schools/1" {REL}>x</a>'
    assert clean_html('<a href="mailto:jyj@example.cn">x</a>') == f'<a href="mailto:jyj@example.cn" {REL}>x</a>'


@pytest.mark.parametrize(
    "href",
    [
        "javascript:1", "localhost:8000", "foo:123", "tel:110", "https:443",
        "//evil.example/login", "\\\\evil.example", "/\\evil.example", "\\/evil.example",
        " //evil.example", "\t//evil.example", "/\t/evil.example", "&#32;//evil.example", "&#x2f;/evil.example",
    ],
)
def test_scheme_digits_and_protocol_relative_hrefs_are_dropped(href):
    out = clean_html(f'<a href="{href}">登录</a>')
    assert "href" not in out and "登录" in out


@pytest.mark.parametrize("text", ["a\x00b", "作业\u202egpj.exe", "张\u200b三", "\ufeff李四", "x\u2066y\u2069", "\x1b[31mred"])
def test_nul_and_bidi_and_invisible_controls_are_stripped(text):
    out = clean_html(f"<p>{text}</p>")
    assert not any(ch in out for ch in "\x00\x1b\u202e\u200b\ufeff\u2066\u2069")
    assert clean_text(text) == strip_controls(text)
    assert "\x00" not in clean_text(text) and "\u202e" not in clean_text(text)


def test_deep_nesting_is_refused_quickly_and_not_sanitised():
    started = time.perf_counter()
    with pytest.raises(Invalid):
        clean_html("<div>" * 10_000)
    with pytest.raises(Invalid):
        clean_html("<blockquote>" * 41 + "x" + "</blockquote>" * 41)
    assert time.perf_counter() - started < 0.5


def test_moderate_nesting_is_fine():
    assert clean_html("<ul><li>" * 10 + "x" + "</li></ul>" * 10).count("<ul>") == 10


def test_too_long_or_too_many_tags_is_refused():
    with pytest.raises(Invalid):
        clean_html("教" * (MAX_HTML_CHARS + 1))
    with pytest.raises(Invalid):
        clean_html("<br>" * 5000)


@pytest.mark.parametrize(
    "payload",
    ACTIVE + [
        '<a href="https://www.edu.cn/?a=1&amp;b=<2>">x & y</a>',
        "见 https://www.edu.cn/a 和 www.moe.gov.cn",
        "<p>1 &lt; 2 &amp; 3 &gt; 2</p>",
        "<pre><code>if a < b: print('&')</code></pre>",
        "<table><td>无表头</td></table>",
        "<p>未闭合<strong>粗体",
    ],
)
def test_sanitising_twice_changes_nothing(payload):
    once = clean_html(payload)
    assert clean_html(once) == once


def test_empty_input_is_empty():
    assert clean_html("") == "" and clean_html(None) == ""


def test_the_allowlist_stays_small():
    assert not {"svg", "math", "style", "script", "img", "iframe", "form", "input", "div"} & TAGS
    assert all("style" not in attrs and not any(a.startswith("on") for a in attrs) for attrs in ATTRIBUTES.values())


def test_clean_text_limits_length():
    assert clean_text("  李四  ") == "李四"
    with pytest.raises(Invalid):
        clean_text("x" * 61, max_length=60)


def test_like_text_makes_wildcards_match_themselves(db, make):
    from sqlalchemy import bindparam, select

    from portal.core.sanitize import LIKE_ESCAPE, like_text
    from portal.org.models import School

    for name in ("百分之百%学校", "a_b小学", "路/径小学", "普通小学"):
        make.school(name=name)
    stmt = select(School.name).where(School.name.contains(bindparam("q"), escape=LIKE_ESCAPE))

    def found(q):
        return set(db.session.execute(stmt, {"q": like_text(q)}).scalars())

    assert found("%") == {"百分之百%学校"}
    assert found("_") == {"a_b小学"}
    assert found("/") == {"路/径小学"}
    assert found("小学") == {"a_b小学", "普通小学", "路/径小学"}
