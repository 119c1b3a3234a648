"""The add operator: validation before requests, batching, the XCom shape, progress across tries."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_aa.control_room.adding import add_fingerprint
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from automation_anywhere_emulator.filters import query
from tests.conftest import BASE_URL, PASSWORD, make_token
from tests.sensors.test_bot_run_sensor import StateStore

ADD = f"{BASE_URL}/v3/wlm/queues/7/workitems"
PROBE = {"page": {"offset": 0, "length": 1}, "sort": [{"field": "id", "direction": "desc"}]}
KEY = "automation_anywhere_add_progress"


@pytest.fixture(autouse=True)
def queue(use_connection, requests_mock):
    """Queue 7 holding item 499; adds get ids from 500 on. Returns the queue's items."""
    use_connection(login="jdoe", password=PASSWORD)
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{BASE_URL}/v1/authentication/logout", status_code=204)
    held = [{"id": 499, "status": "NEW", "json": {"old": True}}]
    ids = iter(range(500, 1000))

    def add(request, context):
        created = [{"id": next(ids), "status": "NEW", "json": entry["json"]} for entry in request.json()["workItems"]]
        held.extend(created)
        return {"list": created}

    def listing(request, context):
        body = request.json()
        if body == PROBE:
            return {"page": {"offset": 0, "totalFilter": 1}, "list": [held[-1]]}
        return query(held, body)

    requests_mock.post(ADD, json=add)
    requests_mock.post(f"{ADD}/list", json=listing)
    return held


def test_returns_created_ids_as_strings(requests_mock):
    operator = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id="7", work_items=[{"a": 1}, {"a": 2}, {"a": 3}], batch_size=2
    )
    assert operator.execute({}) == ["500", "501", "502"]
    assert [r.path for r in requests_mock.request_history] == [
        "/v2/authentication",
        "/v3/wlm/queues/7/workitems/list",
        "/v3/wlm/queues/7/workitems",
        "/v3/wlm/queues/7/workitems",
        "/v1/authentication/logout",
    ]
    assert requests_mock.request_history[1].json() == PROBE


def test_one_dict_is_one_item(requests_mock):
    operator = AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=7, work_items={"a": 1})
    assert operator.execute({}) == ["500"]
    assert requests_mock.request_history[2].json() == {"workItems": [{"json": {"a": 1}}]}


def test_empty_list_sends_nothing(requests_mock):
    assert AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=7, work_items=[]).execute({}) == []
    assert requests_mock.call_count == 0


def test_a_retry_continues_where_the_failed_try_stopped(requests_mock, queue, no_sleep):
    items = [{"a": 1}, {"a": 2}, {"a": 3}]
    state = StateStore()
    context = {"task_state_store": state}
    operator = AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=7, work_items=items, batch_size=2)

    # The first try: batch 0 is added, the add of batch 1 is refused.
    def first_try(request, context):
        if len(queue) > 1:
            context.status_code = 400
            return {"code": "X", "message": "no"}
        created = [{"id": 500 + n, "json": e["json"]} for n, e in enumerate(request.json()["workItems"])]
        queue.extend(created)
        return {"list": created}

    requests_mock.post(ADD, json=first_try)
    with pytest.raises(AutomationAnywhereError, match="HTTP 400"):
        operator.execute(context)
    assert requests_mock.request_history[1].json() == PROBE
    header = state.values[KEY]
    assert header["fingerprint"] == add_fingerprint("7", items)
    assert (header["batches"], header["mark_id"]) == (1, 501)
    assert header["in_flight_since"] is not None  # batch 1 was sent without an answer recorded
    assert state.values[f"{KEY}.part0"] == ["500", "501"]

    ids = iter(range(502, 600))
    requests_mock.post(
        ADD,
        json=lambda request, _: {"list": [{"id": next(ids), "json": e["json"]} for e in request.json()["workItems"]]},
    )
    requests_mock.reset_mock()
    assert operator.execute(context) == ["500", "501", "502"]

    assert [r.path for r in requests_mock.request_history] == [
        "/v2/authentication",
        "/v3/wlm/queues/7/workitems/list",  # batch 1 is looked for above the saved mark: no probe
        "/v3/wlm/queues/7/workitems",
        "/v1/authentication/logout",
    ]
    assert requests_mock.request_history[1].json()["filter"] == {"operator": "gt", "field": "id", "value": "501"}
    assert requests_mock.request_history[2].json() == {"workItems": [{"json": {"a": 3}}]}
    assert no_sleep == [pytest.approx(30.0, abs=1)]  # the earlier send may still commit: settled first
    assert state.values == {}  # done: the progress is forgotten


def test_a_lost_answer_waits_the_operators_lost_answer_delay(requests_mock, queue, no_sleep):
    def committed_but_lost(request, context):
        queue.append({"id": 500, "json": request.json()["workItems"][0]["json"]})
        raise requests.exceptions.ReadTimeout("slow")

    requests_mock.post(ADD, json=committed_but_lost)
    operator = AutomationAnywhereAddWorkItemsOperator(
        task_id="add", queue_id=7, work_items=[{"a": 1}], lost_answer_delay=5
    )
    assert operator.execute({}) == ["500"]
    assert no_sleep == [pytest.approx(5.0, abs=1)]
    assert sum(r.path == "/v3/wlm/queues/7/workitems" for r in requests_mock.request_history) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"queue_id": "7 OR 1=1", "work_items": [{"a": 1}]}, "queue_id must be a positive integer"),
        ({"queue_id": 7, "work_items": [["a"]]}, r"work_items\[0\] must be a dict"),
        ({"queue_id": 7, "work_items": 5}, "must be a dict or a list of dicts"),
    ],
)
def test_bad_input_fails_before_any_request(requests_mock, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        AutomationAnywhereAddWorkItemsOperator(task_id="add", **kwargs).execute({})
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("batch_size", [0, -1, "10", 1001, True])
def test_bad_batch_size_fails_at_parse_time(batch_size):
    with pytest.raises(InvalidInputError, match="batch_size"):
        AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=7, work_items=[], batch_size=batch_size)
