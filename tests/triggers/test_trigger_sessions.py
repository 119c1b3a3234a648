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
from airflow.providers.common.compat.sdk import AirflowFailException
from asgiref.sync import async_to_sync

from airflow_provider_aa.control_room.exchange import ApiResponse
from airflow_provider_aa.control_room.session import EVICTION_WINDOW, MAX_EVICTIONS
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor
from airflow_provider_aa.triggers.clients import AsyncControlRoomClient
from tests.triggers.conftest import VirtualTriggerClients
from tests.triggers.test_automation_anywhere import add, first_event, trigger

LOGIN = "POST /v2/authentication"
CONN_ENV = "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT"


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


def waiting_triggers(ids, clients, count):
    return [trigger(ids, deadline_in=86400, poke_interval=60, clients=clients) for _ in range(count)]


def test_a_rotated_password_reaches_waiting_triggers(virtual_emulator, virtual_time, monkeypatch):
    """The password changes in the Control Room and in the connection while triggers wait."""
    clients = VirtualTriggerClients(virtual_time, connection_refresh=86400)  # only a refused login re-reads
    virtual_emulator.configure(pause_bot=True)
    ids = add({"n": 1})
    virtual_emulator.counters.reset()

    async def rotate_while_waiting():
        waiting = asyncio.gather(*(first_event(t) for t in waiting_triggers(ids, clients, 20)))
        await virtual_time.sleep(90)  # between the polls at 60 and 120 s
        virtual_emulator.set_password("bot_runner", "Rotated-Passw0rd!")
        change_connection(monkeypatch, password="Rotated-Passw0rd!")
        virtual_emulator.evict("bot_runner")  # the old session ends: the next call needs a login
        await virtual_time.sleep(60)
        virtual_emulator.configure(pause_bot=False)
        return await waiting

    events = asyncio.run(rotate_while_waiting())
    assert all(event["status"] == "done" for event in events), events[0]
    # The first login, one refused attempt with the old password, one login with the new one.
    assert virtual_emulator.counters.requests(LOGIN) == 3
    assert virtual_emulator.counters.logins("bot_runner") == 2


def test_a_changed_connection_is_picked_up_between_readings(virtual_emulator, virtual_time, monkeypatch):
    """Switching the connection to another user (an API key) needs no refused login to be seen."""
    clients = VirtualTriggerClients(virtual_time, connection_refresh=100)
    virtual_emulator.configure(pause_bot=True)
    ids = add({"n": 1})
    virtual_emulator.counters.reset()

    async def switch_while_waiting():
        waiting = asyncio.gather(*(first_event(t) for t in waiting_triggers(ids, clients, 10)))
        await virtual_time.sleep(90)
        monkeypatch.setenv(CONN_ENV, virtual_emulator.connection_env_value("api_key"))
        await virtual_time.sleep(150)  # the connection is read again at the poll at 120 s
        virtual_emulator.configure(pause_bot=False)
        return await waiting

    events = asyncio.run(switch_while_waiting())
    assert all(event["status"] == "done" for event in events)
    assert virtual_emulator.counters.logins("bot_runner") == 1
    assert virtual_emulator.counters.logins("api_user") == 1


def test_a_busy_spell_of_evictions_fails_its_wait_alone_and_later_waits_succeed(
    virtual_emulator, virtual_clients, virtual_time
):
    """Another holder of the user logs in again and again during one wait, then stops."""
    virtual_emulator.configure(pause_bot=True)
    ids = add({"n": 1})

    async def evicted_then_quiet():
        polling = trigger(ids, deadline_in=86400, poke_interval=10, clients=virtual_clients)
        first = asyncio.ensure_future(first_event(polling))
        await virtual_time.sleep(5)
        for _ in range(MAX_EVICTIONS):
            virtual_emulator.evict("bot_runner")  # the next poll meets an ended session
            await virtual_time.sleep(10)
        ended = await first
        await virtual_time.sleep(EVICTION_WINDOW)
        virtual_emulator.configure(pause_bot=False)
        later = trigger(ids, deadline_in=86400, poke_interval=60, clients=virtual_clients)
        return ended, await first_event(later)

    ended, later = asyncio.run(evicted_then_quiet())
    assert ended["status"] == "error" and ended["fatal"], ended
    assert "UM1114" in ended["message"] and "multiple_login" in ended["message"]
    assert later["status"] == "done", later


@pytest.mark.parametrize("offset", [-3600.0, -300.0, 300.0, 3600.0])
def test_a_control_room_clock_far_from_ours_costs_no_extra_logins(
    virtual_emulator, virtual_clients, virtual_time, offset
):
    virtual_emulator.configure(clock_offset=offset, token_lifetime=1200, pause_bot=True)
    ids = add({"n": 1})
    virtual_emulator.counters.reset()

    async def wait_a_while():
        waiting = asyncio.gather(*(first_event(t) for t in waiting_triggers(ids, virtual_clients, 20)))
        await virtual_time.sleep(900)  # 15 polls, within the first token's life
        virtual_emulator.configure(pause_bot=False)
        return await waiting

    events = asyncio.run(wait_a_while())
    assert all(event["status"] == "done" for event in events)
    assert virtual_emulator.counters.logins() == 1 and virtual_emulator.counters.refreshes() == 0


class RecordingComms:
    """The triggerer's channel to its supervisor: the sync path fails inside the event loop
    (as it does in tasks without a greenback portal) and runs the async one from a thread,
    the async path records."""

    def __init__(self):
        self.masked: list[str] = []

    def send(self, message):
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # off the event loop, Airflow 3.1's and 3.2's channel runs asend on it
            return async_to_sync(self.asend)(message)
        raise RuntimeError("sync SDK call from the event loop")

    async def asend(self, message):
        if type(message).__name__ == "MaskSecret":
            self.masked.append(message.value)


def test_renewed_tokens_reach_the_supervisors_masker_through_the_async_path(
    virtual_emulator, virtual_clients, monkeypatch
):
    from airflow.sdk.execution_time import task_runner

    comms = RecordingComms()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", comms, raising=False)
    sent: set[str] = set()
    original_send = AsyncControlRoomClient._send

    async def recording_send(self, request):
        sent.add(request.headers.get("X-Authorization", ""))
        return await original_send(self, request)

    monkeypatch.setattr(AsyncControlRoomClient, "_send", recording_send)
    virtual_emulator.configure(token_lifetime=1200, pickup_delay=60, work_delay=3000)  # two renewals
    ids = add({"n": 1})
    event = asyncio.run(first_event(trigger(ids, deadline_in=86400, poke_interval=600, clients=virtual_clients)))
    assert event["status"] == "done"
    tokens = sent - {""}
    assert len(tokens) >= 3  # the first token and the renewed ones
    assert tokens <= {value for value in comms.masked if isinstance(value, str)}


def test_a_token_the_control_room_echoes_in_an_error_is_masked_in_the_event(
    virtual_emulator, virtual_clients, monkeypatch
):
    """The event reaches a worker (and the metadata database) that never saw the triggerer's tokens."""
    original_send = AsyncControlRoomClient._send
    echoed: list[str] = []

    async def echoing_send(self, request):
        token = request.headers.get("X-Authorization", "")
        if not request.path.endswith("/workitems/list") or not token:
            return await original_send(self, request)
        echoed.append(token)
        body = json.dumps({"code": "BAD_FILTER", "message": f"Cannot read the filter sent with token {token}"})
        return ApiResponse(400, {"Content-Type": "application/json"}, body.encode())

    monkeypatch.setattr(AsyncControlRoomClient, "_send", echoing_send)
    ids = add({"n": 1})
    event = asyncio.run(first_event(trigger(ids, deadline_in=3600, poke_interval=60, clients=virtual_clients)))
    assert event["status"] == "error" and "Cannot read the filter sent with token ***" in event["message"]
    assert echoed and echoed[0] not in event["message"]
