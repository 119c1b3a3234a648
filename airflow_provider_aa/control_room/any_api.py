"""
Any Control Room API the provider does not wrap, called with the provider's session.

``hook.run(method, path, json=..., params=...)`` builds its request here: the path is checked
(relative to the Control Room URL, no host, no ``..``, no query), the query string is built
from ``params``, the body is checked to be JSON, and whether the request may be sent twice is
decided from the method (RFC 9110: GET, PUT and DELETE are idempotent) or given by the caller.
The call then goes through :meth:`~.session.ControlRoomSession.request_json`: login, renewal,
one re-login after a 401, retries of transient failures (only of replay-safe requests after an
ambiguous outcome), errors with the Control Room's ``code``/``message``/``details``.
"""

from __future__ import annotations

import json as jsonlib
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.session import ControlRoomSession

#: The methods ``run`` sends.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Methods whose repetition has the effect of one request (RFC 9110, 9.2.2 "Idempotent Methods").
REPLAY_SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

#: ``scheme:`` at the start of a URL (RFC 3986, 3.1).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
#: The authentication API: its answers are tokens, so it is only called by the session. Read
#: as a lenient server may (on the path decoded, folded and in lower case): whatever follows
#: ``authentication`` that is not a letter, digit or ``_`` (``.json``, a space, a no-break
#: space) may be dropped, and so may what surrounds the version.
_AUTHENTICATION = re.compile(r"^/\W*v\d+\W*/\W*authentication(?![a-z0-9_])")
#: Percent-decoding rounds: a path encoded twice (``%252e``) is still seen for what it is.
_DECODE_ROUNDS = 3

Scalar = str | int | float | bool


def validate_method(method: Any) -> str:
    """``method`` in upper case; one of :data:`METHODS` in any case, else ``InvalidInputError``."""
    if isinstance(method, str) and method.upper() in METHODS:
        return method.upper()
    raise InvalidInputError(f"method must be one of {', '.join(METHODS)} (any case), got {method!r}.")


def validate_path(path: Any) -> str:
    """
    ``path`` as sent: relative to the connection's Control Room URL, one leading ``/``.

    Refused, before any request: a URL with a scheme or a host (``//host``), a ``.`` or ``..``
    segment (also percent-encoded), an empty segment, a backslash, a ``;`` (Java servers read
    ``..;`` as ``..`` and drop ``;…`` from a segment: no Control Room API takes one), a ``?`` or
    ``#`` (a query goes in ``params``), whitespace, control or non-ASCII characters (also
    percent-encoded control characters), and the authentication API in any case, encoding or
    with trailing characters (``/v2/authentication.json``, ``/v2/authentication%20``).
    """
    if not isinstance(path, str) or not path:
        raise InvalidInputError(f"path must be a non-empty string such as '/v3/wlm/queues/list', got {path!r}.")
    if any(char.isspace() or ord(char) < 32 or ord(char) >= 127 for char in path):
        raise _bad_path(path, "it contains whitespace, control or non-ASCII characters (percent-encode them)")
    if _SCHEME.match(path) or path.startswith("//"):
        raise _bad_path(
            path, "it names a scheme or a host; give the path relative to the connection's Control Room URL"
        )
    if "?" in path or "#" in path:
        raise _bad_path(path, "a query string goes in params, and a fragment is never sent")
    if "\\" in path:
        raise _bad_path(path, "it contains a backslash")
    if ";" in path:
        raise _bad_path(path, "';' path parameters are not allowed (servers read '..;' as '..')")
    normalised = path if path.startswith("/") else "/" + path
    decoded = normalised
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(decoded)
    if ";" in decoded or any(ord(char) < 32 or ord(char) == 127 for char in decoded):
        raise _bad_path(path, "it encodes ';' or control characters")
    # Also as a server that folds Unicode compatibility forms (fullwidth dots and slashes) reads it.
    folded = unicodedata.normalize("NFKC", decoded)
    for variant in (decoded, folded):
        segments = re.split(r"[/\\]", variant)[1:]
        if any(segment in (".", "..") for segment in segments):
            raise _bad_path(path, "'.' and '..' segments are not allowed (also percent-encoded)")
        if "" in segments[:-1]:
            raise _bad_path(path, "it has an empty segment ('//')")
    if any(_AUTHENTICATION.match(variant.casefold()) for variant in (decoded, folded)):
        raise _bad_path(
            path,
            "the authentication API is not called through run (its answers are tokens): the hook logs in, "
            "renews and logs out with the connection's credentials by itself",
        )
    return normalised


def validate_params(params: Any) -> str:
    """
    The query string (without ``?``) of ``params``: a mapping of names to a ``str``, ``int``,
    ``float`` or ``bool`` (sent ``true``/``false``), or a list of those (the name repeated).
    ``None`` or an empty mapping give ``""``.
    """
    if params is None:
        return ""
    if not isinstance(params, Mapping):
        raise InvalidInputError(f"params must be a mapping of names to values, got {type(params).__name__}.")
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"params: every name must be a non-empty string, got {name!r}.")
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs += [(name, _param_value(name, one)) for one in values]
    # %20 for a space, not '+': every server reads it the same way.
    return urlencode(pairs, quote_via=quote, safe="")


def validate_body(body: Any) -> Any:
    """``body`` (the request's ``json``) when it is JSON: objects with text keys, arrays, text, finite numbers."""
    try:
        jsonlib.dumps(body, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise InvalidInputError(
            f"json must be JSON-serialisable data (dict, list, str, finite numbers): {error}"
        ) from None
    return body


def validate_replay_safe(replay_safe: Any, method: str) -> bool:
    """``replay_safe`` as given, or (``None``) whether ``method`` is idempotent."""
    if replay_safe is None:
        return method in REPLAY_SAFE_METHODS
    if not isinstance(replay_safe, bool):
        raise InvalidInputError(f"replay_safe must be true, false or None (by method), got {replay_safe!r}.")
    return replay_safe


def any_request(method: Any, path: Any, *, json: Any = None, params: Any = None, replay_safe: Any = None) -> ApiRequest:
    """The checked request for :func:`call`; ``InvalidInputError`` naming the field otherwise."""
    checked_method = validate_method(method)
    checked_path = validate_path(path)
    query = validate_params(params)
    body = validate_body(json)
    safe = validate_replay_safe(replay_safe, checked_method)
    target = f"{checked_path}?{query}" if query else checked_path
    return ApiRequest(checked_method, target, body, replay_safe=safe)


def call(session: ControlRoomSession, request: ApiRequest) -> Operation[Any]:
    """
    Send ``request`` and return the decoded JSON answer (``None`` for an empty one, e.g. 204).

    An error's ``path`` and message leave the query string out, as every error of the
    provider does: a query may carry values not meant for logs.
    """
    try:
        return (yield from session.request_json(request))
    except AutomationAnywhereError as error:
        bare = request.path.partition("?")[0]
        if error.path != request.path or bare == request.path:
            raise
        fields = {**error.call_fields(), "path": bare}
        raise type(error)(error.summary, **fields) from None


def _param_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f"params[{name!r}] must be a finite number, got {value!r}.")
    if isinstance(value, (str, int, float)):
        return str(value)
    raise InvalidInputError(
        f"params[{name!r}] must be a str, int, float or bool, or a list of those, got {type(value).__name__}."
    )


def _bad_path(path: str, reason: str) -> InvalidInputError:
    return InvalidInputError(f"path {path!r} is refused: {reason}.")
