"""Accessibility of the main pages: axe-core's WCAG 2.1 A/AA rules, landmarks, names and the keyboard.

axe-core comes from npm (a devDependency, installed by ``make test``'s ``npm ci``) and is injected into
the page by the test only: it is never copied into static/ nor served to users. Without
node_modules/axe-core the tests skip, unless REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import pytest

from tests.browser.conftest import DEMO_PASSWORD, REPO
from tests.browser.test_screens import COMMUNITY, DESKTOP, PHONE

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
# Rules switched off, with the reason. Keep this list short: every entry is a check nobody makes.
EXCLUDED_RULES: dict[str, str] = {}

# (who, name, path). Placeholders are looked up through the lists the person sees:
# "{community}" the demo English community, "{thread}" its first thread, "{resource}" the first resource,
# "{live_class}" the first dual-teacher class, "{live_session}" that class's first session,
# "{partnership}" the first partnership.
PAGES = [
    ("bureau", "home", "/"),
    ("bureau", "observation-quota", "/observations/quota"),
    ("bureau", "dashboard", "/supervision/dashboard"),
    ("bureau", "notifications", "/notifications"),
    ("bureau", "users", "/admin/users"),
    ("bureau", "partnerships", "/partnerships"),
    ("bureau", "partnership", "{partnership}"),
    ("researcher", "home", "/"),
    ("principal.city", "home", "/"),
    ("principal.rural", "home", "/"),
    ("principal.rural", "observations", "/observations"),
    ("principal.rural", "observation-new", "/observations/new"),
    ("teacher.rural", "home", "/"),
    ("teacher.rural", "communities", "/communities"),
    ("teacher.rural", "community", "{community}"),
    ("teacher.rural", "thread", "{thread}"),
    ("teacher.rural", "resources", "/resources"),
    ("teacher.rural", "resources-search", "/resources?q=%E8%8B%B1%E8%AF%AD"),
    ("teacher.rural", "resource", "{resource}"),
    ("teacher.rural", "resource-new", "/resources/new"),
    ("teacher.city", "home", "/"),
    ("teacher.city", "timetable", "/timetable"),
    ("teacher.city", "live-class", "{live_class}"),
    ("teacher.city", "live-class-new", "/live-classes/new"),
    ("teacher.city", "live-room", "{live_session}/room"),
]


def _axe_missing() -> str | None:
    if AXE.is_file():
        return None
    return f"{AXE.relative_to(REPO)} is missing (run `npm ci`)"


@pytest.fixture(autouse=True)
def _axe():
    """Skip without axe-core, or fail on CI (REQUIRE_BROWSER=1), like the browser itself."""
    if reason := _axe_missing():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def new_page(browser, server):
    """new_page(width, height) -> a Page in a fresh zh-CN context.

    The portal's Content-Security-Policy (script-src 'self') rightly refuses the injected axe script:
    these contexts bypass the CSP, so axe runs in the test only and is never served by the portal.
    """
    contexts = []

    def make(width: int, height: int):
        context = browser.new_context(
            base_url=server,
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            bypass_csp=True,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


# --- looking up the pages ---------------------------------------------------------------------------


def _first_href(page, listing: str, selector: str) -> str:
    page.goto(listing)
    href = page.locator(selector).first.get_attribute("href")
    assert href, f"no link {selector} on {listing}"
    return href


def resolve(page, path: str, found: dict) -> str:
    """The real path of a PAGES entry, looking placeholders up once per person."""
    if "{community}" in path or "{thread}" in path:
        if "community" not in found:
            page.goto("/communities?q=" + quote(COMMUNITY))
            found["community"] = page.locator("main").get_by_role("link", name=COMMUNITY).get_attribute("href")
            found["thread"] = _first_href(
                page, found["community"].rstrip("/") + "/threads", "main a[href^='/threads/']"
            )
    if "{resource}" in path and "resource" not in found:
        found["resource"] = _first_href(page, "/resources", "main a[href^='/resources/']:not([href$='/new'])")
    if "{partnership}" in path and "partnership" not in found:
        found["partnership"] = _first_href(page, "/partnerships", "main a[href^='/partnerships/']:not([href$='/new'])")
    if ("{live_class}" in path or "{live_session}" in path) and "live_class" not in found:
        found["live_class"] = _first_href(page, "/live-classes", "main .live-classes a[href^='/live-classes/']")
        found["live_session"] = _first_href(page, found["live_class"], "#sessions a[href^='/live-sessions/']")
    for key, value in found.items():
        path = path.replace("{" + key + "}", value)
    return path


# --- the checks -------------------------------------------------------------------------------------


def axe_violations(page) -> list[str]:
    """Serious and critical violations of the WCAG 2.1 A/AA rules on the page as it is now."""
    # A wide table's scroll shadows are background gradients on .table-wrap, which make axe give up on
    # the contrast of every cell ("incomplete"). The text sits on the card colour under them: flatten
    # the shadows so that axe measures the table's text against it.
    page.add_style_tag(content=".table-wrap { background: var(--card) !important; }")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async ([tags, excluded]) => {
            const rules = Object.fromEntries(excluded.map(id => [id, {enabled: false}]));
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, rules, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(' ') + ' ' + n.failureSummary.split('\\n').slice(1, 2).join(''))}));
        }""",
        [WCAG_TAGS, list(EXCLUDED_RULES)],
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n      " + "\n      ".join(v["nodes"][:6])
        for v in result
        if v["impact"] in BLOCKING
    ]


def landmark_problems(page, logged_in: bool) -> list[str]:
    """One <main>, a <nav> once logged in, and a skip link as the first Tab stop that moves focus into main."""
    problems = []
    mains = page.locator("main, [role=main]").count()
    if mains != 1:
        problems.append(f"{mains} main landmarks")
    if logged_in and page.locator("nav").count() == 0:
        problems.append("no <nav>")
    skip = page.locator("a.skip[href='#main']")
    if skip.count() != 1:
        return [*problems, "no skip-to-content link"]
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    if not page.evaluate("document.activeElement.matches('a.skip')"):
        problems.append("the skip link is not the first Tab stop")
    elif (box := skip.bounding_box()) is None or box["x"] < 0 or box["y"] < 0:
        problems.append("the skip link stays off screen when it has focus")
    page.keyboard.press("Enter")
    if not page.evaluate("!!document.activeElement.closest('main')"):
        problems.append("the skip link does not move focus into <main>")
    return problems


def unnamed_fields(page) -> list[str]:
    """Visible inputs, selects and textareas without an accessible name (as Chromium computes it)."""
    fields = page.locator("input:not([type=hidden]), select, textarea")
    unnamed = []
    for i in range(fields.count()):
        field = fields.nth(i)
        if not field.is_visible():
            continue
        # Chromium's own accessibility tree: the name a screen reader announces.
        lines = field.aria_snapshot().splitlines()
        if not lines:
            # Out of the tree since is_visible(): the live room's script hides controls once it has
            # connected. A field still shown with no tree entry would be a real problem.
            if field.is_visible():
                unnamed.append(field.evaluate("el => el.outerHTML.slice(0, 120)") + " (not in the accessibility tree)")
            continue
        if not re.match(r'\s*- [\w-]+ "[^"]*\S', lines[0]):
            unnamed.append(field.evaluate("el => el.outerHTML.slice(0, 120)"))
    return unnamed


def duplicate_ids(page) -> list[str]:
    """Ids used twice: a label's ``for`` or an aria reference would point at the wrong element.

    Hidden inputs are left out: every form has its own hidden csrf_token, which nothing refers to.
    """
    return page.evaluate(
        """() => {
            const seen = {};
            document.querySelectorAll('[id]:not(input[type=hidden])')
              .forEach(el => { seen[el.id] = (seen[el.id] || 0) + 1; });
            return Object.keys(seen).filter(id => seen[id] > 1);
        }"""
    )


def check_page(page, label: str, logged_in: bool = True) -> list[str]:
    problems = axe_violations(page) + landmark_problems(page, logged_in)
    problems += [f"field without a name: {f}" for f in unnamed_fields(page)]
    problems += [f"id used more than once: {i}" for i in duplicate_ids(page)]
    return [f"{label}: {p}" for p in problems]


# --- the keyboard -----------------------------------------------------------------------------------

FOCUS_STYLE = """el => { const s = getComputedStyle(el);
    return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.borderColor].join(' | '); }"""


def tab_to(page, selector: str, limit: int = 15) -> None:
    """Press Tab until the element matching selector has focus; fail after limit presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    focused = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    pytest.fail(f"{limit} Tabs never reached {selector} on {page.url}; focus is on {focused}")


def number_fields(page, form: str) -> list[dict]:
    """Number the form's visible fields in document order (data-a11y-index; a radio group is one field).

    Returns, per field, its name, its box on the page and its style while unfocused.
    """
    return page.evaluate(
        """([form, styleOf]) => {
            const style = eval(styleOf);
            const fields = [];
            const groups = {};
            for (const el of document.querySelector(form).querySelectorAll('input:not([type=hidden]), select, textarea')) {
              if (!el.checkVisibility({visibilityProperty: true}) || el.disabled || el.tabIndex < 0) continue;
              if (el.type === 'radio' && el.name in groups) { el.dataset.a11yIndex = groups[el.name]; continue; }
              const r = el.getBoundingClientRect();
              el.dataset.a11yIndex = fields.length;
              if (el.type === 'radio') groups[el.name] = fields.length;
              fields.push({name: el.name || el.id, top: r.top + scrollY, bottom: r.bottom + scrollY,
                           left: r.left, right: r.right, style: style(el)});
            }
            return fields;
        }""",
        [form, FOCUS_STYLE],
    )


def visually_after(a: dict, b: dict) -> bool:
    """b comes after a when read left to right, top to bottom: below it, or to its right on the same row."""
    return b["top"] >= a["bottom"] - 1 or (b["left"] >= a["right"] - 1 and b["top"] < a["bottom"])


# --- the tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_login_page_is_accessible(new_page, size):
    page = new_page(*size)
    page.goto("/login")
    problems = check_page(page, "/login", logged_in=False)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("who", sorted({who for who, _, _ in PAGES}))
def test_main_pages_are_accessible(new_page, log_in, who, size):
    page = new_page(*size)
    log_in(page, who)
    found: dict = {}
    problems = []
    for owner, name, path in PAGES:
        if owner != who:
            continue
        path = resolve(page, path, found)
        response = page.goto(path)
        assert response and response.status == 200, f"{who} {path}: {response and response.status}"
        page.wait_for_load_state("load")
        problems += check_page(page, f"{who} {name} {path}")
    assert problems == [], f"{len(problems)} problem(s):\n" + "\n".join(problems)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_log_in_with_the_keyboard_only(new_page, size):
    page = new_page(*size)
    page.goto("/login")
    tab_to(page, "input[name=username]")
    page.keyboard.type("teacher.rural")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    tab_to(page, "main form button[type=submit]", limit=3)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url, page.url
    assert page.locator("header form[data-logout]").count() > 0, "not logged in after Enter"


FORMS = [
    ("principal.rural", "/observations/new", "#observation-form"),
    ("teacher.rural", "/resources/new", "main form.resource-form"),
]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize(("who", "path", "form"), FORMS, ids=[path for _, path, _ in FORMS])
def test_form_tabs_through_every_field_in_visual_order(new_page, log_in, size, who, path, form):
    page = new_page(*size)
    log_in(page, who)
    page.goto(path)
    fields = number_fields(page, form)
    assert len(fields) >= 3, fields
    # From the top of the page, as a keyboard user arrives: past the skip link and the menu.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    tab_to(page, f"{form} [data-a11y-index]", limit=60)
    reached, unfocused_looking = [], []
    for _ in range(10 * len(fields) + 20):
        state = page.evaluate(
            "([form, styleOf]) => { const el = document.activeElement;"
            " return {inside: !!el.closest(form), index: el.dataset.a11yIndex ?? null, style: eval(styleOf)(el)}; }",
            [form, FOCUS_STYLE],
        )
        if not state["inside"]:
            break
        if state["index"] is not None and (not reached or reached[-1] != int(state["index"])):
            index = int(state["index"])
            reached.append(index)
            if state["style"] == fields[index]["style"]:
                unfocused_looking.append(fields[index]["name"])
        page.keyboard.press("Tab")
    names = [f["name"] for f in fields]
    assert [names[i] for i in reached] == names, "Tab order differs from the order of the fields"
    assert unfocused_looking == [], f"focus is not visible on {unfocused_looking}"
    out_of_order = [
        f"{a['name']} -> {b['name']}" for a, b in zip(fields, fields[1:], strict=False) if not visually_after(a, b)
    ]
    assert out_of_order == [], f"Tab goes back up or left on screen: {out_of_order}"


def test_phone_menu_opens_with_the_keyboard(new_page, log_in):
    page = new_page(*PHONE)
    log_in(page, "teacher.rural")
    page.goto("/")
    menu = page.locator("header details.menu")
    assert not menu.locator("nav").is_visible()
    unfocused = menu.locator("summary").evaluate(FOCUS_STYLE)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    tab_to(page, "header details.menu summary")
    assert page.evaluate(f"({FOCUS_STYLE})(document.activeElement)") != unfocused, "the menu button shows no focus"
    page.keyboard.press("Enter")
    assert menu.locator("nav").is_visible(), "Enter on the menu button did not open the menu"
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('header details.menu nav')"), "Tab does not go into the menu"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert not menu.locator("nav").is_visible(), "Enter on the menu button did not close the menu"


WRAPS = """() => Array.from(document.querySelectorAll('.table-wrap')).map(w => ({
    scrolls: w.scrollWidth > w.clientWidth + 1,
    tabindex: w.getAttribute('tabindex'),
    role: w.getAttribute('role'),
    label: w.getAttribute('aria-label') || '',
}))"""


# Pages whose tables are wider than a phone whatever the demo data holds (a resource's versions table
# is only when it has a file, which depends on the database's order).
@pytest.mark.parametrize(("who", "path"), [("bureau", "/observations/quota"), ("bureau", "/supervision/dashboard")])
def test_a_table_that_scrolls_sideways_is_reachable_by_keyboard(new_page, log_in, who, path):
    """A wide table on a phone scrolls inside its wrap: the wrap takes focus and the arrow keys scroll it.

    The same table on a desk fits, so the wrap is no extra Tab stop there.
    """
    page = new_page(*PHONE)
    log_in(page, who)
    path = resolve(page, path, {})
    page.goto(path)
    wraps = page.evaluate(WRAPS)
    scrolling = [w for w in wraps if w["scrolls"]]
    assert scrolling, f"{path}: no table scrolls at 360 px (pick a wider page for this test)"
    for wrap in scrolling:
        assert (wrap["tabindex"], wrap["role"]) == ("0", "region"), wrap
        assert wrap["label"], f"{path}: a scrolling table region has no name"
    page.evaluate("document.activeElement && document.activeElement.blur()")
    tab_to(page, ".table-wrap[tabindex='0']", limit=60)
    before = page.evaluate("document.activeElement.scrollLeft")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"document.activeElement.scrollLeft > {before}")

    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.table-wrap'))"
        ".every(w => w.scrollWidth > w.clientWidth + 1 || !w.hasAttribute('tabindex'))"
    )
