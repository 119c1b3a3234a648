"""Hostile or broken requests: a 400/413 JSON error, never a traceback nor a thread held."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from automation_anywhere_emulator import ControlRoomEmulator
from tests.emulator.conftest import (
    TIMEOUT,
    Client,
    address,
    assert_threads_end,
    handler_threads,
    parse_answer,
    raw_exchange,
)

QUEUE = "/v3/wlm/queues/20"
ITEMS = "/v3/wlm/queues/20/workitems"
HUGE = 10**400


@pytest.fixture(autouse=True)
def no_tracebacks(capfd):
    """The emulator runs in this process: whatever it prints to stderr is captured here."""
    yield
    assert "Traceback" not in capfd.readouterr().err


def assert_error(answer: requests.Response, status: int = 400) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"code", "message", "details"}
    return body


def still_serves(client: Client) -> None:
    assert client.call("GET", QUEUE).status_code == 200


# -- bodies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v2/authentication", f"{ITEMS}/list", "/_emulator/faults", "/_emulator/config"])
def test_json_nested_100000_deep_is_400(aa_emulator, client, path):
    body = assert_error(client.call("POST", path, data=b"[" * 100_000 + b"]" * 100_000))
    assert body["code"] == "INVALID_JSON" and "nested" in body["message"]
    still_serves(client)


def test_json_just_deep_enough_to_break_recursive_code_is_400(aa_emulator, client):
    data: dict = {"a": "x"}
    for _ in range(300):  # the parser takes it; copying and printing it would not
        data = {"d": data}
    assert_error(client.add(20, data))
    assert aa_emulator.work_items(20) == []
    still_serves(client)


@pytest.mark.parametrize("text", [b'{"workItems": NaN}', b'{"workItems": [{"json": {"a": 1e400}}]}', b"\xff\xfe{"])
def test_what_json_does_not_allow_is_400(aa_emulator, client, text):
    assert assert_error(client.call("POST", ITEMS, data=text))["code"] == "INVALID_JSON"


def test_filters_nested_beyond_64_levels_are_400(aa_emulator, client):
    def nested(levels: int) -> dict:
        node: dict = {"operator": "eq", "field": "a", "value": "x"}
        for _ in range(levels):
            node = {"operator": "not", "operands": [node]}
        return node

    assert client.list(20, {"filter": nested(64)}).status_code == 200
    assert "64" in assert_error(client.list(20, {"filter": nested(65)}))["message"]


# -- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [{"offset": HUGE}, {"length": HUGE}, {"offset": -1}, {"length": 10**9 + 1}, {"offset": 1.5}, {"length": "5"}],
)
def test_page_numbers_out_of_bounds_are_400(aa_emulator, client, page):
    assert "page." in assert_error(client.list(20, {"page": page}))["message"]


def test_integers_beyond_pythons_digit_limit_are_400(aa_emulator, client):
    body = b'{"page": {"offset": ' + b"9" * 5000 + b"}}"
    assert assert_error(client.call("POST", f"{ITEMS}/list", data=body))["code"] == "INVALID_JSON"
    still_serves(client)


@pytest.mark.parametrize("value", [HUGE, -HUGE])
def test_filter_values_too_big_for_a_number_are_400(aa_emulator, client, value):
    condition = {"operator": "gt", "field": "amount", "value": value}
    assert "out of range" in assert_error(client.list(20, {"filter": condition}))["message"]


def test_huge_numbers_in_items_sort_and_filter_without_error(aa_emulator, client):
    aa_emulator.configure(pause_bot=True)
    assert client.add(20, {"n": HUGE}, {"n": 5}, {"n": "7"}).status_code == 200
    listed = client.list(20, {"sort": [{"field": "n", "direction": "desc"}]})
    assert listed.status_code == 200 and len(listed.json()["list"]) == 3
    filtered = client.list(20, {"filter": {"operator": "gt", "field": "n", "value": 6}})
    assert filtered.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/v3/wlm/queues/{HUGE}",
        f"/v3/wlm/queues/{'9' * 5000}",
        f"{ITEMS}/{HUGE}",
        f"{ITEMS}/{'9' * 5000}",
    ],
)
def test_ids_too_big_in_paths_are_400(aa_emulator, client, path):
    assert "out of range" in assert_error(client.call("GET", path))["message"]
    still_serves(client)


def test_ids_and_versions_too_big_in_bodies_are_400(aa_emulator, client):
    item = client.add(20, {"a": "x"}).json()["list"][0]
    assert_error(client.call("PUT", f"{ITEMS}/{item['id']}", json={"version": HUGE}))
    assert_error(client.call("PUT", f"{ITEMS}/{item['id']}", json={"version": "9" * 5000}))
    deploy = {"botId": HUGE, "unattendedRequest": {"runAsUserIds": [29]}}
    assert_error(client.call("POST", "/v4/automations/deploy", json=deploy))
    deploy = {"botId": 501, "unattendedRequest": {"runAsUserIds": [HUGE]}}
    assert_error(client.call("POST", "/v4/automations/deploy", json=deploy))
    still_serves(client)


# -- emulator controls ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "parameter"),
    [
        ({"kind": "latency", "seconds": 1e300}, "seconds"),
        ({"kind": "latency", "seconds": 3601}, "seconds"),
        ({"kind": "slow_response", "seconds": HUGE}, "seconds"),
        ({"kind": "rate_limit", "retry_after": 86401}, "retry_after"),
        ({"kind": "drip", "bytes_per_second": 1e300}, "bytes_per_second"),
        ({"kind": "oversized", "bytes": 2**40}, "bytes"),
        ({"kind": "html_page", "count": HUGE}, "count"),
        ({"kind": "html_page", "method": 5}, "method"),
        ({"kind": "html_page", "path": ["x"]}, "path"),
    ],
)
def test_absurd_fault_parameters_are_400_naming_them(aa_emulator, rule, parameter):
    answer = requests.post(f"{aa_emulator.url}/_emulator/faults", json=rule, timeout=TIMEOUT)
    assert parameter in assert_error(answer)["message"]
    assert aa_emulator.faults.rules() == []


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("token_lifetime", 1e300),
        ("token_lifetime", HUGE),
        ("clock_offset", 1e300),
        ("clock_offset", -HUGE),
        ("pickup_delay", 11 * 366 * 86400),
        ("bot_rate", 1e10),
    ],
)
def test_absurd_settings_are_400(aa_emulator, setting, value):
    answer = requests.post(f"{aa_emulator.url}/_emulator/config", json={setting: value}, timeout=TIMEOUT)
    assert setting in assert_error(answer)["message"]
    assert aa_emulator.config.token_lifetime == 1200 and aa_emulator.config.clock_offset == 0


# -- the HTTP layer ------------------------------------------------------------------------------


def request_head(content_length: str, path: str = "/v2/authentication") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {content_length}\r\n\r\n".encode("latin-1")


def test_a_body_over_32_mib_is_413_unread(aa_emulator, client):
    started = time.monotonic()
    status, headers, body = parse_answer(raw_exchange(aa_emulator.url, request_head(str(64 * 2**20))))
    assert (status, json.loads(body)["code"], headers["connection"]) == (413, "PAYLOAD_TOO_LARGE", "close")
    assert time.monotonic() - started < 2  # answered at once, without waiting for 64 MiB
    still_serves(client)


@pytest.mark.parametrize(
    ("length", "status"), [("abc", 400), ("-5", 400), ("1e3", 400), ("\xb2", 400), ("9" * 5000, 413)]
)
def test_invalid_content_lengths_are_refused(aa_emulator, client, length, status):
    answer_status, _, body = parse_answer(raw_exchange(aa_emulator.url, request_head(length)))
    assert answer_status == status and set(json.loads(body)) == {"code", "message", "details"}
    still_serves(client)


def test_what_the_standard_library_refuses_is_a_json_error_too(aa_emulator, client):
    status, _, body = parse_answer(raw_exchange(aa_emulator.url, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n"))
    assert status == 414 and json.loads(body)["code"] == "REQUEST_URI_TOO_LONG"
    status, _, body = parse_answer(raw_exchange(aa_emulator.url, b"GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 400 and set(json.loads(body)) == {"code", "message", "details"}
    status, _, body = parse_answer(raw_exchange(aa_emulator.url, b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert status == 501 and json.loads(body)["code"] == "NOT_IMPLEMENTED"
    still_serves(client)


@pytest.fixture
def impatient():
    """An emulator that waits half a second for silent clients."""
    with ControlRoomEmulator(request_read_timeout=0.5) as emulator:
        yield emulator


def test_a_body_shorter_than_its_content_length_is_400_after_the_read_timeout(impatient):
    before = handler_threads()
    started = time.monotonic()
    raw = raw_exchange(impatient.url, request_head("100") + b'{"username"')  # then waits
    status, headers, body = parse_answer(raw)
    assert status == 400 and headers["connection"] == "close" and "Content-Length" in json.loads(body)["message"]
    assert 0.4 < time.monotonic() - started < 3
    assert_threads_end(handler_threads() - before)
    assert Client(impatient.url).login().status_code == 200


def test_a_client_that_sends_nothing_is_let_go(impatient):
    before = handler_threads()
    with socket.create_connection(address(impatient.url), timeout=TIMEOUT) as silent:
        started = time.monotonic()
        assert silent.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 3
    assert_threads_end(handler_threads() - before)


def test_an_idle_keep_alive_connection_is_closed_and_the_client_reconnects(impatient):
    client = Client(impatient.url)
    assert client.login().status_code == 200
    time.sleep(0.8)  # the server closes the idle connection
    assert client.call("GET", QUEUE).status_code == 200


def test_the_read_timeout_must_be_positive():
    for timeout in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            ControlRoomEmulator(request_read_timeout=timeout)
