"""The emulator's lists for look-ups by name: queues, repository files, run-as users, device pools."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import API_KEY_USER, Client

QUEUES = "/v3/wlm/queues/list"
PUBLIC = "/v2/repository/workspaces/public/files/list"
PRIVATE = "/v2/repository/workspaces/private/files/list"
RUN_AS_USERS = "/v1/devices/runasusers/list"
POOLS = "/v2/devices/pools/list"
TASK_BOT = "application/vnd.aa.taskbot"
FOLDER = "application/vnd.aa.directory"


def eq(field, value):
    return {"operator": "eq", "field": field, "value": value}


def listed(client, path, body=None):
    answer = client.call("POST", path, json=body if body is not None else {})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_queues_filter_on_name(client):
    answer = listed(client, QUEUES, {"filter": eq("name", "Payments")})
    assert [(queue["id"], queue["name"]) for queue in answer["list"]] == [("21", "Payments")]
    assert answer["page"] == {"offset": 0, "total": 3, "totalFilter": 1}
    assert listed(client, QUEUES, {"filter": eq("name", "payments")})["list"] == []  # eq is exact
    names = {"operator": "or", "operands": [eq("name", "Orders"), eq("name", "Invoices")]}
    sort = [{"field": "name", "direction": "asc"}]
    assert [queue["name"] for queue in listed(client, QUEUES, {"filter": names, "sort": sort})["list"]] == [
        "Invoices",
        "Orders",
    ]


def test_public_files_are_bots_and_their_folders_with_windows_paths(client):
    answer = listed(client, PUBLIC, {"page": {"offset": 0, "length": 100}})
    files = {file["path"]: file for file in answer["list"]}
    assert sorted(path for path, file in files.items() if file["type"] == FOLDER) == [
        "Automation Anywhere",
        "Automation Anywhere\\Bots",
        "Automation Anywhere\\Bots\\Archive",
        "Automation Anywhere\\Bots\\Finance",
    ]
    bots = {file["id"]: path for path, file in files.items() if file["type"] == TASK_BOT}
    assert bots == {
        "501": "Automation Anywhere\\Bots\\Finance\\Invoice Processor",
        "502": "Automation Anywhere\\Bots\\Finance\\Report Builder",
        "503": "Automation Anywhere\\Bots\\Archive\\Invoice Processor",
        "504": "Automation Anywhere\\Bots\\Finance\\Invoice Processor v2",
    }
    api_tasks = {file["id"]: path for path, file in files.items() if file["type"] == "application/vnd.aa.headlessbot"}
    assert api_tasks == {"701": "Automation Anywhere\\Bots\\Finance\\Invoice Classifier"}
    processor = files["Automation Anywhere\\Bots\\Finance\\Invoice Processor"]
    assert processor["name"] == "Invoice Processor" and processor["folder"] is False
    assert processor["parentId"] == files["Automation Anywhere\\Bots\\Finance"]["id"]
    assert processor["workspaceType"] == "PUBLIC"
    assert answer["page"]["total"] == len(files) == 9


def test_files_filter_on_type_and_name(client):
    body = {"filter": {"operator": "and", "operands": [eq("type", TASK_BOT), eq("name", "Invoice Processor")]}}
    assert [file["id"] for file in listed(client, PUBLIC, body)["list"]] == ["501", "503"]
    similar = {"filter": {"operator": "substring", "field": "name", "value": "Invoice Processor"}}
    assert [file["id"] for file in listed(client, PUBLIC, similar)["list"]] == ["501", "503", "504"]
    by_path = {"filter": eq("path", "Automation Anywhere\\Bots\\Archive\\Invoice Processor")}
    assert [file["id"] for file in listed(client, PUBLIC, by_path)["list"]] == ["503"]


def test_the_private_workspace_is_the_callers(aa_emulator, client):
    mine = listed(client, PRIVATE)["list"]
    assert [(file["id"], file["path"]) for file in mine if file["type"] == TASK_BOT] == [
        ("601", "Automation Anywhere\\Bots\\Drafts\\Invoice Processor")
    ]
    assert {file["workspaceType"] for file in mine} == {"PRIVATE"}
    other = Client(aa_emulator.url)
    assert other.login(API_KEY_USER).status_code == 200
    assert listed(other, PRIVATE)["list"] == []


def test_a_private_bot_does_not_deploy(client):
    answer = client.call("POST", "/v3/automations/deploy", json={"fileId": 601, "runAsUserIds": [29]})
    assert answer.status_code == 404 and answer.json()["code"] == "BOT_NOT_FOUND"


def test_an_unknown_workspace_is_404(client):
    answer = client.call("POST", "/v2/repository/workspaces/team/files/list", json={})
    assert answer.status_code == 404
    assert answer.json()["code"] == "REPOSITORY_WORKSPACE_NOT_FOUND"


def test_run_as_users_filter_on_username(client):
    answer = listed(client, RUN_AS_USERS, {"filter": eq("username", "runner_finance")})
    assert answer["list"] == [
        {
            "id": "29",
            "username": "runner_finance",
            "domain": "",
            "firstName": "Finance",
            "lastName": "Runner",
            "email": "runner_finance@example.com",
            "description": "",
            "disabled": False,
        }
    ]
    assert answer["page"] == {"offset": 0, "total": 3, "totalFilter": 1}
    several = {"operator": "or", "operands": [eq("username", "runner_reports"), eq("username", "runner_finance_eu")]}
    assert [user["id"] for user in listed(client, RUN_AS_USERS, {"filter": several})["list"]] == ["30", "31"]


def test_pools_filter_on_name(client):
    answer = listed(client, POOLS, {"filter": eq("name", "Finance Runners")})
    (pool,) = answer["list"]
    assert (pool["id"], pool["name"], pool["deviceCount"]) == ("61", "Finance Runners", "2")
    assert [pool["name"] for pool in listed(client, POOLS)["list"]] == ["Finance Runners", "Empty Pool"]


def test_numeric_ids_and_page_quirks_apply(aa_emulator, client):
    aa_emulator.configure(numeric_ids=True, page_cap=1)
    users = listed(client, RUN_AS_USERS, {"page": {"offset": 1, "length": 100}})
    assert [user["id"] for user in users["list"]] == [30] and users["page"]["totalFilter"] == 3
    files = listed(client, PUBLIC, {"filter": eq("type", TASK_BOT)})
    assert files["list"][0]["id"] == 501 and isinstance(files["list"][0]["parentId"], int)
    assert listed(client, POOLS)["list"][0]["deviceCount"] == 2


@pytest.mark.parametrize("path", [PUBLIC, RUN_AS_USERS, POOLS])
def test_the_lists_need_a_token_and_a_well_formed_body(aa_emulator, client, path):
    assert Client(aa_emulator.url).call("POST", path, json={}).status_code == 401
    bad = client.call("POST", path, json={"filter": {"operator": "like", "field": "name", "value": "x"}})
    assert bad.status_code == 400


def test_a_seed_without_look_up_data_lists_nothing():
    from automation_anywhere_emulator import ControlRoomEmulator
    from automation_anywhere_emulator.config import load_seed

    seed = {key: value for key, value in load_seed().items() if key not in ("runAsUsers", "pools", "privateBots")}
    with ControlRoomEmulator(seed=seed) as emulator:
        client = Client(emulator.url)
        assert client.login(multipleLogin=True).status_code == 200
        assert listed(client, RUN_AS_USERS)["list"] == listed(client, POOLS)["list"] == []
        assert listed(client, PRIVATE)["list"] == []
        assert len(listed(client, PUBLIC)["list"]) == 9
