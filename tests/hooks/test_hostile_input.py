"""Hostile input fails before any request with an InvalidInputError naming the field, never a crash type."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook


def nested(depth: int) -> dict:
    data: dict = {"leaf": 1}
    for _ in range(depth):
        data = {"a": data}
    return data


def holding_itself() -> dict:
    data: dict = {"a": [1]}
    data["a"].append(data)
    return data


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda hook: hook.add_work_items(10**400, [{"a": 1}]), "queue_id must be a positive integer up to"),
        (lambda hook: hook.get_work_items(7, ["9" * 5000]), r"work_item_ids\[0\] must be a positive integer up to"),
        (lambda hook: hook.delete_work_items(7, [1, "9" * 5000]), r"work_item_ids\[1\] must be"),
        (lambda hook: hook.update_work_item(7, 10**5000, status="NEW"), "work_item_id must be a positive integer"),
        (lambda hook: hook.add_work_items(7, [{"a": 1}, nested(5000)]), r"work_items\[1\] nests dicts and lists"),
        (lambda hook: hook.add_work_items(7, [holding_itself()]), r"work_items\[0\] nests .* \(or holds itself\)"),
        (lambda hook: hook.update_work_item(7, 8, data=nested(5000)), "data nests dicts and lists deeper than 100"),
    ],
    ids=["queue_id 10**400", "5000 digits", "5000 digits second", "10**5000", "add deep", "add cycle", "update deep"],
)
def test_hostile_input_is_refused_naming_the_field_before_any_request(requests_mock, password_conn, call, message):
    hook = AutomationAnywhereHook()
    with pytest.raises(InvalidInputError, match=message) as refused:
        call(hook)
    assert len(str(refused.value)) < 400
    assert requests_mock.call_count == 0
