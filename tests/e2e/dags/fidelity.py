"""tests/e2e/test_fidelity.py's DAGs: one task each; the tests set what differs per case."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import (
    AutomationAnywhereAddWorkItemsOperator,
    AutomationAnywhereDeployBotOperator,
)


def _dag(dag_id: str, retries: int = 0) -> DAG:
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        default_args={"retries": retries, "retry_delay": timedelta(0)},
    )


with _dag("fidelity_add") as add_dag:
    AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=20, work_items=[{"invoice": "A"}])

with _dag("fidelity_deploy", retries=2) as deploy_dag:
    AutomationAnywhereDeployBotOperator(task_id="deploy", bot_id=501, run_as_user_ids=[29, 30], pool_ids=[61])

with _dag("fidelity_pending") as pending_dag:
    AutomationAnywhereDeployBotOperator(
        task_id="deploy_and_wait",
        bot_id=501,
        run_as_user_ids=[29],
        bot_input={"sMode": "STATUS:PENDING_EXECUTION"},
        wait_for_completion=True,
        deferrable=False,
        poke_interval=0.2,
        pending_timeout=0.5,
        timeout=60,
    )
