"""
The asynchronous transport, on ``httpx``: what the triggers send their requests through.

It keeps the promises of :mod:`airflow_provider_aa.transport`: ``verify`` is set explicitly
(a CA bundle path becomes an ``ssl.SSLContext``), the whole request, body included, runs under
``asyncio.wait_for`` with the connection's timeout, the body is read raw and decoded by a
:class:`~airflow_provider_aa.transport.BodyReader`, and a TLS failure is told as such (not as a
connect failure to retry).
"""

from __future__ import annotations

import asyncio
import ssl

import httpx

from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from airflow_provider_aa.control_room.settings import ConnectionSettings
from airflow_provider_aa.transport import (
    DEADLINE_GRACE,
    DEFAULT_HEADERS,
    READ_CHUNK,
    BodyReader,
    connect_failure,
    connect_timeout,
    deadline_failure,
    dropped,
    https_server,
    no_answer,
    other_failure,
    refused_as_plain_http,
    speaks_tls,
    ssl_cause,
    tls_client_hello,
    tls_failure,
    tls_probe_address,
    tls_probe_timeout,
)


class HttpxTransport:
    """
    Send :class:`ApiRequest`\\ s to one Control Room over a pooled ``httpx.AsyncClient``.

    :param settings: the connection's base URL, ``verify_ssl``, ``timeout`` (total time of one
        request) and ``max_response_bytes``.
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        #: The ``httpx.AsyncClient`` (pooled connections) that carries the calls.
        self.client = httpx.AsyncClient(
            base_url=settings.base_url,
            verify=_verify(settings.verify_ssl),
            timeout=settings.timeout,
            # X-Authorization must never follow a redirect to another server.
            follow_redirects=False,
            headers=dict(DEFAULT_HEADERS),
        )

    async def send(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        """Send one request; every problem comes back as a :class:`TransportFailure`."""
        base_url = self.settings.base_url
        outcome = await self._send(request)
        if isinstance(outcome, ApiResponse):
            return refused_as_plain_http(base_url, outcome.status, outcome.body) or outcome
        address = tls_probe_address(base_url, outcome)
        if address is not None and await _speaks_tls(address, tls_probe_timeout(self.settings.timeout)):
            return https_server(base_url, outcome)
        return outcome

    async def _send(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        try:
            return await asyncio.wait_for(self._exchange(request), self.settings.timeout + DEADLINE_GRACE)
        except asyncio.TimeoutError:
            return deadline_failure(self.settings.timeout)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.client.aclose()

    async def _exchange(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        try:
            async with self.client.stream(
                request.method, request.path, json=request.json, headers=dict(request.headers)
            ) as answer:
                body = BodyReader(
                    self.settings.max_response_bytes,
                    content_encoding=answer.headers.get("content-encoding", ""),
                    content_length=answer.headers.get("content-length", ""),
                )
                failure = body.check_declared_length()
                if failure is None:
                    async for chunk in answer.aiter_raw(READ_CHUNK):
                        failure = body.feed(chunk)
                        if failure:
                            break
                content = failure or body.finish()
        except httpx.HTTPError as problem:
            return httpx_failure(problem, self.settings.timeout, self.settings.base_url)
        if isinstance(content, TransportFailure):
            return content
        return ApiResponse(answer.status_code, dict(answer.headers), content)


def httpx_failure(problem: httpx.HTTPError, timeout: float, base_url: str) -> TransportFailure:
    """What an ``httpx`` exception means for a request."""
    if isinstance(problem, httpx.ConnectError) and ssl_cause(problem) is not None:
        return tls_failure(problem, base_url)
    if isinstance(problem, httpx.ConnectTimeout):
        return connect_timeout(timeout)
    if isinstance(problem, (httpx.ConnectError, httpx.PoolTimeout)):
        return connect_failure(problem, base_url)
    if isinstance(problem, httpx.TimeoutException):
        return no_answer(timeout)
    if isinstance(problem, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return dropped()
    return other_failure(problem)


async def _speaks_tls(address: tuple[str, int], timeout: float) -> bool:
    """Send a TLS ClientHello to ``address``: does a TLS record come back? (see ``tls_probe_address``)"""

    async def first_bytes() -> bytes:
        reader, writer = await asyncio.open_connection(*address)
        try:
            writer.write(tls_client_hello(address[0]))
            writer.write_eof()
            await writer.drain()
            first = b""
            while len(first) < 2:
                data = await reader.read(2 - len(first))
                if not data:
                    break
                first += data
            return first
        finally:
            writer.close()

    try:
        return speaks_tls(await asyncio.wait_for(first_bytes(), timeout))
    except (OSError, asyncio.TimeoutError):
        return False  # unreachable or silent now: nothing tells it speaks TLS


def _verify(verify_ssl: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify``: a CA bundle path as an explicit context (httpx deprecates paths)."""
    if isinstance(verify_ssl, str):
        return ssl.create_default_context(cafile=verify_ssl)
    return verify_ssl
