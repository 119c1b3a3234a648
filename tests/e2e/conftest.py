"""End-to-end tests: real Airflow (dag.test) against the Control Room emulator over HTTP."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import EXAMPLE_DAGS, TEST_DAGS


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated metadata database in the tests' throw-away AIRFLOW_HOME."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=os.environ.copy(), check=True, capture_output=True, timeout=300)


@pytest.fixture
def fast_bot(aa_emulator):
    """The emulator with a quick bot, so that a DAG finishes in seconds."""
    aa_emulator.configure(pickup_delay=0.3, work_delay=0.5)
    return aa_emulator


def load_example_dag(name: str, folder: Path = EXAMPLE_DAGS):
    return load_dag_file(name, folder).dag


def load_test_dag(name: str):
    return load_example_dag(name, TEST_DAGS)


def load_dag_file(name: str, folder: Path = TEST_DAGS) -> ModuleType:
    """The module of a DAG file, freshly executed (its ``dag`` and anything else it keeps)."""
    spec = importlib.util.spec_from_file_location(f"dag_{name}", folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def xcoms(dag_run, key: str = "return_value") -> dict[str, object]:
    """``{task_id: value}`` of one XCom key of a finished run, read back from the database."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel).filter(XComModel.run_id == dag_run.run_id, XComModel.key == key)
        return {row.task_id: row.value for row in rows}


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


@pytest.fixture
def fault_matrix_row(request):
    """
    Records this test's row of the fault matrix (docs/fault-matrix.md), which ``tests/conftest.py`` prints
    after the run. The row travels in the test's report, so that rows from pytest-xdist
    workers reach the process that prints; ordered as the cases are in their module.
    """

    def record(*row: str) -> None:
        order = [request.node.location[1], *request.node.callspec.indices.values()]
        request.node.user_properties.append(("fault_matrix", [order, list(row)]))

    return record
