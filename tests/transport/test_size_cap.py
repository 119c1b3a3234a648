"""Answers are capped at extra.max_response_bytes (decoded size), in bounded memory, without retries."""

from __future__ import annotations

import asyncio
import functools
import gzip
import tracemalloc
import zlib

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from airflow_provider_aa.control_room.session import ControlRoomSession, RetryPolicy
from airflow_provider_aa.triggers.clients import AsyncControlRoomClient
from tests.transport.conftest import (
    MIB,
    Connection,
    connection_settings,
    encoded,
    endless_zeros,
    head,
    hook_for,
)

PING = ApiRequest("GET", "/v1/ping")
CAP = MIB
BIG = 50 * MIB
FAST_RETRY = RetryPolicy(initial_delay=0.01, max_delay=0.01)


@functools.cache
def bomb(encoding: str) -> bytes:
    """50 MiB of a JSON string, compressed to about 50 KB."""
    body = b'"' + b"0" * (BIG - 2) + b'"'
    return gzip.compress(body, compresslevel=9) if encoding == "gzip" else zlib.compress(body, 9)


def compressed(encoding: str):
    data = bomb(encoding)

    def answer(connection: Connection) -> None:
        connection.send(head(Content_Length=len(data), Content_Encoding=encoding) + data)

    return answer


def measured(send, settings, request):
    tracemalloc.start()
    try:
        answer = send(settings, request)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return answer, peak


def test_a_declared_content_length_over_the_cap_fails_before_the_body_is_read(send, server):
    server.answer = endless_zeros(BIG, chunked=False)

    answer, peak = measured(send, connection_settings(server.url, max_response_bytes=CAP), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "other"
    assert answer.description.startswith(
        f"the answer exceeded max_response_bytes ({CAP} bytes): its Content-Length is {BIG}"
    )
    assert peak < 2 * CAP


def test_a_chunked_answer_over_the_cap_fails_while_streaming(send, server):
    server.answer = endless_zeros(BIG, chunked=True)

    answer, peak = measured(send, connection_settings(server.url, max_response_bytes=CAP), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "other"
    assert answer.description.startswith(f"the answer exceeded max_response_bytes ({CAP} bytes)")
    assert peak < 2 * CAP
    assert server.body_bytes_sent < BIG


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_fails_once_decoded_past_the_cap(send, server, encoding):
    server.answer = compressed(encoding)
    bomb(encoding)  # compressed before measuring

    answer, peak = measured(send, connection_settings(server.url, max_response_bytes=CAP), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.kind == "other"
    assert answer.description.startswith(
        f"the answer exceeded max_response_bytes ({CAP} bytes) once decoded (Content-Encoding {encoding})"
    )
    assert peak < 2 * CAP


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
def test_an_answer_of_exactly_the_cap_is_read_whole(send, server, encoding):
    body = b'"' + b"x" * (CAP - 2) + b'"'
    server.answer = encoded(body, encoding) if encoding else (lambda connection: ok_body(connection, body))

    answer = send(connection_settings(server.url, max_response_bytes=CAP), PING)

    assert isinstance(answer, ApiResponse), answer
    assert answer.body == body


def ok_body(connection: Connection, body: bytes) -> None:
    connection.send(head(Content_Length=len(body)) + body)


def test_the_default_cap_is_64_mib(send, server):
    server.answer = endless_zeros(64 * MIB + 1, chunked=False)

    answer = send(connection_settings(server.url), PING)

    assert isinstance(answer, TransportFailure), answer
    assert answer.description.startswith("the answer exceeded max_response_bytes (67108864 bytes)")


def test_the_hook_does_not_retry_an_oversized_answer(server):
    server.answer = endless_zeros(4 * MIB, chunked=True)
    hook = hook_for(connection_settings(server.url, max_response_bytes=CAP), retry=FAST_RETRY)

    with pytest.raises(
        AutomationAnywhereError, match=r"failed: the answer exceeded max_response_bytes \(1048576 bytes\)"
    ):
        hook._request_json(PING)

    assert server.requests == 1


def test_the_trigger_does_not_retry_an_oversized_answer(server):
    server.answer = endless_zeros(4 * MIB, chunked=True)

    async def call():
        settings = connection_settings(server.url, max_response_bytes=CAP)
        client = AsyncControlRoomClient(ControlRoomSession(settings, retry=FAST_RETRY))
        try:
            await client._request_json(PING)
        finally:
            await client._http.aclose()

    with pytest.raises(
        AutomationAnywhereError, match=r"failed: the answer exceeded max_response_bytes \(1048576 bytes\)"
    ):
        asyncio.run(call())

    assert server.requests == 1
