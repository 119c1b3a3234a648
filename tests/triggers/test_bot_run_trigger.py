"""The bot run trigger against the emulator: events, late activity, policy, deadline, sharing."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

from airflow_provider_aa.control_room.bots import BotRunCheck, BotRunPolicy
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereBotRunSensor
from airflow_provider_aa.triggers.automation_anywhere import (
    AutomationAnywhereBotRunTrigger,
    AutomationAnywhereWorkItemTrigger,
)
from tests.triggers.test_automation_anywhere import first_event


def trigger(deployment_id, *, policy=None, deadline_in=30.0, poke_interval=0.2, clients=None, **kwargs):
    """A bot run trigger; on virtual time when ``clients`` is the ``virtual_clients`` fixture."""
    now = clients.clock() if clients else time.time()
    return AutomationAnywhereBotRunTrigger(
        automation_anywhere_conn_id="automation_anywhere_default",
        wait=BotRunCheck(deployment_id, policy or BotRunPolicy()).to_json(),
        deadline=now + deadline_in,
        poke_interval=poke_interval,
        clients=clients,
        **kwargs,
    )


def activity_list_times(emulator):
    return [entry["time"] for entry in emulator.request_log.entries() if entry["path"] == "/v3/activity/list"]


def deploy(**bot_input):
    return AutomationAnywhereHook().deploy_bot(501, [29], bot_input=bot_input)


def resume(event, deployment_id):
    return AutomationAnywhereBotRunSensor(task_id="wait", deployment_id=deployment_id).execute_complete({}, event)


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    aa_emulator.configure(pickup_delay=0.2, work_delay=0.3, activity_delay=0.0)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def test_serialize_round_trip_is_plain_json():
    original = trigger("dep-1", policy=BotRunPolicy(5, None, 9), exponential_backoff=True, max_poke_interval=60.0)
    path, kwargs = original.serialize()
    assert path == "airflow_provider_aa.triggers.automation_anywhere.AutomationAnywhereBotRunTrigger"
    assert kwargs["wait"]["deployment_id"] == "dep-1" and kwargs["wait"]["paused_timeout"] is None
    restored = AutomationAnywhereBotRunTrigger(**json.loads(json.dumps(kwargs)))
    assert restored.serialize() == (path, kwargs)


def test_a_completed_run_resumes_with_plain_outputs(emulator):
    deployment_id = deploy(sVendor="Acme", nAmount=12.5, lTags=["a", "b"])
    event = asyncio.run(first_event(trigger(deployment_id)))
    assert (event["status"], event["outcome"], event["deployment_id"]) == ("done", "completed", deployment_id)
    result = resume(event, deployment_id)
    assert result["status"] == "COMPLETED"
    assert result["outputs"] == {
        "sResult": "Processed by emulated bot",
        "nPagesRead": 3,
        "bApproved": True,
        "sVendor": "Acme",
        "nAmount": 12.5,
        "lTags": ["a", "b"],
    }


def test_a_failed_run_fails_the_task_with_its_message(emulator):
    deployment_id = AutomationAnywhereHook().deploy_bot(502, 29)
    event = asyncio.run(first_event(trigger(deployment_id)))
    assert event["outcome"] == "failed"
    with pytest.raises(
        AirflowFailException, match="status RUN_FAILED: Emulated bot failure: the report template is missing"
    ):
        resume(event, deployment_id)


def test_late_activity_is_waited_for(virtual_emulator, virtual_clients, virtual_time):
    virtual_emulator.configure(activity_delay=90, pickup_delay=0, work_delay=30)
    start = virtual_time()
    deployment_id = deploy(s="x")
    virtual_emulator.request_log.clear()
    policy = BotRunPolicy(activity_grace_period=300)
    event = asyncio.run(
        first_event(trigger(deployment_id, policy=policy, poke_interval=60, deadline_in=86400, clients=virtual_clients))
    )
    assert event["outcome"] == "completed"
    # Nothing listed at 0 and 60 s; the record written at 90 s is read at 120 s, completed.
    assert [t - start for t in activity_list_times(virtual_emulator)] == [0, 60, 120]


def test_no_activity_at_all_fails_after_the_grace_period(virtual_emulator, virtual_clients, virtual_time):
    start = virtual_time()
    policy = BotRunPolicy(activity_grace_period=300)
    event = asyncio.run(
        first_event(
            trigger("no-such-deployment", policy=policy, poke_interval=60, deadline_in=86400, clients=virtual_clients)
        )
    )
    assert event["outcome"] == "failed" and "View everyone's activity" in event["message"]
    assert virtual_time() - start == 300  # the poll at the end of the grace period, not later


def test_a_paused_run_fails_after_paused_timeout(virtual_emulator, virtual_clients, virtual_time):
    virtual_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=0)
    deployment_id = deploy(sMode="STATUS:RUN_PAUSED")
    start = virtual_time()
    policy = BotRunPolicy(paused_timeout=1800)
    event = asyncio.run(
        first_event(
            trigger(deployment_id, policy=policy, poke_interval=600, deadline_in=86400, clients=virtual_clients)
        )
    )
    assert event["outcome"] == "failed" and "has been RUN_PAUSED for" in event["message"]
    assert virtual_time() - start == 1800


def test_an_unknown_run_waits_until_the_deadline_without_unknown_timeout(
    virtual_emulator, virtual_clients, virtual_time
):
    virtual_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=0)
    deployment_id = deploy(sMode="STATUS:UNKNOWN")
    start = virtual_time()
    policy = BotRunPolicy(unknown_timeout=None)
    waiting = trigger(deployment_id, policy=policy, deadline_in=7200, poke_interval=600, clients=virtual_clients)
    event = asyncio.run(first_event(waiting))
    assert event["status"] == "timeout" and deployment_id in event["message"]
    assert virtual_time() - start == 7200
    with pytest.raises(AirflowSensorTimeout, match="Timed out waiting for bot deployment"):
        resume(event, deployment_id)


def test_failures_become_error_events(emulator):
    emulator.faults.add("html_page", count=None, path="/activity/list")
    event = asyncio.run(first_event(trigger("dep-1")))
    assert event["status"] == "error" and "HTML page" in event["message"]


def test_bot_and_work_item_triggers_share_one_session(emulator):
    deployment_ids = [deploy(n=n) for n in range(3)]
    item_ids = [item["id"] for item in AutomationAnywhereHook().add_work_items(20, [{"n": 1}])]
    emulator.counters.reset()
    work_item_trigger = AutomationAnywhereWorkItemTrigger(
        automation_anywhere_conn_id="automation_anywhere_default",
        queue_id="20",
        work_item_ids=item_ids,
        pending_statuses=["NEW", "ACTIVE"],
        failure_statuses=["FAILED"],
        deadline=time.time() + 30,
        poke_interval=0.2,
    )

    async def wait_for_all():
        return await asyncio.gather(first_event(work_item_trigger), *(first_event(trigger(d)) for d in deployment_ids))

    events = asyncio.run(wait_for_all())

    assert [event["status"] for event in events] == ["done"] * 4
    assert emulator.counters.logins() == 1
