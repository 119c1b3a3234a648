"""
What an Airflow user sees: the ``airflow`` command line, and the web UI served by a real
``airflow api-server`` driven by Playwright in Debian's Chromium (headless).

The browser and the API server are started once per test session. There is no silent skip:
when Playwright or Chromium is missing, or the API server does not come up, every UI test
errors with the reason (install Chromium with ``apt-get install -y chromium``; Playwright's
own browser download is not used).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

AIRFLOW = Path(sys.executable).with_name("airflow")
CHROMIUM = os.environ.get("AA_UI_CHROMIUM", "/usr/bin/chromium")
# As the machine notes prescribe for Chromium as root in a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN = "admin"
SERVER_START_TIMEOUT = 120.0
UI_TIMEOUT_MS = 20_000


def airflow_env(**extra: str) -> dict[str, str]:
    """The tests' environment for an ``airflow`` subprocess, without any test's connections."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW_CONN_")}
    env["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def run_airflow(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AIRFLOW), *args], env=env or airflow_env(), capture_output=True, text=True, timeout=timeout
    )


def one_line(text: str) -> str:
    """Whitespace collapsed: the CLI's console wraps long messages at its own width."""
    return " ".join(text.split())


# -- the API server -------------------------------------------------------------------


@dataclass
class ApiServer:
    url: str
    username: str
    password: str
    fernet_key: str  # its own, so that tests can read back what it stored
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(url: str) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the server and the workers it started (its own process group), by id."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass


class ApiServerLaunch:
    """
    ``airflow db migrate``, then ``airflow api-server`` on a free port, in a background
    thread: the server boots while other tests (the CLI ones) run.
    """

    def __init__(self, workdir: Path) -> None:
        from cryptography.fernet import Fernet

        password = secrets.token_urlsafe(12)
        passwords_file = workdir / "passwords.json"
        passwords_file.write_text(json.dumps({ADMIN: password}))
        fernet_key = Fernet.generate_key().decode()
        self.env = airflow_env(
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{ADMIN}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords_file),
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False",
            AIRFLOW__CORE__FERNET_KEY=fernet_key,
        )
        self.port = _free_port()
        self.server = ApiServer(
            f"http://127.0.0.1:{self.port}", ADMIN, password, fernet_key, workdir / "api-server.log"
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._launch, name="airflow-api-server-launch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _launch(self) -> None:
        try:
            migrate = run_airflow("db", "migrate", env=self.env, timeout=300)
            if migrate.returncode != 0:
                self.error = f"airflow db migrate failed:\n{migrate.stdout}\n{migrate.stderr}"
                return
            with open(self.server.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    [str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stopped with its workers
                )
        except Exception as problem:  # reported by wait_until_ready
            self.error = f"starting airflow api-server failed: {problem!r}"

    def wait_until_ready(self) -> ApiServer:
        self._thread.join(timeout=SERVER_START_TIMEOUT)
        if self.error or self.process is None:
            pytest.fail(self.error or "airflow db migrate did not finish", pytrace=False)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _answers(f"{self.server.url}/api/v2/monitor/health"):
            if self.process.poll() is not None:
                pytest.fail(
                    f"airflow api-server exited with {self.process.returncode}:\n{self.server.log_tail()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"airflow api-server did not answer within {SERVER_START_TIMEOUT:g} s:\n{self.server.log_tail()}",
                    pytrace=False,
                )
            time.sleep(0.2)
        return self.server

    def stop(self) -> None:
        self._thread.join(timeout=300)
        if self.process is not None:
            _stop(self.process)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``), every UI test runs in one worker: one API server and browser."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group("ui"))


@pytest.fixture(scope="session")
def api_server_launch(tmp_path_factory) -> Iterator[ApiServerLaunch]:
    launch = ApiServerLaunch(tmp_path_factory.mktemp("api-server"))
    launch.start()
    try:
        yield launch
    finally:
        launch.stop()


@pytest.fixture(scope="session", autouse=True)
def _boot_api_server_early(request) -> None:
    """At the first test here, start booting the API server if a selected test will need it."""
    if any("api_server" in item.fixturenames for item in request.session.items):
        request.getfixturevalue("api_server_launch")


@pytest.fixture(scope="session")
def api_server(api_server_launch) -> ApiServer:
    """
    A running ``airflow api-server`` in the tests' throw-away ``AIRFLOW_HOME``, with connection
    testing enabled, one SimpleAuthManager admin whose password the tests set, and its own
    Fernet key. Started after the provider is installed, so its cached form metadata
    includes ours; stopped (with its process group) at the end of the session.
    """
    return api_server_launch.wait_until_ready()


# -- the browser ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, headless, with a fresh profile. Fails loudly."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as problem:
        pytest.fail(f"Playwright is not installed ({problem}): pip install --group test", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"No Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(or point AA_UI_CHROMIUM at a Chromium binary). The UI tests do not skip.",
            pytrace=False,
        )
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as problem:
            pytest.fail(f"Chromium at {CHROMIUM} did not start under Playwright: {problem}", pytrace=False)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def signed_in(browser, api_server):
    """
    One browser context for the session, signed in once through the real login page. Each
    test gets its own page in it (the shared HTTP cache makes the UI load quickly).
    """
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{api_server.url}/connections")
    # The first pages of a fresh API server are slow on a busy machine: the UI's timeout, not expect's 5 s.
    expect(page.get_by_text("Sign into Airflow")).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.locator("input[name=username]").fill(api_server.username)
    page.locator("input[name=password]").fill(api_server.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Add Connection")).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.close()
    yield context
    context.close()


# The connection list's Test button on Airflow 3.3.x posts ``port: 0`` for a connection
# without a port (Number(null)), and the API refuses that as a different endpoint
# (fixed upstream by apache/airflow#73298, after 3.3.2). Only exactly that answer is re-sent,
# with ``port: null``; any other answer reaches the page unchanged.
PORT_BUG_DETAIL = (
    "The host or port to test differs from the stored connection. Include the credentials to test in the request body."
)


@dataclass
class ConnectionTestTraffic:
    """What the Test button sent and got back, and whether the #73298 re-send was needed."""

    exchanges: list[dict[str, Any]] = field(default_factory=list)


def _route_connection_test(traffic: ConnectionTestTraffic):
    def handle(route) -> None:
        body = json.loads(route.request.post_data or "{}")
        first = route.fetch()
        exchange: dict[str, Any] = {"request": body, "status": first.status, "resent": False}
        answer = first
        if first.status == 400 and body.get("port") == 0 and _detail(first) == PORT_BUG_DETAIL:
            answer = route.fetch(post_data=json.dumps({**body, "port": None}))
            exchange.update(resent=True, status=answer.status)
        exchange["answer"] = _json_or_text(answer)
        traffic.exchanges.append(exchange)
        route.fulfill(response=answer)

    return handle


def _detail(response) -> Any:
    answer = _json_or_text(response)
    return answer.get("detail") if isinstance(answer, dict) else None


def _json_or_text(response) -> Any:
    try:
        return response.json()
    except Exception:
        return response.text()


@pytest.fixture
def connection_test_traffic() -> ConnectionTestTraffic:
    return ConnectionTestTraffic()


@pytest.fixture
def page(signed_in, api_server, connection_test_traffic, request, tmp_path_factory):
    """A signed-in page on the connection list; Test button calls recorded (and #73298 handled)."""
    from playwright.sync_api import expect

    page = signed_in.new_page()
    page.route("**/api/v2/connections/test", _route_connection_test(connection_test_traffic))
    page.goto(f"{api_server.url}/connections")
    expect(page.get_by_role("button", name="Add Connection")).to_be_visible()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot = tmp_path_factory.mktemp("ui-failure") / "page.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nScreenshot of the failed page: {shot}\nAPI server log (tail):\n{api_server.log_tail()}")
        except Exception as problem:  # the report is what matters
            print(f"\n(no screenshot: {problem})")
    page.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, for the page fixture's failure screenshot."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
