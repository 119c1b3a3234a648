"""
A logged-in conversation with one Control Room: token reuse and renewal, retries, errors.

The session holds state only (token, which login API version works); every method that
talks to the server is an :data:`~airflow_provider_aa.control_room.exchange.Operation`,
run by a transport's driver.
"""

from __future__ import annotations

import email.utils
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_aa.control_room.auth import (
    AUTH_VERSIONS,
    AuthApi,
    TokenTimes,
    login_request,
    refresh_request,
    token_times,
)
from airflow_provider_aa.control_room.decoding import UndecodableAnswer, decode_json
from airflow_provider_aa.control_room.errors import (
    AmbiguousOutcomeError,
    AutomationAnywhereError,
    LoginRefusedError,
    SessionConflictError,
    error_from_answer,
    html_page_error,
    looks_like_html,
)
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

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.settings import ConnectionSettings


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for transient failures."""

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 30.0
    #: A Retry-After longer than this is not waited for; the call fails instead.
    max_retry_after: float = 300.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.initial_delay * 2 ** (attempt - 1), self.max_delay)
        return backoff if retry_after is None else max(retry_after, 0.0)


#: The Control Room's code for a session ended by a newer login of the same user.
EVICTED = "UM1114"
#: The Control Room's code for a ``multipleLogin`` the user is not allowed.
MULTIPLE_LOGIN_NOT_ALLOWED = "UM1116"
#: This many evictions within ``EVICTION_WINDOW`` seconds mean two holders of the connection
#: keep ending each other's sessions: the call that meets the last one fails instead of
#: logging in forever.
MAX_EVICTIONS = 3
#: Evictions older than this are forgotten: a shared session (the triggerer's) that met a busy
#: minute recovers once the connection is no longer used elsewhere, without a restart. A
#: minute tells a fight (every call of two holders ends the other's session) from the one
#: eviction each task run of a single-session connection costs the triggerer.
EVICTION_WINDOW = 60.0

#: Statuses that a gateway sends when the Control Room is briefly unavailable.
_GATEWAY_STATUSES = frozenset({502, 503, 504})

#: Logins one session makes within any ``LOGIN_WINDOW`` seconds at most, whatever its tokens
#: say: a caller that needs one more waits for it (under the authentication lock).
MAX_LOGINS = 5
LOGIN_WINDOW = 60.0
#: Tokens a session keeps to mask in errors: the current one and those a slow answer may
#: still echo.
REMEMBERED_TOKENS = 16

_STATUS_SUMMARIES = {
    400: "The Control Room rejected the request as invalid",
    401: "The Control Room refused the credentials",
    403: "The Control Room user lacks the permission for this call",
    404: "The Control Room does not know this resource",
    409: "The Control Room reported a conflict",
}


class ControlRoomSession:
    """
    One token for one user on one Control Room, shared by every call made through it.

    :param settings: validated connection settings.
    :param retry: backoff policy for transient failures.
    :param clock: wall-clock seconds, only used to time renewals of tokens received here
        (never compared with the Control Room's clock).
    :param auth_api: which authentication API version answers, shared with other sessions of
        the same Control Room (default: this session's own, v2 first).

    New tokens are announced with a :class:`~.exchange.Mask` action, so that the driver
    registers them with the secrets masker before they can be logged.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        auth_api: AuthApi | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._auth_api = auth_api or AuthApi()
        self._token: str | None = None
        self._times: TokenTimes | None = None
        self._refused: AutomationAnywhereError | None = None
        #: Our clock's times of the last ``MAX_LOGINS`` logins.
        self._logins: deque[float] = deque(maxlen=MAX_LOGINS)
        #: Our clock's times of the evictions within the last ``EVICTION_WINDOW`` seconds.
        self._evictions: list[float] = []
        self._last_evicted: str | None = None
        self._clock_offset: float | None = None
        #: The tokens this session was given last: an error may quote one the server echoes.
        #: Bounded: a triggerer's session renews its token for months.
        self._tokens: deque[str] = deque(maxlen=REMEMBERED_TOKENS)
        #: Logins this session made (a fresh login after a call shows the session was ended).
        self.logins_made = 0

    # -- authentication ---------------------------------------------------------------

    def secrets(self) -> list[str]:
        """The connection's password, API key or token, and every token issued to this session."""
        return [*self.settings.secrets, *self._tokens]

    def authenticate(self, rejected: str | None) -> Operation[None]:
        """
        Log in, renew, or do nothing when another caller already did (see ``Authenticate``).

        A refused login is remembered: every later caller of this session gets the same
        error without another attempt, so that many waiting triggers sharing the session
        cannot lock the account.
        """
        if self._refused is not None:
            raise self._refused
        now = self._clock()
        if self._token and self._token != rejected and self._times and now < self._times.renew_at:
            return
        if rejected is None and self._token is None and self.settings.auth_type == "token":
            yield from self._accept_token(self.settings.token or "", issued_now=False)
            now = self._clock()
            if self._times and now < self._times.renew_at:
                return
        if self._token and self._token != rejected and self._times and now < self._times.expires_at:
            if (yield from self._refresh()):
                return
        if self.settings.auth_type == "token":
            judged = f" (judged by {self._times.judged_by})" if self._times else ""
            reason = "was rejected by the Control Room" if rejected else f"has expired{judged}"
            raise LoginRefusedError(
                f"The connection's pre-issued token {reason} and cannot be renewed: issue a new "
                "token and update the connection's 'token' field, or use auth_type "
                "'password' or 'api_key' so the provider can log in by itself."
            )
        yield from self._login()

    def _login(self) -> Operation[None]:
        if len(self._logins) == MAX_LOGINS:
            wait = min(self._logins[0] + LOGIN_WINDOW - self._clock(), LOGIN_WINDOW)
            if wait > 0:
                yield Sleep(wait)
        self._logins.append(self._clock())
        self.logins_made += 1
        request, answer = yield from self._auth_call(lambda version: login_request(self.settings, version))
        if answer.status in (401, 403):
            self._refused = _login_refusal(self.settings, request, answer)
            raise self._refused
        yield from self._accept_token(_read_token(request, answer))

    def _refresh(self) -> Operation[bool]:
        """Renew a still-valid token; ``False`` when the Control Room would not."""
        token = self._token or ""
        request, answer = yield from self._auth_call(lambda version: refresh_request(token, version))
        if answer.status >= 400:
            return False
        yield from self._accept_token(_read_token(request, answer))
        return True

    def _auth_call(self, build: Callable[[str], ApiRequest]) -> Operation[tuple[ApiRequest, ApiResponse]]:
        """Newest authentication API first; a 404 means an older Control Room (remembered)."""
        while True:
            version = self._auth_api.version
            request = build(version)
            answer = yield from self._exchange(request)
            older = AUTH_VERSIONS.index(version) + 1
            if answer.status != 404 or older == len(AUTH_VERSIONS):
                return request, answer
            self._auth_api.version = AUTH_VERSIONS[older]

    @property
    def auth_version(self) -> str:
        """The authentication API version in use (``v2``, or ``v1`` after v2 answered 404)."""
        return self._auth_api.version

    def token_lifetime(self) -> float | None:
        """Seconds the current token lives from when it was received (``None`` before the first login)."""
        if not self._token or not self._times:
            return None
        return self._times.expires_at - self._times.received_at

    def seconds_until_renewal(self) -> float | None:
        """How long the current token stays fresh (``None`` before the first login)."""
        if not self._token or not self._times:
            return None
        return self._times.renew_at - self._clock()

    def renew(self) -> Operation[None]:
        """Renew the token now if it is due, so that a waiting caller never finds it expired."""
        if not self._usable():
            yield Authenticate()

    def logout(self) -> Operation[None]:
        """
        End a session this provider opened, freeing one of the user's few session slots.

        A pre-issued token (auth_type ``token``) belongs to whoever issued it: left alone.
        """
        token, self._token, self._times = self._token, None, None
        if token and self.settings.auth_type != "token":
            request = ApiRequest("POST", "/v1/authentication/logout", {"token": token}, {"X-Authorization": token})
            yield from self._exchange(request)

    def token(self, rejected: str | None = None) -> tuple[str, TokenTimes] | None:
        """
        The current token and its times while it is fresh (before its renewal time) and is
        not ``rejected``; else ``None``.
        """
        if self._token and self._token != rejected and self._times and self._clock() < self._times.renew_at:
            return self._token, self._times
        return None

    def adopt(self, token: str, times: TokenTimes) -> Operation[None]:
        """
        Use a token another process of this host received for the same user (the hook's token
        cache), with the times it was judged by there: renewed and replaced as if received here.
        """
        yield Mask(token)
        if token not in self._tokens:
            self._tokens.append(token)
        self._token, self._times = token, times

    def _accept_token(self, token: str, *, issued_now: bool = True) -> Operation[None]:
        yield Mask(token)
        if token not in self._tokens:
            self._tokens.append(token)
        self._token = token
        self._times = self._times_of(token, issued_now=issued_now)

    def _times_of(self, token: str, *, issued_now: bool) -> TokenTimes:
        now = self._clock()
        return token_times(token, now, control_room_now=self.control_room_time(now), issued_now=issued_now)

    # -- calls ------------------------------------------------------------------------

    def request_json(self, request: ApiRequest) -> Operation[Any]:
        """
        Send an authenticated request and return its decoded JSON (``None`` for no body).

        A token is obtained or renewed first when needed; a 401 leads to one re-login and
        one re-send, then to an error.

        :raises AutomationAnywhereError: for any failed call, with the Control Room's
            ``code``/``message``/``details``.
        """
        relogged = False
        while True:
            if not self._usable():
                yield Authenticate()
            token = self._token or ""
            answer = yield from self._exchange(request.with_headers(**{"X-Authorization": token}))
            if answer.status == 401:
                self._count_eviction(request, answer, token)
                if not relogged:
                    relogged = True
                    yield Authenticate(rejected=token)
                    continue
            return _decode(request, answer)

    def _count_eviction(self, request: ApiRequest, answer: ApiResponse, token: str) -> None:
        """
        Count an eviction once per ended token (callers sharing it meet the same one) and
        fail the call that meets the ``MAX_EVICTIONS``-th within ``EVICTION_WINDOW`` seconds.

        The ended token is dropped either way, so that the next caller logs in afresh: a
        failed call must not leave its dead token to every later caller of a shared session.
        """
        fields = _answer_fields(request, answer)
        if fields["code"] != EVICTED or token == self._last_evicted:
            return
        self._last_evicted = token
        if self._token == token:
            self._token, self._times = None, None
        now = self._clock()
        self._evictions = [when for when in self._evictions if 0 <= now - when < EVICTION_WINDOW]
        self._evictions.append(now)
        if len(self._evictions) >= MAX_EVICTIONS:
            raise SessionConflictError(
                f"The Control Room ended this provider's session for user {self.settings.username!r} "
                f"{len(self._evictions)} times in {EVICTION_WINDOW:g} seconds because the same user "
                f"logged in elsewhere (code {EVICTED}): {eviction_advice(self.settings)}",
                **fields,
            )

    def control_room_time(self, local: float) -> float | None:
        """
        ``local`` (our wall clock) on the Control Room's clock, learned from the ``Date``
        header of its answers (whole seconds); ``None`` before any answer carried one.
        """
        return None if self._clock_offset is None else local + self._clock_offset

    def _control_room_now(self) -> float:
        """Now on the Control Room's clock when it is known, else on ours."""
        now = self._clock()
        shown = self.control_room_time(now)
        return now if shown is None else shown

    def _observe_clock(self, answer: ApiResponse) -> None:
        value = answer.header("date")
        if not value:
            return
        try:
            shown = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        first, self._clock_offset = self._clock_offset is None, shown - self._clock()
        if first and self._token and self._token == self.settings.token:
            # The pre-issued token was judged by its lifetime alone: now its exp can be read
            # on the Control Room's clock.
            self._times = self._times_of(self._token, issued_now=False)

    def _usable(self) -> bool:
        return bool(self._token and self._times and self._clock() < self._times.renew_at)

    def _exchange(self, request: ApiRequest) -> Operation[ApiResponse]:
        """Send with bounded retries of transient failures; return the first real answer."""
        attempt = 0
        while True:
            attempt += 1
            outcome = yield Send(request)
            assert outcome is not None
            if isinstance(outcome, ApiResponse):
                self._observe_clock(outcome)
            retry_after = None
            if isinstance(outcome, TransportFailure):
                retryable = outcome.not_sent or (request.replay_safe and outcome.kind in ("timeout", "dropped"))
                problem = outcome.description
            elif outcome.status == 429:
                retryable, retry_after = True, _retry_after(outcome, self._control_room_now())
                problem = "HTTP 429 Too Many Requests"
            elif outcome.status in _GATEWAY_STATUSES or (outcome.status == 500 and not request.replay_safe):
                # A 500 to a request that must not be repeated may have been committed halfway.
                retryable = request.replay_safe
                problem = f"HTTP {outcome.status}"
            else:
                return outcome
            if not retryable:
                raise _unretryable(request, outcome, problem)
            delay = self.retry.delay(attempt, retry_after)
            if attempt >= self.retry.max_attempts or delay > self.retry.max_retry_after:
                raise AutomationAnywhereError(
                    f"The Control Room call failed {attempt} time(s); giving up after {problem}.",
                    **_outcome_fields(request, outcome),
                )
            yield Sleep(delay)


def _decode(request: ApiRequest, answer: ApiResponse) -> Any:
    if 300 <= answer.status < 400:
        target = urlsplit(answer.header("location"))
        raise AutomationAnywhereError(
            f"The Control Room URL redirects to {target.scheme}://{target.netloc}: redirects are "
            "not followed so that the token never reaches another server. Set the connection's "
            "host to the Control Room's final URL.",
            status=answer.status,
            method=request.method,
            path=request.path,
        )
    if answer.status >= 400:
        summary = _STATUS_SUMMARIES.get(answer.status, "The Control Room call failed")
        if answer.status == 401:
            summary += " again after a fresh login (session ended or permission revoked)"
        raise error_from_answer(
            summary,
            status=answer.status,
            method=request.method,
            path=request.path,
            body=answer.body,
            content_type=answer.header("content-type"),
        )
    if looks_like_html(answer.body, answer.header("content-type")):
        raise html_page_error(status=answer.status, method=request.method, path=request.path)
    if not answer.body.strip():
        return None
    try:
        return decode_json(answer.body)
    except UndecodableAnswer as problem:
        raise AutomationAnywhereError(
            f"The Control Room answered with {problem}.", **_answer_fields(request, answer)
        ) from None


def eviction_advice(settings: ConnectionSettings) -> str:
    """
    What ends sessions of one user ending each other, for the connection's auth mode: the
    triggerer and the workers (or tasks running at once) each hold a session of their own.
    """
    held_by = "the triggerer and the workers, or tasks running at the same time, each hold a session"
    if settings.auth_type == "password" and not settings.multiple_login:
        return (
            f"sessions of one user without multipleLogin end each other, and {held_by}. Set the "
            "connection's extra 'multiple_login' to true (the user needs the Control Room setting "
            "'Allow multiple sessions'; an API key does not bypass it)."
        )
    if settings.auth_type == "token":
        return (
            f"{held_by}; a pre-issued token is ended by any later login of its user. Give the "
            "connection a user of its own, or use auth_type 'api_key' with a user allowed multiple sessions."
        )
    # API-key mode: an API key does not bypass the user's multiple-login permission (AA,
    # 2024-08 "multi-login user" page; its 2022 API-key page said it always gives several).
    return (
        f"{held_by}, and the Control Room ends the older one: the user needs the Control Room "
        "setting 'Allow multiple sessions'."
    )


def _login_refusal(settings: ConnectionSettings, request: ApiRequest, answer: ApiResponse) -> AutomationAnywhereError:
    fields = _answer_fields(request, answer)
    if fields["code"] == MULTIPLE_LOGIN_NOT_ALLOWED:
        return SessionConflictError(
            f"User {settings.username!r} is not allowed to hold multiple sessions, but the connection "
            "asks for one (extra 'multiple_login': true). Set 'multiple_login' to false — then only one "
            "process may use the connection at a time — or allow multiple logins for the user in the "
            "Control Room ('Allow multiple sessions'; an API key does not bypass it). Not retried.",
            **fields,
        )
    secret = "API key" if settings.auth_type == "api_key" else "password"
    return LoginRefusedError(
        f"Login refused for user {settings.username!r} (auth_type={settings.auth_type!r}): check the "
        f"{secret} and that the user is active. The task fails without retries, so that repeated "
        "attempts do not lock the account.",
        **fields,
    )


def _read_token(request: ApiRequest, answer: ApiResponse) -> str:
    """
    The token of a successful login or refresh answer. An answer without a readable one is
    never quoted in the error: a truncated or odd answer may still hold a token (or a
    refresh token) that nothing has masked yet.
    """
    if answer.status >= 300 or looks_like_html(answer.body, answer.header("content-type")):
        _decode(request, answer)  # raises: a redirect, an error answer or an HTML page
    try:
        data = decode_json(answer.body)
    except UndecodableAnswer:
        data = None
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise AutomationAnywhereError(
            f"The Control Room's answer carries no readable token ({len(answer.body)} bytes, not shown: an "
            "authentication answer may hold secrets). A proxy may have truncated or rewritten it.",
            status=answer.status,
            method=request.method,
            path=request.path,
        )
    return token


def _retry_after(answer: ApiResponse, now: float) -> float | None:
    """
    Seconds to wait from a ``Retry-After`` header: a number, or an HTTP date on the Control
    Room's clock, which ``now`` must be on too (a date compared with a skewed local clock
    would wait minutes too long or not at all).
    """
    value = answer.header("retry-after").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


def _unretryable(request: ApiRequest, outcome: ApiResponse | TransportFailure, problem: str) -> AutomationAnywhereError:
    if isinstance(outcome, TransportFailure) and outcome.kind == "other":
        return AutomationAnywhereError(f"The Control Room call failed: {problem}", **_outcome_fields(request, outcome))
    return AmbiguousOutcomeError(
        f"No clear answer to a request that must not be sent twice ({problem}): the Control "
        "Room may or may not have processed it, so it was not re-sent.",
        **_outcome_fields(request, outcome),
    )


def _outcome_fields(request: ApiRequest, outcome: ApiResponse | TransportFailure) -> dict[str, Any]:
    if isinstance(outcome, ApiResponse):
        return _answer_fields(request, outcome)
    return {"method": request.method, "path": request.path}


def _answer_fields(request: ApiRequest, answer: ApiResponse) -> dict[str, Any]:
    error = error_from_answer(
        "",
        status=answer.status,
        method=request.method,
        path=request.path,
        body=answer.body,
        content_type=answer.header("content-type"),
    )
    return {
        "status": answer.status,
        "method": request.method,
        "path": request.path,
        "code": error.code,
        "message": error.message,
        "details": error.details,
    }
