"""The operator extra links: URLs built from the connection's host and the task's XCom."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.settings import base_url
from airflow_provider_aa.control_room.ui_pages import queue_page, run_page
from airflow_provider_aa.get_provider_info import get_provider_info
from airflow_provider_aa.links import (
    QUEUE_XCOM_KEY,
    RUN_XCOM_KEY,
    AutomationAnywhereQueueLink,
    AutomationAnywhereRunLink,
)
from airflow_provider_aa.operators.automation_anywhere import (
    AutomationAnywhereAddWorkItemsOperator,
    AutomationAnywhereDeployBotOperator,
    AutomationAnywhereRequeueWorkItemsOperator,
)
from airflow_provider_aa.sensors.automation_anywhere import (
    AutomationAnywhereBotRunSensor,
    AutomationAnywhereWorkItemSensor,
)


@pytest.mark.parametrize(
    ("host", "port", "schema", "url"),
    [
        ("https://cr.example.com", None, None, "https://cr.example.com"),
        ("https://cr.example.com/", None, None, "https://cr.example.com"),
        ("https://proxy.example.com/aa/cr/", None, None, "https://proxy.example.com/aa/cr"),
        ("https://proxy.example.com/aa/cr/?tenant=1#x", None, None, "https://proxy.example.com/aa/cr"),
        ("cr.example.com", 8443, "https", "https://cr.example.com:8443"),
        ("http://127.0.0.1:8765", None, None, "http://127.0.0.1:8765"),
    ],
)
def test_the_control_room_url_is_scheme_host_port_and_path_prefix(host, port, schema, url):
    assert base_url(host, port, schema) == url


def test_a_host_with_credentials_is_refused_so_no_link_carries_them():
    with pytest.raises(InvalidInputError, match="must not contain credentials"):
        base_url("https://jdoe:S3cret@cr.example.com", None)


def test_pages_under_a_path_prefix_and_with_a_trailing_slash():
    assert run_page("https://proxy.example.com/aa/cr/", "9f0c-11") == (
        "https://proxy.example.com/aa/cr/#/activity/historical/9f0c-11/view"
    )
    assert queue_page("https://proxy.example.com/aa/cr", "20") == "https://proxy.example.com/aa/cr/#/workload/queues/20"
    # an id is one path segment, whatever it holds
    assert (
        queue_page("https://cr.example.com", "20/../admin")
        == "https://cr.example.com/#/workload/queues/20%2F..%2Fadmin"
    )


def test_links_are_built_from_the_pushed_target_only():
    run, queue = AutomationAnywhereRunLink(), AutomationAnywhereQueueLink()
    assert run.url_of({"control_room_url": "https://cr.example.com/x", "deployment_id": "d-1", "bot_id": "501"}) == (
        "https://cr.example.com/x/#/activity/historical/d-1/view"
    )
    assert queue.url_of({"control_room_url": "https://cr.example.com", "queue_id": "20"}) == (
        "https://cr.example.com/#/workload/queues/20"
    )
    # nothing pushed (the task failed before it knew its queue): no link
    assert queue.url_of(None) == run.url_of({"control_room_url": "https://cr.example.com"}) == ""


class _RecordingTaskInstance:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def test_push_writes_the_target_under_a_stable_key_and_the_link_for_the_ui():
    ti = _RecordingTaskInstance()
    hook = SimpleNamespace(settings=SimpleNamespace(base_url="https://cr.example.com"))
    AutomationAnywhereRunLink().push({"ti": ti}, hook, "d-1", bot_id="501")
    assert ti.pushed == {
        "automation_anywhere_run": {
            "bot_id": "501",
            "control_room_url": "https://cr.example.com",
            "deployment_id": "d-1",
        },
        "_link_AutomationAnywhereRunLink": "https://cr.example.com/#/activity/historical/d-1/view",
    }
    assert RUN_XCOM_KEY == "automation_anywhere_run" and QUEUE_XCOM_KEY == "automation_anywhere_queue"


def test_each_task_carries_its_link_and_the_provider_declares_them():
    names = {
        AutomationAnywhereDeployBotOperator: ["Control Room run"],
        AutomationAnywhereBotRunSensor: ["Control Room run"],
        AutomationAnywhereAddWorkItemsOperator: ["Work queue"],
        AutomationAnywhereWorkItemSensor: ["Work queue"],
        AutomationAnywhereRequeueWorkItemsOperator: ["Work queue"],
    }
    assert {task: [link.name for link in task.operator_extra_links] for task in names} == names
    assert get_provider_info()["extra-links"] == [
        "airflow_provider_aa.links.AutomationAnywhereRunLink",
        "airflow_provider_aa.links.AutomationAnywhereQueueLink",
    ]
