"""The trigger's deadline for runs a Control Room leaves in PENDING_EXECUTION, on virtual time."""

from __future__ import annotations

import asyncio
import json

from airflow_provider_aa.control_room.bots import BotRunCheck, BotRunPolicy
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereBotRunTrigger
from tests.triggers.test_automation_anywhere import first_event
from tests.triggers.test_bot_run_trigger import deploy, trigger


def test_a_run_left_pending_fails_after_pending_timeout(virtual_emulator, virtual_clients, virtual_time):
    virtual_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=0)
    deployment_id = deploy(sMode="STATUS:PENDING_EXECUTION")
    start = virtual_time()
    waiting = trigger(
        deployment_id,
        policy=BotRunPolicy(pending_timeout=1800),
        poke_interval=600,
        deadline_in=86400,
        clients=virtual_clients,
    )
    event = asyncio.run(first_event(waiting))
    assert event["outcome"] == "failed"
    assert "has been PENDING_EXECUTION for 1800 s (pending_timeout=1800 s)" in event["message"]
    assert virtual_time() - start == 1800


def test_the_pending_clock_of_the_pokes_before_deferral_carries_on_in_the_trigger(
    virtual_emulator, virtual_clients, virtual_time
):
    virtual_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=0)
    deployment_id = deploy(sMode="STATUS:PENDING_EXECUTION")
    start = virtual_time()
    # A poke 1200 s ago already saw the run pending, then the task deferred with its wait.
    wait = BotRunCheck(deployment_id, BotRunPolicy(pending_timeout=1800))
    wait.judge(AutomationAnywhereHook().get_bot_runs(deployment_id), start - 1200)
    deferred = AutomationAnywhereBotRunTrigger(
        automation_anywhere_conn_id="automation_anywhere_default",
        wait=json.loads(json.dumps(wait.to_json())),
        deadline=start + 86400,
        poke_interval=600,
        clients=virtual_clients,
    )
    event = asyncio.run(first_event(deferred))
    assert event["outcome"] == "failed" and "PENDING_EXECUTION for 1800 s" in event["message"]
    assert virtual_time() - start == 600  # the second poll: 1800 s after the poke first saw it
