"""The provider without OpenLineage: its tasks run, and only the lineage methods need it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("airflow_db")

ROOT = Path(__file__).resolve().parents[2]

# Every import of OpenLineage fails, as where it is not installed; then the links DAG runs.
# Airflow itself still reads the installed OpenLineage provider's metadata (its package and
# get_provider_info import nothing of OpenLineage) and logs that its plugin did not load.
SCRIPT = textwrap.dedent(
    """
    import sys

    METADATA = ("airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info")

    class NoOpenLineage:
        def find_spec(self, name, path=None, target=None):
            blocked = name == "openlineage" or name.startswith(("openlineage.", "airflow.providers.openlineage."))
            if blocked and name not in METADATA:
                raise ImportError(f"No module named {name!r} (blocked by the test)")
            return None

    sys.meta_path.insert(0, NoOpenLineage())

    from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
    from tests.e2e.conftest import load_test_dag, task_states

    states = task_states(load_test_dag("links").test())
    assert set(states.values()) == {"success"}, states
    loaded = [name for name in sys.modules if name.startswith(("openlineage", "airflow.providers.openlineage"))]
    assert set(loaded) <= set(METADATA), loaded
    task = AutomationAnywhereAddWorkItemsOperator(task_id="t", queue_id=20, work_items=[])
    try:
        task.get_openlineage_facets_on_complete(None)
    except ImportError as blocked:
        print("lineage needs OpenLineage:", blocked)
    else:
        raise AssertionError("OpenLineage was not blocked")
    print("ran without OpenLineage:", sorted(states))
    """
)


def test_the_provider_runs_its_tasks_without_openlineage(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "ran without OpenLineage: ['add', 'deploy', 'wait', 'wait_run']" in done.stdout
    assert "lineage needs OpenLineage: No module named" in done.stdout
