"""
``strict`` (:class:`.config.EmulatorConfig`, ``--strict``): only what the reference documents.

Every request body field, filter field and header that the project's Control Room API
reference (``control-room-api.md``) does not document is refused with 400 ``BAD_REQUEST``,
in the emulator's error shape, naming it. Documented means:

- headers: ``X-Authorization`` and ``Authorization`` (its OAuth use), plus the HTTP headers
  any client library sends (:data:`HTTP_HEADERS`);
- body fields: those the reference shows for the call (:data:`BODIES`); where it says public
  clients send a field (v3's ``overrideDefaultDevice``, v4's ``deviceUsageType`` and
  ``numOfRunAsUsersToUse``, ``callbackInfo``, ``headlessRequest``), it counts as documented;
  a role update carries the role as read (the reference: send ``existingRepositoryPermissions``
  "back as read"), so the fields of a role answer;
- filter fields: per list call (:data:`FILTER_FIELDS`); work items take the fields of the
  reference's work item (``col1``.. included), not the queue's own attribute names.

Sort fields and query parameters are not checked. Values are checked by the call itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from automation_anywhere_emulator.responses import ApiError, bad_request

#: Request headers of HTTP itself (RFC 9110/9112), which clients send whatever the API.
HTTP_HEADERS = frozenset(
    {
        "host",
        "user-agent",
        "accept",
        "accept-encoding",
        "accept-language",
        "accept-charset",
        "connection",
        "keep-alive",
        "content-length",
        "content-type",
        "te",
        "cache-control",
        "pragma",
        "expect",
    }
)
#: The reference's own headers.
API_HEADERS = frozenset({"x-authorization", "authorization"})

#: A filter node; its ``field`` is checked against :data:`FILTER_FIELDS`.
FILTER = "filter"

_LIST = {"filter": FILTER, "sort": [{"field": None, "direction": None}], "page": {"offset": None, "length": None}}
_LOGIN = {"username": None, "password": None, "multipleLogin": None, "apiKey": None}
_TOKEN = {"token": None}
_BOT_INPUT = {"*": {"type": None, "string": None, "number": None, "boolean": None, "list": None, "dictionary": None}}
_CALLBACK = {"url": None, "headers": None}
_PERMISSION = {"id": None, "action": None, "resourceType": None, "resourceId": None}
_ROLE = {"name": None, "description": None, "permissions": [_PERMISSION], "principals": None}
_ROLE_AS_READ = {
    **_ROLE,
    "id": None,
    "version": None,
    "existingRepositoryPermissions": None,
    "createdBy": None,
    "createdOn": None,
    "updatedBy": None,
    "updatedOn": None,
}

#: Body specs by route template (the version replaced by ``*``): ``None`` any value, a dict
#: an object of those keys (``"*"``: any key, each value as given), ``[spec]`` a list of them.
BODIES: dict[str, Any] = {
    "POST /*/authentication": _LOGIN,
    "POST /*/authentication/token": _TOKEN,
    "POST /*/authentication/logout": _TOKEN,
    "POST /*/wlm/queues/list": _LIST,
    "POST /*/wlm/queues/{queueId}/workitems": {"workItems": [{"json": None}]},
    "POST /*/wlm/queues/{queueId}/workitems/list": _LIST,
    "PUT /*/wlm/queues/{queueId}/workitems/{id}": {"version": None, "json": None, "result": None, "status": None},
    "POST /v3/automations/deploy": {
        "fileId": None,
        "runAsUserIds": None,
        "poolIds": None,
        "numOfRunAsUsersToUse": None,
        "overrideDefaultDevice": None,
        "botInput": _BOT_INPUT,
        "callbackInfo": _CALLBACK,
    },
    "POST /v4/automations/deploy": {
        "botId": None,
        "automationName": None,
        "unattendedRequest": {
            "runAsUserIds": None,
            "deviceUsageType": None,
            "poolIds": None,
            "numOfRunAsUsersToUse": None,
        },
        "executionType": None,
        "headlessRequest": {"numberOfExecutions": None, "queueOnSlotsExhaustion": None, "sharedRunAsUserId": None},
        "botInput": _BOT_INPUT,
        "callbackInfo": _CALLBACK,
    },
    "POST /*/activity/list": _LIST,
    "POST /*/activity/manage": {"stop_executions": {"execution_ids": None}},
    "POST /*/audit/messages/list": _LIST,
    "POST /*/repository/workspaces/{workspace}/files/list": _LIST,
    "POST /*/devices/runasusers/list": _LIST,
    "POST /*/devices/pools/list": _LIST,
    "POST /*/usermanagement/roles/list": _LIST,
    "POST /*/usermanagement/roles": _ROLE,
    "PUT /*/usermanagement/roles/{id}": _ROLE_AS_READ,
}

_WORK_ITEM_FIELDS = frozenset(
    {
        "id",
        "queueId",
        "version",
        "status",
        "result",
        "error",
        "comment",
        "deviceId",
        "deviceUserId",
        "automationId",
        "jobExecutionId",
        "totalPausedTime",
        "createdBy",
        "createdOn",
        "updatedBy",
        "updatedOn",
        "retryCount",
        "deferredUntil",
        "startTime",
        "endTime",
    }
)

#: Fields a list call's filter may compare (reference: "List / filter work items", "Look-ups
#: by name", "Activity list filters", "Audit log").
FILTER_FIELDS: dict[str, frozenset[str]] = {
    "POST /*/wlm/queues/list": frozenset({"name"}),
    "POST /*/wlm/queues/{queueId}/workitems/list": _WORK_ITEM_FIELDS,
    "POST /*/activity/list": frozenset({"automationId", "deviceId", "status", "deploymentId"}),
    "POST /*/audit/messages/list": frozenset({"createdOn", "status"}),
    "POST /*/repository/workspaces/{workspace}/files/list": frozenset({"type", "name", "path"}),
    "POST /*/devices/runasusers/list": frozenset({"username"}),
    "POST /*/devices/pools/list": frozenset({"name"}),
    "POST /*/usermanagement/roles/list": frozenset({"name"}),
}

_COLUMN = re.compile(r"col[1-9][0-9]*")


def key_of(method: str, template: str) -> str:
    """``POST /v3/wlm/queues/list`` → ``POST /*/wlm/queues/list`` (the v3/v4 deploys keep theirs)."""
    endpoint = f"{method} {template}"
    return endpoint if endpoint in BODIES else re.sub(r" /v\d+/", " /*/", endpoint, count=1)


def check_headers(headers: Mapping[str, str] | Any) -> None:
    """400 for a header the reference does not document."""
    for name in headers.keys():
        if name.lower() not in HTTP_HEADERS | API_HEADERS:
            raise bad_request(
                f"Unsupported header {name}", "strict: the Control Room API reference documents no such header"
            )


def check_body(method: str, template: str, body: Any) -> None:
    """400 for a body field or filter field the reference does not document for this call."""
    key = key_of(method, template)
    spec = BODIES.get(key)
    if body is None or spec is None:
        return
    _check(body, spec, "", key, FILTER_FIELDS.get(key, frozenset()))


def _check(value: Any, spec: Any, where: str, key: str, fields: frozenset[str]) -> None:
    if spec is None:
        return
    if spec == FILTER:
        _check_filter(value, where, key, fields)
    elif isinstance(spec, list):
        for index, entry in enumerate(value if isinstance(value, list) else []):
            _check(entry, spec[0], f"{where}[{index}]", key, fields)
    elif isinstance(value, dict):
        for name, child in value.items():
            if name not in spec and "*" not in spec:
                raise _unknown_field(f"{where}.{name}".lstrip("."), key, spec)
            _check(child, spec.get(name, spec.get("*")), f"{where}.{name}".lstrip("."), key, fields)


def _check_filter(node: Any, where: str, key: str, fields: frozenset[str]) -> None:
    stack = [(node, where)]
    while stack:
        current, path = stack.pop()
        if not isinstance(current, dict):
            continue
        for name in current:
            if name not in ("operator", "field", "value", "operands"):
                raise _unknown_field(f"{path}.{name}", key, {"operator": 0, "field": 0, "value": 0, "operands": 0})
        field = current.get("field")
        if (
            isinstance(field, str)
            and field not in fields
            and not (fields is _WORK_ITEM_FIELDS and _COLUMN.fullmatch(field))
        ):
            raise bad_request(
                f"Filter on field {field!r} is not supported",
                f"strict: {key} documents filters on {', '.join(sorted(fields)) or 'no field'} ({path})",
            )
        operands = current.get("operands")
        if isinstance(operands, list):
            stack.extend((operand, f"{path}.operands[{index}]") for index, operand in enumerate(operands))


def _unknown_field(where: str, key: str, spec: Mapping[str, Any]) -> ApiError:
    return bad_request(
        f'Unrecognized field "{where.rsplit(".", 1)[-1]}" at {where}',
        f"strict: {key} documents {', '.join(name for name in spec if name != '*') or 'no fields'} there",
    )
