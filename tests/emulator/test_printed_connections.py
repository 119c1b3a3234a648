"""The ``export AIRFLOW_CONN_...`` lines ``python -m automation_anywhere_emulator`` prints work as pasted."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from airflow.models import Connection as CoreConnection
from airflow.sdk import Connection

from airflow_provider_aa.control_room.settings import settings_of
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator.connections import connection_uri
from tests.emulator.conftest import API_KEY_USER, PASSWORD_USER

CONN_IDS = {
    "password": "automation_anywhere_default",
    "api_key": "automation_anywhere_api_key",
    "token": "automation_anywhere_token",
}
#: Longest wait for the emulator's first lines; then it is killed and readline() returns "".
START_TIMEOUT = 60


@dataclass
class Started:
    url: str
    lines: list[str]
    exports: dict[str, str]  # environment variable name → value, as the shell would set it


@contextmanager
def start(*options: str, lines: int) -> Iterator[Started]:
    """Run the emulator CLI on a free port, read its first ``lines`` lines, stop it on SIGTERM."""
    command = [sys.executable, "-m", "automation_anywhere_emulator", "--port", "0", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    watchdog = threading.Timer(START_TIMEOUT, process.kill)
    watchdog.start()
    try:
        printed = [process.stdout.readline() for _ in range(lines)]
        watchdog.cancel()
        assert all(line.endswith("\n") for line in printed), printed
        url = printed[0].split(" listening on ")[1].strip()
        exports = {}
        for line in printed:
            if line.startswith("export "):
                # What `export NAME=VALUE` sets, quoting included.
                _, assignment = shlex.split(line)
                name, _, value = assignment.partition("=")
                exports[name] = value
        yield Started(url, printed, exports)
    finally:
        watchdog.cancel()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == ""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Started]:
    with start(lines=5) as started:
        yield started


@pytest.fixture(scope="module")
def emulator_tls() -> Iterator[Started]:
    with start("--tls", lines=7) as started:
        yield started


def env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def connects(monkeypatch: pytest.MonkeyPatch, conn_id: str, value: str) -> tuple[bool, str]:
    """``AutomationAnywhereHook.test_connection()`` with ``AIRFLOW_CONN_<conn_id>`` set to ``value``."""
    monkeypatch.setenv(env_name(conn_id), value)
    hook = AutomationAnywhereHook(conn_id)
    try:
        return hook.test_connection()
    finally:
        hook.close()


def test_one_line_per_auth_mode_right_after_the_url(emulator):
    assert emulator.url.startswith("http://127.0.0.1:")
    assert [line.split("=")[0] for line in emulator.lines[1:4]] == [
        f"export {env_name(conn_id)}" for conn_id in CONN_IDS.values()
    ]
    assert emulator.lines[4].startswith("# this token expires 1200 s after start")
    # Pasted into a shell as printed, comments included, they set exactly these values.
    script = "".join(emulator.lines[1:]) + 'printf "%s\\n" "$AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"'
    shell = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=10, check=True)
    assert shell.stdout == emulator.exports[env_name("automation_anywhere_default")] + "\n"


@pytest.mark.parametrize("auth_type", CONN_IDS)
def test_each_printed_value_connects(emulator, monkeypatch, auth_type):
    conn_id = CONN_IDS[auth_type]
    ok, message = connects(monkeypatch, conn_id, emulator.exports[env_name(conn_id)])
    assert ok, message
    assert f"Connected to {emulator.url}" in message and f"auth_type={auth_type!r}" in message


@pytest.mark.parametrize("auth_type", CONN_IDS)
def test_each_printed_value_parses_alike_in_the_task_sdk_and_in_airflow_core(emulator, auth_type):
    value = emulator.exports[env_name(CONN_IDS[auth_type])]
    for connection in (Connection.from_uri(value, conn_id="x"), CoreConnection(conn_id="x", uri=value)):
        assert connection.conn_type == "automation_anywhere"
        settings = settings_of(connection)
        assert (settings.base_url, settings.auth_type, settings.warnings) == (emulator.url, auth_type, ())
        # What works in a deployment, where the triggerer's and the workers' sessions coexist.
        assert settings.single_session_warning is None


def test_each_secret_is_only_in_its_own_line(emulator):
    password, api_key = PASSWORD_USER["password"], API_KEY_USER["apiKey"]
    by_mode = {auth_type: emulator.exports[env_name(conn_id)] for auth_type, conn_id in CONN_IDS.items()}
    assert quote(password, safe="") in by_mode["password"]
    assert api_key in by_mode["api_key"]
    token = settings_of(Connection.from_uri(by_mode["token"], conn_id="x")).token
    for auth_type, line in zip(CONN_IDS, emulator.lines[1:4]):
        assert (password in line or quote(password, safe="") in line) == (auth_type == "password")
        assert (api_key in line) == (auth_type == "api_key")
        assert (token in line) == (auth_type == "token")
    assert "Token-Passw0rd" not in "".join(emulator.lines)  # the token user's password is not needed


@pytest.mark.parametrize("auth_type", CONN_IDS)
def test_with_tls_the_values_say_https_and_trust_the_certificate(emulator_tls, monkeypatch, auth_type):
    ca_file = emulator_tls.lines[1].rsplit(": ", 1)[1].strip()
    assert emulator_tls.url.startswith("https://")
    assert "deleted when the emulator stops" in emulator_tls.lines[6]
    conn_id = CONN_IDS[auth_type]
    value = emulator_tls.exports[env_name(conn_id)]
    assert settings_of(Connection.from_uri(value, conn_id="x")).verify_ssl == ca_file
    ok, message = connects(monkeypatch, conn_id, value)
    assert ok, message


def test_a_seed_without_a_mode_says_so_in_a_comment(tmp_path, monkeypatch):
    seed = {"users": [{"id": 7, "username": "ops", "password": "Ops-Passw0rd!"}], "queues": []}
    seed["credentials"] = {"password": "ops"}
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    with start("--seed", str(seed_file), lines=4) as started:
        value = started.exports[env_name("automation_anywhere_default")]
        assert connects(monkeypatch, "automation_anywhere_default", value)[0]
    assert list(started.exports) == [env_name("automation_anywhere_default")]
    assert [line.split(":")[0] for line in started.lines[2:]] == [
        f"# no {env_name('automation_anywhere_api_key')}",
        f"# no {env_name('automation_anywhere_token')}",
    ]


def test_connection_uri_survives_any_character():
    login, password, ca_file = "ops team@x", "p@ss:w/rd?&=%#'\" +é://", "/tmp/a b&c=d/ca.pem"
    uri = connection_uri(
        "https://localhost:8443", {"login": login, "password": password}, "password", verify_ssl=ca_file
    )
    for connection in (Connection.from_uri(uri, conn_id="x"), CoreConnection(conn_id="x", uri=uri)):
        assert (connection.host, connection.port, connection.schema) == ("localhost", 8443, "https")
        assert (connection.login, connection.password) == (login, password)
        assert json.loads(connection.extra) == {"auth_type": "password", "verify_ssl": ca_file}


def test_connection_uri_refuses_a_url_with_a_path():
    with pytest.raises(ValueError, match="no path"):
        connection_uri("http://127.0.0.1:8765/cr", {"login": "a", "password": "b"}, "password")
