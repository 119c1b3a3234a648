"""
The memory of one add of 100,000 work items through ``AutomationAnywhereAddWorkItemsOperator``
(validation, fingerprint, batches of 1,000, progress saved in a task state store), against
the memory of its input.

The add runs in a fresh subprocess (``python -m bench.add_memory``) with Airflow loaded and a
warm-up add of one item done; the emulator, which holds its own copy of every item, stays in
the calling process. The input's memory is the child's RSS growth while it builds the items;
the peak is its ``VmHWM`` during the add (reset just before), counted from the same start:
``peak / input`` is 1× when the add holds nothing but its input.
"""

from __future__ import annotations

import gc
import json
import sys
import time

from bench.common import (
    QUEUE_ID,
    Row,
    child_result,
    connection_to,
    peak_rss_mib,
    report_to_parent,
    reset_peak_rss,
    rss_mib,
    start_child,
)

N = 100_000
BATCH_SIZE = 1000
#: The goal: an add holds at most half its input's memory again at its peak.
TARGET = 1.5


def invoice(n: int) -> dict[str, object]:
    """A work item as a finance queue would take it: ten attributes, about 250 bytes as JSON."""
    return {
        "invoice_id": f"INV-{n:08d}",
        "vendor": f"Vendor {n % 997} GmbH",
        "vendor_id": f"V{n % 997:05d}",
        "amount": round(n * 1.37 % 10_000, 2),
        "currency": "EUR",
        "due": f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
        "po_number": f"PO-{n * 7 % 1_000_000:06d}",
        "cost_center": f"CC-{n % 50:03d}",
        "approver": f"approver{n % 20}@example.com",
        "notes": f"Batch import {n // 1000}, line {n % 1000}",
    }


def run(n: int = N, batch_size: int = BATCH_SIZE) -> dict[str, float]:
    from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig

    with ControlRoomEmulator(EmulatorConfig(pause_bot=True)) as emulator, connection_to(emulator):
        child, job = start_child("bench.add_memory", {"n": n, "batch_size": batch_size})
        report = child_result(child, job, f"the add of {n:,} items")
        stored = len(emulator.work_items(QUEUE_ID))
    if stored != n + 1 or report["created"] != n:
        raise RuntimeError(f"{n:,} items to add, the add returned {report['created']:,}, the queue holds {stored:,}")
    return report


def rows(n: int = N, batch_size: int = BATCH_SIZE) -> list[Row]:
    result = run(n, batch_size)
    scenario = f"add work items, memory (operator, batch {batch_size:,})"
    label = f"{n:,}"
    ratio = result["peak_mib"] / result["input_mib"]
    return [
        Row(scenario, label, "input's memory (MiB)", result["input_mib"], None, "RSS growth while the items are built"),
        Row(
            scenario,
            label,
            "peak memory / input's memory",
            ratio,
            None,
            f"target ≤ {TARGET:g}×: {'met' if ratio <= TARGET else '**not met**'}; peak "
            f"{result['peak_mib']:.1f} MiB above the RSS before the items were built",
        ),
        Row(scenario, label, "wall time (s)", result["seconds"], None, "the operator's execute, login included"),
    ]


# -- the child process ------------------------------------------------------------------


def _child() -> None:
    import logging

    import bench  # noqa: F401  (a throw-away AIRFLOW_HOME when none is set)
    from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
    from bench.common import MemoryTaskState

    logging.disable(logging.INFO)
    job = json.loads(sys.stdin.read())
    n, batch_size = int(job["n"]), int(job["batch_size"])

    def add(work_items: list[dict[str, object]]) -> list[str]:
        task = AutomationAnywhereAddWorkItemsOperator(
            task_id="add", queue_id=QUEUE_ID, work_items=work_items, batch_size=batch_size
        )
        return task.execute({"task_state_store": MemoryTaskState()})  # type: ignore[arg-type]

    add([invoice(-1)])  # Airflow's one-time set-up of a first task and hook, not measured
    gc.collect()
    rss_start = rss_mib()
    work_items = [invoice(i) for i in range(n)]
    gc.collect()
    rss_input = rss_mib()
    reset_peak_rss()
    started = time.perf_counter()
    created = add(work_items)
    seconds = time.perf_counter() - started
    report_to_parent(
        {
            "created": len(created),
            "input_mib": rss_input - rss_start,
            "peak_mib": peak_rss_mib() - rss_start,
            "seconds": seconds,
        }
    )


if __name__ == "__main__":
    _child()
