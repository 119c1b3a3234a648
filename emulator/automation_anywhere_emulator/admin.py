"""
``/_emulator/`` endpoints: control the emulator over HTTP (no authentication, not counted).

=======  =======================  ==========================================================
GET      /_emulator/counters      counts per endpoint and status, logins, refreshes
GET      /_emulator/requests      recent requests: method, path, status, fault
POST     /_emulator/reset         everything back to the seed and start-up settings → 204
GET      /_emulator/config        current settings
POST     /_emulator/config        change settings, e.g. ``{"clock_offset": -61}``,
                                  ``{"busy_queues": {"20": 50}}``, ``{"page_cap": 50}``,
                                  ``{"ignore_offset": true}``
GET      /_emulator/faults        active fault rules
POST     /_emulator/faults        add one rule ``{"kind", "count"?, "method"?, "path"?, ...}``,
                                  e.g. ``{"kind": "late_commit", "answer": "timeout"}``
DELETE   /_emulator/faults        remove all rules → 204
POST     /_emulator/evict         ``{"username"}``: end that user's sessions
POST     /_emulator/tokens        ``{"username"}``: a fresh token (for token-mode connections)
=======  =======================  ==========================================================

Unknown or out-of-bounds settings and fault parameters → 400 naming them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automation_anywhere_emulator.api import Request
from automation_anywhere_emulator.responses import ApiError, Response, bad_request, json_response, no_content

if TYPE_CHECKING:
    from automation_anywhere_emulator.server import ControlRoomEmulator

PREFIX = "/_emulator/"


def handle(emulator: ControlRoomEmulator, request: Request) -> Response:
    try:
        return _dispatch(emulator, request.method, request.path[len(PREFIX) :], request)
    except (TypeError, ValueError) as error:
        return bad_request(str(error)).response()
    except ApiError as error:
        return error.response()


def _dispatch(emulator: ControlRoomEmulator, method: str, name: str, request: Request) -> Response:
    match method, name:
        case "GET", "counters":
            return json_response(emulator.counters.snapshot())
        case "GET", "requests":
            return json_response({"requests": emulator.request_log.entries()})
        case "POST", "reset":
            emulator.reset()
            return no_content()
        case "GET", "config":
            return json_response(emulator.config.to_dict())
        case "POST", "config":
            return json_response(emulator.configure(**_object(request)).to_dict())
        case "GET", "faults":
            return json_response({"faults": emulator.faults.rules()})
        case "POST", "faults":
            return json_response(emulator.faults.add(**_object(request)), 201)
        case "DELETE", "faults":
            emulator.faults.clear()
            return no_content()
        case "POST", "evict":
            return json_response({"evicted": emulator.evict(_username(request))})
        case "POST", "tokens":
            return json_response({"token": emulator.issue_token(_username(request))})
    raise ApiError(
        404, "NOT_FOUND", f"No emulator control {method} {PREFIX}{name}", "See automation_anywhere_emulator.admin"
    )


def _object(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _username(request: Request) -> str:
    username = _object(request).get("username")
    if not isinstance(username, str) or not username:
        raise ValueError('the body must be {"username": "..."}')
    return username
