"""
Secrets in the task log, where they really pass: a gateway in front of the Control Room
answers with an error that echoes the request it refused — its body (the login, holding the
API key) or its ``X-Authorization`` header (a token) — as gateways and some Control Room
errors do. The provider quotes the Control Room's error message in its exception, and the
task log records the exception: only Airflow's secrets masker, fed by the provider, keeps
the secret out.

``dag.test()`` prints every log line unmasked to the console: Airflow masks on the way to
the task log file, which its supervisor writes through its own processors (the masker
among them). The tests copy every log event of the run through those processors and look
at that copy. The masker is one per process and never forgets: every secret here is new
(a fresh password and API key, tokens issued now), so a mask registered by an earlier test
cannot hide a missing one.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import re
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from automation_anywhere_emulator.config import load_seed
from tests.e2e.conftest import load_test_dag, task_states

pytestmark = pytest.mark.usefixtures("airflow_db")

ECHOED = "ECHOED_REQUEST"


class EchoingGateway:
    """
    Relays requests to ``upstream``, but answers the first ``count`` requests whose path
    contains ``path`` itself: ``status`` with an error body that quotes the request's
    ``X-Authorization`` header and its body. Every header value and body it saw is in ``seen``.
    """

    def __init__(self, upstream: str, *, path: str, status: int, count: int = 1) -> None:
        self.seen: list[str] = []
        self.echoed = 0
        gateway, target, lock = self, urlsplit(upstream), threading.Lock()

        class Relay(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = self.headers.get("X-Authorization", "")
                with lock:
                    gateway.seen += [token, body.decode("utf-8", "replace")]
                    echo = path in self.path and gateway.echoed < count
                    gateway.echoed += echo
                if echo:
                    code, headers = status, [("Content-Type", "application/json")]
                    answer = json.dumps(
                        {
                            "code": ECHOED,
                            "message": f"Refused {self.command} {self.path} with X-Authorization: {token}",
                            "details": body.decode("utf-8", "replace"),
                        }
                    ).encode()
                else:
                    relayed = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                    forwarded = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    relayed.request(self.command, self.path, body or None, forwarded)
                    response = relayed.getresponse()
                    code, answer = response.status, response.read()
                    hop_by_hop = ("connection", "content-length", "transfer-encoding", "keep-alive")
                    headers = [(k, v) for k, v in response.getheaders() if k.lower() not in hop_by_hop]
                    relayed.close()
                self.send_response(code)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_PUT = do_DELETE = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def emulator() -> Iterator[ControlRoomEmulator]:
    """An emulator of its own whose password and API key no earlier test has seen; items stay NEW."""
    seed = load_seed()
    for user in seed["users"]:
        if "password" in user:
            user["password"] = "PW-" + secrets.token_urlsafe(16)
        if "apiKey" in user:
            user["apiKey"] = "KEY-" + secrets.token_urlsafe(30)
    with ControlRoomEmulator(EmulatorConfig(pause_bot=True), seed=seed) as emulator:
        yield emulator


@pytest.fixture
def gateways() -> Iterator[list[EchoingGateway]]:
    opened: list[EchoingGateway] = []
    yield opened
    for gateway in opened:
        gateway.close()


@contextlib.contextmanager
def task_log() -> Iterator[io.BytesIO]:
    """
    Every log event of this process inside the block, also written as Airflow's supervisor
    writes a task log file: through ``logging_processors(json_output=True)``, JSON lines.
    """
    import structlog
    from airflow.sdk.log import logging_processors

    processors = logging_processors(json_output=True)
    written = io.BytesIO()

    def copy_to_task_log(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        copy: Any = dict(event_dict)
        try:
            for processor in processors:
                copy = processor(logger, method_name, copy)
        except structlog.DropEvent:
            return event_dict
        written.write((copy if isinstance(copy, bytes) else copy.encode()) + b"\n")
        return event_dict

    before = structlog.get_config()["processors"]
    structlog.configure(processors=[copy_to_task_log, *before])
    try:
        yield written
    finally:
        structlog.configure(processors=before)


def run_through(
    emulator: ControlRoomEmulator, gateway: EchoingGateway, monkeypatch: pytest.MonkeyPatch, auth_type: str
) -> tuple[dict[str, str], list[str], list[dict[str, Any]]]:
    """
    The ``failing_for_good`` sensor waiting for a new item, its connection pointing at the
    gateway: the task states, the connection's secrets, the task log's events.
    """
    fields = json.loads(emulator.connection_env_value(auth_type))
    fields["host"] = gateway.url
    monkeypatch.setenv("AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT", json.dumps(fields))
    ids = [item["id"] for item in emulator.add_work_items(20, [{"invoice_id": "INV-1"}])]
    with task_log() as log:
        run = load_test_dag("failing_for_good").test(run_conf={"work_item_ids": ids})
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    connection_secrets = [fields.get("password"), fields["extra"].get("api_key"), fields["extra"].get("token")]
    return task_states(run), [secret for secret in connection_secrets if secret], events


def failure_of(events: list[dict[str, Any]]) -> str:
    """The exception message of the task's failure, as its log holds it."""
    (failure,) = [event for event in events if event.get("event") == "Task failed with exception"]
    return str(failure["exception"][0]["exc_value"])


@pytest.mark.parametrize(
    ("auth_type", "masked"),
    [
        pytest.param("password", r'"password":\s*"\*\*\*"', id="password-in-the-login-body"),
        pytest.param("api_key", r'"apiKey":\s*"\*\*\*"', id="api_key-in-the-login-body"),
        pytest.param("token", r"X-Authorization: \*\*\*'", id="token-in-the-lookups-header"),
    ],
)
def test_the_connections_secret_echoed_by_the_control_room_is_masked_in_the_task_log(
    emulator, gateways, monkeypatch, auth_type, masked
):
    """
    Airflow masks the connection's password and its extras named like secrets when the hook
    reads the connection, and the hook masks its credentials again: either suffices.
    """
    gateways.append(gateway := EchoingGateway(emulator.url, path="/", status=400))  # the first request

    states, connection_secrets, events = run_through(emulator, gateway, monkeypatch, auth_type)

    assert states == {"wait": "failed"} and gateway.echoed == 1
    message = failure_of(events)
    assert ECHOED in message and re.search(masked, message)  # the secret reached the log, masked
    (secret,) = [secret for secret in connection_secrets if secret in "".join(gateway.seen)]
    assert secret not in json.dumps(events)


def test_a_token_the_control_room_issued_and_echoes_in_a_401_is_masked_in_the_task_log(emulator, gateways, monkeypatch):
    """The look-up is refused twice: the error quotes the token of the fresh login between."""
    gateways.append(gateway := EchoingGateway(emulator.url, path="/workitems/list", status=401, count=2))

    states, connection_secrets, events = run_through(emulator, gateway, monkeypatch, "password")

    assert states == {"wait": "failed"} and gateway.echoed == 2
    message = failure_of(events)
    assert f"{ECHOED}', message='Refused POST /v3/wlm/queues/20/workitems/list with X-Authorization: ***'" in message
    tokens = {value for value in gateway.seen if value.startswith("eyJ")}
    assert len(tokens) == 2  # one per login
    logged = json.dumps(events)
    for secret in [*tokens, *connection_secrets]:
        assert secret not in logged
