"""Control Room versions as profiles: which API versions answer, and the command line's --profile."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from automation_anywhere_emulator.__main__ import main
from automation_anywhere_emulator.profiles import DEFAULT_PROFILE, PROFILES
from tests.emulator.conftest import PASSWORD_USER, TIMEOUT, Client
from tests.emulator.test_cli import free_port

ITEM = {"workItems": [{"json": {"invoice_id": "INV-1"}}]}


def started(aa_emulator: ControlRoomEmulator, profile: str, login_version: int) -> Client:
    aa_emulator.configure(**EmulatorConfig.for_profile(profile).to_dict())
    client = Client(aa_emulator.url)
    assert client.login(multipleLogin=True, version=login_version).status_code == 200
    return client


def test_latest_logs_in_on_v2_only_and_marks_the_v3_update_deprecated(aa_emulator):
    client = started(aa_emulator, "automation-360-latest", login_version=2)
    assert client.login(PASSWORD_USER, version=1).status_code == 404
    item = client.call("POST", "/v3/wlm/queues/20/workitems", json=ITEM).json()["list"][0]
    update = {"version": item["version"], "json": item["json"], "result": "", "status": "ON_HOLD"}

    v3 = client.call("PUT", f"/v3/wlm/queues/20/workitems/{item['id']}", json=update)
    assert v3.status_code == 200 and v3.headers["Deprecation"] == "true"
    v4 = client.call(
        "PUT", f"/v4/wlm/queues/20/workitems/{item['id']}", json={**update, "version": v3.json()["version"]}
    )
    assert v4.status_code == 200 and "Deprecation" not in v4.headers
    assert client.call(
        "POST", "/v4/automations/deploy", json={"botId": 501, "unattendedRequest": {"runAsUserIds": [29]}}
    ).ok


def test_v30_has_no_v4_work_item_update_nor_v4_deploy(aa_emulator):
    client = started(aa_emulator, "automation-360-v30", login_version=1)
    item = client.call("POST", "/v3/wlm/queues/20/workitems", json=ITEM).json()["list"][0]
    update = {"version": item["version"], "json": item["json"], "result": "", "status": "ON_HOLD"}

    assert client.call("PUT", f"/v4/wlm/queues/20/workitems/{item['id']}", json=update).status_code == 404
    v3 = client.call("PUT", f"/v3/wlm/queues/20/workitems/{item['id']}", json=update)
    assert v3.status_code == 200 and "Deprecation" not in v3.headers
    v4_deploy = client.call(
        "POST", "/v4/automations/deploy", json={"botId": 501, "unattendedRequest": {"runAsUserIds": [29]}}
    )
    assert v4_deploy.status_code == 404
    assert client.call("POST", "/v3/automations/deploy", json={"fileId": 501, "runAsUserIds": [29]}).ok


def test_on_prem_11_3_serves_v1_login_v2_wlm_and_v1_roles_only(aa_emulator):
    client = started(aa_emulator, "on-prem-11.3", login_version=1)
    assert client.login(PASSWORD_USER, version=2).status_code == 404
    client.login(multipleLogin=True, version=1)

    added = client.call("POST", "/v2/wlm/queues/20/workitems", json=ITEM)
    assert added.status_code == 200
    listed = client.call("POST", "/v2/wlm/queues/20/workitems/list", json={}).json()["list"]
    assert [item["id"] for item in listed] == [added.json()["list"][0]["id"]]
    missing = client.call("POST", "/v3/wlm/queues/20/workitems", json=ITEM)
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "NOT_FOUND",
        "message": "No API at /v3/wlm/queues/20/workitems",
        "details": "The v3 work queue API (Automation 360) is not available on this Control Room",
    }
    for method, path in [
        ("GET", "/v4/wlm/queues/20"),
        ("POST", "/v3/automations/deploy"),
        ("POST", "/v4/automations/deploy"),
        ("POST", "/v3/activity/list"),
        ("POST", "/v2/usermanagement/roles/list"),
    ]:
        assert client.call(method, path, json={}).status_code == 404, path
    admin = Client(aa_emulator.url)
    admin.login({"username": "cr_admin", "password": "Admin-Passw0rd!"}, version=1)
    assert admin.call("POST", "/v1/usermanagement/roles/list", json={}).status_code == 200


def test_a_profile_keeps_other_settings_and_takes_changes():
    config = EmulatorConfig.for_profile("on-prem-11.3", strict=True, auth_v1_enabled=False, pickup_delay=0)
    assert config.strict and not config.auth_v1_enabled and not config.auth_v2_enabled
    assert config.pickup_delay == 0 and config.token_lifetime == EmulatorConfig().token_lifetime
    with pytest.raises(ValueError, match="unknown emulator profile 'on-prem-9'; profiles: automation-360-latest"):
        EmulatorConfig.for_profile("on-prem-9")


def test_list_profiles_prints_each_name_description_and_sources(capsys):
    assert main(["--list-profiles"]) == 0
    printed = capsys.readouterr().out
    for name, profile in PROFILES.items():
        assert f"{name}{' (default)' if name == DEFAULT_PROFILE else ''}: {profile.description}\n" in printed
        assert all(f"    source: {source}\n" in printed for source in profile.sources)
    assert set(PROFILES) >= {"automation-360-latest", "automation-360-v30", "on-prem-11.3"}


def test_the_command_line_serves_a_profile_strict_and_says_so():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "automation_anywhere_emulator", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--profile", "on-prem-11.3", "--strict", "--no-auth-v1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert url in process.stdout.readline()
        printed = [process.stdout.readline() for _ in range(5)]
        assert printed[-1] == "# profile on-prem-11.3, strict (--list-profiles)\n"
        config = requests.get(f"{url}/_emulator/config", timeout=TIMEOUT).json()
        assert config["strict"] and config["wlm_v2_enabled"] and not config["wlm_v3_enabled"]
        assert not config["auth_v1_enabled"] and not config["auth_v2_enabled"]  # --no-auth-v1 on top of the profile
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert process.stderr.read() == ""
