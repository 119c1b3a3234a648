"""What long tasks log against the emulator: progress as they go, one summary line at the end (not every id)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from airflow_provider_aa.control_room.adding import AddProgress, add_fingerprint
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.operators.automation_anywhere import (
    AutomationAnywhereAddWorkItemsOperator,
    AutomationAnywhereRequeueWorkItemsOperator,
)
from airflow_provider_aa.operators.export import AutomationAnywhereExportOperator
from tests.sensors.test_bot_run_sensor import StateStore


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def logged(capsys) -> list[str]:
    """The messages of the task log lines printed so far (Airflow's structlog writes them to stdout)."""
    found = (re.search(r"\[\w+\s*\] (.*) \[[\w.]+\]", line) for line in capsys.readouterr().out.splitlines())
    return [match.group(1) for match in found if match]


def test_an_add_logs_its_first_batch_with_rate_and_time_left_and_ends_with_the_id_range(emulator, capsys):
    operator = AutomationAnywhereAddWorkItemsOperator(
        task_id="add_items", queue_id=20, work_items=[{"n": n} for n in range(250)], batch_size=100
    )
    ids = operator.execute({"task_state_store": StateStore()})

    lines = logged(capsys)
    first, last = ids[0], ids[-1]
    progress = [line for line in lines if line.startswith("Sent ")]
    # Batches a few milliseconds apart: the first one's line, the others within 10 s are not logged.
    assert progress and progress[0].startswith(f"Sent 100 of 250 work item(s) to queue 20 (ids {first} to {ids[99]})")
    assert re.search(r"; [\d.]+ items/s, about \d+ s left\.$", progress[0])
    summaries = [line for line in lines if line.startswith("Added ")]
    assert len(summaries) == 1
    assert re.fullmatch(rf"Added 250 work item\(s\) to queue 20 in \d+ s: ids {first} to {last}\.", summaries[0])
    assert not any(ids[1] in line for line in lines)  # no line lists every id


def test_an_add_continued_by_a_retry_says_how_many_an_earlier_try_added(emulator, capsys):
    items = [{"n": n} for n in range(4)]
    earlier = [item["id"] for item in emulator.add_work_items(20, items[:2])]
    progress = AddProgress(add_fingerprint("20", items), [earlier], mark_id=int(earlier[-1]))
    hook = AutomationAnywhereHook()
    hook.add_work_items(20, items, batch_size=2, progress=progress)

    summaries = [line for line in logged(capsys) if line.startswith("Added ")]
    assert len(summaries) == 1
    assert re.fullmatch(
        rf"Added 4 work item\(s\) to queue 20 in \d+ s, 2 of them by an earlier try: "
        rf"ids {earlier[0]} to {progress.ids[-1]}\.",
        summaries[0],
    )


def test_a_requeue_logs_its_progress_and_one_summary_with_the_id_range(emulator, capsys):
    emulator.configure(pickup_delay=0, work_delay=0)
    items = emulator.add_work_items(20, [{"n": f"FAIL_ONCE {n}"} for n in range(150)])
    operator = AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", queue_id="20")
    ids = operator.execute({})

    assert len(ids) == 150
    lines = logged(capsys)
    progress = [line for line in lines if line.startswith("Re-queued ") and "so far" in line]
    assert progress[0].startswith(
        f"Re-queued 100 work item(s) of queue 20 so far (ids {items[0]['id']} to {items[99]['id']}), about 50 more"
    )
    summaries = [line for line in lines if line.startswith("Re-queued ") and "so far" not in line]
    assert re.fullmatch(
        rf"Re-queued 150 work item\(s\) of queue 20 in \d+ s: ids {items[0]['id']} to {items[-1]['id']}\.",
        summaries[0],
    )
    assert len(summaries) == 1 and not any(items[1]["id"] in line for line in lines)


def test_an_export_logs_the_pages_and_records_read_and_what_is_left(emulator, capsys, tmp_path, no_sleep):
    emulator.configure(history_runs=300, activity_delay=0, pickup_delay=0, work_delay=3600)
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    operator = AutomationAnywhereExportOperator(
        task_id="export", dataset="bot_runs", destination=tmp_path.as_uri(), overlap=timedelta(hours=48)
    )
    result = operator.execute(
        {"data_interval_start": end - timedelta(hours=1), "data_interval_end": end, "ti": SimpleNamespace(try_number=1)}
    )

    assert result["records"] > 100
    progress = [line for line in logged(capsys) if line.startswith("Read page ")]
    left = result["records"] - 100
    assert re.fullmatch(
        rf"Read page 1 of bot_runs: 100 record\(s\) so far, about {left} more listed; \d+ records/s, about \d+ s left\.",
        progress[0],
    )
