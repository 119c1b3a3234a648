"""
Virtual time for triggers: a wall clock and a sleep that run a wait of hours in a moment.

The same :class:`VirtualTime` drives the emulator (its token expiry, bot timeline and
``Date`` header) and the triggers (``TriggerClients(clock=vt, sleep=vt.sleep)``), so token
renewal, deadlines and poll spacing are tested on one clock, deterministically, without
the test's outcome depending on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator, Iterator


class VirtualTime:
    """
    A clock that jumps from one sleeper's wake-up time to the next.

    A sleeper wakes once it is the earliest of the waiting ones, no request is in flight
    (:meth:`in_flight` marks them: real HTTP to the emulator, however slow the machine) and
    ``settle`` real seconds passed: what was due at this instant happens before time moves
    on, as it would in the seconds or minutes of a real wait.

    :param start: the epoch seconds to start at: a multiple of the poll intervals used, so
        that polls fall on the grid from the first one.
    :param settle: real seconds to let other work run before each jump.
    """

    def __init__(self, start: float = 1_800_000_000.0, settle: float = 0.02) -> None:
        self.now = start
        self.settle = settle
        self.jumps: list[float] = []  # the time after each jump: how the wait went
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._advancer: asyncio.Task[None] | None = None
        self._frozen = 0
        self._in_flight = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), woken))
        if self._advancer is None or self._advancer.done():
            self._advancer = asyncio.ensure_future(self._advance())
        await woken

    @contextlib.asynccontextmanager
    async def in_flight(self) -> AsyncIterator[None]:
        """Time stands still while a request is on its way."""
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Within the block, time does not move: the test acts between two instants."""
        self._frozen += 1
        try:
            yield
        finally:
            self._frozen -= 1

    async def _advance(self) -> None:
        while self._sleepers:
            await asyncio.sleep(self.settle)
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)  # cancelled sleepers
            if self._frozen or self._in_flight or not self._sleepers:
                continue
            self.now = max(self.now, self._sleepers[0][0])
            self.jumps.append(self.now)
            while self._sleepers and self._sleepers[0][0] <= self.now:
                woken = heapq.heappop(self._sleepers)[2]
                if not woken.done():
                    woken.set_result(None)
