"""The HTTP server (standard library, HTTP/1.1 keep-alive) and :class:`ControlRoomEmulator`."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_aa.emulator import admin, api
from airflow_provider_aa.emulator.config import EmulatorConfig, load_seed
from airflow_provider_aa.emulator.connections import AUTH_TYPES, airflow_connection, connection_fields, env_var_name
from airflow_provider_aa.emulator.counters import Counters, RequestLog
from airflow_provider_aa.emulator.faults import FaultInjector, answer_instead
from airflow_provider_aa.emulator.responses import ApiError, Response
from airflow_provider_aa.emulator.state import ControlRoomState

if TYPE_CHECKING:
    import pytest
    from airflow.sdk import Connection

#: Largest request body accepted.
MAX_BODY = 10 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ControlRoomEmulator"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms delayed-ACK stalls
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log and counters record what matters."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        request = api.Request(self.command, url.path, parse_qs(url.query), self.headers, body)
        emulator = self.server.emulator
        if url.path.startswith(admin.PREFIX):
            self._answer(admin.handle(emulator, request))
        else:
            self._serve(emulator, request)

    def _serve(self, emulator: ControlRoomEmulator, request: api.Request) -> None:
        resolution = api.resolve(request.method, request.path)
        emulator.counters.count_request(resolution.endpoint)
        plan = emulator.faults.take(request.method, request.path)
        if plan.latency:
            time.sleep(plan.latency)
        rule = plan.rule
        fault = rule.kind if rule else None
        if fault == "drop_before_commit":
            return self._drop(emulator, request, fault)
        response = answer_instead(rule) if rule else None
        if response is None:
            response = self._process(emulator, resolution, request)
        if fault == "drop_after_commit":
            return self._drop(emulator, request, fault)
        if fault == "slow_response":
            time.sleep(rule.params["seconds"])  # type: ignore[union-attr]
        emulator.counters.count_status(response.status)
        emulator.request_log.append(request.method, request.path, response.status, fault)
        self._answer(response)

    @staticmethod
    def _process(emulator: ControlRoomEmulator, resolution: api.Resolution, request: api.Request) -> Response:
        try:
            return emulator._api.handle(resolution, request)
        except Exception as error:  # an emulator bug: answer 500 and show it
            traceback.print_exc(file=sys.stderr)
            return ApiError(500, "EMULATOR_ERROR", f"The emulator failed: {error!r}").response()

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._answer(
                ApiError(411, "LENGTH_REQUIRED", "Send a Content-Length; chunked bodies are not supported").response()
            )
            return None
        length_text = self.headers.get("Content-Length", "0")
        length = int(length_text) if length_text.isdigit() else -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._answer(ApiError(400, "BAD_REQUEST", f"Bad Content-Length {length_text!r}").response())
            return None
        return self.rfile.read(length)

    def _drop(self, emulator: ControlRoomEmulator, request: api.Request, fault: str) -> None:
        """Close the connection without answering."""
        emulator.counters.count_status(None)
        emulator.request_log.append(request.method, request.path, None, fault)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _answer(self, response: Response) -> None:
        self.send_response(response.status)
        if response.status != 204:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if response.status != 204:
            self.wfile.write(response.body)


class _Server(ThreadingHTTPServer):
    """Threaded server that can close its clients' keep-alive connections on stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: ControlRoomEmulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's reverse DNS lookup
        self.server_name, self.server_port = self.socket.getsockname()[:2]

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # clients hanging up are not errors
            super().handle_error(request, client_address)


class ControlRoomEmulator:
    """
    An Automation Anywhere Control Room on ``127.0.0.1`` for tests and demos.

    ``config``: start-up settings (:class:`EmulatorConfig`), restored by :meth:`reset`.
    ``port=0`` picks a free port. ``seed``: a mapping or JSON file path replacing
    ``default_seed.json``. ``clock``: the time source (seconds since the epoch) for
    timestamps, token expiry and the emulated bot.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: Mapping[str, Any] | str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._initial_config = config or EmulatorConfig()
        self._seed = load_seed(seed)
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.counters = Counters()
        self.request_log = RequestLog()
        self.faults = FaultInjector()
        self._state = ControlRoomState(self._seed, self._initial_config, clock)
        self._api = api.ControlRoomApi(self._state, self.counters)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> ControlRoomEmulator:
        """Listen and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = _Server((self._host, self._port), self)
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
        """Stop listening and close every client connection."""
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
        """Like a Control Room restart with a persistent database: same port and data, no sessions."""
        self.stop()
        self._state.drop_sessions()
        self.start()

    def reset(self) -> None:
        """Back to the seed and the start-up settings; faults, counters, sessions and log cleared."""
        self.faults.clear()
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
        """``http://HOST:PORT``; the port is known once started (when ``port=0``)."""
        return f"http://{self._host}:{self._port}"

    # -- run-time controls ---------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        return self._state.config

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Change settings now, e.g. ``configure(token_lifetime=2, numeric_ids=True)``."""
        config = self._state.config.replace(**changes)
        self._state.set_config(config)
        return config

    def evict(self, username: str) -> int:
        """End all sessions of ``username`` (next call → 401 UM1114); returns how many."""
        return self._state.evict(username)

    def issue_token(self, username: str) -> str:
        """A token of a new session of ``username``, as handed to token-mode connections."""
        return self._state.issue_token(username)

    def work_items(self, queue_id: int | str) -> list[dict[str, Any]]:
        """All items of a queue as the API shows them, oldest first."""
        return self._state.work_items(queue_id)

    def bot_runs(self) -> list[dict[str, Any]]:
        """Every bot run's activity record, also those not listed yet, oldest first."""
        return self._state.bot_runs()

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
        return {"login": username, "password": user["password"]}

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
        return connection_fields(self.url, self.credentials(auth_type), auth_type, **extra)
