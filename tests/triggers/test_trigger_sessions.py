"""
The triggerer's shared sessions under real conditions, against the emulator: refused logins,
a connection changed while triggers wait, a Control Room clock far from ours, and renewed
tokens masked through the masker's async path.
"""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from airflow_provider_aa.airflow_compat import AirflowFailException
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor
from airflow_provider_aa.triggers import automation_anywhere as triggers
from tests.triggers.test_automation_anywhere import add, first_event, trigger

LOGIN = "POST /v2/authentication"
CONN_ENV = "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    aa_emulator.configure(pickup_delay=0.2, work_delay=0.3)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def change_connection(monkeypatch, **changes):
    fields = json.loads(os.environ[CONN_ENV])
    fields.update(changes)
    monkeypatch.setenv(CONN_ENV, json.dumps(fields))


async def all_events(triggers_):
    return await asyncio.gather(*(first_event(t) for t in triggers_))


def test_a_refused_login_costs_one_attempt_for_a_hundred_triggers_and_fails_them_for_good(emulator, monkeypatch):
    ids = add({"n": 1})
    change_connection(monkeypatch, password="Wrong-Passw0rd!")
    emulator.counters.reset()
    events = asyncio.run(all_events([trigger(ids) for _ in range(100)]))
    assert emulator.counters.requests(LOGIN) == 1
    assert all(event["status"] == "error" and event["fatal"] for event in events)
    assert "Login refused" in events[0]["message"]
    sensor = AutomationAnywhereWorkItemSensor(task_id="wait", queue_id=20, work_item_ids=ids)
    with pytest.raises(AirflowFailException, match="Login refused"):  # no retries: no more attempts
        sensor.execute_complete({}, events[0])


def test_a_rotated_password_reaches_waiting_triggers(emulator, monkeypatch):
    """The password changes in the Control Room and in the connection while triggers wait."""
    monkeypatch.setattr(triggers, "CONNECTION_REFRESH", 3600.0)  # only a refused login re-reads
    emulator.configure(pause_bot=True, token_lifetime=3)
    ids = add({"n": 1})
    emulator.counters.reset()

    async def rotate_while_waiting():
        waiting = asyncio.gather(*(first_event(trigger(ids, poke_interval=0.5)) for _ in range(20)))
        await asyncio.sleep(1.0)
        emulator.set_password("bot_runner", "Rotated-Passw0rd!")
        change_connection(monkeypatch, password="Rotated-Passw0rd!")
        emulator.evict("bot_runner")  # the old session ends: the next call needs a login
        await asyncio.sleep(1.5)
        emulator.configure(pause_bot=False)
        return await waiting

    events = asyncio.run(rotate_while_waiting())
    assert all(event["status"] == "done" for event in events), events[0]
    # The first login, one refused attempt with the old password, one login with the new one.
    assert emulator.counters.requests(LOGIN) == 3
    assert emulator.counters.logins("bot_runner") == 2


def test_a_changed_connection_is_picked_up_between_readings(emulator, monkeypatch):
    """Switching the connection to another user (an API key) needs no refused login to be seen."""
    monkeypatch.setattr(triggers, "CONNECTION_REFRESH", 0.5)
    emulator.configure(pause_bot=True)
    ids = add({"n": 1})
    emulator.counters.reset()

    async def switch_while_waiting():
        waiting = asyncio.gather(*(first_event(trigger(ids, poke_interval=0.3)) for _ in range(10)))
        await asyncio.sleep(1.0)
        monkeypatch.setenv(CONN_ENV, emulator.connection_env_value("api_key"))
        await asyncio.sleep(1.5)
        emulator.configure(pause_bot=False)
        return await waiting

    events = asyncio.run(switch_while_waiting())
    assert all(event["status"] == "done" for event in events)
    assert emulator.counters.logins("bot_runner") == 1 and emulator.counters.logins("api_user") == 1


@pytest.mark.parametrize("offset", [-3600.0, -300.0, 300.0, 3600.0])
def test_a_control_room_clock_far_from_ours_costs_no_extra_logins(emulator, offset):
    emulator.configure(clock_offset=offset, token_lifetime=20, pause_bot=True)
    ids = add({"n": 1})
    emulator.counters.reset()

    async def wait_a_while():
        waiting = [asyncio.ensure_future(first_event(trigger(ids, poke_interval=0.5))) for _ in range(20)]
        await asyncio.sleep(3.0)
        emulator.configure(pause_bot=False)
        return await asyncio.gather(*waiting)

    events = asyncio.run(wait_a_while())
    assert all(event["status"] == "done" for event in events)
    assert emulator.counters.logins() == 1 and emulator.counters.refreshes() == 0


class RecordingComms:
    """The triggerer's channel to its supervisor: the sync path fails inside the event loop
    (as it does in tasks without a greenback portal), the async path records."""

    def __init__(self):
        self.masked: list[str] = []

    def send(self, message):
        raise RuntimeError("sync SDK call from the event loop")

    async def asend(self, message):
        if type(message).__name__ == "MaskSecret":
            self.masked.append(message.value)


def test_renewed_tokens_reach_the_supervisors_masker_through_the_async_path(emulator, monkeypatch):
    from airflow.sdk.execution_time import task_runner

    comms = RecordingComms()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", comms, raising=False)
    sent: set[str] = set()
    original_send = triggers.AsyncControlRoomClient._send

    async def recording_send(self, request):
        sent.add(request.headers.get("X-Authorization", ""))
        return await original_send(self, request)

    monkeypatch.setattr(triggers.AsyncControlRoomClient, "_send", recording_send)
    emulator.configure(token_lifetime=6, pickup_delay=1.0, work_delay=6.0)  # one renewal
    ids = add({"n": 1})
    event = asyncio.run(first_event(trigger(ids, poke_interval=0.5)))
    assert event["status"] == "done"
    tokens = sent - {""}
    assert len(tokens) >= 2  # the first token and at least one renewed one
    assert tokens <= {value for value in comms.masked if isinstance(value, str)}
