"""What the scenarios share: the connection to the emulator, a simulated clock, result rows."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from airflow_provider_aa.emulator import ControlRoomEmulator

CONN_ENV = "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"
QUEUE_ID = 20
LOGIN = "POST /v2/authentication"
ADD = "POST /v3/wlm/queues/{queueId}/workitems"
LIST = "POST /v3/wlm/queues/{queueId}/workitems/list"


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
