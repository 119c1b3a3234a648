"""
Tests that can meet a real Control Room (``pytest -m control_room_verified``): against the one of
``AIRFLOW_CONN_AUTOMATION_ANYWHERE_REAL`` when it is set, else against the emulator (so CI runs
them too). On a real Control Room they log in, list queues, run the compatibility check
(read-only) and add one work item to the queue ``AA_REAL_QUEUE_NAME``, read it back and delete it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_aa import check as check_cli
from airflow_provider_aa.control_room.capabilities import REPORT_KEYS
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from tests.verified.conftest import QUEUE_ENV, ControlRoomUnderTest, mode_connections

pytestmark = pytest.mark.control_room_verified


def hook_of(conn_id: str) -> AutomationAnywhereHook:
    return AutomationAnywhereHook(conn_id)


def texts(data: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in data.items()}


def test_logs_in_in_each_mode_the_connection_allows(control_room: ControlRoomUnderTest):
    assert control_room.modes, "the connection has no login/password, login/api_key or token"
    for auth_type, conn_id in control_room.modes.items():
        hook = hook_of(conn_id)
        try:
            ok, message = hook.test_connection()
        finally:
            hook.close()
        assert ok, f"{auth_type}: {message}"
        assert f"(auth_type={auth_type!r})" in message


def test_lists_work_queues_and_finds_the_named_one(control_room: ControlRoomUnderTest):
    hook = hook_of(control_room.conn_id)
    try:
        listed = hook.run("POST", "/v3/wlm/queues/list", json={"page": {"offset": 0, "length": 100}}, replay_safe=True)
        names = [queue.get("name") for queue in listed["list"]]
        assert all(isinstance(name, str) for name in names)
        if control_room.queue_name:
            assert hook.get_queue_id(control_room.queue_name)
    finally:
        hook.close()


def test_adds_reads_back_and_deletes_one_work_item(control_room: ControlRoomUnderTest):
    if control_room.queue_name is None:
        pytest.skip(f"set {QUEUE_ENV} to a queue the tests may add one work item to (and delete it)")
    hook = hook_of(control_room.conn_id)
    try:
        queue = hook.get_queue_id(control_room.queue_name)
        item = hook.add_work_items(queue, [control_room.work_item])[0]
        try:
            read = hook.get_work_items(queue, item["id"])[item["id"]]
            assert texts(read["json"]) == texts(control_room.work_item)  # a Control Room may send numbers as text
        finally:
            assert hook.delete_work_items(queue, item["id"]) == {"deleted": [item["id"]], "absent": []}
        assert hook.get_work_items(queue, item["id"]) == {}
    finally:
        hook.close()


def test_the_compatibility_check_passes(control_room: ControlRoomUnderTest, capsys):
    assert check_cli.main(["--conn-id", control_room.conn_id, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [key for key in report if key != "advice"] == list(REPORT_KEYS)
    assert report["login"]["status"] == "ok" and report["queue_access"]["status"] == "visible"
    if control_room.emulator is not None:  # read-only: nothing added, deployed or made
        assert control_room.emulator.bot_runs() == []
        assert all(control_room.emulator.work_items(queue) == [] for queue in (20, 21, 22))


def test_the_modes_of_a_connection_are_read_from_its_fields():
    fields = {"conn_type": "automation_anywhere", "host": "https://cr", "login": "u", "password": "p", "extra": {}}
    assert list(mode_connections(fields)) == ["password"]
    both = {**fields, "extra": json.dumps({"api_key": "k", "multiple_login": True})}
    modes = mode_connections(both)
    assert list(modes) == ["password", "api_key"]
    assert modes["password"]["extra"] == {"api_key": "k", "multiple_login": True, "auth_type": "password"}
    assert list(mode_connections({"host": "https://cr", "extra": {"token": "t"}})) == ["token"]
