"""The HTTP(S) server (standard library, HTTP/1.1 keep-alive) and :class:`ControlRoomEmulator`."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import select
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from automation_anywhere_emulator import admin, api, tls
from automation_anywhere_emulator.config import EmulatorConfig, load_seed
from automation_anywhere_emulator.connections import AUTH_TYPES, airflow_connection, connection_fields, env_var_name
from automation_anywhere_emulator.counters import Counters, RequestLog
from automation_anywhere_emulator.faults import FaultInjector, Streamed, answer_instead, oversized
from automation_anywhere_emulator.responses import ApiError, Response
from automation_anywhere_emulator.state import ControlRoomState

if TYPE_CHECKING:
    import pytest
    from airflow.sdk import Connection

#: Largest request body accepted; a longer ``Content-Length`` → 413, the body left unread.
MAX_BODY = 32 * 2**20
#: Default ``request_read_timeout``: seconds a connection may stay silent (see ``ControlRoomEmulator``).
REQUEST_READ_TIMEOUT = 10.0
#: Seconds between two writes of a ``drip`` answer (fewer at high rates: at most 64 KiB a write).
DRIP_INTERVAL = 0.05
_DRIP_MAX_WRITE = 64 * 2**10
#: Seconds a ``late_commit`` with ``answer: timeout`` holds the connection beyond its ``seconds``
#: at most, for a client that never gives up.
LATE_COMMIT_HOLD = 60.0

_T = TypeVar("_T")


@dataclass(frozen=True)
class RequestEvent:
    """
    A Control Room request as an observer sees it (:meth:`ControlRoomEmulator.observe`):
    ``phase`` ``"start"`` when it arrives, ``"end"`` once answered (or dropped: ``status``
    ``None``). ``user``: whom it acts as (the login's username, or the token's user, expired
    tokens too); ``user_agent``: the client's ``User-Agent`` header. Never a body or a secret.
    """

    phase: str
    method: str
    path: str
    status: int | None
    fault: str | None
    user: str | None
    user_agent: str


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ControlRoomEmulator"
    sys_version = ""
    disable_nagle_algorithm = True  # small writes (drip) must leave at once, not wait for ACKs
    server: _Server

    def setup(self) -> None:
        super().setup()
        # A client that goes silent (no request, less body than its Content-Length, no TLS
        # handshake, an answer not read) times out instead of holding this thread.
        self.connection.settimeout(self.server.request_read_timeout)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log and counters record what matters."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, on the Control Room's clock (``clock_offset`` included)."""
        return formatdate(self.server.emulator._state.now() if timestamp is None else timestamp, usegmt=True)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the standard library refuses (bad request line, URI or headers too long, ...): a JSON error body."""
        phrase = self.responses.get(code, ("Error", ""))[0]
        self.close_connection = True
        code_name = re.sub(r"\W+", "_", phrase).upper()  # "Request-URI Too Long" → REQUEST_URI_TOO_LONG
        self._answer(ApiError(code, code_name, message or phrase, explain or "").response())

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self) -> None:
        try:
            url = urlsplit(self.path)
        except ValueError as error:  # e.g. an absolute URL with a broken IPv6 host
            self.close_connection = True  # its body, if any, is not read
            return self._answer(ApiError(400, "BAD_REQUEST", f"Bad request target: {error}").response())
        body = self._read_body()
        if body is None:
            return
        request = api.Request(self.command, url.path, parse_qs(url.query), self.headers, body)
        emulator = self.server.emulator
        if url.path.startswith(admin.PREFIX):
            self._answer(admin.handle(emulator, request))
        else:
            self._serve(emulator, request)

    def _serve(self, emulator: ControlRoomEmulator, request: api.Request) -> None:
        emulator._notify(request, "start", None, None)
        resolution = api.resolve(request.method, request.path)
        emulator.counters.count_request(resolution.endpoint)
        plan = emulator.faults.take(request.method, request.path)
        if plan.latency and self.server.pause(plan.latency):
            return
        fault = plan.rule.kind if plan.rule else None
        params = plan.rule.params if plan.rule else {}
        if fault == "drop_before_commit":
            return self._drop(emulator, request, fault)
        if plan.rule is not None and fault == "oversized":
            self._record(emulator, request, 200, fault)
            return self._stream(oversized(plan.rule))
        if fault == "late_commit":
            return self._commit_late(emulator, resolution, request, params)
        response = answer_instead(plan.rule) if plan.rule else None
        if response is None:
            response = self._process(lambda: emulator._api.handle(resolution, request))
        if fault == "drop_after_commit":
            return self._drop(emulator, request, fault)
        if fault == "slow_response" and self.server.pause(params["seconds"]):
            return
        self._record(emulator, request, response.status, fault)
        self._answer(response, params["bytes_per_second"] if fault == "drip" else None)

    @staticmethod
    def _process(call: Callable[[], _T]) -> _T | Response:
        try:
            return call()
        except Exception as error:  # an emulator bug: answer 500 and show it
            traceback.print_exc(file=sys.stderr)
            return ApiError(500, "EMULATOR_ERROR", f"The emulator failed: {error!r}").response()

    def _commit_late(
        self, emulator: ControlRoomEmulator, resolution: api.Resolution, request: api.Request, params: dict[str, Any]
    ) -> None:
        """``late_commit``: a refusal answered now; else processed ``seconds`` later, and no answer."""
        refusal = self._process(lambda: emulator._api.refusal(resolution, request))
        if refusal is not None:
            self._record(emulator, request, refusal.status, "late_commit")
            return self._answer(refusal)
        session = emulator._api.session_of(resolution, request)  # live now: refusal() checked it
        emulator._state.commit_later(params["seconds"], lambda: emulator._api.handle(resolution, request, session))
        if params["answer"] == "drop":
            return self._drop(emulator, request, "late_commit")
        self._record(emulator, request, None, "late_commit")
        self._hold(params["seconds"] + LATE_COMMIT_HOLD)

    def _hold(self, seconds: float) -> None:
        """Say nothing until the client hangs up, the emulator stops or ``seconds`` pass; then close."""
        self.close_connection = True
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                # Readable: the client hung up (or stop() shut the socket), or it sent more, ignored.
                if select.select([self.connection], [], [], left)[0] and not self.connection.recv(65536):
                    break
        except OSError:  # reset by the client
            return
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` when it was refused or never came (the connection then closes)."""
        try:
            length = self._body_length()
            try:
                body = self.rfile.read(length)
            except TimeoutError:
                raise ApiError(
                    400,
                    "BAD_REQUEST",
                    f"The request body did not arrive: Content-Length is {length}, "
                    f"and the client sent nothing for {self.server.request_read_timeout:g} s",
                ) from None
        except ApiError as refusal:
            self.close_connection = True  # the rest of the request on the connection cannot be read
            self._answer(refusal.response())
            return None
        if len(body) < length:  # the client closed its side before sending it all
            self.close_connection = True
            return None
        return body

    def _body_length(self) -> int:
        """The ``Content-Length``; :class:`ApiError` (411, 400, 413) for a body not to be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise ApiError(411, "LENGTH_REQUIRED", "Send a Content-Length; chunked bodies are not supported")
        text = self.headers.get("Content-Length", "0").strip()
        if not (text.isascii() and text.isdigit()):
            raise ApiError(400, "BAD_REQUEST", f"Bad Content-Length {text[:40]!r}")
        # Its digits counted before int(): thousands of them would raise
        if len(text.lstrip("0")) > len(str(MAX_BODY)) or int(text) > MAX_BODY:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {MAX_BODY} bytes")
        return int(text)

    def _record(
        self, emulator: ControlRoomEmulator, request: api.Request, status: int | None, fault: str | None
    ) -> None:
        emulator.counters.count_status(status)
        emulator.request_log.append(request.method, request.path, status, fault)
        emulator._notify(request, "end", status, fault)

    def _drop(self, emulator: ControlRoomEmulator, request: api.Request, fault: str) -> None:
        """Close the connection without answering."""
        self._record(emulator, request, None, fault)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _answer(self, response: Response, bytes_per_second: float | None = None) -> None:
        """Write ``response`` at once, or (``drip``) ``bytes_per_second`` from the status line on."""
        body = b"" if response.status == 204 else response.body
        content = None if response.status == 204 else (response.content_type, len(body))
        data = self._head(response.status, response.headers, content) + body
        if bytes_per_second is None:
            self.wfile.write(data)
        else:
            self._drip(data, bytes_per_second)

    def _head(self, status: int, headers: Iterable[tuple[str, str]], content: tuple[str, int] | None) -> bytes:
        """Status line and headers; ``content``: the body's type and length (``None``: no body, 204)."""
        lines = [
            f"{self.protocol_version} {status} {self.responses.get(status, ('',))[0]}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        if content is not None:
            lines += [f"Content-Type: {content[0]}", f"Content-Length: {content[1]}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _drip(self, data: bytes, bytes_per_second: float) -> None:
        """Write ``data`` in small pieces so that its last byte leaves ``len(data) / bytes_per_second`` s from now."""
        size = max(1, min(int(bytes_per_second * DRIP_INTERVAL), _DRIP_MAX_WRITE))
        started = time.monotonic()
        try:
            for offset in range(0, len(data), size):
                piece = data[offset : offset + size]
                if self.server.pause(started + (offset + len(piece)) / bytes_per_second - time.monotonic()):
                    return
                self.wfile.write(piece)
        except OSError:  # the client gave up: reset, broken pipe, or it stopped reading until the timeout
            self.close_connection = True

    def _stream(self, answer: Streamed) -> None:
        """Write a 200 answer piece by piece (``oversized``); stop when the client gives up."""
        try:
            self.wfile.write(self._head(200, answer.headers, (answer.content_type, answer.length)))
            for piece in answer.pieces:
                self.wfile.write(piece)
        except OSError:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    """Threaded server, plain or TLS, that can close its clients' keep-alive connections on stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        emulator: ControlRoomEmulator,
        tls_context: ssl.SSLContext | None,
        request_read_timeout: float,
    ) -> None:
        self.emulator = emulator
        self.request_read_timeout = request_read_timeout
        self._tls_context = tls_context
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's reverse DNS lookup
        self.server_name, self.server_port = self.socket.getsockname()[:2]

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self._tls_context is None:
            return connection, address
        # No handshake here in the accept loop: the request thread does it on its first read,
        # under the read timeout, so a client that never completes one holds up nobody else.
        try:
            return self._tls_context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address
        except OSError:
            connection.close()
            raise

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds``, less if the server stops meanwhile; ``True`` when it stopped."""
        return self._stopping.wait(seconds)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        self._stopping.set()
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    # The plain socket's shutdown: SSLSocket.shutdown would unwrap the TLS object
                    # under the request thread's feet (ValueError, not OSError, on its next read).
                    socket.socket.shutdown(connection, socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # clients hanging up (or failing TLS) are not errors
            super().handle_error(request, client_address)


class ControlRoomEmulator:
    """
    An Automation Anywhere Control Room on ``127.0.0.1`` for tests and demos.

    ``config``: start-up settings (:class:`EmulatorConfig`), restored by :meth:`reset`.
    ``port=0`` picks a free port. ``seed``: a mapping or JSON file path replacing
    ``default_seed.json``. ``clock``: the time source (seconds since the epoch) for
    timestamps, token expiry and the emulated bot; ``clock_offset`` is added for what the
    Control Room shows (see :mod:`.clock`).

    ``tls=True``: serve HTTPS with a self-signed certificate made at :meth:`start` (see
    :attr:`ca_file`). ``request_read_timeout``: seconds a connection may stay silent (no
    request, a body short of its ``Content-Length``, no TLS handshake, or not reading an
    answer) before the emulator gives up on it (a short body: 400, then close).
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: Mapping[str, Any] | str | Path | None = None,
        clock: Callable[[], float] = time.time,
        tls: bool = False,
        request_read_timeout: float = REQUEST_READ_TIMEOUT,
    ) -> None:
        if isinstance(request_read_timeout, bool) or not 0 < request_read_timeout < math.inf:
            raise ValueError(f"request_read_timeout must be a number of seconds > 0, not {request_read_timeout!r}")
        self._initial_config = config or EmulatorConfig()
        self._seed = load_seed(seed)
        self._host = host
        self._port = port
        self._tls = tls
        self._request_read_timeout = request_read_timeout
        self._tls_files: tempfile.TemporaryDirectory[str] | None = None
        self._tls_context: ssl.SSLContext | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.counters = Counters()
        self.request_log = RequestLog(clock=clock)
        self.faults = FaultInjector()
        self._request_observers: list[Callable[[RequestEvent], None]] = []
        self._state = ControlRoomState(self._seed, self._initial_config, clock)
        self._api = api.ControlRoomApi(self._state, self.counters)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> ControlRoomEmulator:
        """Listen and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        if self._tls and self._tls_files is None:
            self._tls_files = tempfile.TemporaryDirectory(prefix="aa-emulator-tls-")
            self._tls_context = tls.server_context(*tls.self_signed_certificate(Path(self._tls_files.name)))
        self._server = _Server((self._host, self._port), self, self._tls_context, self._request_read_timeout)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"aa-emulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """
        Stop listening, close every client connection, forget late commits not done yet
        (``late_commit``) and delete the TLS certificate.
        """
        self._state.cancel_late_commits()
        self._stop_serving()
        if self._tls_files is not None:
            self._tls_files.cleanup()
            self._tls_files = self._tls_context = None

    def _stop_serving(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    def restart(self) -> None:
        """Like a Control Room restart with a persistent database: same port, data and certificate, no sessions."""
        self._stop_serving()
        self._state.drop_sessions()
        self.start()

    def reset(self) -> None:
        """
        Back to the seed and the start-up settings; faults, observers, counters, sessions, late
        commits not done yet and log cleared.
        """
        self.faults.clear()
        self._request_observers.clear()
        self._state.token_observers.clear()
        self._state.reset(self._seed, self._initial_config)
        self.counters.reset()
        self.request_log.clear()

    def __enter__(self) -> ControlRoomEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with ``tls``); the port is known once started (when ``port=0``)."""
        return f"{'https' if self._tls else 'http'}://{self._host}:{self._port}"

    @property
    def ca_file(self) -> str | None:
        """
        With ``tls``: the path of the certificate (PEM) to trust, e.g.
        ``requests.get(emulator.url, verify=emulator.ca_file)``. It is made by :meth:`start`,
        kept by :meth:`restart` and deleted by :meth:`stop`; ``None`` when there is none.
        """
        return None if self._tls_files is None else str(Path(self._tls_files.name) / tls.CERT_FILE)

    # -- run-time controls ---------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        return self._state.config

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Change settings now, e.g. ``configure(token_lifetime=2, numeric_ids=True)``."""
        config = self._state.config.replace(**changes)
        self._state.set_config(config)
        return config

    def set_password(self, username: str, password: str) -> None:
        """Rotate a user's password (live sessions go on); :meth:`credentials` gives the new one."""
        self._state.set_password(username, password)

    def evict(self, username: str) -> int:
        """End all sessions of ``username`` (next call → 401 UM1114); returns how many."""
        return self._state.evict(username)

    def issue_token(self, username: str) -> str:
        """A token of a new session of ``username``, as handed to token-mode connections."""
        return self._state.issue_token(username)

    def observe(
        self,
        *,
        requests: Callable[[RequestEvent], None] | None = None,
        tokens: Callable[[str], None] | None = None,
    ) -> None:
        """
        For test harnesses: call ``requests`` with a :class:`RequestEvent` as each Control
        Room request starts and ends (from the serving thread), and ``tokens`` with every
        token the Control Room issues, until :meth:`reset` (which the ``aa_emulator`` fixture
        does after each test).
        """
        if requests is not None:
            self._request_observers.append(requests)
        if tokens is not None:
            self._state.token_observers.append(tokens)

    def _notify(self, request: api.Request, phase: str, status: int | None, fault: str | None) -> None:
        if not self._request_observers:
            return
        event = RequestEvent(
            phase,
            request.method,
            request.path,
            status,
            fault,
            self._acting_user(request),
            request.headers.get("User-Agent") or "",
        )
        for observe in self._request_observers:
            observe(event)

    def _acting_user(self, request: api.Request) -> str | None:
        if request.method == "POST" and re.fullmatch(r"/v\d/authentication(/token)?", request.path):
            try:
                body = json.loads(request.body or b"{}")
            except (ValueError, RecursionError):  # a hostile body: the API answers it 400
                return None
            if not isinstance(body, dict):
                return None
            if request.path.endswith("/authentication"):
                username = body.get("username")
                return username if isinstance(username, str) else None
            token = body.get("token")
        else:
            token = request.headers.get("X-Authorization")
        return self._state.username_of(token) if isinstance(token, str) and token else None

    def work_items(self, queue_id: int | str) -> list[dict[str, Any]]:
        """All items of a queue as the API shows them, oldest first."""
        return self._state.work_items(queue_id)

    def add_work_items(
        self, queue_id: int | str, datas: list[dict[str, Any]], *, username: str | None = None
    ) -> list[dict[str, Any]]:
        """
        Add one item per ``datas`` entry (its ``json``) straight into a queue, no HTTP: fast
        enough for 100,000 items, to fill queues for tests and benchmarks. Created by
        ``username`` (``None``: the seed's lowest-id user, ``bot_runner`` by default) now, as an
        add over the API would be; the queue's duplicate rule holds. Returns the items as the
        API shows them. An unknown queue or user, data that is not JSON, or duplicates →
        ``ValueError``, nothing added.
        """
        return self._state.add_items(queue_id, datas, username)

    def update_work_item(
        self, queue_id: int | str, item_id: int | str, *, username: str, **fields: Any
    ) -> dict[str, Any]:
        """
        Change an item as ``username`` would in the Control Room's UI, no HTTP: ``fields`` as
        in the update API (``status``, ``result``, ``json``), under the item's current
        version and the status rules. A refusal → :class:`~.responses.ApiError`.
        """
        state = self._state
        item = state.get_work_item(str(queue_id), str(item_id))
        return state.update_work_item(
            state.person(username), str(queue_id), str(item_id), {**fields, "version": item["version"]}
        )

    def bot_runs(self) -> list[dict[str, Any]]:
        """Every bot run's activity record, also those not listed yet, oldest first."""
        return self._state.bot_runs()

    def show_activity(self) -> int:
        """List every run's activity record now, before ``activity_delay`` is over; returns how many were hidden."""
        return self._state.show_activity()

    # -- credentials and Airflow connections ---------------------------------------------

    @property
    def users(self) -> dict[str, dict[str, Any]]:
        """The seeded users by username, credentials included."""
        return {user["username"]: copy.deepcopy(user) for user in self._seed["users"]}

    def credentials(self, auth_type: str = "password") -> dict[str, str]:
        """
        Seeded credentials for an auth mode: ``password`` → ``{login, password}``,
        ``api_key`` → ``{login, api_key}``, ``token`` → ``{login: "", token}`` (a fresh token).
        """
        if auth_type not in AUTH_TYPES:
            raise ValueError(f"auth_type must be one of {', '.join(AUTH_TYPES)}, not {auth_type!r}")
        username = self._seed.get("credentials", {}).get(auth_type)
        if username is None:
            raise ValueError(f"the emulator's seed names no user for auth_type {auth_type!r} under 'credentials'")
        if auth_type == "token":
            return {"login": "", "token": self.issue_token(username)}
        user = self.users[username]
        if auth_type == "api_key":
            return {"login": username, "api_key": user["apiKey"]}
        return {"login": username, "password": self._state.password(username) or ""}

    def connection(
        self, auth_type: str = "password", conn_id: str = "automation_anywhere_default", **extra: Any
    ) -> Connection:
        """An ``airflow.sdk.Connection`` to this emulator; ``extra`` adds connection extras."""
        return airflow_connection(conn_id, self._connection_fields(auth_type, extra))

    def connection_env_value(self, auth_type: str = "password", **extra: Any) -> str:
        """The JSON for an ``AIRFLOW_CONN_<ID>`` environment variable."""
        return json.dumps(self._connection_fields(auth_type, extra))

    def use_connection(
        self,
        monkeypatch: pytest.MonkeyPatch,
        auth_type: str = "password",
        conn_id: str = "automation_anywhere_default",
        **extra: Any,
    ) -> None:
        """Set ``AIRFLOW_CONN_<CONN_ID>`` for the rest of the test."""
        monkeypatch.setenv(env_var_name(conn_id), self.connection_env_value(auth_type, **extra))

    def _connection_fields(self, auth_type: str, extra: dict[str, Any]) -> dict[str, Any]:
        if self.ca_file is not None:
            # The emulator's own certificate: verified, as a real one would be.
            extra = {"verify_ssl": self.ca_file, **extra}
        return connection_fields(self.url, self.credentials(auth_type), auth_type, **extra)
