"""Bots through real Airflow (dag.test) against the emulator: deploy, wait, outputs, failures."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

try:
    from airflow.sdk.serde import deserialize
except ImportError:  # Airflow 3.1
    from airflow.serialization.serde import deserialize  # type: ignore[no-redef]
from airflow_provider_aa.control_room.bots import BotRunCheck, BotRunPolicy
from tests.e2e.conftest import load_example_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")

ACTIVITY = "POST /v3/activity/list"


@pytest.fixture
def readings(monkeypatch):
    """Every judgement of a bot run wait: (wait object id, clocks before, clocks after, verdict).

    dag.test runs tasks and triggers in this process, so this sees what the task logs would say
    (the logs themselves do not always reach pytest's capture).
    """
    seen = []
    judge = BotRunCheck.judge

    def spy(wait, runs, now):
        before = dict(wait.held_since)
        verdict = judge(wait, runs, now)
        seen.append((id(wait), before, dict(wait.held_since), verdict))
        return verdict

    monkeypatch.setattr(BotRunCheck, "judge", spy)
    return seen


def test_example_deploys_waits_deferred_and_prints_outputs(fast_bot, monkeypatch, readings):
    fast_bot.use_connection(monkeypatch, auth_type="api_key")
    # The first poke finds no record yet, so the sensor defers; the record is listed from the
    # first reading on, however long Airflow took to start the sensor.
    fast_bot.configure(activity_delay=3600.0)
    judge = BotRunCheck.judge

    def judge_then_show_activity(wait, runs, now):
        verdict = judge(wait, runs, now)
        fast_bot.show_activity()
        return verdict

    monkeypatch.setattr(BotRunCheck, "judge", judge_then_show_activity)

    run = load_example_dag("example_automation_anywhere_bot").test()

    assert task_states(run) == {"deploy_invoice_bot": "success", "wait_for_run": "success", "print_outputs": "success"}
    values = xcoms(run)
    (record,) = fast_bot.bot_runs()
    assert values["deploy_invoice_bot"] == record["deploymentId"]
    result = values["wait_for_run"]
    assert (result["deployment_id"], result["status"]) == (record["deploymentId"], "COMPLETED")
    assert result["runs"][0]["execution_id"] == record["id"]
    assert deserialize(result["outputs"]) == {
        "sResult": "Processed by emulated bot",
        "nPagesRead": 3,
        "bApproved": True,
        "sVendor": "Acme GmbH",
        "nAmount": 1250.5,
        "bUrgent": True,
        "lLines": ["Consulting", "Travel"],
        "dAddress": {"city": "Berlin", "zip": "10115"},
        "dtDue": datetime(2026, 1, 31, 17, 0, tzinfo=timezone.utc),
    }
    assert deserialize(values["print_outputs"]) == deserialize(result["outputs"])
    assert readings[0][3].message == f"No activity record of deployment {record['deploymentId']} yet."
    assert readings[-1][3].outcome == "completed"
    # the deploy task, the sensor's first poke, then the trigger's own (async) session
    assert fast_bot.counters.logins() == 3


def test_a_failed_run_fails_the_sensor_with_the_runs_message(fast_bot, monkeypatch, readings):
    fast_bot.use_connection(monkeypatch)

    run = load_example_dag("example_automation_anywhere_bot").test(run_conf={"vendor": "Acme FAIL"})

    assert task_states(run) == {
        "deploy_invoice_bot": "success",
        "wait_for_run": "failed",
        "print_outputs": "upstream_failed",
    }
    (record,) = fast_bot.bot_runs()
    assert readings[-1][3].outcome == "failed"
    assert (
        f"run {record['id']}: status RUN_FAILED: Emulated bot failure: sVendor contains FAIL" in readings[-1][3].message
    )


def test_one_task_deploys_and_waits_deferred(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(activity_delay=1.0)

    run = load_example_dag("example_automation_anywhere_bot_one_task").test()

    assert task_states(run) == {"deploy_and_wait": "success"}
    result = xcoms(run, "bot_run")["deploy_and_wait"]
    (record,) = fast_bot.bot_runs()
    assert xcoms(run)["deploy_and_wait"] == record["deploymentId"]  # the same shape as without waiting
    assert (result["deployment_id"], result["status"]) == (record["deploymentId"], "COMPLETED")
    assert result["outputs"]["lItems"] == [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]
    assert fast_bot.counters.requests("POST /v4/automations/deploy") == 1  # resuming did not deploy again
    assert fast_bot.counters.logins() == 2  # the task's session, then the trigger's


def test_one_task_waits_in_poke_mode_on_a_v3_only_control_room(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(deploy_v4_enabled=False, activity_delay=1.5)
    dag = load_example_dag("example_automation_anywhere_bot_one_task")
    task = dag.get_task("deploy_and_wait")
    task.deferrable, task.poke_interval, task.run_as_user_ids = False, 0.5, [29, 30]

    run = dag.test()

    assert task_states(run) == {"deploy_and_wait": "success"}
    result = xcoms(run, "bot_run")["deploy_and_wait"]
    assert [r["execution_id"] for r in result["runs"]] == [r["id"] for r in fast_bot.bot_runs()]  # one per user
    assert all(r["outputs"]["lItems"][0] == {"sku": "A-1", "qty": 2} for r in result["runs"])
    assert fast_bot.counters.requests("POST /v4/automations/deploy") == 1  # 404, then v3
    assert fast_bot.counters.requests("POST /v3/automations/deploy") == 1
    assert fast_bot.counters.requests(ACTIVITY) >= 3  # late records, then running, then completed


def test_a_paused_run_fails_after_paused_timeout_across_rescheduled_pokes(fast_bot, monkeypatch, readings):
    fast_bot.use_connection(monkeypatch)
    dag = load_example_dag("example_automation_anywhere_bot")
    sensor = dag.get_task("wait_for_run")
    sensor.deferrable, sensor.mode, sensor.poke_interval = False, "reschedule", 1
    sensor.run_policy = BotRunPolicy(activity_grace_period=60, paused_timeout=5)
    # The wait's clock moves 2 s a reading, however slowly Airflow reschedules the pokes: the
    # paused run fails at the third reading after it was first seen paused, 6 s on.
    ticks = itertools.count(1_800_000_000, 2)
    monkeypatch.setattr("airflow_provider_aa.tasks.waits.time", SimpleNamespace(time=lambda: next(ticks)))

    run = dag.test(run_conf={"vendor": "STATUS:RUN_PAUSED"})

    assert task_states(run) == {
        "deploy_invoice_bot": "success",
        "wait_for_run": "failed",
        "print_outputs": "upstream_failed",
    }
    last = readings[-1][3]
    assert last.outcome == "failed"
    assert re.search(
        r"has been RUN_PAUSED for 6 s \(paused_timeout=5 s\): resume or stop it in the Control Room\.", last.message
    )
    # Each rescheduled poke is a new task try with a new wait object, yet the clock carried on:
    # later pokes start from the held_since that the first paused reading saved in the task state store.
    assert len({reading[0] for reading in readings}) == len(readings) >= 3
    first_paused = next(index for index, reading in enumerate(readings) if reading[2])
    held = readings[first_paused][2]
    assert readings[first_paused][1] == {} and all(reading[1] == held for reading in readings[first_paused + 1 :])
