"""The re-queue operator against the emulator: parameters, the XCom shape, progress across tries."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereRequeueWorkItemsOperator
from tests.sensors.test_bot_run_sensor import StateStore

PUT = "PUT /v4/wlm/queues/{queueId}/workitems/{id}"
KEY = "automation_anywhere_requeue_progress"


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    """A bot that works items at once: added or re-queued items have finished by the next request."""
    aa_emulator.configure(pickup_delay=0, work_delay=0)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def current(emulator, item):
    return next(entry for entry in emulator.work_items(20) if entry["id"] == item["id"])


def test_a_retry_touches_no_item_twice_and_returns_the_earlier_tries_ids(emulator, no_sleep):
    # The first item fails every time: re-queued by the first try, failed again before the retry.
    always, flaky, third, fourth = emulator.add_work_items(
        20, [{"n": "FAIL always"}, {"n": "FAIL_ONCE 2"}, {"n": "FAIL_ONCE 3"}, {"n": "FAIL_ONCE 4"}]
    )
    state = StateStore()
    operator = AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", queue_name="Invoices")
    emulator.faults.add("server_error", method="PUT", path=f"/{third['id']}$", count=3)
    jobs = {item["id"]: current(emulator, item)["jobExecutionId"] for item in (always, flaky, third, fourth)}

    with pytest.raises(AutomationAnywhereError, match=f"Updating work item {third['id']} .* no clear answer 3 times"):
        operator.execute({"task_state_store": state})
    header = state.values[KEY]
    assert header["chosen"] == [[item["id"], "2", jobs[item["id"]]] for item in (always, flaky, third, fourth)]
    assert current(emulator, always)["status"] == "FAILED" and current(emulator, flaky)["status"] == "COMPLETED"
    touched = current(emulator, always)["version"]

    emulator.counters.reset()
    assert operator.execute({"task_state_store": state}) == [item["id"] for item in (always, flaky, third, fourth)]

    assert current(emulator, always)["version"] == touched  # failed again, yet not re-queued twice
    assert {current(emulator, item)["status"] for item in (flaky, third, fourth)} == {"COMPLETED"}
    assert emulator.counters.requests(PUT) == 2  # NEW for the two left
    assert state.values == {}  # done: the progress is forgotten


def test_max_items_caps_a_run_and_the_next_run_takes_the_rest(emulator):
    items = emulator.add_work_items(20, [{"n": f"FAIL_ONCE {n}"} for n in range(3)])
    operator = AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", queue_id="20", max_items=2)
    assert operator.execute({}) == [items[0]["id"], items[1]["id"]]
    assert operator.execute({}) == [items[2]["id"]]
    assert operator.execute({}) == []


def test_statuses_and_filter_choose_the_items(emulator):
    failed, on_hold = emulator.add_work_items(
        20, [{"n": "FAIL_ONCE", "team": "a"}, {"n": "STATUS:ON_HOLD", "team": "a"}]
    )
    operator = AutomationAnywhereRequeueWorkItemsOperator(
        task_id="requeue",
        queue_id=20,
        statuses=["ON_HOLD"],
        filter={"operator": "eq", "field": "team", "value": "a"},
    )
    assert operator.execute({}) == [on_hold["id"]]
    assert current(emulator, failed)["status"] == "FAILED"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"queue_id": 20, "queue_name": "Invoices"}, "not both"),
        ({}, "Give queue_id or queue_name"),
        ({"queue_id": 20, "max_items": 0}, "max_items"),
    ],
)
def test_bad_parameters_fail_when_the_task_is_made(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_items": "{{ params.n }}"}, "max_items"),  # rendered to something that is no number
        ({"statuses": ["NEW"]}, "already queued"),
        ({"filter": {"field": "status"}}, "filter.operator"),
    ],
)
def test_bad_rendered_values_fail_before_any_request(emulator, kwargs, message):
    operator = AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", queue_name="Invoices", **kwargs)
    assert operator.template_fields == ("queue_id", "queue_name", "statuses", "filter", "max_items")
    with pytest.raises(InvalidInputError, match=message):
        operator.execute({})
    assert emulator.counters.requests() == 0


class TaskInstance:
    def __init__(self):
        self.xcoms = {}

    def xcom_push(self, key, value):
        self.xcoms[key] = value


def test_an_item_a_person_edits_while_the_answer_is_lost_is_reported_skipped_not_requeued(emulator, no_sleep):
    """Listed FAILED; a person edits its data before the PUT, whose answer is lost: it is still FAILED."""
    edited, fine = emulator.add_work_items(20, [{"n": "FAIL_ONCE 1"}, {"n": "FAIL_ONCE 2"}])
    emulator.faults.add("drop_after_commit", method="PUT", path=f"/{edited['id']}$", count=1)

    def person_edits_first(event):
        if event.phase == "start" and event.method == "PUT" and event.path.endswith(f"/{edited['id']}"):
            if current(emulator, edited)["json"] != {"n": "fixed by hand"}:
                emulator.update_work_item(20, edited["id"], username="cr_admin", json={"n": "fixed by hand"})

    emulator.observe(requests=person_edits_first)
    ti = TaskInstance()

    ids = AutomationAnywhereRequeueWorkItemsOperator(task_id="requeue", queue_id="20").execute({"ti": ti})

    assert current(emulator, edited)["status"] == "FAILED"
    assert ids == [fine["id"]]
    assert ti.xcoms["skipped"] == {"changed": [edited["id"]], "refused": [], "gone": []}
