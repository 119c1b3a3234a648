"""
A deferred bot wait the user ends stops the runs; a triggerer that merely stops does not.

On virtual time against the emulator: the trigger polls a run that goes on for an hour, its
task is cancelled as a triggerer cancels it, and the emulator shows whether a stop arrived.
Only the look-up of the task instance's state (Airflow's Execution API) is replaced.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from airflow_provider_aa.control_room.bots import BotRunCheck
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.triggers import automation_anywhere as triggers_module
from airflow_provider_aa.triggers import stop_on_kill
from airflow_provider_aa.triggers.automation_anywhere import AutomationAnywhereBotRunTrigger

MANAGE = "POST /v3/activity/manage"
TASK_INSTANCE = SimpleNamespace(dag_id="bots", task_id="wait", run_id="manual__1", map_index=-1)


@pytest.fixture
def deployment_id(virtual_emulator):
    """A run that is RUNNING for an hour from now."""
    virtual_emulator.configure(activity_delay=0, pickup_delay=0, work_delay=3600)
    return AutomationAnywhereHook().deploy_bot(501, [29])


def trigger(deployment_id, clients, **kwargs):
    waiting = AutomationAnywhereBotRunTrigger(
        automation_anywhere_conn_id="automation_anywhere_default",
        wait=BotRunCheck(deployment_id).to_json(),
        deadline=clients.clock() + 86400,
        poke_interval=60,
        clients=clients,
        **kwargs,
    )
    waiting.task_instance = TASK_INSTANCE
    return waiting


async def cancel_while_waiting(waiting, virtual_time):
    """Run the trigger through two polls, then cancel its task as a triggerer does."""

    async def consume():
        async for event in waiting.run():
            raise AssertionError(f"the wait should still go on, got {event.payload}")

    task = asyncio.ensure_future(consume())
    await virtual_time.sleep(90)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def status_of(emulator, deployment_id):
    (run,) = [run for run in emulator.bot_runs() if run["deploymentId"] == deployment_id]
    return run["status"]


@pytest.fixture
def before_airflow_3_3(monkeypatch):
    """The triggerer never calls on_kill(): the trigger tells a user's action by the TI's state."""
    monkeypatch.setattr(triggers_module, "TRIGGERER_CALLS_ON_KILL", False)

    def with_state(state):
        async def look_up(task_instance):
            assert task_instance is TASK_INSTANCE
            if isinstance(state, Exception):
                raise state
            return state

        monkeypatch.setattr(stop_on_kill, "task_instance_state", look_up)

    return with_state


@pytest.mark.parametrize("state", ["failed", "success", None], ids=["marked-failed", "marked-success", "cleared"])
def test_before_3_3_a_wait_the_user_ended_stops_the_run(
    before_airflow_3_3, virtual_emulator, virtual_clients, virtual_time, deployment_id, state, capsys
):
    before_airflow_3_3(state)
    asyncio.run(cancel_while_waiting(trigger(deployment_id, virtual_clients), virtual_time))
    assert virtual_emulator.counters.requests(MANAGE) == 1
    assert status_of(virtual_emulator, deployment_id) == "RUN_ABORTED"
    assert f"asked the Control Room to stop 1 run(s) of bot deployment {deployment_id}" in capsys.readouterr().out


def test_before_3_3_a_triggerer_that_stops_leaves_the_run_going(
    before_airflow_3_3, virtual_emulator, virtual_clients, virtual_time, deployment_id
):
    before_airflow_3_3("deferred")
    asyncio.run(cancel_while_waiting(trigger(deployment_id, virtual_clients), virtual_time))
    assert virtual_emulator.counters.requests(MANAGE) == 0
    assert status_of(virtual_emulator, deployment_id) == "RUNNING"


def test_before_3_3_a_state_that_cannot_be_read_stops_nothing(
    before_airflow_3_3, virtual_emulator, virtual_clients, virtual_time, deployment_id, capsys
):
    before_airflow_3_3(ConnectionError("supervisor gone"))
    asyncio.run(cancel_while_waiting(trigger(deployment_id, virtual_clients), virtual_time))
    assert virtual_emulator.counters.requests(MANAGE) == 0
    assert "Could not read the task instance's state, so not stopping" in capsys.readouterr().out


def test_stop_on_kill_false_stops_nothing_even_when_the_user_ended_the_wait(
    before_airflow_3_3, virtual_emulator, virtual_clients, virtual_time, deployment_id
):
    before_airflow_3_3("failed")
    waiting = trigger(deployment_id, virtual_clients, stop_on_kill=False)
    asyncio.run(cancel_while_waiting(waiting, virtual_time))
    asyncio.run(waiting.on_kill())
    assert virtual_emulator.counters.requests(MANAGE) == 0
    assert status_of(virtual_emulator, deployment_id) == "RUNNING"


def test_from_3_3_the_triggerers_on_kill_stops_the_run_and_a_cancellation_alone_does_not(
    monkeypatch, virtual_emulator, virtual_clients, virtual_time, deployment_id
):
    monkeypatch.setattr(triggers_module, "TRIGGERER_CALLS_ON_KILL", True)

    async def user_ended_it(task_instance):
        return "failed"

    # Even when the state would say so, a 3.3 triggerer's cancellation alone stops nothing:
    # its on_kill() does, and once.
    monkeypatch.setattr(stop_on_kill, "task_instance_state", user_ended_it)
    waiting = trigger(deployment_id, virtual_clients)

    async def as_the_triggerer_does():
        await cancel_while_waiting(waiting, virtual_time)
        assert virtual_emulator.counters.requests(MANAGE) == 0
        await waiting.on_kill()

    asyncio.run(as_the_triggerer_does())
    assert virtual_emulator.counters.requests(MANAGE) == 1
    assert status_of(virtual_emulator, deployment_id) == "RUN_ABORTED"


def test_on_kill_after_the_run_finished_sends_no_stop(virtual_emulator, virtual_clients, deployment_id):
    virtual_emulator.configure(work_delay=0)
    AutomationAnywhereHook().stop_bot_runs(deployment_id)
    virtual_emulator.counters.reset()
    asyncio.run(trigger(deployment_id, virtual_clients).on_kill())
    assert virtual_emulator.counters.requests(MANAGE) == 0


def test_a_failed_stop_is_logged_not_raised(virtual_emulator, virtual_clients, deployment_id, capsys):
    virtual_emulator.stop()
    asyncio.run(trigger(deployment_id, virtual_clients).on_kill())
    assert (
        f"Could not stop the runs of bot deployment {deployment_id}; they may still be running"
        in capsys.readouterr().out
    )


def test_stop_on_kill_is_serialized_and_on_by_default():
    _, kwargs = AutomationAnywhereBotRunTrigger(
        automation_anywhere_conn_id="aa", wait=BotRunCheck("dep-1").to_json(), deadline=0.0
    ).serialize()
    assert kwargs["stop_on_kill"] is True
    off = AutomationAnywhereBotRunTrigger(**{**json.loads(json.dumps(kwargs)), "stop_on_kill": False})
    assert off.serialize()[1]["stop_on_kill"] is False


@pytest.mark.parametrize(("map_index", "key"), [(-1, "wait"), (3, "wait_3")])
def test_the_state_is_read_under_the_execution_apis_key(monkeypatch, map_index, key):
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import TaskStatesResult

    asked = []

    class Supervisor:
        def send(self, message):  # the task instance's API is synchronous: called off the event loop
            asked.append(message)
            return TaskStatesResult(task_states={"manual__1": {key: "failed", "other": "deferred"}})

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Supervisor(), raising=False)
    task_instance = SimpleNamespace(dag_id="bots", task_id="wait", run_id="manual__1", map_index=map_index)
    assert asyncio.run(stop_on_kill.task_instance_state(task_instance)) == "failed"
    (message,) = asked
    assert (message.dag_id, message.task_ids, message.run_ids, message.map_index) == (
        "bots",
        ["wait"],
        ["manual__1"],
        map_index,
    )


def test_runs_the_control_room_refuses_to_stop_are_logged_as_not_stopped(
    virtual_emulator, virtual_clients, deployment_id, capsys
):
    virtual_emulator.configure(stop_takes_deployment_ids=True)  # refuses the activity record ids sent
    (execution_id,) = [run["id"] for run in virtual_emulator.bot_runs() if run["deploymentId"] == deployment_id]
    asyncio.run(trigger(deployment_id, virtual_clients).on_kill())
    assert virtual_emulator.counters.requests(MANAGE) == 1
    assert status_of(virtual_emulator, deployment_id) == "RUNNING"
    out = capsys.readouterr().out
    assert f"run(s) {execution_id} of bot deployment {deployment_id} not stopped; they may still be running" in out
