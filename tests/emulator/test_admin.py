"""Counters and the /_emulator/ control endpoints."""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from tests.emulator.conftest import API_KEY_USER, PASSWORD_USER, TIMEOUT, Client


def admin(emulator, method, name, **kwargs):
    return requests.request(method, f"{emulator.url}/_emulator/{name}", timeout=TIMEOUT, **kwargs)


def test_counters_per_endpoint_status_login_and_refresh(aa_emulator, client):
    client.add(20, {"a": 1})
    client.add(22, {"a": 2})
    client.list(20)
    client.call("GET", "/v3/wlm/queues/20/workitems/40001")
    client.call("GET", "/v3/wlm/queues/20/workitems/1")
    client.call("POST", "/v2/authentication/token", json={"token": client.token})
    Client(aa_emulator.url).login(API_KEY_USER, version=1)
    Client(aa_emulator.url).login({"username": "api_user", "apiKey": "wrong"})
    client.call("GET", "/nowhere")
    admin(aa_emulator, "GET", "counters")  # not counted

    counters = aa_emulator.counters
    assert counters.requests("POST /v3/wlm/queues/{queueId}/workitems") == 2
    assert counters.requests("POST /v3/wlm/queues/{queueId}/workitems/list") == 1
    assert counters.requests("GET /v3/wlm/queues/{queueId}/workitems/{id}") == 2
    assert counters.requests("POST /v2/authentication") == 2
    assert counters.requests("POST /v1/authentication") == 1
    assert counters.requests("GET <unmatched>") == 1
    assert counters.requests() == 10
    assert counters.logins() == 2 and counters.logins("bot_runner") == 1 and counters.logins("api_user") == 1
    assert counters.refreshes() == 1
    snapshot = counters.snapshot()
    assert snapshot["statuses"] == {"200": 7, "401": 1, "404": 2}
    assert snapshot["logins"] == {"bot_runner": 1, "api_user": 1}
    assert admin(aa_emulator, "GET", "counters").json() == snapshot
    counters.reset()
    assert counters.snapshot() == {"requests": {}, "statuses": {}, "logins": {}, "refreshes": 0}


def test_admin_faults_config_and_reset(aa_emulator, client):
    added = admin(aa_emulator, "POST", "faults", json={"kind": "rate_limit", "retry_after": 3, "path": "/workitems"})
    assert added.status_code == 201 and added.json()["kind"] == "rate_limit"
    assert [rule["retry_after"] for rule in admin(aa_emulator, "GET", "faults").json()["faults"]] == [3]
    assert client.add(20, {"a": 1}).status_code == 429
    admin(aa_emulator, "POST", "faults", json={"kind": "html_page"})
    assert admin(aa_emulator, "DELETE", "faults").status_code == 204
    assert aa_emulator.faults.rules() == []
    assert admin(aa_emulator, "POST", "faults", json={"kind": "nope"}).status_code == 400
    assert admin(aa_emulator, "POST", "faults", json={"count": 1}).status_code == 400

    config = admin(aa_emulator, "POST", "config", json={"numeric_ids": True, "token_lifetime": 5, "bot_rate": 2})
    assert config.json()["numeric_ids"] is True and aa_emulator.config.token_lifetime == 5
    assert admin(aa_emulator, "GET", "config").json() == config.json()
    assert admin(aa_emulator, "POST", "config", json={"no_such_setting": 1}).status_code == 400
    assert admin(aa_emulator, "POST", "config", json={"pickup_delay": "soon"}).status_code == 400
    assert admin(aa_emulator, "POST", "config", json=[1]).status_code == 400

    client.add(20, {"a": 2})
    assert admin(aa_emulator, "POST", "reset").status_code == 204
    assert aa_emulator.work_items(20) == [] and aa_emulator.config.numeric_ids is False
    assert aa_emulator.counters.requests() == 0
    assert client.call("GET", "/v3/wlm/queues/20").json()["code"] == "UM1103"  # sessions are gone too


def test_admin_evict_and_tokens(aa_emulator, client):
    issued = admin(aa_emulator, "POST", "tokens", json={"username": "token_user"})
    token = issued.json()["token"]
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "27"
    other = Client(aa_emulator.url)
    other.token = token
    assert other.call("GET", "/v3/wlm/queues/20").status_code == 200
    assert admin(aa_emulator, "POST", "evict", json={"username": "bot_runner"}).json() == {"evicted": 1}
    assert client.call("GET", "/v3/wlm/queues/20").json()["code"] == "UM1114"
    assert admin(aa_emulator, "POST", "evict", json={"username": "nobody"}).status_code == 400
    assert admin(aa_emulator, "POST", "tokens", json={}).status_code == 400
    assert admin(aa_emulator, "GET", "nothing").status_code == 404


def test_request_log_has_no_secrets(aa_emulator, client):
    client.call("GET", "/v1/authentication/token", params={"token": client.token})
    entries = admin(aa_emulator, "GET", "requests").json()["requests"]
    assert entries[0] == {
        "method": "POST",
        "path": "/v2/authentication",
        "status": 200,
        "fault": None,
        "time": pytest.approx(time.time(), abs=60),
    }
    assert entries[-1]["path"] == "/v1/authentication/token"
    assert client.token not in str(entries) and "Passw0rd" not in str(entries)


def test_observers_see_each_request_start_and_end_with_its_user_and_every_token(aa_emulator):
    events, tokens = [], []
    aa_emulator.observe(requests=events.append, tokens=tokens.append)
    token = requests.post(f"{aa_emulator.url}/v1/authentication", json=PASSWORD_USER, timeout=TIMEOUT).json()["token"]
    headers = {"X-Authorization": token, "User-Agent": "probe/1"}
    requests.get(f"{aa_emulator.url}/v3/wlm/queues/20", headers=headers, timeout=TIMEOUT)
    requests.get(f"{aa_emulator.url}/v3/wlm/queues/20", headers={"X-Authorization": "forged"}, timeout=TIMEOUT)
    seen = [(event.phase, event.method, event.path, event.status, event.user) for event in events]
    assert seen == [
        ("start", "POST", "/v1/authentication", None, "bot_runner"),
        ("end", "POST", "/v1/authentication", 200, "bot_runner"),
        ("start", "GET", "/v3/wlm/queues/20", None, "bot_runner"),
        ("end", "GET", "/v3/wlm/queues/20", 200, "bot_runner"),
        ("start", "GET", "/v3/wlm/queues/20", None, None),
        ("end", "GET", "/v3/wlm/queues/20", 401, None),
    ]
    assert events[2].user_agent == "probe/1" and tokens == [token]
    # A hostile login body is the API's to refuse: the observer sees no user, the server no crash.
    deep = b"[" * 100_000 + b"]" * 100_000
    assert requests.post(f"{aa_emulator.url}/v1/authentication", data=deep, timeout=TIMEOUT).status_code == 400
    assert events[-1].user is None and events[-1].status == 400
    aa_emulator.reset()  # the observers go with a reset (the fixture's, after each test)
    aa_emulator.issue_token("api_user")
    requests.get(f"{aa_emulator.url}/v3/wlm/queues/20", timeout=TIMEOUT)
    assert len(tokens) == 1 and len(events) == 8
