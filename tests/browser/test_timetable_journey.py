"""The week view ("virtual timetable"): the same session shows the main school's own period number
and each receiving school's. The demo's village schools keep an earlier bell schedule with a morning
reading period, so in winter (1 Oct – 30 Apr) the 10:10 English lesson is period 3 in town and
period 4 in the villages, and a 14:00 lesson period 5 and 6; in summer both fall outside the periods.

``check_week_view`` ends the issue's journey in test_live_class_journey.py (the class the city teacher
has just created); the test here does the same on the demo's own English class, on a desk and on a
phone. Finds things by data attributes and data from ``seed demo``, never by translated words.
"""

from __future__ import annotations

from datetime import date

import pytest

pytestmark = pytest.mark.browser

DESKTOP = (1280, 800)
PHONE = (360, 740)
MAIN_SCHOOL = "示范县实验小学"
# The demo's English class: teacher.city teaches it from 实验小学 on Tuesdays and Thursdays 10:10–10:50;
# teacher.rural assists in 山口村小学, 高洁 (teacher.village5) in 柳林村小学.
DEMO_RECEIVING = ["青石镇山口村小学", "柳河镇柳林村小学"]
WINTER_PERIODS = {"10:10": ("3", "4"), "14:00": ("5", "6")}


def expected(day: str, start: str) -> tuple[str, str]:
    """(main school, village school) period numbers of a lesson starting at ``start`` on ``day``."""
    month_day = date.fromisoformat(day).strftime("%m-%d")
    return WINTER_PERIODS[start] if month_day >= "10-01" or month_day <= "04-30" else ("", "")


def find_session(page, selector: str):
    """The first session matching in this week, or in the next weeks (the term may not have begun)."""
    session = page.locator(f"li.week-session{selector}:not(.moved):not(.cancelled)")
    for _ in range(30):
        if session.count():
            return session.first
        with page.expect_navigation():
            page.click("main a[rel=next]")
    raise AssertionError(f"no session {selector} in the next 30 weeks")


def check_periods(session, start: str, receiving: list[str]) -> str:
    """The session's own period and each school's, as the bell schedules say; returns its day."""
    day = session.evaluate("el => el.closest('[data-day]').dataset.day")
    main, village = expected(day, start)
    assert session.locator(f"[data-school='{MAIN_SCHOOL}']").get_attribute("data-numbers") == main
    for school in receiving:
        assert session.locator(f"[data-school='{school}']").get_attribute("data-numbers") == village
    return day


def check_week_view(page, page_factory, watch_of, log_in, class_path: str, start: str, receiving, assistant: str):
    """As the logged-in main teacher, then as an assistant on a phone: the class's session in the week
    view with the period numbers of each school."""
    class_id = class_path.rstrip("/").rsplit("/", 1)[1]
    page.click("header a[href='/timetable']")
    session = find_session(page, f"[data-class='{class_id}']")
    day = check_periods(session, start, receiving)
    main, village = expected(day, start)
    assert session.locator("[data-period]").get_attribute("data-numbers") == main  # the teacher's own school
    link = session.locator("a[href^='/live-sessions/']").get_attribute("href")
    columns = page.locator("li.week-day").evaluate_all("els => els.map(el => el.getBoundingClientRect().x)")
    assert len({round(x) for x in columns}) == 7  # Monday to Sunday side by side on a desk
    week = page.url
    watch_of(page).assert_clean()

    phone = page_factory(*PHONE)
    log_in(phone, assistant)
    phone.goto(week)
    theirs = phone.locator(f"li.week-session[data-class='{class_id}']").first
    assert theirs.locator("[data-period]").get_attribute("data-numbers") == village  # their school's period
    assert theirs.locator("a[href^='/live-sessions/']").get_attribute("href") == link
    rows = phone.locator("li.week-day").evaluate_all("els => els.map(el => el.getBoundingClientRect().x)")
    assert len({round(x) for x in rows}) == 1  # a day list on a phone
    scroll = phone.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE[0], f"the week view scrolls sideways on a phone: {scroll}"
    watch_of(phone).assert_clean()


def test_demo_english_class_has_each_schools_period_in_the_week_view(page_factory, watch_of, log_in):
    page = page_factory(*DESKTOP)
    log_in(page, "teacher.city")
    page.goto("/")
    page.click("header a[href='/timetable']")
    session = find_session(page, f":has([data-school='{DEMO_RECEIVING[0]}'])")
    class_id = session.get_attribute("data-class")
    page.goto("/")
    check_week_view(page, page_factory, watch_of, log_in, f"/live-classes/{class_id}", "10:10", DEMO_RECEIVING,
                    "teacher.rural")
