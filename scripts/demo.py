"""
``make demo``: the example DAG end-to-end through ``airflow dags test`` against the bundled
Control Room emulator, with a throw-away AIRFLOW_HOME in ``.demo/``.

Prints the items added and each one's final status; the exit code tells success. The
emulator stops when this script ends, whatever happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from airflow_provider_aa.emulator import ControlRoomEmulator, EmulatorConfig

ROOT = Path(__file__).resolve().parent.parent
DAG_FILE = ROOT / "example_dags" / "example_automation_anywhere.py"
DAG_ID = "example_automation_anywhere_work_items"
QUEUE_ID = 20


def main() -> int:
    home = ROOT / ".demo" / "airflow_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    airflow = str(Path(sys.executable).with_name("airflow"))
    started = time.monotonic()
    with ControlRoomEmulator(EmulatorConfig(pickup_delay=1.0, work_delay=2.0)) as emulator:
        print(f"Control Room emulator: {emulator.url}")
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
            "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT": emulator.connection_env_value("password"),
        }
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        print(f"Running `airflow dags test {DAG_ID}` (log: {home / 'dags_test.log'}) ...")
        with open(home / "dags_test.log", "w") as log:
            run = subprocess.run(
                [airflow, "dags", "test", DAG_ID, "-f", str(DAG_FILE)], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        output = (home / "dags_test.log").read_text()
        items = emulator.work_items(QUEUE_ID)
    elapsed = time.monotonic() - started

    succeeded = run.returncode == 0 and "state=success" in _dag_run_line(output)
    print(f"\nWork items added to queue {QUEUE_ID}: {len(items)}")
    for item in items:
        outcome = item.get("result") or item.get("error") or ""
        print(f"  {item['id']}: {item['status']:<10} {item['json'].get('invoice_id', '')}  {outcome}")
    print(f"DAG run: {_dag_run_line(output) or 'no DagRun line found'}")
    print(f"{'SUCCESS' if succeeded else 'FAILED'} in {elapsed:.1f} s")
    if not succeeded:
        print(output[-4000:], file=sys.stderr)
    return 0 if succeeded else 1


def _dag_run_line(output: str) -> str:
    line = next((line for line in reversed(output.splitlines()) if "DagRun Finished" in line), "")
    return " ".join(
        field.rstrip(",") for field in line.split() if field.startswith(("dag_id=", "state=", "run_duration="))
    )


if __name__ == "__main__":
    sys.exit(main())
