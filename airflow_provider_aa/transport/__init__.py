"""
Transports: carry an :class:`~airflow_provider_aa.control_room.exchange.ApiRequest` to the
Control Room and bring back an ``ApiResponse`` or a ``TransportFailure``.

- :class:`~airflow_provider_aa.transport.requests_transport.RequestsTransport` (blocking,
  on ``requests``) serves the hook;
- :class:`~airflow_provider_aa.transport.httpx_transport.HttpxTransport` (``async``, on
  ``httpx``) serves the triggers.

Both keep the same promises, and this module holds what they share, without any I/O: the
answer size cap with bounded decoding of gzip/deflate (:class:`BodyReader`), and the texts
of every failure, so that the hook and the trigger report the same problem the same way.

- ``verify_ssl`` is passed to every request, so that it wins over ``REQUESTS_CA_BUNDLE`` /
  ``CURL_CA_BUNDLE`` (those still apply when ``verify_ssl`` is true, as in ``requests``).
- The connection's ``timeout`` bounds a request's *total* time (connect, send, headers,
  body), not only the gaps between bytes: a server dripping one byte a second fails it.
- An answer's body is read in chunks, decoded here, and given up once it passes
  ``max_response_bytes``: a compression bomb never costs more memory than about the cap.
- A server that speaks the other scheme than the URL's (``http://`` to an HTTPS server, or
  the reverse) is a failure saying so, not retried; an ``http://`` request closed before an
  answer is told from a plain server's hang-up by one TLS probe (:func:`tls_probe_address`).
- A failure to connect names the whole host and the system's reason (a DNS failure too).
"""

from __future__ import annotations

import functools
import socket
import ssl
import zlib
from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from airflow_provider_aa.control_room.exchange import TransportFailure

#: Only what :class:`BodyReader` decodes with a bounded output.
ACCEPT_ENCODING = "gzip, deflate"
#: The headers every request carries (a request's own headers come on top).
DEFAULT_HEADERS: Mapping[str, str] = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
#: Bytes read from the network at a time.
READ_CHUNK = 64 * 1024
#: The most decoded bytes asked of zlib at a time.
_DECODE_STEP = 256 * 1024
#: The total deadline of a request falls this long after the connection's timeout, so that
#: a connect timeout (at the timeout too) is told as one: that request was never sent and
#: may be retried safely, which a request cut at the deadline may not.
DEADLINE_GRACE = 0.25
#: The longest piece of a library's exception text put in a failure description.
_REASON_LENGTH = 300

#: The longest wait for the first bytes of a server's answer to a TLS ClientHello (see
#: :func:`tls_probe_address`); the connection's timeout if that is shorter.
TLS_PROBE_TIMEOUT = 3.0

_GZIP = 16 + zlib.MAX_WBITS
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS


# -- failure texts ------------------------------------------------------------------------------


def reason(problem: BaseException) -> str:
    """A library exception's text, short. It names host and port, never headers or bodies."""
    return (str(problem) or type(problem).__name__)[:_REASON_LENGTH]


def deadline_failure(timeout: float) -> TransportFailure:
    """The answer was still incomplete when the request's total time ran out."""
    return TransportFailure(
        "timeout",
        f"the answer did not complete within {timeout:g} s (the connection's timeout bounds the whole "
        "request: connecting, sending and reading the answer)",
    )


def no_answer(timeout: float) -> TransportFailure:
    """Nothing arrived for a whole ``timeout`` (a read timeout)."""
    return TransportFailure("timeout", f"no answer within {timeout:g} s")


def connect_failure(problem: BaseException, base_url: str) -> TransportFailure:
    """
    The connection could not be opened (never sent, so retried). Names the whole host and the
    system's own reason, which the library's text may bury past :data:`_REASON_LENGTH`.
    """
    host, port = _address(base_url)
    unresolved = root_cause(problem, socket.gaierror)
    if unresolved is not None:
        return TransportFailure("connect", f"could not resolve the host name {host!r}: {unresolved}")
    refused = root_cause(problem, OSError)
    return TransportFailure("connect", f"could not connect to {_shown(host, port)}: {refused or reason(problem)}")


def connect_timeout(timeout: float) -> TransportFailure:
    return TransportFailure("connect", f"could not connect within {timeout:g} s")


def dropped() -> TransportFailure:
    return TransportFailure("dropped", "the connection was closed before an answer arrived")


def tls_failure(problem: BaseException, base_url: str) -> TransportFailure:
    """Certificate or handshake trouble: no retry can mend it (kind ``other``)."""
    cause = ssl_cause(problem)
    # OpenSSL's WRONG_VERSION_NUMBER: the first bytes the server sent back to the ClientHello
    # are no TLS record (their "version" is e.g. "TT" of "HTTP/1.1 400"): a plain HTTP server.
    if cause is not None and cause.reason == "WRONG_VERSION_NUMBER":
        return _wrong_scheme(base_url, "http", f"TLS error: {reason(cause)}")
    return TransportFailure("other", f"TLS error: {reason(cause or problem)}")


def ssl_cause(problem: BaseException) -> ssl.SSLError | None:
    """The ``ssl.SSLError`` behind a library's exception (they chain their causes), if any."""
    found = _causes(problem, ssl.SSLError)
    return found[0] if found else None


_E = TypeVar("_E", bound=BaseException)


def root_cause(problem: BaseException, kind: type[_E]) -> _E | None:
    """The deepest exception of ``kind`` in the chain of causes, e.g. the system's ``OSError``."""
    found = _causes(problem, kind)
    return found[-1] if found else None


def _causes(problem: BaseException, kind: type[_E]) -> list[_E]:
    """The exceptions of ``kind`` along the chain of causes, outermost first (libraries chain theirs)."""
    found: list[_E] = []
    seen: set[int] = set()
    current: BaseException | None = problem
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            found.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return found


# -- a plain http:// URL of a server that speaks HTTPS ------------------------------------------
#
# A TLS server that gets a plain HTTP request answers in one of three ways: an HTTP 400 page
# ("The plain HTTP request was sent to HTTPS port", nginx), a TLS alert record, or it just
# closes the connection (OpenSSL's own servers, Python's among them: the emulator). Only the
# first is an answer; the others reach the transport as a connection closed before an answer,
# which is also what a briefly overloaded plain server does. So on such a failure of an
# http:// URL the transport sends one TLS ClientHello to the same address and reads the first
# bytes: every TLS server answers it with a handshake or an alert record, which no HTTP server
# ever sends. The probe sends no request (nothing the Control Room could act on), and after the
# ClientHello it closes its sending side, so that a plain server waiting for the rest of a
# request line answers (400) or closes at once instead of holding the probe.


def tls_probe_address(base_url: str, failure: TransportFailure) -> tuple[str, int] | None:
    """Where to send a TLS ClientHello to tell a TLS server behind ``failure``; ``None``: no probe."""
    if failure.kind != "dropped" or urlsplit(base_url).scheme != "http":
        return None
    return _address(base_url)


@functools.cache
def tls_client_hello(host: str) -> bytes:
    """A TLS ClientHello for ``host``, made in memory (no socket): the probe's bytes."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    handshake = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname=host)
    try:
        handshake.do_handshake()
    except ssl.SSLWantReadError:
        pass  # it now waits for the ServerHello: the ClientHello is in ``outgoing``
    return outgoing.read()


def speaks_tls(first_bytes: bytes) -> bool:
    """Whether an answer starts with a TLS record: handshake (0x16) or alert (0x15), version 3.x."""
    return len(first_bytes) >= 2 and first_bytes[0] in (0x15, 0x16) and first_bytes[1] == 0x03


def tls_probe_timeout(timeout: float) -> float:
    return min(TLS_PROBE_TIMEOUT, timeout)


def https_server(base_url: str, failure: TransportFailure) -> TransportFailure:
    """A plain http:// request to a server that answered the probe's ClientHello in TLS."""
    return _wrong_scheme(base_url, "https", failure.description)


def refused_as_plain_http(base_url: str, status: int, body: bytes) -> TransportFailure | None:
    """The answer of a TLS server's web front (nginx) to a plain HTTP request, as a failure."""
    if urlsplit(base_url).scheme == "http" and status == 400 and b"plain HTTP request was sent to HTTPS port" in body:
        return _wrong_scheme(base_url, "https", "HTTP 400: The plain HTTP request was sent to HTTPS port")
    return None


def _wrong_scheme(base_url: str, spoken: str, seen: str) -> TransportFailure:
    """The server speaks the ``spoken`` scheme, not the URL's. Not retried (kind ``other``): it never will."""
    host, port = _address(base_url)
    speaks = "HTTPS, not plain HTTP" if spoken == "https" else "plain HTTP, not HTTPS"
    return TransportFailure(
        "other",
        f"the server at {_shown(host, port)} speaks {speaks} ({seen}): check the scheme in the connection's "
        f"host (use {spoken}://{_shown(host, port)}) or its Schema field ({spoken})",
    )


def _shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname or "", port or (443 if parts.scheme == "https" else 80)


def other_failure(problem: BaseException) -> TransportFailure:
    return TransportFailure("other", f"{type(problem).__name__}: {reason(problem)}")


def _too_large(cap: int, detail: str) -> TransportFailure:
    return TransportFailure(
        "other",
        f"the answer exceeded max_response_bytes ({cap} bytes){detail}; it was not read further and the "
        "request is not retried. Raise the connection's extra 'max_response_bytes' if answers this large "
        "are expected.",
    )


# -- the answer's body ----------------------------------------------------------------------------


class BodyReader:
    """
    Collects one answer's body chunk by chunk, decoding its ``Content-Encoding`` (gzip,
    x-gzip, deflate), and gives up as soon as the decoded size passes ``cap``.

    Decompression never produces more than ``cap + 1`` bytes in all (zlib's ``max_length``),
    whatever the ratio of what arrives. An encoding it does not know (the transports only
    accept gzip and deflate, so a server should not send one) is kept as it came, capped too.

    Every method returns a :class:`TransportFailure` instead of raising; ``None`` is fine.
    """

    def __init__(self, cap: int, *, content_encoding: str = "", content_length: str = "") -> None:
        self.cap = cap
        self._encoding = content_encoding.strip().lower()
        self._content_length = content_length
        self._wbits = {"gzip": _GZIP, "x-gzip": _GZIP, "deflate": _ZLIB}.get(self._encoding)
        self._decoder = zlib.decompressobj(self._wbits) if self._wbits is not None else None
        #: Input of a deflate answer before its first output: replayed as raw deflate if the
        #: zlib header turns out to be missing (some servers send raw deflate; urllib3 takes both).
        self._replay: bytearray | None = bytearray() if self._wbits == _ZLIB else None
        self._later_member = False
        self._ended = False
        self._body = bytearray()

    def check_declared_length(self) -> TransportFailure | None:
        """Fail at once when an unencoded answer announces more than the cap."""
        if self._encoding not in ("", "identity"):
            return None  # Content-Length counts encoded bytes: only decoding tells
        declared = self._content_length.strip()
        if declared.isdigit() and int(declared) > self.cap:
            return _too_large(self.cap, f": its Content-Length is {int(declared)}")
        return None

    def feed(self, data: bytes) -> TransportFailure | None:
        """Add a chunk as it came from the network."""
        if self._decoder is None:
            return self._keep(data)
        if self._ended or not data:
            return None
        if self._replay is not None:
            self._replay += data
        try:
            return self._decode(data)
        except zlib.error as problem:
            if self._replay is not None:
                data, self._replay = bytes(self._replay), None
                self._wbits, self._decoder = _RAW_DEFLATE, zlib.decompressobj(_RAW_DEFLATE)
                return self.feed(data)
            if self._later_member:
                self._ended = True  # what follows a whole gzip member is ignored, as urllib3 does
                return None
            return TransportFailure("other", f"the answer's {self._encoding} encoding is corrupt ({reason(problem)})")

    def finish(self) -> bytes | TransportFailure:
        """The whole decoded body, once the transport has read the last chunk."""
        if self._decoder is not None and not self._ended:
            try:
                tail = self._decoder.flush()
            except zlib.error as problem:
                return TransportFailure(
                    "other", f"the answer's {self._encoding} encoding is corrupt ({reason(problem)})"
                )
            failure = self._keep(tail)
            if failure:
                return failure
        return bytes(self._body)

    def _decode(self, data: bytes) -> TransportFailure | None:
        assert self._decoder is not None
        while True:
            # At most one byte more than the cap allows (getting it means the cap was passed),
            # and in steps: zlib assembles each output twice over before handing it out.
            step = min(self.cap - len(self._body) + 1, _DECODE_STEP)
            decoded = self._decoder.decompress(data, step)
            if decoded or len(self._replay or b"") > READ_CHUNK:
                self._replay = None  # the header was fine, or this is no deflate at all
            failure = self._keep(decoded)
            if failure:
                return failure
            if self._decoder.eof:
                data = self._decoder.unused_data
                if not data or self._wbits != _GZIP:
                    self._ended = True  # anything after a deflate stream is ignored, as urllib3 does
                    return None
                self._decoder, self._later_member = zlib.decompressobj(_GZIP), True  # another gzip member
                continue
            data = self._decoder.unconsumed_tail
            if not data and len(decoded) < step:
                return None  # all input taken, no output pending

    def _keep(self, data: bytes) -> TransportFailure | None:
        if len(self._body) + len(data) > self.cap:
            self._body = bytearray()
            decoded = f" once decoded (Content-Encoding {self._encoding})" if self._decoder is not None else ""
            return _too_large(self.cap, decoded)
        self._body += data
        return None
