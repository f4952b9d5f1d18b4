"""A city teacher schedules a weekly dual-teacher class to two village classrooms from the menu, then
tries to add a third receiving classroom at a time that classroom and its assistant are already
booked, and sees the clash.

The week-view part of the issue's journey (the sessions shown with each school's own period numbers)
belongs with the timetable pages: call ``create_weekly_class`` from that test, then open the week view.

Finds things by form field names, option values, data attributes and data from ``seed demo``, never by
translated words.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.layout import fits

pytestmark = pytest.mark.browser

DESKTOP = (1280, 800)
PHONE = (360, 740)
# From seed demo: 陈静 teaches at 示范县实验小学; 黄磊 and 何敏 at two village schools. 赵强 (teacher.rural)
# assists the demo's Wednesday 14:00 music class in 山口村小学's third grade.
TEACHER = "teacher.city"
RECEIVING = [("青石镇石桥村小学", "teacher.village1"), ("柳河镇河湾村小学", "teacher.village2")]
BOOKED = ("青石镇山口村小学", "teacher.rural", "赵强")
WEDNESDAY, START, END = "3", "14:00", "14:40"


def _choose(page, select: str, school: str, *, grade: str | None = None, text: str | None = None) -> None:
    option = page.locator(f"{select} optgroup[label='{school}'] option")
    if grade:
        option = option.and_(page.locator(f"option[data-grade='{grade}']"))
    if text:
        option = option.filter(has_text=text)
    page.select_option(select, option.first.get_attribute("value"))


def _receiving_row(page, index: int, school: str, assistant: str) -> None:
    rows = page.locator("#receiving [data-row]")
    if rows.count() <= index:
        page.click("#receiving [data-add-row]")
        assert rows.count() == index + 1
    _choose(page, f"select[name=receiving-{index}-classroom]", school, grade="3")
    _choose(page, f"select[name=receiving-{index}-assistant]", school, text=assistant)


def create_weekly_class(page) -> str:
    """As the logged-in city teacher: a weekly grade-3 English class on Wednesdays 14:00–14:40 through
    the current term, to the two RECEIVING classrooms. Returns the class page's path."""
    page.goto("/")
    page.click("header a[href='/live-classes']")
    page.click("main a[href='/live-classes/new']")
    page.select_option("select[name=subject]", "english")
    page.select_option("select[name=grade]", "3")
    page.fill("input[name=title]", "三年级英语双师课堂")
    main_room = page.locator("select[name=main_classroom] option[data-grade='3']").first.get_attribute("value")
    page.select_option("select[name=main_classroom]", main_room)
    for index, (school, assistant) in enumerate(RECEIVING):
        _receiving_row(page, index, school, assistant)
    page.select_option("select[name=slots-0-weekday]", WEDNESDAY)
    page.fill("input[name=slots-0-start]", START)
    page.fill("input[name=slots-0-end]", END)
    with page.expect_navigation():
        page.click("main form[data-class-form] button[type=submit]:not([name])")
    path = urlsplit(page.url).path
    assert path.startswith("/live-classes/") and path.rsplit("/", 1)[1].isdigit(), page.url
    return path


def test_city_teacher_schedules_a_class_and_sees_a_clash_for_a_booked_room(page_factory, watch_of, log_in):
    page = page_factory(*DESKTOP)
    log_in(page, TEACHER)
    class_path = create_weekly_class(page)
    main = page.locator("main").inner_text()
    assert all(school in main for school, _a in RECEIVING)
    assert page.locator("#sessions tbody tr[id^='s']").count() >= 2
    watch_of(page).assert_clean()

    page.click(f"main a[href='{class_path}/change']")
    _receiving_row(page, 2, BOOKED[0], BOOKED[1])
    with page.expect_navigation() as navigation:
        page.click("main form[data-class-form] button[type=submit]:not([name])")
    response = navigation.value
    assert response is not None and response.status == 409
    clashes = page.locator("#clashes").inner_text()
    assert BOOKED[0] in clashes and BOOKED[2] in clashes
    assert page.locator("#clashes button[name=skip_clashes]").count() == 1
    # Nothing changed: the class still has its two receiving classrooms.
    page.goto(class_path)
    assert BOOKED[0] not in page.locator("#receiving").inner_text()
    watch = watch_of(page)
    # The refused form's own 409 status line is the answer itself, not a broken asset.
    watch.console_errors = [m for m in watch.console_errors if "409" not in m or f"{class_path}/change" not in m]
    watch.assert_clean()
    # The week view shows the class's session with each school's own period numbers (SCHED-VIEWS).
    from .test_timetable_journey import check_week_view

    check_week_view(page, page_factory, watch_of, log_in, class_path, START, [school for school, _a in RECEIVING],
                    RECEIVING[0][1])


def test_the_class_form_fits_a_phone(page_factory, watch_of, log_in):
    page = page_factory(*PHONE)
    log_in(page, TEACHER)
    page.goto("/live-classes/new")
    page.click("#receiving [data-add-row]")
    assert page.locator("#receiving [data-row]").count() == 2
    fits(page, PHONE[0])
    watch_of(page).assert_clean()
