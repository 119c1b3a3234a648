"""The tasks with operator extra links: add and wait on a queue, deploy and wait for the run."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import (
    AutomationAnywhereAddWorkItemsOperator,
    AutomationAnywhereDeployBotOperator,
)
from airflow_provider_aa.sensors.automation_anywhere import (
    AutomationAnywhereBotRunSensor,
    AutomationAnywhereWorkItemSensor,
)

with DAG(dag_id="links", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    add = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_name="Invoices", work_items=[{"invoice_id": "INV-7", "vendor": "Acme", "amount": 7.0}]
    )
    AutomationAnywhereWorkItemSensor(
        task_id="wait", queue_name="Invoices", work_item_ids=add.output, poke_interval=0.5, timeout=60
    )
    deploy = AutomationAnywhereDeployBotOperator(task_id="deploy", bot_id=501, run_as_user_ids=[29])
    AutomationAnywhereBotRunSensor(task_id="wait_run", deployment_id=deploy.output, poke_interval=0.5, timeout=60)
