"""Stored text never runs in a browser. Script payloads are stored through the services (as the forms
and the API would store them) into the browser server's database, in the text people see on other
pages: a discussion thread's title, body and reply, an activity's minutes, a resource's title and
description, a pairing log entry, an observation record, a live class title and a person's display
name. Each page is then opened in headless chromium with the page's Content-Security-Policy
switched OFF (``bypass_csp``), so escaping is the only defence left: no dialog may open, the
``window.__xss`` hook may not be set, no element of the payload may exist in the page, and the
plain-text payloads must be shown as text.

The live room's chat is checked on its own server (bench/live_seed.py, a session happening now): a
message typed into the chat is shown as text on the other side.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from .conftest import DEMO_PASSWORD, REPO, SERVER_ENV, _server_env

TEXT = '"><script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=2;alert(2)">{{7*7}}'
RICH = ('<p>富文本</p><script>window.__xss=3;alert(3)</script><img src=x onerror="window.__xss=4;alert(4)">'
        '<a href="javascript:window.__xss=5;alert(5)">链接</a><svg onload="window.__xss=6;alert(6)"></svg>'
        '<p style="position:fixed;top:0">x</p>')
# Elements or attributes a payload would leave behind had it been inserted as markup.
INJECTED = """() => {
  const found = [...document.querySelectorAll('img[src="x"], [onerror], [onload], svg[onload], p[style*="fixed"]')]
    .map(e => e.outerHTML.slice(0, 120));
  document.querySelectorAll('a[href]').forEach(a => {
    if (a.getAttribute('href').trim().toLowerCase().startsWith('javascript:')) found.push(a.outerHTML.slice(0, 120));
  });
  document.querySelectorAll('script').forEach(s => { if (s.textContent.includes('__xss')) found.push('inline script'); });
  return found;
}"""


def _store_payloads() -> dict[str, str]:
    """Store the payloads through the services into the running server's database; return the pages.
    Run in a process of its own (``python -m tests.browser.test_stored_xss`` with the server's
    environment): a second app in the test process would take over the Socket.IO extension that
    the rest of the suite's socket tests use."""
    from portal.accounts.models import User
    from portal.communities import activities, discussions
    from portal.communities.models import Activity, Community, Membership
    from portal.extensions import db
    from portal.observations import services as observations
    from portal.partnerships import log as pairing_log
    from portal.partnerships.models import Partnership
    from portal.resources import services as resources
    from portal.scheduling.models import LiveClass
    from wsgi import app

    with app.app_context(), app.test_request_context("/", method="POST"):  # a write: BEGIN IMMEDIATE
        person = lambda name: db.session.execute(select(User).where(User.username == name)).scalar_one()  # noqa: E731
        bureau, teacher, principal = person("bureau"), person("teacher.city"), person("principal.city")

        membership = db.session.execute(select(Membership).where(
            Membership.user_id == teacher.id, Membership.status == "active")).scalars().first()
        community = db.session.get(Community, membership.community_id)
        thread = discussions.start_thread(teacher, community, title=TEXT, body=RICH)
        discussions.reply(teacher, thread, body=RICH)

        activity = db.session.execute(select(Activity).where(Activity.community_id == community.id)
                                      .order_by(Activity.starts_at)).scalars().first()
        activities.save_minutes(bureau, activity, RICH)

        resource = resources.share_resource(teacher, title=TEXT, description=TEXT, kind="lesson_plan",
                                            subject="math", stage="primary", visibility="public",
                                            link_url="https://example.org/lesson")

        partnership = db.session.execute(select(Partnership).order_by(Partnership.id)).scalars().first()
        entry = pairing_log.log_activity(bureau, partnership, kind="send_lessons", title=TEXT,
                                         happened_on=date.today() - timedelta(days=1), notes=RICH,
                                         school_ids=[partnership.lead_school_id], other_people=TEXT)

        record = observations.create_observation(principal, {
            "observed_teacher_id": teacher.id, "observed_on": (date.today() - timedelta(days=1)).isoformat(),
            "periods": 1, "subject": "math", "kind": "drop_in", "topic": TEXT, "strengths": TEXT,
            "problems": TEXT, "record_html": RICH, "action_steps": TEXT}, final=True)

        live_class = db.session.execute(select(LiveClass).order_by(LiveClass.id)).scalars().first()
        live_class.title = TEXT  # a plain-text field: the form stores what was typed, controls removed

        teacher.name = TEXT[:60]  # the display name, as the admin form stores it
        db.session.commit()
        pages = {
            "thread": f"/threads/{thread.id}",
            "thread list": f"/communities/{community.id}/threads",
            "activity minutes": f"/activities/{activity.id}",
            "resource": f"/resources/{resource.id}",
            "resource list": "/resources",
            "pairing log entry": f"/log/{entry.id}",
            "pairing log": f"/partnerships/{partnership.id}/log",
            "observation record": f"/observations/{record.id}",
            "observation list": "/observations",
            "live class": f"/live-classes/{live_class.id}",
            "live class list": "/live-classes?state=all",
            "users": "/admin/users",
            "home": "/",
        }
        db.session.remove()
    return pages


@pytest.fixture(scope="module")
def stored(server):
    done = subprocess.run([sys.executable, "-m", "tests.browser.test_stored_xss"], cwd=REPO, env=SERVER_ENV,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _open(browser, base: str, username: str, password: str):
    context = browser.new_context(base_url=base, bypass_csp=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    return context, page, dialogs


def test_stored_payloads_never_run_and_plain_text_shows_as_text(browser, server, stored):
    context, page, dialogs = _open(browser, server, "bureau", DEMO_PASSWORD)
    try:
        ran, injected, missing = [], [], []
        for what, path in stored.items():
            response = page.goto(path)
            assert response is not None and response.status == 200, (what, path, response and response.status)
            page.wait_for_load_state("load")
            if page.evaluate("() => window.__xss") is not None:
                ran.append(f"{what}: window.__xss = {page.evaluate('() => window.__xss')}")
            if found := page.evaluate(INJECTED):
                injected.append(f"{what} ({path}): {found}")
            if what not in ("activity minutes", "home") and "<script>window.__xss=1" not in page.inner_text("body"):
                missing.append(f"{what} ({path})")
        assert dialogs == [] and ran == [], (dialogs, ran)
        assert injected == []
        assert missing == [], "the plain-text payload is not shown as text"
    finally:
        context.close()


# --- the live room's chat ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def room(browser):
    from .conftest import BIN, _free_port, _wait_for

    tmp = Path(tempfile.mkdtemp(prefix="portal-xss-room-"))
    env = _server_env(tmp)
    done = subprocess.run([sys.executable, "-m", "bench.live_seed", "--classrooms", "1"], cwd=REPO, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seed = json.loads(done.stdout)
    port = _free_port()
    log = tmp / "gunicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), "--worker-class", "gthread", "--workers", "1", "--threads", "20", "--no-control-socket",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/login", proc, log)
        yield base, seed
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_chat_message_with_script_shows_as_text_on_the_other_side(browser, room):
    from .test_live_room_journey import PASSWORD

    base, seed = room
    teacher_ctx, teacher, teacher_dialogs = _open(browser, base, seed["teacher"]["username"], PASSWORD)
    assistant_ctx, assistant, assistant_dialogs = _open(browser, base, seed["assistants"][0]["username"], PASSWORD)
    try:
        for page in (teacher, assistant):
            page.goto(f"/live-sessions/{seed['session_id']}/room")
            page.wait_for_selector("[data-conn=connected]")
        teacher.fill("#live-text", TEXT)
        teacher.click("[data-form=chat] button[type=submit]")
        assistant.wait_for_selector(".live-chat-text >> text=window.__xss=1")
        assistant.reload()  # and from the stored state, as a late joiner sees it
        assistant.wait_for_selector("[data-conn=connected]")
        assistant.wait_for_selector(".live-chat-text >> text=window.__xss=1")
        for page in (teacher, assistant):
            assert page.evaluate("() => window.__xss") is None
            assert page.evaluate(INJECTED) == []
            assert TEXT in page.inner_text("[data-chat]")
        assert teacher_dialogs == [] and assistant_dialogs == []
    finally:
        teacher_ctx.close()
        assistant_ctx.close()


if __name__ == "__main__":
    print(json.dumps(_store_payloads()))
