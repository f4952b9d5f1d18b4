"""A rural principal records a lesson observation on a phone, loses the connection half-way,
reloads the page while offline, finds the draft, reconnects and finalises it; the quota progress
bar then counts the periods.

Finds things by form field names, data attributes and demo usernames, never by translated words.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.layout import fits

pytestmark = pytest.mark.browser

PHONE = (360, 740)
PRINCIPAL = "principal.rural"
TEACHER = "teacher.rural"


def done_periods(page) -> int:
    page.goto("/observations")
    return int(page.locator("main progress.quota-bar").get_attribute("value"))


def status_is(page, message: str) -> bool:
    """Whether the autosave line shows the form's data-msg-<message> (its {placeholders} as wildcards)."""
    return page.evaluate(
        """(name) => {
            const form = document.getElementById('observation-form');
            const pattern = form.getAttribute('data-msg-' + name)
                .replace(/[.*+?^$()|[\\]\\\\]/g, '\\\\$&').replace(/\\{\\w+\\}/g, '.*');
            return new RegExp('^' + pattern + '$').test(document.querySelector('[data-autosave-status]').textContent.trim());
        }""",
        message,
    )


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def begin_record(page, periods: int, topic: str) -> None:
    """Open a new record of a lesson by TEACHER and fill its heading fields."""
    page.goto("/observations/new")
    teacher = page.locator("select[name=observed_teacher_id] option", has_text=f"({TEACHER})").first
    page.select_option("select[name=observed_teacher_id]", teacher.get_attribute("value"))
    page.fill("input[name=periods]", str(periods))
    page.select_option("select[name=subject]", "math")
    page.fill("input[name=topic]", topic)


def test_offline_draft_survives_reload_and_is_finalised(page_factory, watch_of, log_in):
    page = page_factory(*PHONE)
    log_in(page, PRINCIPAL)
    before = done_periods(page)

    begin_record(page, 2, "分数的初步认识")
    page.click("[data-insert-time]")
    page.locator("textarea[name=record_html]").press_sequentially("导入：分蛋糕的情境")
    page.select_option("select[name=score-objectives]", "4")
    # The first save on the server gives the draft its address.
    page.wait_for_url(re.compile(r"/observations/\d+/edit$"))
    wait_until(lambda: status_is(page, "saved"))
    draft_path = page.url[page.url.index("/observations/"):]
    # The service worker keeps the form pages for an offline reload.
    wait_until(lambda: page.evaluate("navigator.serviceWorker.controller !== null"))
    wait_until(lambda: page.evaluate(
        "caches.open('observation-forms-v1').then(c => c.keys()).then(k => k.some(r => r.url.endsWith('/observations/new')))"))
    fits(page, PHONE[0])
    watch_of(page).assert_clean()

    # The connection drops; the principal keeps typing.
    page.context.set_offline(True)
    page.locator("textarea[name=record_html]").press_sequentially("。学生分组折纸，找出二分之一。")
    page.fill("textarea[name=strengths]", "情境贴近生活，学生参与面广。")
    page.select_option("select[name=score-effect]", "5")
    wait_until(lambda: status_is(page, "offline"))

    # A reload while offline finds the draft on this device.
    page.reload()
    page.wait_for_selector("#observation-form")
    assert page.url.endswith(draft_path)
    assert page.locator("[data-restore]").is_visible()
    assert page.input_value("textarea[name=strengths]") == "情境贴近生活，学生参与面广。"
    assert "找出二分之一" in page.input_value("textarea[name=record_html]")
    assert page.input_value("select[name=score-effect]") == "5"
    assert page.input_value("select[name=score-objectives]") == "4"

    # Back online: the draft goes to the server, then it is finalised.
    page.context.set_offline(False)
    wait_until(lambda: status_is(page, "saved"))
    with page.expect_navigation():
        page.click("button[data-finalize]")
    assert re.search(r"/observations/\d+$", page.url)
    main = page.locator("main").inner_text()
    assert "情境贴近生活" in main and "找出二分之一" in main
    fits(page, PHONE[0])

    assert done_periods(page) == before + 2


def test_logout_asks_about_an_unsent_draft_then_forgets_everything_kept(page_factory, log_in):
    """On a shared staff-room computer: a draft typed offline, the tab closed, and later someone
    logs out from another page. The logout asks first; once confirmed, the browser keeps nothing."""
    page = page_factory(1280, 800)
    log_in(page, PRINCIPAL)
    begin_record(page, 1, "认识钟表")
    page.wait_for_url(re.compile(r"/observations/\d+/edit$"))
    wait_until(lambda: status_is(page, "saved"))
    wait_until(lambda: page.evaluate("navigator.serviceWorker.controller !== null"))
    context = page.context
    context.set_offline(True)
    page.fill("textarea[name=strengths]", "学生动手拨钟，人人参与。")
    wait_until(lambda: status_is(page, "offline"))
    page.close()
    context.set_offline(False)

    later = context.new_page()
    later.goto("/")
    logout = later.locator("nav.mainnav form[data-logout] button[type=submit]")
    asked = []
    later.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    logout.click()
    wait_until(lambda: asked)
    assert "1" in asked[0]
    assert later.locator("nav.mainnav form[data-logout]").count() == 1  # still logged in
    assert later.evaluate("Object.keys(localStorage).filter(k => k.startsWith('obs-draft:')).length") >= 1

    later.once("dialog", lambda dialog: dialog.accept())
    with later.expect_navigation():
        logout.click()
    assert "/login" in later.url
    assert later.evaluate("localStorage.length") == 0
    assert later.evaluate("caches.keys().then(k => k.length)") == 0
    assert later.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
