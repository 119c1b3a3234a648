"""
The Celery leg's mapped adds (``run.py --executor celery``): 50 mapped instances of the add
operator, one work item each, on queue 36, run at the same time by the two Celery workers.
Each item must be added exactly once.
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
