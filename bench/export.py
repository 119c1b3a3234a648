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
    from airflow_provider_aa.emulator import ControlRoomEmulator, EmulatorConfig

    with ControlRoomEmulator(EmulatorConfig(history_runs=n)) as emulator, connection_to(emulator):
        with tempfile.TemporaryDirectory(prefix="aa-bench-export-") as folder:
            child, job = start_child("bench.export", {"folder": folder})
            report = child_result(child, job, f"the export of {n:,} bot runs")
        report["requests"] = emulator.counters.requests(ACTIVITY)
    if report["records"] != n:
        raise RuntimeError(f"{n:,} bot runs in the history, {report['records']:,} exported")
    return report


def rows(sizes: tuple[int, ...] = SIZES) -> list[Row]:
    scenario = "export bot runs (`AutomationAnywhereExportOperator`, pages of 100)"
    out: list[Row] = []
    for n in sizes:
        result = run(n)
        label = f"{n:,}"
        out += [
            Row(
                scenario,
                label,
                "list requests (`POST /v3/activity/list`)",
                int(result["requests"]),
                None,
                f"target {n // 100 + 1:,}: {'met' if result['requests'] <= n // 100 + 1 else '**not met**'}",
            ),
            Row(scenario, label, "wall time (s)", result["seconds"], None),
            Row(scenario, label, "records per second", n / result["seconds"], None),
            Row(
                scenario,
                label,
                "peak RSS growth (MiB)",
                result["rss_peak_mib"] - result["rss_before_mib"],
                None,
                "one page held at a time: does not grow with N",
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
