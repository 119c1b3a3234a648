"""The ``late_commit`` fault: no answer now, the request done ``seconds`` later as if it came then."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime

import pytest
import requests

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig, server
from automation_anywhere_emulator.models import instant
from tests.emulator.conftest import (
    PASSWORD_USER,
    TIMEOUT,
    Client,
    address,
    assert_threads_end,
    handler_threads,
)

ITEMS = "/v3/wlm/queues/20/workitems"


@pytest.fixture
def held_client(clocked_emulator) -> Client:
    clocked_emulator.configure(pause_bot=True)
    client = Client(clocked_emulator.url)
    client.login()
    return client


def seconds_of(text: str) -> float:
    return datetime.fromisoformat(text[:26] + "+00:00").timestamp()


def late_commit_timers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if isinstance(thread, threading.Timer) and thread.is_alive()]


def test_drop_closes_at_once_and_commits_seconds_later_as_if_then(clocked_emulator, clock, held_client):
    clocked_emulator.faults.add("late_commit", method="POST", path="/workitems$", seconds=2)
    arrived = clock.now
    with pytest.raises(requests.ConnectionError):
        held_client.add(20, {"a": "late"})
    assert clocked_emulator.work_items(20) == []
    clock.advance(1)
    on_time = held_client.add(20, {"a": "on time"}).json()["list"][0]
    clock.advance(0.75)
    assert [item["json"]["a"] for item in clocked_emulator.work_items(20)] == ["on time"]
    clock.advance(0.25)
    first, late = clocked_emulator.work_items(20)
    assert first == on_time and on_time["id"] == "40001"
    assert (late["id"], late["json"], late["createdBy"]) == ("40002", {"a": "late"}, "25")  # its id: allocated then
    assert late["createdOn"] == late["updatedOn"] == instant(arrived + 2)
    assert clocked_emulator.counters.statuses() == {"200": 2, "dropped": 1}
    assert clocked_emulator.request_log.entries()[1] == {
        "method": "POST",
        "path": ITEMS,
        "status": None,
        "fault": "late_commit",
        "time": arrived,  # the emulator's clock when the connection was dropped
    }


def test_timeout_says_nothing_until_the_client_gives_up(aa_emulator, client):
    aa_emulator.configure(pause_bot=True)
    aa_emulator.faults.add("late_commit", path="/workitems$", seconds=0.6, answer="timeout")
    impatient = Client(aa_emulator.url)  # a connection of its own: its server thread is new
    impatient.token = client.token
    before = handler_threads()
    arrived = time.time()
    with pytest.raises(requests.ReadTimeout):
        impatient.call("POST", ITEMS, json={"workItems": [{"json": {"a": "late"}}]}, timeout=0.3)
    assert aa_emulator.work_items(20) == []
    assert_threads_end(handler_threads() - before)  # let go when the client hung up, not 60 s later
    deadline = time.monotonic() + 3
    while not aa_emulator.work_items(20) and time.monotonic() < deadline:
        time.sleep(0.05)
    (item,) = aa_emulator.work_items(20)
    assert arrived + 0.55 < seconds_of(item["createdOn"]) < arrived + 1.0
    assert aa_emulator.request_log.entries()[-1]["fault"] == "late_commit"


def test_timeout_closes_after_seconds_and_the_grace_at_most(aa_emulator, client, monkeypatch):
    monkeypatch.setattr(server, "LATE_COMMIT_HOLD", 0.2)
    aa_emulator.faults.add("late_commit", path="/workitems$", seconds=0.3, answer="timeout")
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        client.add(20, {"a": "late"})  # a patient client: 5 s
    assert 0.45 < time.monotonic() - started < 2
    assert len(aa_emulator.work_items(20)) == 1


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v3/wlm/queues/99/workitems", {"workItems": [{"json": {"a": 1}}]}, 404),
        (ITEMS, {"workItems": []}, 400),
        ("/v3/wlm/queues/21/workitems", {"workItems": [{"json": {"payment": "P1"}}]}, 409),
    ],
)
def test_a_refused_request_is_answered_at_once(aa_emulator, client, path, body, status):
    assert client.add(21, {"payment": "P1"}).status_code == 200
    aa_emulator.faults.add("late_commit", path="/workitems$")
    answer = client.call("POST", path, json=body)
    assert answer.status_code == status and set(answer.json()) == {"code", "message", "details"}
    assert aa_emulator.request_log.entries()[-1] == {
        "method": "POST",
        "path": path,
        "status": status,
        "fault": "late_commit",
        "time": pytest.approx(time.time(), abs=60),
    }
    assert aa_emulator.faults.rules() == []  # used up
    assert client.add(20, {"a": 1}).status_code == 200


def test_an_unauthenticated_request_is_refused_at_once(aa_emulator):
    aa_emulator.faults.add("late_commit")
    answer = Client(aa_emulator.url).call("POST", ITEMS, json={"workItems": [{"json": {"a": 1}}]})
    assert answer.status_code == 401


def test_a_commit_due_while_another_is_validated_is_done_for_real(clocked_emulator, clock, held_client):
    clocked_emulator.faults.add("late_commit", count=2, path="/workitems$", seconds=2)
    first_arrived = clock.now
    with pytest.raises(requests.ConnectionError):
        held_client.add(20, {"a": "first"})
    clock.advance(3)
    with pytest.raises(requests.ConnectionError):
        held_client.add(20, {"a": "second"})  # checking it catches up: the first one is done
    assert [(item["json"]["a"], item["createdOn"]) for item in clocked_emulator.work_items(20)] == [
        ("first", instant(first_arrived + 2))
    ]
    clock.advance(2)
    assert [item["json"]["a"] for item in clocked_emulator.work_items(20)] == ["first", "second"]


def test_any_request_can_commit_late(clocked_emulator, clock, held_client):
    item = held_client.add(20, {"a": "x"}).json()["list"][0]
    clocked_emulator.faults.add("late_commit", method="DELETE", seconds=1)
    with pytest.raises(requests.ConnectionError):
        held_client.call("DELETE", f"{ITEMS}/{item['id']}")
    assert len(clocked_emulator.work_items(20)) == 1
    clock.advance(1)
    assert clocked_emulator.work_items(20) == []


def test_a_timer_commits_when_no_request_comes():
    with ControlRoomEmulator(EmulatorConfig(pause_bot=True)) as emulator:
        client = Client(emulator.url)
        client.login()
        emulator.faults.add("late_commit", seconds=0.2)
        with pytest.raises(requests.ConnectionError):
            client.add(20, {"a": "late"})
        time.sleep(0.6)  # nobody asks anything meanwhile
    # Stopped now: a commit still pending would be forgotten.
    assert [item["json"] for item in emulator.work_items(20)] == [{"a": "late"}]


def test_stop_forgets_a_pending_commit_and_its_timer(capfd):
    with ControlRoomEmulator(EmulatorConfig(pause_bot=True)) as emulator:
        client = Client(emulator.url)
        client.login()
        emulator.faults.add("late_commit", seconds=0.3)
        with pytest.raises(requests.ConnectionError):
            client.add(20, {"a": "late"})
        assert late_commit_timers()
    assert_threads_end(set(late_commit_timers()), timeout=1)
    time.sleep(0.5)
    assert emulator.work_items(20) == []
    assert "Traceback" not in capfd.readouterr().err


def test_reset_forgets_a_pending_commit(aa_emulator, client):
    aa_emulator.faults.add("late_commit", seconds=0.2)
    with pytest.raises(requests.ConnectionError):
        client.add(20, {"a": "late"})
    aa_emulator.reset()
    time.sleep(0.4)
    assert aa_emulator.work_items(20) == []


def test_stop_lets_go_of_a_held_connection():
    emulator = ControlRoomEmulator().start()
    try:
        client = Client(emulator.url)
        client.login(PASSWORD_USER)
        emulator.faults.add("late_commit", seconds=30, answer="timeout")
        before = handler_threads()
        connection = socket.create_connection(address(emulator.url), timeout=TIMEOUT)
        request = f"GET /v3/wlm/queues/20 HTTP/1.1\r\nHost: x\r\nX-Authorization: {client.token}\r\n\r\n"
        connection.sendall(request.encode())
        time.sleep(0.2)
    finally:
        started = time.monotonic()
        emulator.stop()
    assert connection.recv(100) == b""  # closed, without an answer
    assert_threads_end(handler_threads() - before, timeout=2)
    assert time.monotonic() - started < 2
    connection.close()


@pytest.mark.parametrize("params", [{"answer": "never"}, {"answer": 1}, {"seconds": -1}, {"seconds": 3601}])
def test_bad_late_commit_rules_are_refused(aa_emulator, params):
    with pytest.raises(ValueError):
        aa_emulator.faults.add("late_commit", **params)


def test_late_commit_over_http_shows_its_defaults(aa_emulator):
    url = f"{aa_emulator.url}/_emulator/faults"
    rule = requests.post(url, json={"kind": "late_commit"}, timeout=TIMEOUT).json()
    assert (rule["seconds"], rule["answer"]) == (2.0, "drop")
    assert requests.post(url, json={"kind": "late_commit", "answer": "x"}, timeout=TIMEOUT).status_code == 400
