"""
A scripted Control Room: runs a protocol operation action by action, without a network.

A :class:`Script` lists the requests an operation must yield, in order, each with the
outcome to feed back (an :class:`ApiResponse`, a :class:`TransportFailure`, or a function
of the request returning one). :func:`run` drives the operation like ``exchange.drive``
does: ``Send`` is checked against the next expectation and answered, ``Authenticate`` runs
the session's ``authenticate()`` inline, ``Sleep`` advances a :class:`FakeClock` (nothing
really sleeps) and ``Mask`` is recorded. Every action lands in ``Script.log`` in order, so
a test can assert what happened when (e.g. a token masked before its first use).
"""

from __future__ import annotations

import email.utils
import itertools
import json as jsonlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from airflow_provider_aa.control_room.exchange import (
    ApiRequest,
    ApiResponse,
    Authenticate,
    Mask,
    Operation,
    Send,
    Sleep,
    TransportFailure,
)
from airflow_provider_aa.control_room.session import ControlRoomSession, RetryPolicy
from airflow_provider_aa.control_room.settings import ConnectionSettings, settings_from_connection

BASE_URL = "https://cr.example.test"
USERNAME = "jdoe"
PASSWORD = "S3cret-Passw0rd-scripted"
API_KEY = "APIKEY-scripted-0123456789abcdefghijABCDEFGH"
#: Whole seconds (2030-03-17T17:46:40Z), so that a ``Date`` header shows it exactly.
START = 1_900_000_000.0

_ANY: Any = object()
_nonces = itertools.count(1)


# -- time and tokens ---------------------------------------------------------------------------


class FakeClock:
    """Wall-clock seconds that move only when a test (or a scripted ``Sleep``) moves them."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def jwt_token(*, iat: float = START, lifetime: float = 1200.0, subject: str = USERNAME) -> str:
    """A JWT like the Control Room's (HS256, any key: the provider never verifies it); each one distinct."""
    claims = {"sub": subject, "iat": int(iat), "exp": int(iat + lifetime), "n": next(_nonces)}
    return jwt.encode(claims, "scripted-signing-key-of-32-bytes!", algorithm="HS256")


def http_date(epoch: float) -> str:
    """``epoch`` as a ``Date`` header shows it (whole seconds, GMT)."""
    return email.utils.formatdate(epoch, usegmt=True)


# -- settings and sessions ---------------------------------------------------------------------


def password_settings(*, multiple_login: bool = False) -> ConnectionSettings:
    extra = {"auth_type": "password", "multiple_login": multiple_login}
    return settings_from_connection(host=BASE_URL, login=USERNAME, password=PASSWORD, extra=extra)


def api_key_settings() -> ConnectionSettings:
    return settings_from_connection(host=BASE_URL, login=USERNAME, password=None, extra={"api_key": API_KEY})


def token_settings(token: str) -> ConnectionSettings:
    return settings_from_connection(host=BASE_URL, login=None, password=None, extra={"token": token})


def new_session(
    settings: ConnectionSettings | None = None, clock: FakeClock | None = None, retry: RetryPolicy | None = None
) -> ControlRoomSession:
    return ControlRoomSession(settings or password_settings(), retry=retry, clock=clock or FakeClock())


# -- expectations and outcomes -----------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """
    What the next request must look like. ``body``: keys that must be in the JSON body with
    these values (others may be there too); ``json``: the whole body; ``headers``: values
    that must be sent, ``None`` for a header that must be absent.
    """

    method: str
    path: str
    body: Mapping[str, Any] = field(default_factory=dict)
    json: Any = _ANY
    headers: Mapping[str, str | None] = field(default_factory=dict)
    replay_safe: bool | None = None

    def check(self, request: ApiRequest, step: int) -> None:
        where = f"request #{step} ({request.method} {request.path})"
        problems = []
        if (request.method, request.path) != (self.method, self.path):
            problems.append(f"expected {self.method} {self.path}")
        if self.json is not _ANY and request.json != self.json:
            problems.append(f"body {request.json!r} != expected {self.json!r}")
        body = request.json if isinstance(request.json, Mapping) else {}
        for key, value in self.body.items():
            if key not in body:
                problems.append(f"body lacks {key!r}")
            elif body[key] != value:
                problems.append(f"body[{key!r}] = {body[key]!r}, expected {value!r}")
        sent = {name.lower(): value for name, value in request.headers.items()}
        for name, value in self.headers.items():
            if value is None and name.lower() in sent:
                problems.append(f"header {name} must be absent")
            elif value is not None and sent.get(name.lower()) != value:
                problems.append(f"header {name} = {sent.get(name.lower())!r}, expected {value!r}")
        if self.replay_safe is not None and request.replay_safe != self.replay_safe:
            problems.append(f"replay_safe = {request.replay_safe}, expected {self.replay_safe}")
        if problems:
            raise AssertionError(f"{where}: " + "; ".join(problems))


def expect(
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    json: Any = _ANY,
    headers: Mapping[str, str | None] | None = None,
    token: str | None = None,
    replay_safe: bool | None = None,
) -> Expected:
    """An expected request; ``token`` is shorthand for ``headers={"X-Authorization": token}``."""
    wanted = dict(headers or {})
    if token is not None:
        wanted["X-Authorization"] = token
    return Expected(method, path, dict(body or {}), json, wanted, replay_safe)


def answer(
    status: int = 200,
    body: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    raw: bytes | None = None,
) -> ApiResponse:
    """An answer with ``body`` as JSON (``raw`` bytes instead, when given)."""
    content = raw if raw is not None else (b"" if body is None else jsonlib.dumps(body).encode())
    sent_headers = {"Content-Type": "application/json", **(headers or {})}
    return ApiResponse(status, sent_headers, content)


def lost(kind: str = "timeout") -> TransportFailure:
    """No usable answer: ``connect`` (provably not sent), ``timeout``, ``dropped`` or ``other``."""
    return TransportFailure(kind, f"scripted {kind} failure")  # type: ignore[arg-type]


Outcome = ApiResponse | TransportFailure | Callable[[ApiRequest], ApiResponse | TransportFailure]
Step = tuple[Expected, Outcome]


def login(token: str, *, version: str = "v2", body: Mapping[str, Any] | None = None, date: float | None = None) -> Step:
    """A login that must carry no token and is answered with ``token``."""
    headers = {"Date": http_date(date)} if date is not None else None
    return (
        expect("POST", f"/{version}/authentication", body=body, headers={"X-Authorization": None}),
        answer(200, {"token": token}, headers=headers),
    )


def refresh(old: str, new: str, *, version: str = "v2") -> Step:
    """A renewal of ``old`` answered with ``new``."""
    return (expect("POST", f"/{version}/authentication/token", json={"token": old}), answer(200, {"token": new}))


# -- the script and its driver -----------------------------------------------------------------


class Script:
    """The requests an operation must send, their outcomes, and a log of every action."""

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self._steps: deque[Step] = deque(steps)
        self._count = 0
        #: ``("send", request)``, ``("sleep", seconds)``, ``("mask", secret)``, ``("authenticate", rejected)``
        self.log: list[tuple[str, Any]] = []

    def add(self, *steps: Step) -> Script:
        self._steps.extend(steps)
        return self

    def outcome_for(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        self._count += 1
        self.log.append(("send", request))
        if not self._steps:
            raise AssertionError(
                f"unexpected request #{self._count}: {request.method} {request.path} {request.json!r} "
                "(the script is used up)"
            )
        expected, outcome = self._steps.popleft()
        expected.check(request, self._count)
        return outcome(request) if callable(outcome) else outcome

    def assert_used_up(self) -> None:
        if self._steps:
            left = ", ".join(f"{expected.method} {expected.path}" for expected, _ in self._steps)
            raise AssertionError(f"{len(self._steps)} scripted request(s) never sent: {left}")

    @property
    def sent(self) -> list[ApiRequest]:
        return [value for kind, value in self.log if kind == "send"]

    @property
    def sleeps(self) -> list[float]:
        return [value for kind, value in self.log if kind == "sleep"]

    @property
    def masks(self) -> list[str]:
        return [value for kind, value in self.log if kind == "mask"]

    @property
    def kinds(self) -> list[str]:
        """The log's action kinds in order, e.g. ``["mask", "send", "sleep", "send"]``."""
        return [kind for kind, _ in self.log]

    def assert_masked_before_use(self) -> None:
        """Every token a request carries (header or body) was announced with ``Mask`` before it."""
        masked: set[str] = set()
        for kind, value in self.log:
            if kind == "mask":
                masked.add(value)
            elif kind == "send":
                carried = [value.headers.get("X-Authorization")]
                if isinstance(value.json, Mapping):
                    carried.append(value.json.get("token"))
                for token in filter(None, carried):
                    assert token in masked, f"{value.method} {value.path} carries a token not masked before"


def run(
    operation: Operation[Any],
    script: Script,
    *,
    session: ControlRoomSession | None = None,
    clock: FakeClock | None = None,
) -> Any:
    """
    Drive ``operation`` through ``script`` and return its result (or raise its error); in
    both cases the script must be used up. ``session`` serves ``Authenticate`` actions;
    ``clock`` is advanced by every ``Sleep``.
    """
    try:
        result = _drive(operation, script, session, clock)
    except AssertionError:
        raise
    except BaseException:
        script.assert_used_up()
        raise
    script.assert_used_up()
    return result


def _drive(
    operation: Operation[Any], script: Script, session: ControlRoomSession | None, clock: FakeClock | None
) -> Any:
    outcome: ApiResponse | TransportFailure | None = None
    while True:
        try:
            action = operation.send(outcome)
        except StopIteration as finished:
            return finished.value
        outcome = None
        if isinstance(action, Send):
            outcome = script.outcome_for(action.request)
        elif isinstance(action, Sleep):
            script.log.append(("sleep", action.seconds))
            if clock is not None:
                clock.advance(action.seconds)
        elif isinstance(action, Mask):
            script.log.append(("mask", action.secret))
        elif isinstance(action, Authenticate):
            assert session is not None, "the operation asked to authenticate: pass session= to run()"
            script.log.append(("authenticate", action.rejected))
            _drive(session.authenticate(action.rejected), script, session, clock)
        else:
            raise AssertionError(f"unknown action {action!r}")


def sequence(*operations: Operation[Any]) -> Operation[list[Any]]:
    """One operation running ``operations`` one after the other; returns their results."""
    results = []
    for operation in operations:
        results.append((yield from operation))
    return results
