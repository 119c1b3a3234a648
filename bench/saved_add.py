"""
Adding 10,000 and 100,000 work items as the add operator does: ``hook.add_work_items`` with
``batch_size=1000`` and an ``on_progress`` that saves the progress like the operator
(:class:`~airflow_provider_aa.operators.automation_anywhere.SavedAddProgress` over a task
state store, here :class:`~bench.common.MemoryTaskState`, which counts the bytes written as
JSON).

The add runs in a fresh subprocess (``python -m bench.saved_add``) with Airflow loaded, so
that its RSS is the provider's own: the emulator, and its copy of every item, stays in the
calling process. There is no baseline: code without the provider saves no progress.
"""

from __future__ import annotations

import gc
import json
import math
import sys
import time
from dataclasses import dataclass

from bench.common import (
    ADD,
    LIST,
    LOGIN,
    LOGOUT,
    QUEUE_ID,
    Row,
    child_result,
    connection_to,
    items,
    peak_rss_mib,
    report_to_parent,
    reset_peak_rss,
    rss_mib,
    start_child,
)

BATCH_SIZE = 1000
SIZES = (10_000, 100_000)


@dataclass(frozen=True)
class SavedAddResult:
    n: int
    batch_size: int
    #: requests per endpoint, as the emulator counted them
    requests: dict[str, int]
    created: int
    state_writes: int
    state_bytes_written: int
    #: what the store holds at the end (before the operator clears it)
    state_bytes_stored: int
    #: what saving the whole progress (header and every id so far) at each step would write
    whole_progress_bytes: int
    rss_before_mib: float
    rss_peak_mib: float
    #: RSS once the add returned, its result still held
    rss_after_mib: float
    #: RSS once the result was dropped (and garbage collected)
    rss_released_mib: float
    seconds: float

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def rss_growth_mib(self) -> float:
        return self.rss_peak_mib - self.rss_before_mib

    @property
    def bytes_per_item(self) -> float:
        return self.state_bytes_written / self.n


def run(n: int, batch_size: int = BATCH_SIZE) -> SavedAddResult:
    """Add ``n`` items in a fresh process, the progress saved at every step."""
    from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig

    # A paused bot: nothing but the adds happens in the Control Room while they run.
    with ControlRoomEmulator(EmulatorConfig(pause_bot=True)) as emulator, connection_to(emulator):
        child, job = start_child("bench.saved_add", {"n": n, "batch_size": batch_size})
        report = child_result(child, job, f"the add of {n:,} items")
        # the logout of hook.close(), sent once the add returned, is not counted: the add is measured
        counted = emulator.counters.snapshot()["requests"]
        requests = {endpoint: count for endpoint, count in counted.items() if endpoint != LOGOUT}
        stored = len(emulator.work_items(QUEUE_ID))
    if stored != n or report["created"] != n:
        raise RuntimeError(f"{n:,} items to add, the add returned {report['created']:,}, the queue holds {stored:,}")
    return SavedAddResult(n=n, batch_size=batch_size, requests=requests, **report)


def rows(sizes: tuple[int, ...] = SIZES, batch_size: int = BATCH_SIZE) -> list[Row]:
    results = [run(n, batch_size) for n in sizes]
    scenario = f"add work items, progress saved (batch {batch_size:,})"
    out: list[Row] = []
    for result in results:
        label = f"{result.n:,}"
        batches = math.ceil(result.n / batch_size)
        target = batches + 2  # a login, the newest-id probe, one add per batch
        out += [
            Row(
                scenario,
                label,
                "HTTP requests",
                result.total_requests,
                None,
                f"target ≤ {target:,}: {'met' if result.total_requests <= target else '**not met**'}",
            ),
            Row(scenario, label, "… logins (`POST /v2/authentication`)", result.requests.get(LOGIN, 0), None),
            Row(
                scenario,
                label,
                "… list requests (`POST …/workitems/list`)",
                result.requests.get(LIST, 0),
                None,
                "the probe for the queue's newest id, once per call",
            ),
            Row(scenario, label, "… adds (`POST …/workitems`)", result.requests.get(ADD, 0), None),
            Row(
                scenario,
                label,
                "writes to the task state store",
                result.state_writes,
                None,
                f"a header before and after each of {batches:,} batches, each batch's ids once",
            ),
            Row(
                scenario,
                label,
                "bytes written to the task state store",
                result.state_bytes_written,
                None,
                f"{result.state_bytes_stored:,} held at the end; saving the whole progress at every step "
                f"would write {result.whole_progress_bytes:,}",
            ),
            Row(
                scenario,
                label,
                "… per item",
                result.bytes_per_item,
                None,
                "linear in N: each id once (its digits, quotes, a separator; ids from 100,000 on have 6 digits) "
                "and a header per step",
            ),
            Row(
                scenario,
                label,
                "RSS growth of the process (MiB)",
                result.rss_growth_mib,
                None,
                f"peak minus RSS before the add; {result.rss_after_mib - result.rss_before_mib:.1f} still held "
                f"with the result, {result.rss_released_mib - result.rss_before_mib:.1f} once it is dropped",
            ),
            Row(scenario, label, "wall time (s)", result.seconds, None, "login and probe included"),
            Row(scenario, label, "items per second", result.n / result.seconds, None),
        ]
    return out


def whole_progress_bytes(saves: list[tuple[int, int]], batch_bytes: list[int]) -> int:
    """
    What saving ``{"header": header, "ids": every id so far}`` as JSON at every step would
    write. ``saves``: per save, the length of its header's JSON and how many batches were
    done; ``batch_bytes``: the length of each batch's id list as JSON.
    """
    # The ids of the first k batches: their lists' insides joined by ", ", in brackets.
    ids = [2]
    inside = 0
    for number, size in enumerate(batch_bytes):
        inside += size - 2 + (2 if number else 0)
        ids.append(inside + 2)
    wrapping = len('{"header": , "ids": }')
    return sum(header + ids[batches] + wrapping for header, batches in saves)


# -- the child process ------------------------------------------------------------------


def _child() -> None:
    import logging

    import bench  # noqa: F401  (a throw-away AIRFLOW_HOME when none is set)
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
    from airflow_provider_aa.tasks.state import SavedAddProgress, TaskStateStore
    from bench.common import MemoryTaskState

    logging.disable(logging.INFO)
    job = json.loads(sys.stdin.read())
    n, batch_size = int(job["n"]), int(job["batch_size"])
    work_items = items(n)
    store = MemoryTaskState()
    saved = SavedAddProgress(TaskStateStore({"task_state_store": store}, "add_progress"))  # type: ignore[arg-type]
    headers: list[tuple[int, int]] = []  # per save: its header's bytes, batches saved so far
    batch_bytes: list[int] = []

    def on_progress(progress):  # type: ignore[no-untyped-def]
        saved.save(progress)
        # For the comparison only (cheap): what saving everything at this step would have written.
        while len(batch_bytes) < len(progress.batches):
            batch_bytes.append(len(json.dumps(progress.batches[len(batch_bytes)])))
        headers.append((len(json.dumps(progress.header())), len(progress.batches)))

    gc.collect()
    rss_before = rss_mib()
    reset_peak_rss()
    started = time.perf_counter()
    hook = AutomationAnywhereHook()
    created = hook.add_work_items(QUEUE_ID, work_items, batch_size=batch_size, on_progress=on_progress)
    seconds = time.perf_counter() - started
    rss_peak = peak_rss_mib()
    rss_after = rss_mib()
    count = len(created)
    del created
    gc.collect()
    rss_released = rss_mib()
    hook.close()
    whole = whole_progress_bytes(headers, batch_bytes)
    report_to_parent(
        {
            "created": count,
            "state_writes": store.writes,
            "state_bytes_written": store.bytes_written,
            "state_bytes_stored": store.bytes_stored,
            "whole_progress_bytes": whole,
            "rss_before_mib": rss_before,
            "rss_peak_mib": rss_peak,
            "rss_after_mib": rss_after,
            "rss_released_mib": rss_released,
            "seconds": seconds,
        }
    )


if __name__ == "__main__":
    _child()
