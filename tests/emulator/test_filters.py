"""The list grammar: filters, sort and paging, directly and over HTTP."""

from __future__ import annotations

import pytest

from automation_anywhere_emulator.filters import query
from automation_anywhere_emulator.responses import ApiError

RECORDS = [
    {"id": "40001", "status": "COMPLETED", "json": {"name": "Ann", "amount": "5", "city": "Oslo"}},
    {"id": "40002", "status": "NEW", "json": {"name": "Bob", "amount": 20, "city": "Bergen"}},
    {"id": "40010", "status": "FAILED", "json": {"name": "Cid", "amount": "100.5"}},
    {"id": "40003", "status": "NEW", "json": {"name": "Dee", "amount": "n/a", "city": "Oslo"}},
]


def ids(body):
    return [record["id"] for record in query(RECORDS, body)["list"]]


def leaf(op, field, value):
    return {"operator": op, "field": field, "value": value}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("eq", "id", 40002), ["40002"]),
        (leaf("eq", "id", "40002"), ["40002"]),
        (leaf("gt", "id", "40002"), ["40003", "40010"]),  # numeric, not text order
        (leaf("ne", "status", "NEW"), ["40001", "40010"]),
        (leaf("lt", "amount", "21"), ["40001", "40002"]),  # numbers compare as numbers
        (leaf("ge", "amount", 100), ["40003", "40010"]),  # "n/a" is not a number: "n/a" >= "100" as text
        (leaf("eq", "amount", "n/a"), ["40003"]),
        (leaf("substring", "city", "slo"), ["40001", "40003"]),
        (leaf("eq", "city", "Oslo"), ["40001", "40003"]),
        (leaf("ne", "city", "Oslo"), ["40002"]),  # no city: matches no leaf
        (
            {"operator": "or", "operands": [leaf("eq", "id", "40001"), leaf("eq", "id", "40010")]},
            ["40001", "40010"],
        ),
        (
            {
                "operator": "and",
                "operands": [
                    leaf("eq", "status", "NEW"),
                    {"operator": "not", "operands": [{"operator": "or", "operands": [leaf("eq", "name", "Bob")]}]},
                ],
            },
            ["40003"],
        ),
        ({}, ["40001", "40002", "40003", "40010"]),
    ],
)
def test_filter(condition, expected):
    assert ids({"filter": condition}) == expected


@pytest.mark.parametrize(
    "body",
    [
        {"filter": leaf("like", "name", "A")},
        {"filter": {"operator": "eq", "value": "A"}},
        {"filter": {"operator": "eq", "field": "name"}},
        {"filter": leaf("eq", "id", "forty")},
        {"filter": {"operator": "and", "operands": []}},
        {"filter": {"operator": "not", "operands": [leaf("eq", "id", 1), leaf("eq", "id", 2)]}},
        {"filter": {"operator": "or", "operands": [leaf("eq", "id", 1), {"operator": "bogus"}]}},
        {"filter": "status = NEW"},
        {"sort": [{"field": "id", "direction": "up"}]},
        {"sort": {"field": "id"}},
        {"page": {"offset": -1, "length": 10}},
        {"page": {"offset": 0, "length": "10"}},
        ["not", "an", "object"],
    ],
)
def test_malformed_requests_are_400(body):
    with pytest.raises(ApiError) as caught:
        query(RECORDS, body)
    assert caught.value.status == 400


def test_sort():
    assert ids({"sort": [{"field": "id", "direction": "desc"}]}) == ["40010", "40003", "40002", "40001"]
    assert ids({"sort": [{"field": "status", "direction": "asc"}, {"field": "id", "direction": "desc"}]}) == [
        "40001",
        "40010",
        "40003",
        "40002",
    ]
    assert ids({"sort": [{"field": "city"}]}) == ["40002", "40001", "40003", "40010"]  # missing last
    assert ids({}) == ["40001", "40002", "40003", "40010"]


def test_page_counts_and_clamping():
    answer = query(RECORDS, {"filter": leaf("ne", "status", "FAILED"), "page": {"offset": 1, "length": 1}})
    assert answer["page"] == {"offset": 1, "total": 4, "totalFilter": 3}
    assert [record["id"] for record in answer["list"]] == ["40002"]
    many = [{"id": str(n)} for n in range(250)]
    assert len(query(many, {"page": {"offset": 0, "length": 500}})["list"]) == 100
    assert len(query(many, None)["list"]) == 200
    assert len(query(many, {"page": {"offset": 240, "length": 100}})["list"]) == 10


def test_list_over_http_with_paging(client, aa_emulator):
    aa_emulator.configure(pause_bot=True)
    client.add(22, *({"n": str(n), "kind": "even" if n % 2 == 0 else "odd"} for n in range(7)))
    body = {
        "filter": {"operator": "and", "operands": [leaf("eq", "kind", "even"), leaf("ge", "id", "40002")]},
        "sort": [{"field": "n", "direction": "desc"}],
        "page": {"offset": 0, "length": 2},
    }
    answer = client.list(22, body).json()
    assert answer["page"] == {"offset": 0, "total": 7, "totalFilter": 3}
    assert [item["json"]["n"] for item in answer["list"]] == ["6", "4"]
    body["page"]["offset"] = 2
    assert [item["json"]["n"] for item in client.list(22, body).json()["list"]] == ["2"]
    assert client.list(22, {"filter": leaf("nope", "n", "1")}).status_code == 400
