"""
Case 9: a DAG started by an asset watcher on queue 39, its watermark in the triggerer's
asset state store.

The test adds held items to queue 39 and completes them in three batches (the second while
the triggerer is dead, on Airflow 3.3); each run reports the ids of the items in the events
that started it, and together the runs must see every item exactly once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemEventTrigger

watched_queue = Asset(
    "automation-anywhere://emulator/queues/Asset watcher",
    watchers=[
        AssetWatcher(
            name="deployment_asset_watcher",
            trigger=AutomationAnywhereWorkItemEventTrigger(
                queue_id=39, statuses=["COMPLETED"], poll_interval=2, automation_anywhere_conn_id="aa_watch"
            ),
        )
    ],
)

with DAG(
    dag_id="deployment_asset_watcher",
    schedule=[watched_queue],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["automation_anywhere", "deployment-test"],
) as dag:

    @task
    def report(triggering_asset_events: Any = None) -> list[str]:
        """The ids of the items in the events that started this run, in event order (repeats kept)."""
        return [
            item["id"]
            for event in triggering_asset_events[watched_queue]
            for item in event.extra["payload"]["work_items"]
        ]

    report()
