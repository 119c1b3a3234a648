"""
Import cost at DAG parse: what importing the provider's operator, sensor and hook modules
adds on top of ``airflow.sdk``, measured in fresh interpreters (median of several), against
a target share of ``airflow.sdk``'s own import time.

Baseline: a DAG that calls the Control Room itself from ``@task`` functions (from
``airflow.sdk``) only adds ``import requests``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from bench.common import Row

SDK = "from airflow.sdk import DAG, BaseOperator, BaseSensorOperator, task"
OURS = (
    "import airflow_provider_aa.operators.automation_anywhere, airflow_provider_aa.sensors.automation_anywhere, "
    "airflow_provider_aa.hooks.automation_anywhere"
)
BASELINE = "import requests"
#: What the provider may add, in % of ``airflow.sdk``'s import time.
TARGET_PERCENT = 5.0

_PROBE = """
import json, sys, time
started = time.perf_counter()
exec(sys.argv[1])
sdk = time.perf_counter()
exec(sys.argv[2])
print(json.dumps({"sdk": sdk - started, "extra": time.perf_counter() - sdk}))
"""


def measure_once(extra: str) -> tuple[float, float]:
    """Seconds to import ``airflow.sdk``, and what ``extra`` adds on top, in a fresh interpreter."""
    # Bytecode is cached, as pip compiles an installed wheel's: a PYTHONDONTWRITEBYTECODE
    # left in the environment would time the compiler on one side only.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, SDK, extra], env=env, capture_output=True, text=True, check=True
    ).stdout
    times = json.loads(out.strip().splitlines()[-1])
    return times["sdk"], times["extra"]


def rows(repetitions: int = 7) -> list[Row]:
    runs: dict[str, list[tuple[float, float]]] = {OURS: [], BASELINE: []}
    for extra in runs:  # untimed: writes the bytecode
        measure_once(extra)
    for _ in range(repetitions):  # alternate: both sides meet the same caches and load
        for extra, samples in runs.items():
            samples.append(measure_once(extra))
    (ours_sdk, ours), (base_sdk, base) = (
        (statistics.median(s for s, _ in samples), statistics.median(e for _, e in samples))
        for samples in runs.values()
    )
    scenario = "import at DAG parse"
    share = ours / ours_sdk * 100
    return [
        Row(
            scenario,
            "—",
            "`airflow.sdk` import (ms)",
            ours_sdk * 1000,
            base_sdk * 1000,
            f"median of {repetitions} fresh interpreters each",
        ),
        Row(
            scenario,
            "—",
            "added on top (ms)",
            ours * 1000,
            base * 1000,
            "ours: operator + sensor + hook modules; baseline: `import requests`",
        ),
        Row(
            scenario,
            "—",
            "added / `airflow.sdk` (%)",
            share,
            base / base_sdk * 100,
            f"target ≤ {TARGET_PERCENT:g}: {'met' if share <= TARGET_PERCENT else '**not met**'}",
        ),
    ]
