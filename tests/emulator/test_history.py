"""The emulator's history: seeded bot runs, the audit log, and time filters by instant."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

ACTIVITIES = "/v3/activity/list"
AUDIT = "/v1/audit/messages/list"


def iso(moment: float, fraction: bool = True) -> str:
    text = datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{int(moment % 1 * 1000):03d}Z" if fraction else "Z")


def window(field, start, end, offset=0, length=100):
    return {
        "filter": {
            "operator": "and",
            "operands": [
                {"operator": "ge", "field": field, "value": start},
                {"operator": "lt", "field": field, "value": end},
            ],
        },
        "sort": [{"field": field, "direction": "asc"}, {"field": "id", "direction": "asc"}],
        "page": {"offset": offset, "length": length},
    }


def listed(client, path, body):
    answer = client.call("POST", path, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_without_the_setting_there_is_no_history(aa_emulator, client):
    assert listed(client, ACTIVITIES, {})["list"] == []
    assert listed(client, AUDIT, {}) == {"page": {"offset": 0, "total": 0, "totalFilter": 0}, "list": []}


def test_history_runs_are_finished_runs_of_the_seeds_bots_over_the_two_days_before(aa_emulator, client):
    before = time.time()
    aa_emulator.configure(history_runs=40)
    runs = listed(client, ACTIVITIES, {"page": {"offset": 0, "length": 100}})["list"]
    assert len(runs) == 40 and len({run["id"] for run in runs}) == 40
    assert {run["status"] for run in runs} <= {"COMPLETED", "RUN_FAILED", "RUN_TIMED_OUT"}
    assert {run["fileId"] for run in runs} == {"501", "502", "503", "504"}
    assert {run["userId"] for run in runs} == {"29", "30", "31"}
    assert all(
        iso(before - 2 * 86400 - 1) <= run["createdOn"] < run["endDateTime"] == run["modifiedOn"] for run in runs
    )
    assert max(run["modifiedOn"] for run in runs) < iso(time.time() + 1)
    audit = listed(client, AUDIT, {"page": {"offset": 0, "length": 100}})["list"]
    assert sorted(entry["createdOn"] for entry in audit) == sorted(run["createdOn"] for run in runs)
    assert {entry["userName"] for entry in audit} == {"bot_runner"}
    aa_emulator.reset()
    client.login(multipleLogin=True)
    assert listed(client, ACTIVITIES, {})["list"] == []  # back to the start-up settings: no history


def test_a_window_pages_like_matching_every_record_with_deployed_runs_merged_in(aa_emulator, client):
    aa_emulator.configure(history_runs=60, activity_delay=0, pickup_delay=0, work_delay=0)
    body = {"botId": 501, "unattendedRequest": {"runAsUserIds": [29, 30]}}
    assert client.call("POST", "/v4/automations/deploy", json=body).status_code == 200
    everything = listed(client, ACTIVITIES, {"page": {"offset": 0, "length": 100}})["list"]
    assert len(everything) == 62
    times = sorted(run["modifiedOn"] for run in everything)
    start, end = times[10], iso(time.time() + 60)  # the deployed runs are the newest: a page mixes both
    expected = sorted(
        (run for run in everything if start <= run["modifiedOn"] < end), key=lambda run: (run["modifiedOn"], run["id"])
    )
    pages, offset = [], 0
    while offset < len(expected) or not pages:
        answer = listed(client, ACTIVITIES, window("modifiedOn", start, end, offset, 7))
        assert answer["page"]["totalFilter"] == len(expected) and answer["page"]["total"] == 62
        pages.append(answer["list"])
        offset += len(answer["list"])
        assert answer["list"], "a page came back empty before the end"
    assert [run["id"] for page in pages for run in page] == [run["id"] for run in expected]
    assert {run["id"] for run in expected} & {run["id"] for run in aa_emulator.bot_runs()}  # deployed ones among them


def test_audit_windows_on_created_on(aa_emulator, client):
    aa_emulator.configure(history_runs=30)
    entries = listed(client, AUDIT, {"page": {"offset": 0, "length": 100}})["list"]
    times = sorted(entry["createdOn"] for entry in entries)
    answer = listed(client, AUDIT, window("createdOn", times[5], times[15]))
    assert [entry["createdOn"] for entry in answer["list"]] == times[5:15]


def test_time_filters_compare_instants_not_text(aa_emulator, client):
    aa_emulator.add_work_items(20, [{"n": 1}])
    (item,) = aa_emulator.work_items(20)
    created = datetime.fromisoformat(item["updatedOn"][:19] + "+00:00").timestamp()
    # The item's own second, written without a fraction: as text "…:05Z" sorts after "…:05.123456789Z".
    assert (
        len(
            listed(
                client,
                "/v3/wlm/queues/20/workitems/list",
                window("updatedOn", iso(created, False), iso(created + 1, False)),
            )["list"]
        )
        == 1
    )
    later = iso(created + 1, False)
    assert (
        listed(client, "/v3/wlm/queues/20/workitems/list", window("updatedOn", later, iso(created + 60)))["list"] == []
    )
    offset = datetime.fromtimestamp(created, timezone(timedelta(hours=2))).isoformat()  # the same second at +02:00
    answer = listed(
        client,
        "/v3/wlm/queues/20/workitems/list",
        {"filter": {"operator": "ge", "field": "updatedOn", "value": offset}},
    )
    assert len(answer["list"]) == 1


@pytest.mark.parametrize("value", [-1, 1.5, 10**7, "5", True])
def test_history_runs_must_be_a_whole_number_in_range(aa_emulator, value):
    with pytest.raises((TypeError, ValueError), match="history_runs"):
        aa_emulator.configure(history_runs=value)
