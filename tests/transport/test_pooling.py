"""The transports keep pooling connections, leave no watchdog thread behind, and close what they open."""

from __future__ import annotations

import asyncio
import threading

from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from airflow_provider_aa.transport.httpx_transport import HttpxTransport
from airflow_provider_aa.transport.requests_transport import RequestsTransport
from tests.transport.conftest import connection_settings, drip_headers, hook_for

PING = ApiRequest("GET", "/v1/ping")


def transport_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if not thread.name.startswith("scripted-")]


def test_the_hook_reuses_its_connection_and_leaves_no_thread_behind(server):
    hook = hook_for(connection_settings(server.url, timeout=2))
    before = len(transport_threads())

    for _ in range(30):
        answer = hook._send(PING)
        assert isinstance(answer, ApiResponse) and answer.status == 200
    assert len(transport_threads()) == before
    assert server.connections == 1

    server.answer = drip_headers
    assert isinstance(hook._send(PING), TransportFailure)
    assert len(transport_threads()) == before
    hook.close()


def test_the_hooks_session_is_the_transports(server):
    hook = hook_for(connection_settings(server.url))
    assert hook.get_conn() is hook._http.session
    assert hook.get_conn().verify is True


def test_closing_the_requests_transport_closes_its_connections(server):
    transport = RequestsTransport(connection_settings(server.url))
    assert isinstance(transport.send(PING), ApiResponse)
    assert isinstance(transport.send(PING), ApiResponse)

    transport.close()

    assert server.connections == 1
    assert server.wait_closed(1)


def test_the_httpx_transport_pools_and_closes_its_connections(server):
    async def use():
        transport = HttpxTransport(connection_settings(server.url))
        for _ in range(5):
            assert isinstance(await transport.send(PING), ApiResponse)
        await transport.aclose()

    asyncio.run(use())

    assert server.connections == 1
    assert server.wait_closed(1)
