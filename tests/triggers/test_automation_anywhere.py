"""The trigger against the emulator: events, deadline, retries, renewal, sharing at scale."""

from __future__ import annotations

import asyncio
import time

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

from airflow_provider_aa.control_room.statuses import WORK_ITEM_FAILURE_STATUSES, WORK_ITEM_RUNNING_STATUSES
from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereWorkItemTrigger
from airflow_provider_aa.triggers.clients import LOOKUP_WINDOW
from tests.triggers.conftest import VirtualTriggerClients, add, sensor_for

LIST = "POST /v3/wlm/queues/{queueId}/workitems/list"


def trigger(ids, *, pending=WORK_ITEM_RUNNING_STATUSES, deadline_in=30.0, poke_interval=0.2, clients=None, **kwargs):
    """A work item trigger on queue 20; on virtual time when ``clients`` is the ``virtual_clients`` fixture."""
    now = clients.clock() if clients else time.time()
    return AutomationAnywhereWorkItemTrigger(
        automation_anywhere_conn_id="automation_anywhere_default",
        queue_id="20",
        work_item_ids=list(ids),
        pending_statuses=list(pending),
        failure_statuses=list(WORK_ITEM_FAILURE_STATUSES),
        deadline=now + deadline_in,
        poke_interval=poke_interval,
        clients=clients,
        **kwargs,
    )


async def first_event(trigger_):
    async for event in trigger_.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


def test_serialize_round_trip_is_plain_json():
    original = trigger(["1", "2"], exponential_backoff=True, max_poke_interval=60.0)
    path, kwargs = original.serialize()
    assert path == "airflow_provider_aa.triggers.automation_anywhere.AutomationAnywhereWorkItemTrigger"
    import json

    restored = AutomationAnywhereWorkItemTrigger(**json.loads(json.dumps(kwargs)))
    assert restored.serialize() == (path, kwargs)


def test_success_event_carries_the_items_and_resumes_like_a_poke(emulator):
    ids = add({"n": 1}, {"n": 2})
    event = asyncio.run(first_event(trigger(ids)))
    assert event["status"] == "done"
    assert {item["status"] for item in event["items"].values()} == {"COMPLETED"}
    assert sensor_for(ids).execute_complete({}, event) == event["items"]


@pytest.mark.parametrize(
    ("data", "message"),
    [({"n": "FAIL"}, "status FAILED: Emulated bot failure"), ({"n": "STATUS:DATA_ERROR"}, "status DATA_ERROR")],
)
def test_failure_event_fails_the_task_like_a_poke(emulator, data, message):
    ids = add({"n": "fine"}, data)
    event = asyncio.run(first_event(trigger(ids)))
    assert event["status"] == "done"
    with pytest.raises(AirflowFailException, match=f"id {ids[1]}: {message}"):
        sensor_for(ids).execute_complete({}, event)


def test_a_missing_id_ends_the_wait_and_fails_naming_it(emulator):
    ids = [*add({"n": 1}), "99999999"]
    event = asyncio.run(first_event(trigger(ids)))
    with pytest.raises(AirflowFailException, match="no work item with id 99999999"):
        sensor_for(ids).execute_complete({}, event)


def list_times(emulator):
    """When the emulator received each status look-up, on its (virtual) clock."""
    return [entry["time"] for entry in emulator.request_log.entries() if entry["path"].endswith("/workitems/list")]


@pytest.mark.parametrize("status", ["ON_HOLD", "BRAND_NEW_STATUS"])
def test_held_and_unknown_statuses_wait_until_the_deadline(virtual_emulator, virtual_clients, virtual_time, status):
    ids = add({"n": f"STATUS:{status}"})
    start = virtual_time()
    virtual_emulator.counters.reset()
    event = asyncio.run(first_event(trigger(ids, deadline_in=3600, poke_interval=600, clients=virtual_clients)))
    assert event["status"] == "timeout" and ids[0] in event["message"]
    # A poll at once, then one on each 10-minute tick, the last one at the deadline itself.
    assert list_times(virtual_emulator)[-7:] == [start + 600 * n for n in range(7)]
    assert virtual_time() == start + 3600
    with pytest.raises(AirflowSensorTimeout, match="Timed out waiting"):
        sensor_for(ids).execute_complete({}, event)


def test_exponential_backoff_doubles_the_interval_up_to_its_cap(virtual_emulator, virtual_clients, virtual_time):
    virtual_emulator.configure(pause_bot=True)
    ids = add({"n": 1})
    start = virtual_time()
    virtual_emulator.request_log.clear()
    waiting = trigger(
        ids,
        deadline_in=3000,
        poke_interval=60,
        exponential_backoff=True,
        max_poke_interval=480,
        clients=virtual_clients,
    )
    event = asyncio.run(first_event(waiting))
    assert event["status"] == "timeout"
    # Each sleep ends on the next tick of the interval in force: 60, 120, 240, then 480 s
    # (the cap); the last poll is at the deadline.
    polls = [t - start for t in list_times(virtual_emulator)]
    assert polls == [0, 60, 120, 240, 480, 960, 1440, 1920, 2400, 2880, 3000]


def test_transient_errors_are_retried_like_the_hook(emulator, monkeypatch):
    monkeypatch.setattr("airflow_provider_aa.control_room.session.RetryPolicy.initial_delay", 0.05)
    ids = add({"n": 1})
    emulator.faults.add("server_error", count=2, path="/workitems/list", status=503)
    emulator.faults.add("rate_limit", count=1, path="/workitems/list", retry_after=0)
    event = asyncio.run(first_event(trigger(ids)))
    assert event["status"] == "done"
    assert emulator.counters.statuses()["503"] == 2 and emulator.counters.statuses()["429"] == 1


def test_failures_become_error_events(emulator, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT",
        f'{{"conn_type": "automation_anywhere", "host": "{emulator.url}", "login": "bot_runner", "password": "wrong-password"}}',
    )
    event = asyncio.run(first_event(trigger(["1"])))
    assert event["status"] == "error" and "Login refused for user 'bot_runner'" in event["message"]
    assert "wrong-password" not in event["message"]
    with pytest.raises(Exception, match="Waiting for work items failed in the triggerer: Login refused"):
        sensor_for(["1"]).execute_complete({}, event)


def test_token_is_renewed_while_deferred(virtual_emulator, virtual_clients):
    # 20-minute tokens, polls 30 minutes apart, a bot that takes 2 hours: each token must be
    # renewed between polls, or a poll would find it expired and need a new login.
    virtual_emulator.configure(token_lifetime=1200, pickup_delay=60, work_delay=7200)
    ids = add({"n": 1})
    virtual_emulator.counters.reset()
    event = asyncio.run(first_event(trigger(ids, deadline_in=86400, poke_interval=1800, clients=virtual_clients)))
    assert event["status"] == "done"
    assert virtual_emulator.counters.logins() == 1 and virtual_emulator.counters.refreshes() >= 6
    assert virtual_emulator.counters.statuses().get("401", 0) == 0


def test_a_thousand_triggers_share_one_login_and_ten_requests_per_round(virtual_emulator, virtual_time):
    # The look-up window as in the triggerer: triggers whose polls fall on one tick share requests.
    clients = VirtualTriggerClients(virtual_time, lookup_window=LOOKUP_WINDOW)
    virtual_emulator.configure(pause_bot=True, pickup_delay=0.0)
    ids = add(*({"n": n} for n in range(1000)))
    virtual_emulator.counters.reset()

    async def wait_for_all():
        with virtual_time.frozen():  # round 1 at the start; round 2 only once the bot is back
            triggers = [
                trigger([item_id], pending=["NEW"], deadline_in=3600, poke_interval=60, clients=clients)
                for item_id in ids
            ]
            waiting = asyncio.gather(*(first_event(t) for t in triggers))
            while virtual_emulator.counters.requests(LIST) < 10:
                await asyncio.sleep(0.05)  # until round 1 has been answered: every item was seen NEW
            virtual_emulator.configure(pause_bot=False)  # the bot picks all up: round 2 ends every wait
        return await waiting

    events = asyncio.run(wait_for_all())

    assert [event["status"] for event in events] == ["done"] * 1000
    assert virtual_emulator.counters.logins() == 1
    assert virtual_emulator.counters.requests(LIST) == 2 * 10  # 2 rounds x 1,000 ids / 100 per request
