"""A person logs in, finds their home page, moves around through the menu and logs out, at desk and phone width.

The Chinese catalogue changes often: these tests find things by input names, CSS selectors, hrefs and
``lang``, and read only data values (people's and schools' names from ``seed demo``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.layout import fits

pytestmark = pytest.mark.browser

DESKTOP = (1280, 800)
PHONE = (360, 740)
REPO = Path(__file__).resolve().parent.parent.parent

# username -> name shown on the home page (CONTRACT.md accounts, names from portal/cli/demo.py)
PEOPLE = {"teacher.rural": "赵强", "principal.rural": "刘芳", "bureau": "王建国"}


def path_of(page) -> str:
    return urlsplit(page.url).path


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("username", sorted(PEOPLE))
def test_person_logs_in_and_sees_their_chinese_home_page(page_factory, watch_of, log_in, username, size):
    page = page_factory(*size)
    log_in(page, username)

    assert path_of(page) == "/"
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.locator("main h1").inner_text().find(PEOPLE[username]) >= 0
    assert page.locator("header.topbar details.menu").count() == 1
    if size == PHONE:
        fits(page, PHONE[0])
    watch_of(page).assert_clean()


def test_teacher_on_a_phone_uses_the_menu_and_logs_out(page_factory, watch_of, log_in):
    page = page_factory(*PHONE)
    log_in(page, "teacher.rural")
    menu = page.locator("header details.menu")
    nav = menu.locator("nav")

    # Closed on a phone: only the summary shows, and it is a comfortable tap target.
    assert not nav.is_visible()
    summary = menu.locator("summary")
    box = summary.bounding_box()
    assert box and box["height"] >= 40 and box["x"] + box["width"] <= PHONE[0], box
    summary.click()
    assert nav.is_visible()
    nav_box = nav.bounding_box()
    assert nav_box and nav_box["x"] >= 0 and nav_box["x"] + nav_box["width"] <= PHONE[0], nav_box

    with page.expect_navigation():
        nav.locator("a[href='/schools']").click()
    assert path_of(page) == "/schools"
    assert page.locator("main table").get_by_text("青石镇山口村小学").count() >= 1
    fits(page, PHONE[0])
    # The current page is marked in the menu.
    assert nav.locator("a[href='/schools']").get_attribute("aria-current") == "page"

    summary.click()
    logout = nav.locator("form[action$='/logout'] button[type=submit]")
    assert logout.is_visible()
    with page.expect_navigation():
        logout.click()
    assert path_of(page) == "/login"
    assert page.locator("input[name=password]").is_visible()

    # Logged out for real: the home page now sends the person back to the login.
    page.goto("/")
    assert path_of(page) == "/login"
    watch_of(page).assert_clean()


def test_desktop_shows_the_navigation_without_opening_the_menu(page_factory, watch_of, log_in):
    page = page_factory(*DESKTOP)
    log_in(page, "principal.rural")
    nav = page.locator("header nav.mainnav")
    assert nav.is_visible()
    assert not page.locator("header details.menu summary").is_visible()

    with page.expect_navigation():
        nav.locator("a[href='/schools']").click()
    assert path_of(page) == "/schools"

    with page.expect_navigation():
        nav.locator("form[action$='/logout'] button[type=submit]").click()
    assert path_of(page) == "/login"
    watch_of(page).assert_clean()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_wrong_password_shows_an_error_and_stays_on_the_login_page(page_factory, watch_of, log_in, size):
    page = page_factory(*size)
    log_in(page, "teacher.city", "not-the-password")

    assert path_of(page) == "/login"
    assert page.locator(".flash-error").is_visible()
    assert page.locator("input[name=password]").is_visible()
    assert page.locator("input[name=username]").input_value() == "teacher.city"
    assert page.locator("header details.menu").count() == 0  # nobody is logged in
    if size == PHONE:
        fits(page, PHONE[0])
    # The 401 answer of the form post is the page itself, not a failed asset.
    watch = watch_of(page)
    watch.console_errors = [m for m in watch.console_errors if "401" not in m]
    watch.assert_clean()


def test_anonymous_visitor_is_sent_to_the_login_page_and_back_after(page_factory, watch_of):
    page = page_factory(*DESKTOP)
    page.goto("/schools")
    assert path_of(page) == "/login"
    assert "next=" in page.url
    page.fill("input[name=username]", "researcher")
    page.fill("input[name=password]", "Demo-pass-2026")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert path_of(page) == "/schools"
    watch_of(page).assert_clean()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_bureau_sees_the_accounts_and_the_demo_schools(page_factory, watch_of, log_in, size):
    page = page_factory(*size)
    log_in(page, "bureau")

    response = page.goto("/admin/users")
    assert response and response.status == 200
    users = page.locator("main .table-wrap table")
    assert users.get_by_text("赵强", exact=True).count() == 1
    assert users.get_by_text("teacher.rural", exact=True).count() == 1
    if size == PHONE:
        fits(page, PHONE[0])

    response = page.goto("/schools")
    assert response and response.status == 200
    schools = page.locator("main .table-wrap table")
    link = schools.get_by_role("link", name="青石镇山口村小学")
    assert link.count() == 1
    assert schools.locator("tbody tr").count() >= 12  # the demo county has 12 schools
    if size == PHONE:
        fits(page, PHONE[0])

    with page.expect_navigation():
        link.click()
    assert path_of(page).startswith("/schools/")
    assert page.locator("main h1").inner_text().find("青石镇山口村小学") >= 0
    if size == PHONE:
        fits(page, PHONE[0])
    watch_of(page).assert_clean()


def test_teacher_cannot_open_the_account_administration(page_factory, watch_of, log_in):
    page = page_factory(*DESKTOP)
    log_in(page, "teacher.rural")
    response = page.goto("/admin/users")
    assert response and response.status == 403
    assert page.locator("header details.menu").count() == 1  # still inside the portal's layout
    watch = watch_of(page)
    watch.console_errors = [m for m in watch.console_errors if "403" not in m]
    watch.assert_clean()


@pytest.mark.skipif(
    not (REPO / "translations/zh_Hans/LC_MESSAGES/messages.mo").exists(), reason="Chinese catalogue not compiled"
)
def test_login_button_speaks_chinese(page_factory):
    page = page_factory(*PHONE)
    page.goto("/login")
    assert page.locator("main form button[type=submit]").inner_text().strip() == "登录"
