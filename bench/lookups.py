"""
Status look-ups on a big queue: ``hook.get_work_items`` of 100 and of 1,000 ids of a
100,000-item queue (one ``or``-filtered list request per 100 ids, on a hook that is already
logged in, as a sensor's poke after its first) vs. the baseline's login + ``eq`` list
request per id.

The queue is filled straight into the emulator (``emulator.add_work_items``, no HTTP); the
ids asked for are spread over the whole queue, newest last.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from bench.baseline import PlainClient
from bench.common import LIST, QUEUE_ID, Row, connection_to

QUEUE_SIZE = 100_000
SIZES = (100, 1_000)


@dataclass(frozen=True)
class LookupResult:
    queue_size: int
    ids: int
    repetitions: int
    #: list requests per look-up (all ids once)
    list_requests: float
    #: logins per look-up
    logins: float
    found: int
    #: the median look-up's seconds
    seconds: float

    @property
    def requests(self) -> float:
        return self.list_requests + self.logins


def spread(ids: list[str], count: int) -> list[str]:
    """``count`` of ``ids``, evenly spread, the last one included."""
    step = len(ids) / count
    return [ids[min(len(ids) - 1, round((k + 1) * step) - 1)] for k in range(count)]


def fill(emulator: ControlRoomEmulator, size: int) -> list[str]:
    created = emulator.add_work_items(QUEUE_ID, [{"invoice_id": f"big-{i}", "amount": i} for i in range(size)])
    return [item["id"] for item in created]


def _measure(
    emulator: ControlRoomEmulator, wanted: list[str], repetitions: int, look_up
) -> tuple[float, float, float, int]:
    """Median seconds, list requests and logins per look-up, and the items found."""
    times, found = [], 0
    emulator.counters.reset()
    for _ in range(repetitions):
        started = time.perf_counter()
        found = look_up(wanted)
        times.append(time.perf_counter() - started)
    counters = emulator.counters
    return (
        statistics.median(times),
        counters.requests(LIST) / repetitions,
        counters.logins() / repetitions,
        found,
    )


def run(
    sizes: tuple[int, ...] = SIZES, queue_size: int = QUEUE_SIZE, *, baseline: bool = True
) -> dict[str, list[LookupResult]]:
    """Per side ("ours", "baseline"), a result per number of ids looked up."""
    results: dict[str, list[LookupResult]] = {"ours": [], "baseline": []}
    with ControlRoomEmulator(EmulatorConfig(pause_bot=True)) as emulator, connection_to(emulator):
        ids = fill(emulator, queue_size)
        hook = AutomationAnywhereHook()
        client = PlainClient.for_emulator(emulator)
        hook.get_work_items(QUEUE_ID, ids[:1])  # logged in, connection open: a poke after the first
        client.status(QUEUE_ID, ids[0])
        for n in sizes:
            wanted = spread(ids, n)
            repetitions = max(5, 2_000 // n)
            ours = _measure(emulator, wanted, repetitions, lambda asked: len(hook.get_work_items(QUEUE_ID, asked)))
            results["ours"].append(LookupResult(queue_size, n, repetitions, ours[1], ours[2], ours[3], ours[0]))
            if baseline:
                repetitions = 3
                base = _measure(
                    emulator,
                    wanted,
                    repetitions,
                    lambda asked: sum(client.status(QUEUE_ID, item_id) is not None for item_id in asked),
                )
                results["baseline"].append(LookupResult(queue_size, n, repetitions, base[1], base[2], base[3], base[0]))
        hook.close()
    return results


def rows(sizes: tuple[int, ...] = SIZES, queue_size: int = QUEUE_SIZE) -> list[Row]:
    results = run(sizes, queue_size)
    scenario = f"status look-ups of N ids, {queue_size:,}-item queue"
    out: list[Row] = []
    for ours, base in zip(results["ours"], results["baseline"]):
        label = f"{ours.ids:,}"
        target = -(-ours.ids // 100)
        out += [
            Row(
                scenario,
                label,
                "list requests per look-up",
                round(ours.list_requests),
                round(base.list_requests),
                f"target ≤ {target:,}: {'met' if ours.list_requests <= target else '**not met**'}",
            ),
            Row(
                scenario,
                label,
                "logins per look-up",
                round(ours.logins),
                round(base.logins),
                "ours: the hook's session stays logged in",
            ),
            Row(
                scenario,
                label,
                "time per look-up (ms)",
                ours.seconds * 1000,
                base.seconds * 1000,
                f"median of {ours.repetitions} / {base.repetitions}; all {ours.found:,} found",
            ),
        ]
    return out
