"""
The fault matrix: each fault a real Control Room or network produces, against the add
operator and the sensor (poke and deferred) in one DAG run through real Airflow.

For each: the tasks end in the right state, the queue holds each item exactly once (or not
at all when the add must fail), the requests stay bounded, and a failure says what happened.
The table is printed at the end of the test run and kept in the README.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from tests.e2e.conftest import FAULT_MATRIX, load_test_dag, task_states

pytestmark = pytest.mark.usefixtures("airflow_db")

ALL_OK = {"add": "success", "wait_poke": "success", "wait_deferred": "success"}
ADD_FAILS = {"add": "failed", "wait_poke": "upstream_failed", "wait_deferred": "upstream_failed"}
ADD_PATH = r"/workitems$"


@dataclass
class Case:
    fault: str
    arrange: Callable[[Any], None]
    states: dict[str, str] = field(default_factory=lambda: ALL_OK)
    message: str | None = None
    connection: dict[str, Any] = field(default_factory=dict)
    #: The fault ends sessions mid-run: some call must have met a 401 and recovered.
    ends_sessions: bool = False


ACTIONS: list[threading.Thread] = []


def once_waiting(emulator: Any, action: Callable[[], Any]) -> None:
    """
    Run ``action`` mid-run: after the third status check, when one of the sensors (whichever
    runs first) or the trigger is polling with a live session it will use again.
    """

    def watch() -> None:
        for _ in range(600):
            if emulator.counters.requests("POST /v3/wlm/queues/{queueId}/workitems/list") >= 3:
                action()
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ACTIONS.append(thread)


CASES = [
    Case("token expiry mid-run", lambda cr: cr.configure(token_lifetime=2)),
    Case("session evicted by another login", lambda cr: once_waiting(cr, lambda: cr.evict("bot_runner")), ends_sessions=True),
    Case("401 storm (bad credentials)", lambda cr: None, ADD_FAILS, "Login refused for user 'bot_runner'", {"password": "wrong-password"}),
    Case("429 with Retry-After", lambda cr: cr.faults.add("rate_limit", count=3, retry_after=1)),
    Case("503 burst", lambda cr: cr.faults.add("server_error", count=4, status=503)),
    Case("connection dropped before commit", lambda cr: cr.faults.add("drop_before_commit", path=ADD_PATH)),
    Case("connection dropped after commit", lambda cr: cr.faults.add("drop_after_commit", path=ADD_PATH)),
    Case("response slower than the timeout", lambda cr: cr.faults.add("slow_response", path=ADD_PATH, seconds=2)),
    Case("HTML 200 page", lambda cr: cr.faults.add("html_page", count=None), ADD_FAILS, "HTML page where JSON was expected"),
    Case("malformed JSON", lambda cr: cr.faults.add("malformed_json", path=ADD_PATH)),
    Case("emulator restarted", lambda cr: once_waiting(cr, cr.restart), ends_sessions=True),
]
@pytest.mark.parametrize("case", CASES, ids=[case.fault for case in CASES])
def test_fault(aa_emulator, monkeypatch, capfd, case):
    aa_emulator.configure(pickup_delay=1.0, work_delay=2.0)  # long enough to fault mid-wait
    aa_emulator.use_connection(monkeypatch, timeout=1)
    if case.connection:
        import json
        import os

        fields = json.loads(os.environ["AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"])
        monkeypatch.setenv("AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT", json.dumps({**fields, **case.connection}))
    monkeypatch.setattr("airflow_provider_aa.control_room.session.RetryPolicy.initial_delay", 0.2)
    case.arrange(aa_emulator)

    run = load_test_dag("fault_matrix").test()
    while ACTIONS:
        ACTIONS.pop().join(timeout=30)  # nothing of this case may reach into the next test

    states = task_states(run)
    held = sorted(item["json"]["n"] for item in aa_emulator.work_items(20))
    requests = sum(aa_emulator.counters.snapshot()["requests"].values())
    FAULT_MATRIX.append((case.fault, states["add"], states["wait_poke"], states["wait_deferred"], str(held), str(requests)))
    assert states == case.states
    assert held == ([1, 2, 3] if states["add"] == "success" else [])
    assert requests <= 60
    if case.ends_sessions:
        assert aa_emulator.counters.statuses().get("401", 0) >= 1, "\n".join(f"{e['method']} {e['path']} {e['status']}" for e in aa_emulator.request_log.entries())
    if case.message:
        assert case.message in capfd.readouterr().out
