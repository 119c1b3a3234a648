"""
A tiny scripted HTTP/1.1 server on 127.0.0.1 (plain or TLS) for the transport tests.

Each test sets the server's ``answer``: a function that gets the connection's socket (the
request already read) and writes whatever it likes — a normal answer, headers one byte at a
time, an endless body. The server counts connections and requests, and tells how many body
bytes it managed to send. Everything it does ends when the test ends (``stop``).
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, TransportFailure
from airflow_provider_aa.control_room.session import ControlRoomSession, RetryPolicy
from airflow_provider_aa.control_room.settings import ConnectionSettings, settings_from_connection
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.triggers.clients import AsyncControlRoomClient

#: Longest any scripted drip or endless body goes on, so that a test of a transport that
#: never gives up still ends (and fails on its elapsed time) instead of hanging.
MAX_SCRIPT_SECONDS = 12.0
MIB = 1024 * 1024


Answer = Callable[["Connection"], None]


@dataclass
class Connection:
    """One accepted connection, as seen by an answer script."""

    sock: socket.socket
    stop: threading.Event
    server: ScriptedServer
    request_line: str = ""
    keep_alive: bool = True

    def send(self, data: bytes) -> bool:
        """Send bytes; ``False`` once the client has gone away (or the test ended)."""
        if self.stop.is_set():
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def drip(self, data: bytes, *, interval: float) -> bool:
        """Send ``data`` one byte per ``interval`` seconds (at most ``MAX_SCRIPT_SECONDS``)."""
        ends = time.monotonic() + MAX_SCRIPT_SECONDS
        for index in range(len(data)):
            if time.monotonic() > ends or not self.send(data[index : index + 1]):
                return False
            if self.stop.wait(interval):
                return False
        return True


@dataclass
class ScriptedServer:
    tls: ssl.SSLContext | None = None
    answer: Answer = field(default=lambda connection: ok(connection))
    connections: int = 0
    closed: int = 0
    requests: int = 0
    body_bytes_sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> ScriptedServer:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        thread = threading.Thread(target=self._accept, name="scripted-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def count_body(self, sent: int) -> None:
        with self._lock:
            self.body_bytes_sent += sent

    def wait_closed(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` connections have ended (the client closed them)."""
        ends = time.monotonic() + timeout
        while self.closed < count and time.monotonic() < ends:
            time.sleep(0.01)
        return self.closed >= count

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock,), name="scripted-connection", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(MAX_SCRIPT_SECONDS)
            if self.tls is not None:
                try:
                    sock = self.tls.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused the certificate: nothing to answer
            reader = sock.makefile("rb")
            while not self._stop.is_set():
                connection = Connection(sock, self._stop, self)
                if not _read_request(reader, connection):
                    return
                with self._lock:
                    self.requests += 1
                self.answer(connection)
                if not connection.keep_alive:
                    return
        except OSError:
            return
        finally:
            try:
                sock.close()
            except OSError:
                pass
            with self._lock:
                self.closed += 1


def _read_request(reader: Any, connection: Connection) -> bool:
    line = reader.readline()
    if not line:
        return False
    connection.request_line = line.decode("latin-1").strip()
    length = 0
    while True:
        header = reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "connection" and value.strip().lower() == "close":
            connection.keep_alive = False
    if length:
        reader.read(length)
    return True


# -- answer scripts --------------------------------------------------------------------------


def head(status: str = "200 OK", **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def ok(connection: Connection, body: bytes = b'{"ok": true}') -> None:
    connection.send(head(Content_Length=len(body)) + body)
    connection.server.count_body(len(body))


def drip_headers(connection: Connection) -> None:
    """The status line at once, then a header one byte every 0.4 s: never a whole answer."""
    connection.keep_alive = False
    connection.send(b"HTTP/1.1 200 OK\r\n")
    connection.drip(b"X-Slow: " + b"a" * 1000, interval=0.4)


def drip_body(connection: Connection) -> None:
    """Headers at once, then the body one byte every 0.4 s."""
    connection.keep_alive = False
    body = b'{"padding": "' + b"a" * 1000 + b'"}'
    if connection.send(head(Content_Length=len(body))):
        connection.drip(body, interval=0.4)


def endless_zeros(total: int, *, chunked: bool) -> Answer:
    """``total`` bytes of a JSON string of zeros, with Content-Length or chunked."""

    def answer(connection: Connection) -> None:
        connection.keep_alive = False
        headers = {"Transfer_Encoding": "chunked"} if chunked else {"Content_Length": total}
        if not connection.send(head(**headers)):
            return
        block = b"0" * (64 * 1024)
        sent = 0
        while sent < total:
            piece = block[: total - sent]
            data = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            if not connection.send(data):
                return
            sent += len(piece)
            connection.server.count_body(len(piece))
        if chunked:
            connection.send(b"0\r\n\r\n")

    return answer


def encoded(body: bytes, encoding: str) -> Answer:
    """``body`` sent with ``Content-Encoding`` (the encoded bytes prepared once)."""
    if encoding == "gzip":
        data = gzip.compress(body, compresslevel=9)
    elif encoding == "deflate":
        data = zlib.compress(body, 9)
    else:
        raise ValueError(encoding)

    def answer(connection: Connection) -> None:
        if connection.send(head(Content_Length=len(data), Content_Encoding=encoding) + data):
            connection.server.count_body(len(data))

    return answer


# -- TLS material ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificate(folder: Path, name: str) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost (its own CA bundle)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_file, key_file)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory) -> tuple[Certificate, Certificate]:
    """The TLS server's certificate, and an unrelated one (a wrong CA bundle)."""
    folder = tmp_path_factory.mktemp("tls")
    return make_certificate(folder, "server"), make_certificate(folder, "stranger")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer().start()
    yield running
    running.stop()


@pytest.fixture
def tls_server(certificates) -> Iterator[ScriptedServer]:
    running = ScriptedServer(tls=certificates[0].server_context()).start()
    yield running
    running.stop()


# -- the two transports, as the hook and the trigger use them ---------------------------------


def connection_settings(url: str, **extra: Any) -> ConnectionSettings:
    return settings_from_connection(host=url, login="jdoe", password="pw", extra=extra)


def hook_for(settings: ConnectionSettings, retry: RetryPolicy | None = None) -> AutomationAnywhereHook:
    hook = AutomationAnywhereHook(retry=retry)
    hook.__dict__["settings"] = settings  # the cached property, without an Airflow connection
    return hook


def send_with_hook(settings: ConnectionSettings, request: ApiRequest) -> ApiResponse | TransportFailure:
    hook = hook_for(settings)
    try:
        return hook._send(request)
    finally:
        hook.get_conn().close()


def send_with_trigger_client(settings: ConnectionSettings, request: ApiRequest) -> ApiResponse | TransportFailure:
    async def send() -> ApiResponse | TransportFailure:
        client = AsyncControlRoomClient(ControlRoomSession(settings))
        try:
            return await client._send(request)
        finally:
            await client._http.aclose()

    return asyncio.run(send())


SENDERS = {"hook (requests)": send_with_hook, "trigger (httpx)": send_with_trigger_client}


@pytest.fixture(params=list(SENDERS))
def send(request) -> Callable[[ConnectionSettings, ApiRequest], ApiResponse | TransportFailure]:
    """Send one request through the hook's or the trigger's transport."""
    return SENDERS[request.param]
