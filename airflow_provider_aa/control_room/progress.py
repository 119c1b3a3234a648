"""
Progress lines of long work (an add of many work items, a re-queue, an export): how far it
got, how fast, and about how long is left — at most one line per ``every`` seconds, so that
a run of hours stays readable. Free of I/O: the caller passes the clock and where lines go
(the hook: ``time.monotonic``, or an add's own wall clock, and its log).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: Seconds between two progress lines at least (the first step always gets one).
PROGRESS_EVERY = 10.0


class ProgressLog:
    """
    Progress of one run: after each batch or page, ``if log.due(): log.step(...)``.

    :param clock: seconds that only go forward (compared only with themselves).
    :param note: receives each line.
    :param unit: what is counted, for the rate (``"items"``: ``"12 items/s"``).
    :param every: seconds between two lines at least.
    :param done: what an earlier try already did: counted in ``done``, not in the rate.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        note: Callable[[str], None],
        *,
        unit: str = "items",
        every: float = PROGRESS_EVERY,
        done: int = 0,
    ) -> None:
        self._clock, self._note, self._unit, self._every = clock, note, unit, every
        self._started = clock()
        self._done_before = done
        self._last_line: float | None = None

    def elapsed(self) -> float:
        """Seconds since this run began."""
        return self._clock() - self._started

    def due(self) -> bool:
        """Whether a line may go out: the first one, or ``every`` seconds after the last."""
        return self._last_line is None or self._clock() - self._last_line >= self._every

    def step(self, done: int, left: int | None, text: str) -> None:
        """
        Log ``text`` with the rate of this run and, when ``left`` (what is still to do) is
        known, the time left. Ask :meth:`due` first: building ``text`` may cost a pass over
        all ids.
        """
        now = self._last_line = self._clock()
        elapsed = now - self._started
        rate = (done - self._done_before) / elapsed if elapsed > 0 else 0.0
        pace = ""
        if rate > 0:
            pace = f"; {rate:.0f}" if rate >= 10 else f"; {rate:.1f}"
            pace += f" {self._unit}/s"
            if left is not None:
                pace += f", about {duration(left / rate)} left"
        self._note(text + pace + ".")


def duration(seconds: float) -> str:
    """``seconds`` for people: ``"42 s"``, ``"3 min 05 s"``, ``"2 h 07 min"``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def id_range(ids: Sequence[str | None]) -> str:
    """The lowest and highest of numeric ids (``None``s ignored), not each one: ``"ids 40957 to 45956"``."""
    numbers = sorted({int(item_id) for item_id in ids if item_id})
    if not numbers:
        return "no ids"
    if len(numbers) == 1:
        return f"id {numbers[0]}"
    return f"ids {numbers[0]} to {numbers[-1]}"


#: Ids a log line or an error names one by one before it only counts the rest.
IDS_SHOWN = 10


def some_ids(ids: Sequence[str], shown: int = IDS_SHOWN) -> str:
    """The first ``shown`` ids and how many more, not each one: ``"40957, 40958, ... and 998 more"``."""
    named = ", ".join(ids[:shown])
    return named if len(ids) <= shown else f"{named}, ... and {len(ids) - shown} more"
