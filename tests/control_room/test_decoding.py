"""
Hostile answers decoded within bounds: what JSON decoding may build is bounded before it is
built, and every refusal is an AutomationAnywhereError, never a crash type.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest

from airflow_provider_aa.control_room.decoding import (
    MAX_CONTAINERS,
    MAX_DEPTH,
    MAX_VALUES,
    UndecodableAnswer,
    decode_json,
)
from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import ApiRequest
from airflow_provider_aa.control_room.listing import read_all
from tests.control_room.scripted import Script, answer, expect, jwt_token, login, new_session, run

READ = ApiRequest("POST", "/v3/wlm/queues/7/workitems/list", {"page": {"offset": 0, "length": 100}})
#: 1.2 million empty objects in 3.6 MB: about 100 MB once decoded.
MANY_OBJECTS = b"[" + b"{}," * 1_200_000 + b"{}]"


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def call_answered(raw: bytes, *, headers=None):
    """Log in, send READ, answer it with ``raw``: the session's decoded result (or its error)."""
    session = new_session()
    token = jwt_token()
    step = (expect(READ.method, READ.path, token=token), answer(200, raw=raw, headers=headers))
    return run(session.request_json(READ), Script([login(token), step]), session=session)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (MANY_OBJECTS, "too large to decode"),
        (b"[" + b"1," * MAX_VALUES + b"1]", "too large to decode"),
        (deep(200_000), "too large to decode"),
        (deep(5_000), f"nested 5000 levels deep, more than the {MAX_DEPTH}"),
        (b'{"page": {"totalFilter": 1e400}, "list": []}', "number out of range"),
        (b'{"page": {"totalFilter": NaN}, "list": []}', "NaN"),
        (b'{"list": [' + b"-Infinity" + b"]}", "Infinity"),
    ],
    ids=["many-objects", "many-values", "200000-deep", "5000-deep", "1e400", "nan", "infinity"],
)
def test_a_hostile_answer_is_a_clear_error(body, problem):
    with pytest.raises(AutomationAnywhereError, match=problem) as refused:
        call_answered(body)
    assert refused.value.status == 200 and refused.value.path == READ.path


def test_a_huge_answer_is_refused_before_decoding_builds_it():
    tracemalloc.start()
    try:
        with pytest.raises(AutomationAnywhereError, match="too large to decode"):
            call_answered(MANY_OBJECTS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(MANY_OBJECTS)


def test_a_total_filter_out_of_range_fails_the_listing_clearly():
    session = new_session()
    token = jwt_token()
    raw = b'{"page": {"offset": 0, "total": 1, "totalFilter": 1e400}, "list": [{"id": "1"}]}'
    script = Script([login(token), (expect(READ.method, READ.path), answer(200, raw=raw))])
    with pytest.raises(AutomationAnywhereError, match=r"number out of range \(1e400\)"):
        run(read_all(session, READ), script, session=session)


def test_brackets_commas_and_colons_inside_strings_do_not_count():
    text = '{[,:]}\\"' * (MAX_CONTAINERS // 2)
    nested = {"a": [{"b": [1, 2.5, None, True, "x"]}] * 1000, "text": text}
    assert decode_json(json.dumps(nested).encode()) == nested


def test_an_answer_at_the_bounds_is_decoded():
    body = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert decode_json(body) is not None
    assert len(decode_json(b"[" + b"{}," * (MAX_CONTAINERS - 2) + b"{}]")) == MAX_CONTAINERS - 1


def test_a_retry_after_of_digits_that_are_not_ascii_is_ignored():
    session = new_session()
    token = jwt_token()
    script = Script(
        [
            login(token),
            (expect(READ.method, READ.path), answer(429, {"message": "slow down"}, headers={"Retry-After": "²"})),
            (expect(READ.method, READ.path), answer(200, {"list": []})),
        ]
    )
    assert run(session.request_json(READ), script, session=session) == {"list": []}
    assert script.sleeps == [1.0]  # the backoff, as without a Retry-After


@pytest.mark.parametrize("end", [b"", b"\\"], ids=["open-string", "open-string-and-escape"])
def test_a_string_left_open_over_many_escaped_quotes_is_scanned_once(end):
    body = b"[" * 100 + b'"' + b'\\"' * 200_000 + end  # a quote after each escape: each could start a string
    with pytest.raises(UndecodableAnswer):
        decode_json(body)


def test_unbalanced_brackets_are_malformed_without_walking_them():
    body = b"[" * (MAX_DEPTH + 1) + b"]" * 5_000_000
    with pytest.raises(UndecodableAnswer, match="malformed JSON"):
        decode_json(body)
