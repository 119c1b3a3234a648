"""scripts/demo.py's reading of its DAG runs (``make demo`` itself runs them against the emulator)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "scripts" / "demo.py"


def load_demo():
    spec = importlib.util.spec_from_file_location("demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def result_line(demo, dag_id: str, tasks: dict[str, str], state: str = "success") -> str:
    return demo.RESULT + json.dumps({"dag_id": dag_id, "state": state, "tasks": tasks, "returned": {}}) + "\n"


def test_each_run_names_the_tasks_that_deferred_in_its_own_part_of_the_log():
    demo = load_demo()
    log = (
        "[info] Pausing task as DEFERRED. [task] dag_id=a run_id=r1 task_id=wait\n"
        + result_line(demo, "a", {"add": "success", "wait": "success"})
        + "[info] 3 of 3 work item(s) still pending task_id=wait\n"
        + "[info] Pausing task as DEFERRED. [task] dag_id=b run_id=r2 task_id=wait_longer\n"
        + result_line(demo, "b", {"wait": "success", "wait_longer": "success"})
        + result_line(demo, "c", {"wait": "failed"}, state="failed")
    )

    results = demo._results(log)

    assert [(r["dag_id"], r["state"], r["deferred"]) for r in results] == [
        ("a", "success", ["wait"]),
        ("b", "success", ["wait_longer"]),  # not "wait": a name that only starts the same
        ("c", "failed", []),
    ]


def test_a_run_that_failed_or_never_ended_fails_the_demo(capsys):
    demo = load_demo()
    result = {"dag_id": "a", "state": "failed", "tasks": {"add": "failed"}, "returned": {}, "deferred": []}

    assert demo._show_run(result) is False
    assert demo._show_run(None) is False
    assert demo._show_run({**result, "state": "success", "tasks": {"add": "success"}}) is True
    assert "run: failed; add failed" in capsys.readouterr().out


def test_a_bot_run_shows_its_outputs_and_succeeds_only_when_completed(capsys):
    demo = load_demo()
    result = {
        "dag_id": "example_automation_anywhere_bot",
        "state": "success",
        "tasks": {"deploy_invoice_bot": "success", "wait_for_run": "success", "print_outputs": "success"},
        "returned": {"print_outputs": {"sResult": "'done'", "nPagesRead": "3"}},
        "deferred": ["wait_for_run"],
    }
    run = {"deploymentId": "d-1", "fileName": "Invoice Processor", "userId": "29", "status": "COMPLETED"}

    assert demo._show_bot_run(result, [run]) is True
    assert demo._show_bot_run(result, [{**run, "status": "RUN_FAILED"}]) is False
    shown = capsys.readouterr().out
    assert "wait_for_run success (deferred to a trigger)" in shown
    assert "sResult = 'done'" in shown and "nPagesRead = 3" in shown
