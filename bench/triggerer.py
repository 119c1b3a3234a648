"""
1,000 deferred sensors in one triggerer-like process: the real trigger class on one event
loop vs. a baseline of one coroutine per sensor that logs in and asks for its item's status
(plain ``requests`` in the loop's thread pool, as sync code runs in a triggerer); and 10,000
of ours alone.

Each side runs in a fresh subprocess (``python -m bench.triggerer``) so that its peak RSS is
its own; the emulator runs in the calling process. Both poll on the same wall-clock grid of
``interval`` seconds and start just after a tick. The bot is paused until every sensor has
had the answer of its first lookup (every item seen NEW: the child says so by creating a
file), then picks everything up: the second round ends every wait. A round is a tick of the
grid at which at least one lookup started.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    CONN_ENV,
    LIST,
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

INTERVAL = 15.0
#: The big run: ours only (the baseline would send 20,000 requests a round).
MANY = 10_000
#: What the big run must stay within.
MANY_RSS_LIMIT_MIB = 100.0
#: No "still pending" line per sensor and round: Airflow 3.3's loggers are structlog's, which
#: ``logging.disable`` does not silence; a triggerer would write them to each trigger's log.
QUIET = {"AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}


@dataclass(frozen=True)
class TriggerResult:
    side: str
    n: int
    rounds: int
    logins: int
    refreshes: int
    status_requests: int
    #: list requests sent before the bot was released: those of round 1
    round_1_requests: int
    requests: int
    done: int
    rss_before_mib: float
    rss_peak_mib: float
    #: from the start until every sensor had its first answer
    round_1_seconds: float
    #: from the start until every wait had ended
    seconds: float

    @property
    def status_requests_per_round(self) -> float:
        return self.status_requests / self.rounds

    @property
    def later_requests(self) -> int:
        """List requests of the rounds after the first (with 2 rounds: round 2's)."""
        return self.status_requests - self.round_1_requests

    @property
    def rss_growth_mib(self) -> float:
        return self.rss_peak_mib - self.rss_before_mib


def run(side: str, n: int, interval: float = INTERVAL) -> TriggerResult:
    """Add ``n`` items, let ``n`` sensors of ``side`` ("ours" or "baseline") wait for them."""
    from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig

    with (
        ControlRoomEmulator(EmulatorConfig(pause_bot=True, pickup_delay=0.0)) as emulator,
        connection_to(emulator),
        tempfile.TemporaryDirectory(prefix="aa-bench-triggerer-") as scratch,
    ):
        ids = [item["id"] for item in emulator.add_work_items(QUEUE_ID, items(n))]
        emulator.counters.reset()
        signal = Path(scratch) / "round-1-answered"
        job = {"side": side, "ids": ids, "interval": interval, "signal": str(signal)}
        child, job_text = start_child("bench.triggerer", job, env=QUIET)
        round_1 = {"requests": 0}

        def release_the_bot() -> None:  # once every sensor had its first answer: every item was seen NEW
            while child.poll() is None and not signal.exists():
                time.sleep(0.01)
            round_1["requests"] = emulator.counters.requests(LIST)
            emulator.configure(pause_bot=False)

        watcher = threading.Thread(target=release_the_bot, daemon=True)
        watcher.start()
        report = child_result(child, job_text, f"the {side} triggerer")
        watcher.join()
        counters = emulator.counters
        return TriggerResult(
            side,
            n,
            report["rounds"],
            counters.logins(),
            counters.refreshes(),
            counters.requests(LIST),
            round_1["requests"],
            counters.requests(),
            report["done"],
            report["rss_before_mib"],
            report["rss_peak_mib"],
            report["round_1_seconds"],
            report["seconds"],
        )


def rows(n: int = 1_000, interval: float = INTERVAL) -> list[Row]:
    """Ours and the baseline side by side."""
    ours, base = run("ours", n, interval), run("baseline", n, interval)
    scenario = "deferred sensors in one triggerer"
    label = f"{n:,}"
    rounds = f"{ours.rounds} / {base.rounds} rounds of {interval:g} s"
    return [
        Row(
            scenario,
            label,
            "logins",
            ours.logins,
            base.logins,
            f"target 1: {'met' if ours.logins == 1 else '**not met**'}",
        ),
        Row(
            scenario,
            label,
            "status requests per poll round",
            ours.status_requests_per_round,
            base.status_requests_per_round,
            f"{rounds}; the baseline logs in before each",
        ),
        Row(scenario, label, "total requests", ours.requests, base.requests),
        Row(
            scenario,
            label,
            "peak RSS of the process (MiB)",
            ours.rss_peak_mib,
            base.rss_peak_mib,
            "Airflow loaded on both sides",
        ),
        Row(
            scenario,
            label,
            "RSS growth while waiting (MiB)",
            ours.rss_growth_mib,
            base.rss_growth_mib,
            "peak minus RSS before the sensors started",
        ),
    ]


def many_rows(n: int = MANY, interval: float = INTERVAL) -> list[Row]:
    """Ours alone, many sensors, against the targets."""
    ours = run("ours", n, interval)
    scenario = "deferred sensors in one triggerer"
    label = f"{n:,}"
    per_round = math.ceil(n / 100)
    note = "baseline not run at this size"

    def verdict(met: bool) -> str:
        return "met" if met else "**not met**"

    return [
        Row(scenario, label, "logins", ours.logins, None, f"target 1: {verdict(ours.logins == 1)}; {note}"),
        Row(
            scenario,
            label,
            "list requests in round 1",
            ours.round_1_requests,
            None,
            f"target ≤ {per_round}: {verdict(ours.round_1_requests <= per_round)}",
        ),
        Row(
            scenario,
            label,
            "list requests in round 2",
            ours.later_requests,
            None,
            f"target ≤ {per_round}: {verdict(ours.later_requests <= per_round)}; "
            f"{ours.rounds} rounds of {interval:g} s",
        ),
        Row(scenario, label, "total requests", ours.requests, None, f"token renewals: {ours.refreshes}"),
        Row(
            scenario,
            label,
            "waits finished",
            ours.done,
            None,
            f"target {n:,}: {verdict(ours.done == n)}",
        ),
        Row(scenario, label, "peak RSS of the process (MiB)", ours.rss_peak_mib, None, "Airflow loaded"),
        Row(
            scenario,
            label,
            "RSS growth while waiting (MiB)",
            ours.rss_growth_mib,
            None,
            f"target ≤ {MANY_RSS_LIMIT_MIB:g}: {verdict(ours.rss_growth_mib <= MANY_RSS_LIMIT_MIB)}",
        ),
        Row(scenario, label, "round 1: every sensor answered (s)", ours.round_1_seconds, None, "from the start"),
        Row(
            scenario,
            label,
            "every wait finished (s)",
            ours.seconds,
            None,
            f"round 2 falls on the next {interval:g} s tick",
        ),
    ]


# -- the child process ------------------------------------------------------------------


def _until_next_tick(interval: float) -> float:
    return interval - time.time() % interval


#: When each lookup started (to count poll rounds).
_lookups: list[float] = []
#: When lookups were answered.
_answers: list[float] = []


_job: dict[str, Any] = {}


def _answered() -> None:
    """A lookup was answered; once every sensor had its first answer, tell the parent (a file)."""
    _answers.append(time.time())
    if len(_answers) == len(_job["ids"]):
        Path(_job["signal"]).touch()


async def _ours(ids: list[str], interval: float) -> list[str]:
    from airflow_provider_aa.control_room.statuses import WORK_ITEM_FAILURE_STATUSES
    from airflow_provider_aa.triggers.automation_anywhere import (
        AsyncControlRoomClient,
        AutomationAnywhereWorkItemTrigger,
    )

    lookup = AsyncControlRoomClient.lookup

    async def counted_lookup(self: Any, queue_id: str, work_item_ids: Any) -> Any:
        _lookups.append(time.time())
        answer = await lookup(self, queue_id, work_item_ids)
        _answered()
        return answer

    AsyncControlRoomClient.lookup = counted_lookup  # type: ignore[method-assign]

    async def first_event(trigger: AutomationAnywhereWorkItemTrigger) -> str:
        async for event in trigger.run():
            return str(event.payload["status"])
        return "no event"

    triggers = [
        AutomationAnywhereWorkItemTrigger(
            automation_anywhere_conn_id="automation_anywhere_default",
            queue_id=str(QUEUE_ID),
            work_item_ids=[item_id],
            pending_statuses=["NEW"],
            failure_statuses=list(WORK_ITEM_FAILURE_STATUSES),
            deadline=time.time() + 600,
            poke_interval=interval,
        )
        for item_id in ids
    ]
    return await asyncio.gather(*(first_event(trigger) for trigger in triggers))


async def _baseline(ids: list[str], interval: float) -> list[str]:
    from bench.baseline import PlainClient

    fields = json.loads(os.environ[CONN_ENV])
    client = PlainClient(fields["host"], fields["login"], fields["password"])

    async def sensor(item_id: str) -> str:
        while True:
            _lookups.append(time.time())
            status = await asyncio.to_thread(client.status, QUEUE_ID, item_id)
            _answered()
            if status != "NEW":
                return "done" if status else "missing"
            await asyncio.sleep(_until_next_tick(interval))

    return await asyncio.gather(*(sensor(item_id) for item_id in ids))


def _child() -> None:
    import gc
    import logging

    import airflow.sdk  # noqa: F401  (a triggerer has Airflow loaded)
    from airflow.triggers.base import BaseTrigger  # noqa: F401

    import bench  # noqa: F401  (a throw-away AIRFLOW_HOME when none is set)

    logging.disable(logging.INFO)  # "still pending" lines would only be noise here (see QUIET)
    job = _job
    job.update(json.loads(sys.stdin.read()))
    wait = _ours if job["side"] == "ours" else _baseline
    interval = float(job["interval"])
    gc.collect()
    time.sleep(_until_next_tick(interval) + 0.05)  # start just after a tick of the grid
    rss_before = rss_mib()
    reset_peak_rss()
    started = time.time()
    statuses = asyncio.run(wait(job["ids"], interval))
    ended = time.time()
    rounds = len({math.floor(at / interval) for at in _lookups})  # grid ticks with lookups
    report_to_parent(
        {
            "rounds": rounds,
            "done": sum(status == "done" for status in statuses),
            "rss_before_mib": rss_before,
            "rss_peak_mib": peak_rss_mib(),
            "round_1_seconds": _answers[len(job["ids"]) - 1] - started,
            "seconds": ended - started,
        }
    )


if __name__ == "__main__":
    _child()
