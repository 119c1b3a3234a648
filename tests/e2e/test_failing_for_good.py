"""
Through real Airflow (dag.test) against the emulator: failures that retries cannot mend
fail the task for good, and a deferrable sensor's first poke behaves like any poke.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import load_example_dag, load_test_dag, task_states

LOGIN = "POST /v2/authentication"


def add(*items):
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

    hook = AutomationAnywhereHook()
    try:
        return [item["id"] for item in hook.add_work_items(20, list(items))]
    finally:
        hook.close()


@pytest.fixture
def emulator(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    return fast_bot


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("deferrable", [False, True])
def test_a_wrong_password_costs_one_login_attempt_however_many_retries(emulator, monkeypatch, deferrable):
    """With 3 retries, a wrong password would cost 4 attempts per task without this."""
    ids = add({"n": 1})
    emulator.set_password("bot_runner", "Rotated-Passw0rd!")  # the connection still has the old one
    emulator.counters.reset()
    dag = load_test_dag("failing_for_good")
    wait = dag.get_task("wait")
    wait.retries, wait.retry_delay, wait.deferrable = 3, timedelta(0), deferrable

    run = dag.test(run_conf={"work_item_ids": ids})

    assert task_states(run) == {"wait": "failed"}
    assert emulator.counters.requests(LOGIN) == 1


@pytest.mark.usefixtures("airflow_db")
def test_a_deferrable_sensor_honours_soft_fail_on_its_first_poke(emulator):
    emulator.configure(pickup_delay=0.0, work_delay=0.0)
    ids = add({"n": "FAIL now"})
    dag = load_test_dag("failing_for_good")
    wait = dag.get_task("wait")
    wait.soft_fail, wait.deferrable = True, True

    run = dag.test(run_conf={"work_item_ids": ids})

    assert task_states(run) == {"wait": "skipped"}
    assert emulator.counters.logins() == 2  # add, then the one poke: never deferred


@pytest.mark.usefixtures("airflow_db")
def test_the_example_dag_runs_with_single_session_logins(emulator):
    """multiple_login is off by default; the worker and the triggerer must not evict each other."""
    assert '"multiple_login"' not in emulator.connection_env_value("password")
    run = load_example_dag("example_automation_anywhere_deferrable").test()
    assert set(task_states(run).values()) == {"success"}
    assert emulator.counters.statuses().get("401", 0) == 0
