"""
Fault injection: rules that make chosen requests slow, refused or broken.

A rule has a ``kind``, a ``count`` (how many matching requests it hits; ``None`` = until
cleared), optionally a ``method`` and a ``path`` regular expression (searched in the request
path, without the query), and the kind's parameters:

=====================  ==========================  =============================================
kind                   parameters (default)        effect
=====================  ==========================  =============================================
``latency``            ``seconds`` (1.0)           wait, then handle normally
``rate_limit``         ``retry_after`` (1)         429 + ``Retry-After``, not processed
``server_error``       ``status`` (500)            500/502/503/504 error body, not processed
``drop_before_commit``                             close the connection, no answer, not processed
``drop_after_commit``                              process (commit), then close with no answer
``html_page``                                      200 ``text/html`` SSO login page, not processed
``malformed_json``                                 200 JSON cut off mid-way, not processed
``slow_response``      ``seconds`` (1.0)           process (commit), wait, then answer
=====================  ==========================  =============================================

All matching ``latency`` rules add up; of the other kinds the first matching rule applies.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_aa.emulator.responses import ApiError, Response

KINDS: dict[str, dict[str, Any]] = {
    "latency": {"seconds": 1.0},
    "rate_limit": {"retry_after": 1},
    "server_error": {"status": 500},
    "drop_before_commit": {},
    "drop_after_commit": {},
    "html_page": {},
    "malformed_json": {},
    "slow_response": {"seconds": 1.0},
}
SERVER_ERROR_STATUSES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

SSO_PAGE = b"""<!DOCTYPE html>
<html><head><title>Sign in</title></head>
<body><form method="post" action="/sso/login">
<h1>Sign in to your organisation</h1>
<input name="username"><input name="password" type="password"><button>Sign in</button>
</form></body></html>
"""
TRUNCATED_JSON = b'{"list": [{"id": "40001", "queueId": "20", "status": "NE'


@dataclass
class FaultRule:
    id: int
    kind: str
    count: int | None
    method: str | None
    path: str | None
    params: dict[str, Any]
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "count": self.count,
            "method": self.method,
            "path": self.path,
            **self.params,
        }


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: wait ``latency`` seconds, then apply ``rule`` if any."""

    latency: float = 0.0
    rule: FaultRule | None = None


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(
        self, kind: str, count: int | None = 1, method: str | None = None, path: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Add a rule (see the module doc); returns it as a dict. Bad arguments raise ``ValueError``."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError(f"count must be a whole number >= 1 or None, not {count!r}")
        unknown = set(params) - set(KINDS[kind])
        if unknown:
            raise ValueError(f"fault {kind!r} takes no parameter(s) {', '.join(sorted(unknown))}")
        settings = {**KINDS[kind], **params}
        _check_params(kind, settings)
        try:
            pattern = re.compile(path) if path else None
        except re.error as error:
            raise ValueError(f"path is not a valid regular expression: {error}") from None
        with self._lock:
            rule = FaultRule(next(self._ids), kind, count, method, path, settings, pattern)
            self._rules.append(rule)
            return rule.to_dict()

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def take(self, method: str, path: str) -> FaultPlan:
        """The faults for one request, using up one hit of each rule applied."""
        with self._lock:
            latency, action = 0.0, None
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.kind == "latency":
                    latency += rule.params["seconds"]
                elif action is None:
                    action = rule
                else:
                    continue
                if rule.count is not None:
                    rule.count -= 1
            self._rules = [rule for rule in self._rules if rule.count is None or rule.count > 0]
            return FaultPlan(latency, action)


def answer_instead(rule: FaultRule) -> Response | None:
    """The answer a rule sends in place of processing the request, or ``None``."""
    if rule.kind == "rate_limit":
        retry_after = rule.params["retry_after"]
        return ApiError(
            429,
            "TOO_MANY_REQUESTS",
            "Rate limit exceeded",
            f"Retry after {retry_after} seconds",
            (("Retry-After", str(retry_after)),),
        ).response()
    if rule.kind == "server_error":
        status = rule.params["status"]
        return ApiError(status, "SERVER_ERROR", SERVER_ERROR_STATUSES[status], "Injected by the emulator").response()
    if rule.kind == "html_page":
        return Response(200, SSO_PAGE, "text/html; charset=utf-8")
    if rule.kind == "malformed_json":
        return Response(200, TRUNCATED_JSON)
    return None


def _check_params(kind: str, params: dict[str, Any]) -> None:
    seconds = params.get("seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{kind}: seconds must be a number >= 0, not {seconds!r}")
    retry_after = params.get("retry_after", 0)
    if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
        raise ValueError(f"{kind}: retry_after must be whole seconds >= 0, not {retry_after!r}")
    if kind == "server_error" and params["status"] not in SERVER_ERROR_STATUSES:
        raise ValueError(
            f"server_error: status must be one of {sorted(SERVER_ERROR_STATUSES)}, not {params['status']!r}"
        )
