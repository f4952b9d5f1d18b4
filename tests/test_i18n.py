"""The Simplified Chinese catalogue covers every string in the source, and the portal speaks it.

The source strings are English; Chinese is the default language. A string added to the code
without a translation would show up in English on a Chinese page, so this test extracts the
messages the way ``make extract-messages`` does (babel.cfg's method map, keywords ``_l`` and
``lazy_gettext`` besides Babel's own) and checks each one against the zh_Hans catalogue.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
ZH_PO = ROOT / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
SKIPPED_DIRS = {"node_modules", "__pycache__"}

# A %-placeholder: %(name)s, %(n)d, %s, %5.2f ... but not the literal %%.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])")


def _keep_dir(dirpath: str) -> bool:
    # Unlike Babel's default filter this keeps directories starting with "_" (templates/_macros):
    # their strings are shown to users just the same.
    name = os.path.basename(dirpath)
    return not name.startswith(".") and name not in SKIPPED_DIRS


def _babel_default_skips(filename: str) -> bool:
    """Whether `pybabel extract` without --ignore-dirs would skip this file's directory."""
    return any(part.startswith(("_", ".")) for part in Path(filename).parent.parts)


@pytest.fixture(scope="module")
def extracted() -> dict:
    """{(context, msgid): [files]} for every message in the source."""
    with open(BABEL_CFG) as f:
        method_map, options_map = parse_mapping_cfg(f, str(BABEL_CFG))
    found: dict = {}
    for filename, _lineno, msgid, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_keep_dir
    ):
        found.setdefault((context, msgid), []).append(filename)
    assert found, "no messages extracted: is babel.cfg's method map still right?"
    return found


@pytest.fixture(scope="module")
def catalog():
    with open(ZH_PO, "rb") as f:
        return read_po(f, locale="zh_Hans")


def _strings(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _translated(message) -> bool:
    return message is not None and not message.fuzzy and all(s and s.strip() for s in _strings(message.string))


def test_every_source_string_has_a_chinese_translation(extracted, catalog):
    missing = {key: files for key, files in extracted.items() if not _translated(catalog.get(key[1], key[0]))}
    lines = []
    for (context, msgid), files in sorted(missing.items(), key=lambda item: str(item[0][1])):
        where = ", ".join(sorted(set(files)))
        ctx = f" (context {context!r})" if context else ""
        lines.append(f"  {_strings(msgid)[0]!r}{ctx}  [{where}]")
    hint = ""
    if any(_babel_default_skips(f) for files in missing.values() for f in files):
        hint = (
            "\nSome come from a directory whose name starts with '_' or '.', which `pybabel extract` skips "
            "unless given --ignore-dirs (e.g. --ignore-dirs '.* __pycache__ node_modules' in the "
            "extract-messages target)."
        )
    assert not missing, (
        f"{len(missing)} message(s) have no (or only a fuzzy) Simplified Chinese translation in "
        f"{ZH_PO.relative_to(ROOT)}:\n" + "\n".join(lines) + "\n"
        "Run `make extract-messages`, then translate these msgids in that file "
        "(fill msgstr, drop any '#, fuzzy' flag)." + hint
    )


def test_catalogue_header_is_not_fuzzy(catalog):
    assert not catalog.fuzzy, f"the header of {ZH_PO.relative_to(ROOT)} is marked fuzzy; remove the flag"


def _placeholders(text: str) -> tuple[Counter, list]:
    named, positional = Counter(), []
    for match in PLACEHOLDER.finditer(text):
        if match.group("conv") == "%":
            continue
        if match.group("name") is not None:
            named[(match.group("name"), match.group("conv"))] += 1
        else:
            positional.append(match.group("conv"))
    return named, positional


def _bare_percents(text: str) -> int:
    """Lone % signs: a template's _() formats every message, where a lone % fails (write %%)."""
    return PLACEHOLDER.sub("", text).count("%")


def test_translations_keep_the_placeholders(catalog):
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        source_named, source_positional = _placeholders(_strings(message.id)[0])
        for translation in _strings(message.string):
            if not translation:
                continue
            named, positional = _placeholders(translation)
            if set(named) != set(source_named) or positional != source_positional or (
                    _bare_percents(translation) != _bare_percents(_strings(message.id)[0])):
                wrong.append(f"  {_strings(message.id)[0]!r} -> {translation!r}")
    assert not wrong, "these translations change the %-placeholders of their msgid:\n" + "\n".join(wrong)


def _html_lang(page: str) -> str | None:
    match = re.search(r'<html[^>]*\blang="([^"]*)"', page)
    return match.group(1) if match else None


def test_pages_are_chinese_by_default_and_english_on_request(client, auth):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page, "the login page is not in Chinese: is the catalogue compiled (`make translations`)?"
    assert "Log in" not in page
    assert _html_lang(page) == "zh-Hans"

    response = client.post("/language", data={"locale": "en", "csrf_token": auth.csrf("/login")})
    assert response.status_code == 302

    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page
    assert "登录" not in page
    assert _html_lang(page) == "en"

    client.post("/language", data={"locale": "zh_Hans", "csrf_token": auth.csrf("/login")})
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and _html_lang(page) == "zh-Hans"


def test_unknown_language_is_refused(client, auth):
    response = client.post("/language", data={"locale": "fr", "csrf_token": auth.csrf("/login")})
    assert response.status_code == 400
    assert _html_lang(client.get("/login").get_data(as_text=True)) == "zh-Hans"
