"""
OpenLineage through real Airflow: ``airflow dags test`` with the OpenLineage provider's
listener writing its events to a file, the tasks against the emulator over HTTP.

In a subprocess: the OpenLineage plugin decides once per process, when Airflow loads its
plugins, whether it listens, and the rest of the suite runs without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("airflow_db")

AIRFLOW = Path(sys.executable).with_name("airflow")


def lineage_events(tmp_path: Path, dag_id: str) -> dict[tuple[str, str], dict]:
    """Run ``dag_id`` with OpenLineage on; ``{(task id, event type): event}`` of its tasks."""
    events = tmp_path / "openlineage"
    env = {
        **os.environ,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(events), "append": True}),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "tests",
    }
    done = subprocess.run([str(AIRFLOW), "dags", "test", dag_id], env=env, capture_output=True, text=True, timeout=300)
    (tmp_path / "dags-test.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, f"airflow dags test failed: see {tmp_path / 'dags-test.log'}"
    found = {}
    for line in events.read_text().splitlines():
        event = json.loads(line)
        job = event["job"]["name"]
        if job.startswith(f"{dag_id}."):
            found[(job.removeprefix(f"{dag_id}."), event["eventType"])] = event
    return found


def datasets(event: dict, side: str) -> list[tuple[str, str]]:
    return [(dataset["namespace"], dataset["name"]) for dataset in event[side]]


def test_tasks_report_the_queue_the_deployment_and_the_exported_file(fast_bot, monkeypatch, tmp_path):
    fast_bot.use_connection(monkeypatch)
    # The first poke of "wait" finds the item new, also on a busy machine: it defers.
    fast_bot.configure(pickup_delay=8.0)
    monkeypatch.setenv("AA_EXPORT_DESTINATION", str(tmp_path / "exports"))
    host = fast_bot.url.split("://", 1)[1]
    control_room = f"automation-anywhere://{host}"

    events = lineage_events(tmp_path, "lineage")

    queue_dataset = (control_room, "queues/20")  # the emulator's queue "Invoices"
    assert datasets(events["add", "COMPLETE"], "outputs") == [queue_dataset]
    assert datasets(events["add", "COMPLETE"], "inputs") == []
    assert "[DAG TEST] running trigger in line" in (tmp_path / "dags-test.log").read_text()  # "wait" deferred
    assert datasets(events["wait", "START"], "inputs") == []  # by name: known once it ran
    assert datasets(events["wait", "COMPLETE"], "inputs") == [queue_dataset]
    assert datasets(events["wait", "COMPLETE"], "outputs") == []
    assert datasets(events["requeue", "COMPLETE"], "inputs") == [queue_dataset]
    assert datasets(events["requeue", "COMPLETE"], "outputs") == [queue_dataset]

    (record,) = fast_bot.bot_runs()
    facet = events["deploy", "COMPLETE"]["run"]["facets"]["automationAnywhereDeployment"]
    assert (facet["deploymentId"], facet["botId"], facet["status"]) == (record["deploymentId"], "501", "COMPLETED")
    assert "automationAnywhereDeployment" not in events["deploy", "START"]["run"]["facets"]

    (written,) = (tmp_path / "exports" / "bot_runs").iterdir()
    assert datasets(events["export", "COMPLETE"], "outputs") == [("file", str(written))]
    assert datasets(events["export", "COMPLETE"], "inputs") == [(control_room, "activity")]
    assert datasets(events["export", "START"], "inputs") == [(control_room, "activity")]
