"""
``make demo``: three example DAGs end-to-end against the bundled Control Room emulator, with
a throw-away AIRFLOW_HOME in ``.demo/``: work items added to a queue and waited for, the same
wait deferred to a trigger, and a bot deployed with typed inputs whose outputs come back.

Prints what each run did, then the next steps (the emulator command, the connection, the
example DAGs, docs/run-it-for-real.md); the exit code tells success. The emulator
stops when this script ends, whatever happens. The DAGs run one after the other through
``dag.test()`` in one Airflow process (this script with ``--run-dags``), which starts
Airflow once instead of once per DAG.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from automation_anywhere_emulator.connections import connection_uri

ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = ROOT / "example_dags"
WORK_ITEMS_DAG = DAGS_FOLDER / "example_automation_anywhere.py"
DEFERRABLE_DAG = DAGS_FOLDER / "example_automation_anywhere_deferrable.py"
BOT_DAG = DAGS_FOLDER / "example_automation_anywhere_bot.py"
#: The queues the two work item DAGs fill (their params name them: Invoices, Orders).
INVOICES, ORDERS = 20, 22
#: ``python -m automation_anywhere_emulator`` listens here by default.
EMULATOR_URL = "http://127.0.0.1:8765"
#: Marks the line ``--run-dags`` prints per DAG run: the run's outcome as JSON.
RESULT = "DEMO RESULT "
#: Longer than the three runs take on a busy machine; a hung run must not hang ``make demo``.
RUN_TIMEOUT = 300


def main() -> int:
    home = ROOT / ".demo" / "airflow_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    log_path = home / "demo.log"
    airflow = str(Path(sys.executable).with_name("airflow"))
    dag_files = [WORK_ITEMS_DAG, DEFERRABLE_DAG, BOT_DAG]
    started = time.monotonic()
    # Long enough that the sensors see the items pending at their first poke and defer.
    with ControlRoomEmulator(EmulatorConfig(pickup_delay=1.0, work_delay=2.0)) as emulator:
        print(f"Control Room emulator: {emulator.url}")
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            # Password mode as a deployment needs it: the trigger holds a session of its own.
            "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT": emulator.connection_env_value("password", multiple_login=True),
        }
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        print(f"Running {len(dag_files)} example DAGs with dag.test() (log: {log_path}) ...")
        with open(log_path, "w") as log:
            try:
                subprocess.run(
                    [sys.executable, __file__, "--run-dags", *map(str, dag_files)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=RUN_TIMEOUT,
                )
            except subprocess.TimeoutExpired:
                print(f"The DAG runs did not end within {RUN_TIMEOUT} s.", file=sys.stderr)
        output = log_path.read_text()
        results = {result["dag_id"]: result for result in _results(output)}
        invoices, orders, bot_runs = emulator.work_items(INVOICES), emulator.work_items(ORDERS), emulator.bot_runs()
        next_connection = connection_uri(
            EMULATOR_URL, emulator.credentials("password"), "password", multiple_login=True
        )
    elapsed = time.monotonic() - started

    outcomes = [
        _show_work_items(
            "1. Work queue: add invoices, wait until a bot has finished them",
            WORK_ITEMS_DAG,
            results.get("example_automation_anywhere_work_items"),
            INVOICES,
            invoices,
            "invoice_id",
        ),
        _show_work_items(
            "2. Deferrable: the sensor pokes once, then waits in a trigger",
            DEFERRABLE_DAG,
            results.get("example_automation_anywhere_deferrable"),
            ORDERS,
            orders,
            "order_id",
        ),
        _show_bot_run(results.get("example_automation_anywhere_bot"), bot_runs),
    ]
    succeeded = all(outcomes)
    print(f"\n{'SUCCESS' if succeeded else 'FAILED'} in {elapsed:.1f} s")
    if not succeeded:
        print(output[-4000:], file=sys.stderr)
    _show_next_steps(next_connection)
    return 0 if succeeded else 1


def _show_work_items(
    title: str, dag_file: Path, result: dict[str, Any] | None, queue_id: int, items: list[dict[str, Any]], key: str
) -> bool:
    print(f"\n{title} ({dag_file.relative_to(ROOT)})")
    if not _show_run(result):
        return False
    print(f"   {len(items)} work item(s) in queue {queue_id}:")
    for item in items:
        outcome = item.get("result") or item.get("error") or ""
        print(f"     {item['id']}: {item['status']:<10} {item['json'].get(key, '')}  {outcome}")
    return bool(items) and all(item["status"] == "COMPLETED" for item in items)


def _show_bot_run(result: dict[str, Any] | None, runs: list[dict[str, Any]]) -> bool:
    print(
        f"\n3. Bot: deploy with typed inputs, wait for the run in a trigger, read its outputs ({BOT_DAG.relative_to(ROOT)})"
    )
    if not _show_run(result):
        return False
    for run in runs:
        print(f"   deployment {run['deploymentId']}: {run['fileName']} as user {run['userId']}: {run['status']}")
    outputs = result["returned"].get("print_outputs") or {}
    print("   output variables, back as Python values (the bot's own, then its inputs echoed):")
    for name, value in outputs.items():
        print(f"     {name} = {value}")
    return bool(outputs) and [run["status"] for run in runs] == ["COMPLETED"]


def _show_run(result: dict[str, Any] | None) -> bool:
    """The run's state and its tasks' (deferred ones named); False when there is no successful run."""
    if result is None:
        print("   no run: see the log")
        return False
    tasks = ", ".join(
        f"{task} {state}" + (" (deferred to a trigger)" if task in result["deferred"] else "")
        for task, state in result["tasks"].items()
    )
    print(f"   run: {result['state']}; {tasks}")
    return result["state"] == "success"


def _show_next_steps(connection: str) -> None:
    print(
        f"""
Next: the same DAGs in a running Airflow, a scheduler and a triggerer against the emulator,
step by step in docs/run-it-for-real.md. In short, after `. {sys.prefix}/bin/activate`:
  the emulator       python -m automation_anywhere_emulator   (it prints the connection lines)
  the connection     airflow connections add automation_anywhere_default --conn-uri '{connection}'
  the example DAGs   {DAGS_FOLDER}   (AIRFLOW__CORE__DAGS_FOLDER)
  Airflow            airflow standalone, then unpause and trigger the DAGs"""
    )


def _results(output: str) -> list[dict[str, Any]]:
    """The outcomes ``--run-dags`` printed, with the tasks that deferred, from the log between them."""
    results = []
    section_start = 0
    line_end = 0
    for line in output.splitlines(keepends=True):
        line_end += len(line)
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
            section = output[section_start:line_end]
            result["deferred"] = [task for task in result["tasks"] if _deferred(section, task)]
            results.append(result)
            section_start = line_end
    return results


def _deferred(section: str, task: str) -> bool:
    """Whether the task runner logged, in this run's part of the log, that ``task`` deferred."""
    named = re.compile(rf"\btask_id={re.escape(task)}\b")
    return any("Pausing task as DEFERRED" in line and named.search(line) for line in section.splitlines())


def run_dags(paths: list[str]) -> int:
    """``--run-dags``: each DAG file's ``dag`` through ``dag.test()``, one ``RESULT`` line per run."""
    from airflow.models.xcom import XComModel
    from airflow.sdk.serde import deserialize
    from airflow.utils.session import create_session

    for path in paths:
        spec = importlib.util.spec_from_file_location(Path(path).stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        run = module.dag.test()
        with create_session() as session:
            rows = session.query(XComModel).filter(XComModel.run_id == run.run_id, XComModel.key == "return_value")
            returned = {row.task_id: _shown(deserialize(row.value)) for row in rows}
        outcome = {
            "dag_id": run.dag_id,
            "state": str(run.state),
            "tasks": {ti.task_id: str(ti.state) for ti in sorted(run.get_task_instances(), key=_started)},
            "returned": returned,
        }
        # One write: a line nothing else can split.
        sys.stdout.write(RESULT + json.dumps(outcome) + "\n")
        sys.stdout.flush()
    return 0


def _shown(value: Any) -> Any:
    """A task's return value as the demo prints it: a dict's values, or the value, as ``repr``."""
    if isinstance(value, dict):
        return {str(key): repr(item) for key, item in value.items()}
    return repr(value)


def _started(task_instance: Any) -> tuple[bool, Any]:
    """Tasks in the order they ran; those that never started last."""
    return task_instance.start_date is None, task_instance.start_date


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run-dags"]:
        sys.exit(run_dags(sys.argv[2:]))
    sys.exit(main())
