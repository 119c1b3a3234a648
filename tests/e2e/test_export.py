"""The export example DAG through real Airflow (dag.test) against the emulator's history."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import load_example_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_the_example_exports_bot_runs_and_prints_each_bots_success_rate(aa_emulator, monkeypatch, tmp_path, capfd):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(history_runs=600)  # a run every ~5 minutes over two days
    monkeypatch.setenv("AA_EXPORT_DESTINATION", tmp_path.as_uri())

    run = load_example_dag("example_automation_anywhere_export").test()

    assert task_states(run) == {"export_bot_runs": "success", "success_rates": "success"}
    export = xcoms(run)["export_bot_runs"]
    (written,) = (tmp_path / "bot_runs").iterdir()
    assert export["path"] == written.as_uri() and export["records"] == len(written.read_text().splitlines()) > 0
    rates = xcoms(run)["success_rates"]
    assert set(rates) <= {"Invoice Processor", "Report Builder", "Invoice Processor v2"} and rates
    assert all(0 <= rate <= 1 for rate in rates.values())
    assert "run(s) completed" in capfd.readouterr().out
