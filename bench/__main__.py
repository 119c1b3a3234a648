"""
``make bench`` / ``python -m bench``: every scenario, this provider and the baseline side by
side in one run; prints one Markdown table and writes it, with the machine, Python and
Airflow versions, to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import bench  # noqa: F401  (a throw-away AIRFLOW_HOME before Airflow is imported)
from bench import (
    add_memory,
    adding,
    emulator_calls,
    export,
    imports,
    lookups,
    reconcile,
    saved_add,
    triggerer,
    waiting,
)
from bench.common import Row, markdown_table

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS: dict[str, Callable[[], list[Row]]] = {
    "add": adding.rows,
    "add-saved": saved_add.rows,
    "add-memory": add_memory.rows,
    "reconcile": reconcile.rows,
    "lookups": lookups.rows,
    "wait": waiting.rows,
    "triggers": triggerer.rows,
    "triggers-10k": triggerer.many_rows,
    "imports": imports.rows,
    "export": export.rows,
    "emulator-calls": emulator_calls.rows,
}

METHOD = """\
Everything runs against the bundled Control Room emulator on 127.0.0.1 (in the benchmark's
process; the measured side runs in a process of its own for the saved adds and the
triggerer), so times are those of loopback HTTP and of the emulator's own work (what the
provider's calls filter and sort on comes from indexes, other filters read every record):
they show proportions, not what a real Control Room answers. Request and login counts are exact and do not depend on the
machine; the tests in `tests/bench/` assert them for small N. Times and memory are never
asserted. "—" in the baseline column: not measured (no baseline does the same).

**Baseline** (`bench/baseline.py`): what users write without this provider, and what the
Camunda connector does: plain `requests`, `POST /v2/authentication` before every
operation, one work item per add request, one status request per item per poll (a list
request with an `eq` filter on the id). Kind to the baseline: its HTTP connections are kept
alive, and it stops asking about an item once it saw it finished.

- **add work items**: `AutomationAnywhereHook.add_work_items(20, items, batch_size=100)` on
  a fresh hook (login included, and the one list request per call that reads the queue's
  newest id, where the exactly-once matching of a lost answer starts; the logout of
  `hook.close()` that the operator sends at the end is not counted), after one untimed add
  of 1 item per side (the first hook in a process pays about 15 ms of one-time Airflow
  set-up). The emulator's bot is paused.
- **add work items, progress saved**: the same call with `batch_size=1000` and, as the add
  operator does, `on_progress=SavedAddProgress(TaskStateStore(...)).save` over an in-memory
  task state store (Airflow 3.3's interface) that keeps values as JSON and counts the bytes
  written: a small header before and after each batch, each batch's ids once as a part of
  its own. "Saving the whole progress" in the note is what writing the header and every id
  so far at every step would have written instead (computed from the same run). The add
  runs in a fresh process with Airflow loaded (the emulator, which holds its own copy of
  every item, stays in the benchmark's process); RSS growth is its `VmHWM` (reset just
  before the add) minus its RSS before, with the 100,000 input items already built.
- **add work items, memory**: `AutomationAnywhereAddWorkItemsOperator` (batches of 1,000,
  progress saved in an in-memory task state store) adding 100,000 invoices of ten
  attributes, in a fresh process with Airflow loaded after a warm-up add of one item. The
  input's memory is the process's RSS growth while it builds the items; the peak is its
  `VmHWM` during the add (reset just before), counted from the RSS before the items were
  built: 1× would mean the add holds nothing but its input. The items are validated once
  and not copied, and fingerprinted item by item.
- **reconcile a lost batch**: `control_room.work_items.match_created`, which finds a lost
  add's items among the queue's items created after its mark, without HTTP: the batch's
  even items were committed, after 1,000 items of another producer, and the candidates come
  newest first. Each item's and candidate's identity (its canonical JSON) is computed
  once; CPU time is the median of 5.
- **status look-ups of N ids**: a queue of 100,000 items filled straight into the emulator
  (no HTTP); `hook.get_work_items(20, ids)` for 100 and 1,000 ids spread over the queue,
  on a hook already logged in (a sensor's poke after its first), median of 20 / 5 calls.
  Baseline: a login and an `eq` list request per id, median of 3.
- **wait until finished (sync hook)**: the bot takes 3 items per second and works each for
  30 s; both sides poll every 60 s (the sensor's default) on a simulated clock — each round
  moves the emulator's clock (and the hook session's) on by 60 s instead of sleeping — so
  both see exactly the same rounds. Tokens live 5 minutes here so that the wait for 1,000
  items outlasts one. Ours: `hook.get_work_items(20, ids)` for all ids per round (as the
  sensor pokes). "Status requests per poll round" counts list requests only; logins and
  token refreshes are counted apart.
- **deferred sensors in one triggerer**: 1,000 sensors waiting for one item each (until it
  leaves NEW), each side in its own fresh process with Airflow loaded. Ours: 1,000
  `AutomationAnywhereWorkItemTrigger`s on one event loop. Baseline: 1,000 coroutines that
  log in and ask for their item's status via `asyncio.to_thread` (plain `requests`). Both
  poll on the same 15 s wall-clock grid; the bot is released once every sensor has had the
  answer of its first lookup (the process says so), so every wait takes two rounds, and
  the list requests counted until then are round 1's. Then 10,000 of ours alone, the same
  way (the baseline would send 20,000 requests a round). Peak RSS is the process's `VmHWM`,
  reset when the sensors start (`ru_maxrss` survives `exec`: it would show the benchmark's
  own RSS when it started the process). The processes log at WARNING: a "still pending"
  line per sensor and round is noise here (Airflow's structlog loggers ignore
  `logging.disable`).
- **export bot runs**: `AutomationAnywhereExportOperator(dataset="bot_runs")` in a fresh
  process with Airflow loaded, over the emulator's seeded history (`history_runs=N`, served
  from an index by time), one window holding all N runs, into a temporary local folder.
  Peak RSS growth is the process's `VmHWM` (reset just before the export) minus its RSS then.
  Each page after the first starts at the last change time read (so that a record changing
  during the export makes none skipped): 99 new runs per page of 100.
- **emulator: the provider's list calls**: an emulator holding a queue of 100,000 work
  items (1 in 100 `FAILED`) and a history of 100,000 bot runs; each list request the
  provider sends (built by `control_room`: look-ups by id, the newest-id probe, a lost
  add's reconciliation with and without `dedupe_key`, re-queue pages, work item and bot run
  export pages, a bot run's poll, a lost deploy's search among the bot's runs) sent over
  HTTP with a token already issued, median of 7 round trips, one in each of 7 rounds of all
  the calls (a burst of other work on the machine slows a round, not all of one call's
  trips). An index built on first use (the history's values and sort orders, the queue's
  update times and statuses) is built in the first round. The note gives the machine's load
  (the median of its 1-minute average after each round, with its number of CPUs): on a busy
  machine the times grow.
- **import at DAG parse**: `from airflow.sdk import DAG, BaseOperator, BaseSensorOperator,
  task`, then the provider's operator, sensor and hook modules (ours) or `import requests`
  (baseline), timed in fresh interpreters with bytecode cached (one untimed run per side
  first), median of 7. Target: ours adds at most 5 % of `airflow.sdk`'s import time. The
  operators and sensors import the hook, the HTTP stack and the waits when a task runs;
  `tests/test_imports.py` checks which modules a DAG file's imports load.

"baseline / ours" above 1 means the baseline needs more (for items per second, where
higher is better, below 1 means the provider is faster).

## Reading the numbers

- For a single item the provider is a few milliseconds slower than the baseline: it sends
  one request more (the list request for the queue's newest id, which makes a lost answer
  recoverable without duplicates), a new hook opens its own connection, and every new
  token is registered with Airflow's secret masker (which rebuilds its pattern); the
  baseline masks nothing. From 100 items on, batching wins by the batch size.
- Waiting on 1,000 items the sync hook logs in twice: its 300 s token expires between two
  polls 60 s apart. A sync poller renews a token only when a call falls into its last tenth
  (at most 60 s), so with polls further apart than that it logs in once per token
  lifetime; with the Control Room's default 20-minute tokens and 60 s polls it renews
  instead (`tests/bench/` shows a renewal with a 650 s token). The trigger renews between
  polls.
- The deferred sensors' memory is about the same on both sides; Airflow dominates it. At
  10,000 sensors ours grows by about 8.5 KiB per sensor (Python's own allocations peak at
  about 7 KiB): each trigger object with its logger and wait state, its asyncio tasks (its
  run, and a task per poll for `asyncio.wait_for`), and the decoded work items of a round
  (about 1 KiB each, every field of the item).
- Saving an add's progress writes about 10 bytes per item at every N (each id once, plus a
  header of about 150 bytes per step); writing the whole progress at every step would grow
  with N² (about 90 MB for 100,000 items).
- The add's RSS grows by about 2 KiB per item: `add_work_items` returns every created work
  item in full (about 1.6 KiB each once decoded, all of its fields), although the operator
  keeps only the ids; most of it is not given back to the OS when the result is dropped.
"""


def environment() -> list[str]:
    import airflow

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- Machine: {platform.system()} {platform.release()} ({platform.machine()}), {cpu}, {os.cpu_count()} CPUs",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        f"- Apache Airflow {airflow.__version__}",
        f"- Commit {commit}, run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append", help="run only these scenarios")
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="Markdown file to write (default: docs/benchmarks.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)

    started = time.monotonic()
    rows = []
    for name, scenario in SCENARIOS.items():
        if args.only and name not in args.only:
            continue
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        begun = time.monotonic()
        rows += scenario()
        print(f"[bench] {name}: {time.monotonic() - begun:.0f} s", file=sys.stderr, flush=True)
    table = markdown_table(rows)
    print(table)
    print(f"\n[bench] done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    if not args.no_write:
        document = "\n".join(
            [
                "# Benchmarks",
                "",
                "Generated by `make bench` (`python -m bench`); do not edit by hand.",
                "",
                *environment(),
                "",
                table,
                "",
                "## Method",
                "",
                METHOD,
            ]
        )
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(document)
        print(f"[bench] written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
