"""
Case 3: a worker killed (SIGKILL) in the middle of a 1,000-item add; ``retries=1``.

The test slows the queue's adds down (emulator fault ``latency``) so that it can kill the
worker after a few batches, one of them possibly in flight, and then checks that the retry
added the rest: every item once, none missing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator

ITEMS = 1000

with DAG(
    dag_id="deployment_kill_add",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["automation_anywhere", "deployment-test"],
) as dag:
    AutomationAnywhereAddWorkItemsOperator(
        task_id="add_1000",
        automation_anywhere_conn_id="aa_kill",
        queue_id=32,
        work_items=[{"n": n, "ref": f"K-{n}"} for n in range(ITEMS)],
        batch_size=100,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )
