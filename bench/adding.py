"""Adding N work items: the hook's batched adds vs. one login + one add per item."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from bench.baseline import PlainClient
from bench.common import QUEUE_ID, Row, connection_to, items


@dataclass(frozen=True)
class AddResult:
    n: int
    requests: int
    logins: int
    seconds: float

    @property
    def items_per_second(self) -> float:
        return self.n / self.seconds


def _emulator() -> ControlRoomEmulator:
    # A paused bot: nothing but the adds happens in the Control Room while they run.
    return ControlRoomEmulator(EmulatorConfig(pause_bot=True))


def add_ours(n: int, batch_size: int = 100) -> AddResult:
    """``AutomationAnywhereHook.add_work_items`` on a fresh hook (its login included)."""
    with _emulator() as emulator, connection_to(emulator):
        hook = AutomationAnywhereHook()
        started = time.perf_counter()
        created = hook.add_work_items(QUEUE_ID, items(n), batch_size=batch_size)
        seconds = time.perf_counter() - started
        result = AddResult(n, emulator.counters.requests(), emulator.counters.logins(), seconds)
        hook.close()  # its logout is not counted: the adds are measured
        assert len(created) == len(emulator.work_items(QUEUE_ID)) == n
    return result


def add_baseline(n: int) -> AddResult:
    """One login and one single-item add per work item."""
    with _emulator() as emulator:
        client = PlainClient.for_emulator(emulator)
        started = time.perf_counter()
        for item in items(n):
            client.add_work_item(QUEUE_ID, item)
        seconds = time.perf_counter() - started
        result = AddResult(n, emulator.counters.requests(), emulator.counters.logins(), seconds)
        assert len(emulator.work_items(QUEUE_ID)) == n
    return result


def rows(sizes: tuple[int, ...] = (1, 100, 10_000), batch_size: int = 100) -> list[Row]:
    out: list[Row] = []
    add_ours(1), add_baseline(1)  # warm-up: the first hook of a process pays ~15 ms of Airflow set-up once
    for n in sizes:
        ours, base = add_ours(n, batch_size), add_baseline(n)
        target = math.ceil(n / batch_size) + 2  # a login, the probe for the queue's newest id, the adds
        scenario = f"add work items (batch {batch_size})"
        out += [
            Row(
                scenario,
                f"{n:,}",
                "HTTP requests",
                ours.requests,
                base.requests,
                f"target ≤ {target:,}: {'met' if ours.requests <= target else '**not met**'}",
            ),
            Row(scenario, f"{n:,}", "logins", ours.logins, base.logins),
            Row(scenario, f"{n:,}", "wall time (s)", ours.seconds, base.seconds),
            Row(
                scenario,
                f"{n:,}",
                "items per second",
                ours.items_per_second,
                base.items_per_second,
                "higher is better: below 1× the provider is faster",
            ),
        ]
    return out
