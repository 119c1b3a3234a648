"""What reached the emulator: counts per endpoint and status, logins, refreshes, a request log."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

#: Status key for requests answered by closing the connection.
DROPPED = "dropped"


class Counters:
    """
    Thread-safe counts of Control Room API calls (``/_emulator/`` calls are not counted).
    Endpoints are ``"METHOD /route/{template}"``, e.g.
    ``"POST /v3/wlm/queues/{queueId}/workitems"``; paths no route knows count as
    ``"METHOD <unmatched>"``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._logins: Counter[str] = Counter()
        self._refreshes = 0

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._statuses.clear()
            self._logins.clear()
            self._refreshes = 0

    def count_request(self, endpoint: str) -> None:
        with self._lock:
            self._requests[endpoint] += 1

    def count_status(self, status: int | None) -> None:
        with self._lock:
            self._statuses[DROPPED if status is None else str(status)] += 1

    def count_login(self, username: str) -> None:
        with self._lock:
            self._logins[username] += 1

    def count_refresh(self) -> None:
        with self._lock:
            self._refreshes += 1

    def requests(self, endpoint: str | None = None) -> int:
        """Requests to ``endpoint``, or to all endpoints."""
        with self._lock:
            return self._requests[endpoint] if endpoint else sum(self._requests.values())

    def logins(self, username: str | None = None) -> int:
        """Successful logins of ``username``, or of everybody."""
        with self._lock:
            return self._logins[username] if username else sum(self._logins.values())

    def refreshes(self) -> int:
        with self._lock:
            return self._refreshes

    def statuses(self) -> dict[str, int]:
        """Answers per HTTP status (as text), plus ``"dropped"``."""
        with self._lock:
            return dict(self._statuses)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "statuses": dict(self._statuses),
                "logins": dict(self._logins),
                "refreshes": self._refreshes,
            }


class RequestLog:
    """
    The most recent API requests: method, path (never the query), status, fault, and when
    it was answered (``time``: the emulator's time source, without ``clock_offset``). No
    headers or bodies.
    """

    def __init__(self, size: int = 500, *, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)

    def append(self, method: str, path: str, status: int | None, fault: str | None) -> None:
        entry = {"method": method, "path": path, "status": status, "fault": fault, "time": self._clock()}
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
