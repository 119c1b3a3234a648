"""
Add invoices to an Automation Anywhere work queue, wait until a bot has finished them, and
print what the bot wrote back.

The queue is named, not given by id: the provider looks its id up when the tasks run
(``queue_id=`` works as well). Runs against any Control Room reachable through the connection
``automation_anywhere_default`` — for example the bundled emulator (``make demo``). Trigger it
with another queue or other items through the DAG params (``queue_name``, ``invoices``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

with DAG(
    dag_id="example_automation_anywhere_work_items",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # The work items are a list of dicts: render the template as a Python object, not as text.
    render_template_as_native_obj=True,
    params={
        "queue_name": "Invoices",
        "invoices": [
            {"invoice_id": "INV-1001", "vendor": "Acme GmbH", "amount": 1250.00},
            {"invoice_id": "INV-1002", "vendor": "Globex Ltd", "amount": 89.90},
            {"invoice_id": "INV-1003", "vendor": "Initech Inc", "amount": 420.00},
        ],
    },
    tags=["automation_anywhere", "example"],
) as dag:
    add_invoices = AutomationAnywhereAddWorkItemsOperator(
        task_id="add_invoices",
        queue_name="{{ params.queue_name }}",
        work_items="{{ params.invoices }}",
    )

    wait_until_finished = AutomationAnywhereWorkItemSensor(
        task_id="wait_until_finished",
        queue_name="{{ params.queue_name }}",
        work_item_ids=add_invoices.output,
        pending_statuses=WORK_ITEM_RUNNING_STATUSES,
        poke_interval=1,
        timeout=timedelta(minutes=30).total_seconds(),
    )

    @task
    def report(work_items: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Print each item's final status and the bot's result; return id → status."""
        for item_id, item in work_items.items():
            print(f"work item {item_id}: {item['status']} — {item.get('result') or item.get('error')}")
        return {item_id: item["status"] for item_id, item in work_items.items()}

    report(wait_until_finished.output)
