"""
newest_id and add_batch driven through a real ControlRoomSession against a scripted Control
Room: the requests they send, the settle Sleep, and the look-ups that reconcile a lost answer.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.adding import AddProgress, add_batch, add_fingerprint, newest_id
from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from tests.control_room.scripted import (
    START,
    Script,
    answer,
    expect,
    login,
    lost,
    run,
)

QUEUE = "7"
ADD_PATH = f"/v3/wlm/queues/{QUEUE}/workitems"
LIST_PATH = f"/v3/wlm/queues/{QUEUE}/workitems/list"
BY_ID = [{"field": "id", "direction": "asc"}]
MARK = 100
SETTLE = 30.0


def item(item_id, data):
    """A work item as the Control Room lists it (numeric id, as some versions send it)."""
    return {"id": item_id, "status": "NEW", "json": data}


def add_step(token, batch, outcome):
    body = {"workItems": [{"json": data} for data in batch]}
    return (expect("POST", ADD_PATH, json=body, token=token, replay_safe=False), outcome)


def created(first_id, batch):
    """The answer to an add that created ``batch`` from ``first_id`` on."""
    return answer(200, {"list": [item(first_id + n, data) for n, data in enumerate(batch)]})


def lookup_step(token, filter, items, *, offset=0, total=None):
    """One page of a look-up of items added after the mark."""
    body = {"filter": filter, "sort": BY_ID, "page": {"offset": offset, "length": 100}}
    page = {"offset": offset, "totalFilter": len(items) if total is None else total}
    return (expect("POST", LIST_PATH, json=body, token=token), answer(200, {"list": items, "page": page}))


def after(mark):
    return {"operator": "gt", "field": "id", "value": str(mark)}


def keyed(mark, key, values):
    """The look-up filter of items after ``mark`` whose ``key`` has one of ``values``."""
    wanted = [{"operator": "eq", "field": key, "value": value} for value in values]
    return {
        "operator": "and",
        "operands": [after(mark), wanted[0] if len(wanted) == 1 else {"operator": "or", "operands": wanted}],
    }


def ids(outcome):
    return [None if entry is None else entry["id"] for entry in outcome.created]


def adding(session, clock, batch, **kwargs):
    kwargs.setdefault("mark_id", MARK)
    kwargs.setdefault("lost_answer_delay", SETTLE)
    return add_batch(session, QUEUE, batch, clock=clock, **kwargs)


# -- newest_id ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("listed", "expected"), [([], 0), ([item(40957, {})], 40957), ([{"id": "812"}], 812)])
def test_newest_id_asks_for_the_one_newest_item(session, clock, token, listed, expected):
    newest_first = {"page": {"offset": 0, "length": 1}, "sort": [{"field": "id", "direction": "desc"}]}
    script = Script(
        [
            login(token),
            (expect("POST", LIST_PATH, json=newest_first, token=token), answer(200, {"list": listed})),
        ]
    )
    assert run(newest_id(session, QUEUE), script, session=session, clock=clock) == expected


# -- adding with a clear answer -----------------------------------------------------------------


def test_a_batch_is_sent_once_and_its_ids_come_back_as_strings_in_request_order(session, clock, token):
    batch = [{"invoice": "A", "amount": 10}, {"invoice": "B", "amount": 20}, {"invoice": "C"}]
    script = Script([login(token), add_step(token, batch, created(101, batch))])

    outcome = run(adding(session, clock, batch), script, session=session, clock=clock)

    assert ids(outcome) == ["101", "102", "103"] and outcome.reconciled == 0
    assert outcome.created[1] == {"id": "102", "status": "NEW", "json": {"invoice": "B", "amount": 20}}
    assert script.sleeps == []


def test_an_answer_with_fewer_items_than_sent_is_an_error(session, clock, token):
    batch = [{"a": 1}, {"a": 2}]
    script = Script([login(token), add_step(token, batch, created(101, batch[:1]))])
    with pytest.raises(AutomationAnywhereError, match="answered an add of 2 work item"):
        run(adding(session, clock, batch), script, session=session, clock=clock)


def test_an_add_that_could_not_connect_is_simply_sent_again_without_a_look_up(session, clock, token):
    batch = [{"a": 1}]
    script = Script(
        [login(token), add_step(token, batch, lost("connect")), add_step(token, batch, created(101, batch))]
    )

    outcome = run(adding(session, clock, batch), script, session=session, clock=clock)

    assert ids(outcome) == ["101"] and outcome.reconciled == 0
    assert script.sleeps == [1.0]  # the session's backoff, not the lost-answer delay


def test_duplicates_refused_with_409_are_found_by_adding_one_item_at_a_time(session, clock, token):
    batch = [{"k": "A"}, {"k": "B"}]
    duplicate = answer(409, {"code": "WLM_DUPLICATE_WORKITEM", "message": "duplicate"})
    script = Script(
        [
            login(token),
            add_step(token, batch, duplicate),
            add_step(token, batch[:1], duplicate),
            add_step(token, batch[1:], created(101, batch[1:])),
        ]
    )
    outcome = run(adding(session, clock, batch, dedupe_key="k"), script, session=session, clock=clock)
    assert ids(outcome) == [None, "101"]


# -- a lost answer ------------------------------------------------------------------------------


LOST = [lost("timeout"), lost("dropped"), answer(500, {}), answer(502, {}), answer(503, {}), answer(504, {})]
LOST_IDS = ["timeout", "dropped", "500", "502", "503", "504"]


@pytest.mark.parametrize("outcome", LOST, ids=LOST_IDS)
def test_after_a_lost_answer_the_queue_is_read_after_the_lost_answer_delay_and_nothing_found_is_resent(
    session, clock, token, outcome
):
    batch = [{"n": 1}, {"n": 2}]
    script = Script(
        [
            login(token),
            add_step(token, batch, outcome),
            lookup_step(token, after(MARK), [item(101, {"n": 1}), item(102, {"n": 2})]),
        ]
    )

    result = run(adding(session, clock, batch), script, session=session, clock=clock)

    assert ids(result) == ["101", "102"] and result.reconciled == 2
    assert script.kinds[-3:] == ["send", "sleep", "send"] and script.sleeps == [SETTLE]


def test_only_the_items_the_queue_lacks_are_sent_again(session, clock, token):
    batch = [{"n": 1}, {"n": 2}, {"n": 3}]
    script = Script(
        [
            login(token),
            add_step(token, batch, lost("timeout")),
            lookup_step(token, after(MARK), [item(102, {"n": 2})]),
            add_step(token, [{"n": 1}, {"n": 3}], created(103, [{"n": 1}, {"n": 3}])),
        ]
    )
    result = run(adding(session, clock, batch), script, session=session, clock=clock)
    assert ids(result) == ["103", "102", "104"] and result.reconciled == 1


def test_other_producers_items_cost_pages_not_correctness(session, clock, token):
    """Look-alikes with other data, and items at or below the mark (a proxy dropping the filter), are not ours."""
    batch = [{"n": 1}, {"n": 2}]
    others = [item(101 + n, {"other": n}) for n in range(99)]
    look_alikes = [item(99, {"n": 1}), item(MARK, {"n": 2}), item(200, {"n": 1, "extra": True})]
    script = Script(
        [
            login(token),
            add_step(token, batch, lost("dropped")),
            lookup_step(token, after(MARK), [*others, look_alikes[0]], total=102),
            lookup_step(token, after(MARK), look_alikes[1:], offset=100, total=102),
            add_step(token, batch, created(201, batch)),
        ]
    )
    result = run(adding(session, clock, batch), script, session=session, clock=clock)
    assert ids(result) == ["201", "202"] and result.reconciled == 0


def test_a_dedupe_key_is_looked_up_100_values_per_or_filter(session, clock, token):
    batch = [{"k": f"K{n}", "v": n} for n in range(150)]
    found = [item(101 + n, {"k": f"K{n}", "v": "as the server keeps it"}) for n in range(100)]
    rest = batch[100:]
    script = Script(
        [
            login(token),
            add_step(token, batch, lost("timeout")),
            lookup_step(token, keyed(MARK, "k", [f"K{n}" for n in range(100)]), found),
            lookup_step(token, keyed(MARK, "k", [f"K{n}" for n in range(100, 150)]), []),
            add_step(token, rest, created(201, rest)),
        ]
    )

    result = run(adding(session, clock, batch, dedupe_key="k"), script, session=session, clock=clock)

    assert ids(result) == [str(n) for n in range(101, 251)] and result.reconciled == 100


def test_one_dedupe_value_is_looked_up_with_an_eq_filter(session, clock, token):
    batch = [{"k": "A"}]
    script = Script(
        [
            login(token),
            add_step(token, batch, lost("timeout")),
            lookup_step(token, keyed(MARK, "k", ["A"]), [item(101, {"k": "A"})]),
        ]
    )
    assert ids(run(adding(session, clock, batch, dedupe_key="k"), script, session=session, clock=clock)) == ["101"]


def test_a_resend_that_is_lost_too_is_reconciled_again_with_the_first_claims_kept(session, clock, token):
    batch = [{"n": 1}, {"n": 1}]
    script = Script(
        [
            login(token),
            add_step(token, batch, lost("timeout")),
            lookup_step(token, after(MARK), [item(101, {"n": 1})]),
            add_step(token, batch[1:], lost("timeout")),
            lookup_step(token, after(MARK), [item(101, {"n": 1}), item(102, {"n": 1})]),
        ]
    )
    result = run(adding(session, clock, batch), script, session=session, clock=clock)
    assert ids(result) == ["101", "102"] and result.reconciled == 2
    assert script.sleeps == [SETTLE, SETTLE]


# -- resuming an earlier try --------------------------------------------------------------------


def test_a_resumed_add_waits_out_the_earlier_send_and_looks_before_sending(session, clock, token):
    """An earlier try saved its progress, sent the second batch and died before saving the answer."""
    items = [{"n": n} for n in range(4)]
    fingerprint = add_fingerprint(QUEUE, items)
    header = {"fingerprint": fingerprint, "batches": 1, "mark_id": 102, "in_flight_since": START - 10}
    progress = AddProgress.load(header, {0: ["101", "102"]}.get, fingerprint)
    pending = items[len(progress.ids) :]
    script = Script(
        [
            login(token),
            lookup_step(token, after(102), [item(103, {"n": 2})]),
            add_step(token, [{"n": 3}], created(104, [{"n": 3}])),
        ]
    )

    result = run(
        adding(session, clock, pending, mark_id=progress.mark_id, maybe_sent_since=progress.in_flight_since),
        script,
        session=session,
        clock=clock,
    )

    assert ids(result) == ["103", "104"] and result.reconciled == 1
    assert script.kinds[:2] == ["sleep", "authenticate"]  # the rest of the lost-answer delay, before anything else
    assert script.sleeps == [SETTLE - 10]


def test_a_resumed_add_whose_earlier_send_never_arrived_sends_everything(session, clock, token):
    batch = [{"n": 1}]
    script = Script([login(token), lookup_step(token, after(MARK), []), add_step(token, batch, created(101, batch))])
    result = run(adding(session, clock, batch, maybe_sent_since=START - 3600), script, session=session, clock=clock)
    assert ids(result) == ["101"] and result.reconciled == 0 and script.sleeps == []


# -- known defects ------------------------------------------------------------------------------


def test_a_dedupe_value_repeated_across_look_up_chunks_claims_each_item_once(session, clock, token):
    # Each value is looked up once: 101 entries with 100 distinct values take one look-up
    # (two pages), and the two items of K0 go to entries 0 and 100, one each.
    batch = [{"k": f"K{n}"} for n in range(100)] + [{"k": "K0"}]  # entries 0 and 100 share K0
    committed = [item(101 + n, data) for n, data in enumerate(batch)]  # the lost add did commit: 101..201
    first_chunk = sorted(committed, key=lambda entry: entry["id"])
    script = Script(
        [
            login(token),
            add_step(token, batch, lost("timeout")),
            lookup_step(token, keyed(MARK, "k", [f"K{n}" for n in range(100)]), first_chunk[:100], total=101),
            lookup_step(
                token, keyed(MARK, "k", [f"K{n}" for n in range(100)]), first_chunk[100:], offset=100, total=101
            ),
        ]
    )

    result = run(adding(session, clock, batch, dedupe_key="k"), script, session=session, clock=clock)

    assert ids(result) == [str(n) for n in range(101, 202)]


def test_the_lost_answer_delay_counts_from_the_attempt_whose_answer_was_lost(session, clock, token):
    batch = [{"n": 1}]
    script = Script(
        [
            login(token),
            add_step(token, batch, answer(429, {}, headers={"Retry-After": "20"})),  # refused: not processed
            add_step(token, batch, lost("timeout")),  # this one may commit late
            lookup_step(token, after(MARK), [item(101, {"n": 1})]),
        ]
    )
    run(adding(session, clock, batch), script, session=session, clock=clock)
    assert script.sleeps == [20.0, SETTLE]
