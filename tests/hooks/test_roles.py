"""hook.ensure_role against the emulator: create once, then only what changed, members kept, v2 where v1 is missing."""

from __future__ import annotations

import json

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError, NameLookupError
from airflow_provider_aa.control_room.roles import ROLE_PRESETS
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator.connections import connection_fields, env_var_name

LIST_V2 = "POST /v2/usermanagement/roles/list"
LIST_V1 = "POST /v1/usermanagement/roles/list"
CREATE_V1 = "POST /v1/usermanagement/roles"
READ_V1 = "GET /v1/usermanagement/roles/{id}"
UPDATE_V1 = "PUT /v1/usermanagement/roles/{id}"
UPDATE_V2 = "PUT /v2/usermanagement/roles/{id}"
ADMIN = {"login": "cr_admin", "password": "Admin-Passw0rd!"}


@pytest.fixture
def hook(aa_emulator, monkeypatch):
    fields = connection_fields(aa_emulator.url, ADMIN, "password", multiple_login=True)
    monkeypatch.setenv(env_var_name("automation_anywhere_default"), json.dumps(fields))
    hook = AutomationAnywhereHook()
    yield hook
    hook.close()


def roles_named(hook, name):
    body = {"filter": {"operator": "eq", "field": "name", "value": name}}
    return hook.run("POST", "/v1/usermanagement/roles/list", json=body, replay_safe=True)["list"]


def test_the_airflow_service_role_is_created_once_then_left_alone(hook, aa_emulator, capsys):
    created = hook.ensure_role("Airflow Service", ROLE_PRESETS["airflow_service"], description="Airflow")
    assert created.created and len(created.permissions) == len(ROLE_PRESETS["airflow_service"])
    again = hook.ensure_role("Airflow Service", ROLE_PRESETS["airflow_service"])

    assert not again.changed and again.id == created.id and again.description == "Airflow"
    assert aa_emulator.counters.requests(CREATE_V1) == 1
    assert aa_emulator.counters.requests(UPDATE_V1) == 0
    assert aa_emulator.counters.requests(LIST_V2) == 0  # v1, the documented API, answers
    assert "already has the permissions asked for: unchanged." in capsys.readouterr().out
    assert again.to_dict()["created"] is False and again.to_dict()["api_version"] == "v1"


def test_an_existing_role_gets_the_permissions_of_the_types_asked_for_and_keeps_its_users(hook, aa_emulator):
    # Seeded "Bot Deployer" (id 16): user 32, myschedule + view/run on repositorymanager.
    outcome = hook.ensure_role(
        "Bot Deployer", [*ROLE_PRESETS["api_key_user"], {"action": "run", "resourceType": "repositorymanager"}]
    )

    assert {(entry["action"], entry["resourceType"]) for entry in outcome.added} == {("generateapikey", "api")}
    # repositorymanager is asked for: its other permission goes; taskscheduling is not: it stays.
    assert {(entry["action"], entry["resourceType"]) for entry in outcome.removed} == {("view", "repositorymanager")}
    role = hook.run("GET", "/v1/usermanagement/roles/16")
    assert role["principals"] == [{"id": 32}]
    assert role["description"] == "Runs bots"
    assert sorted(entry["action"] for entry in role["permissions"]) == ["generateapikey", "myschedule", "run"]
    assert role["version"] == 1


def test_a_permission_an_admin_added_in_the_ui_stays_when_ensure_role_runs_again(hook, aa_emulator):
    role_id = hook.ensure_role("Airflow Service", ROLE_PRESETS["airflow_service"]).id
    role = hook.run("GET", f"/v1/usermanagement/roles/{role_id}")
    audit = {"action": "viewauditlog", "resourceType": "auditlog", "resourceId": None}  # no resource scope
    hook.run("PUT", f"/v1/usermanagement/roles/{role_id}", json={**role, "permissions": [*role["permissions"], audit]})

    outcome = hook.ensure_role("Airflow Service", ROLE_PRESETS["airflow_service"])

    assert not outcome.changed and outcome.removed == []
    role = hook.run("GET", f"/v1/usermanagement/roles/{role_id}")
    assert ("viewauditlog", "auditlog") in {(entry["action"], entry["resourceType"]) for entry in role["permissions"]}


def test_v2_is_used_and_remembered_where_v1_is_missing(hook, aa_emulator):
    aa_emulator.configure(roles_v1_enabled=False)
    hook.ensure_role("Airflow", ROLE_PRESETS["bot_deployer"])
    outcome = hook.ensure_role("Airflow", ROLE_PRESETS["activity_reader"])
    assert outcome.api_version == "v2" and outcome.added and outcome.removed
    assert aa_emulator.counters.requests(LIST_V1) == 1  # learned once per hook
    assert aa_emulator.counters.requests(LIST_V2) == 2
    assert aa_emulator.counters.requests(UPDATE_V2) == 1


def test_on_a_control_room_without_v2_v1_is_all_it_needs(hook, aa_emulator):
    aa_emulator.configure(roles_v2_enabled=False)
    assert hook.ensure_role("Airflow", ROLE_PRESETS["bot_deployer"]).api_version == "v1"
    assert aa_emulator.counters.requests(LIST_V2) == 0


def test_a_create_whose_answer_was_lost_makes_one_role(hook, aa_emulator):
    aa_emulator.faults.add("drop_after_commit", method="POST", path="/usermanagement/roles$", count=1)
    outcome = hook.ensure_role("Airflow", ROLE_PRESETS["bot_deployer"])
    assert outcome.created
    assert aa_emulator.counters.requests(CREATE_V1) == 1
    assert [role["id"] for role in roles_named(hook, "Airflow")] == [int(outcome.id)]


def test_a_user_without_role_rights_gets_the_control_rooms_403(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch, auth_type="api_key")
    hook = AutomationAnywhereHook()
    with pytest.raises(AutomationAnywhereError) as failed:
        hook.ensure_role("Airflow", ROLE_PRESETS["bot_deployer"])
    hook.close()
    assert (failed.value.status, failed.value.code) == (403, "UM_ACCESS_DENIED")
    assert aa_emulator.counters.requests(CREATE_V1) == 0


def test_bad_input_fails_before_any_request(hook, aa_emulator):
    with pytest.raises(InvalidInputError, match="permissions"):
        hook.ensure_role("Airflow", "bot_deployer")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="name"):
        hook.ensure_role(" Airflow", [])
    with pytest.raises(InvalidInputError, match="copy_from must be a non-empty string"):
        hook.ensure_role("Airflow", copy_from=" ")
    with pytest.raises(InvalidInputError, match=r"permissions must be given .* or copy_from"):
        hook.ensure_role("Airflow")
    assert aa_emulator.counters.requests() == 0


def test_copy_from_gives_the_role_the_permissions_of_a_role_built_in_the_ui(hook, aa_emulator):
    # Seeded "Generate API-Key" (id 15): the Control Room's own name for the permission.
    outcome = hook.ensure_role(
        "Airflow", [{"action": "run", "resourceType": "repositorymanager"}], copy_from="Generate API-Key"
    )

    assert outcome.created and outcome.copied_from == "Generate API-Key"
    source = hook.run("GET", "/v1/usermanagement/roles/15")
    role = hook.run("GET", f"/v1/usermanagement/roles/{outcome.id}")
    assert source["permissions"][0] in role["permissions"]  # its id too
    assert {(entry["action"], entry["resourceType"]) for entry in role["permissions"]} == {
        ("generateapikey", "api"),
        ("run", "repositorymanager"),
    }
    assert role["principals"] == [] and aa_emulator.counters.requests(READ_V1) == 3  # read by id, as AA advises


def test_copy_from_a_missing_role_changes_nothing(hook, aa_emulator):
    with pytest.raises(NameLookupError, match="no role is named 'generate api-key'"):
        hook.ensure_role("Airflow", copy_from="generate api-key")
    assert aa_emulator.counters.requests(CREATE_V1) == 0


def test_an_update_sends_the_repository_permissions_back_as_read(hook, aa_emulator):
    # An admin gave the seeded "Bot Deployer" (id 16) folder rights in the UI.
    role = hook.run("GET", "/v1/usermanagement/roles/16")
    repository = [{"id": 3, "repositoryId": 44, "permissions": ["run", "view"]}]
    hook.run("PUT", "/v1/usermanagement/roles/16", json={**role, "existingRepositoryPermissions": repository})

    outcome = hook.ensure_role("Bot Deployer", ROLE_PRESETS["bot_deployer"])

    assert outcome.added and aa_emulator.counters.requests(UPDATE_V1) == 2
    assert hook.run("GET", "/v1/usermanagement/roles/16")["existingRepositoryPermissions"] == repository
