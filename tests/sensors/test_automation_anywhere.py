"""The work item sensor: one poke per reading, each status class, XCom shape."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.sensors.automation_anywhere import WORK_ITEM_RUNNING_STATUSES, AutomationAnywhereWorkItemSensor
from tests.conftest import BASE_URL, PASSWORD, make_token

LIST = f"{BASE_URL}/v3/wlm/queues/7/workitems/list"


@pytest.fixture(autouse=True)
def connection(use_connection, requests_mock):
    use_connection(login="jdoe", password=PASSWORD)
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{BASE_URL}/v1/authentication/logout", status_code=204)


def answer_with(requests_mock, *statuses, **fields):
    requests_mock.post(LIST, json={"list": [{"id": 100 + n, "status": s, **fields} for n, s in enumerate(statuses)]})


def sensor(**kwargs):
    kwargs.setdefault("work_item_ids", [100, 101])
    return AutomationAnywhereWorkItemSensor(task_id="wait", queue_id=7, **kwargs)


@pytest.mark.parametrize(
    ("statuses", "pending", "done"),
    [
        (("NEW", "NEW"), ("NEW",), False),
        (("NEW", "ACTIVE"), ("NEW",), False),
        (("ACTIVE", "READY_TO_RUN"), ("NEW",), True),
        (("ON_HOLD", "COMPLETED"), ("NEW",), True),
        (("ACTIVE", "COMPLETED"), WORK_ITEM_RUNNING_STATUSES, False),
        (("IN_PROGRESS", "COMPLETED"), WORK_ITEM_RUNNING_STATUSES, False),
        (("ON_HOLD", "COMPLETED"), WORK_ITEM_RUNNING_STATUSES, False),
        (("DEFERRED", "SUCCESSFUL"), WORK_ITEM_RUNNING_STATUSES, False),
        (("COMPLETED", "SUCCESSFUL"), WORK_ITEM_RUNNING_STATUSES, True),
    ],
)
def test_status_classes(requests_mock, statuses, pending, done):
    answer_with(requests_mock, *statuses)
    result = sensor(pending_statuses=pending).poke({})
    assert result.is_done is done
    if done:
        assert list(result.xcom_value) == ["100", "101"]
        assert result.xcom_value["100"]["status"] == statuses[0]


@pytest.mark.parametrize("status", ["FAILED", "DATA_ERROR", "ERROR", "UNSUCCESSFUL"])
def test_failure_statuses_fail_the_task_naming_the_item(requests_mock, status):
    answer_with(requests_mock, "COMPLETED", status, error="Invoice total missing")
    with pytest.raises(AirflowFailException, match=f"id 101: status {status}: Invoice total missing"):
        sensor().poke({})


def test_failure_text_falls_back_to_result(requests_mock):
    requests_mock.post(LIST, json={"list": [{"id": 100, "status": "FAILED", "error": "", "result": "bot said no"}]})
    with pytest.raises(AirflowFailException, match="bot said no"):
        sensor(work_item_ids=100).poke({})


def test_custom_failure_statuses(requests_mock):
    answer_with(requests_mock, "ON_HOLD", "COMPLETED")
    with pytest.raises(AirflowFailException, match="status ON_HOLD"):
        sensor(failure_statuses=["on_hold"]).poke({})


def test_unknown_status_keeps_waiting_and_is_logged_once(requests_mock, capsys):
    answer_with(requests_mock, "COMPLETED", "SOMETHING_NEW")
    waiting = sensor()
    assert waiting.poke({}).is_done is False
    assert waiting.poke({}).is_done is False
    assert capsys.readouterr().out.count("'SOMETHING_NEW', unknown to this provider") == 1


def test_an_id_the_queue_does_not_hold_fails_naming_it(requests_mock):
    answer_with(requests_mock, "COMPLETED")
    with pytest.raises(AirflowFailException, match="holds no work item with id 101"):
        sensor().poke({})


def test_one_list_request_per_poke_and_one_login_per_sensor(requests_mock):
    answer_with(requests_mock, "NEW", "NEW")
    waiting = sensor(work_item_ids=["100", 101])
    for _ in range(3):
        waiting.poke({})
    history = [r.path for r in requests_mock.request_history]
    assert history.count("/v2/authentication") == 1
    assert history.count("/v3/wlm/queues/7/workitems/list") == 3


def test_bad_input_is_rejected_before_any_request(requests_mock):
    with pytest.raises(InvalidInputError, match="pending_statuses"):
        sensor(pending_statuses=[1])
    with pytest.raises(InvalidInputError, match=r"work_item_ids\[1\]"):
        sensor(work_item_ids=[1, "2;drop"]).poke({})
    with pytest.raises(InvalidInputError, match="work_item_ids is empty"):
        sensor(work_item_ids=[]).poke({})
    assert requests_mock.call_count == 0
