"""Work queues as a whole: listing them, which is also how a connection is tested."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.session import ControlRoomSession
    from airflow_provider_aa.control_room.settings import ConnectionSettings


def queue_list_request(length: int = PAGE_LENGTH) -> ApiRequest:
    """The first page of the work queues the user may see (``POST /v3/wlm/queues/list``)."""
    return ApiRequest("POST", "/v3/wlm/queues/list", {"page": {"offset": 0, "length": length}})


def activity_check_request() -> ApiRequest:
    """
    One activity record (``POST /v3/activity/list``): the deploy API's companion that
    follows the runs a deployment started (AA docs, "Activity List", cloud-orches-v2-activity-list),
    so a user that deploys bots through this provider needs it anyway.
    """
    return ApiRequest("POST", "/v3/activity/list", {"page": {"offset": 0, "length": 1}})


def connection_check(session: ControlRoomSession) -> Operation[str]:
    """
    Log in and list one work queue: what the UI's Test button and ``airflow connections
    test`` run. Returns the success message; a failure raises the call's error.

    The message says what was checked: the login (URL, user, auth_type) and the rights, e.g.
    ``work queues: visible (3 queue(s))``. A user that may deploy bots but has no queue rights
    gets 403 for the queue list: then one activity record is listed instead, the call that
    follows a deployed bot's runs (``work queues: no permission (HTTP 403); activity:
    visible``). The connection's warnings follow, each as ``Warning: ...``: unknown extras,
    plain http, and mode password without ``multiple_login``.
    """
    settings = session.settings
    who = f" as {settings.username!r}" if settings.username else ""
    connected = f"Connected to {settings.base_url}{who} (auth_type={settings.auth_type!r})"
    try:
        answer = yield from session.request_json(queue_list_request(length=1))
    except AutomationAnywhereError as refused:
        if refused.status != 403:
            raise
        fallback = activity_check_request()
        try:
            activity = yield from session.request_json(fallback)
        except AutomationAnywhereError as also:
            if also.status != 403:
                raise
            raise AutomationAnywhereError(
                f"Logged in to {settings.base_url}{who}, but the user may see neither work queues nor bot "
                "activity (HTTP 403 to both): give it queue rights for work queue tasks, or activity "
                "rights for bot tasks.",
                **also.call_fields(),
            ) from None
        records = _total(activity)
        shown = f"visible ({records} record(s))" if records is not None else "visible"
        return _with_warnings(f"{connected}; work queues: no permission (HTTP 403); activity: {shown}.", settings)
    total = _total(answer)
    queues = f"visible ({total} queue(s))" if total is not None else "visible"
    return _with_warnings(f"{connected}; work queues: {queues}.", settings)


def _with_warnings(summary: str, settings: ConnectionSettings) -> str:
    """The summary, then each of the connection's warnings (a passing test must show them too)."""
    found = (settings.plain_http_warning, *settings.warnings, settings.single_session_warning)
    warnings = [warning if warning.endswith((".", "?")) else f"{warning}." for warning in found if warning]
    return " ".join([summary, *(f"Warning: {warning}" for warning in warnings)])


def _total(answer: object) -> object:
    page = answer.get("page") if isinstance(answer, Mapping) else None
    return page.get("total") if isinstance(page, Mapping) else None
