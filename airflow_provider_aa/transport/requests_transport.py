"""
The blocking transport, on ``requests``: what the hook sends its requests through.

``requests`` alone cannot keep the transport's promises (see :mod:`airflow_provider_aa.transport`):
its timeout bounds each socket read, not a request, and it lets ``REQUESTS_CA_BUNDLE`` override a
session's ``verify``. So every request here passes ``verify`` itself, streams the body through a
:class:`~airflow_provider_aa.transport.BodyReader`, and runs under a :class:`_Watchdog` that shuts
the request's connection down when the total time is up, which ends a read blocked in the middle
of the status line or the headers as well as in the body.

The watchdog learns which connection that is without replacing anything of urllib3 or
``requests``: the adapter's pool managers (direct, and one per HTTP or SOCKS proxy) get their
pool classes through ``pool_classes_by_scheme``, the switch urllib3 keeps for that (its SOCKS
support uses it), from ``init_poolmanager`` and ``proxy_manager_for``, the methods ``requests``
documents for adapter subclasses. Those pools' connection classes override only urllib3's public
``connect`` and ``request``, to claim the connection for the current thread's request; a
watchdog shuts down only a connection its request still owns, never one that went back to the
pool and carries another thread's request now.

Why two HTTP stacks (this one and :mod:`~airflow_provider_aa.transport.httpx_transport` for the
triggerer): both come with Airflow (``requests`` with its core, ``httpx`` with its task SDK), so
one stack would remove code, not a dependency. The hook on ``httpx``'s blocking client would
still need a deadline of its own (that client too bounds each read only: a dripping server keeps
it forever), through an ``httpcore`` network backend under a hand-written transport, and its
``get_conn()`` would stop being the ``requests.Session`` that users and the hook's unit tests
(``requests-mock``) rely on. The triggerer on ``requests``
would drop the ``httpx`` module (about 150 lines) but send each request on a thread of the
triggerer's shared ``asyncio.to_thread`` pool, which cancelling a trigger cannot stop; ``httpx``
ends a request with ``asyncio.wait_for`` and holds no thread.
"""

from __future__ import annotations

import functools
import socket
import threading
import weakref
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, PoolManager
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import ConnectionPool

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
    tls_client_hello,
    tls_failure,
    tls_probe_address,
    tls_probe_timeout,
)

#: How often a watchdog whose deadline has passed looks for the request's connection again
#: (it may still have been connecting when the deadline came).
_RECHECK = 0.05

#: The watchdog of the request the current thread is sending, for the connection it uses to
#: claim (see :class:`_Claimed`).
_current = threading.local()
#: Guards which watchdog owns a connection, so that a watchdog never shuts down a connection
#: that went back to the pool and now carries another thread's request.
_ownership = threading.Lock()


class RequestsTransport:
    """
    Send :class:`ApiRequest`\\ s to one Control Room over a pooled ``requests.Session``.

    :param settings: the connection's base URL, ``verify_ssl``, ``timeout`` (total time of one
        request) and ``max_response_bytes``.
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        #: The ``requests.Session`` (pooled connections) that carries the calls.
        self.session = requests.Session()
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, _WatchedAdapter())
        # Also set here for anyone using the session directly; requests would let the
        # environment override it, so send() passes verify on every request as well.
        self.session.verify = settings.verify_ssl
        self.session.headers.update(DEFAULT_HEADERS)

    def send(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        """Send one request; every problem comes back as a :class:`TransportFailure`."""
        base_url = self.settings.base_url
        outcome = self._send(request)
        if isinstance(outcome, ApiResponse):
            return refused_as_plain_http(base_url, outcome.status, outcome.body) or outcome
        address = tls_probe_address(base_url, outcome)
        if address is not None and _speaks_tls(address, tls_probe_timeout(self.settings.timeout)):
            return https_server(base_url, outcome)
        return outcome

    def _send(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        timeout = self.settings.timeout
        watchdog = _Watchdog(timeout + DEADLINE_GRACE)
        _current.watchdog = watchdog
        watchdog.start()
        try:
            return self._exchange(request, watchdog)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as problem:
            failure = requests_failure(problem, timeout, self.settings.base_url)
            # Once the watchdog has shut the connection down, what broke is the deadline.
            return deadline_failure(timeout) if watchdog.expired and not failure.not_sent else failure
        finally:
            _current.watchdog = None
            watchdog.stop()

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def _exchange(self, request: ApiRequest, watchdog: _Watchdog) -> ApiResponse | TransportFailure:
        settings = self.settings
        answer = self.session.request(
            request.method,
            settings.base_url + request.path,
            json=request.json,
            headers=dict(request.headers),
            timeout=(settings.timeout, settings.timeout),
            verify=settings.verify_ssl,
            # requests would carry X-Authorization across a redirect to another host;
            # the protocol turns any redirect into an error instead.
            allow_redirects=False,
            stream=True,
        )
        with answer:  # an answer not read to its end closes its connection
            body = BodyReader(
                settings.max_response_bytes,
                content_encoding=answer.headers.get("Content-Encoding", ""),
                content_length=answer.headers.get("Content-Length", ""),
            )
            failure = body.check_declared_length()
            if failure is None:
                for chunk in answer.raw.stream(READ_CHUNK, decode_content=False):
                    failure = body.feed(chunk) or (deadline_failure(settings.timeout) if watchdog.expired else None)
                    if failure:
                        break
            if failure is None and watchdog.expired:
                # Shut down mid-headers, http.client may take what came as a whole answer.
                failure = deadline_failure(settings.timeout)
            content = failure or body.finish()
        if isinstance(content, TransportFailure):
            return content
        return ApiResponse(answer.status_code, dict(answer.headers), content)


def requests_failure(problem: Exception, timeout: float, base_url: str) -> TransportFailure:
    """What a ``requests`` (or, reading the body, ``urllib3``) exception means for a request."""
    if isinstance(problem, (requests.exceptions.SSLError, urllib3.exceptions.SSLError)):
        return tls_failure(problem, base_url)
    if isinstance(problem, requests.exceptions.ConnectTimeout):
        return connect_timeout(timeout)
    if isinstance(problem, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError)):
        return no_answer(timeout)
    if isinstance(problem, requests.exceptions.ConnectionError):
        cause = problem.args[0] if problem.args else None
        if isinstance(cause, urllib3.exceptions.MaxRetryError) and isinstance(
            cause.reason, urllib3.exceptions.NewConnectionError
        ):
            return connect_failure(problem, base_url)
        return dropped()
    if isinstance(problem, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError)):
        return dropped()
    return other_failure(problem)


def _speaks_tls(address: tuple[str, int], timeout: float) -> bool:
    """Send a TLS ClientHello to ``address``: does a TLS record come back? (see ``tls_probe_address``)"""
    first = b""
    try:
        with socket.create_connection(address, timeout=timeout) as sock:
            sock.sendall(tls_client_hello(address[0]))
            sock.shutdown(socket.SHUT_WR)
            while len(first) < 2:
                data = sock.recv(2 - len(first))
                if not data:
                    break
                first += data
    except OSError:
        pass  # unreachable or silent now: nothing tells it speaks TLS
    return speaks_tls(first)


class _Watchdog:
    """
    Ends one request at its deadline by shutting down the socket of every connection the
    request still owns (see :class:`_Claimed`): a read blocked on that socket returns at once.

    One short-lived thread per request, stopped (and joined) when the request ends.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._done = threading.Event()
        #: The connections this request has claimed (guarded by ``_ownership``).
        self.connections: set[_Claimed] = set()
        self.expired = False
        self._thread = threading.Thread(target=self._watch, name="aa-request-deadline", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        with _ownership:
            self.connections.clear()

    def _watch(self) -> None:
        if self._done.wait(self._seconds):
            return
        self.expired = True
        while True:
            with _ownership:
                for connection in self.connections:
                    # Back in the pool and claimed by another request since: not ours to end.
                    if connection.watchdog is self:
                        _shut_down(connection)
            if self._done.wait(_RECHECK):
                return


def _shut_down(connection: HTTPConnection) -> None:
    sock = connection.sock
    if not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)  # urllib3's SSLTransport (TLS inside a TLS proxy)
    if isinstance(sock, socket.socket):
        try:
            # The plain socket's shutdown, also for an SSLSocket: it wakes a blocked read
            # without touching the TLS state another thread is using.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


class _Claimed(HTTPConnection):
    """
    Mixed into the connection class of every pool the adapter's managers make (direct, HTTP
    proxy, SOCKS): connecting and sending a request make the connection the current request's.
    Only urllib3's public ``connect`` and ``request`` are overridden.
    """

    #: The watchdog of the request that uses the connection now (guarded by ``_ownership``).
    watchdog: _Watchdog | None = None

    def connect(self) -> None:
        _claim(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        _claim(self)
        super().request(*args, **kwargs)


def _claim(connection: _Claimed) -> None:
    """Make ``connection`` the current thread's request's: no other watchdog shuts it down now."""
    watchdog = getattr(_current, "watchdog", None)
    with _ownership:
        connection.watchdog = watchdog
        if watchdog is not None:
            watchdog.connections.add(connection)


@functools.cache
def _watched_pool(pool_class: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    """``pool_class`` with its ``ConnectionCls`` made a :class:`_Claimed` subclass (once)."""
    connection_class = pool_class.ConnectionCls
    if issubclass(connection_class, _Claimed):
        return pool_class
    claimed = type(f"Claimed{connection_class.__name__}", (_Claimed, connection_class), {})
    return type(f"Watched{pool_class.__name__}", (pool_class,), {"ConnectionCls": claimed})


def _watch(manager: PoolManager) -> PoolManager:
    """Make ``manager`` build watched pools: ``pool_classes_by_scheme`` is urllib3's own switch for that."""
    manager.pool_classes_by_scheme = {
        scheme: _watched_pool(pool_class) for scheme, pool_class in manager.pool_classes_by_scheme.items()
    }
    return manager


class _WatchedAdapter(HTTPAdapter):
    """
    An adapter whose pool managers (direct and per proxy) make watched pools, through the
    methods ``requests`` exposes for subclasses, and which closes its pools' connections when
    closed: urllib3 2 leaves that to the garbage collector, and after a failed request a pool
    may sit in a reference cycle, its idle connections open, until a collection finds it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pools: weakref.WeakSet[ConnectionPool] = weakref.WeakSet()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watch(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return _watch(super().proxy_manager_for(proxy, **proxy_kwargs))

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        self._pools.add(pool)
        return pool

    def close(self) -> None:
        for pool in list(self._pools):
            pool.close()
        super().close()
