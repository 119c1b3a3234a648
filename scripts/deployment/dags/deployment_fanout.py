"""
Case 2: 100 deferred sensors in one triggerer.

Adds 50 held work items to each of two queues (30 and 31; ``STATUS:ON_HOLD`` keeps them
waiting until the test releases them), then waits for each item with a sensor of its own
(dynamic task mapping: 100 deferrable sensors, polling every 5 s on the wall clock).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

SENSORS_PER_QUEUE = 50

with DAG(
    dag_id="deployment_fanout",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_tasks=256,
    default_args={"automation_anywhere_conn_id": "aa_fanout"},
    tags=["automation_anywhere", "deployment-test"],
) as dag:
    for queue_id in (30, 31):
        add = AutomationAnywhereAddWorkItemsOperator(
            task_id=f"add_{queue_id}",
            queue_id=queue_id,
            work_items=[{"ref": f"F{queue_id}-{n}", "hold": "STATUS:ON_HOLD"} for n in range(SENSORS_PER_QUEUE)],
        )
        AutomationAnywhereWorkItemSensor.partial(
            task_id=f"wait_{queue_id}",
            queue_id=queue_id,
            pending_statuses=WORK_ITEM_RUNNING_STATUSES,
            deferrable=True,
            poke_interval=5,
            timeout=400,
        ).expand(work_item_ids=add.output)
