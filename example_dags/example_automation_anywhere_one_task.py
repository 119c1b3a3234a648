"""
Add work items and wait until they are finished, in one deferrable task.

The task returns the created ids (XCom ``return_value``) and pushes each finished item's id,
status, result and error text under the XCom key ``work_items`` (``return_full_items=True``
pushes the whole items instead; see ``docs/payloads.md``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator

with DAG(
    dag_id="example_automation_anywhere_one_task",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["automation_anywhere", "example"],
) as dag:
    AutomationAnywhereAddWorkItemsOperator(
        task_id="add_and_wait",
        queue_name="Orders",
        work_items=[{"order_id": "ORD-77", "quantity": 3}, {"order_id": "ORD-78", "quantity": 1}],
        wait_for_completion=True,
        deferrable=True,
        poke_interval=1,
        timeout=3600,
    )
