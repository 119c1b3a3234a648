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
"""

from __future__ import annotations

import ssl
import zlib
from collections.abc import Mapping

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


def connect_failure(problem: BaseException) -> TransportFailure:
    return TransportFailure("connect", f"could not connect: {reason(problem)}")


def connect_timeout(timeout: float) -> TransportFailure:
    return TransportFailure("connect", f"could not connect within {timeout:g} s")


def dropped() -> TransportFailure:
    return TransportFailure("dropped", "the connection was closed before an answer arrived")


def tls_failure(problem: BaseException) -> TransportFailure:
    """Certificate or handshake trouble: no retry can mend it (kind ``other``)."""
    return TransportFailure("other", f"TLS error: {reason(ssl_cause(problem) or problem)}")


def ssl_cause(problem: BaseException) -> ssl.SSLError | None:
    """The ``ssl.SSLError`` behind a library's exception (they chain their causes), if any."""
    seen: set[int] = set()
    current: BaseException | None = problem
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


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
