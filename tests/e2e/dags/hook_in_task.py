"""
A ``@task`` that reads the work items given in the run's conf (``work_item_ids``) with the
hook, retried up to 3 times; its failure and retry callbacks keep which of them ran and the
error they were given (``SEEN``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, get_current_context, task

SEEN: list[tuple[str, BaseException | None]] = []


def failed(context: Any) -> None:
    # Airflow 3.1's dag.test() gives callbacks no "exception" (its task runner's main() does).
    SEEN.append(("failed", context.get("exception")))


def retried(context: Any) -> None:
    SEEN.append(("retried", context.get("exception")))


with DAG(
    dag_id="hook_in_task",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
) as dag:

    @task(retries=3, retry_delay=timedelta(0), on_failure_callback=failed, on_retry_callback=retried)
    def read() -> list[str]:
        from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

        hook = AutomationAnywhereHook()
        try:
            return list(hook.get_work_items(20, get_current_context()["dag_run"].conf["work_item_ids"]))
        finally:
            hook.close()

    read()
