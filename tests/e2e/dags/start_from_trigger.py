"""A work item sensor that starts and ends in the triggerer, waiting for what the add task added."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

with DAG(
    dag_id="e2e_start_from_trigger",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 0},
) as dag:
    add = AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=20, work_items=[{"n": 1}, {"n": 2}])
    AutomationAnywhereWorkItemSensor(
        task_id="wait",
        queue_id=20,
        work_item_ids=add.output,
        pending_statuses=WORK_ITEM_RUNNING_STATUSES,
        deferrable=True,
        start_from_trigger=True,
        poke_interval=1,
        timeout=120,
    )
