"""hook.update_work_item, delete_work_items and requeue_work_items over HTTP against the emulator."""

from __future__ import annotations

import time

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError, WorkItemChangedError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

LIST = "POST /v3/wlm/queues/{queueId}/workitems/list"
PUT = "PUT /v4/wlm/queues/{queueId}/workitems/{id}"
DELETE = "DELETE /v3/wlm/queues/{queueId}/workitems/{id}"


@pytest.fixture
def emulator(aa_emulator, monkeypatch):
    """A bot that works items at once: added items have finished by the next request."""
    aa_emulator.configure(pickup_delay=0, work_delay=0)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


@pytest.fixture
def held(aa_emulator, monkeypatch):
    """A paused bot: items stay NEW."""
    aa_emulator.configure(pause_bot=True)
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


def statuses(emulator, queue=20):
    return {item["id"]: item["status"] for item in emulator.work_items(queue)}


def test_failed_items_are_requeued_as_new_and_worked_again(emulator, capsys):
    ok, flaky, broken = emulator.add_work_items(20, [{"n": "ok"}, {"n": "FAIL_ONCE"}, {"n": "FAIL_ONCE too"}])
    hook = AutomationAnywhereHook()
    assert statuses(emulator) == {ok["id"]: "COMPLETED", flaky["id"]: "FAILED", broken["id"]: "FAILED"}

    assert hook.requeue_work_items(20) == [flaky["id"], broken["id"]]

    # One listing, one PUT each: NEW at once, never READY_TO_RUN (which only the system sets).
    assert (emulator.counters.requests(LIST), emulator.counters.requests(PUT)) == (1, 2)
    assert "refused" not in capsys.readouterr().out
    assert set(statuses(emulator).values()) == {"COMPLETED"}
    assert hook.requeue_work_items(20, ["FAILED"]) == []  # nothing failed any more


def test_max_items_and_a_filter_narrow_the_requeue(emulator):
    items = emulator.add_work_items(20, [{"n": f"FAIL_ONCE {n}", "region": "EU" if n % 2 else "US"} for n in range(5)])
    hook = AutomationAnywhereHook()
    eu = {"operator": "eq", "field": "region", "value": "EU"}
    assert hook.requeue_work_items(20, filter=eu, max_items=1) == [items[1]["id"]]
    assert hook.requeue_work_items("20", ("failed",), eu) == [items[3]["id"]]
    assert sorted(item_id for item_id, status in statuses(emulator).items() if status == "FAILED") == [
        items[0]["id"],
        items[2]["id"],
        items[4]["id"],
    ]


def test_update_changes_status_result_and_data_under_the_version_lock(held):
    (item,) = held.add_work_items(20, [{"invoice": "INV-1", "amount": 10}])
    hook = AutomationAnywhereHook()

    held_item = hook.update_work_item(20, item["id"], status="on_hold", result="waiting for the vendor")
    assert (held_item["status"], held_item["result"], held_item["version"]) == (
        "ON_HOLD",
        "waiting for the vendor",
        "1",
    )
    fixed = hook.update_work_item(20, item["id"], data={"invoice": "INV-1", "amount": 12}, version=1)
    assert (fixed["json"], fixed["status"], fixed["version"]) == ({"invoice": "INV-1", "amount": 12}, "ON_HOLD", "2")
    again = hook.update_work_item(20, item["id"], data={"invoice": "INV-1", "amount": 12})
    assert again["version"] == "2"  # already so: not written
    assert held.counters.requests(PUT) == 2

    with pytest.raises(WorkItemChangedError) as stale:
        hook.update_work_item(20, item["id"], status="NEW", version=1)
    assert (stale.value.current_version, stale.value.current_status) == ("2", "ON_HOLD")
    assert held.counters.requests(PUT) == 2

    with pytest.raises(AutomationAnywhereError) as refused:
        hook.update_work_item(20, item["id"], status="READY_TO_RUN")
    assert (refused.value.status, refused.value.code) == (400, "WLM_STATUS_TRANSITION_NOT_ALLOWED")


def test_a_control_room_before_v34_takes_updates_on_v3_and_the_hook_remembers(held):
    held.configure(wlm_v4_enabled=False)
    first, second = held.add_work_items(20, [{"n": 1}, {"n": 2}])
    hook = AutomationAnywhereHook()
    assert hook.update_work_item(20, first["id"], status="ON_HOLD")["status"] == "ON_HOLD"
    assert hook.update_work_item(20, second["id"], status="ON_HOLD")["status"] == "ON_HOLD"
    v3 = "PUT /v3/wlm/queues/{queueId}/workitems/{id}"
    assert (held.counters.requests(PUT), held.counters.requests(v3)) == (1, 2)  # v4 asked once only
    hook.close()


def test_an_update_whose_answer_was_lost_after_the_commit_is_success(held, no_sleep):
    (item,) = held.add_work_items(20, [{"a": "x"}])
    held.faults.add("drop_after_commit", method="PUT", count=1)
    updated = AutomationAnywhereHook().update_work_item(20, item["id"], status="ON_HOLD")
    assert (updated["status"], updated["version"]) == ("ON_HOLD", "1")  # applied once
    assert held.counters.requests(PUT) == 2 and held.counters.statuses()["409"] == 1
    assert no_sleep == [1.0]


def test_an_update_committed_late_is_not_applied_twice(held, no_sleep):
    (item,) = held.add_work_items(20, [{"a": "x"}])
    held.faults.add("late_commit", method="PUT", count=1, seconds=0.2)
    hook = AutomationAnywhereHook()
    updated = hook.update_work_item(20, item["id"], status="ON_HOLD", result="late")
    assert (updated["status"], updated["version"]) == ("ON_HOLD", "1")  # the re-send came first
    time.sleep(0.3)  # the late commit is done now: with its stale version it changes nothing
    assert held.work_items(20)[0]["version"] == "1"


def test_deletes_report_deleted_and_absent_ids_and_refuse_active_items(held, no_sleep):
    one, two, three = held.add_work_items(20, [{"a": 1}, {"a": 2}, {"a": 3}])
    hook = AutomationAnywhereHook()
    held.faults.add("drop_after_commit", method="DELETE", count=1)
    outcome = hook.delete_work_items(20, [one["id"], 99999, two["id"]])
    assert outcome == {"deleted": [one["id"], two["id"]], "absent": ["99999"]}
    assert hook.delete_work_items(20, one["id"]) == {"deleted": [], "absent": [one["id"]]}

    held.configure(pause_bot=False, pickup_delay=0, work_delay=3600)
    with pytest.raises(AutomationAnywhereError) as refused:
        hook.delete_work_items(20, [three["id"]])
    assert refused.value.code == "WLM_WORKITEM_NOT_DELETABLE"
    assert "deleted before it: none" in str(refused.value)
    with pytest.raises(AutomationAnywhereError) as unknown_queue:
        hook.delete_work_items(5, [three["id"]])
    assert unknown_queue.value.code == "WLM_QUEUE_NOT_FOUND"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda hook: hook.update_work_item(20, 1), "Nothing to update"),
        (lambda hook: hook.update_work_item(20, 1, status=""), "status must be a non-empty"),
        (lambda hook: hook.update_work_item(20, 1, data="text"), "data must be a dict"),
        (lambda hook: hook.update_work_item(20, "x", status="NEW"), "work_item_id must be a positive integer"),
        (lambda hook: hook.delete_work_items(20, []), "work_item_ids is empty"),
        (lambda hook: hook.requeue_work_items(20, ["READY_TO_RUN"]), "already queued"),
        (lambda hook: hook.requeue_work_items(20, filter={"operator": "like"}), "filter.operator"),
        (lambda hook: hook.requeue_work_items(20, max_items=0), "max_items"),
    ],
)
def test_bad_input_fails_before_any_request(held, call, message):
    with pytest.raises(InvalidInputError, match=message):
        call(AutomationAnywhereHook())
    assert held.counters.requests() == 0
