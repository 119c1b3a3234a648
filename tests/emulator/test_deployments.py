"""The emulated bots: deploy v4/v3, typed input checks, the run timeline, late activity, outputs."""

from __future__ import annotations

import pytest

from automation_anywhere_emulator.deployments import Bot, run_outcome
from tests.emulator.conftest import Client

TYPED = {
    "sName": {"type": "STRING", "string": "Jane"},
    "nAge": {"type": "NUMBER", "number": "41"},
    "bVip": {"type": "BOOLEAN", "boolean": "true"},
    "lTags": {"type": "LIST", "list": [{"type": "STRING", "string": "a"}]},
    "dAddress": {"type": "DICTIONARY", "dictionary": [{"key": "zip", "value": {"type": "STRING", "string": "10115"}}]},
    "dtDue": {"type": "DATETIME", "string": "2026-01-31T17:00:00+00:00"},
}


@pytest.fixture
def bots(clocked_emulator) -> Client:
    """A client of the clocked emulator: runs running after 1 s, listed after 1.5 s, done after 2 s."""
    clocked_emulator.configure(activity_delay=1.5)
    client = Client(clocked_emulator.url)
    client.login()
    return client


def deploy_v4(client, bot_id=501, users=(29,), bot_input=None, **extra):
    body = {"botId": bot_id, "unattendedRequest": {"runAsUserIds": list(users), **extra}}
    if bot_input is not None:
        body["botInput"] = bot_input
    return client.call("POST", "/v4/automations/deploy", json=body)


def activities(client, deployment_id):
    body = {"filter": {"operator": "eq", "field": "deploymentId", "value": deployment_id}}
    return client.call("POST", "/v3/activity/list", json=body).json()["list"]


def test_the_activity_records_show_the_deploys_automation_name(bots, clock):
    body = {"botId": 501, "automationName": "Airflow deploy 7c1e", "unattendedRequest": {"runAsUserIds": [29, 30]}}
    named = bots.call("POST", "/v4/automations/deploy", json=body).json()
    unnamed = deploy_v4(bots).json()
    clock.advance(1.5)

    assert named["automationName"] == "Airflow deploy 7c1e"
    assert [record["automationName"] for record in activities(bots, named["deploymentId"])] == [
        "Airflow deploy 7c1e"
    ] * 2
    assert [record["automationName"] for record in activities(bots, unnamed["deploymentId"])] == ["Invoice Processor"]


def test_activity_records_without_deployment_ids_are_still_filtered_on_them(bots, clock, clocked_emulator):
    clocked_emulator.configure(activity_deployment_ids=False)
    ours = deploy_v4(bots).json()["deploymentId"]
    deploy_v4(bots)
    clock.advance(1.5)

    (record,) = activities(bots, ours)
    assert "deploymentId" not in record and record["status"] == "RUNNING"


def test_a_run_goes_deployed_running_completed_and_is_listed_late(bots, clock):
    answer = deploy_v4(bots, bot_input=TYPED)
    assert answer.status_code == 200 and answer.json()["automationName"] == "Invoice Processor"
    deployment_id = answer.json()["deploymentId"]

    assert activities(bots, deployment_id) == []  # the record is written late
    clock.advance(1.49)
    assert activities(bots, deployment_id) == []
    clock.advance(0.01)
    (record,) = activities(bots, deployment_id)
    assert (record["status"], record["deploymentId"], record["fileId"], record["userId"]) == (
        "RUNNING",
        deployment_id,
        "501",
        "29",
    )
    assert "botOutVariables" not in record
    clock.advance(0.5)
    (record,) = activities(bots, deployment_id)
    assert (record["status"], record["message"], record["progress"]) == ("COMPLETED", "", 100)

    execution = bots.call("GET", f"/v3/activity/execution/{record['id']}").json()
    assert execution["status"] == "COMPLETED"
    assert execution["botOutVariables"]["values"] == {
        "sResult": {"type": "STRING", "string": "Processed by emulated bot"},
        "nPagesRead": {"type": "NUMBER", "number": "3"},
        "bApproved": {"type": "BOOLEAN", "boolean": "true"},
        **TYPED,  # the inputs echoed back
    }


def test_deployed_before_running(clocked_emulator, clock):
    clocked_emulator.configure(activity_delay=0.0)
    client = Client(clocked_emulator.url)
    client.login()
    deployment_id = deploy_v4(client).json()["deploymentId"]
    assert [record["status"] for record in activities(client, deployment_id)] == ["DEPLOYED"]
    assert clocked_emulator.bot_runs()[0]["status"] == "DEPLOYED"


def test_one_run_per_run_as_user_and_only_this_deployments_runs(bots, clock):
    first = deploy_v4(bots, users=(29, 30), poolIds=[3]).json()["deploymentId"]
    deploy_v4(bots)
    clock.advance(5)
    assert [record["userId"] for record in activities(bots, first)] == ["29", "30"]
    assert len(bots.call("POST", "/v3/activity/list", json={}).json()["list"]) == 3


def test_v3_deploy_and_the_v4_switch(bots, clocked_emulator):
    clocked_emulator.configure(deploy_v4_enabled=False)
    missing = deploy_v4(bots)
    assert missing.status_code == 404 and "v4 deploy API is not available" in missing.json()["details"]
    answer = bots.call(
        "POST", "/v3/automations/deploy", json={"fileId": "501", "runAsUserIds": ["29"], "botInput": TYPED}
    )
    assert answer.status_code == 200 and answer.json()["deploymentId"]


@pytest.mark.parametrize(
    ("bot_input", "status", "message"),
    [
        ({"sMode": {"type": "STRING", "string": "STATUS:RUN_PAUSED"}}, "RUN_PAUSED", ""),
        ({"sMode": {"type": "STRING", "string": "STATUS:UNKNOWN"}}, "UNKNOWN", ""),
        (
            {"sMode": {"type": "STRING", "string": "STATUS:RUN_ABORTED"}},
            "RUN_ABORTED",
            "Emulated bot set status RUN_ABORTED: sMode is STATUS:RUN_ABORTED",
        ),
        (
            {"sVendor": {"type": "STRING", "string": "ACME FAIL"}},
            "RUN_FAILED",
            "Emulated bot failure: sVendor contains FAIL",
        ),
    ],
)
def test_outcome_rules(bots, clock, bot_input, status, message):
    deployment_id = deploy_v4(bots, bot_input=bot_input).json()["deploymentId"]
    clock.advance(5)
    (record,) = activities(bots, deployment_id)
    assert (record["status"], record["message"]) == (status, message)
    execution = bots.call("GET", f"/v3/activity/execution/{record['id']}").json()
    assert execution["botOutVariables"] == {"values": {}}


def test_a_seeded_failing_bot():
    bot = Bot.from_seed({"id": 9, "name": "B", "outcome": "RUN_FAILED", "message": "broken"})
    assert run_outcome(bot, {}).status == "RUN_FAILED" and run_outcome(bot, {}).message == "broken"
    assert run_outcome(bot, {"s": {"type": "STRING", "string": "STATUS:COMPLETED"}}).status == "COMPLETED"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"botId": 999, "unattendedRequest": {"runAsUserIds": [29]}}, 404, "No bot with id 999"),
        ({"botId": 501}, 400, "unattendedRequest must be an object"),
        ({"botId": 501, "unattendedRequest": {"runAsUserIds": []}}, 400, "runAsUserIds must be a non-empty list"),
        ({"botId": "x", "unattendedRequest": {"runAsUserIds": [29]}}, 400, "botId must be a positive id"),
        ({"botId": 501, "unattendedRequest": {"runAsUserIds": [29], "poolIds": ["p"]}}, 400, r"poolIds\[0\]"),
        (
            {"botId": 501, "unattendedRequest": {"runAsUserIds": [29]}, "botInput": {"a": "plain"}},
            400,
            "botInput.a must be a typed variable",
        ),
        (
            {
                "botId": 501,
                "unattendedRequest": {"runAsUserIds": [29]},
                "botInput": {"a": {"type": "NUMBER", "number": "ten"}},
            },
            400,
            "'ten' is not a number",
        ),
        (
            {
                "botId": 501,
                "unattendedRequest": {"runAsUserIds": [29]},
                "botInput": {"a": {"type": "BOOLEAN", "boolean": "yes"}},
            },
            400,
            "not true or false",
        ),
        (
            {
                "botId": 501,
                "unattendedRequest": {"runAsUserIds": [29]},
                "botInput": {"a": {"type": "DATETIME", "string": "soon"}},
            },
            400,
            "not an ISO 8601",
        ),
        (
            {
                "botId": 501,
                "unattendedRequest": {"runAsUserIds": [29]},
                "botInput": {"a": {"type": "LIST", "list": [1]}},
            },
            400,
            r"botInput.a\[0\] must be a typed",
        ),
        (
            {
                "botId": 501,
                "unattendedRequest": {"runAsUserIds": [29]},
                "botInput": {"a": {"type": "DICTIONARY", "dictionary": {"k": 1}}},
            },
            400,
            "list of {key, value}",
        ),
        (
            {"botId": 501, "unattendedRequest": {"runAsUserIds": [29]}, "botInput": {"a": {"type": "STRING"}}},
            400,
            "needs the key 'string'",
        ),
    ],
)
def test_bad_deploys_are_refused(bots, body, status, message):
    answer = bots.call("POST", "/v4/automations/deploy", json=body)
    assert answer.status_code == status
    assert message.replace("\\", "") in answer.json()["message"]


def test_an_unknown_or_unlisted_execution_is_404(bots, clocked_emulator, clock):
    assert bots.call("GET", "/v3/activity/execution/nope").status_code == 404
    deploy_v4(bots)
    (run,) = clocked_emulator.bot_runs()
    assert bots.call("GET", f"/v3/activity/execution/{run['id']}").status_code == 404  # not listed yet
    clock.advance(1.5)
    assert bots.call("GET", f"/v3/activity/execution/{run['id']}").status_code == 200


def test_deploy_needs_a_session(clocked_emulator):
    assert Client(clocked_emulator.url).call("POST", "/v4/automations/deploy", json={}).status_code == 401
