"""
Case 4: the triggerer killed and restarted during a deferred wait.

Adds 3 held work items (queue 33) and waits for them deferred; the test kills the triggerer
while the wait is deferred, starts a new one, then releases the items.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

with DAG(
    dag_id="deployment_triggerer_restart",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"automation_anywhere_conn_id": "aa_restart"},
    tags=["automation_anywhere", "deployment-test"],
) as dag:
    add = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=33, work_items=[{"ref": f"R-{n}", "hold": "STATUS:ON_HOLD"} for n in range(3)]
    )
    AutomationAnywhereWorkItemSensor(
        task_id="wait_deferred",
        queue_id=33,
        work_item_ids=add.output,
        pending_statuses=WORK_ITEM_RUNNING_STATUSES,
        deferrable=True,
        poke_interval=2,
        timeout=300,
    )
