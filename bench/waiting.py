"""
Waiting for N work items to finish, the emulated bot finishing them at a fixed rate.

Simulated time: the emulator runs on a :class:`~bench.common.SimulatedClock` that each poll
round moves on by the poll interval, so that an hour of waiting takes seconds and both sides
see exactly the same rounds. Token expiry runs on the same clock (the hook's session reads
it too), so renewals happen as they would in real time.

- This provider: the hook's ``get_work_items`` for all ids once per round (one list request
  per 100 ids), as the sensor's poke does; one session for the whole wait.
- Baseline: per round, for each item not yet seen finished, a login and an ``eq`` list
  request (kind to the baseline: it stops asking about an item once it saw it finished).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cached_property

from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.statuses import (
    WORK_ITEM_FAILURE_STATUSES,
    WORK_ITEM_RUNNING_STATUSES,
    judge,
)
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from bench.baseline import PlainClient
from bench.common import LIST, QUEUE_ID, Row, SimulatedClock, connection_to, items

#: The bot takes 3 items per second, each works 30 s; polls every 60 s (the sensor's default
#: poke_interval). Tokens live 5 minutes (Control Rooms default to 20) so that the wait for
#: 1,000 items (7 minutes) outlasts one token. The emulator scans the whole queue for every
#: list request, so a slower bot would make the baseline's many requests take minutes.
#: A sync poller renews its token only when a poll falls into the last tenth (at most 60 s)
#: of the token's life; polls 60 s apart miss the last 30 s of a 5-minute token, so the hook
#: logs in again once per token lifetime instead (the trigger renews between polls).
BOT_RATE = 3.0
WORK_DELAY = 30.0
POLL_INTERVAL = 60.0
TOKEN_LIFETIME = 300.0
MAX_ROUNDS = 10_000


@dataclass(frozen=True)
class WaitResult:
    n: int
    rounds: int
    #: lookup (list) requests of each poll round; logins and refreshes are counted apart
    requests_per_round: list[int]
    logins: int
    refreshes: int
    requests: int

    @property
    def max_requests_per_round(self) -> int:
        return max(self.requests_per_round)


class SimulatedTimeHook(AutomationAnywhereHook):
    """The provider's hook, its session reading the simulated clock instead of ``time.time``."""

    def __init__(self, clock: SimulatedClock) -> None:
        super().__init__()
        self._clock = clock

    @cached_property
    def session(self) -> ControlRoomSession:
        return ControlRoomSession(self.settings, clock=self._clock)


def _setup(
    n: int, bot_rate: float, work_delay: float, token_lifetime: float
) -> tuple[ControlRoomEmulator, SimulatedClock, list[str]]:
    clock = SimulatedClock(math.floor(time.time()))  # whole seconds: token expiry falls on a poll exactly
    config = EmulatorConfig(pickup_delay=0.0, work_delay=work_delay, bot_rate=bot_rate, token_lifetime=token_lifetime)
    emulator = ControlRoomEmulator(config, clock=clock).start()
    with connection_to(emulator):
        hook = AutomationAnywhereHook()
        ids = [item["id"] for item in hook.add_work_items(QUEUE_ID, items(n))]
        hook.close()
    emulator.counters.reset()
    return emulator, clock, ids


def wait_ours(
    n: int,
    *,
    bot_rate: float = BOT_RATE,
    work_delay: float = WORK_DELAY,
    interval: float = POLL_INTERVAL,
    token_lifetime: float = TOKEN_LIFETIME,
) -> WaitResult:
    emulator, clock, ids = _setup(n, bot_rate, work_delay, token_lifetime)
    try:
        with connection_to(emulator):
            hook = SimulatedTimeHook(clock)
            per_round: list[int] = []
            while len(per_round) < MAX_ROUNDS:
                before = emulator.counters.requests(LIST)
                found = hook.get_work_items(QUEUE_ID, ids)
                per_round.append(emulator.counters.requests(LIST) - before)
                verdict = judge(
                    found, pending_statuses=WORK_ITEM_RUNNING_STATUSES, failure_statuses=WORK_ITEM_FAILURE_STATUSES
                )
                if not verdict.pending:
                    break
                clock.advance(interval)
            counters = emulator.counters
            result = WaitResult(
                n, len(per_round), per_round, counters.logins(), counters.refreshes(), counters.requests()
            )
            hook.close()
    finally:
        emulator.stop()
    return result


def wait_baseline(
    n: int,
    *,
    bot_rate: float = BOT_RATE,
    work_delay: float = WORK_DELAY,
    interval: float = POLL_INTERVAL,
    token_lifetime: float = TOKEN_LIFETIME,
) -> WaitResult:
    emulator, clock, ids = _setup(n, bot_rate, work_delay, token_lifetime)
    try:
        client = PlainClient.for_emulator(emulator)
        pending = list(ids)
        per_round: list[int] = []
        while pending and len(per_round) < MAX_ROUNDS:
            before = emulator.counters.requests(LIST)
            pending = [item_id for item_id in pending if client.status(QUEUE_ID, item_id) in WORK_ITEM_RUNNING_STATUSES]
            per_round.append(emulator.counters.requests(LIST) - before)
            if pending:
                clock.advance(interval)
        counters = emulator.counters
        return WaitResult(n, len(per_round), per_round, counters.logins(), counters.refreshes(), counters.requests())
    finally:
        emulator.stop()


def rows(sizes: tuple[int, ...] = (1, 100, 1_000)) -> list[Row]:
    out: list[Row] = []
    scenario = "wait until finished (sync hook)"
    for n in sizes:
        ours, base = wait_ours(n), wait_baseline(n)
        target = -(-n // 100)
        wait = (ours.rounds - 1) * POLL_INTERVAL
        lifetimes = math.floor(wait / TOKEN_LIFETIME) + 1  # tokens needed if none were renewed
        out += [
            Row(scenario, f"{n:,}", "poll rounds", ours.rounds, base.rounds, "same bot, same simulated clock"),
            Row(
                scenario,
                f"{n:,}",
                "status requests per poll round (most)",
                ours.max_requests_per_round,
                base.max_requests_per_round,
                f"target ≤ {target:,}: {'met' if ours.max_requests_per_round <= target else '**not met**'}"
                "; the baseline logs in before each",
            ),
            Row(
                scenario,
                f"{n:,}",
                "logins",
                ours.logins,
                base.logins,
                f"target ≤ {lifetimes} (1 per {TOKEN_LIFETIME:g} s token over a {wait:,.0f} s wait): "
                f"{'met' if ours.logins <= lifetimes else '**not met**'}; ours renewed {ours.refreshes}×",
            ),
            Row(
                scenario, f"{n:,}", "total requests", ours.requests, base.requests, "ours: logins + refreshes + lookups"
            ),
        ]
    return out
