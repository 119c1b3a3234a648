"""Updating, deleting and re-queuing work items, driven against a scripted Control Room."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room import work_item_changes
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError, WorkItemChangedError
from airflow_provider_aa.control_room.work_item_changes import (
    RequeueProgress,
    UpdateApi,
    WorkItemChange,
    delete_work_items,
    requeue_fingerprint,
    requeue_items,
    update_work_item,
    validate_max_items,
    validate_requeue_statuses,
    validate_version,
)
from tests.control_room.scripted import Script, answer, expect, login, lost, run, sequence

QUEUE = "20"
LIST = f"/v3/wlm/queues/{QUEUE}/workitems/list"


def item(item_id, version="0", status="FAILED", data=None, result=""):
    return {
        "id": item_id,
        "queueId": QUEUE,
        "version": version,
        "status": status,
        "json": data or {"n": item_id},
        "result": result,
    }


def read(token, item_id, *found):
    body = {"filter": {"operator": "eq", "field": "id", "value": item_id}, "page": {"offset": 0, "length": 100}}
    return expect("POST", LIST, body=body, token=token), answer(200, {"list": list(found)})


def put(token, item_id, body, outcome, version="v4"):
    path = f"/{version}/wlm/queues/{QUEUE}/workitems/{item_id}"
    return expect("PUT", path, json=body, token=token, replay_safe=False), outcome


def refusal(status, code, message="refused"):
    return answer(status, {"code": code, "message": message, "details": ""})


# -- update ------------------------------------------------------------------------------------


def test_an_update_sends_every_field_with_the_version_just_read(session, clock, token):
    current = item("7", version="3", data={"a": 1}, result="bot said no")
    updated = {**current, "version": 4, "status": "NEW"}
    body = {"version": "3", "json": {"a": 1}, "result": "bot said no", "status": "NEW"}
    script = Script([login(token), read(token, "7", current), put(token, "7", body, answer(200, updated))])
    change = WorkItemChange.validate("new", None, None)
    result = run(update_work_item(session, QUEUE, "7", change), script, session=session, clock=clock)
    assert result["status"] == "NEW" and result["version"] == "4"  # numbers normalised to strings


def test_data_replaces_json_and_an_empty_answer_is_read_again(session, clock, token):
    current = item("7", version="1", status="ON_HOLD")
    body = {"version": "1", "json": {"fixed": True}, "result": "", "status": "ON_HOLD"}
    after = {**current, "version": "2", "json": {"fixed": True}}
    script = Script(
        [login(token), read(token, "7", current), put(token, "7", body, answer(204)), read(token, "7", after)]
    )
    change = WorkItemChange.validate(None, None, {"fixed": True})
    assert run(update_work_item(session, QUEUE, "7", change), script, session=session, clock=clock) == after


def test_an_item_that_already_shows_the_change_is_not_written(session, clock, token):
    script = Script([login(token), read(token, "7", item("7", status="NEW"))])
    change = WorkItemChange.validate("NEW", None, None)
    assert run(update_work_item(session, QUEUE, "7", change), script, session=session, clock=clock)["status"] == "NEW"


def test_a_stale_version_given_fails_before_any_write(session, clock, token):
    script = Script([login(token), read(token, "7", item("7", version="5", status="FAILED"))])
    change = WorkItemChange.validate("NEW", None, None)
    with pytest.raises(WorkItemChangedError) as changed:
        run(update_work_item(session, QUEUE, "7", change, version="4"), script, session=session, clock=clock)
    assert (changed.value.current_version, changed.value.current_status) == ("5", "FAILED")
    assert "changed since version 4: it is now version 5, status FAILED" in str(changed.value)


def test_an_item_not_in_the_queue_is_reported_gone(session, clock, token):
    script = Script([login(token), read(token, "7")])
    with pytest.raises(WorkItemChangedError, match="is not in queue 20"):
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock)


def test_v4_answering_404_falls_back_to_v3_and_remembers_it(session, clock, token):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    body8 = {"version": "0", "json": {"n": "8"}, "result": "", "status": "NEW"}
    script = Script(
        [
            login(token),
            read(token, "7", item("7")),
            put(token, "7", body, refusal(404, "NOT_FOUND")),
            put(token, "7", body, answer(200, {**item("7"), "version": "1", "status": "NEW"}), version="v3"),
            read(token, "8", item("8")),
            put(token, "8", body8, answer(200, {**item("8"), "version": "1", "status": "NEW"}), version="v3"),
        ]
    )
    api = UpdateApi()
    change = WorkItemChange("NEW")
    run(
        sequence(
            update_work_item(session, QUEUE, "7", change, api=api),
            update_work_item(session, QUEUE, "8", change, api=api),
        ),
        script,
        session=session,
        clock=clock,
    )
    assert api.known == "v3"


def test_404_from_both_versions_is_an_error_and_teaches_nothing(session, clock, token):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    script = Script(
        [
            login(token),
            read(token, "7", item("7")),
            put(token, "7", body, refusal(404, "WLM_WORKITEM_NOT_FOUND")),
            put(token, "7", body, refusal(404, "WLM_WORKITEM_NOT_FOUND"), version="v3"),
        ]
    )
    api = UpdateApi()
    with pytest.raises(AutomationAnywhereError) as failed:
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW"), api=api), script, session=session, clock=clock)
    assert failed.value.status == 404 and api.known is None


@pytest.mark.parametrize(
    "now",
    [
        "ON_HOLD",  # someone else held it: never overwritten
        "NEW",  # someone else made the same change: reported, as this call did not make it
    ],
)
def test_a_version_conflict_without_a_lost_answer_reads_again_and_never_overwrites(session, clock, token, now):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    script = Script(
        [
            login(token),
            read(token, "7", item("7")),
            put(token, "7", body, refusal(409, "WLM_VERSION_CONFLICT")),
            read(token, "7", item("7", version="1", status=now)),
        ]
    )
    with pytest.raises(WorkItemChangedError) as changed:
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock)
    assert (changed.value.current_version, changed.value.current_status) == ("1", now)
    assert "status='NEW'" in str(changed.value) and "answer" not in str(changed.value)
    # The Control Room's answer stays on the error: status, code, the call.
    assert (changed.value.status, changed.value.code, changed.value.method) == (409, "WLM_VERSION_CONFLICT", "PUT")


def test_an_item_deleted_between_the_read_and_the_update_is_reported_gone(session, clock, token):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    script = Script(
        [
            login(token),
            read(token, "7", item("7")),
            put(token, "7", body, refusal(404, "WLM_WORKITEM_NOT_FOUND"), version="v4"),
            put(token, "7", body, refusal(404, "WLM_WORKITEM_NOT_FOUND"), version="v3"),
        ]
    )
    with pytest.raises(WorkItemChangedError, match="is not in queue 20") as gone:
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock)
    assert gone.value.status == 404


def test_an_item_listed_without_its_data_is_not_updated(session, clock, token):
    bare = {"id": "7", "version": "0", "status": "FAILED"}
    script = Script([login(token), read(token, "7", bare)])
    with pytest.raises(AutomationAnywhereError, match=r"carries no data \('json'\): not updated"):
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock)


def test_a_retry_does_not_count_an_item_someone_else_held_meanwhile(session, clock, token):
    fingerprint = requeue_fingerprint(QUEUE, ("FAILED",), None, None)
    saved = {"fingerprint": fingerprint, "pages": 0, "chosen": [["5", "2"]], "after_id": 5}
    progress = RequeueProgress.load(saved, lambda part: None, fingerprint)
    script = Script([login(token), read(token, "5", item("5", version="3", status="ON_HOLD")), requeue_page(token, 5)])
    warnings: list[str] = []
    ids = run(
        requeue_items(session, QUEUE, ("FAILED",), progress=progress, warn=warnings.append),
        script,
        session=session,
        clock=clock,
    )
    assert ids == [] and "is now ON_HOLD: someone else moved it" in warnings[0]


def test_a_lost_answer_is_sent_again_and_a_conflict_showing_the_change_is_success(session, clock, token):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    now = item("7", version="1", status="NEW")
    script = Script(
        [
            login(token),
            read(token, "7", item("7")),
            put(token, "7", body, lost("timeout")),
            put(token, "7", body, refusal(409, "WLM_VERSION_CONFLICT")),
            read(token, "7", now),
        ]
    )
    assert (
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock) == now
    )
    assert script.sleeps == [1.0]


def test_a_lost_answer_then_a_conflict_not_showing_the_change_says_it_may_be_ours(session, clock, token):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    script = Script(
        [
            login(token),
            read(token, "7", item("7")),
            put(token, "7", body, answer(502)),  # a gateway's 5xx to a PUT that must not be replayed blindly
            put(token, "7", body, refusal(409, "WLM_VERSION_CONFLICT")),
            read(token, "7", item("7", version="3", status="ACTIVE")),
        ]
    )
    with pytest.raises(WorkItemChangedError, match="may have been applied and the item moved on"):
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock)


def test_answers_lost_every_time_give_up_saying_so(session, clock, token):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    script = Script([login(token), read(token, "7", item("7"))] + [put(token, "7", body, lost("dropped"))] * 3)
    with pytest.raises(AutomationAnywhereError, match="no clear answer 3 times; it may or may not be changed"):
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock)


def test_a_409_not_about_the_version_is_the_control_rooms_own_error(session, clock, token):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    script = Script(
        [
            login(token),
            read(token, "7", item("7")),
            put(token, "7", body, refusal(409, "WLM_ITEM_LOCKED", "locked by another user")),
            read(token, "7", item("7")),
        ]
    )
    with pytest.raises(AutomationAnywhereError) as failed:
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock)
    assert failed.value.code == "WLM_ITEM_LOCKED" and not isinstance(failed.value, WorkItemChangedError)


def test_a_refused_status_surfaces_the_control_rooms_code(session, clock, token):
    body = {"version": "2", "json": {"n": "7"}, "result": "", "status": "NEW"}
    script = Script(
        [
            login(token),
            read(token, "7", item("7", version="2", status="ACTIVE")),
            put(token, "7", body, refusal(400, "WLM_WORKITEM_NOT_EDITABLE", "Work item 7 is ACTIVE")),
        ]
    )
    with pytest.raises(AutomationAnywhereError) as failed:
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), script, session=session, clock=clock)
    assert (failed.value.status, failed.value.code) == (400, "WLM_WORKITEM_NOT_EDITABLE")


# -- input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "result", "data", "message"),
    [
        ("", None, None, "status must be a non-empty"),
        ("  ", None, None, "status must be a non-empty"),
        (3, None, None, "status must be a non-empty"),
        (None, 42, None, "result must be text"),
        (None, None, ["a"], "data must be a dict"),
        (None, None, {"": 1}, "data must be a dict"),
        (None, None, {"x": float("nan")}, "data is not JSON-serializable"),
        (None, None, {"x": object()}, "data is not JSON-serializable"),
        (None, None, None, "Nothing to update"),
    ],
)
def test_bad_changes_are_refused(status, result, data, message):
    with pytest.raises(InvalidInputError, match=message):
        WorkItemChange.validate(status, result, data)


def test_checked_inputs():
    assert WorkItemChange.validate(" on_hold ", "", {"a": (1, 2)}) == WorkItemChange("ON_HOLD", "", {"a": [1, 2]})
    assert validate_version("07") == "7" and validate_version(0) == "0" and validate_version(None) is None
    for bad in (-1, True, "v1", 1.5):
        with pytest.raises(InvalidInputError, match="version"):
            validate_version(bad)
    assert validate_requeue_statuses(["failed", "UNKNOWN", "FAILED"]) == ("FAILED", "UNKNOWN")
    assert validate_requeue_statuses("ON_HOLD") == ("ON_HOLD",)
    for bad, message in (([], "empty"), (["FAILED", "new"], "already queued"), ([""], "status name")):
        with pytest.raises(InvalidInputError, match=message):
            validate_requeue_statuses(bad)
    assert validate_max_items(None) is None and validate_max_items("5") == 5 and validate_max_items(1) == 1
    for bad in (0, -3, True, 2.5, "x"):
        with pytest.raises(InvalidInputError, match="max_items"):
            validate_max_items(bad)


# -- delete ---------------------------------------------------------------------------------------


def delete(token, item_id, outcome):
    return expect("DELETE", f"/v3/wlm/queues/{QUEUE}/workitems/{item_id}", token=token, replay_safe=False), outcome


def test_deletes_report_deleted_and_absent_ids(session, clock, token):
    script = Script(
        [
            login(token),
            delete(token, "1", answer(204)),
            delete(token, "2", refusal(404, "WLM_WORKITEM_NOT_FOUND")),
            (expect("GET", f"/v3/wlm/queues/{QUEUE}", token=token), answer(200, {"id": QUEUE})),
            delete(token, "3", lost("timeout")),
            delete(token, "3", refusal(404, "WLM_WORKITEM_NOT_FOUND")),  # the lost one did it
            delete(token, "4", refusal(404, "WLM_WORKITEM_NOT_FOUND")),  # the queue is checked once only
        ]
    )
    outcome = run(delete_work_items(session, QUEUE, ["1", "2", "3", "4"]), script, session=session, clock=clock)
    assert outcome == {"deleted": ["1", "3"], "absent": ["2", "4"]}


def test_an_unknown_queue_is_an_error_not_absent_items(session, clock, token):
    script = Script(
        [
            login(token),
            delete(token, "1", refusal(404, "WLM_QUEUE_NOT_FOUND")),
            (expect("GET", f"/v3/wlm/queues/{QUEUE}", token=token), refusal(404, "WLM_QUEUE_NOT_FOUND")),
        ]
    )
    with pytest.raises(AutomationAnywhereError) as failed:
        run(delete_work_items(session, QUEUE, ["1"]), script, session=session, clock=clock)
    assert failed.value.status == 404 and failed.value.path == f"/v3/wlm/queues/{QUEUE}"


def test_a_refused_delete_names_what_was_deleted_before(session, clock, token):
    script = Script(
        [
            login(token),
            delete(token, "1", answer(204)),
            delete(token, "2", refusal(400, "WLM_WORKITEM_NOT_DELETABLE", "Work item 2 is ACTIVE")),
        ]
    )
    with pytest.raises(AutomationAnywhereError) as failed:
        run(delete_work_items(session, QUEUE, ["1", "2", "3"]), script, session=session, clock=clock)
    assert "deleted before it: ['1'], already absent: none" in str(failed.value)
    assert failed.value.code == "WLM_WORKITEM_NOT_DELETABLE"


# -- re-queue -------------------------------------------------------------------------------------


def requeue_page(token, after_id, *items, length=100, total=None, extra=None):
    operands = [
        {"operator": "eq", "field": "status", "value": "FAILED"},
        {"operator": "gt", "field": "id", "value": str(after_id)},
        *([extra] if extra else []),
    ]
    body = {
        "filter": {"operator": "and", "operands": operands},
        "sort": [{"field": "id", "direction": "asc"}],
        "page": {"offset": 0, "length": length},
    }
    page = {"offset": 0, "total": 99, "totalFilter": len(items) if total is None else total}
    return expect("POST", LIST, json=body, token=token), answer(200, {"list": list(items), "page": page})


def requeue_body(listed, status):
    return {"version": listed["version"], "json": listed["json"], "result": listed["result"], "status": status}


def test_requeue_sets_new_and_skips_items_changed_meanwhile(session, clock, token):
    # Never READY_TO_RUN: only the system sets it (A360 "WLM work item lifecycle").
    one, two, three = item("11"), item("12", version="4"), item("13", version="2")
    extra = {"operator": "substring", "field": "error", "value": "timeout"}
    script = Script(
        [
            login(token),
            requeue_page(token, 0, one, two, three, extra=extra),
            put(token, "11", requeue_body(one, "NEW"), answer(200, {**one, "status": "NEW", "version": "1"})),
            put(token, "12", requeue_body(two, "NEW"), refusal(409, "WLM_VERSION_CONFLICT"), version="v4"),
            put(token, "13", requeue_body(three, "NEW"), answer(200, {**three, "status": "NEW", "version": "3"})),
        ]
    )
    warnings: list[str] = []
    saved: list[dict] = []
    ids = run(
        requeue_items(
            session, QUEUE, ("FAILED",), filter=extra, save=lambda p: saved.append(p.header()), warn=warnings.append
        ),
        script,
        session=session,
        clock=clock,
    )
    assert ids == ["11", "13"]
    assert warnings == [
        "Work item 12 changed after it was listed (version 4 is stale): not re-queued. Control Room said: refused"
    ]
    # Chosen with versions before the first write; cleared once the page is done.
    assert saved[0]["chosen"] == [["11", "0", ""], ["12", "4", ""], ["13", "2", ""]] and saved[0]["after_id"] == 13
    assert saved[-1]["chosen"] is None and saved[-1]["pages"] == 1
    assert saved[-1]["skipped"] == {"changed": ["12"], "refused": [], "gone": []}


def test_requeue_pages_by_id_and_stops_at_max_items(session, clock, token):
    first = [item(str(n)) for n in range(1, 4)]
    script = Script([login(token), requeue_page(token, 0, *first, length=3, total=10)])
    for listed in first:
        script.add(put(token, listed["id"], requeue_body(listed, "NEW"), answer(200, listed)))
    assert run(requeue_items(session, QUEUE, ("FAILED",), max_items=3), script, session=session, clock=clock) == [
        "1",
        "2",
        "3",
    ]


def test_requeue_goes_on_above_the_last_id_while_more_are_listed(session, clock, token):
    script = Script(
        [
            login(token),
            requeue_page(token, 0, item("1"), total=2),  # a page capped at one item: more to come
            put(token, "1", requeue_body(item("1"), "NEW"), answer(200, item("1"))),
            requeue_page(token, 1, item("2"), total=1),
            put(token, "2", requeue_body(item("2"), "NEW"), answer(200, item("2"))),
        ]
    )
    assert run(requeue_items(session, QUEUE, ("FAILED",)), script, session=session, clock=clock) == ["1", "2"]


def test_a_requeue_that_never_ends_stops_after_its_most_pages(session, clock, token, monkeypatch):
    monkeypatch.setattr(work_item_changes, "MAX_PAGES", 2)
    script = Script([login(token)])
    for n in (1, 2):  # a queue where items keep failing: always one more listed
        script.add(requeue_page(token, n - 1, item(str(n)), total=2))
        script.add(put(token, str(n), requeue_body(item(str(n)), "NEW"), answer(200, item(str(n)))))
    with pytest.raises(AutomationAnywhereError, match=r"did not end after 2 pages \(2 items re-queued\)"):
        run(requeue_items(session, QUEUE, ("FAILED",)), script, session=session, clock=clock)


def test_requeue_never_takes_items_a_proxy_let_through_unfiltered(session, clock, token):
    script = Script([login(token), requeue_page(token, 0, item("1", status="COMPLETED"), total=1)])
    assert run(requeue_items(session, QUEUE, ("FAILED",)), script, session=session, clock=clock) == []


def test_a_lost_answer_then_a_conflict_counts_as_requeued(session, clock, token):
    one = item("1")
    script = Script(
        [
            login(token),
            requeue_page(token, 0, one),
            put(token, "1", requeue_body(one, "NEW"), lost("timeout")),
            put(token, "1", requeue_body(one, "NEW"), refusal(409, "WLM_VERSION_CONFLICT")),
            # The item as it is now tells whether the lost send was applied.
            read(token, "1", item("1", version="1", status="READY_TO_RUN")),
        ]
    )
    warnings: list[str] = []
    ids = run(requeue_items(session, QUEUE, ("FAILED",), warn=warnings.append), script, session=session, clock=clock)
    assert ids == ["1"] and warnings == []


def test_a_lost_answer_then_a_conflict_from_someone_elses_hold_is_not_counted(session, clock, token):
    one = item("1")
    script = Script(
        [
            login(token),
            requeue_page(token, 0, one),
            put(token, "1", requeue_body(one, "NEW"), lost("timeout")),
            put(token, "1", requeue_body(one, "NEW"), refusal(409, "WLM_VERSION_CONFLICT")),
            read(token, "1", item("1", version="1", status="ON_HOLD")),  # a person held it meanwhile
        ]
    )
    warnings: list[str] = []
    ids = run(requeue_items(session, QUEUE, ("FAILED",), warn=warnings.append), script, session=session, clock=clock)
    assert ids == []
    assert "is now ON_HOLD: someone else moved it. Not counted as re-queued" in warnings[0]


def test_a_lost_answer_then_a_conflict_from_someone_elses_edit_of_a_still_failed_item_is_not_counted(
    session, clock, token
):
    one, fine = {**item("1"), "jobExecutionId": "run-1"}, item("2")
    script = Script(
        [
            login(token),
            requeue_page(token, 0, one, fine),
            put(token, "1", requeue_body(one, "NEW"), lost("timeout")),
            put(token, "1", requeue_body(one, "NEW"), refusal(409, "WLM_VERSION_CONFLICT")),
            # A person edited its data between the listing and the update: still FAILED, no new run.
            read(token, "1", {**item("1", version="1", data={"n": "fixed"}), "jobExecutionId": "run-1"}),
            put(token, "2", requeue_body(fine, "NEW"), answer(200, {**fine, "status": "NEW"})),
        ]
    )
    warnings: list[str] = []
    notes: list[str] = []
    progress = RequeueProgress(requeue_fingerprint(QUEUE, ("FAILED",), None, None))
    ids = run(
        requeue_items(session, QUEUE, ("FAILED",), progress=progress, warn=warnings.append, note=notes.append),
        script,
        session=session,
        clock=clock,
    )
    assert ids == ["2"] and progress.skipped == {"changed": ["1"], "refused": [], "gone": []}
    assert "is still FAILED with no bot run since it was listed: someone else changed it" in warnings[0]
    assert notes[-1].endswith("Not re-queued: 1 changed by someone else after they were listed (1).")


def test_a_retry_does_not_count_an_item_still_failed_without_a_new_run(session, clock, token):
    fingerprint = requeue_fingerprint(QUEUE, ("FAILED",), None, None)
    saved = {"fingerprint": fingerprint, "pages": 0, "chosen": [["5", "2", "run-1"]], "after_id": 5}
    progress = RequeueProgress.load(saved, lambda part: None, fingerprint)
    edited = {**item("5", version="3"), "jobExecutionId": "run-1"}  # someone edited it; no bot ran it
    script = Script([login(token), read(token, "5", edited), requeue_page(token, 5)])
    warnings: list[str] = []
    ids = run(
        requeue_items(session, QUEUE, ("FAILED",), progress=progress, warn=warnings.append),
        script,
        session=session,
        clock=clock,
    )
    assert ids == [] and progress.skipped["changed"] == ["5"]
    assert "is still FAILED with no bot run since it was listed" in warnings[0]


def test_an_item_refused_for_its_own_reason_is_skipped_and_the_rest_re_queued(session, clock, token):
    odd, fine = item("1"), item("2")
    script = Script(
        [
            login(token),
            requeue_page(token, 0, odd, fine),
            put(token, "1", requeue_body(odd, "NEW"), refusal(422, "WLM_INVALID_ATTRIBUTE")),
            put(token, "2", requeue_body(fine, "NEW"), answer(200, {**fine, "status": "NEW"})),
        ]
    )
    warnings: list[str] = []
    ids = run(requeue_items(session, QUEUE, ("FAILED",), warn=warnings.append), script, session=session, clock=clock)
    assert ids == ["2"]
    assert len(warnings) == 1 and "refused to re-queue work item 1 (WLM_INVALID_ATTRIBUTE" in warnings[0]


def test_an_item_deleted_between_listing_and_update_is_skipped(session, clock, token):
    gone, fine = item("1"), item("2")
    script = Script(
        [
            login(token),
            requeue_page(token, 0, gone, fine),
            put(token, "1", requeue_body(gone, "NEW"), refusal(404, "WLM_WORKITEM_NOT_FOUND"), version="v4"),
            put(token, "1", requeue_body(gone, "NEW"), refusal(404, "WLM_WORKITEM_NOT_FOUND"), version="v3"),
            put(token, "2", requeue_body(fine, "NEW"), answer(200, fine), version="v4"),
        ]
    )
    warnings: list[str] = []
    ids = run(requeue_items(session, QUEUE, ("FAILED",), warn=warnings.append), script, session=session, clock=clock)
    assert ids == ["2"] and "Work item 1 is no longer in queue 20: not re-queued" in warnings[0]


def test_a_retry_reads_the_chosen_page_again_and_touches_no_item_twice(session, clock, token):
    fingerprint = requeue_fingerprint(QUEUE, ("FAILED",), None, None)
    saved = {
        "fingerprint": fingerprint,
        "pages": 1,
        "chosen": [["5", "2"], ["6", "2"], ["7", "2"], ["8", "2"]],
        "after_id": 8,
    }
    progress = RequeueProgress.load(saved, lambda part: ["3"] if part == 0 else None, fingerprint)
    chosen = {"operator": "or", "operands": [{"operator": "eq", "field": "id", "value": n} for n in "5678"]}
    # The earlier try re-queued it, a bot (a new run) failed it again: not touched, counted.
    moved = {**item("5", version="4"), "jobExecutionId": "run-2"}
    same = item("6", version="2")
    late = item("7", version="2")  # the earlier try's update arrives late: a conflict, counted
    script = Script(
        [
            login(token),
            (expect("POST", LIST, body={"filter": chosen}, token=token), answer(200, {"list": [moved, same, late]})),
            put(token, "6", requeue_body(same, "NEW"), answer(200, {**same, "version": "3"})),
            put(token, "7", requeue_body(late, "NEW"), refusal(409, "WLM_VERSION_CONFLICT")),
            read(token, "7", item("7", version="3", status="NEW")),
            requeue_page(token, 8),
        ]
    )
    warnings: list[str] = []
    ids = run(
        requeue_items(session, QUEUE, ("FAILED",), progress=progress, warn=warnings.append),
        script,
        session=session,
        clock=clock,
    )
    assert ids == ["3", "5", "6", "7"]
    assert any("Work item 8 is no longer in queue 20" in warning for warning in warnings)


def test_saved_progress_of_another_requeue_is_not_used():
    saved = {"fingerprint": "other", "pages": 3, "after_id": 90}
    fresh = RequeueProgress.load(saved, lambda part: ["1"], "mine")
    assert (fresh.requeued, fresh.after_id, fresh.chosen) == ([], 0, None)
    # "target" was saved by versions that asked for READY_TO_RUN first: ignored.
    header = {"fingerprint": "mine", "pages": 2, "after_id": 9, "chosen": None, "target": "NEW"}
    # A part that never got written: continue from the ones that did.
    partial = RequeueProgress.load(header, lambda part: ["4", "5"] if part == 0 else None, "mine")
    assert partial.requeued == ["4", "5"] and partial.pages == [["4", "5"]] and partial.after_id == 9


def test_an_older_control_room_is_asked_on_v3_once_v3_answered_even_with_a_refusal(session, clock, token):
    one, two = item("1"), item("2")
    script = Script(
        [
            login(token),
            requeue_page(token, 0, one, two),
            put(token, "1", requeue_body(one, "NEW"), refusal(404, "NOT_FOUND")),
            put(token, "1", requeue_body(one, "NEW"), refusal(400, "BAD_STATUS"), version="v3"),
            put(token, "2", requeue_body(two, "NEW"), answer(200, two), version="v3"),
        ]
    )
    assert run(requeue_items(session, QUEUE, ("FAILED",)), script, session=session, clock=clock) == ["2"]


def test_an_update_lost_three_times_gives_up_saying_it_may_be_changed(session, clock, token):
    body = {"version": "0", "json": {"n": "7"}, "result": "", "status": "NEW"}
    steps = [login(token), read(token, "7", item("7"))] + [put(token, "7", body, lost("timeout")) for _ in range(3)]
    with pytest.raises(AutomationAnywhereError, match="got no clear answer 3 times; it may or may not be changed"):
        run(update_work_item(session, QUEUE, "7", WorkItemChange("NEW")), Script(steps), session=session, clock=clock)
