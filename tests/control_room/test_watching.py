"""Changes since a watermark (the asset watchers' poll), against a scripted Control Room."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.watching import (
    WatchedRecords,
    Watermark,
    read_changes,
    validate_statuses,
)
from tests.control_room.scripted import Script, answer, expect, login, run

SINCE = "2026-12-04T17:00:00.000Z"
LATER = "2026-12-04T17:00:05.000Z"
ITEMS = "/v3/wlm/queues/20/workitems/list"
WATCHED = WatchedRecords.work_items("20", ("COMPLETED", "FAILED"))


def body(since: str = SINCE, offset: int = 0) -> dict:
    return {
        "filter": {
            "operator": "and",
            "operands": [
                {
                    "operator": "or",
                    "operands": [
                        {"operator": "eq", "field": "status", "value": "COMPLETED"},
                        {"operator": "eq", "field": "status", "value": "FAILED"},
                    ],
                },
                {"operator": "ge", "field": "updatedOn", "value": since},
            ],
        },
        "sort": [{"field": "updatedOn", "direction": "asc"}, {"field": "id", "direction": "asc"}],
        "page": {"offset": offset, "length": 100},
    }


def item(item_id: int, updated: str = SINCE, status: str = "COMPLETED") -> dict:
    return {"id": item_id, "status": status, "updatedOn": updated, "result": "ok"}


def test_records_seen_at_the_watermark_are_dropped_and_the_watermark_moves_past_the_last(session, token):
    listed = [item(1), item(2), item(3, LATER), item(4, LATER)]
    script = Script(
        [login(token), (expect("POST", ITEMS, json=body()), answer(200, {"page": {"totalFilter": 4}, "list": listed}))]
    )
    changes = run(read_changes(session, WATCHED, Watermark(SINCE, ("1",))), script, session=session)
    assert [record["id"] for record in changes.records] == ["2", "3", "4"]
    assert changes.watermark == Watermark(LATER, ("3", "4")) and not changes.more


def test_at_most_the_limit_is_taken_and_the_rest_waits_for_the_next_poll(session, token):
    listed = [item(n) for n in range(1, 6)]
    script = Script(
        [login(token), (expect("POST", ITEMS, json=body()), answer(200, {"page": {"totalFilter": 5}, "list": listed}))]
    )
    changes = run(read_changes(session, WATCHED, Watermark(SINCE), limit=3), script, session=session)
    assert [record["id"] for record in changes.records] == ["1", "2", "3"]
    assert changes.watermark == Watermark(SINCE, ("1", "2", "3")) and changes.more


def test_a_page_boundary_within_one_instant_goes_on_by_offset(session, token):
    first = [item(n) for n in range(1, 101)]
    second = [item(n) for n in range(101, 121)]
    script = Script(
        [
            login(token),
            (expect("POST", ITEMS, json=body()), answer(200, {"page": {"totalFilter": 120}, "list": first})),
            (expect("POST", ITEMS, json=body(offset=100)), answer(200, {"page": {"totalFilter": 120}, "list": second})),
        ]
    )
    seen = tuple(str(n) for n in range(1, 101))
    changes = run(read_changes(session, WATCHED, Watermark(SINCE, seen)), script, session=session)
    assert [record["id"] for record in changes.records] == [str(n) for n in range(101, 121)]
    assert changes.watermark.seen == (*seen, *(str(n) for n in range(101, 121)))


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (item(9, "2026-12-04T16:59:59.999Z"), "is not at or after the watermark"),
        (item(9, status="IN_PROGRESS"), "its status 'IN_PROGRESS' is not one of COMPLETED, FAILED"),
        ({"id": 9, "status": "COMPLETED"}, "is not at or after the watermark"),
    ],
)
def test_a_record_that_was_not_asked_for_stops_the_poll(session, token, record, problem):
    script = Script(
        [login(token), (expect("POST", ITEMS), answer(200, {"page": {"totalFilter": 1}, "list": [record]}))]
    )
    with pytest.raises(AutomationAnywhereError, match=problem):
        run(read_changes(session, WATCHED, Watermark(SINCE)), script, session=session)


def test_runs_of_another_bot_stop_the_poll(session, token):
    watched = WatchedRecords.bot_runs("501", ("COMPLETED",))
    run_of_other = {"id": "e-1", "status": "COMPLETED", "modifiedOn": SINCE, "fileId": 502}
    script = Script(
        [
            login(token),
            (expect("POST", "/v3/activity/list"), answer(200, {"page": {"totalFilter": 1}, "list": [run_of_other]})),
        ]
    )
    with pytest.raises(AutomationAnywhereError, match="a run of bot '502', not of bot 501"):
        run(read_changes(session, watched, Watermark(SINCE)), script, session=session)


def test_a_stored_watermark_is_read_back_only_when_it_is_one():
    assert Watermark.from_json(Watermark(SINCE, ("1",)).to_json()) == Watermark(SINCE, ("1",))
    for stored in (None, "x", {"since": "yesterday"}, {"since": SINCE, "seen": [1]}):
        assert Watermark.from_json(stored) is None


def test_statuses_are_upper_case_without_repeats():
    assert validate_statuses(["completed", "FAILED", "Completed"]) == ("COMPLETED", "FAILED")
    with pytest.raises(InvalidInputError, match="statuses must be a non-empty list"):
        validate_statuses([])
