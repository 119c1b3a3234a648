"""The connection test against the emulator: a passing test says what it checked, with the connection's warnings."""

from __future__ import annotations

import pytest

from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

POINTER = (
    "Run `python -m airflow_provider_aa.check --conn-id automation_anywhere_default` for a full compatibility report."
)


def test_a_passing_test_names_what_it_checked_and_the_connections_warnings(aa_emulator, monkeypatch, capsys):
    aa_emulator.use_connection(monkeypatch, "password", timout=5)
    hook = AutomationAnywhereHook()

    ok, message = hook.test_connection()

    assert ok
    assert message == (
        f"Connected to {aa_emulator.url} as 'bot_runner' (auth_type='password'); work queues: visible (3 queue(s)). "
        "Warning: Connection extra 'timout' is not a setting of this provider and is ignored: did you mean "
        f"'timeout'? Warning: {hook.settings.single_session_warning} {POINTER}"
    )
    assert "'multiple_login'" in message and "Allow multiple sessions" in message and "UM1114" in message
    # `airflow connections test` silences logging and shows no message of a passing test: printed.
    assert message in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(("auth_type", "extra"), [("api_key", {}), ("password", {"multiple_login": True})])
def test_a_connection_that_keeps_its_sessions_apart_gets_no_warning(aa_emulator, monkeypatch, auth_type, extra):
    aa_emulator.use_connection(monkeypatch, auth_type, **extra)

    ok, message = AutomationAnywhereHook().test_connection()

    assert ok
    assert message.endswith(f"; work queues: visible (3 queue(s)). {POINTER}")
    assert "Warning" not in message


def test_a_user_without_queue_rights_is_reported_with_its_activity_and_the_warning(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, "password")
    fields = aa_emulator.connection("password")
    monkeypatch.setenv(
        "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT",
        aa_emulator.connection_env_value("password").replace(fields.login, "bot_deployer"),
    )
    aa_emulator.set_password("bot_deployer", fields.password)

    ok, message = AutomationAnywhereHook().test_connection()

    assert ok
    assert (
        "as 'bot_deployer' (auth_type='password'); work queues: no permission (HTTP 403); activity: visible" in message
    )
    assert "Warning: User 'bot_deployer' logs in without multipleLogin" in message
