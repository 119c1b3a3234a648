"""Each fault kind, rule matching and counting, and whether the request was committed."""

from __future__ import annotations

import time

import pytest
import requests

ITEMS = "/v3/wlm/queues/20/workitems"


@pytest.fixture(autouse=True)
def hold_the_bot(aa_emulator):
    aa_emulator.configure(pause_bot=True)


def add_one(client, **kwargs):
    return client.call("POST", ITEMS, json={"workItems": [{"json": {"a": "x"}}]}, **kwargs)


def test_latency_delays_matching_requests_until_cleared(aa_emulator, client):
    aa_emulator.faults.add("latency", count=None, path="/workitems$", seconds=0.2)
    for _ in range(2):
        started = time.monotonic()
        assert add_one(client).status_code == 200
        assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    client.call("GET", "/v3/wlm/queues/20")  # path does not match
    assert time.monotonic() - started < 0.2
    aa_emulator.faults.clear()
    started = time.monotonic()
    add_one(client)
    assert time.monotonic() - started < 0.2


def test_rate_limit_is_429_with_retry_after_and_not_processed(aa_emulator, client):
    aa_emulator.faults.add("rate_limit", count=2, method="POST", retry_after=7)
    for _ in range(2):
        response = add_one(client)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert set(response.json()) == {"code", "message", "details"}
    assert aa_emulator.work_items(20) == []
    assert add_one(client).status_code == 200
    assert aa_emulator.faults.rules() == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_is_not_processed(aa_emulator, client, status):
    aa_emulator.faults.add("server_error", status=status)
    response = add_one(client)
    assert response.status_code == status and response.json()["code"] == "SERVER_ERROR"
    assert aa_emulator.work_items(20) == []


def test_drop_before_commit_closes_without_answer_and_adds_nothing(aa_emulator, client):
    aa_emulator.faults.add("drop_before_commit", path="/workitems$")
    with pytest.raises(requests.ConnectionError):
        add_one(client)
    assert aa_emulator.work_items(20) == []
    assert add_one(client).status_code == 200


def test_drop_after_commit_closes_without_answer_but_adds(aa_emulator, client):
    aa_emulator.faults.add("drop_after_commit", method="post", path="/workitems$")
    with pytest.raises(requests.ConnectionError):
        add_one(client)
    assert len(aa_emulator.work_items(20)) == 1
    assert aa_emulator.counters.statuses() == {"200": 1, "dropped": 1}  # the client's login, then the drop


def test_html_page_is_200_text_html_not_processed(aa_emulator, client):
    aa_emulator.faults.add("html_page")
    response = add_one(client)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html" in response.text
    assert aa_emulator.work_items(20) == []


def test_malformed_json_is_truncated_and_not_processed(aa_emulator, client):
    aa_emulator.faults.add("malformed_json")
    response = add_one(client)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()
    assert aa_emulator.work_items(20) == []


def test_slow_response_commits_before_the_client_times_out(aa_emulator, client):
    aa_emulator.faults.add("slow_response", seconds=0.5)
    with pytest.raises(requests.ReadTimeout):
        add_one(client, timeout=0.2)
    assert len(aa_emulator.work_items(20)) == 1


def test_faults_apply_to_login_too_and_are_counted(aa_emulator):
    from tests.emulator.conftest import Client

    aa_emulator.faults.add("server_error", status=503, path="/authentication$")
    client = Client(aa_emulator.url)
    assert client.login().status_code == 503
    assert client.login().status_code == 200
    assert aa_emulator.counters.requests("POST /v2/authentication") == 2
    assert aa_emulator.counters.logins("bot_runner") == 1
    assert [entry["fault"] for entry in aa_emulator.request_log.entries()] == ["server_error", None]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("explode",), {}),
        (("latency",), {"seconds": -1}),
        (("latency",), {"retry_after": 1}),
        (("server_error",), {"status": 418}),
        (("rate_limit",), {"retry_after": 1.5}),
        (("rate_limit",), {"count": 0}),
        (("rate_limit",), {"path": "("}),
    ],
)
def test_bad_rules_are_refused(aa_emulator, args, kwargs):
    with pytest.raises(ValueError):
        aa_emulator.faults.add(*args, **kwargs)


def test_first_matching_rule_wins_and_only_it_is_used_up(aa_emulator, client):
    aa_emulator.faults.add("server_error", status=502)
    aa_emulator.faults.add("rate_limit")
    assert add_one(client).status_code == 502
    assert add_one(client).status_code == 429
    assert add_one(client).status_code == 200
