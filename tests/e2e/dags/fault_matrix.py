"""The fault matrix's DAG: add three items, then wait for them by poking and deferred."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

with DAG(
    dag_id="fault_matrix",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(0)},
) as dag:
    add = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=20, work_items=[{"n": 1}, {"n": 2}, {"n": 3}], batch_size=2
    )
    for mode, deferrable in (("poke", False), ("deferred", True)):
        AutomationAnywhereWorkItemSensor(
            task_id=f"wait_{mode}",
            queue_id=20,
            work_item_ids=add.output,
            pending_statuses=WORK_ITEM_RUNNING_STATUSES,
            poke_interval=0.5,
            timeout=60,
            deferrable=deferrable,
        ).set_upstream(add)
