"""
1,000 deferred sensors in one triggerer-like process: the real trigger class on one event
loop vs. a baseline of one coroutine per sensor that logs in and asks for its item's status
(plain ``requests`` in the loop's thread pool, as sync code runs in a triggerer).

Each side runs in a fresh subprocess (``python -m bench.triggerer``) so that its peak RSS is
its own; the emulator runs in the calling process. Both poll on the same wall-clock grid of
``interval`` seconds and start just after a tick. The bot is paused until the first round of
lookups has been answered (every item seen NEW), then picks everything up: the second round
ends every wait. A round is a tick of the grid at which at least one lookup started.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import CONN_ENV, LIST, QUEUE_ID, Row, connection_to, items

ROOT = Path(__file__).resolve().parent.parent
MARKER = "BENCH-RESULT "
INTERVAL = 15.0


@dataclass(frozen=True)
class TriggerResult:
    side: str
    n: int
    rounds: int
    logins: int
    status_requests: int
    requests: int
    done: int
    rss_before_mib: float
    rss_peak_mib: float
    seconds: float

    @property
    def status_requests_per_round(self) -> float:
        return self.status_requests / self.rounds


def run(side: str, n: int, interval: float = INTERVAL) -> TriggerResult:
    """Add ``n`` items, let ``n`` sensors of ``side`` ("ours" or "baseline") wait for them."""
    from airflow_provider_aa.emulator import ControlRoomEmulator, EmulatorConfig
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

    with ControlRoomEmulator(EmulatorConfig(pause_bot=True, pickup_delay=0.0)) as emulator, connection_to(emulator):
        hook = AutomationAnywhereHook()
        ids = [item["id"] for item in hook.add_work_items(QUEUE_ID, items(n))]
        hook.close()
        emulator.counters.reset()
        # answers of round 1: ours 1 login + a lookup per 100 ids; the baseline a login + a lookup per id
        first_round = 1 + math.ceil(n / 100) if side == "ours" else 2 * n
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.triggerer"],
            cwd=ROOT,
            env=dict(os.environ),
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        def release_the_bot() -> None:  # once round 1 has been answered: every item was seen NEW
            while child.poll() is None and sum(emulator.counters.statuses().values()) < first_round:
                time.sleep(0.02)
            emulator.configure(pause_bot=False)

        watcher = threading.Thread(target=release_the_bot, daemon=True)
        watcher.start()
        out, err = child.communicate(json.dumps({"side": side, "ids": ids, "interval": interval}), timeout=900)
        watcher.join()
        lines = [line for line in out.splitlines() if line.startswith(MARKER)]
        if child.returncode != 0 or not lines:
            raise RuntimeError(f"the {side} triggerer failed ({child.returncode}):\n{err[-3000:]}")
        report = json.loads(lines[-1][len(MARKER) :])
        counters = emulator.counters
        return TriggerResult(
            side,
            n,
            report["rounds"],
            counters.logins(),
            counters.requests(LIST),
            counters.requests(),
            report["done"],
            report["rss_before_mib"],
            report["rss_peak_mib"],
            report["seconds"],
        )


def rows(n: int = 1_000, interval: float = INTERVAL) -> list[Row]:
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
            ours.rss_peak_mib - ours.rss_before_mib,
            base.rss_peak_mib - base.rss_before_mib,
            "peak minus RSS before the sensors started",
        ),
    ]


# -- the child process ------------------------------------------------------------------


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _rss_mib() -> float:
    rss = _status_mib("VmRSS")
    if rss is None:
        import psutil  # type: ignore[import-untyped]

        rss = psutil.Process().memory_info().rss / 2**20
    return rss


def _peak_rss_mib() -> float:
    """
    The process's peak RSS: ``VmHWM`` on Linux. ``ru_maxrss`` survives ``exec`` and would
    report the benchmark's own (larger) RSS at the moment it started this process.
    """
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _until_next_tick(interval: float) -> float:
    return interval - time.time() % interval


#: When each lookup started (to count poll rounds).
_lookups: list[float] = []


async def _ours(ids: list[str], interval: float) -> list[str]:
    from airflow_provider_aa.control_room.statuses import WORK_ITEM_FAILURE_STATUSES
    from airflow_provider_aa.triggers.automation_anywhere import (
        AsyncControlRoomClient,
        AutomationAnywhereWorkItemTrigger,
    )

    lookup = AsyncControlRoomClient.lookup

    async def counted_lookup(self: Any, queue_id: str, work_item_ids: Any) -> Any:
        _lookups.append(time.time())
        return await lookup(self, queue_id, work_item_ids)

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
            if status != "NEW":
                return "done" if status else "missing"
            await asyncio.sleep(_until_next_tick(interval))

    return await asyncio.gather(*(sensor(item_id) for item_id in ids))


def _child() -> None:
    import logging

    import airflow.sdk  # noqa: F401  (a triggerer has Airflow loaded)
    from airflow.triggers.base import BaseTrigger  # noqa: F401

    import bench  # noqa: F401  (a throw-away AIRFLOW_HOME when none is set)

    logging.disable(logging.INFO)  # 1,000 "still pending" lines a round would only be noise here
    job = json.loads(sys.stdin.read())
    wait = _ours if job["side"] == "ours" else _baseline
    interval = float(job["interval"])
    time.sleep(_until_next_tick(interval) + 0.05)  # start just after a tick of the grid
    rss_before = _rss_mib()
    started = time.time()
    statuses = asyncio.run(wait(job["ids"], interval))
    ended = time.time()
    rounds = len({math.floor(at / interval) for at in _lookups})  # grid ticks with lookups
    report = {
        "rounds": rounds,
        "done": sum(status == "done" for status in statuses),
        "rss_before_mib": rss_before,
        "rss_peak_mib": _peak_rss_mib(),
        "seconds": ended - started,
    }
    print(MARKER + json.dumps(report), flush=True)


if __name__ == "__main__":
    _child()
