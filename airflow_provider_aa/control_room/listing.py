"""
Reading listings page by page, the one way every list call of the provider pages.

Control Rooms cap pages below what was asked, report the true count in ``totalFilter``, and
(behind some proxies) ignore the offset. :class:`PageCursor` trusts ``totalFilter``, stops on
an empty page, and refuses to loop on a page it has already been given or to go on past
:data:`MAX_PAGES` pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH, ids_filter, list_of_items, list_request

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
    from airflow_provider_aa.control_room.session import ControlRoomSession

#: Pages one listing reads at most (10,000,000 records of 100): past them it fails as endless.
MAX_PAGES = 100_000


class PageCursor:
    """
    Where a listing stands: the next request to send, and what an answer says of the rest.

    :param first: the request for the first page; its JSON body has the Control Room's
        ``{"page": {"offset": 0, "length": n}}``, which every list API of it takes. The
        cursor asks for the next pages by changing only the offset.
    :param max_pages: pages read at most before the listing fails as endless.
    """

    def __init__(self, first: ApiRequest, max_pages: int = MAX_PAGES) -> None:
        self._first = first
        self._max_pages = max_pages
        self.pages = 0
        self.offset = 0
        self.done = False
        #: The last answer's ``totalFilter``: how many items the listing holds (``None``: not told).
        self.total: int | None = None
        self._previous: list[str] = []

    def request(self) -> ApiRequest:
        body = self._first.json
        return replace(self._first, json={**body, "page": {**body["page"], "offset": self.offset}})

    def read(self, answer: Any, request: ApiRequest) -> list[dict[str, Any]]:
        """The page's items; moves the cursor on (``done`` once the listing is exhausted)."""
        items = list_of_items(answer, request)
        ids = [item["id"] for item in items]
        if ids and ids == self._previous:
            raise AutomationAnywhereError(
                f"The Control Room answered the page at offset {self.offset} with the same items as the "
                "page before: it ignores the page offset (an old Control Room or a proxy rewriting "
                "requests). Stopped instead of reading the same page forever.",
                method=request.method,
                path=request.path,
            )
        self._previous = ids
        self.offset += len(items)
        total = self.total = total_filter(answer)
        asked = int(request.json["page"]["length"])
        # A short page ends the listing only when the Control Room gives no total: pages may
        # be capped below what was asked.
        self.done = not items or (self.offset >= total if total is not None else len(items) < asked)
        self.pages += 1
        if not self.done:
            stop_past_page_bound(f"The listing ({self.offset} items so far)", self.pages, self._max_pages, request)
        return items


def stop_past_page_bound(listing: str, pages: int, max_pages: int, request: ApiRequest) -> None:
    """
    Fail a listing still going after ``max_pages`` pages: every page loop has a bound,
    whatever the Control Room answers.
    """
    if pages >= max_pages:
        raise AutomationAnywhereError(
            f"{listing} did not end after {pages} pages: stopped (a list that grows faster than it is "
            "read, or answers that never end).",
            method=request.method,
            path=request.path,
        )


def read_page(session: ControlRoomSession, cursor: PageCursor) -> Operation[list[dict[str, Any]]]:
    """The next page of a listing; moves ``cursor`` on. For callers that stream the pages."""
    request = cursor.request()
    return cursor.read((yield from session.request_json(request)), request)


def read_all(session: ControlRoomSession, first: ApiRequest) -> Operation[list[dict[str, Any]]]:
    """Every item of a listing whose first page ``first`` asks for (see :class:`PageCursor`)."""
    cursor = PageCursor(first)
    items: list[dict[str, Any]] = []
    while not cursor.done:
        items += yield from read_page(session, cursor)
    return items


def lookup(
    session: ControlRoomSession, queue_id: str, work_item_ids: Sequence[str]
) -> Operation[dict[str, dict[str, Any]]]:
    """
    Work items by id, ``or``-filtered, 100 ids per listing: ``{id: item}`` in the order
    asked; ids the queue does not hold are absent.
    """
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(work_item_ids), PAGE_LENGTH):
        chunk = ids_filter(work_item_ids[start : start + PAGE_LENGTH])
        items = yield from read_all(session, list_request(queue_id, filter=chunk))
        found.update((item["id"], item) for item in items)
    return {item_id: found[item_id] for item_id in work_item_ids if item_id in found}


def total_filter(answer: Any) -> int | None:
    """The answer's ``page.totalFilter`` (the records matching the request's filter); ``None`` when absent."""
    page = answer.get("page") if isinstance(answer, Mapping) else None
    value = page.get("totalFilter") if isinstance(page, Mapping) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
