"""
A DAG started by the Control Room: each time work items of the queue "Invoices" finish
(COMPLETED or FAILED), an asset watcher in the triggerer fires an asset event carrying them,
and this DAG runs with those events, reporting each item's status.

Needs a running triggerer (``airflow triggerer``). The watcher reads the connection
``automation_anywhere_default``; the asset's URI names the Control Room and the queue. What
is guaranteed on each Airflow version (and why a consumer should drop repeated ids):
``docs/asset-watchers.md``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemEventTrigger

QUEUE_NAME = "Invoices"
#: The Control Room's host, to name the asset (the watcher itself reads the connection).
CONTROL_ROOM_HOST = os.environ.get("AA_CONTROL_ROOM_HOST", "controlroom.example.com")

invoices_finished = Asset(
    f"automation-anywhere://{CONTROL_ROOM_HOST}/queues/{QUEUE_NAME}",
    watchers=[
        AssetWatcher(
            name="invoices_finished",
            # Plain values only: the trigger's identity must not change between DAG parses.
            trigger=AutomationAnywhereWorkItemEventTrigger(queue_name=QUEUE_NAME, poll_interval=30),
        )
    ],
)

with DAG(
    dag_id="example_automation_anywhere_asset_watcher",
    schedule=[invoices_finished],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["automation_anywhere", "example"],
) as dag:

    @task
    def report(triggering_asset_events: Any = None) -> dict[str, str]:
        """``{work item id: status}`` of the items in the events that started this run."""
        finished: dict[str, str] = {}
        for event in triggering_asset_events[invoices_finished]:
            payload = event.extra["payload"]
            for item in payload["work_items"]:
                # Ids, not events, count: a watcher may deliver an item twice around a restart.
                finished[item["id"]] = item["status"]
                print(f"Work item {item['id']} of queue {payload['queue_id']}: {item['status']}")
        return finished

    report()
