"""The emulated bot: transitions over time, outcome rules, rate limit and pause."""

from __future__ import annotations

import time

import pytest

from automation_anywhere_emulator.bot_runner import outcome
from automation_anywhere_emulator.models import instant
from tests.emulator.conftest import Client


@pytest.fixture
def bot_client(clocked_emulator) -> Client:
    client = Client(clocked_emulator.url)
    client.login()
    return client


def statuses(emulator, queue_id=20):
    return [item["status"] for item in emulator.work_items(queue_id)]


def test_new_active_completed_on_schedule(clocked_emulator, clock, bot_client):
    created_at = clock.now
    item = bot_client.add(20, {"name": "ok"}).json()["list"][0]
    path = f"/v3/wlm/queues/20/workitems/{item['id']}"
    clock.advance(0.99)
    assert bot_client.call("GET", path).json()["status"] == "NEW"
    clock.advance(0.01)
    active = bot_client.call("GET", path).json()
    assert (active["status"], active["version"], active["deviceId"], active["updatedBy"]) == (
        "ACTIVE",
        "1",
        "101",
        "29",
    )
    assert active["jobExecutionId"] and active["updatedOn"] == instant(created_at + 1)
    clock.advance(5)
    done = bot_client.call("GET", path).json()
    assert (done["status"], done["result"], done["error"], done["version"]) == (
        "COMPLETED",
        "Processed by emulated bot",
        "",
        "2",
    )
    assert done["updatedOn"] == instant(created_at + 2)  # when the bot finished, not when we looked


@pytest.mark.parametrize(
    ("data", "status", "result", "error"),
    [
        ({"a": "fine"}, "COMPLETED", "Processed by emulated bot", ""),
        ({"a": "fine", "note": "please FAIL me"}, "FAILED", "", "Emulated bot failure: note contains FAIL"),
        ({"a": "STATUS:ON_HOLD"}, "ON_HOLD", "", ""),
        ({"a": "STATUS:DATA_ERROR"}, "DATA_ERROR", "", "Emulated bot set status DATA_ERROR: a is STATUS:DATA_ERROR"),
        ({"a": "STATUS:WEIRD_NEW_STATE"}, "WEIRD_NEW_STATE", "", ""),
        ({"a": "STATUS:FAILED"}, "FAILED", "", "Emulated bot set status FAILED: a is STATUS:FAILED"),
        ({"a": "FAIL", "b": "STATUS:SUCCESSFUL"}, "SUCCESSFUL", "Processed by emulated bot", ""),
        ({"n": 5, "nested": {"x": "FAIL"}}, "COMPLETED", "Processed by emulated bot", ""),  # top-level strings only
    ],
)
def test_outcome_rules(data, status, result, error):
    end = outcome(data)
    assert (end.status, end.result, end.error) == (status, result, error)


def test_outcomes_over_http(clocked_emulator, clock, bot_client):
    bot_client.add(20, {"a": "x"}, {"a": "FAILING"}, {"a": "STATUS:ON_HOLD"})
    clock.advance(1.5)
    assert statuses(clocked_emulator) == ["ACTIVE"] * 3
    clock.advance(1)
    assert statuses(clocked_emulator) == ["COMPLETED", "FAILED", "ON_HOLD"]


def test_bot_rate_takes_items_oldest_first(clocked_emulator, clock, bot_client):
    clocked_emulator.configure(bot_rate=2.0, work_delay=100)
    bot_client.add(20, *({"n": n} for n in range(5)))
    clock.advance(1.0)
    assert statuses(clocked_emulator) == ["ACTIVE", "NEW", "NEW", "NEW", "NEW"]
    clock.advance(1.0)
    assert statuses(clocked_emulator) == ["ACTIVE", "ACTIVE", "ACTIVE", "NEW", "NEW"]


def test_pause_holds_items_and_paused_time_does_not_count(clocked_emulator, clock, bot_client):
    clocked_emulator.configure(pause_bot=True)
    bot_client.add(20, {"a": "x"})
    clock.advance(10)
    assert statuses(clocked_emulator) == ["NEW"]
    clocked_emulator.configure(pause_bot=False)
    clock.advance(0.5)
    assert statuses(clocked_emulator) == ["NEW"]
    clock.advance(0.5)
    assert statuses(clocked_emulator) == ["ACTIVE"]


def test_update_to_new_requeues_and_manual_status_stops_the_bot(clocked_emulator, clock, bot_client):
    # FAILED once (a COMPLETED item may not be re-queued, see emulator.status_rules)
    first, _second = bot_client.add(20, {"a": "FAIL_ONCE"}, {"a": "y"}).json()["list"]
    clock.advance(5)
    done = clocked_emulator.work_items(20)[0]
    requeued = bot_client.call(
        "PUT", f"/v3/wlm/queues/20/workitems/{first['id']}", json={"version": done["version"], "status": "NEW"}
    )
    assert requeued.json()["status"] == "NEW"
    clock.advance(2)
    assert statuses(clocked_emulator)[0] == "COMPLETED"

    third = bot_client.add(20, {"a": "z"}).json()["list"][0]
    bot_client.call("PUT", f"/v3/wlm/queues/20/workitems/{third['id']}", json={"version": "0", "status": "ON_HOLD"})
    clock.advance(10)
    assert statuses(clocked_emulator)[2] == "ON_HOLD"


def test_real_time_with_short_delays(aa_emulator, client):
    aa_emulator.configure(pickup_delay=0.05, work_delay=0.05)
    client.add(20, {"a": "x"})
    deadline = time.monotonic() + 3
    while statuses(aa_emulator) != ["COMPLETED"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert statuses(aa_emulator) == ["COMPLETED"]
