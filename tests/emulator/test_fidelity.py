"""
The emulator as real Control Rooms behave where they differ from the docs: pools
are used only when the deploy says so, empty pools are refused with 412, DATETIME input in
AA's bracketed form, runs left in PENDING_EXECUTION, add answers in three shapes, and users
without queue rights.
"""

from __future__ import annotations

import pytest

from tests.emulator.conftest import Client

DENVER = {"type": "DATETIME", "string": "2022-04-07T00:15:00-06:00[America/Denver]"}


@pytest.fixture
def bots(clocked_emulator) -> Client:
    clocked_emulator.configure(activity_delay=0.0)
    client = Client(clocked_emulator.url)
    client.login()
    return client


def deploy(client, version=4, users=(29,), **extra):
    if version == 4:
        body = {"botId": 501, "unattendedRequest": {"runAsUserIds": list(users), **extra}}
    else:
        body = {"fileId": 501, "runAsUserIds": list(users), **extra}
    return client.call("POST", f"/v{version}/automations/deploy", json=body)


def devices(client, answer):
    assert answer.status_code == 200, answer.text
    body = {"filter": {"operator": "eq", "field": "deploymentId", "value": answer.json()["deploymentId"]}}
    return [record["deviceId"] for record in client.call("POST", "/v3/activity/list", json=body).json()["list"]]


def test_pools_are_ignored_without_the_flag_that_says_to_use_them(bots):
    assert devices(bots, deploy(bots, users=(29, 30), poolIds=[61])) == ["101", "101"]
    assert devices(bots, deploy(bots, 3, users=(29, 30), poolIds=[61])) == ["101", "101"]
    assert devices(bots, deploy(bots, poolIds=[61], deviceUsageType="RUN_ONLY_ON_DEFAULT_DEVICE")) == ["101"]
    assert devices(bots, deploy(bots, 3, poolIds=[61], overrideDefaultDevice=False)) == ["101"]


def test_with_the_flag_runs_take_the_pools_devices_in_turn(bots):
    on_pools = {"poolIds": [61], "deviceUsageType": "RUN_ON_POOL_DEVICES"}
    assert devices(bots, deploy(bots, users=(29, 30, 31), **on_pools)) == ["111", "112", "111"]
    assert devices(bots, deploy(bots, 3, users=(29, 30), poolIds=[61], overrideDefaultDevice=True)) == ["111", "112"]
    # numOfRunAsUsersToUse: only that many of the listed users run.
    assert devices(bots, deploy(bots, users=(29, 30, 31), numOfRunAsUsersToUse=2, **on_pools)) == ["111", "112"]


@pytest.mark.parametrize("version", [4, 3])
def test_pools_without_devices_are_refused_with_412(bots, version):
    flag = {"deviceUsageType": "RUN_ON_POOL_DEVICES"} if version == 4 else {"overrideDefaultDevice": True}
    refused = deploy(bots, version, poolIds=[62], **flag)
    assert refused.status_code == 412
    assert refused.json()["message"] == "No compatible targets found"
    assert "62" in refused.json()["details"]
    assert bots.call("POST", "/v3/activity/list", json={}).json()["list"] == []  # nothing runs


@pytest.mark.parametrize(
    ("extra", "status", "text"),
    [
        ({"poolIds": [99], "deviceUsageType": "RUN_ON_POOL_DEVICES"}, 404, "No device pool with id 99"),
        ({"deviceUsageType": "ANYWHERE"}, 400, "deviceUsageType must be one of"),
        ({"poolIds": [61], "deviceUsageType": "RUN_ON_POOL_DEVICES", "numOfRunAsUsersToUse": 0}, 400, "numOfRun"),
    ],
)
def test_bad_device_settings_are_refused(bots, extra, status, text):
    refused = deploy(bots, **extra)
    assert refused.status_code == status and text in refused.text


def test_datetime_input_in_aa_bracketed_form_is_accepted_and_a_broken_bracket_is_not(bots):
    body = {"botId": 501, "unattendedRequest": {"runAsUserIds": [29]}}
    assert bots.call("POST", "/v4/automations/deploy", json={**body, "botInput": {"dt": DENVER}}).status_code == 200
    broken = {"dt": {"type": "DATETIME", "string": "2022-04-07T00:15:00-06:00[America/Denver"}}
    assert bots.call("POST", "/v4/automations/deploy", json={**body, "botInput": broken}).status_code == 400


def test_a_run_can_be_left_pending_execution_after_the_bot_finished(bots, clock):
    body = {
        "botId": 501,
        "unattendedRequest": {"runAsUserIds": [29]},
        "botInput": {"sMode": {"type": "STRING", "string": "STATUS:PENDING_EXECUTION"}},
    }
    deployment_id = bots.call("POST", "/v4/automations/deploy", json=body).json()["deploymentId"]
    clock.advance(3600)
    bots.login()  # the first token has expired meanwhile
    listed = {"filter": {"operator": "eq", "field": "deploymentId", "value": deployment_id}}
    (record,) = bots.call("POST", "/v3/activity/list", json=listed).json()["list"]
    assert record["status"] == "PENDING_EXECUTION"


@pytest.mark.parametrize(
    ("shape", "one", "two"),
    [
        ("list", lambda a: a["list"][0], lambda a: a["list"]),
        ("workItems", lambda a: a["workItems"][0], lambda a: a["workItems"]),
        ("item", lambda a: a, lambda a: a["list"]),  # a single object only for a single item
    ],
)
def test_the_add_answer_comes_in_the_configured_shape(clocked_emulator, shape, one, two):
    clocked_emulator.configure(add_answer_shape=shape)
    client = Client(clocked_emulator.url)
    client.login()
    assert one(client.add(20, {"n": 1}).json())["json"] == {"n": 1}
    assert [item["json"] for item in two(client.add(20, {"n": 2}, {"n": 3}).json())] == [{"n": 2}, {"n": 3}]


def test_an_unknown_add_answer_shape_is_refused(clocked_emulator):
    with pytest.raises(ValueError, match="add_answer_shape must be one of list, workItems, item"):
        clocked_emulator.configure(add_answer_shape="items")


def test_a_user_without_queue_rights_may_not_list_queues_but_may_deploy_and_see_activity(clocked_emulator):
    client = Client(clocked_emulator.url)
    assert client.login({"username": "bot_deployer", "password": "Deployer-Passw0rd!"}).status_code == 200
    refused = client.call("POST", "/v3/wlm/queues/list", json={})
    assert refused.status_code == 403 and "no permission for work queues" in refused.json()["message"]
    assert deploy(client).status_code == 200
    assert client.call("POST", "/v3/activity/list", json={}).status_code == 200

    queue_admin = Client(clocked_emulator.url)
    queue_admin.login()
    assert queue_admin.call("POST", "/v3/wlm/queues/list", json={}).status_code == 200
