"""Every task that reports lineage, in one DAG: add, wait, re-queue, deploy (and wait), export."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import (
    AutomationAnywhereAddWorkItemsOperator,
    AutomationAnywhereDeployBotOperator,
    AutomationAnywhereRequeueWorkItemsOperator,
)
from airflow_provider_aa.operators.export import AutomationAnywhereExportOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

with DAG(dag_id="lineage", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    add = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_name="Invoices", work_items=[{"invoice_id": "INV-1", "vendor": "Acme", "amount": 1.0}]
    )
    wait = AutomationAnywhereWorkItemSensor(
        task_id="wait",
        queue_name="Invoices",
        work_item_ids=add.output,
        pending_statuses=WORK_ITEM_RUNNING_STATUSES,
        poke_interval=0.5,
        timeout=60,
        deferrable=True,  # its COMPLETE event comes from the task resumed after the trigger
    )
    requeue = AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", queue_name="Invoices")
    deploy = AutomationAnywhereDeployBotOperator(
        task_id="deploy", bot_id=501, run_as_user_ids=[29], wait_for_completion=True, poke_interval=0.5, timeout=60
    )
    export = AutomationAnywhereExportOperator(
        task_id="export", dataset="bot_runs", destination=os.environ.get("AA_EXPORT_DESTINATION", "/tmp/aa-export")
    )
    # One after the other: the wait must poke while the item is still new (so that it defers),
    # before the deploy's wait for its bot run takes its seconds.
    add >> wait >> requeue >> deploy >> export
