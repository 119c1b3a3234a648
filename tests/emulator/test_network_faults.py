"""The ``drip`` and ``oversized`` faults: answers that trickle in, and answers far too big."""

from __future__ import annotations

import json
import socket
import threading
import time
import zlib
from pathlib import Path

import pytest
import requests

from automation_anywhere_emulator import ControlRoomEmulator
from tests.emulator.conftest import TIMEOUT, Client, address, assert_threads_end, handler_threads, parse_answer

QUEUE = "/v3/wlm/queues/20"
ITEMS = "/v3/wlm/queues/20/workitems"


@pytest.fixture(autouse=True)
def hold_the_bot(aa_emulator):
    aa_emulator.configure(pause_bot=True)


def get_raw(url: str, path: str, token: str, timeout: float = TIMEOUT) -> tuple[bytes, float]:
    """One GET on a fresh connection; the whole answer (by its Content-Length) and the seconds it took."""
    started = time.monotonic()
    with socket.create_connection(address(url), timeout=timeout) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Authorization: {token}\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received or len(received) < expected_length(received):
            chunk = connection.recv(65536)
            assert chunk, "the server closed before the whole answer"
            received += chunk
    return received, time.monotonic() - started


def expected_length(received: bytes) -> int:
    head = received.partition(b"\r\n\r\n")[0]
    return len(head) + 4 + int(parse_answer(received)[1]["content-length"])


def vm_rss() -> int:
    """This process's resident memory in bytes (the emulator's threads run here)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


# -- drip --------------------------------------------------------------------------------------


def test_drip_sends_the_whole_answer_at_the_rate(aa_emulator, client):
    aa_emulator.faults.add("drip", path=f"{QUEUE}$", bytes_per_second=400)
    raw, seconds = get_raw(aa_emulator.url, QUEUE, client.token)
    status, headers, body = parse_answer(raw)
    assert status == 200 and json.loads(body)["id"] == "20" and int(headers["content-length"]) == len(body)
    assert seconds >= len(raw) / 400 * 0.95  # ~300 bytes: about 0.75 s
    assert aa_emulator.request_log.entries()[-1]["fault"] == "drip"
    started = time.monotonic()
    assert client.call("GET", QUEUE).status_code == 200  # used up: fast again
    assert time.monotonic() - started < 0.2


def test_a_read_timeout_does_not_fire_while_bytes_keep_coming(aa_emulator, client):
    aa_emulator.faults.add("drip", path="/workitems$", bytes_per_second=600)
    started = time.monotonic()
    answer = client.call("POST", ITEMS, json={"workItems": [{"json": {"a": "x"}}]}, timeout=0.3)
    assert answer.status_code == 200 and time.monotonic() - started > 0.6  # ~550 bytes, 30 every 50 ms
    assert len(aa_emulator.work_items(20)) == 1


def test_drip_commits_before_answering(aa_emulator, client):
    aa_emulator.faults.add("drip", path="/workitems$", bytes_per_second=1)
    body = json.dumps({"workItems": [{"json": {"a": "x"}}]})
    with socket.create_connection(address(aa_emulator.url), timeout=TIMEOUT) as connection:
        connection.sendall(
            f"POST {ITEMS} HTTP/1.1\r\nHost: x\r\nX-Authorization: {client.token}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
        )
        assert connection.recv(10) == b"H"  # a second later: the client gives up
    assert len(aa_emulator.work_items(20)) == 1


def test_drip_without_commit_is_a_slow_503_and_not_processed(aa_emulator, client):
    aa_emulator.faults.add("drip", path="/workitems$", bytes_per_second=2000, commit=False)
    started = time.monotonic()
    answer = client.call("POST", ITEMS, json={"workItems": [{"json": {"a": "x"}}]})
    assert answer.status_code == 503 and answer.json()["code"] == "SERVER_ERROR"
    assert time.monotonic() - started >= 0.1  # ~250 bytes at 2000 per second
    assert aa_emulator.work_items(20) == []


def test_a_client_giving_up_on_a_drip_frees_the_server(aa_emulator, client):
    aa_emulator.faults.add("drip", path=f"{QUEUE}$", bytes_per_second=40)
    before = handler_threads()
    connection = socket.create_connection(address(aa_emulator.url), timeout=TIMEOUT)
    connection.sendall(f"GET {QUEUE} HTTP/1.1\r\nHost: x\r\nX-Authorization: {client.token}\r\n\r\n".encode())
    assert connection.recv(5).startswith(b"H")  # the first write: 2 bytes after 50 ms
    connection.close()
    assert_threads_end(handler_threads() - before)
    assert client.call("GET", QUEUE).status_code == 200


def test_stopping_the_emulator_ends_a_slow_drip():
    with ControlRoomEmulator() as emulator:
        client = Client(emulator.url)
        client.login()
        emulator.faults.add("drip", bytes_per_second=1)
        before = handler_threads()
        connection = socket.create_connection(address(emulator.url), timeout=TIMEOUT)
        connection.sendall(f"GET {QUEUE} HTTP/1.1\r\nHost: x\r\nX-Authorization: {client.token}\r\n\r\n".encode())
        assert connection.recv(1) == b"H"  # after a second
        started = time.monotonic()
    assert_threads_end(handler_threads() - before, timeout=2)
    assert time.monotonic() - started < 2
    connection.close()


# -- oversized ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "length"), [(1000, 1000), (10, 27)])
def test_oversized_is_a_json_object_of_the_size_asked(aa_emulator, client, size, length):
    aa_emulator.faults.add("oversized", bytes=size, path="/workitems$")
    answer = client.call("POST", ITEMS, json={"workItems": [{"json": {"a": "x"}}]})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert int(answer.headers["Content-Length"]) == len(answer.content) == length
    assert answer.json() == {"list": [], "padding": "x" * (length - 27)}
    assert aa_emulator.work_items(20) == []  # not processed
    entry = aa_emulator.request_log.entries()[-1]
    assert entry == {
        "method": "POST",
        "path": ITEMS,
        "status": 200,
        "fault": "oversized",
        "time": pytest.approx(time.time(), abs=60),
    }


def test_oversized_gzip_is_a_bomb(aa_emulator, client):
    aa_emulator.faults.add("oversized", bytes=20 * 2**20, gzip=True, count=2)
    answer = client.call("GET", QUEUE)  # requests unpacks it
    assert answer.headers["Content-Encoding"] == "gzip"
    assert int(answer.headers["Content-Length"]) < 100_000
    assert len(answer.content) == 20 * 2**20 and answer.json()["list"] == []
    raw = client.call("GET", QUEUE, stream=True)
    packed = raw.raw.read(decode_content=False)
    assert len(packed) == int(raw.headers["Content-Length"])
    assert len(zlib.decompress(packed, wbits=31)) == 20 * 2**20


def test_the_default_oversized_answer_is_streamed_not_held(aa_emulator, client):
    """100 MiB by default, 200 MiB asked, and 100 MiB unpacked by gzip: memory stays flat."""
    aa_emulator.faults.add("oversized")
    aa_emulator.faults.add("oversized", bytes=200 * 2**20)
    aa_emulator.faults.add("oversized", gzip=True)
    rss = [vm_rss()]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            rss.append(vm_rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        sizes = []
        for _ in range(3):
            with client.call("GET", QUEUE, stream=True, timeout=30) as answer:
                sizes.append(sum(len(piece) for piece in answer.iter_content(2**20)))
    finally:
        sampling.set()
        sampler.join()
    assert sizes == [100 * 2**20, 200 * 2**20, 100 * 2**20]
    assert max(rss) - rss[0] < 64 * 2**20


def test_a_client_giving_up_on_an_oversized_answer_frees_the_server(aa_emulator, client):
    aa_emulator.faults.add("oversized", bytes=2**34)
    before = handler_threads()
    with socket.create_connection(address(aa_emulator.url), timeout=TIMEOUT) as connection:
        connection.sendall(f"GET {QUEUE} HTTP/1.1\r\nHost: x\r\nX-Authorization: {client.token}\r\n\r\n".encode())
        assert b"Content-Length: 17179869184" in connection.recv(65536)
    assert_threads_end(handler_threads() - before)
    assert client.call("GET", QUEUE).status_code == 200


# -- rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"bytes_per_second": 0},
        {"bytes_per_second": -1},
        {"bytes_per_second": 1e10},
        {"bytes_per_second": float("inf")},
        {"bytes_per_second": "fast"},
        {"commit": "yes"},
        {"bytes": 5},
    ],
)
def test_bad_drip_rules_are_refused(aa_emulator, params):
    with pytest.raises(ValueError):
        aa_emulator.faults.add("drip", **params)


@pytest.mark.parametrize(
    "params",
    [{"bytes": 0}, {"bytes": 2**34 + 1}, {"bytes": 1.5}, {"bytes": True}, {"gzip": 1}, {"bytes_per_second": 1}],
)
def test_bad_oversized_rules_are_refused(aa_emulator, params):
    with pytest.raises(ValueError):
        aa_emulator.faults.add("oversized", **params)


def test_new_kinds_over_http_show_their_defaults(aa_emulator):
    url = f"{aa_emulator.url}/_emulator/faults"
    drip = requests.post(url, json={"kind": "drip"}, timeout=TIMEOUT).json()
    oversized = requests.post(url, json={"kind": "oversized", "gzip": True}, timeout=TIMEOUT).json()
    assert (drip["bytes_per_second"], drip["commit"]) == (1.0, True)
    assert (oversized["bytes"], oversized["gzip"]) == (100 * 2**20, True)
