"""
The provider's list calls on big queues and histories read only their candidates, with the
answer that matching every record gives: a reconciliation's and a re-queue's ranges on ``id``
are bisected, a re-queue's statuses are read from the items, a bot run's deployment and a
bot's records come from an index by value.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room import bots, work_item_changes, work_items
from automation_anywhere_emulator import filters


@pytest.fixture
def counted_matches(monkeypatch) -> set[str]:
    """The ids of the records a filter is matched against."""
    seen: set[str] = set()
    real = filters.matches

    def counting(node, record):
        seen.add(str(record["id"]))
        return real(node, record)

    monkeypatch.setattr(filters, "matches", counting)
    return seen


@pytest.fixture
def queue(aa_emulator, client):
    """10,000 items of queue 20, one in 100 FAILED."""
    aa_emulator.configure(pause_bot=True)
    created = aa_emulator.add_work_items(20, [{"ref": f"R{n}", "n": n} for n in range(10_000)])
    for item in created[::100]:
        aa_emulator.update_work_item(20, item["id"], username="cr_admin", status="FAILED", result="no")
    client.login()
    return [item["id"] for item in created]


def listed(client, aa_emulator, body, counted_matches):
    """The emulator's answer, the same body answered by matching every record, and how many were matched."""
    counted_matches.clear()
    answer = client.list(20, body).json()
    matched = len(counted_matches)
    return answer, filters.query(aa_emulator.work_items(20), body), matched


def test_a_requeue_page_matches_only_the_items_in_its_statuses(queue, aa_emulator, client, counted_matches):
    for after in (0, int(queue[5000])):
        body = work_items.list_request(
            "20", filter=work_item_changes.requeue_filter(["FAILED", "UNKNOWN"], None, after)
        ).json
        answer, everything, matched = listed(client, aa_emulator, body, counted_matches)
        assert answer == everything
        assert answer["page"]["totalFilter"] == matched == (100 if after == 0 else 49)


def test_a_reconciliation_matches_only_the_items_after_the_mark(queue, aa_emulator, client, counted_matches):
    mark = int(queue[-1000])
    values = [f"R{n}" for n in range(9_940, 10_000)]
    # Without a dedupe_key: every item after the mark; with one, only those with its values.
    for key, expected, candidates in ((None, queue[-999:][:100], 999), ("ref", queue[-60:], 60)):
        body = work_items.list_request(
            "20", filter=work_items.added_since_filter(mark, key, values), sort=[{"field": "id", "direction": "asc"}]
        ).json
        answer, everything, matched = listed(client, aa_emulator, body, counted_matches)
        assert answer == everything
        assert [item["id"] for item in answer["list"]] == expected
        assert matched == candidates


def test_ranges_on_id_that_match_nothing_or_everything_answer_as_matching_all(
    queue, aa_emulator, client, counted_matches
):
    for leaf in (
        {"operator": "gt", "field": "id", "value": queue[-1]},
        {"operator": "lt", "field": "id", "value": "1"},
        {"operator": "ge", "field": "id", "value": "0"},
        {"operator": "le", "field": "id", "value": f"{int(queue[10]) + 0.5}"},
    ):
        answer, everything, _ = listed(
            client, aa_emulator, {"filter": leaf, "page": {"offset": 0, "length": 100}}, counted_matches
        )
        assert answer == everything


@pytest.fixture
def history(aa_emulator, client):
    """The activity of 5,000 runs of the history, read page by page."""
    aa_emulator.configure(pause_bot=True, history_runs=5_000)
    client.login()
    pages = [
        client.call("POST", "/v3/activity/list", json={"page": {"offset": offset, "length": 100}}).json()["list"]
        for offset in range(0, 5_000, 100)
    ]
    return [record for page in pages for record in page]


def test_a_deployments_records_and_a_bots_come_from_an_index(history, aa_emulator, client, counted_matches):
    record = history[2_500]
    for request in (bots.activity_request(record["deploymentId"]), bots.bot_activity_request(str(record["fileId"]))):
        counted_matches.clear()
        answer = client.call("POST", request.path, json=request.json).json()
        matched = len(counted_matches)
        everything = filters.query(history, request.json)
        assert answer == everything and answer["list"]
        assert matched == answer["page"]["totalFilter"] < len(history)


def test_an_exports_pages_come_from_an_index_by_update_time(queue, aa_emulator, client, counted_matches):
    from datetime import datetime, timedelta, timezone

    from airflow_provider_aa.control_room import history

    dataset = history.DATASETS["work_items"]
    now = datetime.now(timezone.utc)
    window = history.HistoryWindow(now - timedelta(days=1), now + timedelta(minutes=1))
    items = aa_emulator.work_items(20)
    middle = items[5_000]
    for request in (
        history.history_request(dataset, window, "20"),
        history.history_request(dataset, window, "20", offset=300),
        history.history_request(dataset, window, "20", since=middle["updatedOn"], after_id=middle["id"]),
        history.history_request(dataset, window, "20", since=items[0]["updatedOn"], after_id=items[0]["id"]),
    ):
        counted_matches.clear()
        answer = client.call("POST", request.path, json=request.json).json()
        matched = len(counted_matches)
        assert answer == filters.query(items, request.json) and answer["list"]
        # Only the items at the cursor's own instant are matched against it.
        cursor = request.json["filter"]["operands"][1]["value"] if "or" in str(request.json["filter"]) else None
        assert matched == sum(item["updatedOn"] == cursor for item in items)
    # An item changed since: the index is built again, and the item comes last.
    changed = aa_emulator.update_work_item(20, items[1]["id"], username="cr_admin", status="ON_HOLD")
    request = history.history_request(dataset, window, "20", offset=9_950)
    answer = client.call("POST", request.path, json=request.json).json()
    assert answer == filters.query(aa_emulator.work_items(20), request.json)
    assert answer["list"][-1]["id"] == changed["id"]
