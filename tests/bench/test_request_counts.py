"""
The benchmarks' request counts, asserted for small N: they are exact on any machine.
Times are measured by ``make bench`` and never asserted.
"""

from __future__ import annotations

import math

import pytest

import bench  # noqa: F401  (sets a throw-away AIRFLOW_HOME when none is set)
from bench import adding, triggerer, waiting
from bench.common import Row, markdown_table

# -- adding -----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "adds"), [(1, 1), (250, 3), (10_000, 100)])
def test_adding_sends_one_login_and_one_request_per_batch(n, adds):
    result = adding.add_ours(n, batch_size=100)
    assert result.logins == 1
    assert result.requests == adds + 1 == math.ceil(n / 100) + 1


def test_adding_with_a_bigger_batch_needs_fewer_requests():
    assert adding.add_ours(250, batch_size=1000).requests == 2


def test_baseline_adding_logs_in_for_each_item():
    result = adding.add_baseline(250)
    assert result.logins == 250
    assert result.requests == 500


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


def test_baseline_sensors_log_in_for_each_poll():
    result = triggerer.run("baseline", 20, interval=2.0)
    assert result.done == 20
    assert result.rounds == 2
    assert result.logins == result.status_requests == 2 * 20
    assert result.requests == 4 * 20


# -- the table --------------------------------------------------------------------------


def test_table_shows_both_sides_and_the_ratio():
    table = markdown_table([Row("add", "100", "HTTP requests", 2, 200), Row("imports", "—", "ms", 58.1, None)])
    assert "| add | 100 | HTTP requests | 2 | 200 | 100× |  |" in table
    assert "| imports | — | ms | 58.1 | — | — |  |" in table
