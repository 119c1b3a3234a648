"""Work queues as a whole: listing them, which is also how a connection is tested."""

from __future__ import annotations

from collections.abc import Mapping

from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH


def queue_list_request(length: int = PAGE_LENGTH) -> ApiRequest:
    """The first page of the work queues the user may see (``POST /v3/wlm/queues/list``)."""
    return ApiRequest("POST", "/v3/wlm/queues/list", {"page": {"offset": 0, "length": length}})


def connection_check(session: ControlRoomSession) -> Operation[str]:
    """
    Log in and list one work queue: what the UI's Test button and ``airflow connections
    test`` run. Returns the success message; a failure raises the call's error.
    """
    answer = yield from session.request_json(queue_list_request(length=1))
    settings = session.settings
    who = f" as {settings.username!r}" if settings.username else ""
    page = answer.get("page") if isinstance(answer, Mapping) else None
    total = page.get("total") if isinstance(page, Mapping) else None
    queues = f"; {total} work queue(s) visible" if total is not None else ""
    return f"Connected to {settings.base_url}{who} (auth_type={settings.auth_type!r}){queues}."
