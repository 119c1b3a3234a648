"""The bot run sensor: statuses, late activity, the paused/unknown policy, clocks across pokes."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereBotRunSensor
from tests.conftest import BASE_URL, PASSWORD, make_token

ACTIVITY = f"{BASE_URL}/v3/activity/list"
DEPLOYMENT = "1f0c6b1e-8d2a-4c55-9d6e-0b8f3c2a7e41"


class Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


class StateStore:
    """Airflow 3.3's context["task_state_store"], in memory."""

    def __init__(self):
        self.values = {}

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value):
        self.values[key] = value

    def delete(self, key):
        self.values.pop(key, None)


@pytest.fixture(autouse=True)
def connection(use_connection, requests_mock):
    use_connection(login="jdoe", password=PASSWORD)
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{BASE_URL}/v1/authentication/logout", status_code=204)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(
        "airflow_provider_aa.tasks.waits.time",
        SimpleNamespace(time=clock, monotonic=time.monotonic, sleep=time.sleep),
    )
    return clock


def runs(requests_mock, *statuses, message=""):
    records = [
        {"id": f"e{n}", "deploymentId": DEPLOYMENT, "status": s, "message": message} for n, s in enumerate(statuses)
    ]
    requests_mock.post(ACTIVITY, json={"list": records})


def sensor(**kwargs):
    return AutomationAnywhereBotRunSensor(task_id="wait", deployment_id=DEPLOYMENT, **kwargs)


@pytest.mark.parametrize(
    "status", ["DEPLOYED", "QUEUED", "PENDING_EXECUTION", "RUNNING", "UPDATE", "RUN_PAUSED", "UNKNOWN"]
)
def test_running_statuses_keep_waiting(requests_mock, clock, status):
    runs(requests_mock, status)
    assert sensor().poke({}).is_done is False


def test_completed_returns_status_and_plain_outputs(requests_mock, clock):
    runs(requests_mock, "COMPLETED")
    values = {"sOut": {"type": "STRING", "string": "ok"}, "bFlag": {"type": "BOOLEAN", "boolean": "true"}}
    requests_mock.get(f"{BASE_URL}/v3/activity/execution/e0", json={"botOutVariables": {"values": values}})

    result = sensor().poke({})

    assert result.is_done is True
    assert result.xcom_value == {
        "deployment_id": DEPLOYMENT,
        "status": "COMPLETED",
        "outputs": {"sOut": "ok", "bFlag": True},
        "runs": [
            {"execution_id": "e0", "status": "COMPLETED", "message": "", "outputs": {"sOut": "ok", "bFlag": True}}
        ],
    }


@pytest.mark.parametrize("status", ["DEPLOY_FAILED", "RUN_FAILED", "RUN_ABORTED", "RUN_TIMED_OUT"])
def test_failures_fail_the_task_with_the_runs_message(requests_mock, clock, status):
    runs(requests_mock, status, message="Bot error: the vendor portal is down")
    with pytest.raises(AirflowFailException, match=f"run e0: status {status}: Bot error: the vendor portal is down"):
        sensor().poke({})


def test_late_activity_is_tolerated_for_the_grace_period(requests_mock, clock):
    runs(requests_mock)
    waiting = sensor(activity_grace_period=30)
    assert waiting.poke({}).is_done is False
    clock.now += 29
    assert waiting.poke({}).is_done is False
    clock.now += 1
    with pytest.raises(AirflowFailException, match=r"shows no run of deployment .* \"View everyone's activity\""):
        waiting.poke({})


@pytest.mark.parametrize(
    ("status", "option"),
    [("RUN_PAUSED", "paused_timeout"), ("UNKNOWN", "unknown_timeout"), ("PENDING_EXECUTION", "pending_timeout")],
)
def test_paused_unknown_or_pending_too_long_fails(requests_mock, clock, status, option):
    runs(requests_mock, status)
    waiting = sensor(**{option: 120})
    assert waiting.poke({}).is_done is False
    clock.now += 119
    assert waiting.poke({}).is_done is False
    clock.now += 1
    with pytest.raises(AirflowFailException, match=f"has been {status} for 120 s \\({option}=120 s\\)"):
        waiting.poke({})


def test_without_a_held_timeout_the_sensor_timeout_decides(requests_mock, clock):
    runs(requests_mock, "RUN_PAUSED")
    waiting = sensor(paused_timeout=None)
    waiting.poke({})
    clock.now += 10**7
    assert waiting.poke({}).is_done is False


def test_the_clocks_survive_rescheduled_pokes_and_are_dropped_at_the_end(requests_mock, clock):
    store = StateStore()
    runs(requests_mock, "RUN_PAUSED")
    assert sensor(paused_timeout=60).poke({"task_state_store": store}).is_done is False  # poke 1: a new instance each
    saved = store.values["automation_anywhere_bot_run_wait"]
    assert saved["started_at"] == clock.now and saved["held_since"] == {"e0:RUN_PAUSED": clock.now}
    clock.now += 30
    assert sensor(paused_timeout=60).poke({"task_state_store": store}).is_done is False
    clock.now += 30
    with pytest.raises(AirflowFailException, match="has been RUN_PAUSED for 60 s"):
        sensor(paused_timeout=60).poke({"task_state_store": store})
    assert store.values == {}  # a cleared task starts afresh


def test_saved_clocks_of_another_deployment_are_ignored(requests_mock, clock):
    store = StateStore()
    store.set("automation_anywhere_bot_run_wait", {"deployment_id": "other", "started_at": 1.0, "held_since": {}})
    runs(requests_mock)
    assert sensor(activity_grace_period=30).poke({"task_state_store": store}).is_done is False


def test_unknown_statuses_are_logged_once(requests_mock, clock, capsys):
    runs(requests_mock, "COMPLETED", "SOMETHING_NEW")
    waiting = sensor()
    assert waiting.poke({}).is_done is False
    assert waiting.poke({}).is_done is False
    assert capsys.readouterr().out.count("'SOMETHING_NEW', unknown to this provider") == 1


def test_bad_input_is_refused_before_any_request(requests_mock):
    with pytest.raises(InvalidInputError, match="paused_timeout"):
        sensor(paused_timeout=-5)
    with pytest.raises(InvalidInputError, match="deployment_id"):
        AutomationAnywhereBotRunSensor(task_id="wait", deployment_id="").poke({})
    assert requests_mock.call_count == 0


def test_resuming_from_trigger_events():
    waiting = sensor()
    run = {
        "execution_id": "e1",
        "status": "COMPLETED",
        "message": "",
        "outputs": {"n": {"type": "NUMBER", "number": "4"}},
    }
    done = {"status": "done", "outcome": "completed", "message": "ok", "deployment_id": DEPLOYMENT, "runs": [run]}
    assert waiting.execute_complete({}, done)["outputs"] == {"n": 4}
    with pytest.raises(AirflowFailException, match="run e1: status RUN_FAILED"):
        waiting.execute_complete({}, {**done, "outcome": "failed", "message": "run e1: status RUN_FAILED: x"})
    with pytest.raises(AirflowSensorTimeout, match="Timed out waiting for bot deployment"):
        waiting.execute_complete({}, {"status": "timeout", "message": "Timed out waiting for bot deployment x."})
    with pytest.raises(AutomationAnywhereError, match="failed in the triggerer: Login refused"):
        waiting.execute_complete({}, {"status": "error", "message": "Login refused"})
