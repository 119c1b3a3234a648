"""Strict mode: what the API reference does not document is refused with 400."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import Client

LIST = "/v3/wlm/queues/20/workitems/list"


@pytest.fixture
def strict(aa_emulator, client: Client) -> Client:
    aa_emulator.configure(strict=True)
    return client


def test_an_undocumented_body_field_is_refused_naming_it(strict):
    answer = strict.call("POST", "/v3/wlm/queues/20/workitems", json={"workItems": [{"json": {}, "priority": 1}]})

    assert answer.status_code == 400
    assert answer.json() == {
        "code": "BAD_REQUEST",
        "message": 'Unrecognized field "priority" at workItems[0].priority',
        "details": "strict: POST /*/wlm/queues/{queueId}/workitems documents json there",
    }


def test_an_undocumented_filter_field_is_refused(strict):
    activity = {"filter": {"operator": "ge", "field": "modifiedOn", "value": "2026-12-01T00:00:00Z"}}
    answer = strict.call("POST", "/v3/activity/list", json=activity)
    assert answer.status_code == 400 and answer.json()["message"] == "Filter on field 'modifiedOn' is not supported"
    nested = {"filter": {"operator": "and", "operands": [{"operator": "eq", "field": "name", "value": "x"}]}}
    assert strict.call("POST", LIST, json=nested).status_code == 400  # a queue's attribute, not an item field


def test_an_undocumented_header_is_refused(strict):
    answer = strict.call("POST", LIST, json={}, headers={"X-Request-Id": "1"})

    assert answer.status_code == 400 and answer.json()["message"] == "Unsupported header X-Request-Id"


def test_documented_requests_pass(strict):
    body = {
        "filter": {"operator": "or", "operands": [{"operator": "eq", "field": "id", "value": "1"}]},
        "sort": [{"field": "id", "direction": "asc"}],
        "page": {"offset": 0, "length": 100},
    }
    assert strict.call("POST", LIST, json=body).status_code == 200
    assert strict.call(
        "POST", "/v3/activity/list", json={"filter": {"operator": "eq", "field": "status", "value": "x"}}
    ).ok
    deploy = {
        "botId": 501,
        "unattendedRequest": {"runAsUserIds": [29], "poolIds": [61], "deviceUsageType": "RUN_ON_POOL_DEVICES"},
        "botInput": {"vendor": {"type": "STRING", "string": "Acme"}},
    }
    assert strict.call("POST", "/v4/automations/deploy", json=deploy).ok


def test_off_the_same_requests_are_accepted(aa_emulator, client):
    assert client.call("POST", LIST, json={"extra": 1}, headers={"X-Request-Id": "1"}).status_code == 200
