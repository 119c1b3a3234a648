"""The work item sensor's ``start_from_trigger``: what Airflow is given to start it in the triggerer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from airflow.sdk import DAG

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import WORK_ITEM_RUNNING_STATUSES, AutomationAnywhereWorkItemSensor
from airflow_provider_aa.triggers.automation_anywhere import END_MARGIN, AutomationAnywhereWorkItemTrigger
from airflow_provider_aa.version_compat import AIRFLOW_V_3_3_PLUS


def sensor(**kwargs):
    kwargs.setdefault("queue_id", 7)
    kwargs.setdefault("work_item_ids", [100, 101])
    kwargs.setdefault("deferrable", True)
    return AutomationAnywhereWorkItemSensor(task_id="wait", start_from_trigger=True, **kwargs)


def test_airflow_gets_the_trigger_with_the_sensors_settings():
    waiting = sensor(
        pending_statuses=WORK_ITEM_RUNNING_STATUSES, poke_interval=5, timeout=600, soft_fail=True, retries=0
    )
    assert waiting.start_from_trigger is True
    args = waiting.start_trigger_args
    assert args.trigger_cls == "airflow_provider_aa.triggers.automation_anywhere.AutomationAnywhereWorkItemTrigger"
    assert args.next_method == "execute_complete"
    # Airflow's trigger timeout outlasts the trigger's own, which ends the wait first.
    assert args.timeout == timedelta(seconds=600 + END_MARGIN)
    kwargs = args.trigger_kwargs
    assert kwargs["queue_id"] == 7 and kwargs["work_item_ids"] == [100, 101]
    assert kwargs["pending_statuses"] == list(WORK_ITEM_RUNNING_STATUSES)
    assert (kwargs["deadline"], kwargs["timeout"], kwargs["poke_interval"]) == (None, 600.0, 5)
    assert (kwargs["soft_fail"], kwargs["fail_in_triggerer"], kwargs["json_fields"]) == (True, True, [])
    # What the triggerer builds from them, before it renders anything.
    trigger = AutomationAnywhereWorkItemTrigger(**json.loads(json.dumps(kwargs)))
    assert trigger.start_from_trigger and trigger.work_item_ids == [100, 101]


def test_a_sensor_with_retries_leaves_failures_for_good_to_a_worker():
    assert sensor(retries=2).start_trigger_args.trigger_kwargs["fail_in_triggerer"] is False


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="before Airflow 3.3 a templated value starts on a worker")
def test_an_upstream_xcom_is_rendered_by_the_triggerer_as_json():
    with DAG(dag_id="d", schedule=None, start_date=datetime(2026, 1, 1)):
        add = AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=7, work_items=[{"n": 1}])
        waiting = sensor(work_item_ids=add.output)
    kwargs = waiting.start_trigger_args.trigger_kwargs
    assert kwargs["work_item_ids"] == (
        '{{ ti.xcom_pull(task_ids="add", key="return_value", map_indexes=-1) | tojson }}'
    )
    assert kwargs["json_fields"] == ["work_item_ids"]
    # The task still depends on the add, and a worker still resolves the XComArg.
    assert waiting.upstream_task_ids == {"add"} and waiting.work_item_ids is not None


def test_a_mapped_tasks_xcom_is_refused():
    with DAG(dag_id="d", schedule=None, start_date=datetime(2026, 1, 1)):
        adds = AutomationAnywhereAddWorkItemsOperator.partial(task_id="add", queue_id=7).expand(
            work_items=[[{"n": 1}], [{"n": 2}]]
        )
        with pytest.raises(InvalidInputError, match="an unmapped task's XCom"):
            sensor(work_item_ids=adds.output)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deferrable": False}, "deferrable=False"),
        ({"mode": "reschedule", "deferrable": True}, 'mode="reschedule"'),
        ({"queue_id": None, "queue_name": "Invoices"}, "queue_name"),
    ],
)
def test_a_sensor_that_needs_a_worker_is_refused_naming_why(kwargs, message):
    with pytest.raises(InvalidInputError, match=f"start_from_trigger=True .*{message}"):
        sensor(**kwargs)


def test_before_airflow_3_3_a_template_starts_on_a_worker_with_a_warning(monkeypatch):
    monkeypatch.setattr("airflow_provider_aa.version_compat.AIRFLOW_V_3_3_PLUS", False)
    with pytest.warns(UserWarning, match="templated work_item_ids needs Airflow 3.3"):
        waiting = sensor(work_item_ids="{{ params.ids }}")
    assert waiting.start_from_trigger is False and waiting.start_trigger_args is None
    # Plain values need no rendering: they start in the triggerer on any Airflow 3.
    assert sensor().start_from_trigger is True
