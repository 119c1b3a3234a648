"""
The emulated Control Room's clock: a time source (``time.time`` unless a test passes its
own) plus ``clock_offset``, as when a Control Room's clock is ahead of or behind the
Airflow workers'.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import threading
from collections.abc import Callable, Iterator


class ControlRoomClock:
    """
    Two readings of one time source, in seconds since the epoch.

    - :meth:`base`: the source itself. It drives the emulator's timelines (the bot's
      ``pickup_delay`` and ``work_delay``, bot runs, ``activity_delay``), so that an offset
      never lengthens or shortens a wait.
    - :meth:`now`: the Control Room's own clock, the source plus the offset, for everything
      it shows or judges: timestamps it records, token ``iat`` and ``exp`` and their expiry,
      the ``Date`` header. :meth:`shown` puts a moment of a timeline on that clock.

    Changing the offset moves the Control Room's clock from that moment on; what it recorded
    before keeps its times, as on a server whose clock an administrator corrects.

    :meth:`at` stops the clock at a past moment for one thread, to do late what was due then.
    """

    def __init__(self, source: Callable[[], float], offset: float = 0.0) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._stopped = threading.local()  # .moment: this thread's stopped base time, if any
        # Each offset and the base time it took over at (ascending): to show past moments as they were.
        self._since: list[float] = [-math.inf]
        self._offsets: list[float] = [offset]

    def base(self) -> float:
        """The time source, without the offset."""
        moment: float | None = getattr(self._stopped, "moment", None)
        return self._source() if moment is None else moment

    def now(self) -> float:
        """The Control Room's time now."""
        moment: float | None = getattr(self._stopped, "moment", None)
        if moment is not None:
            return self.shown(moment)
        with self._lock:
            return self._source() + self._offsets[-1]

    @contextlib.contextmanager
    def at(self, moment: float) -> Iterator[None]:
        """
        Within the block, in this thread only, both readings are of the base-clock ``moment``
        (a late commit is done as if then); other threads (the ``Date`` header) read on.
        """
        self._stopped.moment = moment
        try:
            yield
        finally:
            self._stopped.moment = None

    def shown(self, moment: float) -> float:
        """
        A base-clock ``moment`` (now or past) on the Control Room's clock, with the offset in
        force then; at the very moment of a change, the offset before it (what happened by
        then was done first).
        """
        with self._lock:
            return moment + self._offsets[bisect.bisect_left(self._since, moment) - 1]

    def set_offset(self, offset: float) -> None:
        """Use ``offset`` from now on."""
        with self._lock:
            if offset != self._offsets[-1]:
                # max(): a source that steps back (NTP, a test's clock) must not unsort the history
                self._since.append(max(self._source(), self._since[-1]))
                self._offsets.append(offset)
