"""
Big queues: adding straight into them, id look-ups from the index, a bot that does not scan,
and lists that answer exactly as filtering every record would.
"""

from __future__ import annotations

import random

import pytest

from automation_anywhere_emulator import bot_runner, filters
from automation_anywhere_emulator.models import WorkItem
from tests.emulator.conftest import Client

BIG = 100_000


def eq_id(value) -> dict:
    return {"operator": "eq", "field": "id", "value": value}


def any_of(values) -> dict:
    return {"operator": "or", "operands": [eq_id(value) for value in values]}


@pytest.fixture
def counted_matches(monkeypatch) -> list[int]:
    """One entry per record a filter is matched against."""
    calls: list[int] = []
    real = filters.matches

    def counting(node, record):
        calls.append(1)
        return real(node, record)

    monkeypatch.setattr(filters, "matches", counting)
    return calls


# -- add_work_items ----------------------------------------------------------------------------


def test_add_work_items_adds_as_the_api_would(aa_emulator, client):
    aa_emulator.configure(pause_bot=True)
    datas = [{"TRN_ID": "A11", "AMOUNT": 12.5}, {"nested": {"list": [1, 2]}}]
    created = aa_emulator.add_work_items(20, datas)
    assert [item["id"] for item in created] == ["40001", "40002"]
    assert created[0]["col2"] == "12.5" and created[0]["createdBy"] == "25" and created[0]["status"] == "NEW"
    datas[1]["nested"]["list"].append(3)  # the caller's dicts stay the caller's
    assert aa_emulator.work_items(20) == created
    assert client.list(20).json()["list"] == created
    assert aa_emulator.add_work_items("22", [{"a": 1}], username="api_user")[0]["createdBy"] == "26"
    assert client.add(20, {"a": "x"}).json()["list"][0]["id"] == "40004"


@pytest.mark.parametrize(
    ("queue_id", "datas", "username"),
    [
        (99, [{"a": 1}], None),
        ("abc", [{"a": 1}], None),
        (20, {"a": 1}, None),
        (20, [["a"]], None),
        (20, [{"a": float("nan")}], None),
        (20, [{"a": {1, 2}}], None),
        (20, [{"a": 1}], "nobody"),
        (21, [{"p": 1}, {"p": 2}, {"p": 1}], None),
    ],
)
def test_add_work_items_refuses_with_value_error_and_adds_nothing(aa_emulator, queue_id, datas, username):
    with pytest.raises(ValueError):
        aa_emulator.add_work_items(queue_id, datas, username=username)
    assert all(aa_emulator.work_items(queue) == [] for queue in (20, 21, 22))


# -- a 100,000-item queue --------------------------------------------------------------------


def test_id_look_ups_on_a_big_queue_come_from_the_index(aa_emulator, client, counted_matches):
    aa_emulator.configure(pause_bot=True)
    created = aa_emulator.add_work_items(20, [{"n": n} for n in range(BIG)])
    assert created[-1]["id"] == str(40000 + BIG)
    wanted = [str(40001 + 997 * k) for k in range(100)]
    body = {"filter": any_of(reversed(wanted)), "page": {"offset": 0, "length": 100}}
    answer = client.list(20, body).json()
    assert [item["id"] for item in answer["list"]] == wanted
    assert answer["page"] == {"offset": 0, "total": BIG, "totalFilter": 100}
    # No item was matched against the filter: the index answered (the times are make bench's).
    assert counted_matches == []

    newest = client.list(20, {"sort": [{"field": "id", "direction": "desc"}], "page": {"offset": 100, "length": 3}})
    assert [item["json"]["n"] for item in newest.json()["list"]] == [BIG - 101, BIG - 102, BIG - 103]
    one = client.list(20, {"filter": eq_id(40001 + BIG - 1)}).json()
    assert [item["json"]["n"] for item in one["list"]] == [BIG - 1]
    assert counted_matches == []

    client.list(20, {"filter": {"operator": "eq", "field": "n", "value": 5}})  # not by id: every item is read
    assert len(counted_matches) == BIG


def test_the_bot_looks_only_at_what_is_due(aa_emulator, client, monkeypatch):
    aa_emulator.configure(pickup_delay=3600)
    aa_emulator.add_work_items(20, [{"n": n} for n in range(20_000)])
    looked: list[int] = []
    real = bot_runner._is_waiting
    monkeypatch.setattr(bot_runner, "_is_waiting", lambda entry: looked.append(1) or real(entry))
    for _ in range(10):
        assert client.call("GET", "/v3/wlm/queues/20").status_code == 200
    assert len(looked) <= 20  # the oldest waiting item, once per transaction (authentication, reading)


def test_the_bot_forgets_deleted_items_and_takes_an_item_set_new_twice_once(clocked_emulator, clock):
    client = Client(clocked_emulator.url)
    client.login()
    first, second = client.add(20, {"a": "x"}, {"a": "y"}).json()["list"]
    assert client.call("DELETE", f"/v3/wlm/queues/20/workitems/{first['id']}").status_code == 204
    path = f"/v3/wlm/queues/20/workitems/{second['id']}"
    on_hold = client.call("PUT", path, json={"version": "0", "status": "ON_HOLD"}).json()
    new_again = client.call("PUT", path, json={"version": on_hold["version"], "status": "NEW"}).json()
    client.call("PUT", path, json={"version": new_again["version"], "comment": "still NEW"})
    clock.advance(5)
    (item,) = clocked_emulator.work_items(20)
    assert (item["status"], item["version"]) == ("COMPLETED", "5")  # 3 updates, taken once, finished once


# -- the same answers as filtering every record --------------------------------------------------

FIELDS = ["id", "status", "name", "amount", "city", "flag", "createdOn", "updatedOn", "version", "col1", "absent"]
VALUES = ["Ann", "Bob", "5", 20, 7.5, "n/a", "NEW", "COMPLETED", "Oslo", "slo", True, "2027", "40010", 0]


def random_leaf(rng: random.Random, ids: list[int]) -> dict:
    field = rng.choice(FIELDS)
    operator = rng.choice(["eq", "ne", "lt", "le", "gt", "ge", "substring"])
    if field == "id" and operator != "substring":
        value = rng.choice([rng.choice(ids), str(rng.choice(ids)), rng.randint(40000, 40400), 40005.5])
    else:
        value = rng.choice(VALUES)
    return {"operator": operator, "field": field, "value": value}


def random_filter(rng: random.Random, ids: list[int], depth: int = 0) -> dict:
    if depth >= 2 or rng.random() < 0.4:
        return random_leaf(rng, ids)
    operator = rng.choice(["and", "or", "not"])
    count = 1 if operator == "not" else rng.randint(1, 3)
    return {"operator": operator, "operands": [random_filter(rng, ids, depth + 1) for _ in range(count)]}


def random_id_filter(rng: random.Random, ids: list[int]) -> dict:
    """What the index answers, and the edge cases it must leave alone or answer alike."""
    pool = [
        lambda: rng.choice(ids),
        lambda: str(rng.choice(ids)),
        lambda: f" {rng.choice(ids)}.0 ",
        lambda: rng.randint(39990, 40500),  # deleted and never made ones too
        lambda: rng.choice(ids) + 0.5,
        lambda: float(rng.choice(ids)),
        lambda: 2**53 + rng.randint(0, 3),
    ]
    values = [rng.choice(pool)() for _ in range(rng.choice([1, 1, 2, 5, 20, 20, 100, 101]))]
    return eq_id(values[0]) if len(values) == 1 and rng.random() < 0.5 else any_of(values)


def random_body(rng: random.Random, ids: list[int], size: int) -> dict:
    body: dict = {}
    kind = rng.random()
    if kind < 0.4:
        body["filter"] = random_id_filter(rng, ids)
    elif kind < 0.8:
        body["filter"] = random_filter(rng, ids)
    if rng.random() < 0.8:
        keys = rng.sample(FIELDS, rng.randint(1, 2))
        body["sort"] = [{"field": field, "direction": rng.choice(["asc", "desc"])} for field in keys]
    if rng.random() < 0.8:
        body["page"] = {"offset": rng.randint(0, size + 5), "length": rng.randint(1, 120)}
    return body


@pytest.fixture
def varied_queue(clocked_emulator, clock) -> Client:
    """~200 items of queue 20 in every state, made over time, some deleted, createdOn out of id order."""
    rng = random.Random(7)
    client = Client(clocked_emulator.url)
    client.login()
    for batch in range(20):
        datas = []
        for _ in range(rng.randint(1, 20)):
            name = rng.choice(["Ann", "Bob", "Cid", "STATUS:ON_HOLD", "FAILING"])
            data = {"name": name, "amount": rng.choice(VALUES)}
            if rng.random() < 0.6:
                data["city"] = rng.choice(["Oslo", "Bergen", "Tromsø"])
            if rng.random() < 0.3:
                data["flag"] = rng.random() < 0.5
            datas.append(data)
        client.add(20, *datas)
        clock.advance(rng.choice([0.25, 0.5, 1.5]))
        if batch == 10:  # the Control Room's clock set back: later items look older
            clocked_emulator.configure(clock_offset=-3600)
    items = clocked_emulator.work_items(20)
    for item in rng.sample(items, 20):
        client.call("DELETE", f"/v3/wlm/queues/20/workitems/{item['id']}")
    for item in rng.sample(clocked_emulator.work_items(20), 20):
        path = f"/v3/wlm/queues/20/workitems/{item['id']}"
        client.call("PUT", path, json={"version": item["version"], "status": "NEW", "comment": "again"})
    clock.advance(0.75)
    return client


def test_lists_answer_as_filtering_every_record_would(clocked_emulator, varied_queue):
    rng = random.Random(2024)
    for numeric_ids, page_cap, ignore_offset in [(False, None, False), (True, None, False), (False, 7, True)]:
        clocked_emulator.configure(numeric_ids=numeric_ids, page_cap=page_cap, ignore_offset=ignore_offset)
        records = clocked_emulator.work_items(20)
        ids = [int(record["id"]) for record in records]
        assert len({record["status"] for record in records}) >= 3
        for _ in range(80):
            body = random_body(rng, ids, len(records))
            expected = filters.query(records, body, page_cap=page_cap, ignore_offset=ignore_offset)
            assert varied_queue.list(20, body).json() == expected, body


def test_an_item_record_reads_what_public_shows(clocked_emulator, varied_queue):
    items = [
        WorkItem(1, 20, {"a": "x", "b": 2, "c": 2.5, "d": None, "e": True, "f": [1], "g": "y"}, 25, 1.8e9, 1.8e9),
        WorkItem(2, 20, {}, 25, 1.8e9 + 0.123456789, 1.8e9 + 0.5),
    ]
    items[1].touch(29, 1.8e9 + 7)
    for item in items:
        for numeric_ids in (False, True):
            assert dict(item.record(numeric_ids)) == item.public(numeric_ids)
