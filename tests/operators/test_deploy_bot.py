"""The deploy operator: validation before requests, the XCom, waiting, and never deploying twice."""

from __future__ import annotations

import re

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator
from tests.conftest import BASE_URL, PASSWORD, make_token
from tests.sensors.test_bot_run_sensor import StateStore

V4 = f"{BASE_URL}/v4/automations/deploy"
ACTIVITY = f"{BASE_URL}/v3/activity/list"
DEPLOYMENT = "1f0c6b1e-8d2a-4c55-9d6e-0b8f3c2a7e41"


@pytest.fixture(autouse=True)
def connection(use_connection, requests_mock):
    use_connection(login="jdoe", password=PASSWORD)
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{BASE_URL}/v1/authentication/logout", status_code=204)
    requests_mock.post(V4, json={"deploymentId": DEPLOYMENT})


def operator(**kwargs):
    kwargs.setdefault("bot_id", 501)
    kwargs.setdefault("run_as_user_ids", [29])
    return AutomationAnywhereDeployBotOperator(task_id="deploy", **kwargs)


def activity(requests_mock, *answers):
    requests_mock.post(
        ACTIVITY,
        [
            {
                "json": {
                    "list": [{"id": "e1", "deploymentId": DEPLOYMENT, "status": s, "message": m} for s, m in statuses]
                }
            }
            for statuses in answers
        ],
    )


class TaskInstance:
    def __init__(self):
        self.xcoms = {}

    def xcom_push(self, key, value):
        self.xcoms[key] = value


def deploys(requests_mock):
    return sum(r.path == "/v4/automations/deploy" for r in requests_mock.request_history)


def test_returns_the_deployment_id_and_sends_typed_input(requests_mock):
    assert (
        operator(bot_id="501", run_as_user_ids="29", bot_input={"sName": "Jane", "nAge": 41}).execute({}) == DEPLOYMENT
    )
    body = requests_mock.request_history[1].json()
    assert re.fullmatch("Airflow deploy [0-9a-f]{32}", body.pop("automationName"))  # tells our run from others'
    assert body == {
        "botId": 501,
        "unattendedRequest": {"runAsUserIds": [29]},
        "botInput": {"sName": {"type": "STRING", "string": "Jane"}, "nAge": {"type": "NUMBER", "number": "41"}},
    }
    assert [r.path for r in requests_mock.request_history] == [
        "/v2/authentication",
        "/v4/automations/deploy",
        "/v1/authentication/logout",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bot_id": "my bot"}, "bot_id must be a positive integer"),
        ({"run_as_user_ids": {"a": 1}}, "run_as_user_ids must be an id or a list of ids"),
        ({"bot_input": {"x": {"y": None}}}, r"bot_input\['x'\]\['y'\] is a NoneType"),
    ],
)
def test_bad_input_fails_before_any_request(requests_mock, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        operator(**kwargs).execute({})
    assert requests_mock.call_count == 0


def test_bad_wait_settings_fail_at_parse_time():
    with pytest.raises(InvalidInputError, match="activity_grace_period"):
        operator(activity_grace_period=-1)


def bot_activity(requests_mock, *records):
    """The bot's activity (newest first), for the look-up of a deploy whose answer was lost."""
    requests_mock.post(ACTIVITY, json={"page": {"offset": 0, "totalFilter": len(records)}, "list": list(records)})


def record(deployment_id, user_id="29", created_on="2099-01-01T00:00:00Z", name="Invoice Processor"):
    return {
        "id": f"e-{deployment_id}-{user_id}",
        "deploymentId": deployment_id,
        "automationName": name,
        "userId": user_id,
        "createdOn": created_on,
    }


def sent_name(requests_mock):
    (body,) = [r.json() for r in requests_mock.request_history if r.path == "/v4/automations/deploy"]
    return body["automationName"]


def test_a_lost_deploy_answer_is_looked_up_in_the_activity_not_sent_again(requests_mock, no_sleep):
    requests_mock.post(V4, status_code=504, text="gateway timeout")
    requests_mock.post(
        ACTIVITY,
        json=lambda request, context: {
            "list": [
                record(DEPLOYMENT, name=sent_name(requests_mock)),
                record("another-tasks", name="Airflow deploy 0123abcd"),  # the same bot and user
            ]
        },
    )
    store = StateStore()

    assert operator().execute({"task_state_store": store}) == DEPLOYMENT
    assert deploys(requests_mock) == 1
    assert re.fullmatch("Airflow deploy [0-9a-f]{32}", sent_name(requests_mock))
    sent = [r.json() for r in requests_mock.request_history if r.path == "/v3/activity/list"]
    assert sent[0]["filter"] == {"operator": "eq", "field": "fileId", "value": "501"}


def test_a_lost_deploy_answer_without_a_run_fails_without_deploying_again(requests_mock, no_sleep):
    requests_mock.post(V4, status_code=504, text="gateway timeout")
    bot_activity(requests_mock, record("older-run", created_on="2001-01-01T00:00:00Z"))
    store = StateStore()
    with pytest.raises(AutomationAnywhereError, match=r"shows no run of it .* not deploying again") as unclear:
        operator().execute({"task_state_store": store})
    assert not isinstance(unclear.value, AirflowFailException)  # a retry looks again...
    saved = store.values["automation_anywhere_bot_deployment"]
    assert saved["deployment_id"] is None and saved["automation_name"] == sent_name(requests_mock)  # ...by name
    with pytest.raises(AutomationAnywhereError, match="An earlier try of this task sent"):
        operator().execute({"task_state_store": store})
    assert deploys(requests_mock) == 1


def test_another_tasks_deployment_of_the_same_bot_and_user_is_not_taken(requests_mock, no_sleep):
    """Another task deployed bot 501 for user 29 a second earlier: its run is no proof of ours."""
    requests_mock.post(V4, status_code=504, text="gateway timeout")
    bot_activity(requests_mock, record("another-tasks"))
    store = StateStore()
    with pytest.raises(AutomationAnywhereError, match=r"as deployment\(s\) another-tasks since") as unclear:
        operator().execute({"task_state_store": store})
    assert "Not taking another deployment's run, nor deploying again" in str(unclear.value)
    assert not isinstance(unclear.value, AirflowFailException)  # ours may be listed later: a retry looks again
    assert store.values["automation_anywhere_bot_deployment"]["deployment_id"] is None
    assert deploys(requests_mock) == 1


def test_a_retry_after_the_worker_died_between_send_and_save_takes_the_run(requests_mock, no_sleep):
    """The earlier try saved its marker, sent the deploy and died before the answer was saved."""
    from airflow_provider_aa.control_room.bots import BotDeployment

    store = StateStore()

    marker = BotDeployment.validate(501, [29]).fingerprint()
    store.set(
        "automation_anywhere_bot_deployment",
        {"fingerprint": marker, "sent_at": 1.0, "automation_name": "Airflow deploy 42", "deployment_id": None},
    )
    bot_activity(requests_mock, record("another-tasks"), record(DEPLOYMENT, name="Airflow deploy 42"))

    assert operator().execute({"task_state_store": store}) == DEPLOYMENT
    assert deploys(requests_mock) == 0


def test_waits_for_completion_returns_the_id_and_pushes_status_and_outputs(requests_mock):
    activity(requests_mock, [], [("RUNNING", "")], [("COMPLETED", "")])
    requests_mock.get(
        f"{BASE_URL}/v3/activity/execution/e1",
        json={"botOutVariables": {"values": {"lItems": {"type": "LIST", "list": [{"type": "STRING", "string": "a"}]}}}},
    )
    ti = TaskInstance()

    # One shape whether or not the task waits: the id; the finished run under its own key.
    assert operator(wait_for_completion=True, deferrable=False, poke_interval=0.01).execute({"ti": ti}) == DEPLOYMENT

    result = ti.xcoms["bot_run"]
    assert result["deployment_id"] == DEPLOYMENT and result["status"] == "COMPLETED"
    assert result["outputs"] == {"lItems": ["a"]}


def test_a_failed_run_fails_the_task_with_its_message(requests_mock):
    activity(requests_mock, [("RUN_FAILED", "Bot error on line 12: element not found")])
    with pytest.raises(AirflowFailException, match="run e1: status RUN_FAILED: Bot error on line 12"):
        operator(wait_for_completion=True, deferrable=False, poke_interval=0.01).execute({})


def test_a_retry_after_a_failed_wait_waits_for_the_same_run(requests_mock, no_sleep):
    store = StateStore()
    requests_mock.post(ACTIVITY, status_code=503, text="busy")
    with pytest.raises(AutomationAnywhereError, match="failed 5 time"):
        operator(wait_for_completion=True, deferrable=False).execute({"task_state_store": store})
    assert (
        deploys(requests_mock) == 1
        and store.values["automation_anywhere_bot_deployment"]["deployment_id"] == DEPLOYMENT
    )

    activity(requests_mock, [("COMPLETED", "")])
    requests_mock.get(f"{BASE_URL}/v3/activity/execution/e1", json={})
    ti = TaskInstance()
    result = operator(wait_for_completion=True, deferrable=False).execute({"task_state_store": store, "ti": ti})

    assert result == ti.xcoms["bot_run"]["deployment_id"] == DEPLOYMENT and deploys(requests_mock) == 1
    assert store.values == {}  # done: a later clear deploys anew


def test_other_input_or_a_finished_run_deploys_anew(requests_mock):
    store = StateStore()
    activity(requests_mock, [("RUN_FAILED", "boom")], [("RUN_FAILED", "boom")])
    with pytest.raises(AirflowFailException):
        operator(wait_for_completion=True, deferrable=False).execute({"task_state_store": store})
    assert store.values == {}  # the run failed: the next try deploys again
    store.set("automation_anywhere_bot_deployment", {"fingerprint": "of other input", "deployment_id": "old"})
    with pytest.raises(AirflowFailException):
        operator(wait_for_completion=True, deferrable=False).execute({"task_state_store": store})
    assert deploys(requests_mock) == 2


def test_without_waiting_the_id_is_kept_until_the_task_succeeds(requests_mock):
    store = StateStore()
    saved = []
    original = store.set
    store.set = lambda key, value: (saved.append(dict(value)), original(key, value))
    assert operator().execute({"task_state_store": store}) == DEPLOYMENT
    # a marker before the send, the id right after the answer, nothing once the task succeeded
    assert [entry["deployment_id"] for entry in saved] == [None, DEPLOYMENT]
    assert store.values == {}
