"""The ``airflow`` command line with the provider installed: providers, hooks, triggers, connection tests."""

from __future__ import annotations

import json

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from tests.conftest import make_token
from tests.ui.conftest import airflow_env, one_line, run_airflow

pytestmark = pytest.mark.ui

PACKAGE = "airflow-provider-automation-anywhere"
# Airflow 3.1's `connections test` prints a failure but exits 0 (3.3 exits 1).
FAILED_TEST_EXIT_CODE = 0 if Version(airflow_version).release[:2] == (3, 1) else 1
LOGIN = "POST /v2/authentication"
LIST_QUEUES = "POST /v3/wlm/queues/list"


def providers_json(what: str) -> list[dict[str, object]]:
    done = run_airflow("providers", what, "--output", "json", env=airflow_env())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_providers_list_shows_the_provider_with_its_version_and_description():
    from importlib.metadata import version

    from airflow_provider_aa.get_provider_info import get_provider_info

    ours = [row for row in providers_json("list") if row["package_name"] == PACKAGE]
    assert ours == [
        {
            "package_name": PACKAGE,
            # The CLI drops the final full stop.
            "description": get_provider_info()["description"].rstrip("."),
            "version": version(PACKAGE),
        }
    ]
    table = run_airflow("providers", "list", env=airflow_env())
    assert table.returncode == 0 and PACKAGE in table.stdout


def test_providers_hooks_shows_the_hook_and_its_connection_type():
    ours = [row for row in providers_json("hooks") if row["package_name"] == PACKAGE]
    assert ours == [
        {
            "connection_type": "automation_anywhere",
            "class": "airflow_provider_aa.hooks.automation_anywhere.AutomationAnywhereHook",
            "conn_id_attribute_name": "automation_anywhere_conn_id",
            "package_name": PACKAGE,
            "hook_name": "Automation Anywhere",
        }
    ]


def test_providers_triggers_shows_the_trigger_module():
    ours = [row for row in providers_json("triggers") if row["package_name"] == PACKAGE]
    assert ours == [
        {
            "package_name": PACKAGE,
            "class": "airflow_provider_aa.triggers.automation_anywhere",
            "integration_name": "Automation Anywhere",
        }
    ]


def connections_test(conn_value: str, conn_id: str = "aa_cli"):
    """``airflow connections test`` of a connection given as ``AIRFLOW_CONN_<ID>``."""
    env = airflow_env(**{f"AIRFLOW_CONN_{conn_id.upper()}": conn_value})
    return run_airflow("connections", "test", conn_id, env=env)


def calls(emulator) -> list[tuple[str, int | None]]:
    return [(f"{entry['method']} {entry['path']}", entry["status"]) for entry in emulator.request_log.entries()]


@pytest.mark.parametrize("auth_type", ["password", "api_key", "token"])
def test_connections_test_succeeds_in_each_auth_mode(aa_emulator, auth_type):
    done = connections_test(aa_emulator.connection_env_value(auth_type))

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Connection success!" in done.stdout
    # The CLI prints no message on success; the hook prints what it checked.
    assert f"Connected to {aa_emulator.url}" in done.stdout
    assert f"(auth_type={auth_type!r}); work queues: visible (3 queue(s))." in one_line(done.stdout)
    assert "Run `python -m airflow_provider_aa.check --conn-id aa_cli` for a full compatibility report." in one_line(
        done.stdout
    )
    expected = [(LIST_QUEUES, 200)] if auth_type == "token" else [(LOGIN, 200), (LIST_QUEUES, 200)]
    assert calls(aa_emulator) == expected


def test_connections_test_prints_the_connections_warnings_on_success(aa_emulator):
    done = connections_test(aa_emulator.connection_env_value("password", timout=5))

    assert done.returncode == 0, done.stdout + done.stderr
    out = one_line(done.stdout)
    assert "Connection success!" in out
    assert (
        "Warning: Connection extra 'timout' is not a setting of this provider and is ignored: did you mean 'timeout'?"
    ) in out
    assert "Warning: User 'bot_runner' logs in without multipleLogin (extra 'multiple_login' is false)" in out
    assert "('Allow multiple sessions')" in out


def test_connections_test_fails_for_a_wrong_password(aa_emulator):
    conn = json.loads(aa_emulator.connection_env_value("password"))
    conn["password"] = "not-the-password"

    done = connections_test(json.dumps(conn))

    assert done.returncode == FAILED_TEST_EXIT_CODE
    out = one_line(done.stdout)
    assert "Connection failed!" in out
    assert (
        f"Login refused for user '{conn['login']}' (auth_type='password'): check the password and that "
        "the user is active. The task fails without retries, so that repeated attempts do not lock the "
        "account. [POST /v2/authentication -> HTTP 401]"
    ) in out
    assert "not-the-password" not in out
    assert calls(aa_emulator) == [(LOGIN, 401)]


def test_connections_test_fails_for_a_wrong_api_key(aa_emulator):
    conn = json.loads(aa_emulator.connection_env_value("api_key"))
    conn["extra"]["api_key"] = "X" * 40

    done = connections_test(json.dumps(conn))

    assert done.returncode == FAILED_TEST_EXIT_CODE
    out = one_line(done.stdout)
    assert "Connection failed!" in out
    assert f"Login refused for user '{conn['login']}' (auth_type='api_key'): check the API key" in out
    assert "X" * 40 not in out


def test_connections_test_fails_for_a_token_the_control_room_never_issued(aa_emulator):
    conn = json.loads(aa_emulator.connection_env_value("token"))
    conn["extra"]["token"] = make_token()

    done = connections_test(json.dumps(conn))

    assert done.returncode == FAILED_TEST_EXIT_CODE
    out = one_line(done.stdout)
    assert "Connection failed!" in out
    assert "The connection's pre-issued token was rejected by the Control Room and cannot be renewed" in out
    assert conn["extra"]["token"] not in out
