"""The emulator's role calls (User Management API v2 and v1) over HTTP."""

from __future__ import annotations

import pytest
import requests

from tests.emulator.conftest import Client

ADMIN = {"username": "cr_admin", "password": "Admin-Passw0rd!"}
RUN = {"action": "run", "resourceType": "repositorymanager"}


@pytest.fixture
def admin(aa_emulator) -> Client:
    client = Client(aa_emulator.url)
    assert client.login(ADMIN).status_code == 200
    return client


def named(client, name, version="v2"):
    body = {"filter": {"operator": "eq", "field": "name", "value": name}}
    return client.call("POST", f"/{version}/usermanagement/roles/list", json=body)


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_a_role_is_created_listed_read_and_updated(admin, version):
    created = admin.call(
        "POST",
        f"/{version}/usermanagement/roles",
        json={"name": "Airflow", "description": "svc", "permissions": [RUN], "principals": [{"id": 25}]},
    )
    assert created.status_code == 201
    role = created.json()
    assert role["name"] == "Airflow" and role["version"] == 0 and role["createdBy"] == 33
    assert role["principals"] == [{"id": 25}]
    assert role["permissions"] == [{"id": role["permissions"][0]["id"], **RUN, "resourceId": None}]

    listed = named(admin, "Airflow", version).json()
    assert [entry["id"] for entry in listed["list"]] == [role["id"]]
    assert listed["page"]["totalFilter"] == 1

    path = f"/{version}/usermanagement/roles/{role['id']}"
    assert admin.call("GET", path).json() == role
    changed = admin.call("PUT", path, json={**role, "permissions": [], "description": "none"})
    assert changed.status_code == 200
    assert changed.json()["version"] == 1 and changed.json()["permissions"] == []
    assert changed.json()["principals"] == [{"id": 25}]


def test_seeded_roles_have_their_users_as_principals_and_permission_numbers(admin):
    listed = {
        role["name"]: role for role in admin.call("POST", "/v2/usermanagement/roles/list", json={}).json()["list"]
    }
    assert {"AAE_Admin", "AAE_Queue Admin", "Generate API-Key", "Bot Deployer"} <= set(listed)
    assert listed["Bot Deployer"]["principals"] == [{"id": 32}]
    assert {"id": 58, "action": "myschedule", "resourceType": "taskscheduling", "resourceId": None} in listed[
        "Bot Deployer"
    ]["permissions"]


def test_a_permission_keeps_its_number_across_roles(admin):
    first = admin.call("POST", "/v2/usermanagement/roles", json={"name": "A", "permissions": [RUN]}).json()
    second = admin.call("POST", "/v2/usermanagement/roles", json={"name": "B", "permissions": [RUN]}).json()
    assert first["permissions"][0]["id"] == second["permissions"][0]["id"]


def test_names_are_unique(admin):
    assert admin.call("POST", "/v2/usermanagement/roles", json={"name": "Airflow"}).status_code == 201
    again = admin.call("POST", "/v1/usermanagement/roles", json={"name": "Airflow"})
    assert again.status_code == 409 and again.json()["code"] == "UM_ROLE_ALREADY_EXISTS"


def test_an_update_with_an_old_version_is_refused(admin):
    role = admin.call("POST", "/v2/usermanagement/roles", json={"name": "Airflow"}).json()
    path = f"/v2/usermanagement/roles/{role['id']}"
    assert admin.call("PUT", path, json={**role, "description": "1"}).status_code == 200
    stale = admin.call("PUT", path, json={**role, "description": "2"})
    assert stale.status_code == 409 and stale.json()["code"] == "UM_ROLE_VERSION_CONFLICT"
    assert admin.call("GET", path).json()["description"] == "1"


def test_an_update_replaces_the_role_so_leaving_out_principals_removes_its_users(admin):
    role = admin.call("POST", "/v2/usermanagement/roles", json={"name": "Airflow", "principals": [{"id": 25}]}).json()
    changed = admin.call("PUT", f"/v2/usermanagement/roles/{role['id']}", json={"name": "Airflow"})
    assert changed.json()["principals"] == []


def test_a_roles_repository_permissions_are_read_by_id_and_kept_as_an_update_sends_them(admin):
    repository = [{"id": 3, "repositoryId": 44, "permissions": ["run"]}]
    role = admin.call(
        "POST", "/v1/usermanagement/roles", json={"name": "Airflow", "existingRepositoryPermissions": repository}
    ).json()
    path = f"/v1/usermanagement/roles/{role['id']}"
    assert admin.call("GET", path).json()["existingRepositoryPermissions"] == repository
    kept = admin.call("PUT", path, json={**role, "description": "new"}).json()
    assert kept["existingRepositoryPermissions"] == repository
    dropped = admin.call(
        "PUT", path, json={key: value for key, value in kept.items() if key != "existingRepositoryPermissions"}
    )
    assert dropped.json()["existingRepositoryPermissions"] == []  # a PUT replaces the role


@pytest.mark.parametrize(
    "body",
    [
        {"name": "A", "existingRepositoryPermissions": {"id": 3}},
        {"name": "A", "existingRepositoryPermissions": [3]},
        [],
        {"description": "no name"},
        {"name": "x" * 256},
        {"name": "A", "permissions": [{"action": "run"}]},
        {"name": "A", "permissions": [{**RUN, "id": "x"}]},
        {"name": "A", "permissions": [{**RUN, "resourceId": "x"}]},
        {"name": "A", "principals": [{"username": "bot_runner"}]},
        {"name": "A", "permissions": {"run": True}},
    ],
)
def test_bad_bodies_are_refused(admin, body):
    refused = admin.call("POST", "/v2/usermanagement/roles", json=body)
    assert refused.status_code == 400 and refused.json()["code"] == "BAD_REQUEST"


def test_an_unknown_role_is_404(admin):
    for method in ("GET", "PUT"):
        missing = admin.call(method, "/v2/usermanagement/roles/999", json={"name": "x"})
        assert missing.status_code == 404 and missing.json()["code"] == "UM_ROLE_NOT_FOUND"


def test_only_administrators_may_see_or_manage_roles(client, admin, aa_emulator):
    for method, path in [
        ("POST", "/v2/usermanagement/roles/list"),
        ("POST", "/v2/usermanagement/roles"),
        ("GET", "/v2/usermanagement/roles/1"),
        ("PUT", "/v2/usermanagement/roles/1"),
    ]:
        refused = client.call(method, path, json={"name": "x"})
        assert refused.status_code == 403 and refused.json()["code"] == "UM_ACCESS_DENIED", path
    # A role with Manage roles makes its users administrators of roles.
    manager = {"action": "rolesmanagement", "resourceType": "rolesmanagement"}
    made = admin.call(
        "POST", "/v2/usermanagement/roles", json={"name": "M", "permissions": [manager], "principals": [{"id": 25}]}
    )
    assert made.status_code == 201
    assert client.call("POST", "/v2/usermanagement/roles/list", json={}).status_code == 200


@pytest.mark.parametrize(("setting", "off", "on"), [("roles_v2_enabled", "v2", "v1"), ("roles_v1_enabled", "v1", "v2")])
def test_a_version_switched_off_answers_404(admin, aa_emulator, setting, off, on):
    aa_emulator.configure(**{setting: False})
    for method, path in [("POST", "/roles/list"), ("POST", "/roles"), ("GET", "/roles/1"), ("PUT", "/roles/1")]:
        missing = admin.call(method, f"/{off}/usermanagement{path}", json={"name": "x"})
        assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert named(admin, "AAE_Admin", on).status_code == 200


def test_a_late_commit_create_is_checked_at_once_and_done_later(clocked_emulator, clock):
    admin = Client(clocked_emulator.url)
    admin.login(ADMIN)
    admin.call("POST", "/v2/usermanagement/roles", json={"name": "Taken"})
    clocked_emulator.faults.add("late_commit", method="POST", path="/usermanagement/roles$", seconds=2, count=2)
    duplicate = admin.call("POST", "/v2/usermanagement/roles", json={"name": "Taken"})
    assert duplicate.status_code == 409  # a refusal is answered at once, not held back
    with pytest.raises(requests.ConnectionError):
        admin.call("POST", "/v2/usermanagement/roles", json={"name": "Later"})
    assert named(admin, "Later").json()["list"] == []
    clock.advance(2)
    assert [role["name"] for role in named(admin, "Later").json()["list"]] == ["Later"]
