"""Both transports send a request's path and its query string (``hook.run``'s ``params``) exactly as built."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_aa.control_room.any_api import any_request
from airflow_provider_aa.control_room.exchange import ApiResponse
from airflow_provider_aa.transport.httpx_transport import HttpxTransport
from airflow_provider_aa.transport.requests_transport import RequestsTransport
from tests.transport.conftest import connection_settings, ok

PARAMS = {"name": "a b&c=d/é+%", "flag": True, "id": [1, 2]}
TARGET = "/v1/things%20x/list?name=a%20b%26c%3Dd%2F%C3%A9%2B%25&flag=true&id=1&id=2"


@pytest.fixture
def seen(server) -> list[str]:
    lines: list[str] = []

    def record(connection):
        lines.append(connection.request_line)
        ok(connection)

    server.answer = record
    return lines


def test_the_requests_transport_sends_the_query_untouched(server, seen):
    transport = RequestsTransport(connection_settings(server.url))
    request = any_request("POST", "/v1/things%20x/list", params=PARAMS, json={})
    assert request.path == TARGET
    assert isinstance(transport.send(request), ApiResponse)
    transport.close()
    assert seen == [f"POST {TARGET} HTTP/1.1"]


def test_the_httpx_transport_sends_the_query_untouched(server, seen):
    async def send():
        transport = HttpxTransport(connection_settings(server.url))
        try:
            return await transport.send(any_request("GET", "/v1/things%20x/list", params=PARAMS))
        finally:
            await transport.aclose()

    assert isinstance(asyncio.run(send()), ApiResponse)
    assert seen == [f"GET {TARGET} HTTP/1.1"]
