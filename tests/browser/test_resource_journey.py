"""An urban teacher shares a lesson plan with a Chinese title; a rural teacher finds it on a phone by
words from the middle of the title, previews it without downloading, and rates it.

Finds things by field names and data, never by translated words.
"""

from __future__ import annotations

import base64
from urllib.parse import quote, urlsplit

import pytest

from tests.browser.layout import fits

pytestmark = pytest.mark.browser

PHONE = (360, 740)
DESKTOP = (1280, 800)
TITLE = "人教版三年级上册《秋天的雨》第二课时板书设计"
MIDDLE = "秋天的雨"
# A 2×2 red PNG: a picture previews inline, so the check needs no PDF viewer.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="
)


def test_share_find_preview_rate(page_factory, watch_of, log_in, tmp_path):
    picture = tmp_path / "秋天的雨-板书.png"
    picture.write_bytes(PNG)

    owner = page_factory(*DESKTOP)
    log_in(owner, "teacher.city")
    owner.goto("/resources/new")
    owner.fill("input[name=title]", TITLE)
    owner.fill("textarea[name=description]", "第二课时板书：从“五彩缤纷”到“丰收的香味”，抓住秋雨的颜色和气味。")
    owner.select_option("select[name=kind]", "lesson_plan")
    owner.select_option("select[name=subject]", "chinese")
    owner.select_option("select[name=stage]", "primary")
    owner.select_option("select[name=grade]", "3")
    owner.check("input[name=visibility][value=public]")
    owner.set_input_files("input[name=file]", str(picture))
    owner.locator("main form[method=post] button[type=submit]").last.click()
    owner.wait_for_load_state()
    resource_path = urlsplit(owner.url).path
    assert resource_path.startswith("/resources/") and TITLE in owner.locator("main").inner_text()
    watch_of(owner).assert_clean()

    reader = page_factory(*PHONE)
    log_in(reader, "teacher.rural")
    reader.goto("/resources?q=" + quote(MIDDLE))
    reader.locator("main").get_by_role("link", name=TITLE).click()
    reader.wait_for_load_state()
    assert urlsplit(reader.url).path == resource_path
    image = reader.locator("#preview img")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth === 2")
    fits(reader, PHONE[0])

    reader.locator("#rating-form input[name=stars][value='4']").check()
    reader.locator("#rating-form button[type=submit]").click()
    reader.wait_for_load_state()
    assert "4" in reader.locator(".rating-average").inner_text()
    watch_of(reader).assert_clean()
