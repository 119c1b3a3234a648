"""Ids into request paths: from users (InvalidInputError) and from answers (never steering a request)."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.roles import role_request, update_role_request
from airflow_provider_aa.control_room.work_item_changes import delete_request, queue_request, update_request
from airflow_provider_aa.control_room.work_items import MAX_ID, add_request, list_request, validate_id, validate_ids

OUTSIDE = "../../../../outside/app"


@pytest.mark.parametrize(
    "value",
    [10**400, 10**5000, MAX_ID + 1, "9" * 5000, str(MAX_ID + 1), 0, "0", "00"],
    ids=["10**400", "10**5000", "MAX_ID+1", "'9'*5000", "'MAX_ID+1'", "0", "'0'", "'00'"],
)
def test_ids_beyond_what_a_control_room_holds_are_refused_naming_the_field(value):
    with pytest.raises(InvalidInputError, match=r"queue_id must be a positive integer up to 9223372036854775807"):
        validate_id(value, "queue_id")


def test_ids_up_to_the_largest_are_taken_as_digits():
    values = (1, MAX_ID, str(MAX_ID), " 007 ")
    assert [validate_id(value, "id") for value in values] == ["1", str(MAX_ID), str(MAX_ID), "7"]


def test_a_list_of_ids_names_the_one_refused_without_quoting_it_whole():
    with pytest.raises(InvalidInputError, match=r"work_item_ids\[1\] .*\(5002 characters\)") as caught:
        validate_ids(["9", "9" * 5000], "work_item_ids")
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    "build",
    [
        lambda: role_request("v2", OUTSIDE),
        lambda: update_role_request("v2", {"id": OUTSIDE, "name": "Airflow"}, [], ""),
        lambda: update_request("v3", "20", OUTSIDE, {"version": "1"}),
        lambda: delete_request("20", OUTSIDE),
        lambda: queue_request(OUTSIDE),
        lambda: list_request(OUTSIDE),
        lambda: add_request(OUTSIDE, [{"a": 1}]),
    ],
)
def test_an_id_from_an_answer_that_is_not_a_number_never_reaches_a_path(build):
    with pytest.raises(AutomationAnywhereError, match="not a positive integer: not put into a request path") as caught:
        build()
    assert not isinstance(caught.value, InvalidInputError)
