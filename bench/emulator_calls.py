"""
Every list call the provider makes, timed on an emulator holding 100,000 records: a queue of
100,000 work items (1 in 100 ``FAILED``) and a history of 100,000 bot runs. Each request is
built by the provider's own code (``control_room``) and sent over HTTP on 127.0.0.1 with a
token already issued; the time is the median of 7 round trips (the emulator's work and
loopback HTTP), one in each of 7 rounds of all the calls. Target: each under 20 ms.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.common import QUEUE_ID, Row

N = 100_000
REPEAT = 7
TARGET_MS = 20.0


def _requests(emulator: Any) -> list[tuple[str, Callable[[], Any]]]:
    """(what, the provider's request) for each call, over the emulator's records."""
    from airflow_provider_aa.control_room import bots, history, work_item_changes, work_items

    ids = [item["id"] for item in emulator.work_items(QUEUE_ID)]
    spread = ids[:: N // 100][:100]
    mark = int(ids[-1000])
    middle = emulator.work_items(QUEUE_ID)[N // 2]
    window = history.HistoryWindow(datetime.now(timezone.utc) - timedelta(days=3), datetime.now(timezone.utc))
    # A deployment of the history (its id as the emulator derives it), and the seed's first bot.
    some_run = uuid.uuid5(uuid.UUID("6f1c5a3e-2b7d-4e9a-9c1f-0a8b7d6e5f40"), f"deployment-{N // 2}")
    bot_id = "501"
    dataset_items, dataset_runs = history.DATASETS["work_items"], history.DATASETS["bot_runs"]
    queue = str(QUEUE_ID)
    return [
        ("work items: look up 100 ids", lambda: work_items.list_request(queue, filter=work_items.ids_filter(spread))),
        ("work items: the newest id (before an add)", lambda: work_items.newest_id_request(queue)),
        (
            "work items: created after an add's mark (a lost answer)",
            lambda: work_items.list_request(
                queue, filter=work_items.added_since_filter(mark, None, []), sort=[{"field": "id", "direction": "asc"}]
            ),
        ),
        (
            "work items: created after the mark, by 100 dedupe_key values",
            lambda: work_items.list_request(
                queue,
                filter=work_items.added_since_filter(mark, "invoice_id", [f"INV-{n}" for n in range(N - 100, N)]),
                sort=[{"field": "id", "direction": "asc"}],
            ),
        ),
        (
            "re-queue: a page of FAILED items (first page)",
            lambda: work_items.list_request(queue, filter=work_item_changes.requeue_filter(["FAILED"], None, 0)),
        ),
        (
            "re-queue: a page of FAILED items (from the middle)",
            lambda: work_items.list_request(
                queue, filter=work_item_changes.requeue_filter(["FAILED"], None, int(ids[N // 2]))
            ),
        ),
        ("export work items: a window's first page", lambda: history.history_request(dataset_items, window, queue)),
        (
            "export work items: a later page (from the middle)",
            lambda: history.history_request(
                dataset_items, window, queue, since=middle["updatedOn"], after_id=middle["id"]
            ),
        ),
        ("export bot runs: a window's first page", lambda: history.history_request(dataset_runs, window)),
        ("wait for a bot run: its deployment's records", lambda: bots.activity_request(str(some_run))),
        ("find a lost deploy: the bot's newest records", lambda: bots.bot_activity_request(bot_id)),
    ]


def run() -> list[tuple[str, float, int, float]]:
    """(call, median milliseconds, records answered, the median 1-minute load average while timed) per call."""
    import requests

    from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig

    with ControlRoomEmulator(EmulatorConfig(pause_bot=True, history_runs=N)) as emulator:
        created = emulator.add_work_items(QUEUE_ID, [{"invoice_id": f"INV-{n}", "n": n} for n in range(N)])
        for item in created[::100]:
            emulator.update_work_item(QUEUE_ID, item["id"], username="cr_admin", status="FAILED", result="bench")
        credentials = emulator.credentials("password")
        session = requests.Session()
        token = session.post(
            f"{emulator.url}/v2/authentication",
            json={"username": credentials["login"], "password": credentials["password"]},
        ).json()["token"]
        session.headers["X-Authorization"] = token
        calls = [(what, build()) for what, build in _requests(emulator)]
        times: dict[str, list[float]] = {what: [] for what, _ in calls}
        counts: dict[str, int] = {}
        loads = []
        # Round after round of every call, not one call's 7 in a row: a burst of another
        # process's work on the machine then slows one time of each call, not a call's median.
        for _ in range(REPEAT):
            for what, request in calls:
                started = time.perf_counter()
                answer = session.request(request.method, f"{emulator.url}{request.path}", json=request.json)
                times[what].append(time.perf_counter() - started)
                answer.raise_for_status()
                counts[what] = len(answer.json()["list"])
            loads.append(os.getloadavg()[0])
        session.close()
    load = statistics.median(loads)
    return [(what, statistics.median(times[what]) * 1000, counts[what], load) for what, _ in calls]


def rows() -> list[Row]:
    scenario = "emulator: the provider's list calls, 100,000 records"
    out = []
    for what, milliseconds, count, load in run():
        verdict = "met" if milliseconds <= TARGET_MS else "**not met**"
        out.append(
            Row(
                scenario,
                f"{N:,}",
                f"{what} (ms)",
                milliseconds,
                None,
                f"target ≤ {TARGET_MS:g} ms: {verdict}; median of {REPEAT}, {count} record(s) answered; "
                f"load {load:.1f} on {os.cpu_count()} CPUs",
            )
        )
    return out
