"""The hook against the emulator: one session reused, renewed, and recovered after eviction."""

from __future__ import annotations

import time

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.sensors.automation_anywhere import WORK_ITEM_RUNNING_STATUSES, AutomationAnywhereWorkItemSensor

LIST = "POST /v3/wlm/queues/{queueId}/workitems/list"


def test_one_login_for_a_whole_sensor_run(aa_emulator, monkeypatch):
    aa_emulator.configure(pickup_delay=0.2, work_delay=1.0)
    aa_emulator.use_connection(monkeypatch)
    ids = [item["id"] for item in AutomationAnywhereHook().add_work_items(20, [{"n": n} for n in range(150)])]
    aa_emulator.counters.reset()

    sensor = AutomationAnywhereWorkItemSensor(
        task_id="wait", queue_id=20, work_item_ids=ids, pending_statuses=WORK_ITEM_RUNNING_STATUSES, poke_interval=0.2
    )
    finished = sensor.execute({})

    assert {item["status"] for item in finished.values()} == {"COMPLETED"}
    pokes = aa_emulator.counters.requests(LIST) // 2  # 150 ids: two list requests per poke
    assert pokes >= 3
    assert aa_emulator.counters.requests(LIST) == 2 * pokes
    assert aa_emulator.counters.logins() == 1
    assert aa_emulator.counters.requests("POST /v1/authentication/logout") == 1


@pytest.mark.parametrize("auth_type", ["password", "api_key", "token"])
def test_token_is_renewed_across_a_short_lifetime(aa_emulator, monkeypatch, auth_type):
    # 4 s tokens: whole-second claims leave a renewal window of about a second, which calls
    # 0.25 s apart meet also on a loaded machine.
    aa_emulator.configure(token_lifetime=4)
    aa_emulator.use_connection(monkeypatch, auth_type=auth_type)
    hook = AutomationAnywhereHook()
    hook.add_work_items(20, [{"n": 1}])

    deadline = time.monotonic() + 6.5
    while time.monotonic() < deadline:
        assert len(list(hook.list_work_items(20))) == 1
        time.sleep(0.25)

    assert aa_emulator.counters.refreshes() >= 1
    assert aa_emulator.counters.logins() == (0 if auth_type == "token" else 1)
    assert aa_emulator.counters.statuses().get("401", 0) == 0  # renewed before, never after expiry


def test_eviction_by_another_login_costs_one_relogin(aa_emulator, monkeypatch):
    single = aa_emulator.users["single_user"]
    monkeypatch.setenv(
        "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT",
        f'{{"conn_type": "automation_anywhere", "host": "{aa_emulator.url}", "login": "single_user", "password": "{single["password"]}"}}',
    )
    first, second = AutomationAnywhereHook(), AutomationAnywhereHook()
    list(first.list_work_items(20))
    list(second.list_work_items(20))  # logs in without multipleLogin: ends the first session

    assert list(first.list_work_items(20)) == []
    assert aa_emulator.counters.logins("single_user") == 3
    assert aa_emulator.counters.statuses()["401"] == 1


def test_a_revoked_pre_issued_token_fails_clearly(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, auth_type="token")
    hook = AutomationAnywhereHook()
    list(hook.list_work_items(20))
    aa_emulator.evict("token_user")

    with pytest.raises(AutomationAnywhereError, match="was rejected by the Control Room and cannot be renewed"):
        list(hook.list_work_items(20))


class RecordingTaskInstance:
    def __init__(self):
        self.pushed = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value


def test_add_operator_waits_in_the_same_task(aa_emulator, monkeypatch):
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator

    aa_emulator.configure(pickup_delay=0.2, work_delay=0.3)
    aa_emulator.use_connection(monkeypatch)
    ti = RecordingTaskInstance()
    operator = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=20, work_items=[{"n": 1}, {"n": 2}], wait_for_completion=True, poke_interval=0.2
    )

    ids = operator.execute({"ti": ti})

    assert {item["status"] for item in ti.pushed["work_items"].values()} == {"COMPLETED"}
    assert list(ti.pushed["work_items"]) == ids
    assert aa_emulator.counters.logins() == 1

    failing = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=20, work_items=[{"n": "FAIL"}], wait_for_completion=True, poke_interval=0.2
    )
    with pytest.raises(AirflowFailException, match="Emulated bot failure"):
        failing.execute({"ti": RecordingTaskInstance()})
