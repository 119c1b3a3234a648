"""A sensor waiting for the work items given in the run's conf (``work_item_ids``)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

with DAG(
    dag_id="failing_for_good",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    render_template_as_native_obj=True,
) as dag:
    AutomationAnywhereWorkItemSensor(
        task_id="wait",
        queue_id=20,
        work_item_ids="{{ dag_run.conf['work_item_ids'] }}",
        pending_statuses=WORK_ITEM_RUNNING_STATUSES,
        poke_interval=0.5,
        timeout=60,
    )
