"""docs/permissions.md's one-off admin DAG through real Airflow (dag.test): the service role, and hook.run."""

from __future__ import annotations

import json

import pytest

from airflow_provider_aa.control_room.roles import ROLE_PRESETS
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator.connections import connection_fields, env_var_name
from tests.e2e.conftest import load_test_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_an_admin_dag_brings_the_service_role_up_to_date(aa_emulator, monkeypatch):
    admin = connection_fields(aa_emulator.url, {"login": "cr_admin", "password": "Admin-Passw0rd!"}, "password")
    monkeypatch.setenv(env_var_name("aa_admin"), json.dumps(admin))

    hook = AutomationAnywhereHook("aa_admin")
    hook.ensure_role("Airflow Service", ROLE_PRESETS["bot_deployer"])  # made earlier, with less
    hook.close()

    run = load_test_dag("service_role").test()

    assert task_states(run) == {"service_role": "success", "copied_role": "success", "pools": "success"}
    outcome = xcoms(run)["service_role"]
    assert not outcome["created"] and outcome["removed"] == []
    assert len(outcome["added"]) == len(ROLE_PRESETS["airflow_service"]) - len(ROLE_PRESETS["bot_deployer"])
    assert xcoms(run)["pools"] == ["Finance Runners", "Empty Pool"]
    copied = xcoms(run)["copied_role"]
    assert copied["created"] and copied["copied_from"] == "Generate API-Key"
    assert [(entry["action"], entry["resourceType"]) for entry in copied["permissions"]] == [("generateapikey", "api")]
    assert aa_emulator.counters.requests("POST /v1/usermanagement/roles") == 2  # v1, the documented role API
    assert aa_emulator.counters.requests("POST /v2/usermanagement/roles/list") == 0
