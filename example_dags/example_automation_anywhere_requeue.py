"""
Re-queue the failed work items of an Automation Anywhere work queue and wait until a bot has
worked them again — the daily "send the failures round again" of an operations team.

The queue is named (``queue_id=`` works as well). Trigger it with another queue, other
statuses (e.g. ``["FAILED", "UNKNOWN"]``) or a cap per run through the DAG params. The task is
safe to retry: items an earlier try re-queued are not touched twice. Runs against any Control
Room reachable through the connection ``automation_anywhere_default`` — e.g. the bundled
emulator (``make demo``), whose bot fails an item with ``FAIL_ONCE`` in its data once and
succeeds when it is re-queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereRequeueWorkItemsOperator
from airflow_provider_aa.sensors.automation_anywhere import (
    WORK_ITEM_RUNNING_STATUSES,
    AutomationAnywhereWorkItemSensor,
)

with DAG(
    dag_id="example_automation_anywhere_requeue",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # statuses is a list and max_items a number: render templates as Python objects.
    render_template_as_native_obj=True,
    params={"queue_name": "Invoices", "statuses": ["FAILED"], "max_items": 500},
    tags=["automation_anywhere", "example"],
) as dag:
    requeue_failed = AutomationAnywhereRequeueWorkItemsOperator(
        task_id="requeue_failed",
        queue_name="{{ params.queue_name }}",
        statuses="{{ params.statuses }}",
        max_items="{{ params.max_items }}",
    )

    @task.short_circuit
    def anything_requeued(ids: list[str]) -> bool:
        """Nothing had failed: skip the wait (a sensor needs at least one id)."""
        return bool(ids)

    # Re-queued items are NEW (then the system's READY_TO_RUN, ACTIVE): wait until finished, not merely
    # picked up (the sensor's default). An item failing again fails this task, naming it.
    wait_until_finished = AutomationAnywhereWorkItemSensor(
        task_id="wait_until_finished",
        queue_name="{{ params.queue_name }}",
        work_item_ids=requeue_failed.output,
        pending_statuses=WORK_ITEM_RUNNING_STATUSES,
        poke_interval=1,
        timeout=timedelta(hours=2).total_seconds(),
    )

    anything_requeued(requeue_failed.output) >> wait_until_finished
