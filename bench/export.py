"""
Exporting N bot runs: ``AutomationAnywhereExportOperator`` over the emulator's seeded history
(``history_runs=N``) into a local folder, for N = 10,000 and 100,000.

The export runs in a fresh subprocess (``python -m bench.export``) with Airflow loaded; the
emulator stays in the benchmark's process. Peak RSS is the child's ``VmHWM``, reset just
before the export, minus its RSS then: it must not grow with N (records are streamed to the
file one page at a time).
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from bench.common import (
    Row,
    child_result,
    connection_to,
    peak_rss_mib,
    report_to_parent,
    reset_peak_rss,
    rss_mib,
    start_child,
)

SIZES = (10_000, 100_000)
ACTIVITY = "POST /v3/activity/list"


def run(n: int) -> dict[str, float]:
    from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig

    with ControlRoomEmulator(EmulatorConfig(history_runs=n)) as emulator, connection_to(emulator):
        with tempfile.TemporaryDirectory(prefix="aa-bench-export-") as folder:
            child, job = start_child("bench.export", {"folder": folder})
            report = child_result(child, job, f"the export of {n:,} bot runs")
        report["requests"] = emulator.counters.requests(ACTIVITY)
    if report["records"] != n:
        raise RuntimeError(f"{n:,} bot runs in the history, {report['records']:,} exported")
    return report


#: How much more the largest export may grow the process than the smallest: pages are
#: streamed, so anything beyond noise means records are being held.
RSS_SLACK_MIB = 2.0


def rows(sizes: tuple[int, ...] = SIZES) -> list[Row]:
    scenario = "export bot runs (`AutomationAnywhereExportOperator`, pages of 100)"
    out: list[Row] = []
    growth: dict[int, float] = {}
    for n in sizes:
        result = run(n)
        label = f"{n:,}"
        # Each page after the first starts at the last change time read: 99 new runs of 100.
        target = -(-(n - 100) // 99) + 1
        growth[n] = result["rss_peak_mib"] - result["rss_before_mib"]
        flat = growth[n] <= growth[sizes[0]] + RSS_SLACK_MIB
        out += [
            Row(
                scenario,
                label,
                "list requests (`POST /v3/activity/list`)",
                int(result["requests"]),
                None,
                f"target {target:,}: {'met' if result['requests'] <= target else '**not met**'}",
            ),
            Row(scenario, label, "wall time (s)", result["seconds"], None),
            Row(scenario, label, "records per second", n / result["seconds"], None),
            Row(
                scenario,
                label,
                "peak RSS growth (MiB)",
                growth[n],
                None,
                f"{'flat' if flat else '**grows**'} against {sizes[0]:,} runs (slack {RSS_SLACK_MIB:g} MiB)",
            ),
        ]
    return out


def _child() -> None:
    import json
    import logging

    import bench  # noqa: F401  (a throw-away AIRFLOW_HOME when none is set)
    from airflow_provider_aa.operators.export import AutomationAnywhereExportOperator

    logging.disable(logging.INFO)
    job = json.loads(sys.stdin.read())
    end = datetime.now(timezone.utc) + timedelta(minutes=1)
    task = AutomationAnywhereExportOperator(
        task_id="export", dataset="bot_runs", destination=f"file://{job['folder']}", overlap=timedelta(days=3)
    )
    context = {"data_interval_start": end, "data_interval_end": end, "ti": SimpleNamespace(try_number=1)}
    gc.collect()
    rss_before = rss_mib()
    reset_peak_rss()
    started = time.perf_counter()
    result = task.execute(context)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    report_to_parent(
        {"records": result["records"], "seconds": seconds, "rss_before_mib": rss_before, "rss_peak_mib": peak_rss_mib()}
    )


if __name__ == "__main__":
    _child()
