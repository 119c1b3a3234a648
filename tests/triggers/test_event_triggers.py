"""The asset watchers' triggers against the emulator over HTTP, on virtual time: the watermark."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.triggers.automation_anywhere import (
    AutomationAnywhereBotRunEventTrigger,
    AutomationAnywhereWorkItemEventTrigger,
)
from tests.triggers.conftest import VirtualTriggerClients

#: The virtual clock's start, as the Control Room writes instants.
SINCE_START = "2027-01-15T08:00:00.000Z"


class AssetStore:
    """The triggerer's asset state store of one watched asset (``aget``/``aset``), kept in a dict."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return json.loads(self.values[key]) if key in self.values else default

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = json.dumps(value)


def watcher(clients, store: AssetStore | None = None, **kwargs) -> AutomationAnywhereWorkItemEventTrigger:
    trigger = AutomationAnywhereWorkItemEventTrigger(**{"queue_id": 20, "poll_interval": 60, **kwargs}, clients=clients)
    trigger.asset_state_store = store  # as the triggerer sets it (None: Airflow before 3.3)
    return trigger


async def collect(trigger, until, *, during=None) -> list[dict[str, Any]]:
    """The trigger's events until ``until(events)``; ``during`` runs beside it (adds and completes items)."""
    events: list[dict[str, Any]] = []
    side = asyncio.ensure_future(during()) if during else None
    try:
        async for event in trigger.run():
            events.append(event.payload)
            if until(events):
                break
    finally:
        if side is not None:
            side.cancel()
    return events


def reported(events) -> list[str]:
    return [item["id"] for event in events for item in event["work_items"]]


def add(emulator, count: int, start: int = 0) -> list[str]:
    return [item["id"] for item in emulator.add_work_items(20, [{"n": start + n} for n in range(count)])]


def test_items_finished_at_one_instant_across_pages_and_events_come_once_each(
    virtual_emulator, virtual_clients, virtual_time
):
    # 250 items added at once finish at one instant: more than a page and an event hold.
    ids = add(virtual_emulator, 250)
    events = asyncio.run(collect(watcher(virtual_clients), lambda events: len(reported(events)) >= 250))

    assert sorted(reported(events), key=int) == ids
    assert [len(event["work_items"]) for event in events] == [100, 100, 50]
    finished = {item["updatedOn"] for event in events for item in event["work_items"]}
    assert len(finished) == 1
    assert events[-1]["cursor"] == {"since": finished.pop(), "seen": ids}
    assert {event["queue_id"] for event in events} == {"20"}
    assert set(events[0]["work_items"][0]) == {"id", "status", "result", "updatedOn"}


def stored(store: AssetStore) -> dict[str, Any]:
    return json.loads(store.values['automation_anywhere.work_items_watermark:{"queue_id": "20"}'])


def test_a_restart_resumes_from_the_stored_watermark(virtual_emulator, virtual_time):
    store = AssetStore()
    batches = [add(virtual_emulator, 3)]

    async def finish_later(start: int) -> None:
        await virtual_time.sleep(600)
        batches.append(add(virtual_emulator, 2, start=start))

    # First life: batch 1, then batch 2 ten minutes later; it ends (killed) right after the
    # event of batch 2, before that event is STORE_DELAY old.
    first = asyncio.run(
        collect(
            watcher(VirtualTriggerClients(virtual_time), store),
            lambda events: len(events) == 2,
            during=lambda: finish_later(10),
        )
    )
    assert [reported([event]) for event in first] == batches
    # Stored: the watermark past batch 1 (its event was old enough at the next poll), not past batch 2.
    assert stored(store) == {"since": first[0]["work_items"][0]["updatedOn"], "seen": batches[0]}

    # Second life, on the same store: batch 2 again (its watermark was not stored), never
    # batch 1; then batch 3.
    second = asyncio.run(
        collect(
            watcher(VirtualTriggerClients(virtual_time), store),
            lambda events: len(reported(events)) >= 4,
            during=lambda: finish_later(20),
        )
    )
    assert [reported([event]) for event in second] == [batches[1], batches[2]]
    assert stored(store)["seen"] == batches[1]


def test_a_watcher_starting_reports_what_finishes_from_then_on(virtual_emulator, virtual_time):
    store = AssetStore()
    virtual_emulator.configure(pickup_delay=0.0, work_delay=0.0)
    before = add(virtual_emulator, 2)
    virtual_emulator.configure(pickup_delay=60.0, work_delay=60.0)
    # finished half a minute before the watcher starts
    assert {item["status"] for item in virtual_emulator.work_items(20) if item["id"] in before} == {"COMPLETED"}
    virtual_time.now += 30

    async def finish_later() -> None:
        await virtual_time.sleep(120)
        add(virtual_emulator, 1, start=5)

    events = asyncio.run(
        collect(watcher(VirtualTriggerClients(virtual_time), store), lambda e: len(e) >= 1, during=finish_later)
    )
    assert reported(events) == [virtual_emulator.work_items(20)[-1]["id"]]


def test_a_quiet_queue_costs_one_request_a_poll_and_loses_nothing(virtual_emulator, virtual_time):
    lists: list[float] = []
    virtual_emulator.observe(
        requests=lambda event: (
            lists.append(virtual_time()) if event.phase == "start" and "workitems/list" in event.path else None
        )
    )
    store = AssetStore()

    async def finish_after_an_hour() -> None:
        await virtual_time.sleep(3600)
        add(virtual_emulator, 1)

    events = asyncio.run(
        collect(watcher(VirtualTriggerClients(virtual_time), store), lambda e: len(e) >= 1, during=finish_after_an_hour)
    )
    assert len(reported(events)) == 1
    # An hour and two minutes of polls every minute: one list request each, and one more at
    # the first start, to learn the Control Room's clock.
    assert len(lists) == 60 + 2 + 2
    assert lists[0] == lists[1] and len(set(lists)) == len(lists) - 1


@pytest.mark.parametrize("store", ["absent", None, "several assets"])
def test_without_a_store_the_watermark_is_kept_in_memory_with_one_warning(
    virtual_emulator, virtual_time, store, capsys
):
    class SeveralAssets:
        async def aget(self, key: str, default: Any = None) -> Any:
            raise ValueError("Task has 2 concrete inlets and outlets")

        async def aset(self, key: str, value: Any) -> None:
            raise ValueError("Task has 2 concrete inlets and outlets")

    batches = [add(virtual_emulator, 2)]

    async def finish_more() -> None:
        for start in (10, 20):
            await virtual_time.sleep(600)
            batches.append(add(virtual_emulator, 2, start=start))

    trigger = watcher(VirtualTriggerClients(virtual_time), SeveralAssets() if store == "several assets" else None)
    if store == "absent":  # Airflow 3.1 and 3.2: event triggers have no such attribute
        del trigger.asset_state_store
    events = asyncio.run(collect(trigger, lambda e: len(e) == 3, during=finish_more))
    assert [reported([event]) for event in events] == batches
    warnings = [line for line in capsys.readouterr().out.splitlines() if "kept in memory" in line]
    reason = "watches several assets" if store == "several assets" else "gave the trigger no asset state store"
    assert reason in warnings[0]
    assert len(warnings) == 1
    assert "may report again, or miss" in warnings[0]


def test_a_queue_name_is_looked_up_when_the_watcher_runs(virtual_emulator, virtual_time):
    trigger = watcher(VirtualTriggerClients(virtual_time), AssetStore(), queue_id=None, queue_name="Invoices")
    ids = add(virtual_emulator, 1)
    events = asyncio.run(collect(trigger, lambda e: len(e) >= 1))
    assert events[0]["queue_id"] == "20"
    assert reported(events) == ids


def test_kwargs_are_plain_values_and_the_identity_is_stable():
    trigger = AutomationAnywhereWorkItemEventTrigger(queue_name="Invoices", statuses=["completed"])
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_aa.triggers.automation_anywhere.AutomationAnywhereWorkItemEventTrigger"
    assert kwargs == {
        "queue_name": "Invoices",
        "statuses": ["COMPLETED"],
        "poll_interval": 60,
        "automation_anywhere_conn_id": "automation_anywhere_default",
    }
    assert AutomationAnywhereWorkItemEventTrigger(**json.loads(json.dumps(kwargs))).serialize() == (path, kwargs)
    assert trigger.store_key == 'automation_anywhere.work_items_watermark:{"queue_name": "Invoices"}'


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Give queue_id or queue_name."),
        ({"queue_id": 20, "queue_name": "Invoices"}, "Give queue_id or queue_name, not both."),
        ({"queue_id": "x"}, "queue_id must be a positive integer"),
        ({"queue_id": 20, "statuses": []}, "statuses must be a non-empty list"),
        ({"queue_id": 20, "poll_interval": 0}, "poll_interval must be a positive number"),
    ],
)
def test_bad_parameters_fail_when_the_trigger_is_made(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        AutomationAnywhereWorkItemEventTrigger(**kwargs)


def test_bot_runs_that_finished_are_reported_with_their_deployment(virtual_emulator, virtual_time):
    virtual_emulator.configure(pickup_delay=0.0, work_delay=0.0)
    deployments: list[str] = []

    async def deploy_later() -> None:
        await virtual_time.sleep(90)
        # Time stands still while the deploy is on its way, as for the trigger's own requests:
        # on a busy machine the thread would otherwise let the trigger poll on for hours.
        async with virtual_time.in_flight():
            deployments.append(await asyncio.to_thread(AutomationAnywhereHook().deploy_bot, 501, [29]))

    trigger = AutomationAnywhereBotRunEventTrigger(
        bot_id=501, poll_interval=60, clients=VirtualTriggerClients(virtual_time)
    )
    trigger.asset_state_store = AssetStore()
    events = asyncio.run(collect(trigger, lambda e: len(e) >= 1, during=deploy_later))
    assert events[0]["bot_id"] == "501"
    assert [(run["deployment_id"], run["status"]) for run in events[0]["runs"]] == [(deployments[0], "COMPLETED")]
    assert set(events[0]["cursor"]) == {"since", "seen"}


def test_a_failing_poll_fires_nothing_and_the_next_one_reports(virtual_emulator, virtual_time, capsys):
    trigger = watcher(VirtualTriggerClients(virtual_time), AssetStore())
    ids = add(virtual_emulator, 2)
    # Every attempt of one poll fails (the session's retries included); the poll after it works.
    virtual_emulator.faults.add("server_error", count=5, path="/workitems/list", status=503)
    lists: list[float] = []
    virtual_emulator.observe(
        requests=lambda event: (
            lists.append(virtual_time())
            if event.phase == "end" and "workitems/list" in event.path and event.status == 200
            else None
        )
    )
    events = asyncio.run(collect(trigger, lambda e: len(e) >= 1))
    assert [reported([event]) for event in events] == [ids]
    assert virtual_emulator.counters.statuses()["503"] == 5
    assert "(tried again next poll)" in capsys.readouterr().out
    # The first start's clock probe failed with the poll; it came at the next tick, not at once.
    assert 60 <= lists[0] - 1_800_000_000.0 < 120


def test_a_store_that_fails_to_answer_is_asked_again_before_anything_is_reported(
    virtual_emulator, virtual_time, capsys
):
    class FailsOnce(AssetStore):
        async def aget(self, key: str, default: Any = None) -> Any:
            if not hasattr(self, "failed"):
                self.failed = True
                raise RuntimeError("the supervisor did not answer")
            return await super().aget(key, default)

    store = FailsOnce()
    store.values['automation_anywhere.work_items_watermark:{"queue_id": "20"}'] = json.dumps({"since": SINCE_START})
    ids = add(virtual_emulator, 2)
    events = asyncio.run(collect(watcher(VirtualTriggerClients(virtual_time), store), lambda e: len(e) >= 1))
    assert reported(events) == ids
    assert "Watching work_items failed (tried again next poll)" in capsys.readouterr().out
