"""
The fault matrix: each fault a real Control Room or network produces, against the add
operator and the sensor (poke and deferred) in one DAG run through real Airflow.

For each: the tasks end in the right state, the queue holds each item exactly once (or not
at all when the add must fail), the requests stay bounded, and a failure says what happened.
The table is printed at the end of the test run and kept in the README.
"""

from __future__ import annotations

import threading
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


def later(seconds: float, action: Callable[[], Any]) -> None:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()


CASES = [
    Case("token expiry mid-run", lambda cr: cr.configure(token_lifetime=2)),
    Case("session evicted by another login", lambda cr: later(2.5, lambda: cr.evict("bot_runner"))),
    Case("401 storm (bad credentials)", lambda cr: None, ADD_FAILS, "Login refused for user 'bot_runner'", {"password": "wrong-password"}),
    Case("429 with Retry-After", lambda cr: cr.faults.add("rate_limit", count=3, retry_after=1)),
    Case("503 burst", lambda cr: cr.faults.add("server_error", count=4, status=503)),
    Case("connection dropped before commit", lambda cr: cr.faults.add("drop_before_commit", path=ADD_PATH)),
    Case("connection dropped after commit", lambda cr: cr.faults.add("drop_after_commit", path=ADD_PATH)),
    Case("response slower than the timeout", lambda cr: cr.faults.add("slow_response", path=ADD_PATH, seconds=2)),
    Case("HTML 200 page", lambda cr: cr.faults.add("html_page", count=None), ADD_FAILS, "HTML page where JSON was expected"),
    Case("malformed JSON", lambda cr: cr.faults.add("malformed_json", path=ADD_PATH)),
    Case("emulator restarted", lambda cr: later(2.5, cr.restart)),
]
@pytest.mark.parametrize("case", CASES, ids=[case.fault for case in CASES])
def test_fault(aa_emulator, monkeypatch, capfd, case):
    aa_emulator.configure(pickup_delay=0.5, work_delay=1.0)
    aa_emulator.use_connection(monkeypatch, timeout=1)
    if case.connection:
        import json
        import os

        fields = json.loads(os.environ["AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"])
        monkeypatch.setenv("AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT", json.dumps({**fields, **case.connection}))
    monkeypatch.setattr("airflow_provider_aa.control_room.session.RetryPolicy.initial_delay", 0.2)
    case.arrange(aa_emulator)

    run = load_test_dag("fault_matrix").test()

    states = task_states(run)
    held = sorted(item["json"]["n"] for item in aa_emulator.work_items(20))
    requests = sum(aa_emulator.counters.snapshot()["requests"].values())
    FAULT_MATRIX.append((case.fault, states["add"], states["wait_poke"], states["wait_deferred"], str(held), str(requests)))
    assert states == case.states
    assert held == ([1, 2, 3] if states["add"] == "success" else [])
    assert requests <= 60
    if case.message:
        assert case.message in capfd.readouterr().out
