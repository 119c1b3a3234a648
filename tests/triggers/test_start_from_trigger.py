"""
A work item wait started in the triggerer (``start_from_trigger``): the trigger checks the
values the triggerer rendered and ends the task itself, against the emulator.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent, TriggerEvent

from airflow_provider_aa.control_room.statuses import WORK_ITEM_FAILURE_STATUSES, WORK_ITEM_RUNNING_STATUSES
from airflow_provider_aa.triggers.automation_anywhere import END_MARGIN, AutomationAnywhereWorkItemTrigger
from tests.triggers.conftest import add, sensor_for


def started(ids, *, queue_id="20", json_fields=("work_item_ids",), clients=None, **kwargs):
    """A trigger as the triggerer holds it once it rendered the sensor's values: ids as JSON text."""
    return AutomationAnywhereWorkItemTrigger(
        automation_anywhere_conn_id="automation_anywhere_default",
        queue_id=queue_id,
        work_item_ids=json.dumps(ids) if "work_item_ids" in json_fields else ids,
        pending_statuses=list(WORK_ITEM_RUNNING_STATUSES),
        failure_statuses=list(WORK_ITEM_FAILURE_STATUSES),
        deadline=None,
        timeout=kwargs.pop("timeout", 30.0),
        poke_interval=kwargs.pop("poke_interval", 0.2),
        start_from_trigger=True,
        json_fields=list(json_fields),
        clients=clients,
        **kwargs,
    )


async def events(trigger):
    return [event async for event in trigger.run()]


def test_before_airflow_3_3_a_success_resumes_on_a_worker_whose_xcom_is_the_usual(emulator, monkeypatch):
    # Success on Airflow 3.3 (the XComs pushed by the triggerer): tests/e2e/test_start_from_trigger.py.
    monkeypatch.setattr("airflow_provider_aa.triggers.automation_anywhere.AIRFLOW_V_3_3_PLUS", False)
    ids = add({"n": 1}, {"n": 2})
    [event] = asyncio.run(events(started(ids)))
    assert type(event) is TriggerEvent and event.payload["status"] == "done"
    items = sensor_for(ids).execute_complete({}, event.payload)
    assert list(items) == ids and {item["status"] for item in items.values()} == {"COMPLETED"}


def test_a_failed_item_fails_the_task_in_the_triggerer_naming_it(emulator, capsys):
    ids = add({"n": "fine"}, {"n": "FAIL"})
    [event] = asyncio.run(events(started(ids)))
    assert isinstance(event, TaskFailedEvent) and not event.xcoms
    assert f"id {ids[1]}: status FAILED: Emulated bot failure" in capsys.readouterr().out


def test_soft_fail_ends_a_failed_wait_skipped(emulator):
    ids = add({"n": "FAIL"})
    [event] = asyncio.run(events(started(ids, soft_fail=True)))
    assert isinstance(event, TaskSkippedEvent)


def test_with_retries_a_failure_for_good_resumes_on_a_worker_that_fails_without_retries(emulator):
    ids = add({"n": "FAIL"})
    [event] = asyncio.run(events(started(ids, fail_in_triggerer=False)))
    assert type(event) is TriggerEvent
    with pytest.raises(AirflowFailException, match=f"id {ids[0]}: status FAILED"):
        sensor_for(ids).execute_complete({}, event.payload)


@pytest.mark.parametrize(
    ("ids", "queue_id", "json_fields", "message"),
    [
        ("not json", "20", ("work_item_ids",), "work_item_ids rendered as 'not json', which is not JSON"),
        ([], "20", ("work_item_ids",), "work_item_ids is empty"),
        ({"a": 1}, "20", ("work_item_ids",), "work_item_ids must be an id or a list of ids"),
        (["12x"], "20", (), "work_item_ids"),
        (["1"], "../20", (), "queue_id"),
    ],
)
def test_bad_rendered_values_fail_the_task_before_any_request(emulator, capsys, ids, queue_id, json_fields, message):
    trigger = started(ids, queue_id=queue_id, json_fields=json_fields)
    if ids == "not json":
        trigger.work_item_ids = ids
    emulator.request_log.clear()
    [event] = asyncio.run(events(trigger))
    assert isinstance(event, TaskFailedEvent)
    assert message in capsys.readouterr().out
    assert emulator.request_log.entries() == []


def test_the_timeout_counts_from_airflows_trigger_timeout_and_ends_before_it(
    virtual_emulator, virtual_clients, virtual_time, capsys
):
    ids = add({"n": "STATUS:ON_HOLD"})
    trigger = started(ids, clients=virtual_clients, timeout=3600.0, poke_interval=60)
    # Given by Airflow from start_trigger_args' timeout (the sensor's timeout plus END_MARGIN),
    # kept by a triggerer that takes the trigger over: the deadline is not the trigger's start.
    trigger.timeout_after = datetime.fromtimestamp(virtual_time() + 600 + END_MARGIN, tz=timezone.utc)
    start = virtual_time()
    [event] = asyncio.run(events(trigger))
    assert isinstance(event, TaskFailedEvent)
    assert virtual_time() == pytest.approx(start + 600)
    assert "Timed out waiting for work item(s) in queue 20 to leave the statuses" in capsys.readouterr().out


def test_without_airflows_timeout_the_wait_times_out_timeout_seconds_after_its_start(
    virtual_emulator, virtual_clients, virtual_time
):
    ids = add({"n": "STATUS:ON_HOLD"})
    start = virtual_time()
    [event] = asyncio.run(
        events(started(ids, clients=virtual_clients, timeout=900.0, soft_fail=True, poke_interval=60))
    )
    assert isinstance(event, TaskSkippedEvent)
    assert virtual_time() == pytest.approx(start + 900)


def test_a_refused_login_fails_the_task_and_never_logs_the_password(emulator, monkeypatch, capsys):
    monkeypatch.setenv(
        "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT",
        f'{{"conn_type": "automation_anywhere", "host": "{emulator.url}", "login": "bot_runner", "password": "wrong-password"}}',
    )
    [event] = asyncio.run(events(started(["1"])))
    assert isinstance(event, TaskFailedEvent)
    out = capsys.readouterr().out
    assert "Waiting for work items failed in the triggerer: Login refused for user 'bot_runner'" in out
    assert "wrong-password" not in out


def test_serialized_with_its_start_and_restored_unrendered():
    template = "{{ ti.xcom_pull(task_ids='add') | tojson }}"
    trigger = started([], soft_fail=True, fail_in_triggerer=False)
    trigger.work_item_ids = template
    path, kwargs = trigger.serialize()
    restored = AutomationAnywhereWorkItemTrigger(**json.loads(json.dumps(kwargs)))
    assert restored.serialize() == (path, kwargs)
    assert kwargs["deadline"] is None and kwargs["timeout"] == 30.0 and kwargs["work_item_ids"] == template
    assert (kwargs["start_from_trigger"], kwargs["soft_fail"], kwargs["fail_in_triggerer"]) == (True, True, False)
