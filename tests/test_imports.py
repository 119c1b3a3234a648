"""
What a DAG file pays for at parse time: importing the operators, sensors and the hook loads
none of what only a running task needs (the HTTP stack, token decoding, the emulator, the
export's storage, the trigger side). Checked by module names in a fresh interpreter, so the
result does not depend on the machine's speed; ``make bench`` measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

#: Loaded by no module a DAG file imports (a name stands for its submodules too).
NEVER_AT_PARSE = (
    "requests",
    "urllib3",
    "httpx",
    "jwt",
    "cryptography",
    "airflow_provider_aa.transport",
    "automation_anywhere_emulator",
    "airflow_provider_aa.tasks.export_files",
    "airflow_provider_aa.triggers",
)
#: Loaded by the hook's module, but not by the operators' and sensors' (they import the hook
#: when a task runs).
RUNTIME_ONLY = (
    "airflow_provider_aa.hooks.automation_anywhere",
    "airflow_provider_aa.control_room.capabilities",
    "airflow_provider_aa.control_room.names",
    "airflow_provider_aa.control_room.adding",
    "airflow_provider_aa.tasks.names",
    "airflow_provider_aa.tasks.waits",
)

_PROBE = """
import json, sys
import airflow.sdk
from airflow.sdk import DAG, BaseOperator, BaseSensorOperator, task
before = set(sys.modules)
for name in sys.argv[1:]:
    __import__(name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_by(*modules: str) -> list[str]:
    """The modules that importing ``modules`` after ``airflow.sdk`` adds, in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], env=dict(os.environ), capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def among(loaded: list[str], names: tuple[str, ...]) -> list[str]:
    return [module for module in loaded if any(module == name or module.startswith(name + ".") for name in names)]


@pytest.mark.parametrize(
    ("modules", "not_yet"),
    [
        (
            ("airflow_provider_aa.operators.automation_anywhere", "airflow_provider_aa.sensors.automation_anywhere"),
            NEVER_AT_PARSE + RUNTIME_ONLY,
        ),
        (("airflow_provider_aa.operators.export",), NEVER_AT_PARSE + RUNTIME_ONLY),
        (("airflow_provider_aa.hooks.automation_anywhere",), NEVER_AT_PARSE),
    ],
    ids=["operators+sensors", "export operator", "hook"],
)
def test_parse_time_imports_leave_what_a_running_task_needs(modules, not_yet):
    loaded = loaded_by(*modules)
    assert set(modules) <= set(loaded)  # the probe imported them there, not earlier
    assert among(loaded, not_yet) == []
