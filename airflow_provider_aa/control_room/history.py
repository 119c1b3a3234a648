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
- Audit entries never change: ``createdOn``, with ``gt``/``lt`` filters and a ``createdOn``
  sort as a public PowerShell client sends them (``Get-AAAuditMessages``: ``POST
  /v1/audit/messages/list``), whose instants are ``yyyy-MM-ddTHH:mm:ss.fffZ`` as sent here.

A record that changes while a window is paged moves within the sort (its change time grows)
and can be missed or seen twice by that listing: the overlap of the next window and
``latest_records`` (newest version per id) absorb both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.listing import PageCursor
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH


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


def history_request(dataset: Dataset, window: HistoryWindow, queue_id: str | None = None) -> ApiRequest:
    """
    The first page of ``dataset``'s records that changed in ``window`` (work items: of queue
    ``queue_id``), oldest change first, then by id.
    """
    body = {
        "filter": window_filter(dataset.change_time, window),
        "sort": [{"field": dataset.change_time, "direction": "asc"}, {"field": "id", "direction": "asc"}],
        "page": {"offset": 0, "length": PAGE_LENGTH},
    }
    return ApiRequest("POST", dataset.path.format(queue_id=queue_id), body)


def read_history_page(session: ControlRoomSession, cursor: PageCursor) -> Operation[list[dict[str, Any]]]:
    """
    The next page of a history listing, its records as the Control Room sent them (an
    export keeps them so); ``cursor`` checks the answer and moves on as for any listing.
    """
    request = cursor.request()
    answer = yield from session.request_json(request)
    cursor.read(answer, request)  # the same checks and paging as every listing; its copies are normalised
    records: list[dict[str, Any]] = answer["list"]
    return records
