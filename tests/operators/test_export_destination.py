"""The export operator's destination as a plain local path, absolute or relative, against the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from airflow_provider_aa.operators.export import AutomationAnywhereExportOperator
from airflow_provider_aa.tasks.export_files import latest_records


@pytest.fixture
def history(aa_emulator, monkeypatch, no_sleep):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(history_runs=50, activity_delay=0, pickup_delay=0, work_delay=3600)
    return aa_emulator


def export_to(destination) -> dict:
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    operator = AutomationAnywhereExportOperator(
        task_id="export", dataset="bot_runs", destination=destination, overlap=timedelta(hours=48)
    )
    return operator.execute(
        {"data_interval_start": end - timedelta(hours=4), "data_interval_end": end, "ti": SimpleNamespace(try_number=1)}
    )


def test_an_absolute_path_is_written_and_read_back_as_given(history, tmp_path):
    destination = str(tmp_path / "exports")
    result = export_to(destination)

    (written,) = (tmp_path / "exports" / "bot_runs").iterdir()
    assert result["path"] == written.as_uri() and result["records"] > 0
    assert len(list(latest_records(destination, "bot_runs"))) == result["records"]


def test_a_relative_path_is_from_the_workers_current_directory(history, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = export_to("exports/cr")

    (written,) = (tmp_path / "exports" / "cr" / "bot_runs").iterdir()
    assert result["path"] == written.as_uri()
