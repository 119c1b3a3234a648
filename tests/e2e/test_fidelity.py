"""
Through real Airflow (dag.test) against the emulator, where Control Rooms differ from their
docs: add answers in every shape, pools, 412 on deploy, runs left in
PENDING_EXECUTION, and the connection test of a user without queue rights.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from airflow_provider_aa.control_room.bots import BotRunCheck
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator.connections import connection_fields, env_var_name
from tests.conftest import TEST_DAGS
from tests.e2e.conftest import task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")

DEPLOYS = ("POST /v4/automations/deploy", "POST /v3/automations/deploy")


def fidelity_dag(name):
    """One of the DAGs of ``tests/e2e/dags/fidelity.py`` (dag.test needs them in a DAG file)."""
    spec = importlib.util.spec_from_file_location("dag_fidelity", TEST_DAGS / "fidelity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, f"{name}_dag")


@pytest.mark.parametrize(
    ("shape", "items"),
    [
        ("list", [{"invoice": "A"}, {"invoice": "B"}]),
        ("workItems", [{"invoice": "A"}, {"invoice": "B"}]),
        ("item", [{"invoice": "A"}]),
    ],
)
def test_an_add_works_with_every_shape_of_answer(fast_bot, monkeypatch, shape, items):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(add_answer_shape=shape)
    dag = fidelity_dag("add")
    dag.get_task("add").work_items = items

    run = dag.test()

    assert task_states(run) == {"add": "success"}
    stored = fast_bot.work_items(20)
    assert xcoms(run)["add"] == [str(item["id"]) for item in stored]
    assert [item["json"] for item in stored] == items
    assert fast_bot.counters.requests("POST /v3/wlm/queues/{queueId}/workitems") == 1  # answered, nothing to reconcile


def test_a_deploy_with_pools_runs_on_the_pools_devices(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    dag = fidelity_dag("deploy")

    run = dag.test()

    assert task_states(run) == {"deploy": "success"}
    assert [record["deviceId"] for record in fast_bot.bot_runs()] == ["111", "112"]  # not the default 101


def test_a_deploy_no_device_can_take_fails_for_good_naming_bot_users_and_pools(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    dag = fidelity_dag("deploy")  # two retries
    dag.get_task("deploy").pool_ids = [62]
    failures = []
    original = AutomationAnywhereHook.deploy_bot

    def spy(self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        except Exception as error:
            failures.append(error)
            raise

    monkeypatch.setattr(AutomationAnywhereHook, "deploy_bot", spy)

    run = dag.test()

    assert task_states(run) == {"deploy": "failed"}
    assert sum(fast_bot.counters.requests(path) for path in DEPLOYS) == 1  # no retry, no v3 attempt
    (error,) = failures
    assert "no device to run bot 501 as run-as user(s) 29, 30 and pool(s) 62" in str(error)
    assert "No compatible targets found" in str(error) and "HTTP 412" in str(error)
    assert fast_bot.bot_runs() == []


def test_a_run_left_pending_fails_the_waiting_deploy_after_pending_timeout(fast_bot, monkeypatch):
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(activity_delay=0.0)
    dag = fidelity_dag("pending")  # pending_timeout=0.5
    verdicts = []
    judge = BotRunCheck.judge

    def spy(wait, runs, now):
        verdicts.append(judge(wait, runs, now))
        return verdicts[-1]

    monkeypatch.setattr(BotRunCheck, "judge", spy)

    run = dag.test()

    assert task_states(run) == {"deploy_and_wait": "failed"}
    assert verdicts[-1].outcome == "failed"
    assert (
        "has been PENDING_EXECUTION for" in verdicts[-1].message and "(pending_timeout=0.5 s)" in verdicts[-1].message
    )


def test_the_connection_test_of_a_bot_deployer_without_queue_rights(aa_emulator, monkeypatch):
    credentials = {"login": "bot_deployer", "password": "Deployer-Passw0rd!"}
    fields = connection_fields(aa_emulator.url, credentials, "password", multiple_login=True)
    monkeypatch.setenv(env_var_name("automation_anywhere_default"), json.dumps(fields))

    ok, message = AutomationAnywhereHook().test_connection()

    assert ok, message
    assert message.startswith(f"Connected to {aa_emulator.url} as 'bot_deployer'")
    assert "work queues: no permission (HTTP 403); activity: visible" in message
