"""Browser journeys: the real server (gunicorn, migrated and seeded SQLite) driven by Debian's chromium.

Everything under tests/browser is marked ``browser``. Without /usr/bin/chromium (or Playwright) the
tests are skipped, unless REQUIRE_BROWSER=1 (CI), where they fail instead. Playwright never downloads
a browser here: chromium is launched by path.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "Demo-pass-2026"


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


def _required() -> bool:
    return os.environ.get("REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config, items):
    # This hook sees the whole session's items: touch only ours.
    reason = _missing()
    for item in items:
        if HERE not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if reason and not _required():
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _clean():
    """The browser tests talk to their own server and database: nothing of tests/conftest.py's to clean."""
    yield


# --- the server ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    # A fresh SQLite file and no Redis: the browser server is self-contained. BROWSER_DATABASE_URL
    # names an empty database to use instead (.ci/run: the same pages on PostgreSQL).
    for name in ("TEST_DATABASE_URL", "REDIS_URL", "UPLOAD_DIR", "FLASK_DEBUG"):
        env.pop(name, None)
    env.update(
        PORTAL_INSTANCE_DIR=str(tmp),
        DATABASE_URL=os.environ.get("BROWSER_DATABASE_URL") or f"sqlite:///{tmp}/b.sqlite3",
        SECRET_KEY="browser-test-secret-key-not-for-production",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args[1:])} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def _wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


# The running server's environment (DATABASE_URL, PORTAL_INSTANCE_DIR), for tests that store data
# through the services straight into its database (tests/browser/test_stored_xss.py).
SERVER_ENV: dict[str, str] = {}


@pytest.fixture(scope="session")
def server():
    """Base URL of a real portal: migrated, demo data loaded, served by gunicorn on a free loopback port."""
    if reason := _missing():
        if _required():
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    tmp = Path(tempfile.mkdtemp(prefix="portal-browser-"))
    env = _server_env(tmp)
    SERVER_ENV.update(env)
    _run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    _run([sys.executable, "-m", "flask", "--app", "wsgi", "seed", "demo"], env)
    port = _free_port()
    log = tmp / "gunicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603
            [
                str(BIN / "gunicorn"),
                "--worker-class", "gthread", "--workers", "1", "--threads", "20",
                "--no-control-socket",  # gunicorn's default socket path is one per user: servers would share it
                "--bind", f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/login", proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(tmp, ignore_errors=True)


# --- the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What went wrong while a page was open: console errors, failed requests, requests leaving loopback."""

    host: str
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.host:
            self.foreign.append(request.url)

    def on_failed(self, request) -> None:
        error = request.failure or ""
        # ERR_ABORTED is the page going away under its own requests (a click or goto while the favicon,
        # a Socket.IO poll or a redirect is still loading), not a broken asset; a missing asset shows
        # up as an error status in on_response.
        if "ERR_ABORTED" in error:
            return
        self.failed.append(f"{request.method} {request.url}: {error}")

    def on_response(self, response) -> None:
        # The page's own status (403, 404 ...) is for the test to check; every asset must load.
        if response.status >= 400 and response.request.resource_type != "document":
            self.failed.append(f"{response.request.method} {response.url}: HTTP {response.status}")

    def on_websocket(self, ws) -> None:
        if urlsplit(ws.url).netloc != self.host:
            self.foreign.append(ws.url)

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"failed request: {m}" for m in self.failed]
            + [f"request off the portal: {m}" for m in self.foreign]
        )

    def assert_clean(self) -> None:
        assert not self.problems(), "\n".join(self.problems())


@pytest.fixture
def page_factory(browser, server):
    """page_factory(width, height) -> a Page in a fresh context (own cookies), zh-CN, base URL = the server.

    Every page carries a Watch (``watch_of(page)``) for the test to assert on.
    """
    contexts = []
    watches: dict[int, Watch] = {}
    host = urlsplit(server).netloc

    def make(width: int, height: int):
        context = browser.new_context(
            base_url=server,
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        watch = Watch(host)
        page.on("console", watch.on_console)
        page.on("pageerror", lambda exc: watch.console_errors.append(f"uncaught: {exc}"))
        page.on("request", watch.on_request)
        page.on("requestfailed", watch.on_failed)
        page.on("response", watch.on_response)
        page.on("websocket", watch.on_websocket)
        watches[id(page)] = watch
        return page

    make.watches = watches
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def watch_of(page_factory):
    return lambda page: page_factory.watches[id(page)]


# --- helpers for the journeys ----------------------------------------------------------------------


def _log_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


@pytest.fixture
def log_in():
    """log_in(page, username, password=demo password): through the form, as a person would."""
    return _log_in

