"""
The Celery leg's mapped adds (``run.py --executor celery``): 50 mapped instances of the add
operator, one work item each, on queue 36, run at the same time by the two Celery workers.
Each item must be added exactly once.

``deployment_celery_mapped_variables``: the same on queue 38, with the progress kept as on
Airflow 3.1/3.2 (Variables and their per-map-index index, ``task_state.py``), whose index
entries the test checks while the instances run.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator

MAPPED = 50

with DAG(
    dag_id="deployment_celery_mapped",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_tasks=64,
    tags=["automation_anywhere", "deployment-test"],
):
    AutomationAnywhereAddWorkItemsOperator.partial(
        task_id="add", automation_anywhere_conn_id="aa_mapped", queue_id=36
    ).expand(work_items=[[{"n": n, "ref": f"M-{n}"}] for n in range(MAPPED)])


class VariableFallbackAdd(AutomationAnywhereAddWorkItemsOperator):
    """The add as on Airflow 3.1/3.2: its context without Airflow 3.3's task state store, so that its progress is kept in Variables."""

    def execute(self, context):
        return super().execute({key: value for key, value in context.items() if key != "task_state_store"})


with DAG(
    dag_id="deployment_celery_mapped_variables",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_tasks=64,
    tags=["automation_anywhere", "deployment-test"],
):
    VariableFallbackAdd.partial(task_id="add", automation_anywhere_conn_id="aa_mapped_variables", queue_id=38).expand(
        work_items=[[{"n": n, "ref": f"V-{n}"}] for n in range(MAPPED)]
    )
