"""Deploy a bot and wait for it in the task, for at most 2 s: past that Airflow calls on_kill."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereDeployBotOperator

with DAG(dag_id="stop_on_kill", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    AutomationAnywhereDeployBotOperator(
        task_id="deploy",
        bot_id=501,
        run_as_user_ids=[29],
        wait_for_completion=True,
        poke_interval=0.5,
        execution_timeout=timedelta(seconds=2),
    )
