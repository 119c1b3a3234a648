"""
``make dist``, last steps: each built wheel works where nothing but it (and what pip resolved
for it) is installed.

Run by a fresh virtualenv's Python, from anywhere: ``.venv-dist/bin/python
scripts/dist/smoke.py dist/<wheel>``. It works in a temporary directory with a throw-away
``AIRFLOW_HOME``, so nothing is imported from the source tree. For the provider's wheel
(installed alone, without its extra ``emulator``) it checks that

- the package is imported from the virtualenv, at the wheel's version (also in ``get_provider_info()``);
- ``airflow providers list`` shows the provider at that version;
- every module of the package imports (hook, operators, sensors, triggers, ...) with no
  emulator installed, and none of them is or imports an emulator module; the provider
  registers no pytest plugin.

For the emulator's wheel, in a virtualenv of its own (without the provider and Airflow) or
beside the provider (installed through its extra ``emulator``), it checks that

- the package is imported from the virtualenv at the wheel's version, its modules import
  without the provider, and its pytest plugin and console script are registered;
- the emulator started from the command line (``automation-anywhere-emulator --port 0``
  alone, ``python -m automation_anywhere_emulator --port 0`` beside the provider) prints
  its URL and an ``AIRFLOW_CONN_...`` line per auth mode, answers a login over HTTP and
  stops cleanly on SIGTERM; beside the provider, the hook's ``test_connection()`` passes
  with the printed password connection and the provider's reset hook loads.

Exits non-zero (an AssertionError naming the step) on the first failure.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pkgutil
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from importlib.metadata import distribution, entry_points
from pathlib import Path
from urllib.parse import unquote, urlsplit

PROVIDER = "airflow-provider-automation-anywhere"
EMULATOR = "automation-anywhere-emulator"
#: The longest any step may take on a loaded 2-core machine.
TIMEOUT = 120


def main(wheel: Path) -> None:
    name, version = wheel.name.split("-")[:2]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aa-dist-smoke-") as home:
        # Set before Airflow is imported: it reads its home at import time.
        os.environ.update({"AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
        os.environ.pop("PYTHONPATH", None)
        os.chdir(home)  # `python -m` puts the working directory first on sys.path: not the source tree
        if name == "airflow_provider_automation_anywhere":
            check_provider_installed(version)
            check_providers_list(version)
            check_provider_imports()
        elif name == "automation_anywhere_emulator":
            check_emulator_installed(version)
            check_emulator(beside_provider=importlib.util.find_spec("airflow_provider_aa") is not None)
        else:
            raise AssertionError(f"not a wheel of this repository: {wheel.name}")
    print(f"smoke: {wheel.name} works in {sys.prefix} ({time.monotonic() - started:.1f} s)")


def check_provider_installed(version: str) -> None:
    import airflow_provider_aa
    from airflow_provider_aa.get_provider_info import get_provider_info

    assert Path(airflow_provider_aa.__file__).is_relative_to(sys.prefix), f"imported {airflow_provider_aa.__file__}"
    assert distribution(PROVIDER).version == airflow_provider_aa.__version__ == version, (
        distribution(PROVIDER).version,
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
    assert providers.get(PROVIDER) == version, f"airflow providers list: {providers}"


def check_provider_imports() -> None:
    assert importlib.util.find_spec("automation_anywhere_emulator") is None, "the emulator is installed"
    # The OpenLineage facets need the OpenLineage provider, which the provider does not require:
    # only the tasks' lineage methods import that module. Without it, the tasks still import.
    assert importlib.util.find_spec("airflow.providers.openlineage") is None, "OpenLineage is installed"
    modules = _import_all("airflow_provider_aa", skip=("airflow_provider_aa.lineage",))
    for name in (
        "airflow_provider_aa.hooks.automation_anywhere",
        "airflow_provider_aa.operators.automation_anywhere",
        "airflow_provider_aa.sensors.automation_anywhere",
        "airflow_provider_aa.triggers.automation_anywhere",
    ):
        assert name in modules, f"{name} not found in the installed package: {modules}"
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

    assert AutomationAnywhereHook.conn_type == "automation_anywhere"
    emulated = [name for name in sys.modules if "emulator" in name]
    assert not emulated, f"the provider imported {emulated}"
    plugins = [entry.value for entry in distribution(PROVIDER).entry_points if entry.group == "pytest11"]
    assert not plugins, f"the provider registers pytest plugins: {plugins}"


def check_emulator_installed(version: str) -> None:
    import automation_anywhere_emulator

    assert Path(automation_anywhere_emulator.__file__).is_relative_to(sys.prefix), (
        f"imported {automation_anywhere_emulator.__file__}"
    )
    assert distribution(EMULATOR).version == automation_anywhere_emulator.__version__ == version, (
        distribution(EMULATOR).version,
        automation_anywhere_emulator.__version__,
        version,
    )
    # pytest_plugin needs pytest, which loads it (and is not installed here).
    _import_all("automation_anywhere_emulator", skip=("automation_anywhere_emulator.pytest_plugin",))
    provider = [name for name in sys.modules if name.startswith("airflow_provider_aa")]
    assert not provider, f"the emulator imported {provider}"
    plugins = {entry.value: entry.dist.name for entry in entry_points(group="pytest11") if entry.dist}
    assert plugins.get("automation_anywhere_emulator.pytest_plugin") == EMULATOR, f"pytest plugins: {plugins}"
    assert Path(sys.executable).with_name("automation-anywhere-emulator").is_file(), "no console script"


def check_emulator(*, beside_provider: bool) -> None:
    """Start the emulator from the command line, log in over HTTP, stop it with SIGTERM."""
    if beside_provider:
        command = [sys.executable, "-m", "automation_anywhere_emulator", "--port", "0"]
    else:
        assert importlib.util.find_spec("airflow") is None, "Airflow is installed beside the emulator alone"
        command = [str(Path(sys.executable).with_name("automation-anywhere-emulator")), "--port", "0"]
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
        if beside_provider:
            check_provider_against(exports)
    finally:
        watchdog.cancel()
        process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=TIMEOUT) == 0, "the emulator did not stop cleanly on SIGTERM"
    assert process.stderr.read() == "", "the emulator wrote to stderr"


def check_provider_against(exports: dict[str, str]) -> None:
    """The provider's hook passes its connection test with the printed connection; its reset hook loads."""
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook, forget_capabilities

    os.environ.update(exports)
    hook = AutomationAnywhereHook()
    try:
        ok, message = hook.test_connection()
    finally:
        hook.close()
    assert ok, message
    hooks = [entry.load() for entry in entry_points(group="automation_anywhere_emulator.reset")]
    assert hooks == [forget_capabilities], hooks


def _import_all(package: str, skip: tuple[str, ...] = ()) -> set[str]:
    """Import every module of an installed package (none runs anything on import); their names."""
    root = importlib.import_module(package)
    names = {package}
    for module in pkgutil.walk_packages(root.__path__, f"{package}."):
        if module.name not in skip and not module.name.endswith(".__main__"):
            importlib.import_module(module.name)
            names.add(module.name)
    return names


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} WHEEL")
    main(Path(sys.argv[1]).resolve())
