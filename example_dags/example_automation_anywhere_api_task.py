"""
Deploy an API task (a headless bot that runs in the Control Room's cloud, without a device or
run-as users), wait for each of its executions in the triggerer, and use their outputs.

The API task is given by its path in the public repository; the provider looks its id up
when the task runs (``bot_id=`` works as well). ``number_of_executions=2`` starts two runs of
one deployment; ``queue_on_slots_exhaustion=True`` lets them wait for a free slot of the
tenant's API task concurrency instead of having the deploy refused. The task returns the
deployment id and pushes the finished deployment under the XCom key ``bot_run``:
``{"deployment_id", "status", "outputs", "runs"}``, ``outputs`` being the first run's and
``runs`` every execution's, output variables as plain Python values.

API tasks need an Automation 360 Cloud Control Room with ``/v4/automations/deploy``; elsewhere
the task fails before anything runs (``python -m airflow_provider_aa.check`` tells). The
bundled emulator's API task ``Bots/Finance/Invoice Classifier`` answers ``sCategory`` and
``nConfidence`` and echoes its inputs. See docs/api-tasks.md.

Needs a running triggerer (``airflow triggerer``); ``airflow dags test`` runs triggers in-line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator

with DAG(
    dag_id="example_automation_anywhere_api_task",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"api_task_path": "Bots/Finance/Invoice Classifier", "text": "Electricity, March 2026: 412.50 EUR"},
    tags=["automation_anywhere", "example"],
) as dag:
    classify = AutomationAnywhereDeployBotOperator(
        task_id="classify_invoice",
        api_task=True,
        bot_path="{{ params.api_task_path }}",
        number_of_executions=2,
        queue_on_slots_exhaustion=True,
        bot_input={"sInvoiceText": "{{ params.text }}"},
        wait_for_completion=True,
        deferrable=True,
        poke_interval=1,
        timeout=3600,
    )

    @task
    def file_invoice(result: dict[str, Any]) -> dict[str, Any]:
        """Take the category every execution agreed on, with the lowest confidence among them."""
        categories = {run["outputs"]["sCategory"] for run in result["runs"]}
        if len(categories) != 1:
            raise ValueError(f"The executions of deployment {result['deployment_id']} disagree: {sorted(categories)}")
        confidence = min(run["outputs"]["nConfidence"] for run in result["runs"])
        print(f"deployment {result['deployment_id']}: {categories.pop()} ({confidence:.0%} sure)")
        return {"category": result["outputs"]["sCategory"], "confidence": confidence, "runs": len(result["runs"])}

    file_invoice(classify.output["bot_run"])
