"""
What waits hand on: each work item's outcome (id, status, result and error text, each text
cut to TEXT_LIMIT characters) unless the whole items are asked for, in the sensor's XCom, the
trigger's event and the add operator's ``work_items``; the deploy operator returns the same
shape whether or not it waits.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_aa.control_room.statuses import TEXT_LIMIT, WORK_ITEM_FAILURE_STATUSES, cut_text
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor
from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemTrigger
from tests.operators.test_names import TaskDeferred

#: What a bot wrote back: far more than a wait hands on.
LONG_RESULT = "r" * 5000
CUT_RESULT = "r" * TEXT_LIMIT + "… [4800 more characters]"
#: Each item's own data: 10,000 characters, which a wait's result does not carry by default.
DATA = {"invoice": "INV-1", "notes": "n" * 10_000}


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    aa_emulator.configure(pause_bot=True)  # the items change only as the test moves them
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def finish(emulator, ids, status="COMPLETED", result=LONG_RESULT):
    for item_id in ids:
        emulator.update_work_item(20, item_id, username="cr_admin", status=status, result=result)


def added(emulator, count=2):
    return [item["id"] for item in emulator.add_work_items(20, [{**DATA, "n": n} for n in range(count)])]


def outcome(item_id, status="COMPLETED", result=CUT_RESULT, error=""):
    return {"id": item_id, "status": status, "result": result, "error": error}


def test_text_is_cut_to_the_limit_and_marked():
    assert cut_text("x" * TEXT_LIMIT) == "x" * TEXT_LIMIT
    assert cut_text("x" * (TEXT_LIMIT + 1)) == "x" * TEXT_LIMIT + "… [1 more characters]"
    assert cut_text(None) == cut_text("") == ""
    # Cut once: a resumed wait judges the trigger's cut items again and names them the same.
    assert cut_text(CUT_RESULT) == CUT_RESULT == cut_text(LONG_RESULT)


def test_the_sensor_returns_each_items_outcome_not_its_data(emulator):
    ids = added(emulator)
    finish(emulator, ids)

    reading = AutomationAnywhereWorkItemSensor(task_id="wait", queue_id=20, work_item_ids=ids).poke({})

    assert reading.is_done
    assert reading.xcom_value == {item_id: outcome(item_id) for item_id in ids}


def test_the_sensor_returns_the_whole_items_when_asked(emulator):
    ids = added(emulator)
    finish(emulator, ids)

    sensor = AutomationAnywhereWorkItemSensor(task_id="wait", queue_id=20, work_item_ids=ids, return_full_items=True)
    reading = sensor.poke({})

    assert reading.xcom_value == {item["id"]: item for item in emulator.work_items(20)}
    assert reading.xcom_value[ids[0]]["json"]["notes"] == DATA["notes"]
    assert reading.xcom_value[ids[0]]["result"] == LONG_RESULT


def trigger(ids, **kwargs):
    return AutomationAnywhereWorkItemTrigger(
        automation_anywhere_conn_id="automation_anywhere_default",
        queue_id="20",
        work_item_ids=ids,
        pending_statuses=["NEW"],
        failure_statuses=list(WORK_ITEM_FAILURE_STATUSES),
        deadline=time.time() + 30,
        poke_interval=0.2,
        **kwargs,
    )


async def first_event(trigger_):
    async for event in trigger_.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


def test_the_trigger_event_carries_outcomes_of_a_bounded_size(emulator):
    ids = added(emulator, 50)
    finish(emulator, ids)

    event = asyncio.run(first_event(trigger(ids)))

    assert event["status"] == "done"
    assert event["items"] == {item_id: outcome(item_id) for item_id in ids}
    # 50 items of 15 KB each: about 300 bytes each in the event (an id, a status, 200 characters).
    assert len(json.dumps(event)) < 50 * 330
    full = asyncio.run(first_event(trigger(ids, return_full_items=True)))
    assert full["items"] == {item["id"]: item for item in emulator.work_items(20)}


def test_a_failure_event_and_its_message_cut_each_items_text(emulator):
    ids = added(emulator, 30)
    finish(emulator, ids, status="FAILED")

    event = asyncio.run(first_event(trigger(ids)))

    assert event["outcome"] == "failed"
    assert event["items"] == {item_id: outcome(item_id, status="FAILED") for item_id in ids}
    # 20 failed items named with their text cut, the other 10 counted.
    assert event["message"].count(CUT_RESULT) == 20 and LONG_RESULT not in event["message"]
    assert event["message"].endswith(f"... and 10 more (ids {ids[20]} to {ids[-1]}).")
    with pytest.raises(AirflowFailException, match=f"id {ids[0]}: status FAILED: r{{{TEXT_LIMIT}}}… \\[4800 more"):
        AutomationAnywhereWorkItemSensor(task_id="wait", queue_id=20, work_item_ids=ids).execute_complete({}, event)


class TaskInstance:
    def __init__(self):
        self.xcoms = {}

    def xcom_push(self, key, value):
        self.xcoms[key] = value


@pytest.mark.parametrize("full", [False, True])
def test_a_deferred_add_and_wait_pushes_the_outcomes_or_the_whole_items(emulator, full):
    task = AutomationAnywhereAddWorkItemsOperator(
        task_id="add",
        queue_id=20,
        work_items=[{**DATA, "n": n} for n in range(3)],
        wait_for_completion=True,
        pending_statuses=["NEW"],
        deferrable=True,
        return_full_items=full,
    )
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    ids = [item["id"] for item in emulator.work_items(20)]
    finish(emulator, ids)
    event = asyncio.run(first_event(deferred.value.trigger))
    ti = TaskInstance()

    assert task.execute_complete({"ti": ti}, event) == ids
    expected = {item["id"]: item for item in emulator.work_items(20)} if full else {i: outcome(i) for i in ids}
    assert ti.xcoms == {"work_items": expected}
