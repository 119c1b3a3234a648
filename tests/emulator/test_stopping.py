"""The emulated /v3/activity/manage: stopped runs end RUN_ABORTED; refusals are listed, not 4xx."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import Client
from tests.emulator.test_deployments import activities, deploy_v4

MANAGE = "/v3/activity/manage"


@pytest.fixture
def bots(clocked_emulator) -> Client:
    """Runs listed after 0.5 s, running after 1 s, done after 2 s (see the emulator's defaults)."""
    clocked_emulator.configure(activity_delay=0.5)
    client = Client(clocked_emulator.url)
    client.login()
    return client


def stop(client, *execution_ids):
    return client.call("POST", MANAGE, json={"stop_executions": {"execution_ids": list(execution_ids)}})


def test_a_running_run_stopped_ends_run_aborted_with_its_end_time_and_stays_so(bots, clock):
    deployment_id = deploy_v4(bots, users=(29, 30)).json()["deploymentId"]
    clock.advance(1.25)
    first, _ = activities(bots, deployment_id)
    assert first["status"] == "RUNNING" and first["endDateTime"] == ""

    answer = stop(bots, first["id"])
    assert (answer.status_code, answer.json()) == (200, {"manage_action_errors": []})

    stopped, untouched = activities(bots, deployment_id)
    assert (stopped["status"], stopped["progress"]) == ("RUN_ABORTED", 100)
    assert stopped["message"] == "Stopped by a user of the Control Room"
    assert stopped["endDateTime"] and stopped["endDateTime"] == stopped["modifiedOn"]
    assert untouched["status"] == "RUNNING"
    clock.advance(10)  # the run's planned end passes: it stays aborted
    stopped, untouched = activities(bots, deployment_id)
    assert (stopped["status"], untouched["status"]) == ("RUN_ABORTED", "COMPLETED")
    execution = bots.call("GET", f"/v3/activity/execution/{stopped['id']}").json()
    assert (execution["status"], execution["botOutVariables"]) == ("RUN_ABORTED", {"values": {}})


def test_a_run_stopped_before_a_device_picked_it_up_never_started(bots, clock):
    deployment_id = deploy_v4(bots).json()["deploymentId"]
    clock.advance(0.5)
    (record,) = activities(bots, deployment_id)
    assert record["status"] == "DEPLOYED"
    assert stop(bots, record["id"]).json() == {"manage_action_errors": []}
    clock.advance(5)
    (record,) = activities(bots, deployment_id)
    assert (record["status"], record["startDateTime"]) == ("RUN_ABORTED", "")
    assert record["endDateTime"]


def test_unknown_and_finished_executions_are_listed_as_errors_and_the_rest_stopped(bots, clock):
    done_id = deploy_v4(bots).json()["deploymentId"]
    clock.advance(3)
    (done,) = activities(bots, done_id)
    running_id = deploy_v4(bots).json()["deploymentId"]
    clock.advance(1.25)
    (running,) = activities(bots, running_id)

    answer = stop(bots, "no-such-run", done["id"], running["id"])

    assert answer.status_code == 200
    assert answer.json()["manage_action_errors"] == [
        {
            "execution_id": "no-such-run",
            "error_response": {"code": "ACTIVITY_NOT_FOUND", "message": "No activity with id no-such-run"},
        },
        {
            "execution_id": done["id"],
            "error_response": {
                "code": "EXECUTION_ALREADY_FINISHED",
                "message": f"Execution {done['id']} has already finished (COMPLETED)",
            },
        },
    ]
    assert activities(bots, done_id)[0]["status"] == "COMPLETED"
    assert activities(bots, running_id)[0]["status"] == "RUN_ABORTED"


@pytest.mark.parametrize(
    "body",
    [None, {}, {"stop_executions": {}}, {"stop_executions": {"execution_ids": []}}, {"stop_executions": [1]}],
    ids=["empty", "no-action", "no-ids", "empty-ids", "not-an-object"],
)
def test_a_body_without_execution_ids_is_a_400(bots, body):
    answer = bots.call("POST", MANAGE, json=body)
    assert answer.status_code == 400
    assert "stop_executions.execution_ids" in answer.json()["message"]


def test_stopping_needs_a_token(bots):
    bots.token = None
    assert stop(bots, "any").status_code == 401


def test_stop_takes_deployment_ids_refuses_activity_ids_and_stops_a_deployments_runs(bots, clock, clocked_emulator):
    # As one production client (leoporfi/sam) sends it; which id a Control Room takes is unconfirmed.
    clocked_emulator.configure(stop_takes_deployment_ids=True)
    deployment_id = deploy_v4(bots, users=(29, 30)).json()["deploymentId"]
    clock.advance(1.25)
    first, _ = activities(bots, deployment_id)

    refused = stop(bots, first["id"])
    assert refused.status_code == 200
    assert refused.json()["manage_action_errors"] == [
        {
            "execution_id": first["id"],
            "error_response": {"code": "DEPLOYMENT_NOT_FOUND", "message": f"No deployment with id {first['id']}"},
        }
    ]
    assert [record["status"] for record in activities(bots, deployment_id)] == ["RUNNING", "RUNNING"]

    assert stop(bots, deployment_id).json() == {"manage_action_errors": []}
    assert [record["status"] for record in activities(bots, deployment_id)] == ["RUN_ABORTED", "RUN_ABORTED"]
    finished = stop(bots, deployment_id).json()["manage_action_errors"]
    assert [entry["error_response"]["code"] for entry in finished] == ["EXECUTION_ALREADY_FINISHED"]
