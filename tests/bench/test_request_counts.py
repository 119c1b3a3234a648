"""
The provider's request counts in the benchmarks' scenarios, asserted for small N: exact on
any machine. Only what the provider sends or writes is asserted; the baseline, the bench's
own helpers and times are measured by ``make bench`` and never asserted.
"""

from __future__ import annotations

import pytest

import bench  # noqa: F401  (sets a throw-away AIRFLOW_HOME when none is set)
from bench import adding, lookups, saved_add, waiting
from bench.common import ADD, LIST, LOGIN

# -- adding -----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "adds"), [(1, 1), (250, 3), (10_000, 100)])
def test_an_add_logs_in_once_reads_the_newest_id_once_and_sends_one_request_per_100_items(n, adds):
    result = adding.add_ours(n, batch_size=100)
    assert result.logins == 1
    assert result.requests == 1 + 1 + adds  # the login, the list request for the queue's newest id, the adds


def test_an_add_sends_a_batch_size_above_100_in_one_request():
    assert adding.add_ours(250, batch_size=1000).requests == 1 + 1 + 1


# -- adding with the progress saved as the operator does (a subprocess each) -----------


@pytest.fixture(scope="module")
def saved_adds():
    """1,000 and 2,000 items, 100 a batch: 10 and 20 batches, as 10,000 and 100,000 at 1,000."""
    return {n: saved_add.run(n, batch_size=100) for n in (1_000, 2_000)}


@pytest.mark.parametrize("n", [1_000, 2_000])
def test_an_add_saving_its_progress_sends_each_batch_once_on_one_login(saved_adds, n):
    result = saved_adds[n]
    assert result.created == n
    assert result.requests == {LOGIN: 1, LIST: 1, ADD: n // 100}


@pytest.mark.parametrize("n", [1_000, 2_000])
def test_saved_progress_is_a_small_header_per_step_and_each_batchs_ids_once(saved_adds, n):
    result = saved_adds[n]
    batches = n // 100
    assert result.state_writes == 2 * batches + batches  # a header before and after each batch, its ids
    # the parts are exact: 100 ids of 5 digits a batch, '["40001", "40002", ...]'
    parts = batches * (100 * 7 + 99 * 2 + 2)
    headers = result.state_bytes_written - parts
    assert 100 <= headers / (2 * batches) <= 200  # a few numbers and the fingerprint
    assert result.state_bytes_stored < result.state_bytes_written  # the header is overwritten in place


def test_saved_progress_grows_linearly_with_the_number_of_items(saved_adds):
    small, big = saved_adds[1_000], saved_adds[2_000]
    assert big.bytes_per_item == pytest.approx(small.bytes_per_item, rel=0.02)


# -- status look-ups on a big queue -----------------------------------------------------


def test_a_look_up_on_a_logged_in_hook_sends_one_list_request_per_100_ids_and_no_login():
    results = lookups.run((100, 1_000), queue_size=5_000, baseline=False)
    ours = results["ours"]
    assert [(r.ids, r.list_requests, r.logins, r.found) for r in ours] == [(100, 1, 0, 100), (1_000, 10, 0, 1_000)]


# -- waiting (simulated clock) ----------------------------------------------------------


def test_a_sync_wait_sends_one_list_request_per_100_ids_a_round_on_one_login():
    # 250 items at 3/s with 30 s of work: the last ends at 83 + 30 s, seen by the poll at 120 s
    result = waiting.wait_ours(250)
    assert result.requests_per_round == [3, 3, 3]
    assert (result.logins, result.refreshes) == (1, 0)
    assert result.requests == 1 + 3 * 3


def test_a_sync_wait_logs_in_again_once_its_token_expired_between_polls():
    # polls at 0, 60, 120 s; a 100 s token is renewable from 90 s, expired at 120 s: a new login
    result = waiting.wait_ours(250, token_lifetime=100)
    assert result.requests_per_round == [3, 3, 3]
    assert (result.logins, result.refreshes) == (2, 0)
    assert result.requests == 2 + 3 * 3


def test_a_sync_wait_renews_its_token_when_a_poll_falls_in_its_last_tenth():
    # a slower bot: the wait spans 660 s; a 650 s token is renewable from 590 s: renewed at 600 s
    result = waiting.wait_ours(250, bot_rate=0.4, token_lifetime=650)
    assert result.rounds == 12
    assert (result.logins, result.refreshes) == (1, 1)
    assert result.requests == 1 + 1 + 3 * result.rounds


def test_a_sync_wait_on_one_item_sends_one_list_request_a_round_on_one_login():
    result = waiting.wait_ours(1)
    assert result.requests_per_round == [1, 1]
    assert (result.logins, result.refreshes, result.requests) == (1, 0, 1 + 2)
