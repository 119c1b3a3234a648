"""A bot task that times out in real Airflow (dag.test) stops its bot: Airflow calls on_kill."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import load_test_dag, task_states

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_a_deploy_task_past_its_execution_timeout_stops_its_run(aa_emulator, monkeypatch):
    aa_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=3600)
    aa_emulator.use_connection(monkeypatch)

    run = load_test_dag("stop_on_kill").test()

    assert task_states(run) == {"deploy": "failed"}
    assert aa_emulator.counters.requests("POST /v3/activity/manage") == 1
    assert [record["status"] for record in aa_emulator.bot_runs()] == ["RUN_ABORTED"]
