"""The Control Room's routes: request in, :class:`Response` out. No sockets here."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from automation_anywhere_emulator.counters import Counters
from automation_anywhere_emulator.models import Session
from automation_anywhere_emulator.responses import ApiError, Response, json_response, no_content
from automation_anywhere_emulator.roles import check_api
from automation_anywhere_emulator.state import TOKEN_MISSING, Accepted, ControlRoomState, validating
from automation_anywhere_emulator.strict import check_body, check_headers

#: Deepest nesting of arrays and objects accepted in a request body: the emulator copies and
#: checks bodies recursively, and Python's recursion limit is about 1000 frames.
MAX_JSON_DEPTH = 200


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Message
    body: bytes

    def json(self) -> Any:
        """
        The body as JSON, ``None`` when empty; 400 when it is not JSON (``NaN``, ``Infinity``
        and numbers beyond a float are not), or nested deeper than :data:`MAX_JSON_DEPTH`.
        """
        if not self.body.strip():
            return None
        try:
            value = json.loads(self.body, parse_constant=_refuse_constant, parse_float=_finite_float)
        except RecursionError:  # the parser's own limit, far below a hostile body's depth
            raise _too_deep() from None
        except ValueError as error:  # also bad UTF-8 and integers past Python's 4300-digit limit
            raise ApiError(400, "INVALID_JSON", "The request body is not valid JSON", str(error)) from None
        _check_depth(value)
        return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:40]} is beyond the range of a number")
    return number


def _check_depth(value: Any) -> None:
    # Iterative: the point is to refuse what recursive code would choke on.
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _too_deep() -> ApiError:
    return ApiError(400, "INVALID_JSON", f"The request body is nested more than {MAX_JSON_DEPTH} levels deep")


Action = Callable[["ControlRoomApi", Request, dict[str, str], Session | None], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    action: Action
    authenticated: bool = True
    auth_version: int | None = None  # login and refresh: answered only while that version is enabled
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(regex))

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class Resolution:
    """Which route a request goes to (``route``), or the 404/405 it gets (``error``)."""

    endpoint: str
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)
    error: ApiError | None = None


class ControlRoomApi:
    def __init__(self, state: ControlRoomState, counters: Counters) -> None:
        self._state = state
        self._counters = counters

    def handle(self, resolution: Resolution, request: Request, session: Session | None = None) -> Response:
        """
        Answer ``request``. ``session``: the caller's session as it was when the request
        arrived (a ``late_commit`` is done later under it, even if the client has logged
        out or its token expired since, as a Control Room that is merely slow would).
        """
        try:
            if resolution.error is not None:
                raise resolution.error
            route = resolution.route
            assert route is not None
            if route.auth_version is not None and not self._version_enabled(route.auth_version):
                raise _not_found(
                    request.path, f"Authentication API v{route.auth_version} is not available on this Control Room"
                )
            self._check_available(request.path)
            if session is None and route.authenticated:
                session = self._authenticate(request)
            if self._state.config.strict:
                check_headers(request.headers)
                check_body(route.method, route.template, request.json())
            return route.action(self, request, resolution.params, session)
        except ApiError as error:
            return error.response()

    def refusal(self, resolution: Resolution, request: Request) -> Response | None:
        """
        The answer to ``request`` when it is refused, ``None`` when it would be accepted
        (``late_commit``); either way nothing changes. A read is accepted: it changes nothing.
        """
        with validating():
            try:
                response = self.handle(resolution, request)
            except Accepted:
                return None
        return response if response.status >= 400 else None

    def session_of(self, resolution: Resolution, request: Request) -> Session | None:
        """The session ``request`` was sent in (``None`` for calls without one); it must be live."""
        route = resolution.route
        return self._authenticate(request) if route is not None and route.authenticated else None

    def _check_available(self, path: str) -> None:
        """404 for an API version this Control Room does not have (see ``EmulatorConfig``)."""
        config = self._state.config
        for prefix, enabled, api in (
            ("/v2/wlm/", config.wlm_v2_enabled, "The v2 work queue API (11.x)"),
            ("/v3/wlm/", config.wlm_v3_enabled, "The v3 work queue API (Automation 360)"),
            ("/v3/automations/", config.deploy_v3_enabled, "The v3 deploy API (Automation 360)"),
            ("/v3/activity/", config.activity_v3_enabled, "The v3 activity API (Automation 360)"),
        ):
            if path.startswith(prefix) and not enabled:
                raise _not_found(path, f"{api} is not available on this Control Room")

    def _version_enabled(self, version: int) -> bool:
        config = self._state.config
        return config.auth_v1_enabled if version == 1 else config.auth_v2_enabled

    def _authenticate(self, request: Request) -> Session:
        token = request.headers.get("X-Authorization")
        if not token and request.headers.get("Authorization"):
            raise ApiError(
                401,
                TOKEN_MISSING,
                "Authentication token missing",
                "Send the token as X-Authorization: <token>; Authorization: Bearer is not accepted here",
            )
        return self._state.authenticate(token)

    # -- authentication ------------------------------------------------------------------

    def login(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        answer = self._state.login(request.json())
        self._counters.count_login(answer["user"]["username"])
        return json_response(answer)

    def refresh(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        answer = self._state.refresh(request.json())
        self._counters.count_refresh()
        return json_response(answer)

    def validate(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        token = request.query.get("token", [""])[0]
        return json_response({"valid": self._state.is_valid(token)})

    def logout(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        body = request.json()
        token = body.get("token") if isinstance(body, dict) else None
        self._state.logout(token if isinstance(token, str) and token else request.headers.get("X-Authorization"))
        return no_content()

    # -- queues and work items -----------------------------------------------------------

    def list_queues(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        self._state.require_queue_rights(session)
        return json_response(self._state.list_queues(request.json()))

    def get_queue(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        self._require_wlm_version(request)
        return json_response(self._state.get_queue(params["queueId"]))

    def add_work_items(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        return json_response(self._state.add_work_items(session, params["queueId"], request.json()))

    def list_work_items(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        return json_response(self._state.list_work_items(params["queueId"], request.json()))

    def get_work_item(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        self._require_wlm_version(request)
        return json_response(self._state.get_work_item(params["queueId"], params["id"]))

    def update_work_item(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        self._require_wlm_version(request)
        answer = self._state.update_work_item(session, params["queueId"], params["id"], request.json())
        deprecated = request.path.startswith("/v3/") and self._state.config.wlm_v3_update_deprecated
        return json_response(answer, headers=(("Deprecation", "true"),) if deprecated else ())

    def _require_wlm_version(self, request: Request) -> None:
        if request.path.startswith("/v4/") and not self._state.config.wlm_v4_enabled:
            raise _not_found(request.path, "The v4 work queue API is not available on this Control Room (before v.34)")

    def delete_work_item(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        self._state.delete_work_item(params["queueId"], params["id"])
        return no_content()

    # -- bots ----------------------------------------------------------------------------

    def deploy_v3(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        return json_response(self._state.deploy_bot(session, 3, request.json()))

    def deploy_v4(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        if not self._state.config.deploy_v4_enabled:
            raise _not_found(request.path, "The v4 deploy API is not available on this Control Room")
        return json_response(self._state.deploy_bot(session, 4, request.json()))

    def list_activities(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        return json_response(self._state.list_activities(request.json()))

    def list_audit_messages(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        return json_response(self._state.list_audit_messages(request.json()))

    def get_execution(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        return json_response(self._state.get_execution(params["id"]))

    def manage_activity(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        return json_response(self._state.stop_executions(request.json()))

    # -- look-ups by name ------------------------------------------------------------------

    def list_files(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        return json_response(self._state.list_files(session, params["workspace"], request.json()))

    def list_run_as_users(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        return json_response(self._state.list_run_as_users(request.json()))

    def list_pools(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        return json_response(self._state.list_pools(request.json()))

    # -- roles (see roles) -------------------------------------------------------------------

    def list_roles(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        check_api(request.path, self._state.config)
        return json_response(self._state.list_roles(session, request.json()))

    def get_role(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        check_api(request.path, self._state.config)
        return json_response(self._state.get_role(session, params["id"]))

    def create_role(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        check_api(request.path, self._state.config)
        return json_response(self._state.create_role(session, request.json()), status=201)

    def update_role(self, request: Request, params: dict[str, str], session: Session | None) -> Response:
        assert session is not None
        check_api(request.path, self._state.config)
        return json_response(self._state.update_role(session, params["id"], request.json()))


_QUEUE = "/wlm/queues/{queueId}"
_ITEM = "/wlm/queues/{queueId}/workitems/{id}"

ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/authentication", ControlRoomApi.login, authenticated=False, auth_version=1),
    Route("POST", "/v2/authentication", ControlRoomApi.login, authenticated=False, auth_version=2),
    Route("POST", "/v1/authentication/token", ControlRoomApi.refresh, authenticated=False, auth_version=1),
    Route("POST", "/v2/authentication/token", ControlRoomApi.refresh, authenticated=False, auth_version=2),
    Route("GET", "/v1/authentication/token", ControlRoomApi.validate, authenticated=False),
    Route("POST", "/v1/authentication/logout", ControlRoomApi.logout, authenticated=False),
    Route("POST", "/v3/wlm/queues/list", ControlRoomApi.list_queues),
    Route("GET", "/v3" + _QUEUE, ControlRoomApi.get_queue),
    Route("GET", "/v4" + _QUEUE, ControlRoomApi.get_queue),
    Route("POST", "/v3" + _QUEUE + "/workitems", ControlRoomApi.add_work_items),
    Route("POST", "/v3" + _QUEUE + "/workitems/list", ControlRoomApi.list_work_items),
    Route("GET", "/v3" + _ITEM, ControlRoomApi.get_work_item),
    Route("GET", "/v4" + _ITEM, ControlRoomApi.get_work_item),
    Route("PUT", "/v3" + _ITEM, ControlRoomApi.update_work_item),
    Route("PUT", "/v4" + _ITEM, ControlRoomApi.update_work_item),
    Route("DELETE", "/v3" + _ITEM, ControlRoomApi.delete_work_item),
    # 11.x: the same calls on /v2 (wlm_v2_enabled)
    Route("POST", "/v2/wlm/queues/list", ControlRoomApi.list_queues),
    Route("GET", "/v2" + _QUEUE, ControlRoomApi.get_queue),
    Route("POST", "/v2" + _QUEUE + "/workitems", ControlRoomApi.add_work_items),
    Route("POST", "/v2" + _QUEUE + "/workitems/list", ControlRoomApi.list_work_items),
    Route("GET", "/v2" + _ITEM, ControlRoomApi.get_work_item),
    Route("PUT", "/v2" + _ITEM, ControlRoomApi.update_work_item),
    Route("DELETE", "/v2" + _ITEM, ControlRoomApi.delete_work_item),
    Route("POST", "/v3/automations/deploy", ControlRoomApi.deploy_v3),
    Route("POST", "/v4/automations/deploy", ControlRoomApi.deploy_v4),
    Route("POST", "/v3/activity/list", ControlRoomApi.list_activities),
    Route("POST", "/v1/audit/messages/list", ControlRoomApi.list_audit_messages),
    Route("GET", "/v3/activity/execution/{id}", ControlRoomApi.get_execution),
    Route("POST", "/v2/repository/workspaces/{workspace}/files/list", ControlRoomApi.list_files),
    Route("POST", "/v1/devices/runasusers/list", ControlRoomApi.list_run_as_users),
    Route("POST", "/v2/devices/pools/list", ControlRoomApi.list_pools),
    Route("POST", "/v3/activity/manage", ControlRoomApi.manage_activity),
    *(
        route
        for version in ("v2", "v1")
        for route in (
            Route("POST", f"/{version}/usermanagement/roles/list", ControlRoomApi.list_roles),
            Route("POST", f"/{version}/usermanagement/roles", ControlRoomApi.create_role),
            Route("GET", f"/{version}/usermanagement/roles/{{id}}", ControlRoomApi.get_role),
            Route("PUT", f"/{version}/usermanagement/roles/{{id}}", ControlRoomApi.update_role),
        )
    ),
)


def resolve(method: str, path: str) -> Resolution:
    """The route for ``method`` and ``path``; otherwise a 405 (path known) or 404."""
    allowed: list[Route] = []
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match is None:
            continue
        if route.method == method:
            return Resolution(route.endpoint, route, match.groupdict())
        allowed.append(route)
    if allowed:
        methods = ", ".join(sorted({route.method for route in allowed}))
        error = ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"{method} is not allowed on {path}",
            f"Allowed: {methods}",
            (("Allow", methods),),
        )
        return Resolution(f"{method} {allowed[0].template}", error=error)
    return Resolution(f"{method} <unmatched>", error=_not_found(path))


def _not_found(path: str, details: str = "") -> ApiError:
    return ApiError(404, "NOT_FOUND", f"No API at {path}", details)
