"""
Deploy a bot and wait for its run in one deferrable task.

The task returns the deployment id, as it does without waiting, and pushes the finished run
under the XCom key ``bot_run`` (``deploy_and_wait.output["bot_run"]`` downstream):
``{"deployment_id", "status", "outputs", "runs"}``, with the output variables as plain Python
values. The bot and its run-as user are given by id here
(``bot_path=`` and ``run_as_user_names=`` take names instead, as in
``example_automation_anywhere_bot.py``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator

with DAG(
    dag_id="example_automation_anywhere_bot_one_task",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["automation_anywhere", "example"],
) as dag:
    AutomationAnywhereDeployBotOperator(
        task_id="deploy_and_wait",
        bot_id=501,
        run_as_user_ids=[29],
        bot_input={"lItems": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]},
        wait_for_completion=True,
        deferrable=True,
        poke_interval=1,
        timeout=3600,
    )
