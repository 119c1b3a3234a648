"""
The blocking transport's deadline reaches the connection a request uses, directly and
through an HTTP proxy, without replacing anything of urllib3 or requests: the pools, pool
managers and connections it uses keep their library's methods, and its own subclasses
override only public ones.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from urllib3.connection import HTTPConnection

from airflow_provider_aa.control_room.exchange import ApiRequest, TransportFailure
from airflow_provider_aa.transport import requests_transport
from airflow_provider_aa.transport.requests_transport import RequestsTransport
from tests.transport.conftest import Connection, connection_settings, drip_headers, hook_for, ok

PING = ApiRequest("GET", "/v1/ping")
TIMEOUT = 2.0
MARGIN = 1.5


class ForwardProxy:
    """A plain HTTP proxy on 127.0.0.1: forwards absolute-URL requests and tunnels ``CONNECT``."""

    def __init__(self) -> None:
        self.forwarded = 0
        self.tunnelled = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)  # closing it does not end a blocked accept()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._spawn(self._accept)

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for sock in list(self._sockets):
            _shut(sock)  # wakes a blocked recv(), which close() alone does not
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name="scripted-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client = self._listener.accept()[0]
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(client)
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            data = client.recv(4096)
            if not data:
                client.close()
                return
            head += data
        method, target = head.split(b" ", 2)[:2]
        if method == b"CONNECT":
            host, port = target.decode().rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.tunnelled += 1
        else:
            address = urlsplit(target.decode())
            upstream = socket.create_connection((address.hostname, address.port))
            upstream.sendall(head)
            self.forwarded += 1
        self._sockets.append(upstream)
        self._spawn(self._pipe, upstream, client)
        self._pipe(client, upstream)

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        _shut(source)
        _shut(target)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected (any more)


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    running = ForwardProxy()
    yield running
    running.stop()


def replaced_methods(obj: object) -> list[str]:
    """The methods of ``obj``'s class that ``obj`` holds something else for."""
    return [name for name in vars(obj) if callable(getattr(type(obj), name, None))]


def private_overrides(cls: type) -> list[str]:
    """The private names of library classes that the provider's classes among ``cls``'s own define."""
    found = []
    for index, klass in enumerate(cls.__mro__):
        if not klass.__module__.startswith("airflow_provider_aa"):
            continue
        library = [base for base in cls.__mro__[index + 1 :] if not base.__module__.startswith("airflow_provider_aa")]
        for name in vars(klass):
            private = name.startswith("_") and not name.startswith("__")
            if private and any(name in vars(base) for base in library):
                found.append(f"{klass.__name__}.{name}")
    return found


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("route", ["direct", "HTTP proxy"])
def test_the_deadline_cuts_a_drip_without_replacing_library_methods(
    route, scheme, server, tls_server, certificates, proxy, monkeypatch
):
    target = tls_server if scheme == "https" else server
    target.answer = drip_headers
    for scheme_proxy in ("NO", "ALL", "HTTP", "HTTPS"):
        monkeypatch.delenv(f"{scheme_proxy}_PROXY", raising=False)
        monkeypatch.delenv(f"{scheme_proxy.lower()}_proxy", raising=False)
    if route == "HTTP proxy":
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    hook = hook_for(connection_settings(target.url, timeout=TIMEOUT, verify_ssl=str(certificates[0].cert_file)))

    try:
        started = time.monotonic()
        answer = hook._send(PING)
        elapsed = time.monotonic() - started

        assert isinstance(answer, TransportFailure), answer
        assert answer.kind == "timeout"
        assert elapsed < TIMEOUT + MARGIN
        assert target.requests == 1
        proxies = {}
        adapter = hook.get_conn().get_adapter(target.url)
        manager = adapter.poolmanager
        if route == "HTTP proxy":
            assert (proxy.forwarded, proxy.tunnelled) == ((1, 0) if scheme == "http" else (0, 1))
            proxies = {"http": proxy.url, "https": proxy.url}
            manager = adapter.proxy_manager[proxy.url]
        # The pool the request used, asked for as requests asks for it.
        sent = requests.Request("GET", target.url + PING.path).prepare()
        pool = adapter.get_connection_with_tls_context(sent, str(certificates[0].cert_file), proxies)
        for used in (adapter, manager, pool):
            assert replaced_methods(used) == [], type(used)
            assert private_overrides(type(used)) == [], type(used)
        assert private_overrides(pool.ConnectionCls) == []
        assert issubclass(pool.ConnectionCls, HTTPConnection)
    finally:
        hook.close()


@contextmanager
def sending_for(watchdog: Any) -> Iterator[None]:
    """Act as the thread sending the request ``watchdog`` bounds."""
    requests_transport._current.watchdog = watchdog
    try:
        yield
    finally:
        requests_transport._current.watchdog = None


def test_a_watchdog_never_ends_a_connection_another_request_took_since(server):
    def late(connection: Connection) -> None:
        if not connection.stop.wait(0.5):  # answers once the earlier watchdog has had its go
            ok(connection)

    server.answer = late
    transport = RequestsTransport(connection_settings(server.url, timeout=TIMEOUT))
    pool = transport.session.get_adapter(server.url).poolmanager.connection_from_url(server.url)
    taken, kept = (pool.ConnectionCls(host="127.0.0.1", port=server.port) for _ in range(2))
    earlier, later = requests_transport._Watchdog(0.05), requests_transport._Watchdog(60)
    with sending_for(earlier):
        taken.connect()
        kept.connect()
    with sending_for(later):  # back in the pool, then taken by another request
        taken.request("GET", "/v1/ping")
    earlier.start()
    later.start()
    try:
        while not earlier.expired:
            time.sleep(0.01)
        time.sleep(3 * requests_transport._RECHECK)

        answer = taken.getresponse()

        assert answer.status == 200
        assert answer.data == b'{"ok": true}'
        assert kept.sock is not None
        kept.sock.settimeout(1)
        assert kept.sock.recv(1) == b""  # shut down: the earlier request still owned it
    finally:
        earlier.stop()
        later.stop()
        taken.close()
        kept.close()
        transport.close()
