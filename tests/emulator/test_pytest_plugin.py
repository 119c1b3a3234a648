"""The pytest fixtures and the Airflow connection helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.emulator.conftest import Client

pytest_plugins = ["pytester"]


def test_fixture_resets_between_tests_part_one(aa_emulator, client):
    aa_emulator.configure(numeric_ids=True)
    aa_emulator.faults.add("latency", count=None, seconds=0)
    assert client.add(20, {"a": 1}).json()["list"][0]["id"] == 40001


def test_fixture_resets_between_tests_part_two(aa_emulator, aa_emulator_server):
    assert aa_emulator is aa_emulator_server
    assert aa_emulator.work_items(20) == []
    assert aa_emulator.config.numeric_ids is False
    assert aa_emulator.faults.rules() == []
    assert aa_emulator.counters.requests() == 0


def test_credentials_per_mode(aa_emulator):
    assert aa_emulator.credentials("password") == {"login": "bot_runner", "password": "Emulator-Passw0rd!"}
    api_key = aa_emulator.credentials("api_key")
    assert api_key["login"] == "api_user" and len(api_key["api_key"]) == 40 and api_key["api_key"].isalnum()
    token = aa_emulator.credentials("token")
    assert token["login"] == "" and token["token"].count(".") == 2
    assert aa_emulator.users["single_user"]["allowMultipleLogin"] is False
    with pytest.raises(ValueError):
        aa_emulator.credentials("oauth")


@pytest.mark.parametrize(
    ("auth_type", "login", "password", "extra"),
    [
        ("password", "bot_runner", "Emulator-Passw0rd!", {"auth_type": "password"}),
        ("api_key", "api_user", None, {"auth_type": "api_key", "api_key": "EMUAPIKEY0Qx7Rt2Lm9Vb4Nc8Hs3Kd6Wp1Zf5Gj8"}),
        ("token", None, None, {"auth_type": "token", "token": "<issued>"}),
    ],
)
def test_connection_env_value(aa_emulator, auth_type, login, password, extra):
    value = json.loads(aa_emulator.connection_env_value(auth_type, timeout=5))
    assert value["conn_type"] == "automation_anywhere" and value["host"] == aa_emulator.url
    assert value.get("login") == login and value.get("password") == password
    if auth_type == "token":
        extra = {**extra, "token": value["extra"]["token"]}
        client = Client(aa_emulator.url)
        client.token = value["extra"]["token"]
        assert client.call("GET", "/v3/wlm/queues/20").status_code == 200
    assert value["extra"] == {**extra, "timeout": 5}


def test_connection_is_an_airflow_connection(aa_emulator):
    connection = aa_emulator.connection("api_key", conn_id="aa_test")
    assert type(connection).__module__.startswith("airflow.sdk")
    assert (connection.conn_id, connection.conn_type, connection.host) == (
        "aa_test",
        "automation_anywhere",
        aa_emulator.url,
    )
    assert connection.login == "api_user"
    assert isinstance(connection.extra, str)
    assert json.loads(connection.extra)["api_key"] == aa_emulator.credentials("api_key")["api_key"]


def test_use_connection_sets_the_environment(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, auth_type="password", conn_id="my_cr")
    assert json.loads(os.environ["AIRFLOW_CONN_MY_CR"])["login"] == "bot_runner"


def test_plugin_is_registered_by_the_emulator_alone_and_cheap_to_import():
    code = (
        "import sys, importlib.metadata as m;"
        "eps = [e.value for e in m.entry_points(group='pytest11')];"
        "assert 'automation_anywhere_emulator.pytest_plugin' in eps, eps;"
        "owners = [e.dist.name for e in m.entry_points(group='pytest11') if 'emulator' in e.value];"
        "assert owners == ['automation-anywhere-emulator'], owners;"
        "import automation_anywhere_emulator.pytest_plugin;"
        "import automation_anywhere_emulator;"
        "assert not [name for name in sys.modules if name == 'airflow' or name.startswith('airflow.')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_emulator_imports_nothing_of_the_provider():
    """Every module of the emulator's package imports without the provider (a distribution of its own)."""
    code = (
        "import importlib, pkgutil, sys, automation_anywhere_emulator as package;"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(package.__path__, package.__name__ + '.')];"
        "assert 'automation_anywhere_emulator.tls' in sys.modules;"
        "assert not [name for name in sys.modules if name.startswith('airflow_provider_aa')], 'the provider was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_fixtures_call_the_registered_reset_hooks(pytester):
    """The provider registers ``forget_capabilities``: a test that switched an API version off does not leak it."""
    pytester.makepyfile(
        """
        from airflow_provider_aa.control_room.capabilities import Capabilities
        from airflow_provider_aa.hooks import automation_anywhere

        def test_learns(aa_emulator):
            automation_anywhere._CAPABILITIES[(aa_emulator.url, "bot_runner")] = Capabilities()

        def test_forgotten(aa_emulator):
            assert automation_anywhere._CAPABILITIES == {}

        def test_learns_over_tls(aa_emulator_tls):
            automation_anywhere._CAPABILITIES[(aa_emulator_tls.url, "bot_runner")] = Capabilities()

        def test_forgotten_over_tls(aa_emulator_tls):
            assert automation_anywhere._CAPABILITIES == {}
        """
    )
    pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_users_can_use_the_fixture_in_their_own_tests(pytester):
    pytester.makepyfile(
        """
        import requests

        def test_mine(aa_emulator):
            answer = requests.post(aa_emulator.url + "/v2/authentication", json={
                "username": "bot_runner", "password": "Emulator-Passw0rd!"}, timeout=5)
            assert answer.status_code == 200
        """
    )
    pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_fixture_takes_a_profile_and_strict_mode_from_the_command_line(pytester):
    pytester.makepyfile(
        """
        import requests

        def test_mine(aa_emulator):
            user = {"username": "bot_runner", "password": "Emulator-Passw0rd!"}
            assert requests.post(aa_emulator.url + "/v2/authentication", json=user, timeout=5).status_code == 404
            token = requests.post(aa_emulator.url + "/v1/authentication", json=user, timeout=5).json()["token"]
            answer = requests.post(aa_emulator.url + "/v2/wlm/queues/list", json={"extra": 1},
                                   headers={"X-Authorization": token}, timeout=5)
            assert answer.status_code == 400 and answer.json()["code"] == "BAD_REQUEST"
        """
    )
    options = ["--aa-emulator-profile", "on-prem-11.3", "--aa-emulator-strict"]
    pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", *options).assert_outcomes(passed=1)


def test_the_tls_fixture_is_reset_too(aa_emulator_tls, aa_emulator_tls_server):
    assert aa_emulator_tls is aa_emulator_tls_server and aa_emulator_tls.url.startswith("https://")
    aa_emulator_tls.configure(clock_offset=-61)
    aa_emulator_tls.reset()
    assert aa_emulator_tls.config.clock_offset == 0 and aa_emulator_tls.ca_file is not None
