"""
Poking and deferring reach the same verdict at the same reading.

Generated sequences of Control Room readings (work items failed, pending, held, unknown,
missing; bot runs failed, running, paused, unknown, absent) are fed to the sensor's poke
path (``execute`` in poke mode) and to its trigger (``run`` + ``execute_complete``). Both
must end at the same reading with the same outcome and the same message.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from airflow_provider_aa.control_room.bots import BotRun
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.sensors.automation_anywhere import (
    AutomationAnywhereBotRunSensor,
    AutomationAnywhereWorkItemSensor,
)
from airflow_provider_aa.tasks.waits import TriggerPolling
from airflow_provider_aa.triggers import automation_anywhere as triggers

SEQUENCES = 150
WORK_ITEM_STATUSES = ["NEW", "ACTIVE", "ON_HOLD", "COMPLETED", "FAILED", "DATA_ERROR", "BRAND_NEW", None]
BOT_RUN_STATUSES = ["DEPLOYED", "RUNNING", "RUN_PAUSED", "UNKNOWN", "COMPLETED", "RUN_FAILED", "WEIRD_STATUS"]
DEPLOYMENT = "1f0c6b1e-8d2a-4c55-9d6e-0b8f3c2a7e41"


class Exhausted(Exception):
    """The script ran out of readings while the wait went on."""


class Script:
    """Hands out one scripted reading per call and counts the readings taken."""

    def __init__(self, readings: list[Any]) -> None:
        self.readings = readings
        self.taken = 0

    def next(self) -> Any:
        if self.taken == len(self.readings):
            raise Exhausted(f"no reading after {self.taken}")
        self.taken += 1
        return self.readings[self.taken - 1]


class FakeClient:
    """What a trigger needs of its shared client, answering from a script."""

    def __init__(self, script: Script) -> None:
        self.script = script

    def hold(self) -> None:
        pass

    def release(self) -> None:
        pass

    async def lookup(self, queue_id: str, work_item_ids: list[str]) -> dict[str, Any]:
        return self.script.next()

    async def read_bot_runs(self, deployment_id: str) -> Any:
        return self.script.next()


def outcome(call) -> tuple[str, str]:
    try:
        return "returned", repr(call())
    except Exhausted:
        return "still waiting", ""
    except Exception as problem:  # the verdict: its type and message
        message = str(problem)
        if "Exhausted" in message:
            return "still waiting", ""
        return type(problem).__name__, message.removeprefix(_TRIGGER_PREFIXES[0]).removeprefix(_TRIGGER_PREFIXES[1])


# execute_complete wraps errors (not verdicts) that reached it from the triggerer.
_TRIGGER_PREFIXES = (
    "Waiting for work items failed in the triggerer: ",
    "Waiting for the bot run failed in the triggerer: ",
)


def work_item_readings(rng: random.Random) -> list[dict[str, Any]]:
    ids = [str(40001 + n) for n in range(rng.randint(1, 3))]
    readings = []
    for _ in range(rng.randint(1, 5)):
        reading = {}
        for item_id in ids:
            status = rng.choice(WORK_ITEM_STATUSES)
            if status is not None:  # None: the queue does not hold the item
                reading[item_id] = {"id": item_id, "status": status, "error": f"error of {item_id}"}
        readings.append(reading)
    return [ids, *readings]


def bot_run_readings(rng: random.Random) -> list[list[BotRun]]:
    runs = rng.randint(1, 2)
    readings = []
    for _ in range(rng.randint(1, 5)):
        if rng.random() < 0.2:
            readings.append([])  # no activity record yet
        else:
            readings.append([BotRun(f"e{n}", rng.choice(BOT_RUN_STATUSES), f"message {n}") for n in range(runs)])
    return readings


def run_trigger(trigger, script: Script) -> dict[str, Any]:
    async def first_event():
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    return asyncio.run(first_event())


@pytest.mark.parametrize("seed", range(SEQUENCES))
def test_work_item_waits_end_alike(seed, monkeypatch):
    rng = random.Random(seed)
    ids, *readings = work_item_readings(rng)
    pending = rng.choice([("NEW",), ("NEW", "ACTIVE", "ON_HOLD")])

    def sensor():
        return AutomationAnywhereWorkItemSensor(
            task_id="wait", queue_id=20, work_item_ids=ids, pending_statuses=pending, poke_interval=0
        )

    poked = Script(readings)
    monkeypatch.setattr(AutomationAnywhereHook, "get_work_items", lambda self, queue, wanted: poked.next())
    by_poking = outcome(lambda: sensor().execute({}))

    deferred = Script(readings)
    waiting = sensor()
    trigger = waiting.work_item_wait.trigger("automation_anywhere_default", TriggerPolling(30.0, 0.01))
    trigger.clients = FakeClients(FakeClient(deferred))
    by_deferring = outcome(lambda: waiting.execute_complete({}, run_trigger(trigger, deferred)))

    assert (by_deferring, deferred.taken) == (by_poking, poked.taken)


@pytest.mark.parametrize("seed", range(SEQUENCES))
def test_bot_run_waits_end_alike(seed, monkeypatch):
    rng = random.Random(seed)
    readings = bot_run_readings(rng)
    policy = {
        "activity_grace_period": rng.choice([0.0, 1e6]),
        "paused_timeout": rng.choice([0.0, None]),
        "unknown_timeout": rng.choice([0.0, None]),
    }

    def sensor():
        return AutomationAnywhereBotRunSensor(task_id="wait", deployment_id=DEPLOYMENT, poke_interval=0, **policy)

    poked = Script(readings)
    monkeypatch.setattr(AutomationAnywhereHook, "get_bot_runs", lambda self, deployment_id: poked.next())
    by_poking = outcome(lambda: sensor().execute({}))

    deferred = Script(readings)
    waiting = sensor()
    trigger = waiting.bot_run_wait({}).trigger("automation_anywhere_default", TriggerPolling(30.0, 0.01))
    trigger.clients = FakeClients(FakeClient(deferred))
    by_deferring = outcome(lambda: waiting.execute_complete({}, run_trigger(trigger, deferred)))

    assert (by_deferring, deferred.taken) == (by_poking, poked.taken)


def test_the_generated_sequences_cover_every_kind_of_ending():
    """The parity tests above are only worth something if the sequences end in every way."""
    endings = set()
    for seed in range(SEQUENCES):
        rng = random.Random(seed)
        ids, *readings = work_item_readings(rng)
        for reading in readings:
            statuses = {item.get("status") for item in reading.values()}
            endings.add(
                "missing" if len(reading) < len(ids) else "failed" if statuses & {"FAILED", "DATA_ERROR"} else "other"
            )
    assert endings == {"missing", "failed", "other"}


class FakeClients:
    """Serves one client to every trigger (as ``TriggerClients`` does); a poll follows the last at once."""

    clock = staticmethod(time.time)

    def __init__(self, client):
        self._client = client

    async def client(self, conn_id: str, *, reread: bool = False):
        return self._client

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


def test_a_reading_that_outlasts_the_deadline_ends_the_wait_near_it(monkeypatch):
    """The deadline bounds a reading in progress, not only the sleeps between readings."""

    class Hanging(FakeClient):
        async def lookup(self, queue_id, work_item_ids):
            await asyncio.sleep(3600)

    monkeypatch.setattr(triggers, "READING_GRACE", 0.5)
    waiting = AutomationAnywhereWorkItemSensor(task_id="wait", queue_id=20, work_item_ids=["40001"])
    trigger = waiting.work_item_wait.trigger("automation_anywhere_default", TriggerPolling(0.5, 0.01))
    trigger.clients = FakeClients(Hanging(Script([])))
    started = time.monotonic()
    event = run_trigger(trigger, Script([]))
    assert event["status"] == "timeout" and "had not answered" in event["message"]
    assert time.monotonic() - started < 2.0
