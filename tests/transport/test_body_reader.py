"""The shared, I/O-free part: decoding with a bounded output, the cap, the declared length."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from airflow_provider_aa.control_room.exchange import TransportFailure
from airflow_provider_aa.transport import BodyReader, deadline_failure

BODY = b'{"list": [' + b",".join(b'{"id": "%d"}' % n for n in range(2000)) + b"]}"


def read(data: bytes, *, cap: int = 1 << 20, encoding: str = "", chunk: int = 1000) -> bytes | TransportFailure:
    reader = BodyReader(cap, content_encoding=encoding, content_length=str(len(data)))
    failure = reader.check_declared_length()
    for start in range(0, len(data), chunk):
        failure = failure or reader.feed(data[start : start + chunk])
    return failure or reader.finish()


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("", lambda data: data),
        ("identity", lambda data: data),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZIP", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
    ],
)
@pytest.mark.parametrize("chunk", [1, 7, 65536])
def test_bodies_are_decoded_whatever_the_chunking(encoding, encode, chunk):
    assert read(encode(BODY), encoding=encoding, chunk=chunk) == BODY


def test_gzip_members_follow_each_other():
    assert read(gzip.compress(b"[1, ") + gzip.compress(b"2]"), encoding="gzip") == b"[1, 2]"


def test_garbage_after_a_whole_gzip_member_is_ignored_like_urllib3_does():
    assert read(gzip.compress(BODY) + b"\0" * 10, encoding="gzip") == BODY


def test_a_corrupt_encoding_is_a_clear_failure():
    answer = read(b"definitely not gzip", encoding="gzip")
    assert isinstance(answer, TransportFailure) and answer.kind == "other"
    assert answer.description.startswith("the answer's gzip encoding is corrupt")


def test_an_unknown_encoding_is_kept_as_it_came():
    assert read(b"\x01\x02brotli?", encoding="br") == b"\x01\x02brotli?"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_decoding_stops_at_the_cap_plus_one_byte(encoding):
    data = gzip.compress(b"0" * 10_000_000) if encoding == "gzip" else zlib.compress(b"0" * 10_000_000)
    reader = BodyReader(1000, content_encoding=encoding)
    answer = reader.feed(data)
    assert isinstance(answer, TransportFailure)
    assert answer.description.startswith(
        f"the answer exceeded max_response_bytes (1000 bytes) once decoded (Content-Encoding {encoding}); "
        "it was not read further and the request is not retried."
    )


def test_the_cap_counts_decoded_bytes_exactly():
    body = os.urandom(5000)
    assert read(gzip.compress(body), cap=5000, encoding="gzip") == body
    assert isinstance(read(gzip.compress(body), cap=4999, encoding="gzip"), TransportFailure)
    assert read(body, cap=5000) == body
    assert isinstance(read(body + b"!", cap=5000, chunk=10_000), TransportFailure)


def test_a_declared_length_is_only_trusted_without_encoding():
    assert BodyReader(10, content_length="11").check_declared_length() is not None
    assert BodyReader(10, content_length="10").check_declared_length() is None
    assert BodyReader(10, content_length="nonsense").check_declared_length() is None
    assert BodyReader(10, content_encoding="gzip", content_length="11").check_declared_length() is None


def test_the_deadline_failure_is_a_timeout_naming_the_seconds():
    failure = deadline_failure(2.0)
    assert (failure.kind, failure.not_sent) == ("timeout", False)
    assert failure.description.startswith("the answer did not complete within 2 s")
