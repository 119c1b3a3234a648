"""
The same job as ``example_automation_anywhere.py``, waiting in the triggerer: the sensor
pokes once, then defers, so no worker slot is held while the bots work (hours, often).

Needs a running triggerer (``airflow triggerer``); ``airflow dags test`` runs triggers in-line.
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
    dag_id="example_automation_anywhere_deferrable",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    render_template_as_native_obj=True,
    params={"queue_name": "Orders", "orders": [{"order_id": f"ORD-{n}", "quantity": n} for n in range(1, 6)]},
    tags=["automation_anywhere", "example"],
) as dag:
    add_orders = AutomationAnywhereAddWorkItemsOperator(
        task_id="add_orders",
        queue_name="{{ params.queue_name }}",
        work_items="{{ params.orders }}",
    )

    AutomationAnywhereWorkItemSensor(
        task_id="wait_in_triggerer",
        # Looked up at the first poke; the trigger then polls the queue's id.
        queue_name="{{ params.queue_name }}",
        work_item_ids=add_orders.output,
        pending_statuses=WORK_ITEM_RUNNING_STATUSES,
        deferrable=True,
        poke_interval=1,
        exponential_backoff=True,
        max_wait=30,
        timeout=3600,
    )
