"""Every main page at desk and phone width: renders, fits a 360 px phone, loads nothing from elsewhere.

With SCREENSHOT_DIR set, also saves a full-page PNG of each (``<width>-<who>-<page>.png``) for a person
to look at: ``SCREENSHOT_DIR=/tmp/shots .venv/bin/python -m pytest tests/browser/test_screens.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser.layout import fits

pytestmark = pytest.mark.browser

DESKTOP = (1280, 800)
PHONE = (360, 740)
VILLAGE_SCHOOL = "青石镇山口村小学"

# (who, name of the shot, path); "{school}" is the village school's id, looked up through the list;
# "{bells}" the edit page of that school's first bell schedule.
PAGES = [
    ("bureau", "home", "/"),
    ("bureau", "schools", "/schools"),
    ("bureau", "school", "/schools/{school}"),
    ("bureau", "users", "/admin/users"),
    ("bureau", "audit", "/admin/audit"),
    ("bureau", "notifications", "/notifications"),
    ("bureau", "password", "/password"),
    ("bureau", "tokens", "/tokens"),
    ("bureau", "terms", "/terms"),
    ("bureau", "404", "/no-such-page"),
    # the forms behind those pages
    ("bureau", "user-new", "/admin/users/new"),
    ("bureau", "school-new", "/admin/schools/new"),
    ("bureau", "term-new", "/admin/terms/new"),
    ("bureau", "bells-new", "/schools/{school}/bells/new"),
    ("bureau", "bells-edit", "{bells}"),
    ("bureau", "roster", "/admin/roster"),
    ("principal.rural", "home", "/"),
    ("principal.rural", "school", "/schools/{school}"),
    ("teacher.rural", "home", "/"),
    ("teacher.rural", "schools", "/schools"),
    # communities: "{community}" is the demo English community; "{activity}", "{thread}", "{project}" its first ones
    ("teacher.rural", "communities", "/communities"),
    ("teacher.rural", "community", "/communities/{community}"),
    ("teacher.rural", "community-members", "/communities/{community}/members"),
    ("teacher.rural", "community-activities", "/communities/{community}/activities?when=past"),
    ("teacher.rural", "activity", "{activity}"),
    ("teacher.rural", "threads", "/communities/{community}/threads"),
    ("teacher.rural", "thread", "{thread}"),
    ("teacher.rural", "projects", "/communities/{community}/projects"),
    ("teacher.rural", "project", "{project}"),
    ("teacher.rural", "training-hours", "/training-hours"),
    ("teacher.city", "activity-attendance", "{activity}"),
    ("teacher.city", "activity-new", "/communities/{community}/activities/new"),
    ("teacher.city", "thread-new", "/communities/{community}/threads/new"),
    ("principal.rural", "communities", "/communities?kind=principal"),
    ("principal.rural", "training-hours", "/training-hours"),
    ("bureau", "community-edit", "/communities/{community}/edit"),
    ("bureau", "community-new", "/communities/new"),
    ("bureau", "activity-types", "/admin/activity-types"),
    ("bureau", "coverage", "/supervision/coverage"),
    ("researcher", "coverage", "/supervision/coverage"),
    # partnerships: "{partnership}" is the first one on the principal's or bureau's list
    ("principal.rural", "partnerships", "/partnerships"),
    ("principal.rural", "partnership", "{partnership}"),
    ("principal.rural", "partnership-log", "{partnership}/log"),
    ("principal.rural", "log-new", "{partnership}/log/new"),
    ("principal.rural", "exchanges", "/exchanges"),
    ("bureau", "partnerships", "/partnerships"),
    ("bureau", "partnership", "{partnership}"),
    ("bureau", "partnership-new", "/partnerships/new"),
    ("bureau", "exchanges", "/exchanges"),
    ("bureau", "exchange-rules", "/exchanges/rules"),
    ("bureau", "researchers", "/researchers"),
    ("bureau", "health", "/supervision/partnerships"),
    ("bureau", "dashboard", "/supervision/dashboard"),
    ("bureau", "dashboard-list", "/supervision/dashboard/lists/receiving_schools"),
    ("bureau", "dashboard-school", "/supervision/schools/{school}"),
    ("principal.rural", "dashboard-school", "/supervision/schools/{school}"),
    ("bureau", "coverage-schools", "/supervision/coverage?gaps=school"),
    ("researcher", "visits", "/visits"),
    # resources: "{resource}" is the first on the list
    ("teacher.rural", "resources", "/resources"),
    ("teacher.rural", "resources-search", "/resources?q=%E8%8B%B1%E8%AF%AD"),
    ("teacher.rural", "resource", "{resource}"),
    ("teacher.rural", "resource-new", "/resources/new"),
    ("principal.rural", "school-resources", "/schools/{school}/resources"),
    ("bureau", "school-resources", "/schools/{school}/resources"),
    ("bureau", "school-calendar", "/admin/calendar"),
    # dual-teacher classes: "{live_class}" is the first class on the person's list, "{live_session}" its first
    # session listed on the class page
    ("teacher.city", "live-classes", "/live-classes"),
    ("teacher.city", "live-class-new", "/live-classes/new"),
    ("teacher.city", "live-class", "{live_class}"),
    ("teacher.city", "live-class-change", "{live_class}/change"),
    ("teacher.city", "live-session", "{live_session}"),
    ("teacher.rural", "live-session", "{live_session}"),
    ("teacher.city", "live-summary", "{live_session}/summary"),
    ("teacher.city", "live-room", "{live_session}/room"),
    ("teacher.rural", "live-room", "{live_session}/room"),
    ("principal.rural", "live-room", "{live_session}/room"),
    ("bureau", "live-classes", "/live-classes"),
    # week timetables (this week of the demo term) and the term overview
    ("teacher.city", "timetable", "/timetable"),
    ("teacher.rural", "timetable", "/timetable"),
    ("principal.rural", "school-timetable", "/timetable/schools/{school}"),
    ("principal.rural", "term-overview", "/timetable/schools/{school}/term"),
    ("bureau", "school-timetable", "/timetable/schools/{school}"),
    # observation quota: who is behind, the rules, a principal's home with the progress bar
    ("bureau", "observation-progress", "/observations/quota"),
    ("bureau", "observation-progress-late", "/observations/quota?status=not_on_track"),
    ("bureau", "quota-rules", "/observations/quota/rules"),
    ("bureau", "quota-rule-new", "/observations/quota/rules/new"),
    ("principal.rural", "observation-progress", "/observations/quota"),
    ("researcher", "observation-progress", "/observations/quota?role=researcher"),
    ("researcher", "home", "/"),
    # observation records: "{observation}" is the first record on the person's list ("of me" for teachers),
    # "{observation_draft}" the first draft, "{rubric_edit}" the current rubric's edit page
    ("principal.rural", "observations", "/observations"),
    ("principal.rural", "observation-new", "/observations/new"),
    ("principal.city", "observation", "{observation}"),
    ("principal.city", "observation-draft", "{observation_draft}"),
    ("teacher.rural", "observations-of-me", "/observations/of-me"),
    ("teacher.rural", "observation", "{observation}"),
    ("researcher", "observations-readable", "/observations?scope=all"),
    ("bureau", "rubrics", "/observations/rubrics"),
    ("bureau", "rubric-edit", "{rubric_edit}"),
]
COMMUNITY = "示范县小学英语名师+共同体"


def shot(page, name: str, width: int) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{width}-{name}.png"), full_page=True)


def open_menu_fits(page) -> None:
    """On a phone the menu opens over the page, wholly on screen, its links comfortable to tap."""
    page.click("header details.menu summary")
    nav = page.locator("header details.menu nav")
    assert nav.is_visible()
    box = nav.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0] and box["y"] + box["height"] <= PHONE[1], box
    heights = nav.locator("a, button").evaluate_all("els => els.map(el => el.getBoundingClientRect().height)")
    assert heights and min(heights) >= 40, heights


def small_tap_targets(page) -> list[str]:
    """Visible buttons, fields, summaries and button-like links less than 40 px high."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
              'main button, main .button, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]),'
              + ' main select, main summary, header summary, header a.bell, footer button')]
            .filter(el => el.checkVisibility({visibilityProperty: true}))
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.height < 40)
            .map(([el, r]) => `${el.tagName.toLowerCase()}.${el.className} "${(el.innerText || el.name || '').trim()}" ${Math.round(r.height)}px`)"""
    )


def found_ids(page, found: dict) -> dict:
    """The demo English community's id and the paths of its first activity, thread and project."""
    if found:
        return found
    page.goto("/communities?q=" + quote(COMMUNITY))
    href = page.locator("main").get_by_role("link", name=COMMUNITY).get_attribute("href")
    base = href.rstrip("/")
    found["community"] = base.rsplit("/", 1)[1]
    for key, listing, prefix in (("activity", "/activities?when=past", "/activities/"),
                                 ("thread", "/threads", "/threads/"), ("project", "/projects", "/projects/")):
        page.goto(base + listing)
        links = page.locator(f"main a[href^='{prefix}']")
        found[key] = links.first.get_attribute("href") if links.count() else base
    return found


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_login_page(page_factory, watch_of, size):
    page = page_factory(*size)
    response = page.goto("/login")
    assert response and response.status == 200
    assert page.get_attribute("html", "lang") == "zh-Hans"
    fits(page, size[0])
    if size == PHONE:
        assert small_tap_targets(page) == []
    shot(page, "anonymous-login", size[0])
    watch_of(page).assert_clean()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("who", sorted({who for who, _, _ in PAGES}))
def test_main_pages(page_factory, watch_of, log_in, who, size):
    page = page_factory(*size)
    log_in(page, who)
    school_id = None
    found = {}
    live = {}  # the dual-teacher class and session paths
    problems = []
    for owner, name, path in PAGES:
        if owner != who:
            continue
        if "{school}" in path:
            if school_id is None:
                page.goto("/schools?q=" + VILLAGE_SCHOOL)
                href = page.locator("main table").get_by_role("link", name=VILLAGE_SCHOOL).get_attribute("href")
                school_id = href.rstrip("/").rsplit("/", 1)[1]
            path = path.format(school=school_id)
        if path == "{resource}":
            page.goto("/resources")
            path = page.locator("main a[href^='/resources/']:not([href$='/new'])").first.get_attribute("href")
        if path.startswith("{partnership}"):
            if "partnership" not in found:
                page.goto("/partnerships")
                found["partnership"] = page.locator("main a[href^='/partnerships/']").first.get_attribute("href")
            path = path.replace("{partnership}", found["partnership"])
        if "{community}" in path or path in ("{activity}", "{thread}", "{project}"):
            found = found_ids(page, found)
            path = path.format(**found)
        if "{live_class}" in path or "{live_session}" in path:
            if "class" not in live:
                page.goto("/live-classes")
                live["class"] = page.locator("main .live-classes a[href^='/live-classes/']").first.get_attribute("href")
                page.goto(live["class"])
                live["session"] = page.locator("#sessions a[href^='/live-sessions/']").first.get_attribute("href")
            path = path.replace("{live_class}", live["class"]).replace("{live_session}", live["session"])
        if path in ("{observation}", "{observation_draft}", "{rubric_edit}"):
            listing, link = {
                "{observation}": ("/observations/of-me" if who.startswith("teacher") else "/observations",
                                  "main .obs-table a[href^='/observations/']:not([href$='/edit'])"),
                "{observation_draft}": ("/observations?status=draft", "main .obs-table a[href$='/edit']"),
                "{rubric_edit}": ("/observations/rubrics", "main a[href$='/edit']"),
            }[path]
            page.goto(listing)
            path = page.locator(link).first.get_attribute("href")
        if path == "{bells}":
            page.goto(f"/schools/{school_id}")
            path = page.locator("#bells a[href*='/bells/']:not([href$='/new'])").first.get_attribute("href")
        response = page.goto(path)
        expected = 404 if name == "404" else 200
        assert response and response.status == expected, f"{who} {path}: {response and response.status}"
        assert page.get_attribute("html", "lang") == "zh-Hans"
        shot(page, f"{who}-{name}", size[0])
        fits(page, size[0])
        if size == PHONE:
            problems += [f"{path}: {target}" for target in small_tap_targets(page)]
        if size == PHONE and name == "home":
            open_menu_fits(page)
            shot(page, f"{who}-menu", size[0])
    assert problems == [], "tap targets under 40 px:\n" + "\n".join(problems)
    watch = watch_of(page)
    # The 404 page's own status line is the page itself, not a broken asset.
    watch.console_errors = [m for m in watch.console_errors if "404" not in m or "/no-such-page" not in m]
    watch.assert_clean()
