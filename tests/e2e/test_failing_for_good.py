"""
Through real Airflow (dag.test) against the emulator: failures that retries cannot mend
(a ``FatalError``) fail the task for good — in an operator, a sensor (poking and deferred)
and a ``@task`` that calls the hook — while other provider errors use the task's retries;
and a deferrable sensor's first poke behaves like any poke.
"""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, FatalError, LoginRefusedError
from airflow_provider_aa.version_compat import AIRFLOW_V_3_3_PLUS
from tests.e2e.conftest import load_dag_file, load_example_dag, load_test_dag, task_states

LOGIN = "POST /v2/authentication"


def add(*items):
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

    hook = AutomationAnywhereHook()
    try:
        return [item["id"] for item in hook.add_work_items(20, list(items))]
    finally:
        hook.close()


def try_numbers(run) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in run.get_task_instances()}


def wait_retried_3_times(deferrable: bool):
    """The failing_for_good DAG, its sensor given 3 retries without delay."""
    dag = load_test_dag("failing_for_good")
    wait = dag.get_task("wait")
    wait.retries, wait.retry_delay, wait.deferrable = 3, timedelta(0), deferrable
    return dag


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
    dag = wait_retried_3_times(deferrable)

    run = dag.test(run_conf={"work_item_ids": ids})

    assert task_states(run) == {"wait": "failed"}
    assert try_numbers(run) == {"wait": 1}
    assert emulator.counters.requests(LOGIN) == 1


@pytest.mark.usefixtures("airflow_db")
def test_a_login_refused_in_the_triggerer_fails_the_resumed_sensor_without_retries(emulator):
    """The first poke logs in; the password is rotated before the trigger logs in."""
    ids = add({"n": 1})
    emulator.configure(pickup_delay=600.0)  # the item stays new: the sensor defers

    def rotate_after_the_first_poke(event):
        if event.phase == "end" and event.path.endswith("/workitems/list"):
            emulator.set_password("bot_runner", "Rotated-Passw0rd!")

    emulator.observe(requests=rotate_after_the_first_poke)
    emulator.counters.reset()
    dag = wait_retried_3_times(deferrable=True)

    run = dag.test(run_conf={"work_item_ids": ids})

    assert task_states(run) == {"wait": "failed"}
    assert try_numbers(run) == {"wait": 1}
    assert emulator.counters.requests("POST /v3/wlm/queues/{queueId}/workitems/list") == 1  # one poke, one try


@pytest.mark.usefixtures("airflow_db")
def test_a_wrong_password_fails_an_operator_without_retries(emulator):
    emulator.set_password("bot_runner", "Rotated-Passw0rd!")
    dag = load_test_dag("fault_matrix")
    dag.get_task("add").retries = 3

    run = dag.test()

    assert task_states(run)["add"] == "failed"
    assert try_numbers(run)["add"] == 1
    assert emulator.counters.requests(LOGIN) == 1
    assert emulator.work_items(20) == []


@pytest.mark.usefixtures("airflow_db")
def test_a_failed_call_that_is_not_fatal_uses_an_operators_retries(emulator):
    # The add's first request (the queue's newest id, before anything is added) answers 500.
    emulator.faults.add("server_error", path=r"/workitems/list$")
    dag = load_test_dag("fault_matrix")

    run = dag.test()

    assert task_states(run) == {"add": "success", "wait_poke": "success", "wait_deferred": "success"}
    assert try_numbers(run)["add"] == 2
    assert sorted(item["json"]["n"] for item in emulator.work_items(20)) == [1, 2, 3]


@pytest.mark.usefixtures("airflow_db")
def test_a_fatal_error_of_the_hook_fails_a_task_without_retries(emulator):
    ids = add({"n": 1})
    emulator.set_password("bot_runner", "Rotated-Passw0rd!")
    emulator.counters.reset()
    dag_file = load_dag_file("hook_in_task")

    run = dag_file.dag.test(run_conf={"work_item_ids": ids})

    assert task_states(run) == {"read": "failed"}
    assert try_numbers(run) == {"read": 1}
    assert emulator.counters.requests(LOGIN) == 1
    [(callback, seen)] = dag_file.SEEN
    assert callback == "failed"
    if seen is None:
        assert not AIRFLOW_V_3_3_PLUS  # 3.1's dag.test() gives callbacks no exception
        return
    assert isinstance(seen, LoginRefusedError) and isinstance(seen, FatalError)
    # Airflow may pickle the error: it comes back as the same class with the same fields.
    again = pickle.loads(pickle.dumps(seen))
    assert type(again) is type(seen)
    assert (str(again), again.status, again.code) == (str(seen), seen.status, seen.code)


@pytest.mark.usefixtures("airflow_db")
def test_a_failed_call_of_the_hook_that_is_not_fatal_uses_a_tasks_retries(emulator):
    ids = add({"n": 1})
    emulator.faults.add("server_error", path=r"/workitems/list$")
    dag_file = load_dag_file("hook_in_task")

    run = dag_file.dag.test(run_conf={"work_item_ids": ids})

    assert task_states(run) == {"read": "success"}
    assert try_numbers(run) == {"read": 2}
    [(callback, seen)] = dag_file.SEEN
    assert callback == "retried"
    if seen is None:
        assert not AIRFLOW_V_3_3_PLUS  # 3.1's dag.test() gives callbacks no exception
        return
    assert isinstance(seen, AutomationAnywhereError) and not isinstance(seen, FatalError)
    assert seen.status == 500


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
