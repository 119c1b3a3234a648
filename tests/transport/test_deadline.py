"""A request's total time is bounded by the connection's timeout, not only the gaps between bytes."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from tests.transport.conftest import SENDERS, Connection, connection_settings, drip_body, drip_headers, head

PING = ApiRequest("GET", "/v1/ping")
TIMEOUT = 2.0
MARGIN = 1.5


@pytest.mark.parametrize("script", [drip_headers, drip_body], ids=["dripping headers", "dripping body"])
def test_a_dripping_answer_ends_at_the_timeout(send, server, script):
    server.answer = script

    started = time.monotonic()
    answer = send(connection_settings(server.url, timeout=TIMEOUT), PING)
    elapsed = time.monotonic() - started

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "timeout"
    assert answer.description.startswith("the answer did not complete within 2 s")
    assert elapsed < TIMEOUT + MARGIN


def test_a_slow_answer_that_completes_in_time_is_read(send, server):
    def slow(connection: Connection) -> None:
        body = b'{"ok": true}'
        connection.send(head(Content_Length=len(body)))
        connection.drip(body, interval=0.05)

    server.answer = slow

    answer = send(connection_settings(server.url, timeout=TIMEOUT), PING)

    assert isinstance(answer, ApiResponse), answer
    assert answer.body == b'{"ok": true}'


@pytest.mark.parametrize("script", [drip_headers, drip_body], ids=["dripping headers", "dripping body"])
def test_a_dripping_answer_over_tls_ends_at_the_timeout(send, tls_server, certificates, script):
    tls_server.answer = script
    settings = connection_settings(tls_server.url, timeout=TIMEOUT, verify_ssl=str(certificates[0].cert_file))

    started = time.monotonic()
    answer = send(settings, PING)
    elapsed = time.monotonic() - started

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "timeout"
    assert elapsed < TIMEOUT + MARGIN


@pytest.fixture
def silent_port():
    """A port that accepts connections and never says a word (not even a TLS handshake)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, name="scripted-silent", daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in held:
        connection.close()


def test_a_handshake_that_never_completes_ends_at_the_timeout(send, silent_port):
    started = time.monotonic()
    answer = send(connection_settings(f"https://127.0.0.1:{silent_port}", timeout=TIMEOUT), PING)
    elapsed = time.monotonic() - started

    assert isinstance(answer, TransportFailure), answer
    assert elapsed < TIMEOUT + MARGIN
    if send is SENDERS["trigger (httpx)"]:
        # Never sent: told as a connect failure (safe to retry), not cut by the total deadline.
        assert answer == TransportFailure("connect", "could not connect within 2 s")
