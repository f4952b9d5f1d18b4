"""The bureau opens the supervision dashboard: the charts are drawn (SVG with the figures' bars), the
numbers are in the tables beside them, and a figure opens the list of schools behind it; on a
phone the page fits. A rural principal opens their own school's page.

Finds things by data- attributes and URLs from ``seed demo``, never by translated words.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .test_screens import fits

pytestmark = pytest.mark.browser

PHONE = (360, 740)
DESKTOP = (1280, 800)
CHARTS = ("coverage", "delivery", "flow", "hours", "exchange")


def drawn(page, name: str) -> int:
    """Bars the chart drew: filled SVG paths inside its holder (axes and grid lines are not filled)."""
    holder = page.locator(f".chart[data-chart-name='{name}']")
    holder.locator("svg").first.wait_for()
    return holder.evaluate(
        "el => [...el.querySelectorAll('svg path')].filter(p => {"
        " const f = p.getAttribute('fill'); return f && f !== 'none' && f !== 'transparent'; }).length")


def test_dashboard_charts_and_drill_down(page_factory, watch_of, log_in):
    page = page_factory(*DESKTOP)
    log_in(page, "bureau")
    response = page.goto("/supervision/dashboard")
    assert response and response.status == 200
    for name in CHARTS:
        holder = page.locator(f".chart[data-chart-name='{name}']")
        assert holder.count() == 1
        assert int(holder.get_attribute("data-chart-ready") or 0) > 0, name
        assert drawn(page, name) > 0, name
    # the numbers are also in the table beside the chart
    assert page.locator("table[data-figure='coverage'] tbody tr").count() >= 1

    # drill down: the receiving schools not fully delivered
    link = page.locator("#delivery a[href*='/supervision/dashboard/lists/receiving_schools']").first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/supervision/dashboard/lists/receiving_schools"
    assert parse_qs(urlsplit(page.url).query).get("year") == parse_qs(urlsplit(href).query).get("year")
    assert page.locator("table[data-list='receiving_schools']").count() == 1
    export = page.locator("a[href*='/supervision/dashboard/lists/receiving_schools/export.xlsx']")
    assert export.count() == 1

    # and from the list to a school's page
    school = page.locator("table[data-list='receiving_schools'] a[href^='/supervision/schools/']")
    if school.count():
        school.first.click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path.startswith("/supervision/schools/")
    watch_of(page).assert_clean()


def test_dashboard_on_a_phone(page_factory, watch_of, log_in):
    page = page_factory(*PHONE)
    log_in(page, "bureau")
    page.goto("/supervision/dashboard")
    assert drawn(page, "coverage") > 0
    fits(page, PHONE[0])
    watch_of(page).assert_clean()


def test_a_principal_opens_their_school_page(page_factory, watch_of, log_in):
    page = page_factory(*PHONE)
    log_in(page, "principal.rural")
    school_id = page.evaluate("fetch('/api/v1/me').then(r => r.json()).then(me => me.school_id)")
    response = page.goto(f"/supervision/schools/{school_id}")
    assert response and response.status == 200
    assert page.locator("#quota").count() == 1 and page.locator("#sessions").count() == 1
    fits(page, PHONE[0])
    watch_of(page).assert_clean()
    assert page.goto("/supervision/dashboard").status == 403  # the city's figures are the bureau's
