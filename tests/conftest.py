"""Shared test setup: an isolated AIRFLOW_HOME and connections given as environment variables."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import jwt
import pytest

# Airflow reads its home at import time: point it at a throw-away folder first.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="aa-provider-tests-"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    # A pytest-xdist worker inherits the controller's environment: it gets a home (and a
    # metadata database) of its own, as two processes writing one SQLite file lock each other out.
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix=f"aa-provider-tests-{os.environ['PYTEST_XDIST_WORKER']}-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# dag.test() syncs the configured DAG folder to the metadata database: the example DAGs
# plus the tests' own, linked into one throw-away folder.
EXAMPLE_DAGS = Path(__file__).resolve().parent.parent / "example_dags"
TEST_DAGS = Path(__file__).resolve().parent / "e2e" / "dags"
_DAGS_FOLDER = Path(tempfile.mkdtemp(prefix="aa-provider-dags-"))
for _dag_file in [*EXAMPLE_DAGS.glob("*.py"), *TEST_DAGS.glob("*.py")]:
    (_DAGS_FOLDER / _dag_file.name).symlink_to(_dag_file)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_DAGS_FOLDER)

BASE_URL = "https://cr.example.test"
PASSWORD = "S3cret-Passw0rd-xyz"
API_KEY = "APIKEY0123456789abcdefghijABCDEFGHIJ0123"


def make_token(lifetime: float = 1200, *, issued_at: float | None = None, subject: str = "jdoe") -> str:
    """A JWT shaped like the Control Room's (the provider reads but never verifies it)."""
    now = time.time() if issued_at is None else issued_at
    return jwt.encode(
        {"sub": subject, "iat": int(now), "exp": int(now + lifetime), "n": os.urandom(4).hex()},
        "k" * 32,
        algorithm="HS256",
    )


@pytest.fixture
def use_connection(monkeypatch):
    """Set ``AIRFLOW_CONN_<ID>`` from connection fields; returns the fields."""

    def use(conn_id: str = "automation_anywhere_default", **fields):
        fields.setdefault("conn_type", "automation_anywhere")
        fields.setdefault("host", BASE_URL)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))
        return fields

    return use


@pytest.fixture(autouse=True)
def _fresh_capabilities():
    """Each test starts with a process that has learned nothing of Control Rooms (see hook.capabilities)."""
    from airflow_provider_aa.hooks.automation_anywhere import forget_capabilities

    forget_capabilities()


@pytest.fixture
def no_sleep(monkeypatch):
    """Record backoff sleeps instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr("airflow_provider_aa.hooks.automation_anywhere.time.sleep", slept.append)
    return slept


# -- the fault matrix's table (rows from tests/e2e/test_fault_matrix.py) ------------------------
# Here, not in tests/e2e/conftest.py: under pytest-xdist, the process that prints the summary
# collects no tests, and loads only this conftest.

_FAULT_MATRIX: list[list] = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _FAULT_MATRIX.extend(value for name, value in report.user_properties if name == "fault_matrix")


def pytest_terminal_summary(terminalreporter):
    if not _FAULT_MATRIX:
        return
    terminalreporter.section("fault matrix: add (or deploy) -> wait (poke) / wait (deferred)")
    terminalreporter.write_line("| fault | add | wait (poke) | wait (deferred) | items held | requests |")
    terminalreporter.write_line("|---|---|---|---|---|---|")
    for _order, row in sorted(_FAULT_MATRIX):
        terminalreporter.write_line("| " + " | ".join(row) + " |")
