"""The re-queue example DAG through real Airflow against the emulator."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import load_example_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_failed_items_are_requeued_by_queue_name_and_waited_for(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(pickup_delay=0, work_delay=0)  # the items below have failed by the next request
    flaky, _, flaky_too = fast_bot.add_work_items(
        20, [{"invoice_id": "INV-1 FAIL_ONCE"}, {"invoice_id": "INV-2"}, {"invoice_id": "INV-3 FAIL_ONCE"}]
    )
    before = fast_bot.work_items(20)
    assert [item["status"] for item in before] == ["FAILED", "COMPLETED", "FAILED"]
    fast_bot.configure(pickup_delay=0.3, work_delay=0.5)

    run = load_example_dag("example_automation_anywhere_requeue").test()

    assert task_states(run) == {
        "requeue_failed": "success",
        "anything_requeued": "success",
        "wait_until_finished": "success",
    }
    ids = xcoms(run)["requeue_failed"]
    assert ids == [flaky["id"], flaky_too["id"]]
    finished = xcoms(run)["wait_until_finished"]
    assert list(finished) == ids and {item["status"] for item in finished.values()} == {"COMPLETED"}
    after = fast_bot.work_items(20)
    assert [item["status"] for item in after] == ["COMPLETED"] * 3
    assert after[1] == before[1]  # the item that had not failed is untouched


def test_nothing_failed_skips_the_wait(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)

    run = load_example_dag("example_automation_anywhere_requeue").test()

    assert task_states(run) == {
        "requeue_failed": "success",
        "anything_requeued": "success",
        "wait_until_finished": "skipped",
    }
    assert xcoms(run)["requeue_failed"] == []
