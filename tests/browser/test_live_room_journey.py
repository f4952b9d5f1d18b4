"""The live room in two browsers at once: the main teacher at a desk, a rural classroom's assistant
on a phone. A page turned by the teacher and a poll answered by the classroom appear live on the
other side, without a reload.

The room runs on its own server (a session happening now, from bench/live_seed.py), so the demo
timetable's hours do not matter.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .conftest import BIN, REPO, _free_port, _server_env, _wait_for

PASSWORD = "Live-pass-2026"  # bench/live_seed.py


class RoomServer:
    """A gunicorn serving a session happening now; ``restart`` kills it and starts a new process on
    the same port, as a crash and a supervisor's restart would."""

    def __init__(self, tmp: Path, env: dict, seed: dict):
        self.tmp, self.env, self.seed = tmp, env, seed
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "gunicorn.log"
        self.proc = None

    def start(self) -> None:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(  # noqa: S603
                [str(BIN / "gunicorn"), "--worker-class", "gthread", "--workers", "1", "--threads", "20",
                 "--no-control-socket", "--graceful-timeout", "1", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for(self.base + "/login", self.proc, self.log)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def room_server(browser):
    tmp = Path(tempfile.mkdtemp(prefix="portal-live-room-"))
    env = _server_env(tmp)
    done = subprocess.run([sys.executable, "-m", "bench.live_seed", "--classrooms", "2"], cwd=REPO, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    server = RoomServer(tmp, env, json.loads(done.stdout))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _open_room(browser, server, username, viewport):
    base, seed = server.base, server.seed
    from .conftest import Watch

    context = browser.new_context(base_url=base, viewport=viewport, locale="en-US", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = Watch(base.split("//", 1)[1])
    page.on("console", watch.on_console)
    page.on("pageerror", lambda exc: watch.console_errors.append(f"uncaught: {exc}"))
    page.on("requestfailed", watch.on_failed)
    page.on("response", watch.on_response)
    page.on("websocket", watch.on_websocket)
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.goto(f"/live-sessions/{seed['session_id']}/room")
    page.wait_for_selector("[data-conn=connected]")
    return context, page, watch


def test_a_page_turn_and_a_poll_answer_appear_live_on_the_other_side(browser, room_server):
    from playwright.sync_api import expect

    seed = room_server.seed
    teacher_ctx, teacher, teacher_watch = _open_room(browser, room_server, seed["teacher"]["username"],
                                                     {"width": 1280, "height": 900})
    class_ctx, classroom, class_watch = _open_room(browser, room_server, seed["assistants"][0]["username"],
                                                   {"width": 360, "height": 740})
    try:
        # The teacher sees the classroom come online.
        room_row = teacher.locator(f"[data-rooms] [data-classroom='{seed['assistants'][0]['classroom_id']}']")
        expect(room_row).to_have_class("live-room-row online")

        teacher.get_by_role("button", name="Start the lesson").click()
        expect(classroom.locator("[data-lesson]")).to_contain_text("In progress since")

        # A page turn on the teacher's side shows on the classroom's phone.
        teacher.get_by_role("button", name="Next page").click()
        teacher.get_by_role("button", name="Next page").click()
        expect(classroom.locator("[data-page]")).to_have_text("Page 3")

        # The teacher opens a poll; the classroom answers with its counts; the teacher sees the totals.
        teacher.fill("#live-question", "Which is bigger, 3/4 or 2/3?")
        teacher.get_by_role("button", name="Open the poll").click()
        expect(classroom.locator("[data-poll]")).to_contain_text("Which is bigger, 3/4 or 2/3?")
        counts = classroom.locator("[data-counts] input")
        expect(counts).to_have_count(4)
        for i, value in enumerate(["21", "6", "1", "0"]):
            counts.nth(i).fill(value)
        classroom.get_by_role("button", name="Send our counts").click()
        expect(teacher.locator("[data-poll] .live-total")).to_have_text(["21", "6", "1", "0"])
        expect(teacher.locator("[data-poll]")).to_contain_text("1 of 2 classrooms answered")

        # The phone never scrolls sideways, and nothing failed on either side.
        assert classroom.evaluate("document.documentElement.scrollWidth") <= 360
        teacher_watch.assert_clean()
        class_watch.assert_clean()

        # The server dies mid-lesson: both pages say they are reconnecting, come back by themselves,
        # rebuild the room from the new process's join answer, and the lesson goes on.
        room_server.stop()
        expect(classroom.locator("[data-conn]")).to_have_text("Connection lost, reconnecting…")
        room_server.start()
        for page in (teacher, classroom):
            expect(page.locator("[data-conn]")).to_have_text("Connected", timeout=20_000)
        expect(classroom.locator("[data-page]")).to_have_text("Page 3")
        expect(classroom.locator("[data-poll] .live-total")).to_have_text(["21", "6", "1", "0"])
        teacher.get_by_role("button", name="Next page").click()
        expect(classroom.locator("[data-page]")).to_have_text("Page 4")
    finally:
        teacher_ctx.close()
        class_ctx.close()
