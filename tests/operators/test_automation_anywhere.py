"""The add operator: validation before requests, batching, the XCom shape."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.operators.automation_anywhere import AutomationAnywhereAddWorkItemsOperator
from tests.conftest import BASE_URL, PASSWORD, make_token

ADD = f"{BASE_URL}/v3/wlm/queues/7/workitems"


@pytest.fixture(autouse=True)
def connection(use_connection, requests_mock):
    use_connection(login="jdoe", password=PASSWORD)
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{BASE_URL}/v1/authentication/logout", status_code=204)
    ids = iter(range(500, 1000))
    requests_mock.post(ADD, json=lambda request, _: {"list": [{"id": next(ids), "status": "NEW"} for _ in request.json()["workItems"]]})


def test_returns_created_ids_as_strings(requests_mock):
    operator = AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id="7", work_items=[{"a": 1}, {"a": 2}, {"a": 3}], batch_size=2)
    assert operator.execute({}) == ["500", "501", "502"]
    assert [r.path for r in requests_mock.request_history] == [
        "/v2/authentication", "/v3/wlm/queues/7/workitems", "/v3/wlm/queues/7/workitems", "/v1/authentication/logout",
    ]


def test_one_dict_is_one_item(requests_mock):
    operator = AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=7, work_items={"a": 1})
    assert operator.execute({}) == ["500"]
    assert requests_mock.request_history[1].json() == {"workItems": [{"json": {"a": 1}}]}


def test_empty_list_sends_nothing(requests_mock):
    assert AutomationAnywhereAddWorkItemsOperator(task_id="add", queue_id=7, work_items=[]).execute({}) == []
    assert requests_mock.call_count == 0


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
