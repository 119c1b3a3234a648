"""
``make dist``, last step: the built wheel works where nothing but it (and what pip resolved
for it) is installed.

Run by the fresh virtualenv's Python, from anywhere: ``.venv-dist/bin/python
scripts/dist/smoke.py dist/airflow_provider_automation_anywhere-<version>-py3-none-any.whl``.
It works in a temporary directory with a throw-away ``AIRFLOW_HOME``, so nothing is
imported from the source tree, and checks that

- the package is imported from the virtualenv, at the wheel's version (also in ``get_provider_info()``);
- ``airflow providers list`` shows the provider at that version;
- the operators, sensors and hook import.

Exits non-zero (an AssertionError naming the step) on the first failure.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

DISTRIBUTION = "airflow-provider-automation-anywhere"
#: The longest any step may take on a loaded 2-core machine.
TIMEOUT = 120


def main(wheel: Path) -> None:
    version = wheel.name.split("-")[1]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aa-dist-smoke-") as home:
        # Set before Airflow is imported: it reads its home at import time.
        os.environ.update({"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
        os.environ.pop("PYTHONPATH", None)
        os.chdir(home)  # `python -m` puts the working directory first on sys.path: not the source tree
        check_installed(version)
        check_providers_list(version)
        check_imports()
    print(f"smoke: {wheel.name} works in {sys.prefix} ({time.monotonic() - started:.1f} s)")


def check_installed(version: str) -> None:
    from importlib.metadata import version as installed_version

    import airflow_provider_aa
    from airflow_provider_aa.get_provider_info import get_provider_info

    assert Path(airflow_provider_aa.__file__).is_relative_to(sys.prefix), f"imported {airflow_provider_aa.__file__}"
    assert installed_version(DISTRIBUTION) == airflow_provider_aa.__version__ == version, (
        installed_version(DISTRIBUTION),
        airflow_provider_aa.__version__,
        version,
    )
    assert get_provider_info()["versions"] == [version], get_provider_info()["versions"]


def check_providers_list(version: str) -> None:
    airflow = Path(sys.executable).with_name("airflow")
    listed = subprocess.run(
        [str(airflow), "providers", "list", "--output", "json"], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert listed.returncode == 0, listed.stderr
    providers = {row["package_name"]: row["version"] for row in json.loads(listed.stdout)}
    assert providers.get(DISTRIBUTION) == version, f"airflow providers list: {providers}"


def check_imports() -> None:
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
    from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
    from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor

    assert AutomationAnywhereHook.conn_type == "automation_anywhere"
    assert AutomationAnywhereAddWorkItemsOperator.__name__ and AutomationAnywhereWorkItemSensor.__name__


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} WHEEL")
    main(Path(sys.argv[1]).resolve())
