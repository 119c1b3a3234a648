"""
Decoding a Control Room answer's JSON within bounds, for the hook and the triggerer alike.

The transports cap an answer's bytes (``max_response_bytes``), but what ``json.loads`` builds
from them can be much larger: 60 MB of ``[{},{},…]`` are 20 million dicts, over 1.5 GiB. So
before anything is built, a scan in C (byte counts and one regular expression) bounds the
values, the containers and the nesting depth the body can hold; numbers JSON cannot carry
(``NaN``, ``Infinity``, ``1e400``) are refused while parsing.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

#: Objects and arrays one answer may hold. A page of 100 work items holds a few hundred.
MAX_CONTAINERS = 20_000
#: Values (containers, keys and scalars) one answer may hold; with :data:`MAX_CONTAINERS`
#: this keeps what decoding builds, and the scan before it, to tens of MB whatever the answer.
MAX_VALUES = 200_000
#: Nesting levels one answer may hold (Control Room answers nest a few levels).
MAX_DEPTH = 64

#: A JSON string (escapes included); what is left when they are removed is the structure.
#: One left open runs to the end, so that no match fails after its start: a failed one would
#: be tried again from each quote after it (quadratic in a body of escaped quotes).
_STRING = re.compile(rb'"[^"\\]*(?:\\(?:.|\Z)[^"\\]*)*(?:"|\Z)', re.DOTALL)
#: Every byte but brackets: deleted to leave the nesting alone.
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENING = frozenset(b"[{")
_MALFORMED = "malformed JSON (a truncated answer or a proxy rewriting it)"


class UndecodableAnswer(ValueError):
    """The body is no JSON the provider accepts; the text says why, without quoting it."""


def decode_json(body: bytes) -> Any:
    """
    ``body`` decoded as JSON, refused with :class:`UndecodableAnswer` when it is malformed,
    holds more than :data:`MAX_CONTAINERS` objects and arrays or :data:`MAX_VALUES` values,
    nests deeper than :data:`MAX_DEPTH`, or carries a number JSON does not allow.
    """
    _check_structure(body)
    try:
        return json.loads(body, parse_float=_finite_float, parse_constant=_no_constant)
    except UndecodableAnswer:
        raise
    except (ValueError, RecursionError):
        raise UndecodableAnswer(_MALFORMED) from None


def _check_structure(body: bytes) -> None:
    # Upper bounds first (brackets, commas and colons inside strings counted too): most
    # answers pass here at the cost of a few byte counts.
    containers = body.count(b"[") + body.count(b"{")
    separators = body.count(b",") + body.count(b":")
    if containers <= MAX_DEPTH and containers + separators < MAX_VALUES:
        return
    # Outside strings JSON has no backslash, so each string's opening quote is one that
    # follows none: more of those than MAX_VALUES are too many strings, told without a scan.
    unescaped_quotes = body.count(b'"') - body.count(b'\\"')
    if unescaped_quotes > 2 * MAX_VALUES:
        _too_large(values=unescaped_quotes // 2, containers=containers)
    # Removing the strings leaves the structure. One more string than MAX_VALUES is enough to
    # know (the separators before them count it), so the pieces the substitution keeps stay bounded.
    structure = _STRING.sub(b"", body, count=MAX_VALUES + 1)
    containers = structure.count(b"[") + structure.count(b"{")
    # Every value or key but the first follows a '[', '{', ',' or ':'.
    values = 1 + containers + structure.count(b",") + structure.count(b":")
    if containers > MAX_CONTAINERS or values > MAX_VALUES:
        _too_large(values=values, containers=containers)
    brackets = structure.translate(None, _NOT_BRACKETS)
    if len(brackets) != 2 * containers:
        raise UndecodableAnswer(_MALFORMED)  # unbalanced: and the walk below stays short
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in _OPENING else -1
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise UndecodableAnswer(f"JSON nested {deepest} levels deep, more than the {MAX_DEPTH} an answer may have")


def _too_large(*, values: int, containers: int) -> NoReturn:
    raise UndecodableAnswer(
        f"JSON too large to decode: about {values} values in {containers} objects and arrays, where at "
        f"most {MAX_VALUES} values in {MAX_CONTAINERS} objects and arrays are decoded (ask for smaller "
        "pages or narrower filters)"
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise UndecodableAnswer(f"JSON holding a number out of range ({text[:20]})")
    return value


def _no_constant(name: str) -> Any:
    raise UndecodableAnswer(f"JSON holding {name}, a number JSON does not allow")
