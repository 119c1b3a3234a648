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
        settle_delay=0,
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
