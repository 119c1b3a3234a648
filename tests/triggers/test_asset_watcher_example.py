"""The asset watcher example DAG: its watcher, run against the emulator, starts a report of the items."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemEventTrigger
from tests.e2e.conftest import load_example_dag
from tests.triggers.conftest import VirtualTriggerClients


def test_the_examples_watcher_fires_for_finished_invoices_and_the_dag_reports_them(
    virtual_emulator, virtual_time, capsys
):
    dag = load_example_dag("example_automation_anywhere_asset_watcher")
    (asset,) = dag.timetable.asset_condition.objects
    (watcher,) = asset.watchers
    trigger = watcher.trigger
    assert isinstance(trigger, AutomationAnywhereWorkItemEventTrigger)
    assert asset.uri == "automation-anywhere://controlroom.example.com/queues/Invoices"
    trigger.clients = VirtualTriggerClients(virtual_time)
    ids = [item["id"] for item in virtual_emulator.add_work_items(20, [{"n": 1}, {"n": "FAIL"}])]

    async def first_event():
        async for event in trigger.run():
            return event.payload

    payload = asyncio.run(first_event())
    # The event as Airflow records a watcher's event on the asset, behind Airflow's own accessor.
    event = SimpleNamespace(
        asset=SimpleNamespace(name=asset.name, uri=asset.uri),
        source_aliases=[],
        extra={"from_trigger": True, "payload": payload},
    )
    events = TriggeringAssetEventsAccessor.build([event])  # type: ignore[list-item]
    report = dag.get_task("report").python_callable(triggering_asset_events=events)

    assert report == {ids[0]: "COMPLETED", ids[1]: "FAILED"}
    assert f"Work item {ids[1]} of queue 20: FAILED" in capsys.readouterr().out
