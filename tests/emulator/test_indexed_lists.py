"""
The provider's list calls on big queues and histories read only their candidates, with the
answer that matching every record gives: a reconciliation's and a re-queue's ranges on ``id``
are read from the ids' order, a re-queue's statuses come from an index by status, and neither
is matched again; a bot run's deployment and a bot's records come from an index by value, in
the order of an index by the field sorted on. Each shape is also compared with matching every
record over many filters, sorts and pages, with ties.
"""

from __future__ import annotations

import itertools

import pytest

from airflow_provider_aa.control_room import bots, work_item_changes, work_items
from automation_anywhere_emulator import filters, item_lists
from automation_anywhere_emulator.history import SortedRecords
from automation_anywhere_emulator.models import WorkItem, instant


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


def test_a_requeue_page_matches_nothing_its_statuses_and_last_id_chose(queue, aa_emulator, client, counted_matches):
    for after in (0, int(queue[5000])):
        body = work_items.list_request(
            "20", filter=work_item_changes.requeue_filter(["FAILED", "UNKNOWN"], None, after)
        ).json
        answer, everything, matched = listed(client, aa_emulator, body, counted_matches)
        assert answer == everything
        assert answer["page"]["totalFilter"] == (100 if after == 0 else 49)
        assert matched == 0


def test_a_reconciliation_matches_nothing_its_mark_and_values_chose(queue, aa_emulator, client, counted_matches):
    mark = int(queue[-1000])
    values = [f"R{n}" for n in range(9_940, 10_000)]
    # Without a dedupe_key: every item after the mark; with one, only those with its values.
    for key, expected in ((None, queue[-999:][:100]), ("ref", queue[-60:])):
        body = work_items.list_request(
            "20", filter=work_items.added_since_filter(mark, key, values), sort=[{"field": "id", "direction": "asc"}]
        ).json
        answer, everything, matched = listed(client, aa_emulator, body, counted_matches)
        assert answer == everything
        assert [item["id"] for item in answer["list"]] == expected
        assert matched == 0


def test_other_conditions_are_matched_against_the_chosen_items_only(queue, aa_emulator, client, monkeypatch):
    after = int(queue[5000])
    body = {
        "filter": {
            "operator": "and",
            "operands": [
                work_item_changes.requeue_filter(["FAILED"], None, after),
                {"operator": "substring", "field": "ref", "value": "0"},
            ],
        },
        "page": {"offset": 0, "length": 100},
    }
    operators, matched = set(), set()
    real = filters.matches

    def noting(node, record):
        operators.add(node["operator"])
        matched.add(record["id"])
        return real(node, record)

    monkeypatch.setattr(filters, "matches", noting)
    answer = client.list(20, body).json()
    monkeypatch.setattr(filters, "matches", real)
    assert answer == filters.query(aa_emulator.work_items(20), body) and answer["list"]
    assert operators == {"substring"}  # neither the statuses nor the range on id
    assert len(matched) == 49  # the FAILED items after the last id: one in 100 of the second half


STATUSES = [
    None,
    {"operator": "eq", "field": "status", "value": "FAILED"},
    {"operator": "or", "operands": [{"operator": "eq", "field": "status", "value": s} for s in ("FAILED", "ON_HOLD")]},
    {"operator": "or", "operands": [{"operator": "eq", "field": "status", "value": s} for s in ("NEW", "GONE")]},
]


def id_ranges(ids: list[str]) -> list[list[dict]]:
    """Ranges on id: none, from either end, both, empty, fractional and beyond the ids."""

    def leaf(operator: str, value: object) -> dict:
        return {"operator": operator, "field": "id", "value": value}

    middle, quarter = int(ids[len(ids) // 2]), int(ids[len(ids) // 4])
    return [
        [],
        [leaf("gt", str(middle))],
        [leaf("ge", middle)],
        [leaf("lt", str(middle))],
        [leaf("le", middle)],
        [leaf("gt", quarter), leaf("le", str(middle))],
        [leaf("ge", str(middle)), leaf("lt", quarter)],
        [leaf("gt", f"{quarter}.5"), leaf("lt", f"{middle + 0.5}")],
        [leaf("ge", "0")],
        [leaf("gt", ids[-1])],
    ]


OTHERS = [
    None,
    {"operator": "or", "operands": [{"operator": "eq", "field": "ref", "value": f"R{n}"} for n in range(0, 300, 23)]},
    {"operator": "substring", "field": "ref", "value": "1"},
    {"operator": "not", "operands": [{"operator": "eq", "field": "result", "value": "no"}]},
    {"operator": "eq", "field": "n", "value": "12"},  # a number, which an index by text cannot answer
]

SORTS = [
    None,
    [{"field": "id", "direction": "desc"}],
    [{"field": "updatedOn", "direction": "asc"}, {"field": "id", "direction": "desc"}],
]


def export_bodies(ids: list[str]) -> list[dict]:
    """
    An export's pages: windows on updatedOn among tied times, with and without a cursor (a
    time and an id) as the provider sends it, and cursors it does not send (without the
    page's ge, with lt on id, with a third condition) that are matched instead.
    """

    def at(seconds: int) -> str:
        return instant(1_800_000_000.0 + seconds)

    cursors = (None, (0, ids[5]), (2, ids[-3]))
    shapes = ("sent", "without ge", "lt id", "three")
    bodies = []
    for low, high, cursor, shape in itertools.product((-1, 0, 2), (1, 3, 100), cursors, shapes):
        if cursor is None and shape != "sent":
            continue
        leaves = [
            {"operator": "ge", "field": "updatedOn", "value": at(low)},
            {"operator": "lt", "field": "updatedOn", "value": at(high)},
        ]
        if cursor is not None:
            since, after_id = at(cursor[0]), cursor[1]
            later = [
                {"operator": "gt", "field": "updatedOn", "value": since},
                {"operator": "lt" if shape == "lt id" else "gt", "field": "id", "value": after_id},
            ]
            if shape == "three":
                later.append({"operator": "eq", "field": "status", "value": "FAILED"})
            leaves = [{"operator": "and", "operands": leaves}]
            if shape != "without ge":
                leaves.append({"operator": "ge", "field": "updatedOn", "value": since})
            leaves.append({"operator": "or", "operands": later})
        sort = [{"field": "updatedOn", "direction": "asc"}, {"field": "id", "direction": "asc"}]
        bodies.append({"filter": {"operator": "and", "operands": leaves}, "sort": sort})
    return bodies


def work_item_bodies(ids: list[str]) -> list[dict]:
    bodies = export_bodies(ids)
    for status, ranges, other, sort in itertools.product(STATUSES, id_ranges(ids), OTHERS, SORTS):
        leaves = [leaf for leaf in (status, other) if leaf is not None] + ranges
        body: dict = {"page": {"offset": 0, "length": 100}}
        if len(leaves) > 1:
            # Nested as the provider nests them: the ranges in an and of their own.
            body["filter"] = {"operator": "and", "operands": [*leaves[:1], {"operator": "and", "operands": leaves[1:]}]}
        elif leaves:
            body["filter"] = leaves[0]
        if sort is not None:
            body["sort"] = sort
        bodies.append(body)
    return bodies


def queue_items() -> dict[int, WorkItem]:
    """300 items created together (their times tie), some FAILED or ON_HOLD since (in pairs of ties), one deleted."""
    items = {}
    for n in range(300):
        item = WorkItem(40_001 + n, 20, {"ref": f"R{n}", "n": n} if n % 10 else {"n": n}, 1, 1_800_000_000.0, None)
        items[item.id] = item
    for index, item in enumerate(list(items.values())[::13]):
        item.status = "FAILED" if index % 3 else "ON_HOLD"
        item.result = "no"
        item.touch(1, 1_800_000_000.0 + index // 2)
    del items[40_152]
    return items


def differing(items: dict[int, WorkItem], numeric_ids: bool, pages: list[dict]) -> list[dict]:
    """The bodies whose indexed answer is not what matching every item gives."""
    records = [item.public(numeric_ids) for item in items.values()]
    ids = [str(item_id) for item_id in items]
    out = []
    for body, page in itertools.product(work_item_bodies(ids), pages):
        body = {**body, "page": page}
        if item_lists.list_items(items, filters.parse(body), numeric_ids) != filters.query(records, body):
            out.append(body)
    return out


@pytest.mark.parametrize("numeric_ids", [False, True])
def test_lists_of_mixed_filters_answer_as_matching_every_item(numeric_ids):
    items = queue_items()
    pages = [{"offset": 0, "length": 100}, {"offset": 5, "length": 7}, {"offset": 37, "length": 11}]
    assert differing(items, numeric_ids, pages) == []
    # Changed and deleted since the indexes were built: they are built again.
    moved = items[40_100]
    moved.status = "FAILED"
    moved.touch(1, 1_800_000_000.0)
    del items[40_014]
    assert differing(items, numeric_ids, pages[:1]) == []


def test_mixed_filters_over_http_answer_as_matching_every_item(aa_emulator, client):
    aa_emulator.configure(pause_bot=True)
    created = aa_emulator.add_work_items(20, [{"ref": f"R{n}", "n": n} if n % 10 else {"n": n} for n in range(300)])
    for index, item in enumerate(created[::13]):
        status = "FAILED" if index % 3 else "ON_HOLD"
        aa_emulator.update_work_item(20, item["id"], username="cr_admin", status=status, result="no")
    client.login()
    items = aa_emulator.work_items(20)
    bodies = work_item_bodies([item["id"] for item in items])
    assert [body for body in bodies[::5] if client.list(20, body).json() != filters.query(items, body)] == []
    # An item changed since: the index by status is built again.
    aa_emulator.update_work_item(20, created[1]["id"], username="cr_admin", status="FAILED", result="no")
    body = work_items.list_request("20", filter=work_item_changes.requeue_filter(["FAILED"], None, 0)).json
    answer = client.list(20, body).json()
    assert answer == filters.query(aa_emulator.work_items(20), body)
    assert created[1]["id"] in [item["id"] for item in answer["list"]]


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
        if request.json["filter"]["field"] == "deploymentId":  # a run or two: built and matched
            assert matched == answer["page"]["totalFilter"] < len(history)
        else:  # more than a page: in the order of an index, none matched (no deployed runs)
            assert matched == 0 < answer["page"]["totalFilter"]


def test_a_bots_newest_records_merge_its_deployed_runs_in(aa_emulator, client):
    # 250 runs a bot: over a page. The deployed runs finish at once: their records do not change while compared.
    aa_emulator.configure(history_runs=1_000, activity_delay=0, pickup_delay=0, work_delay=0)
    client.login()
    # Two runs of one deployment: created together, their times tie.
    body = {"botId": 501, "unattendedRequest": {"runAsUserIds": [29, 30]}}
    assert client.call("POST", "/v4/automations/deploy", json=body).status_code == 200
    pages = [{"page": {"offset": offset, "length": 100}} for offset in range(0, 1_100, 100)]
    everything = [
        record for body in pages for record in client.call("POST", "/v3/activity/list", json=body).json()["list"]
    ]
    assert len(everything) == 1_002
    for bot_id in ("501", 501, "502", "999"):
        request = bots.bot_activity_request(bot_id)
        for page, direction in itertools.product(
            ({"offset": 0, "length": 100}, {"offset": 1, "length": 3}, {"offset": 199, "length": 100}), ("desc", "asc")
        ):
            body = {**request.json, "page": page, "sort": [{"field": "createdOn", "direction": direction}]}
            answer = client.call("POST", request.path, json=body).json()
            assert answer == filters.query(everything, body), (bot_id, page, direction)


def tied_record(number: int, numeric_ids: bool) -> dict:
    """A stored record: times tie in fours, ids do not sort as numbers, some fields missing or odd."""
    record = {
        "id": f"r{(number * 7) % 23:02d}-{number}",
        "fileId": number % 3 if numeric_ids else str(number % 3),
        "createdOn": instant(1_800_000_000 + number // 4),
        "rank": number % 5 if number % 6 else f"t{number % 4}",
        "deploymentId": f"d{number // 2}",
    }
    if number % 11 == 0:
        del record["createdOn"]
    return record


def live_records(numeric_ids: bool) -> list[dict]:
    """Records that change (deployed runs): some tie with stored ones, some do not match, one lacks the time."""
    file_ids = [0, 1, 2, 0, 1, 0]
    times = [1_800_000_000 + 3, 1_800_000_000 + 3, 1_800_000_000 - 5, 1_800_000_000 + 99, None, 1_800_000_000 + 10]
    records = []
    for index, (file_id, moment) in enumerate(zip(file_ids, times, strict=True)):
        record = {
            "id": f"r{index:02d}-live",
            "fileId": file_id if numeric_ids else str(file_id),
            "rank": [2, "t1", 0, 4, 2, "t3"][index],
            "deploymentId": f"d{index}",
        }
        if moment is not None:
            record["createdOn"] = instant(moment)
        records.append(record)
    return records


@pytest.mark.parametrize("numeric_ids", [False, True])
def test_a_value_sorted_on_a_field_answers_as_matching_every_record(numeric_ids):
    # More records of a value than a page: they come from the indexes (fewer are sorted as they are).
    stored = SortedRecords(400, tied_record, ["createdOn"])
    everything = [tied_record(number, numeric_ids) for number in range(400)]
    differing = []
    for live in (live_records(numeric_ids), []):
        fields = ("fileId", "deploymentId", "rank")
        sorts = ("createdOn", "id", "rank", "missing")
        for field, value, sort, direction, (offset, length) in itertools.product(
            fields, (0, "1", 2.0, "d3", "t1", "nope"), sorts, ("asc", "desc"), ((0, 100), (0, 7), (5, 13), (27, 100))
        ):
            body = {
                "filter": {"operator": "and", "operands": [{"operator": "eq", "field": field, "value": value}]},
                "sort": [{"field": sort, "direction": direction}],
                "page": {"offset": offset, "length": length},
            }
            if stored.answer(filters.parse(body), live, numeric_ids) != filters.query(everything + live, body):
                differing.append(body)
    assert differing == []


def test_a_value_sorted_on_a_field_builds_only_its_pages_records():
    built = []

    def counted(number: int, numeric_ids: bool) -> dict:
        built.append(number)
        return tied_record(number, numeric_ids)

    stored = SortedRecords(400, counted, ["createdOn"])
    body = {
        "filter": {"operator": "eq", "field": "fileId", "value": "1"},
        "sort": [{"field": "createdOn", "direction": "desc"}],
        "page": {"offset": 2, "length": 5},
    }
    stored.answer(filters.parse(body), [], False)  # the indexes are built: every record read
    assert set(built) == set(range(400))
    built.clear()
    answer = stored.answer(filters.parse(body), [], False)
    assert len(built) == len(answer["list"]) == 5 and answer["page"]["totalFilter"] == 133


def test_a_window_on_a_time_answers_as_matching_every_record_with_ties():
    stored = SortedRecords(90, tied_record, ["createdOn"])
    everything = [tied_record(number, False) for number in range(90)]
    live = [record for record in live_records(False) if "createdOn" in record]
    for start, end, offset in itertools.product((0, 3, 7), (4, 12, 99), (0, 2, 9, 30)):
        body = {
            "filter": {
                "operator": "and",
                "operands": [
                    {"operator": "ge", "field": "createdOn", "value": instant(1_800_000_000 + start)},
                    {"operator": "lt", "field": "createdOn", "value": instant(1_800_000_000 + end)},
                ],
            },
            "sort": [{"field": "createdOn", "direction": "asc"}, {"field": "id", "direction": "asc"}],
            "page": {"offset": offset, "length": 10},
        }
        assert stored.answer(filters.parse(body), live, False) == filters.query(everything + live, body), body


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
        # At the cursor's own instant its id is bisected: no item is matched against it.
        assert matched == 0
    # An item changed since: the index is built again, and the item comes last.
    changed = aa_emulator.update_work_item(20, items[1]["id"], username="cr_admin", status="ON_HOLD")
    request = history.history_request(dataset, window, "20", offset=9_950)
    answer = client.call("POST", request.path, json=request.json).json()
    assert answer == filters.query(aa_emulator.work_items(20), request.json)
    assert answer["list"][-1]["id"] == changed["id"]
