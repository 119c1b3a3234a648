"""
The vocabulary between the protocol and a transport.

Every Control Room operation is a generator (the "sans-IO" style of ``h11``): it yields
*actions* — :class:`Send` a request, :class:`Sleep` before a retry, :class:`Authenticate`
the session, :class:`Mask` a new secret — and receives their outcomes. It never touches a socket or a clock of its own.
A transport only has to move bytes: :func:`drive` runs an operation with blocking calls
(the hook, on ``requests``), :func:`adrive` with awaitables (the trigger, on ``httpx``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from airflow_provider_aa.control_room.errors import AutomationAnywhereError

T = TypeVar("T")


@dataclass(frozen=True)
class ApiRequest:
    """
    One HTTP request to the Control Room, relative to its base URL.

    ``replay_safe`` says whether sending it twice is harmless. Reads and logins are; adding
    work items is not, so an add is only re-sent when it provably never reached the server.
    """

    method: str
    path: str
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    replay_safe: bool = True

    def with_headers(self, **headers: str) -> ApiRequest:
        return ApiRequest(
            self.method,
            self.path,
            self.json,
            {**self.headers, **headers},
            self.replay_safe,
        )


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), "")


@dataclass(frozen=True)
class TransportFailure:
    """
    No usable answer arrived.

    ``not_sent`` is true only when the request provably never reached the server (the
    connection could not be opened); a read timeout or a reset after sending is ambiguous.
    Kind ``other`` is what no retry can mend (TLS trouble, a server speaking the other
    scheme than the URL's, an answer too large): the session never retries it.
    ``description`` names what happened without any header or body.
    """

    kind: Literal["connect", "timeout", "dropped", "other"]
    description: str

    @property
    def not_sent(self) -> bool:
        return self.kind == "connect"


@dataclass(frozen=True)
class Send:
    request: ApiRequest


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Authenticate:
    """
    Make the session's token usable; ``rejected`` is a token the server refused (401).

    Transports run the session's authentication under a lock, so that many concurrent
    operations sharing one session log in (or renew) once, not once each.
    """

    rejected: str | None = None


@dataclass(frozen=True)
class Mask:
    """
    Register a secret the Control Room just issued (a token) with Airflow's secrets masker
    before anything could log it. A driver on an event loop must use the masker's async
    path: in the triggerer, the sync path silently does nothing in tasks the trigger starts.
    """

    secret: str = field(repr=False)


Action = Send | Sleep | Authenticate | Mask
Outcome = ApiResponse | TransportFailure | None
Operation = Generator[Action, Outcome, T]


class Authenticator(Protocol):
    """What a driver needs from a session: to serve :class:`Authenticate` actions, and its secrets."""

    def authenticate(self, rejected: str | None) -> Operation[None]: ...

    def secrets(self) -> Iterable[str]:
        """Every secret the session knows (its credentials, the tokens it was given): masked in errors."""
        ...


def drive(
    operation: Operation[T],
    *,
    send: Callable[[ApiRequest], ApiResponse | TransportFailure],
    sleep: Callable[[float], None],
    mask: Callable[[str], None],
    authenticator: Authenticator,
    lock: threading.Lock,
) -> T:
    """
    Run an operation with blocking I/O and return its result (or raise its error, every
    secret of ``authenticator`` masked in it: what a server echoes never reaches a message).
    """
    outcome: Outcome = None
    while True:
        try:
            action = operation.send(outcome)
        except StopIteration as finished:
            return finished.value
        except AutomationAnywhereError as error:
            error.mask_secrets(authenticator.secrets())
            raise
        if isinstance(action, Send):
            outcome = send(action.request)
        elif isinstance(action, Sleep):
            sleep(action.seconds)
            outcome = None
        elif isinstance(action, Mask):
            mask(action.secret)
            outcome = None
        else:
            with lock:
                drive(
                    authenticator.authenticate(action.rejected),
                    send=send,
                    sleep=sleep,
                    mask=mask,
                    authenticator=authenticator,
                    lock=lock,
                )
            outcome = None


async def adrive(
    operation: Operation[T],
    *,
    send: Callable[[ApiRequest], Awaitable[ApiResponse | TransportFailure]],
    sleep: Callable[[float], Awaitable[None]],
    mask: Callable[[str], Awaitable[None]],
    authenticator: Authenticator,
    lock: asyncio.Lock,
) -> T:
    """Run an operation on an event loop; same contract as :func:`drive`."""
    outcome: Outcome = None
    while True:
        try:
            action = operation.send(outcome)
        except StopIteration as finished:
            return finished.value
        except AutomationAnywhereError as error:
            error.mask_secrets(authenticator.secrets())
            raise
        if isinstance(action, Send):
            outcome = await send(action.request)
        elif isinstance(action, Sleep):
            await sleep(action.seconds)
            outcome = None
        elif isinstance(action, Mask):
            await mask(action.secret)
            outcome = None
        else:
            async with lock:
                await adrive(
                    authenticator.authenticate(action.rejected),
                    send=send,
                    sleep=sleep,
                    mask=mask,
                    authenticator=authenticator,
                    lock=lock,
                )
            outcome = None
