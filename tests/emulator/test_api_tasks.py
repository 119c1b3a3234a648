"""
The emulated API tasks: the headless deploy body checked strictly, runs without devices, one
activity record per execution with outputs, and the tenant's API task slots (refused, or
QUEUED with queueOnSlotsExhaustion).
"""

from __future__ import annotations

import pytest

from tests.emulator.conftest import Client
from tests.emulator.test_deployments import activities, deploy_v4

API_TASK = 701
DEPLOY = "/v4/automations/deploy"


@pytest.fixture
def cloud(clocked_emulator) -> Client:
    """A client of the clocked emulator: runs start after 1 s, listed after 1.5 s, done after 2 s; 2 slots."""
    clocked_emulator.configure(activity_delay=1.5, api_task_slots=2)
    client = Client(clocked_emulator.url)
    client.login()
    return client


def headless(client, executions=1, queue=False, bot_id=API_TASK, **extra):
    body = {
        "botId": bot_id,
        "automationName": "Airflow api 1",
        "executionType": "RUN_NOW",
        "headlessRequest": {"numberOfExecutions": executions, "queueOnSlotsExhaustion": queue},
        "botInput": {"sCity": {"type": "STRING", "string": "Berlin"}},
        **extra,
    }
    return client.call("POST", DEPLOY, json=body)


def statuses(client, deployment_id):
    return sorted(record["status"] for record in activities(client, deployment_id))


def test_an_api_task_runs_each_execution_without_a_device_and_has_outputs(cloud, clock):
    answer = headless(cloud, executions=2)
    assert answer.status_code == 200, answer.text
    deployment_id = answer.json()["deploymentId"]
    clock.advance(1.5)
    records = activities(cloud, deployment_id)
    assert [(record["status"], record["deviceId"], record["automationName"]) for record in records] == [
        ("RUNNING", "", "Airflow api 1")
    ] * 2
    clock.advance(0.5)
    assert statuses(cloud, deployment_id) == ["COMPLETED", "COMPLETED"]
    outputs = cloud.call("GET", f"/v3/activity/execution/{records[0]['id']}").json()["botOutVariables"]["values"]
    assert outputs["sCategory"] == {"type": "STRING", "string": "Utilities"}
    assert outputs["sCity"] == {"type": "STRING", "string": "Berlin"}  # inputs come back


def test_the_shared_run_as_user_is_the_runs_user(cloud, clock):
    body_extra = {"numberOfExecutions": 1, "sharedRunAsUserId": 29}
    answer = cloud.call(
        "POST", DEPLOY, json={"botId": API_TASK, "executionType": "RUN_NOW", "headlessRequest": body_extra}
    )
    clock.advance(1.5)
    (record,) = activities(cloud, answer.json()["deploymentId"])
    assert record["userId"] == "29"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"executionType": None}, "executionType must be RUN_NOW"),
        ({"executionType": "SCHEDULED"}, "executionType must be RUN_NOW"),
        ({"headlessRequest": {"numberOfExecutions": 0}}, "numberOfExecutions must be a whole number"),
        ({"headlessRequest": {"numberOfExecutions": "1"}}, "numberOfExecutions must be a whole number"),
        ({"headlessRequest": {"queueOnSlotsExhaustion": True}}, "numberOfExecutions must be a whole number"),
        ({"headlessRequest": {"numberOfExecutions": 1, "queueOnSlotsExhaustion": "no"}}, "queueOnSlotsExhaustion"),
        ({"headlessRequest": {"numberOfExecutions": 1, "runAsUserIds": [29]}}, "unknown field(s): runAsUserIds"),
        ({"headlessRequest": {"numberOfExecutions": 1, "sharedRunAsUserId": 4242}}, "4242 is not a run-as user"),
        ({"headlessRequest": []}, "headlessRequest must be an object"),
        ({"unattendedRequest": {"runAsUserIds": [29]}}, "not both"),
        ({"botId": 501}, "File 501 is a task bot"),
    ],
)
def test_a_bad_headless_body_is_refused_naming_the_field(cloud, change, message):
    body = {"botId": API_TASK, "executionType": "RUN_NOW", "headlessRequest": {"numberOfExecutions": 1}, **change}
    body = {key: value for key, value in body.items() if value is not None}
    answer = cloud.call("POST", DEPLOY, json=body)
    assert answer.status_code == 400 and message in answer.json()["message"], answer.text


def test_an_api_task_is_not_deployed_as_a_task_bot(cloud):
    v4 = deploy_v4(cloud, bot_id=API_TASK)
    v3 = cloud.call("POST", "/v3/automations/deploy", json={"fileId": API_TASK, "runAsUserIds": [29]})
    for answer in (v4, v3):
        assert answer.status_code == 400 and "is an API task" in answer.json()["message"]


def test_exhausted_slots_refuse_a_deploy_that_does_not_queue_and_start_nothing(cloud, clock):
    first = headless(cloud, executions=2).json()["deploymentId"]
    refused = headless(cloud)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "API_TASK_SLOTS_EXHAUSTED"
    clock.advance(1.5)
    assert statuses(cloud, first) == ["RUNNING", "RUNNING"]
    all_records = cloud.call("POST", "/v3/activity/list", json={}).json()["list"]
    assert len(all_records) == 2  # the refused deploy started nothing
    clock.advance(0.5)
    assert headless(cloud).status_code == 200  # the slots are free again


def test_more_executions_than_slots_in_one_deploy_are_refused_too(cloud):
    assert headless(cloud, executions=3).status_code == 409


def test_queued_runs_wait_for_a_slot_first_come_first_served(cloud, clock):
    running = headless(cloud, executions=1).json()["deploymentId"]
    queued = headless(cloud, executions=3, queue=True)
    assert queued.status_code == 200, queued.text
    queued_id = queued.json()["deploymentId"]
    clock.advance(1.5)
    assert statuses(cloud, running) == ["RUNNING"]
    assert statuses(cloud, queued_id) == ["QUEUED", "QUEUED", "RUNNING"]  # one free slot, two wait
    clock.advance(0.5)  # t=2: the first runs end, two queued take the slots
    assert statuses(cloud, queued_id) == ["COMPLETED", "DEPLOYED", "DEPLOYED"]
    clock.advance(2.0)
    assert statuses(cloud, queued_id) == ["COMPLETED", "COMPLETED", "COMPLETED"]


def test_a_queued_run_that_is_stopped_ends_aborted_and_frees_its_place(cloud, clock):
    headless(cloud, executions=2)
    queued_id = headless(cloud, queue=True).json()["deploymentId"]
    clock.advance(1.5)
    (record,) = activities(cloud, queued_id)
    assert record["status"] == "QUEUED"
    stop = cloud.call("POST", "/v3/activity/manage", json={"stop_executions": {"execution_ids": [record["id"]]}})
    assert stop.status_code == 200 and stop.json()["manage_action_errors"] == []
    assert statuses(cloud, queued_id) == ["RUN_ABORTED"]


def test_without_slots_nothing_runs_even_queued(cloud, clocked_emulator):
    clocked_emulator.configure(api_task_slots=0)
    assert headless(cloud, queue=True).status_code == 409


def test_a_strict_emulator_takes_the_headless_body_as_pixiebrix_sends_it(cloud, clocked_emulator):
    clocked_emulator.configure(strict=True)
    shared = {"numberOfExecutions": 1, "queueOnSlotsExhaustion": False, "sharedRunAsUserId": 29}
    assert headless(cloud).status_code == 200
    body = {"botId": API_TASK, "automationName": "a", "executionType": "RUN_NOW", "headlessRequest": shared}
    assert cloud.call("POST", DEPLOY, json=body).status_code == 200
    odd = {**body, "headlessRequest": {**shared, "priority": 1}}
    assert cloud.call("POST", DEPLOY, json=odd).status_code == 400
