"""No work item lost or added twice: lost answers and task retries, against the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from tests.e2e.conftest import load_example_dag, task_states, xcoms

ADD = "POST /v3/wlm/queues/{queueId}/workitems"
LIST = "POST /v3/wlm/queues/{queueId}/workitems/list"


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    aa_emulator.configure(pause_bot=True)
    aa_emulator.use_connection(monkeypatch, timeout=1)
    monkeypatch.setattr("airflow_provider_aa.control_room.session.RetryPolicy.initial_delay", 0.05)
    return aa_emulator


def held(emulator, queue_id=20):
    return [item["json"]["n"] for item in emulator.work_items(queue_id)]


@pytest.mark.parametrize(
    ("fault", "params", "adds"),
    [
        # 3 batches; a committed batch whose answer was lost is found, not re-sent...
        ("drop_after_commit", {}, 3),
        ("slow_response", {"seconds": 1.5}, 3),
        # ...and an uncommitted one is sent again
        ("drop_before_commit", {}, 4),
        ("server_error", {"status": 502}, 4),
    ],
)
def test_a_lost_answer_neither_loses_nor_doubles_items(emulator, fault, params, adds):
    emulator.faults.add(fault, count=1, method="POST", path=r"/workitems$", **params)
    items = [{"n": n} for n in range(250)]

    created = AutomationAnywhereHook().add_work_items(20, items)

    assert held(emulator) == list(range(250))  # each exactly once, in order
    assert [item["id"] for item in created] == [item["id"] for item in emulator.work_items(20)]
    assert emulator.counters.requests(ADD) == adds
    assert emulator.counters.requests(LIST) <= 2  # one reconciliation: the newest 100 (+ 100)


def test_dedupe_key_matches_items_the_server_rewrote(emulator):
    emulator.faults.add("drop_after_commit", count=1, method="POST", path=r"/workitems$")
    created = AutomationAnywhereHook().add_work_items(
        20, [{"n": 1, "ref": "A"}, {"n": 2, "ref": "B"}], dedupe_key="ref"
    )
    assert held(emulator) == [1, 2] and len(created) == 2


@pytest.mark.usefixtures("airflow_db")
def test_a_failed_try_is_continued_not_repeated_by_the_retry(emulator, monkeypatch, capfd):
    emulator.configure(pause_bot=False, pickup_delay=0.2, work_delay=0.2)
    emulator.faults.add("html_page", count=1, path="/workitems/list")  # the first try's wait fails
    dag = load_example_dag("example_automation_anywhere_one_task")
    task = dag.get_task("add_and_wait")
    task.retries, task.retry_delay = 1, timedelta(0)

    run = dag.test()

    assert task_states(run) == {"add_and_wait": "success"}
    assert "HTML page where JSON was expected" in capfd.readouterr().out
    assert [item["json"]["order_id"] for item in emulator.work_items(22)] == ["ORD-77", "ORD-78"]
    assert emulator.counters.requests(ADD) == 1
    assert xcoms(run)["add_and_wait"] == [item["id"] for item in emulator.work_items(22)]


def test_duplicates_are_refused_per_item_and_the_rest_is_added(emulator, capsys):
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_aa.control_room.errors import DuplicateWorkItemsError
    from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator

    AutomationAnywhereHook().add_work_items(21, [{"n": 1, "ref": "A"}, {"n": 2, "ref": "B"}])
    emulator.counters.reset()
    again = [{"n": 2, "ref": "B"}, {"n": 3, "ref": "C"}]

    # Its own type, which fails the task without retries: a retry meets the same items.
    with pytest.raises(
        DuplicateWorkItemsError, match=r"refused 1 work item\(s\) as duplicates.*\n  work_items\[0\] \(ref='B'\)"
    ) as refused:
        AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=21, work_items=again, dedupe_key="ref").execute(
            {}
        )
    assert isinstance(refused.value, AirflowFailException)
    assert held(emulator, 21) == [1, 2, 3]
    assert emulator.counters.requests(ADD) == 3  # the batch, then one request per item to tell them apart

    skipping = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=21, work_items=[{"n": 3, "ref": "C"}, {"n": 4, "ref": "D"}], on_duplicate="skip"
    )
    ids = skipping.execute({})
    assert held(emulator, 21) == [1, 2, 3, 4] and ids == [emulator.work_items(21)[-1]["id"]]
    assert "Skipped as a duplicate the queue already holds: work_items[0]" in capsys.readouterr().out


def test_a_late_commit_lands_after_the_client_logged_out(emulator):
    import time

    from airflow_provider_aa.control_room.errors import AmbiguousOutcomeError
    from airflow_provider_aa.control_room.work_items import add_request

    emulator.faults.add("late_commit", count=1, method="POST", path=r"/workitems$", seconds=0.5, answer="drop")
    hook = AutomationAnywhereHook()
    with pytest.raises(AmbiguousOutcomeError):
        hook._request_json(add_request("20", [{"n": 1}]))
    hook.close()  # logs out before the commit is due
    time.sleep(1.0)

    assert held(emulator) == [1]
