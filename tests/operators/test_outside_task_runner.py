"""
``operator.execute(context)`` with a mocked task instance — how users unit-test their DAG
code, and how Airflow's own provider tests call operators — works against the emulator.
"""

from __future__ import annotations

import logging
from unittest import mock

from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator


def test_add_operator_runs_with_a_mocked_task_instance(aa_emulator, monkeypatch, caplog):
    aa_emulator.use_connection(monkeypatch)
    operator = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=20, work_items=[{"n": 1}, {"n": 2}, {"n": 3}], batch_size=2
    )
    with caplog.at_level(logging.WARNING, logger="airflow_provider_aa.tasks.state"):
        ids = operator.execute({"ti": mock.MagicMock()})

    assert ids == [item["id"] for item in aa_emulator.work_items(20)] and len(ids) == 3
    warnings = [record.getMessage() for record in caplog.records if record.name == "airflow_provider_aa.tasks.state"]
    assert len(warnings) == 1 and "No task runner" in warnings[0]
