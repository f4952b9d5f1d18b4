"""The bureau pairs a famous school with a rural school, the rural principal logs 送教下乡 on a
phone, and the coverage page then counts the school as paired.

Finds things by form field names, option values and data from ``seed demo``, never by translated words.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

PHONE = (360, 740)
DESKTOP = (1280, 800)
URBAN, RURAL = "示范县城关第二小学", "柳河镇柳林村小学"  # the demo leaves 柳林村小学 unpaired
RURAL_PRINCIPAL = "principal.school11"  # 董艳, principal of 柳林村小学


def option_value(page, select: str, text_part: str) -> str:
    return page.locator(f"{select} option", has_text=text_part).first.get_attribute("value")


def test_bureau_pairs_principal_logs_coverage_counts(page_factory, watch_of, log_in):
    bureau = page_factory(*DESKTOP)
    log_in(bureau, "bureau")
    bureau.goto("/supervision/coverage?gaps=school")
    assert RURAL in bureau.locator("main").inner_text()

    bureau.goto("/partnerships/new?kind=rural_school")
    bureau.fill("input[name=name]", "城关二小—柳林村小学城乡结对")
    bureau.select_option("select[name=kind]", "rural_school")
    bureau.select_option("select[name=lead_school]", option_value(bureau, "select[name=lead_school]", URBAN))
    rural_id = option_value(bureau, "select[name=lead_school]", RURAL)
    bureau.check(f"input[name=members][value='{rural_id}']")
    bureau.fill("input[name=start_date]", date.today().replace(day=1).isoformat())
    bureau.locator("main form[method=post] button[type=submit]").click()
    bureau.wait_for_load_state()
    assert urlsplit(bureau.url).path.startswith("/partnerships/")
    partnership_path = urlsplit(bureau.url).path
    assert RURAL in bureau.locator("main").inner_text()
    watch_of(bureau).assert_clean()

    principal = page_factory(*PHONE)
    log_in(principal, RURAL_PRINCIPAL)
    principal.goto(partnership_path)
    principal.locator(f"a[href='{partnership_path}/log/new']").first.click()
    principal.wait_for_load_state()
    principal.select_option("select[name=kind]", "send_lessons")
    principal.fill("input[name=title]", "城关二小英语、音乐送教下乡")
    principal.fill("input[name=happened_on]", date.today().isoformat())
    principal.fill("textarea[name=notes]", "孙丽、周明两位老师到我校上了两节示范课，并与本校教师进行了评课交流。")
    principal.locator("main form[method=post] button[type=submit]").last.click()
    principal.wait_for_load_state()
    assert "城关二小英语、音乐送教下乡" in principal.locator("main").inner_text()
    scroll = principal.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE[0], f"{principal.url} scrolls sideways: {scroll}"
    watch_of(principal).assert_clean()

    bureau.goto("/supervision/coverage?gaps=school")
    assert RURAL not in bureau.locator("main").inner_text()
    watch_of(bureau).assert_clean()
