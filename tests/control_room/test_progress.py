"""Progress lines of long work: at most one per PROGRESS_EVERY seconds, with the rate and the time left."""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.adding import AddProgress, add_items
from airflow_provider_aa.control_room.progress import PROGRESS_EVERY, duration, id_range
from tests.control_room.scripted import Script, answer, expect, login, run

QUEUE = "7"
LIST_PATH = f"/v3/wlm/queues/{QUEUE}/workitems/list"
ADD_PATH = f"/v3/wlm/queues/{QUEUE}/workitems"


def test_an_add_of_five_batches_five_seconds_apart_logs_every_ten_seconds_then_one_summary(session, clock, token):
    def created_after_5_s(request):
        clock.advance(5)
        created_after_5_s.next_id += 1
        return answer(200, {"list": [{"id": created_after_5_s.next_id, "json": request.json["workItems"][0]["json"]}]})

    created_after_5_s.next_id = 100
    items = [{"n": n} for n in range(5)]
    script = Script(
        [
            login(token),
            (expect("POST", LIST_PATH), answer(200, {"list": [{"id": 100}]})),
            *[(expect("POST", ADD_PATH), created_after_5_s) for _ in items],
        ]
    )
    notes: list[str] = []
    operation = add_items(
        session,
        QUEUE,
        items,
        batch_size=1,
        progress=AddProgress("fingerprint"),
        clock=clock,
        lost_answer_delay=0,
        note=notes.append,
    )

    run(operation, script, session=session, clock=clock)

    assert PROGRESS_EVERY == 10
    assert notes == [
        "Sent 1 of 5 work item(s) to queue 7 (id 101); 0.2 items/s, about 20 s left.",
        "Sent 3 of 5 work item(s) to queue 7 (ids 101 to 103); 0.2 items/s, about 10 s left.",
        "Sent 5 of 5 work item(s) to queue 7 (ids 101 to 105); 0.2 items/s, about 0 s left.",
        "Added 5 work item(s) to queue 7 in 25 s: ids 101 to 105.",
    ]


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0 s"), (59.6, "1 min 00 s"), (185, "3 min 05 s"), (7620, "2 h 07 min")]
)
def test_durations_read_as_people_write_them(seconds, text):
    assert duration(seconds) == text


def test_an_id_range_is_the_lowest_and_highest_id_not_each_one():
    assert id_range(["41000", None, "9", "40000"]) == "ids 9 to 41000"
    assert id_range(["7", None]) == "id 7"
    assert id_range([None]) == "no ids"


# -- a wait's messages on many items -------------------------------------------------------------


def _wait(count):
    from airflow_provider_aa.control_room.statuses import WORK_ITEM_FAILURE_STATUSES, WorkItemCheck

    ids = [str(100_000 + n) for n in range(count)]
    return ids, WorkItemCheck("7", ids, ("NEW",), WORK_ITEM_FAILURE_STATUSES)


def test_a_wait_on_100000_items_ends_with_one_short_line_of_counts_and_the_id_range():
    ids, wait = _wait(100_000)
    items = {item_id: {"id": item_id, "status": "COMPLETED" if n % 4 else "ON_HOLD"} for n, item_id in enumerate(ids)}
    verdict = wait.judge(items)
    assert verdict.outcome == "done"
    assert verdict.message == (
        "All 100000 work item(s) in queue 7 are done (ids 100000 to 199999): 75000 COMPLETED, 25000 ON_HOLD."
    )


def test_pending_missing_and_failed_items_are_named_up_to_a_bound_then_counted():
    ids, wait = _wait(1000)
    pending = wait.judge({item_id: {"status": "NEW"} for item_id in ids})
    assert pending.message == (
        "1000 of 1000 work item(s) still pending in queue 7: " + ", ".join(ids[:10]) + ", ... and 990 more."
    )
    missing = wait.judge({})
    assert missing.outcome == "missing"
    assert missing.message.endswith(", ".join(ids[:10]) + ", ... and 990 more.")
    failed = wait.judge({item_id: {"status": "FAILED", "error": f"bad {item_id}"} for item_id in ids})
    lines = failed.message.splitlines()
    assert lines[0] == "Work queue 7: 1000 work item(s) failed:"
    assert lines[1:21] == [f"  id {item_id}: status FAILED: bad {item_id}" for item_id in ids[:20]]
    assert lines[21:] == ["  ... and 980 more (ids 100020 to 100999)."]
