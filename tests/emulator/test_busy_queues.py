"""``busy_queues``: other producers adding items to a queue at a rate, among ours."""

from __future__ import annotations

import time

import pytest
import requests

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from automation_anywhere_emulator.models import OTHER_PRODUCER, instant
from tests.emulator.conftest import TIMEOUT, Client


def others(items: list[dict]) -> list[dict]:
    return [item for item in items if item["json"].get("producer") == "other"]


def test_items_come_at_the_rate_interleaved_with_ours(clocked_emulator, clock):
    clocked_emulator.configure(busy_queues={"20": 20.0}, pause_bot=True)
    started = clock.now
    client = Client(clocked_emulator.url)
    client.login()
    clock.advance(0.5)
    ours = client.add(20, {"mine": "yes"}).json()["list"][0]
    clock.advance(0.5)
    items = clocked_emulator.work_items(20)
    assert [item["id"] for item in items] == [str(40001 + n) for n in range(21)]  # ids: creation order
    assert ours["id"] == "40011"  # after the ten made by then (the tenth at the very moment)
    made = others(items)
    assert [item["json"] for item in made] == [{"producer": "other", "n": k} for k in range(1, 21)]
    assert [item["createdOn"] for item in made] == [instant(started + k / 20) for k in range(1, 21)]
    assert {item["createdBy"] for item in made} == {str(OTHER_PRODUCER)}
    assert {item["status"] for item in made} == {"NEW"}


def test_in_real_time(aa_emulator):
    aa_emulator.configure(busy_queues={"22": 20.0}, pause_bot=True)
    time.sleep(1.0)
    assert 17 <= len(aa_emulator.work_items(22)) <= 25
    assert aa_emulator.work_items(20) == []


def test_queues_interleave_by_time(clocked_emulator, clock):
    clocked_emulator.configure(busy_queues={"20": 4.0, 22: 3.0}, pause_bot=True)
    assert clocked_emulator.config.busy_queues == {"20": 4.0, "22": 3.0}
    clock.advance(1)
    items = clocked_emulator.work_items(20) + clocked_emulator.work_items(22)
    by_id = sorted(items, key=lambda item: int(item["id"]))
    assert [item["createdOn"] for item in by_id] == sorted(item["createdOn"] for item in items)
    assert (len(clocked_emulator.work_items(20)), len(clocked_emulator.work_items(22))) == (4, 3)
    assert [item["queueId"] for item in by_id[-2:]] == ["20", "22"]  # both at 1.0 s: by queue id


def test_the_bot_works_them_and_a_removed_key_stops_them(clocked_emulator, clock):
    clocked_emulator.configure(busy_queues={"22": 2.0})
    clock.advance(1)
    clocked_emulator.configure(busy_queues={})
    clock.advance(5)
    items = clocked_emulator.work_items(22)
    assert [(item["json"]["n"], item["status"], item["result"]) for item in items] == [
        (1, "COMPLETED", "Processed by emulated bot"),
        (2, "COMPLETED", "Processed by emulated bot"),
    ]


def test_rate_zero_stops_and_a_new_rate_starts_from_its_setting(clocked_emulator, clock):
    clocked_emulator.configure(busy_queues={"20": 10.0}, pause_bot=True)
    clock.advance(1)
    clocked_emulator.configure(busy_queues={"20": 0})
    clock.advance(10)
    assert len(clocked_emulator.work_items(20)) == 10
    restarted = clock.now
    clocked_emulator.configure(busy_queues={"20": 1.0})
    clock.advance(1)
    last = clocked_emulator.work_items(20)[-1]
    assert (last["json"]["n"], last["createdOn"]) == (11, instant(restarted + 1))  # n goes on
    clocked_emulator.configure(busy_queues={"20": 1.0})  # the same rate again: nothing restarts
    clock.advance(0.5)
    clocked_emulator.configure(busy_queues={"20": 1})
    clock.advance(0.5)
    assert len(clocked_emulator.work_items(20)) == 12


def test_reset_goes_back_to_the_start_up_setting(aa_emulator):
    aa_emulator.configure(busy_queues={"20": 1000.0}, pause_bot=True)
    time.sleep(0.05)
    assert aa_emulator.work_items(20)
    aa_emulator.reset()
    time.sleep(0.05)
    assert aa_emulator.config.busy_queues == {} and aa_emulator.work_items(20) == []


def test_a_start_up_setting_starts_with_the_emulator(clock):
    with ControlRoomEmulator(EmulatorConfig(busy_queues={"21": 2.0}, pause_bot=True), clock=clock) as emulator:
        started = clock.now
        clock.advance(1)
        assert [item["createdOn"] for item in emulator.work_items(21)] == [instant(started + 0.5), instant(started + 1)]
    with pytest.raises(ValueError, match="no queue 99"):
        ControlRoomEmulator(EmulatorConfig(busy_queues={"99": 1.0}))


def test_over_http(aa_emulator):
    url = f"{aa_emulator.url}/_emulator/config"
    answer = requests.post(url, json={"busy_queues": {"20": 50}, "pause_bot": True}, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.json()["busy_queues"] == {"20": 50}
    assert requests.get(url, timeout=TIMEOUT).json()["busy_queues"] == {"20": 50}
    refused = requests.post(url, json={"busy_queues": {"99": 5}}, timeout=TIMEOUT)
    assert refused.status_code == 400 and "99" in refused.json()["message"]
    assert aa_emulator.config.busy_queues == {"20": 50}  # unchanged by the refusal


@pytest.mark.parametrize(
    "value",
    [
        {"20": -1},
        {"20": 100_001},
        {"20": float("nan")},
        {"20": float("inf")},
        {"20": "fast"},
        {"20": True},
        {"twenty": 1},
        {"-20": 1},
        {True: 1},
        ["20"],
    ],
)
def test_bad_settings_are_refused(value):
    with pytest.raises((TypeError, ValueError)):
        EmulatorConfig(busy_queues=value)


def test_the_setting_is_a_copy():
    rates = {"20": 1.0}
    config = EmulatorConfig(busy_queues=rates)
    rates["20"] = 1e9
    assert config.busy_queues == {"20": 1.0} and EmulatorConfig(busy_queues={"20": 100_000}).busy_queues
