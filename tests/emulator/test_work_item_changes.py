"""The emulator's rules for changing work items: status moves, ACTIVE items, FAIL_ONCE, late updates."""

from __future__ import annotations

import pytest
import requests

from automation_anywhere_emulator import bot_runner
from automation_anywhere_emulator.responses import ApiError
from tests.emulator.conftest import Client

ITEMS = "/v3/wlm/queues/20/workitems"


@pytest.fixture
def bot_client(clocked_emulator) -> Client:
    client = Client(clocked_emulator.url)
    client.login()
    return client


def put(client, item, **fields):
    return client.call("PUT", f"{ITEMS}/{item['id']}", json={"version": item["version"], **fields})


def current(emulator, item):
    return next(entry for entry in emulator.work_items(20) if entry["id"] == item["id"])


def test_a_failed_item_goes_back_as_new_not_ready_to_run(clocked_emulator, clock, bot_client):
    added = bot_client.add(20, {"order": "A-1 FAIL_ONCE"}).json()["list"][0]
    clock.advance(2)
    failed = current(clocked_emulator, added)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "Emulated bot failure: order contains FAIL_ONCE (a failure that a re-queue mends)"

    refused = put(bot_client, failed, status="READY_TO_RUN")
    assert refused.status_code == 400
    assert refused.json()["code"] == "WLM_STATUS_TRANSITION_NOT_ALLOWED"
    assert "set NEW to queue the item again" in refused.json()["details"]
    assert current(clocked_emulator, added)["version"] == failed["version"]  # refused: nothing changed

    requeued = put(bot_client, failed, status="NEW", json=failed["json"], result=failed["result"])
    assert requeued.status_code == 200 and requeued.json()["status"] == "NEW"
    clock.advance(2)
    assert current(clocked_emulator, added)["status"] == "COMPLETED"  # FAIL_ONCE fails only once


def test_active_items_cannot_be_changed_or_deleted(clocked_emulator, clock, bot_client):
    added = bot_client.add(20, {"a": "x"}).json()["list"][0]
    clock.advance(1)
    active = current(clocked_emulator, added)
    assert active["status"] == "ACTIVE"
    for fields in ({"status": "ON_HOLD"}, {"comment": "hands off"}, {"json": {"a": "y"}}):
        refused = put(bot_client, active, **fields)
        assert refused.status_code == 400 and refused.json()["code"] == "WLM_WORKITEM_NOT_EDITABLE", fields
    # The same values as it has change nothing: accepted (a client sending every field).
    assert put(bot_client, active, status="ACTIVE", json=active["json"]).status_code == 200
    gone = bot_client.call("DELETE", f"{ITEMS}/{added['id']}")
    assert gone.status_code == 400 and gone.json()["code"] == "WLM_WORKITEM_NOT_DELETABLE"
    stale = put(bot_client, {**active, "version": "0"}, status="NEW")
    assert stale.status_code == 409  # the version is checked before the rules


@pytest.mark.parametrize(
    ("start", "allowed", "refused"),
    [
        ("NEW", ["ON_HOLD", "COMPLETED", "FAILED"], ["READY_TO_RUN", "ACTIVE"]),
        ("ON_HOLD", ["NEW", "COMPLETED", "FAILED"], ["READY_TO_RUN"]),
        ("FAILED", ["NEW", "COMPLETED", "ON_HOLD"], ["UNKNOWN", "DATA_ERROR"]),
        ("DATA_ERROR", ["NEW", "COMPLETED", "ON_HOLD"], ["FAILED"]),
        ("UNKNOWN", ["NEW", "COMPLETED", "FAILED"], ["ON_HOLD"]),
        ("COMPLETED", [], ["NEW", "FAILED", "ON_HOLD"]),
    ],
)
def test_status_moves_as_the_lifecycle_documents(aa_emulator, client, start, allowed, refused):
    aa_emulator.configure(pause_bot=True)
    for wanted in allowed + refused:
        item = client.add(20, {"case": f"{start}->{wanted}"}).json()["list"][0]
        if start != "NEW":
            item = put(client, item, status="STATUS_OF_A_BOT").json()  # outside the table: unchecked
            item = put(client, item, status=start).json()
        answer = put(client, item, status=wanted)
        assert answer.status_code == (200 if wanted in allowed else 400), (start, wanted, answer.text)


def test_completed_items_keep_their_status_but_may_be_edited_and_deleted(aa_emulator, client):
    aa_emulator.configure(pause_bot=True)
    item = client.add(20, {"a": "1"}).json()["list"][0]
    done = put(client, item, status="COMPLETED").json()
    refused = put(client, done, status="NEW")
    assert refused.status_code == 400 and "From COMPLETED: no status change, only delete" in refused.json()["details"]
    edited = put(client, done, result="checked by hand")
    assert edited.status_code == 200 and edited.json()["result"] == "checked by hand"
    assert client.call("DELETE", f"{ITEMS}/{item['id']}").status_code == 204


def test_outcome_fails_a_fail_once_item_only_the_first_time():
    assert bot_runner.outcome({"a": "FAIL_ONCE"}).status == "FAILED"
    assert bot_runner.outcome({"a": "FAIL_ONCE"}, worked_before=True).status == "COMPLETED"
    assert bot_runner.outcome({"a": "FAIL_ONCE FAIL"}, worked_before=True).status == "FAILED"
    assert bot_runner.outcome({"a": "STATUS:ON_HOLD", "b": "FAIL_ONCE"}).status == "ON_HOLD"


def test_an_update_committed_late_makes_its_replay_a_version_conflict(clocked_emulator, clock, bot_client):
    clocked_emulator.configure(pause_bot=True)
    item = bot_client.add(20, {"a": "x"}).json()["list"][0]
    clocked_emulator.faults.add("late_commit", method="PUT", seconds=1, count=1)
    with pytest.raises(requests.ConnectionError):
        put(bot_client, item, status="ON_HOLD")
    assert current(clocked_emulator, item)["status"] == "NEW"
    clock.advance(1)
    assert current(clocked_emulator, item)["status"] == "ON_HOLD"
    replay = put(bot_client, item, status="ON_HOLD")
    assert replay.status_code == 409 and replay.json()["code"] == "WLM_VERSION_CONFLICT"


def test_a_refused_late_update_is_answered_at_once(clocked_emulator, clock, bot_client):
    clocked_emulator.configure(pause_bot=True)
    item = bot_client.add(20, {"a": "x"}).json()["list"][0]
    clocked_emulator.faults.add("late_commit", method="PUT", seconds=1)
    refused = put(bot_client, item, status="READY_TO_RUN")
    assert refused.status_code == 400 and refused.json()["code"] == "WLM_STATUS_TRANSITION_NOT_ALLOWED"


def test_a_person_changes_an_item_in_the_ui_under_the_rules_and_no_token_is_issued(aa_emulator):
    aa_emulator.configure(pause_bot=True)
    tokens: list[str] = []
    aa_emulator.observe(tokens=tokens.append)
    (item,) = aa_emulator.add_work_items(20, [{"n": 1}])
    held = aa_emulator.update_work_item(20, item["id"], username="api_user", status="ON_HOLD", result="later")
    assert (held["status"], held["result"], str(held["version"])) == ("ON_HOLD", "later", "1")
    with pytest.raises(ApiError) as refused:
        aa_emulator.update_work_item(20, item["id"], username="api_user", status="READY_TO_RUN")
    assert refused.value.status == 400 and tokens == []
