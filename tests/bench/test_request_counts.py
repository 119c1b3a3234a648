"""
The benchmarks' request counts, asserted for small N: they are exact on any machine.
Times are measured by ``make bench`` and never asserted.
"""

from __future__ import annotations

import json
import math

import pytest

import bench  # noqa: F401  (sets a throw-away AIRFLOW_HOME when none is set)
from bench import adding, lookups, saved_add, triggerer, waiting
from bench.common import ADD, LIST, LOGIN, MemoryTaskState, Row, markdown_table

# -- adding -----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "adds"), [(1, 1), (250, 3), (10_000, 100)])
def test_adding_sends_one_login_one_probe_and_one_request_per_batch(n, adds):
    result = adding.add_ours(n, batch_size=100)
    assert result.logins == 1
    # a login, one list request for the queue's newest id, the adds
    assert result.requests == 1 + 1 + adds == math.ceil(n / 100) + 2


def test_adding_with_a_bigger_batch_needs_fewer_requests():
    assert adding.add_ours(250, batch_size=1000).requests == 3


def test_baseline_adding_logs_in_for_each_item():
    result = adding.add_baseline(250)
    assert result.logins == 250
    assert result.requests == 500


# -- adding with the progress saved as the operator does (a subprocess each) -----------


@pytest.fixture(scope="module")
def saved_adds():
    """1,000 and 2,000 items, 100 a batch: 10 and 20 batches, as 10,000 and 100,000 at 1,000."""
    return {n: saved_add.run(n, batch_size=100) for n in (1_000, 2_000)}


@pytest.mark.parametrize("n", [1_000, 2_000])
def test_saved_add_sends_a_login_a_probe_and_one_add_per_batch(saved_adds, n):
    result = saved_adds[n]
    assert result.created == n
    assert result.requests == {LOGIN: 1, LIST: 1, ADD: n // 100}


@pytest.mark.parametrize("n", [1_000, 2_000])
def test_saved_add_writes_a_header_per_step_and_each_batch_once(saved_adds, n):
    result = saved_adds[n]
    batches = n // 100
    assert result.state_writes == 2 * batches + batches  # a header before and after each batch, its ids
    # the parts are exact: 100 ids of 5 digits a batch, '["40001", "40002", ...]'
    parts = batches * (100 * 7 + 99 * 2 + 2)
    headers = result.state_bytes_written - parts
    assert 100 <= headers / (2 * batches) <= 200  # a few numbers and the fingerprint
    assert result.state_bytes_stored < result.state_bytes_written


def test_saved_add_writes_bytes_linear_in_the_number_of_items(saved_adds):
    small, big = saved_adds[1_000], saved_adds[2_000]
    assert big.bytes_per_item == pytest.approx(small.bytes_per_item, rel=0.02)
    # saving the whole progress at every step grows with the square
    assert big.whole_progress_bytes / small.whole_progress_bytes > 3.5


def test_whole_progress_bytes_is_what_json_would_write():
    batches = [["40001", "40002"], ["40003"], [None, "40005", "40006"]]
    headers = [{"fingerprint": "f", "batches": k, "mark_id": 40000 + k} for k in (0, 1, 1, 2, 2, 3)]
    expected = sum(
        len(json.dumps({"header": header, "ids": [i for batch in batches[: header["batches"]] for i in batch]}))
        for header in headers
    )
    saves = [(len(json.dumps(header)), header["batches"]) for header in headers]
    assert saved_add.whole_progress_bytes(saves, [len(json.dumps(batch)) for batch in batches]) == expected


def test_memory_task_state_counts_json_bytes():
    store = MemoryTaskState()
    store.set("a", {"x": [1, 2]})
    store.set("a", "é")
    assert store.get("a") == "é" and store.get("b") is None
    assert (store.writes, store.bytes_written, store.bytes_stored) == (2, len('{"x": [1, 2]}') + len('"\\u00e9"'), 8)
    store.delete("a")
    assert store.bytes_stored == 0


# -- status look-ups on a big queue -----------------------------------------------------


def test_looking_up_100_and_1000_ids_takes_one_list_request_per_100():
    results = lookups.run((100, 1_000), queue_size=5_000, baseline=False)
    ours = results["ours"]
    assert [(r.ids, r.list_requests, r.logins, r.found) for r in ours] == [(100, 1, 0, 100), (1_000, 10, 0, 1_000)]


def test_baseline_looking_up_logs_in_for_each_id():
    (base,) = lookups.run((20,), queue_size=1_000)["baseline"]
    assert (base.list_requests, base.logins, base.found) == (20, 20, 20)


def test_ids_are_spread_over_the_queue_newest_last():
    assert lookups.spread([str(i) for i in range(10)], 3) == ["2", "6", "9"]
    assert lookups.spread(["a", "b"], 2) == ["a", "b"]


# -- waiting (simulated clock) ----------------------------------------------------------


def baseline_status_requests_per_round(
    n, rate=waiting.BOT_RATE, work=waiting.WORK_DELAY, interval=waiting.POLL_INTERVAL
):
    """
    The model: item i (0-based) is picked up at i / rate and finished work seconds later; a
    round at k * interval asks about every item not seen finished in an earlier round.
    """

    def finished_by(t):
        return 0 if t < work else min(n, math.floor((t - work) * rate) + 1)

    rounds, k = [], 0
    while True:
        rounds.append(n - (finished_by((k - 1) * interval) if k else 0))
        if finished_by(k * interval) == n:
            return rounds
        k += 1


def test_the_model_of_the_bot():
    # 250 items at 3/s with 30 s of work: the last ends at 83 + 30 s, seen by the round at 120 s
    assert baseline_status_requests_per_round(250) == [250, 250, 159]


def test_waiting_on_250_items_costs_three_lookups_per_round_and_one_login():
    result = waiting.wait_ours(250)
    assert result.requests_per_round == [3] * len(baseline_status_requests_per_round(250))
    assert result.logins == 1
    assert result.requests == 1 + 3 * result.rounds


def test_waiting_logs_in_once_per_token_lifetime_at_most():
    # polls at 0, 60, 120 s; a 100 s token is renewable from 90 s, expired at 120 s: a new login
    result = waiting.wait_ours(250, token_lifetime=100)
    assert (result.logins, result.refreshes) == (2, 0)
    assert result.requests == 2 + 3 * result.rounds


def test_waiting_renews_the_token_when_a_poll_falls_before_its_expiry():
    # a slower bot: the wait spans 660 s; a 650 s token is renewable from 590 s: renewed at 600 s
    result = waiting.wait_ours(250, bot_rate=0.4, token_lifetime=650)
    assert result.rounds == 12
    assert (result.logins, result.refreshes) == (1, 1)
    assert result.requests == 1 + 1 + 3 * result.rounds


def test_baseline_waiting_logs_in_for_each_status_request():
    expected = baseline_status_requests_per_round(250)
    result = waiting.wait_baseline(250)
    assert result.requests_per_round == expected
    assert result.logins == sum(expected)
    assert result.requests == 2 * sum(expected)


def test_waiting_on_one_item():
    assert waiting.wait_ours(1).requests_per_round == [1, 1]
    assert waiting.wait_baseline(1).requests == 4


# -- deferred sensors (subprocesses, real time) -----------------------------------------


def test_deferred_sensors_share_one_login_and_batch_their_lookups():
    result = triggerer.run("ours", 150, interval=2.0)
    assert result.done == 150
    assert result.rounds == 2
    assert result.logins == 1
    assert result.status_requests == 2 * 2  # 2 rounds x 150 ids / 100 per request
    assert result.round_1_requests == 2


def test_many_deferred_sensors_send_full_lookups_each_round():
    # as the 10,000 of `make bench`, smaller: 10 full lookups and one of the last 50 ids a round
    result = triggerer.run("ours", 1_050, interval=3.0)
    assert (result.done, result.rounds, result.logins, result.refreshes) == (1_050, 2, 1, 0)
    assert (result.round_1_requests, result.later_requests) == (11, 11)
    assert result.requests == 1 + 22


def test_baseline_sensors_log_in_for_each_poll():
    result = triggerer.run("baseline", 20, interval=2.0)
    assert result.done == 20
    assert result.rounds == 2
    assert result.logins == result.status_requests == 2 * 20
    assert result.round_1_requests == 20
    assert result.requests == 4 * 20


# -- the table --------------------------------------------------------------------------


def test_table_shows_both_sides_and_the_ratio():
    table = markdown_table([Row("add", "100", "HTTP requests", 2, 200), Row("imports", "—", "ms", 58.1, None)])
    assert "| add | 100 | HTTP requests | 2 | 200 | 100× |  |" in table
    assert "| imports | — | ms | 58.1 | — | — |  |" in table
