"""Queues and work items: add, list, get, update, delete, duplicates, id types, refusals."""

from __future__ import annotations

import json
import re

import pytest

ITEMS = "/v3/wlm/queues/20/workitems"
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z")


@pytest.fixture(autouse=True)
def hold_the_bot(aa_emulator):
    aa_emulator.configure(pause_bot=True)


def test_add_returns_items_in_request_order(client, aa_emulator):
    response = client.add(20, {"TRN_ID": "A11", "DATA": "mydata"}, {"TRN_ID": "A12", "AMOUNT": 12.5})
    assert response.status_code == 200
    first, second = response.json()["list"]
    assert (first["id"], second["id"]) == ("40001", "40002")
    assert first["queueId"] == "20" and first["version"] == "0" and first["status"] == "NEW"
    assert first["json"] == {"TRN_ID": "A11", "DATA": "mydata"}
    assert (first["col1"], first["col2"], first["col3"]) == ("A11", "mydata", "")
    assert second["col2"] == "12.5"
    assert first["createdBy"] == first["updatedBy"] == "25"
    assert INSTANT.fullmatch(first["createdOn"]) and first["updatedOn"] == first["createdOn"]
    expected_keys = {
        "id", "queueId", "version", "status", "json", "result", "error", "comment", "deviceId", "deviceUserId",
        "automationId", "jobExecutionId", "totalPausedTime", "createdBy", "createdOn", "updatedBy", "updatedOn",
    } | {f"col{n}" for n in range(1, 6)}  # fmt: skip
    assert set(first) == expected_keys
    assert [item["id"] for item in aa_emulator.work_items(20)] == ["40001", "40002"]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"workItems": []},
        {"workItems": {"json": {}}},
        {"workItems": [{"json": {"a": 1}}, {"data": {}}]},
        {"workItems": [{"json": "text"}]},
    ],
)
def test_bad_add_bodies_are_400_and_add_nothing(client, aa_emulator, body):
    response = client.call("POST", ITEMS, json=body)
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}
    assert aa_emulator.work_items(20) == []


def test_body_that_is_not_json_is_400(client):
    response = client.call("POST", ITEMS, data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "INVALID_JSON"


@pytest.mark.parametrize("path", ["/v3/wlm/queues/99/workitems", "/v3/wlm/queues/abc/workitems"])
def test_unknown_queue_is_404(client, path):
    response = client.call("POST", path, json={"workItems": [{"json": {"a": 1}}]})
    assert response.status_code == 404 and response.json()["code"] == "WLM_QUEUE_NOT_FOUND"


def test_duplicates_refuse_the_whole_request(client, aa_emulator):
    assert client.add(21, {"payment": "P1", "amount": 10}).status_code == 200
    response = client.add(21, {"payment": "P2"}, {"amount": 10, "payment": "P1"}, {"payment": "P2"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "WLM_DUPLICATE_WORKITEM"
    assert json.loads(body["details"]) == [1, 2]
    assert len(aa_emulator.work_items(21)) == 1
    assert client.add(20, {"x": 1}, {"x": 1}).status_code == 200  # queue 20 allows duplicates


def test_get_update_delete(client):
    item = client.add(20, {"a": "1"}).json()["list"][0]
    path = f"{ITEMS}/{item['id']}"
    assert client.call("GET", path).json() == item
    assert client.call("GET", path.replace("/v3/", "/v4/")).json() == item

    update = {
        "version": item["version"],
        "json": {"a": "2"},
        "result": "done by hand",
        "status": "COMPLETED",
        "comment": "c",
    }
    updated = client.call("PUT", path, json=update).json()
    assert (updated["version"], updated["status"], updated["json"], updated["col1"]) == (
        "1",
        "COMPLETED",
        {"a": "2"},
        "2",
    )
    assert (updated["result"], updated["comment"]) == ("done by hand", "c")

    stale = client.call("PUT", path.replace("/v3/", "/v4/"), json={"version": 0, "comment": "late"})
    assert stale.status_code == 409 and stale.json()["code"] == "WLM_VERSION_CONFLICT"
    assert client.call("PUT", path, json={"comment": "no version"}).status_code == 400
    assert (
        client.call("PUT", path.replace("/v3/", "/v4/"), json={"version": 1, "comment": "v4"}).json()["version"] == "2"
    )

    assert client.call("DELETE", path).status_code == 204
    missing = client.call("GET", path)
    assert missing.status_code == 404 and missing.json()["code"] == "WLM_WORKITEM_NOT_FOUND"
    assert client.call("DELETE", path).status_code == 404


def test_item_is_not_found_through_another_queue(client):
    item = client.add(20, {"a": "1"}).json()["list"][0]
    assert client.call("GET", f"/v3/wlm/queues/22/workitems/{item['id']}").status_code == 404


def test_numeric_ids_switch(client, aa_emulator):
    aa_emulator.configure(numeric_ids=True)
    item = client.add(20, {"a": "1"}).json()["list"][0]
    assert (item["id"], item["queueId"], item["version"], item["createdBy"], item["deviceId"]) == (40001, 20, 0, 25, 0)
    queue = client.call("GET", "/v3/wlm/queues/20").json()
    assert queue["id"] == 20 and queue["workItemModelId"] == 30
    aa_emulator.configure(numeric_ids=False)
    assert client.call("GET", f"{ITEMS}/40001").json()["id"] == "40001"


def test_queues(client):
    queue = client.call("GET", "/v4/wlm/queues/21").json()
    assert queue["name"] == "Payments" and queue["disallowDuplicate"] is True
    assert {"id", "name", "description", "disallowDuplicate", "autoRetryLimit", "workItemModelId"} <= set(queue)
    listed = client.call(
        "POST", "/v3/wlm/queues/list", json={"filter": {"operator": "substring", "field": "name", "value": "ments"}}
    )
    assert [q["name"] for q in listed.json()["list"]] == ["Payments"]
    assert listed.json()["page"] == {"offset": 0, "total": 3, "totalFilter": 1}
    assert client.call("GET", "/v3/wlm/queues/5").status_code == 404


def test_unknown_path_and_wrong_method(client):
    unknown = client.call("GET", "/v3/nothing/here")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"
    wrong = client.call("PATCH", f"{ITEMS}/40001")
    assert wrong.status_code == 405 and "PUT" in wrong.headers["Allow"]
