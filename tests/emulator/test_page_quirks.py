"""``page_cap`` and ``ignore_offset``: list pages as real servers and broken proxies give them."""

from __future__ import annotations

import pytest
import requests

from automation_anywhere_emulator import EmulatorConfig
from tests.emulator.conftest import TIMEOUT

ACTIVITIES = "/v3/activity/list"


@pytest.fixture(autouse=True)
def hold_the_bot(aa_emulator):
    aa_emulator.configure(pause_bot=True)


def deploy(client, users: int) -> None:
    body = {"botId": 501, "unattendedRequest": {"runAsUserIds": list(range(1, users + 1))}}
    assert client.call("POST", "/v4/automations/deploy", json=body).status_code == 200


def test_page_cap_returns_fewer_than_asked_and_counts_truthfully(aa_emulator, client):
    aa_emulator.add_work_items(20, [{"n": n, "kind": "odd" if n % 2 else "even"} for n in range(30)])
    aa_emulator.configure(page_cap=10)
    answer = client.list(20, {"page": {"offset": 0, "length": 100}}).json()
    assert answer["page"] == {"offset": 0, "total": 30, "totalFilter": 30}
    assert [item["json"]["n"] for item in answer["list"]] == list(range(10))
    odd = {"filter": {"operator": "eq", "field": "kind", "value": "odd"}, "page": {"offset": 10, "length": 100}}
    answer = client.list(20, odd).json()
    assert answer["page"] == {"offset": 10, "total": 30, "totalFilter": 15}
    assert [item["json"]["n"] for item in answer["list"]] == [21, 23, 25, 27, 29]
    assert len(client.list(20).json()["list"]) == 10  # no page asked: capped too
    assert len(client.list(20, {"page": {"offset": 0, "length": 4}}).json()["list"]) == 4  # less than the cap


def test_page_cap_on_queues_and_activity(aa_emulator, client):
    aa_emulator.configure(page_cap=2, activity_delay=0)
    queues = client.call("POST", "/v3/wlm/queues/list", json={"page": {"offset": 0, "length": 100}}).json()
    assert [queue["id"] for queue in queues["list"]] == ["20", "21"]
    assert queues["page"] == {"offset": 0, "total": 3, "totalFilter": 3}
    deploy(client, 3)
    runs = client.call("POST", ACTIVITIES, json={"page": {"offset": 0, "length": 100}}).json()
    assert len(runs["list"]) == 2 and runs["page"]["totalFilter"] == 3


def test_ignore_offset_gives_the_first_page_again(aa_emulator, client):
    aa_emulator.add_work_items(20, [{"n": n} for n in range(150)])
    aa_emulator.configure(ignore_offset=True)
    first = client.list(20, {"page": {"offset": 0, "length": 100}}).json()
    again = client.list(20, {"page": {"offset": 100, "length": 100}}).json()
    assert again == first
    assert again["page"] == {"offset": 0, "total": 150, "totalFilter": 150}
    newest_first = {"sort": [{"field": "id", "direction": "desc"}], "page": {"offset": 100, "length": 100}}
    assert client.list(20, newest_first).json()["list"][0]["json"] == {"n": 149}
    aa_emulator.configure(ignore_offset=False)
    assert client.list(20, {"page": {"offset": 100, "length": 100}}).json()["list"][0]["json"] == {"n": 100}


def test_ignore_offset_on_queues_and_activity(aa_emulator, client):
    aa_emulator.configure(ignore_offset=True, activity_delay=0)
    body = {"page": {"offset": 2, "length": 1}}
    assert [queue["id"] for queue in client.call("POST", "/v3/wlm/queues/list", json=body).json()["list"]] == ["20"]
    deploy(client, 3)
    first = client.call("POST", ACTIVITIES, json={"page": {"offset": 0, "length": 1}}).json()["list"]
    assert client.call("POST", ACTIVITIES, json=body).json()["list"] == first


def test_both_over_http(aa_emulator):
    url = f"{aa_emulator.url}/_emulator/config"
    answer = requests.post(url, json={"page_cap": 5, "ignore_offset": True}, timeout=TIMEOUT).json()
    assert (answer["page_cap"], answer["ignore_offset"]) == (5, True)
    assert requests.post(url, json={"page_cap": 0}, timeout=TIMEOUT).status_code == 400
    assert requests.post(url, json={"ignore_offset": "yes"}, timeout=TIMEOUT).status_code == 400
    aa_emulator.reset()
    assert (aa_emulator.config.page_cap, aa_emulator.config.ignore_offset) == (None, False)


@pytest.mark.parametrize("cap", [0, -1, 1.5, True, "10", 10**9 + 1])
def test_bad_page_caps_are_refused(cap):
    with pytest.raises((TypeError, ValueError)):
        EmulatorConfig(page_cap=cap)


def test_ignore_filter_answers_every_record_sorted_and_paged_as_asked(aa_emulator, client):
    aa_emulator.add_work_items(20, [{"n": n} for n in range(5)])
    aa_emulator.configure(ignore_filter=True, history_runs=30, activity_delay=0)
    only_two = {"operator": "eq", "field": "n", "value": 2}
    body = {"filter": only_two, "sort": [{"field": "id", "direction": "desc"}], "page": {"offset": 1, "length": 2}}
    answer = client.list(20, body).json()
    assert [item["json"]["n"] for item in answer["list"]] == [3, 2]
    assert answer["page"] == {"offset": 1, "total": 5, "totalFilter": 5}
    window = {"operator": "lt", "field": "modifiedOn", "value": "2000-01-01T00:00:00Z"}  # matches no run
    assert client.call("POST", ACTIVITIES, json={"filter": window}).json()["page"]["totalFilter"] == 30
    aa_emulator.configure(ignore_filter=False)
    assert client.list(20, {"filter": only_two}).json()["page"]["totalFilter"] == 1


def test_refuse_time_filters_answers_a_filter_on_a_time_field_with_a_400_and_still_sorts_on_it(aa_emulator, client):
    aa_emulator.add_work_items(20, [{"n": n} for n in range(3)])
    aa_emulator.configure(refuse_time_filters=True, history_runs=5, activity_delay=0)
    window = {"operator": "ge", "field": "modifiedOn", "value": "2000-01-01T00:00:00Z"}
    nested = {"operator": "and", "operands": [{"operator": "eq", "field": "status", "value": "NEW"}, window]}
    for path, condition in ((ACTIVITIES, window), ("/v3/wlm/queues/20/workitems/list", nested)):
        refused = client.call("POST", path, json={"filter": condition})
        assert refused.status_code == 400
        assert refused.json() == {
            "code": "BAD_REQUEST",
            "message": "filter: the field 'modifiedOn' cannot be filtered on",
            "details": "This Control Room does not filter on time fields; sort on them instead",
        }
    newest = {"sort": [{"field": "modifiedOn", "direction": "desc"}], "page": {"offset": 0, "length": 100}}
    runs = client.call("POST", ACTIVITIES, json=newest).json()["list"]
    assert len(runs) == 5 and [run["modifiedOn"] for run in runs] == sorted(
        (r["modifiedOn"] for r in runs), reverse=True
    )
    status = {"filter": {"operator": "eq", "field": "status", "value": "NEW"}}
    assert client.list(20, status).json()["page"]["totalFilter"] == 3  # other fields filter as before
    aa_emulator.configure(refuse_time_filters=False)
    assert client.call("POST", ACTIVITIES, json={"filter": window}).json()["page"]["totalFilter"] == 5
    with pytest.raises(TypeError, match="refuse_time_filters must be true or false"):
        EmulatorConfig(refuse_time_filters="yes")
