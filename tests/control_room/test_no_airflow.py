"""
The protocol (``airflow_provider_aa.control_room``) imports no Airflow: every one of its
modules imports in a fresh interpreter where importing ``airflow`` fails.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys

import airflow_provider_aa.control_room

_PROBE = """
import importlib, importlib.abc, json, sys

class NoAirflow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "airflow" or name.startswith("airflow."):
            raise ImportError(f"the protocol imported {name}")
        return None

sys.meta_path.insert(0, NoAirflow())
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as problem:
        failed[name] = str(problem)
print(json.dumps({"failed": failed, "airflow": sorted(m for m in sys.modules if m.split(".")[0] == "airflow")}))
"""


def test_every_protocol_module_imports_without_airflow():
    package = airflow_provider_aa.control_room
    modules = [package.__name__] + [
        f"{package.__name__}.{module.name}" for module in pkgutil.iter_modules(package.__path__)
    ]
    assert "airflow_provider_aa.control_room.errors" in modules

    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], env=dict(os.environ), capture_output=True, text=True, check=True
    ).stdout
    found = json.loads(out.strip().splitlines()[-1])

    assert found == {"failed": {}, "airflow": []}
