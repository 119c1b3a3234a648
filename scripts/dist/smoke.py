"""
``make dist``, last step: the built wheel works where nothing but it (and what pip resolved
for it) is installed.

Run by the fresh virtualenv's Python, from anywhere: ``.venv-dist/bin/python
scripts/dist/smoke.py dist/airflow_provider_automation_anywhere-<version>-py3-none-any.whl``.
It works in a temporary directory with a throw-away ``AIRFLOW_HOME``, so nothing is
imported from the source tree, and checks that

- the package is imported from the virtualenv, at the wheel's version (also in ``get_provider_info()``);
- ``airflow providers list`` shows the provider at that version;
- the operators, sensors and hook import;
- ``python -m airflow_provider_aa.emulator --port 0`` prints its URL and an
  ``AIRFLOW_CONN_...`` line per auth mode, answers a login over HTTP, lets the hook's
  ``test_connection()`` pass with the printed password connection, and stops on SIGTERM.

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
        check_emulator()
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


def check_emulator() -> None:
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

    command = [sys.executable, "-m", "airflow_provider_aa.emulator", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    watchdog = threading.Timer(TIMEOUT, process.kill)  # a silent emulator: readline() then ends
    watchdog.start()
    try:
        url = process.stdout.readline().split(" listening on ")[-1].strip()
        assert url.startswith("http://127.0.0.1:"), f"no URL printed: {url!r}"
        exports = dict(shlex.split(process.stdout.readline())[1].split("=", 1) for _ in range(3))
        watchdog.cancel()
        assert sorted(exports) == [
            "AIRFLOW_CONN_AUTOMATION_ANYWHERE_API_KEY",
            "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT",
            "AIRFLOW_CONN_AUTOMATION_ANYWHERE_TOKEN",
        ], exports
        uri = urlsplit(exports["AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"])
        body = json.dumps({"username": unquote(uri.username or ""), "password": unquote(uri.password or "")})
        login = urllib.request.Request(
            f"{url}/v2/authentication", body.encode(), {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(login, timeout=TIMEOUT) as answer:
            assert answer.status == 200 and json.load(answer)["token"], "login refused"
        os.environ.update(exports)
        hook = AutomationAnywhereHook()
        try:
            ok, message = hook.test_connection()
        finally:
            hook.close()
        assert ok, message
    finally:
        watchdog.cancel()
        process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=TIMEOUT) == 0, "the emulator did not stop cleanly on SIGTERM"
    assert process.stderr.read() == "", "the emulator wrote to stderr"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} WHEEL")
    main(Path(sys.argv[1]).resolve())
