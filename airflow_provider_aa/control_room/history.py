"""
History for exports: bot runs, work items and the audit log of a time window, page by page.

Each dataset is a listing filtered to a window ``[start, end)`` on the time field that moves
whenever a record changes, and sorted on that field, then ``id``, so that offsets page
stably:

===============  ==============================================  ================
dataset          call                                            change time
===============  ==============================================  ================
``bot_runs``     ``POST /v3/activity/list``                      ``modifiedOn``
``work_items``   ``POST /v3/wlm/queues/{queueId}/workitems/list``  ``updatedOn``
``audit``        ``POST /v1/audit/messages/list``                ``createdOn``
===============  ==============================================  ================

- Bot runs: public clients filter the activity list with ``ge`` on ``startDateTime``
  (``createdOn`` too) and sort it on ``modifiedOn``; ``modifiedOn`` is the one of its time
  fields that moves with every status change (a run going RUNNING → COMPLETED), so a window
  on it holds every run that changed in it. Filtering on ``modifiedOn`` itself is
  unconfirmed (reference: "Activity and audit history").
- Work items: ``updatedOn`` equals ``createdOn`` on a new item, so a window on it holds the
  items created *or* changed in it.
- Audit entries never change: ``createdOn``, with a ``createdOn`` sort, as a public
  PowerShell client lists them (``Get-AAAuditMessages``: ``POST /v1/audit/messages/list``,
  ``gt``/``lt`` filters, instants ``yyyy-MM-ddTHH:mm:ss.fffZ`` as sent here). This sends
  ``ge``/``lt`` as for the other datasets, so that consecutive windows meet; that the audit
  list takes ``ge`` is unconfirmed.

Pages go on from the last record read, not by offset (:class:`HistoryCursor`): each page
asks for the records changed at or after the last one's change time (``ge``, the value
exactly as the Control Room wrote it), and drops the records already read at that very
instant (by id). A record that changes while a window is paged gets a later change time: it
leaves the window or comes again further on (the file then holds both versions, and
``latest_records`` keeps the newer), and the records not read yet keep their places — plain
offsets would skip one record for each that left the window behind the offset. Only within
one instant shared by more records than a page holds (or pages capped very short) does the
cursor move on by offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.listing import total_filter
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH, list_of_items


@dataclass(frozen=True)
class Dataset:
    """What one dataset is read from: the list call, its change-time field, and what keys a record."""

    name: str
    path: str  # ``{queue_id}`` for work items
    change_time: str
    key_fields: tuple[str, ...]

    def key(self, record: Mapping[str, Any]) -> tuple[str, ...]:
        """A record's identity across exports: ids as text (Control Rooms send ``77`` or ``"77"``)."""
        return tuple(str(record.get(field)) for field in self.key_fields)


DATASETS: dict[str, Dataset] = {
    "bot_runs": Dataset("bot_runs", "/v3/activity/list", "modifiedOn", ("id",)),
    # Work item ids are unique across queues on a Control Room; the queue keeps that an assumption.
    "work_items": Dataset("work_items", "/v3/wlm/queues/{queue_id}/workitems/list", "updatedOn", ("queueId", "id")),
    "audit": Dataset("audit", "/v1/audit/messages/list", "createdOn", ("id",)),
}


def validate_dataset(value: Any) -> Dataset:
    """:raises InvalidInputError: unless ``value`` names a dataset."""
    if not isinstance(value, str) or value not in DATASETS:
        raise InvalidInputError(f"dataset must be one of {', '.join(map(repr, DATASETS))}, got {value!r}.")
    return DATASETS[value]


@dataclass(frozen=True)
class HistoryWindow:
    """The instants ``[start, end)`` to read, timezone-aware, in UTC."""

    start: datetime
    end: datetime

    @classmethod
    def validate(cls, start: Any, end: Any) -> HistoryWindow:
        """:raises InvalidInputError: for naive or non-datetime bounds, or ``end`` before ``start``."""
        bounds = []
        for name, value in (("window_start", start), ("window_end", end)):
            if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
                raise InvalidInputError(f"{name} must be a timezone-aware datetime, got {value!r}.")
            bounds.append(value.astimezone(timezone.utc))
        if bounds[1] < bounds[0]:
            raise InvalidInputError(
                f"window_end ({bounds[1].isoformat()}) is before window_start ({bounds[0].isoformat()})."
            )
        return cls(bounds[0], bounds[1])


def control_room_instant(moment: datetime) -> str:
    """An aware ``datetime`` as the Control Room's filters take it: UTC, milliseconds, ``Z``."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def window_filter(field: str, window: HistoryWindow) -> dict[str, Any]:
    """``field`` from ``window.start`` (inclusive) to ``window.end`` (exclusive)."""
    return {
        "operator": "and",
        "operands": [
            {"operator": "ge", "field": field, "value": control_room_instant(window.start)},
            {"operator": "lt", "field": field, "value": control_room_instant(window.end)},
        ],
    }


def history_request(
    dataset: Dataset,
    window: HistoryWindow,
    queue_id: str | None = None,
    since: Any = None,
    offset: int = 0,
) -> ApiRequest:
    """
    A page of ``dataset``'s records that changed in ``window`` (work items: of queue
    ``queue_id``), oldest change first, then by id; ``since``: only those changed at or
    after that change time (as the Control Room wrote it), from ``offset`` on.
    """
    condition = window_filter(dataset.change_time, window)
    if since is not None:
        since_leaf = {"operator": "ge", "field": dataset.change_time, "value": since}
        condition = {"operator": "and", "operands": [condition, since_leaf]}
    body = {
        "filter": condition,
        "sort": [{"field": dataset.change_time, "direction": "asc"}, {"field": "id", "direction": "asc"}],
        "page": {"offset": offset, "length": PAGE_LENGTH},
    }
    return ApiRequest("POST", dataset.path.format(queue_id=queue_id), body)


class HistoryCursor:
    """
    Where the listing of a window stands: the change time of the last record read
    (``since``), the ids read at exactly that time, and whether the window is exhausted
    (``done``).
    """

    def __init__(self, dataset: Dataset, window: HistoryWindow, queue_id: str | None = None) -> None:
        self.dataset, self.window, self.queue_id = dataset, window, queue_id
        self.since: Any = None
        self.offset = 0
        self.done = False
        self._read_at_since: set[str] = set()
        self._listed: list[str] = []

    def request(self) -> ApiRequest:
        return history_request(self.dataset, self.window, self.queue_id, self.since, self.offset)

    def read(self, answer: Any, request: ApiRequest) -> list[dict[str, Any]]:
        """The page's records not read before, as the Control Room sent them; moves the cursor past them."""
        ids = [item["id"] for item in list_of_items(answer, request)]  # checks the shape
        listed: list[dict[str, Any]] = answer["list"]
        if self.offset and ids == self._listed:
            raise AutomationAnywhereError(
                f"The Control Room answered the page at offset {self.offset} from {self.since} with the same "
                "records as the page before: it ignores the page offset. Stopped instead of reading the same "
                "page forever.",
                method=request.method,
                path=request.path,
            )
        self._listed = ids
        since_before = self.since
        records = []
        for record, record_id in zip(listed, ids):
            changed = record.get(self.dataset.change_time)
            if changed == self.since and record_id in self._read_at_since:
                continue  # read on the page before, at the instant this page starts from
            if changed != self.since:
                self.since, self._read_at_since = changed, set()
            self._read_at_since.add(record_id)
            records.append(record)
        total = total_filter(answer)  # the records changed at or after ``since`` (before this page)
        asked = int(request.json["page"]["length"])
        # A short page ends the window only without a total: pages may be capped below what was asked.
        self.done = not listed or (
            request.json["page"]["offset"] + len(listed) >= total if total is not None else len(listed) < asked
        )
        if self.since != since_before or self.done:
            self.offset = 0
        else:
            # Every record listed changed at ``since`` (read now or before): the next page goes
            # on past them, within that instant.
            self.offset += len(listed)
        return records


def read_history_page(session: ControlRoomSession, cursor: HistoryCursor) -> Operation[list[dict[str, Any]]]:
    """The next page of a history listing, its records as the Control Room sent them (an export keeps them so)."""
    request = cursor.request()
    return cursor.read((yield from session.request_json(request)), request)
