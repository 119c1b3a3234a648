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
``drip``               ``bytes_per_second`` (1.0)  process (commit), then send the whole answer
                       ``commit`` (true)           (status line, headers, body) at that rate in
                                                   small writes, so per-read client timeouts
                                                   never fire; ``commit: false``: not
                                                   processed, the answer dripped is a 503
``oversized``          ``bytes`` (100 MiB)         200 JSON ``{"list": [], "padding": "xx…"}``
                       ``gzip`` (false)            of ``bytes`` bytes (at least 27), streamed,
                                                   not processed; ``gzip: true``: sent
                                                   ``Content-Encoding: gzip``, ``bytes`` the
                                                   size unpacked (a gzip bomb, ~1/1000 on the
                                                   wire)
``late_commit``        ``seconds`` (2.0)           checked now: a refusal (400, 404, 409, ...)
                       ``answer`` (drop)           is answered at once; otherwise no answer and
                                                   processed (committed) ``seconds`` later, as
                                                   if it had come then (ids, ``createdOn``);
                                                   ``drop``: the connection closes at once;
                                                   ``timeout``: it stays open, silent, until the
                                                   client gives up (at most ``seconds`` + 60 s)
=====================  ==========================  =============================================

All matching ``latency`` rules add up; of the other kinds the first matching rule applies.
Every answer has a correct ``Content-Length``; ``drip`` and ``oversized`` stop quietly when
the client hangs up.

``late_commit`` models a server that commits after the client's timeout, or a load balancer
that cuts the answer off while the server goes on: the request's effect shows up later, not
at once (``slow_response`` commits first, then waits). Meant for adds, it works on any
request (a read is read again, to no effect). Its commit is done by the first request from
its moment on, or by a timer if none comes; ``ControlRoomEmulator.stop`` and ``reset``
forget the commits not done yet. It counts as ``dropped`` (or the refusal's status).

Limits (beyond them ``ValueError``, over HTTP 400 naming the parameter): ``seconds`` 0 to
3600, ``retry_after`` whole 0 to 86400, ``bytes_per_second`` above 0 to 1e9, ``bytes`` whole
1 to 2**34 (16 GiB), ``count`` 1 to 10**9, ``answer`` ``drop`` or ``timeout``.
"""

from __future__ import annotations

import itertools
import re
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from automation_anywhere_emulator.config import check_number
from automation_anywhere_emulator.responses import JSON, ApiError, Response

KINDS: dict[str, dict[str, Any]] = {
    "latency": {"seconds": 1.0},
    "rate_limit": {"retry_after": 1},
    "server_error": {"status": 500},
    "drop_before_commit": {},
    "drop_after_commit": {},
    "html_page": {},
    "malformed_json": {},
    "slow_response": {"seconds": 1.0},
    "drip": {"bytes_per_second": 1.0, "commit": True},
    "oversized": {"bytes": 100 * 2**20, "gzip": False},
    "late_commit": {"seconds": 2.0, "answer": "drop"},
}
#: How a ``late_commit`` leaves the client: closed at once, or silent until it gives up.
LATE_ANSWERS = ("drop", "timeout")
#: Bounds of the numeric parameters: (low, high, whole number).
LIMITS: dict[str, tuple[float, float, bool]] = {
    "count": (1, 10**9, True),
    "seconds": (0, 3600, False),
    "retry_after": (0, 86400, True),
    "bytes_per_second": (0, 1e9, False),
    "bytes": (1, 2**34, True),
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
OVERSIZED_HEAD = b'{"list": [], "padding": "'
OVERSIZED_TAIL = b'"}'
#: Padding bytes per write of an ``oversized`` answer.
OVERSIZED_PIECE = 2**20


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
class Streamed:
    """An answer too big to hold whole: 200 JSON, ``length`` body bytes written piece by piece."""

    length: int
    pieces: Iterable[bytes]
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = JSON


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
        if count is not None:
            _check_limit("rule", "count", count)
        for name, value in (("method", method), ("path", path)):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be text, not {value!r}")
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
    if rule.kind == "drip" and not rule.params["commit"]:
        return ApiError(503, "SERVER_ERROR", SERVER_ERROR_STATUSES[503], "Injected by the emulator").response()
    return None


def oversized(rule: FaultRule) -> Streamed:
    """The ``oversized`` answer of ``rule``; the unpacked body is never held whole."""
    pieces = _padded_json(rule.params["bytes"])
    if not rule.params["gzip"]:
        return Streamed(max(rule.params["bytes"], len(OVERSIZED_HEAD) + len(OVERSIZED_TAIL)), pieces)
    # The compressed body is held (Content-Length comes first): at most ~1/1000 of ``bytes``.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    packed = [compressor.compress(piece) for piece in pieces]
    packed.append(compressor.flush())
    return Streamed(sum(map(len, packed)), packed, (("Content-Encoding", "gzip"),))


def _padded_json(size: int) -> Iterator[bytes]:
    """``{"list": [], "padding": "xx…"}`` of ``size`` bytes (at least 27), in pieces."""
    padding = max(size - len(OVERSIZED_HEAD) - len(OVERSIZED_TAIL), 0)
    piece = b"x" * min(padding, OVERSIZED_PIECE)
    yield OVERSIZED_HEAD
    whole, rest = divmod(padding, OVERSIZED_PIECE)
    for _ in range(whole):
        yield piece
    yield piece[:rest]
    yield OVERSIZED_TAIL


def _check_params(kind: str, params: dict[str, Any]) -> None:
    for name, value in params.items():
        if name in LIMITS:
            _check_limit(kind, name, value)
        elif name in ("commit", "gzip") and not isinstance(value, bool):
            raise ValueError(f"{kind}: {name} must be true or false, not {value!r}")
    if kind == "late_commit" and params["answer"] not in LATE_ANSWERS:
        raise ValueError(f"late_commit: answer must be one of {', '.join(LATE_ANSWERS)}, not {params['answer']!r}")
    if kind == "drip" and params["bytes_per_second"] <= 0:
        raise ValueError(f"drip: bytes_per_second must be greater than 0, not {params['bytes_per_second']!r}")
    if kind == "server_error" and params["status"] not in SERVER_ERROR_STATUSES:
        raise ValueError(
            f"server_error: status must be one of {sorted(SERVER_ERROR_STATUSES)}, not {params['status']!r}"
        )


def _check_limit(kind: str, name: str, value: Any) -> None:
    low, high, whole = LIMITS[name]
    try:
        check_number(f"{kind}: {name}", value, low, high, whole=whole)
    except TypeError as error:  # one exception type for every bad rule
        raise ValueError(str(error)) from None
