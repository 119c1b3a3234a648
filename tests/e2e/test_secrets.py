"""A whole DAG run with known secrets: none of them in any log line, log file or XCom."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import load_example_dag, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.parametrize("auth_type", ["password", "api_key", "token"])
def test_no_secret_in_logs_or_xcom(fast_bot, monkeypatch, capfd, auth_type):
    fast_bot.use_connection(monkeypatch, auth_type=auth_type)
    connection = json.loads(os.environ["AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"])
    secrets = [
        value
        for value in (connection.get("password"), *connection["extra"].values())
        if isinstance(value, str) and value != auth_type
    ]
    fast_bot.faults.add("rate_limit", count=1, path="/workitems/list", retry_after=0)  # errors get logged too

    run = load_example_dag("example_automation_anywhere").test()

    captured = "".join(capfd.readouterr())
    log_files = "".join(path.read_text(errors="replace") for path in Path(os.environ["AIRFLOW_HOME"]).rglob("*.log"))
    stored = repr(xcoms(run))
    assert "Added 3 work item(s)" in captured or "Work items in queue 20" in captured  # the capture works
    for secret in secrets:
        assert len(secret) > 8
        assert secret not in captured and secret not in log_files and secret not in stored
