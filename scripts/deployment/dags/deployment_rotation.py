"""
Case 5: the connection's password rotated while sensors are deferred.

The connection ``aa_rotating`` lives in the metadata database (the test creates it through
the REST API and changes its password there, and the emulator user's with it, while the
five sensors wait in the triggerer on held items of queue 34).
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
    dag_id="deployment_rotation",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"automation_anywhere_conn_id": "aa_rotating"},
    tags=["automation_anywhere", "deployment-test"],
) as dag:
    add = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=34, work_items=[{"ref": f"P-{n}", "hold": "STATUS:ON_HOLD"} for n in range(5)]
    )
    AutomationAnywhereWorkItemSensor.partial(
        task_id="wait_deferred",
        queue_id=34,
        pending_statuses=WORK_ITEM_RUNNING_STATUSES,
        deferrable=True,
        poke_interval=2,
        timeout=300,
    ).expand(work_item_ids=add.output)
