"""
Every four hours, export the Control Room's bot runs into a local folder, reaching back a
day as Automation Anywhere's CoE Manager does; then print each bot's success rate over the
interval.

Each run writes ``<folder>/bot_runs/<interval start>_<interval end>.jsonl`` (UTC); a rerun
of an interval replaces its own file. The schedule is a data interval timetable: Airflow 3
turns ``schedule=timedelta(hours=4)`` into a trigger timetable, whose runs have intervals of
no length. (A run triggered without a logical date has none either: it exports the day
before it.) The windows overlap by a day, so a run shows up in several files, older
versions in older files: ``latest_records`` reads one record per run, its newest version,
across all of them. Backfill earlier intervals with ``airflow backfill create --dag-id
example_automation_anywhere_export --from-date ... --to-date ...``.

The folder is ``AA_EXPORT_DESTINATION`` (a URL such as ``file:///data/aa`` or, with the
Amazon provider installed, ``s3://bucket/aa``), by default ``file:///tmp/aa-export``. The
connection's user needs "View everyone's activity". The bundled emulator, started from the
command line, has two days of runs of its bots to export (``--history-runs``, default 600).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from airflow_provider_aa.operators.export import AutomationAnywhereExportOperator
from airflow_provider_aa.tasks.export_files import latest_records

DESTINATION = os.environ.get("AA_EXPORT_DESTINATION", "file:///tmp/aa-export")

with DAG(
    dag_id="example_automation_anywhere_export",
    schedule=DeltaDataIntervalTimetable(timedelta(hours=4)),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["automation_anywhere", "example"],
) as dag:
    export_runs = AutomationAnywhereExportOperator(
        task_id="export_bot_runs",
        dataset="bot_runs",
        destination=DESTINATION,
        overlap=timedelta(days=1),
    )

    @task
    def success_rates(export: dict[str, Any]) -> dict[str, float]:
        """
        Each bot's share of COMPLETED runs among its runs that ended in the data interval (the
        whole window when the run has no interval of some length, as a manual one).
        """
        start, end = datetime.fromisoformat(export["interval_start"]), datetime.fromisoformat(export["interval_end"])
        if start == end:
            start = datetime.fromisoformat(export["window_start"])
        ended: Counter[str] = Counter()
        completed: Counter[str] = Counter()
        for run in latest_records(DESTINATION, "bot_runs"):
            run_end = _instant(run.get("endDateTime"))
            if run_end is not None and start <= run_end < end:
                ended[run["automationName"]] += 1
                completed[run["automationName"]] += run["status"] == "COMPLETED"
        rates = {bot: completed[bot] / count for bot, count in sorted(ended.items())}
        for bot, rate in rates.items():
            print(f"{bot}: {rate:.0%} of {ended[bot]} run(s) completed")
        return rates

    success_rates(export_runs.output)


def _instant(value: Any) -> datetime | None:
    """A Control Room instant (up to nine fractional digits, ``Z``) as a datetime; ``None`` when unset."""
    if not value:
        return None
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", str(value)).replace("Z", "+00:00"))
