"""The example DAGs through real Airflow against the emulator, in every auth mode."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import load_example_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.mark.parametrize("auth_type", ["password", "api_key", "token"])
def test_example_dag_adds_items_and_waits_until_finished(fast_bot, monkeypatch, auth_type):
    fast_bot.use_connection(monkeypatch, auth_type=auth_type)

    run = load_example_dag("example_automation_anywhere").test()

    assert task_states(run) == {"add_invoices": "success", "wait_until_finished": "success", "report": "success"}
    values = xcoms(run)
    ids = values["add_invoices"]
    assert ids == [item["id"] for item in fast_bot.work_items(20)] and len(ids) == 3
    assert all(isinstance(item_id, str) for item_id in ids)
    finished = values["wait_until_finished"]
    assert list(finished) == ids
    assert {item["status"] for item in finished.values()} == {"COMPLETED"}
    # Each item's outcome, not its data (docs/payloads.md).
    assert finished[ids[0]] == {"id": ids[0], "status": "COMPLETED", "result": "Processed by emulated bot", "error": ""}
    assert values["report"] == {item_id: "COMPLETED" for item_id in ids}
    logins = fast_bot.counters.logins()
    assert logins == (0 if auth_type == "token" else 2)  # one per task, none with a pre-issued token


def test_a_failing_item_fails_the_sensor_with_the_bots_error(fast_bot, monkeypatch, capfd):
    fast_bot.use_connection(monkeypatch)
    invoices = [{"invoice_id": "INV-OK", "amount": 1}, {"invoice_id": "INV-FAIL-7", "amount": 2}]

    run = load_example_dag("example_automation_anywhere").test(run_conf={"invoices": invoices})

    states = task_states(run)
    assert states["add_invoices"] == "success" and states["wait_until_finished"] == "failed"
    assert states["report"] == "upstream_failed"
    failed_id = fast_bot.work_items(20)[1]["id"]
    log = capfd.readouterr().out
    assert f"id {failed_id}: status FAILED: Emulated bot failure: invoice_id contains FAIL" in log


def test_deferrable_example_waits_in_the_trigger(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch, auth_type="api_key")
    fast_bot.configure(pickup_delay=4.0)  # still NEW at the first poke (also on a slow 3.1): the sensor must defer

    run = load_example_dag("example_automation_anywhere_deferrable").test()

    # add task, sensor's first poke, then the trigger's own (async) session: three logins
    assert fast_bot.counters.logins() == 3

    assert task_states(run) == {"add_orders": "success", "wait_in_triggerer": "success"}
    finished = xcoms(run)["wait_in_triggerer"]
    assert list(finished) == xcoms(run)["add_orders"] and len(finished) == 5
    assert {item["status"] for item in finished.values()} == {"COMPLETED"}


def test_one_task_adds_and_waits_deferred(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(pickup_delay=4.0)

    run = load_example_dag("example_automation_anywhere_one_task").test()

    assert task_states(run) == {"add_and_wait": "success"}
    ids = xcoms(run)["add_and_wait"]
    assert ids == [item["id"] for item in fast_bot.work_items(22)]
    finished = xcoms(run, key="work_items")["add_and_wait"]
    assert list(finished) == ids and {item["status"] for item in finished.values()} == {"COMPLETED"}
    assert fast_bot.counters.logins() == 2  # the task's session, then the trigger's
    assert len(fast_bot.work_items(22)) == 2  # resuming after deferral added nothing again


def test_reschedule_mode_gives_the_same_outcome(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(pickup_delay=4.0)  # long enough for a reschedule also where tasks start slowly (3.1)
    dag = load_example_dag("example_automation_anywhere")
    dag.get_task("wait_until_finished").mode = "reschedule"

    run = dag.test()

    assert task_states(run) == {"add_invoices": "success", "wait_until_finished": "success", "report": "success"}
    assert {item["status"] for item in xcoms(run)["wait_until_finished"].values()} == {"COMPLETED"}
    assert fast_bot.counters.logins() >= 3  # each rescheduled poke is a new task try: a new session
