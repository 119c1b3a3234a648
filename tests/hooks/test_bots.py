"""The hook's bot calls against requests-mock: exact deploy bodies (v4, v3 fallback), runs, outputs."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests

from airflow_provider_aa.control_room.bots import BotRun, from_bot_values
from airflow_provider_aa.control_room.errors import AmbiguousOutcomeError, AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from tests.conftest import BASE_URL, PASSWORD, make_token

V4 = f"{BASE_URL}/v4/automations/deploy"
V3 = f"{BASE_URL}/v3/automations/deploy"
ACTIVITY = f"{BASE_URL}/v3/activity/list"
DEPLOYMENT = "1f0c6b1e-8d2a-4c55-9d6e-0b8f3c2a7e41"


@pytest.fixture(autouse=True)
def connection(use_connection, requests_mock):
    use_connection(login="jdoe", password=PASSWORD)
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})


def paths(requests_mock):
    return [f"{r.method} {r.path}" for r in requests_mock.request_history]


def test_deploy_sends_the_v4_body_with_typed_input(requests_mock):
    requests_mock.post(V4, json={"deploymentId": DEPLOYMENT, "automationName": "Invoice Processor_01"})

    deployment_id = AutomationAnywhereHook().deploy_bot(
        "501",
        [29, 30],
        pool_ids=[4],
        bot_input={
            "sVendor": "Acme",
            "nAmount": 12.5,
            "bUrgent": False,
            "dtDue": datetime(2026, 1, 31, tzinfo=timezone.utc),
        },
    )

    assert deployment_id == DEPLOYMENT
    assert paths(requests_mock) == ["POST /v2/authentication", "POST /v4/automations/deploy"]
    sent = requests_mock.last_request
    assert sent.headers["X-Authorization"] and sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {
        "botId": 501,
        "unattendedRequest": {
            "runAsUserIds": [29, 30],
            "poolIds": [4],
            "numOfRunAsUsersToUse": 2,
            "deviceUsageType": "RUN_ON_POOL_DEVICES",
        },
        "botInput": {
            "sVendor": {"type": "STRING", "string": "Acme"},
            "nAmount": {"type": "NUMBER", "number": "12.5"},
            "bUrgent": {"type": "BOOLEAN", "boolean": "false"},
            "dtDue": {"type": "DATETIME", "string": "2026-01-31T00:00:00+00:00"},
        },
    }


def test_deploy_falls_back_to_v3_where_v4_is_missing(requests_mock):
    requests_mock.post(V4, status_code=404, json={"code": "NOT_FOUND", "message": "No API"})
    requests_mock.post(V3, json={"deploymentId": DEPLOYMENT})

    assert AutomationAnywhereHook().deploy_bot(501, 29, bot_input={"s": "x"}) == DEPLOYMENT

    assert paths(requests_mock)[1:] == ["POST /v4/automations/deploy", "POST /v3/automations/deploy"]
    assert requests_mock.last_request.json() == {
        "fileId": 501,
        "runAsUserIds": [29],
        "botInput": {"s": {"type": "STRING", "string": "x"}},
    }


def test_a_404_from_v3_too_is_the_error(requests_mock):
    requests_mock.post(V4, status_code=404, json={"code": "NOT_FOUND"})
    requests_mock.post(V3, status_code=404, json={"code": "BOT_NOT_FOUND", "message": "No bot with id 999"})
    with pytest.raises(AutomationAnywhereError, match="No bot with id 999") as caught:
        AutomationAnywhereHook().deploy_bot(999, 29)
    assert (caught.value.status, caught.value.path) == (404, "/v3/automations/deploy")


def test_other_refusals_do_not_fall_back(requests_mock):
    requests_mock.post(V4, status_code=403, json={"code": "AUTH_403", "message": "Missing permission: Run my bots"})
    with pytest.raises(AutomationAnywhereError, match="Run my bots"):
        AutomationAnywhereHook().deploy_bot(501, 29)
    assert "POST /v3/automations/deploy" not in paths(requests_mock)


@pytest.mark.parametrize(
    "failure",
    [{"status_code": 503, "text": "busy"}, {"exc": requests.exceptions.ReadTimeout("read timed out")}],
)
def test_a_deploy_without_a_clear_answer_is_never_sent_twice(requests_mock, no_sleep, failure):
    requests_mock.post(V4, [failure])
    with pytest.raises(AmbiguousOutcomeError, match="must not be sent twice"):
        AutomationAnywhereHook().deploy_bot(501, 29)
    assert paths(requests_mock).count("POST /v4/automations/deploy") == 1 and no_sleep == []


def test_a_deploy_that_provably_did_not_arrive_is_retried(requests_mock, no_sleep):
    requests_mock.post(
        V4, [{"status_code": 429, "headers": {"Retry-After": "2"}, "json": {}}, {"json": {"deploymentId": "d-1"}}]
    )
    assert AutomationAnywhereHook().deploy_bot(501, 29) == "d-1"
    assert no_sleep == [2.0]


def test_an_answer_without_deployment_id_is_an_error(requests_mock):
    requests_mock.post(V4, json={"automationName": "x"})
    with pytest.raises(AutomationAnywhereError, match="carries no deploymentId"):
        AutomationAnywhereHook().deploy_bot(501, 29)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bot_id": "501; DROP"}, "bot_id must be a positive integer"),
        ({"run_as_user_ids": []}, "run_as_user_ids is empty"),
        ({"pool_ids": "x"}, r"pool_ids\[0\] must be a positive integer"),
        ({"bot_input": {"when": datetime(2026, 1, 1).date()}}, r"bot_input\['when'\] is a date"),
    ],
)
def test_bad_input_is_refused_before_any_request(requests_mock, kwargs, message):
    arguments = {"bot_id": 501, "run_as_user_ids": [29], **kwargs}
    hook = AutomationAnywhereHook()
    with pytest.raises(InvalidInputError, match=message):
        hook.deploy_bot(arguments.pop("bot_id"), arguments.pop("run_as_user_ids"), **arguments)
    assert requests_mock.call_count == 0


# -- runs ---------------------------------------------------------------------------------------


def record(execution_id, status, **fields):
    return {
        "id": execution_id,
        "deploymentId": DEPLOYMENT,
        "status": status,
        "automationName": "Invoice Processor",
        **fields,
    }


def test_runs_are_read_by_deployment_id(requests_mock):
    requests_mock.post(ACTIVITY, json={"page": {"totalFilter": 1}, "list": [record("e1", "RUNNING")]})

    assert AutomationAnywhereHook().get_bot_runs(f" {DEPLOYMENT} ") == [BotRun("e1", "RUNNING")]

    assert json.loads(requests_mock.last_request.body) == {
        "filter": {"operator": "eq", "field": "deploymentId", "value": DEPLOYMENT},
        "page": {"offset": 0, "length": 100},
    }
    assert "GET" not in " ".join(paths(requests_mock))  # no outputs read while running


def test_late_activity_is_no_run_yet(requests_mock):
    requests_mock.post(ACTIVITY, json={"page": {"totalFilter": 0}, "list": []})
    assert AutomationAnywhereHook().get_bot_runs(DEPLOYMENT) == []


def test_outputs_are_read_once_every_run_completed(requests_mock):
    requests_mock.post(ACTIVITY, json={"list": [record("e1", "COMPLETED"), record(77, "COMPLETED")]})
    values = {"sOut": {"type": "STRING", "string": "done"}, "nCount": {"type": "NUMBER", "number": "2"}}
    requests_mock.get(f"{BASE_URL}/v3/activity/execution/e1", json={"id": "e1", "botOutVariables": {"values": values}})
    requests_mock.get(f"{BASE_URL}/v3/activity/execution/77", json={"id": 77})

    runs = AutomationAnywhereHook().get_bot_runs(DEPLOYMENT)

    assert runs == [BotRun("e1", "COMPLETED", "", values), BotRun("77", "COMPLETED", "", {})]
    assert from_bot_values(runs[0].outputs) == {"sOut": "done", "nCount": 2}
    assert paths(requests_mock)[1:] == [
        "POST /v3/activity/list",
        "GET /v3/activity/execution/e1",
        "GET /v3/activity/execution/77",
    ]


def test_outputs_already_in_the_activity_record_are_not_read_again(requests_mock):
    values = {"s": {"type": "STRING", "string": "x"}}
    requests_mock.post(ACTIVITY, json={"list": [record("e1", "COMPLETED", botOutVariables={"values": values})]})
    assert AutomationAnywhereHook().get_bot_runs(DEPLOYMENT)[0].outputs == values
    assert paths(requests_mock)[1:] == ["POST /v3/activity/list"]


def test_no_outputs_are_read_for_a_failed_deployment(requests_mock):
    requests_mock.post(ACTIVITY, json={"list": [record("e1", "COMPLETED"), record("e2", "RUN_FAILED", message="boom")]})
    runs = AutomationAnywhereHook().get_bot_runs(DEPLOYMENT)
    assert [run.message for run in runs] == ["", "boom"] and requests_mock.call_count == 2


def test_a_bad_deployment_id_is_refused_before_any_request(requests_mock):
    with pytest.raises(InvalidInputError, match="deployment_id"):
        AutomationAnywhereHook().get_bot_runs("../../v1/usermanagement")
    assert requests_mock.call_count == 0
