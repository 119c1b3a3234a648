"""
What the scenarios share: the connection to the emulator, a simulated clock, an in-memory
task state store, memory readings of a process, child processes, result rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automation_anywhere_emulator import ControlRoomEmulator

ROOT = Path(__file__).resolve().parent.parent
CONN_ENV = "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"
QUEUE_ID = 20
LOGIN = "POST /v2/authentication"
ADD = "POST /v3/wlm/queues/{queueId}/workitems"
LIST = "POST /v3/wlm/queues/{queueId}/workitems/list"
LOGOUT = "POST /v1/authentication/logout"


@contextlib.contextmanager
def connection_to(emulator: ControlRoomEmulator) -> Iterator[None]:
    """``automation_anywhere_default`` points at ``emulator`` (password mode) inside the block."""
    before = os.environ.get(CONN_ENV)
    os.environ[CONN_ENV] = emulator.connection_env_value("password")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CONN_ENV, None)
        else:
            os.environ[CONN_ENV] = before


class SimulatedClock:
    """Epoch seconds that move only when told to: poll intervals pass without sleeping."""

    def __init__(self, start: float) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def items(n: int, tag: str = "bench") -> list[dict[str, object]]:
    return [{"invoice_id": f"{tag}-{i}", "amount": i} for i in range(n)]


class MemoryTaskState:
    """
    Airflow 3.3's task state store (``context["task_state_store"]``: ``get``, ``set``,
    ``delete``) in memory, keeping each value as JSON text, as a database would, and
    counting what is written.
    """

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.writes = 0
        self.bytes_written = 0

    def get(self, key: str) -> Any:
        text = self.values.get(key)
        return None if text is None else json.loads(text)

    def set(self, key: str, value: Any) -> None:
        text = json.dumps(value)
        self.values[key] = text
        self.writes += 1
        self.bytes_written += len(text.encode())

    def delete(self, key: str) -> None:
        self.values.pop(key, None)

    @property
    def bytes_stored(self) -> int:
        return sum(len(text.encode()) for text in self.values.values())


# -- memory of this process (Linux /proc, else psutil / getrusage) --------------------------


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def rss_mib() -> float:
    rss = _status_mib("VmRSS")
    if rss is None:
        import psutil  # type: ignore[import-untyped]

        rss = psutil.Process().memory_info().rss / 2**20
    return rss


def peak_rss_mib() -> float:
    """
    The process's peak RSS: ``VmHWM`` on Linux. ``ru_maxrss`` survives ``exec`` and would
    report the benchmark's own (larger) RSS at the moment it started this process.
    """
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """From now on ``VmHWM`` counts from the current RSS (Linux 4.0+; elsewhere a no-op)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


# -- child processes ---------------------------------------------------------------------

MARKER = "BENCH-RESULT "


def start_child(
    module: str, job: dict[str, Any], env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """``python -m module`` with this process's environment and ``env``; returns it and its stdin text."""
    child = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return child, json.dumps(job)


def child_result(child: subprocess.Popen[str], job: str, what: str, timeout: float = 900) -> dict[str, Any]:
    """Send ``job`` to ``child``, wait for it, and return the report it printed."""
    out, err = child.communicate(job, timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith(MARKER)]
    if child.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed ({child.returncode}):\n{err[-3000:]}")
    report: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
    return report


def report_to_parent(report: dict[str, Any]) -> None:
    """What a child prints for :func:`child_result`."""
    print(MARKER + json.dumps(report), flush=True)


@dataclass(frozen=True)
class Row:
    """One measured quantity of one scenario, for this provider and for the baseline."""

    scenario: str
    n: str
    metric: str
    ours: float | int | None
    baseline: float | int | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours in (None, 0) or self.baseline is None:
            return None
        return self.baseline / self.ours


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| scenario | N | metric | this provider | baseline | baseline / ours | note |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for row in rows:
        ratio = "—" if row.ratio is None else f"{row.ratio:,.3g}×" if row.ratio < 1000 else f"{row.ratio:,.0f}×"
        lines.append(
            f"| {row.scenario} | {row.n} | {row.metric} | {fmt(row.ours)} | {fmt(row.baseline)} | {ratio} | {row.note} |"
        )
    return "\n".join(lines)
