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
exactly as the Control Room wrote it). A record that changes while a window is paged gets a
later change time: it leaves the window or comes again further on (the file then holds both
versions, and ``latest_records`` keeps the newer), and the records not read yet keep their
places — plain offsets would skip one record for each that left the window behind the offset.
Within one instant shared by more records than a page holds, work items and audit entries
(numeric ids) go on by id: changed later than the last record read (``gt``) or at its time
with a greater id (``gt`` on ``id``), so that none is skipped however many share the instant
and whichever change meanwhile. Bot runs (UUIDs, which no filter compares) move on by offset
within the instant, each page from the last run read (dropped again by id): a page that does
not start with it shows that runs before it left the instant, and the cursor backs off
instead of skipping the runs that moved up.

Every answer is checked against what was asked: a record outside the window, not after the
last one read, or out of order means the Control Room does not honour the filter or the sort
(some ignore filters on time fields), and the listing stops with an error instead of writing
wrong records or reading forever; so does a listing still going after
:data:`~airflow_provider_aa.control_room.listing.MAX_PAGES` pages.

No AA page documents a filter on a time field of the activity list (its documented filter
fields are ``automationId``, ``deviceId``, ``status`` and ``deploymentId``; its documented
sort is by id or ``endDateTime``, descending), nor on ``updatedOn`` of work items; a Control
Room may refuse them. The filtered way is tried first because it reads the window alone;
when the Control Room answers its first page with a 400, the listing reads the window
newest-first without a filter instead (:class:`NewestFirstCursor`: sorted on the change
time, descending, stopping at the first record changed before the window), and the hook
remembers that for the dataset with the Control Room's other capabilities (for the process),
so that later listings go that way at once. That way reads
every record changed after the window too (skipped), so it costs more pages the older the
window; it still needs the sort on the change time, which is no more documented than the
filter (a Control Room that refuses it too fails with its 400).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.listing import MAX_PAGES, stop_past_page_bound, total_filter
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH, list_of_items

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.session import ControlRoomSession


@dataclass(frozen=True)
class Dataset:
    """What one dataset is read from: the list call, its change-time field, and what keys a record."""

    name: str
    path: str  # ``{queue_id}`` for work items
    change_time: str
    key_fields: tuple[str, ...]
    #: Whether ids are numbers a filter can compare (``gt``): pages then go on by id within an instant.
    numeric_ids: bool

    def key(self, record: Mapping[str, Any]) -> tuple[str, ...]:
        """A record's identity across exports: ids as text (Control Rooms send ``77`` or ``"77"``)."""
        return tuple(str(record.get(field)) for field in self.key_fields)


DATASETS: dict[str, Dataset] = {
    # Activity ids are UUIDs: no filter compares them.
    "bot_runs": Dataset("bot_runs", "/v3/activity/list", "modifiedOn", ("id",), numeric_ids=False),
    # Work item ids are unique across queues on a Control Room; the queue keeps that an assumption.
    "work_items": Dataset(
        "work_items", "/v3/wlm/queues/{queue_id}/workitems/list", "updatedOn", ("queueId", "id"), numeric_ids=True
    ),
    "audit": Dataset("audit", "/v1/audit/messages/list", "createdOn", ("id",), numeric_ids=True),
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
    after_id: Any = None,
    offset: int = 0,
) -> ApiRequest:
    """
    A page of ``dataset``'s records that changed in ``window`` (work items: of queue
    ``queue_id``), oldest change first, then by id; ``since``: only those changed at or after
    that change time (as the Control Room wrote it); ``after_id`` too: only those changed
    after it or, at that very time, with a greater id; from ``offset`` on.
    """
    field = dataset.change_time
    condition = window_filter(field, window)
    if since is not None:
        operands = [condition, {"operator": "ge", "field": field, "value": since}]
        if after_id is not None:
            later = [
                {"operator": "gt", "field": field, "value": since},
                {"operator": "gt", "field": "id", "value": after_id},
            ]
            operands.append({"operator": "or", "operands": later})
        condition = {"operator": "and", "operands": operands}
    body = {
        "filter": condition,
        "sort": [{"field": field, "direction": "asc"}, {"field": "id", "direction": "asc"}],
        "page": {"offset": offset, "length": PAGE_LENGTH},
    }
    return ApiRequest("POST", dataset.path.format(queue_id=queue_id), body)


def newest_first_request(dataset: Dataset, queue_id: str | None = None, offset: int = 0) -> ApiRequest:
    """
    A page of all of ``dataset``'s records (work items: of queue ``queue_id``), without a
    filter, the latest change first, then by id descending; from ``offset`` on.
    """
    body = {
        "sort": [{"field": dataset.change_time, "direction": "desc"}, {"field": "id", "direction": "desc"}],
        "page": {"offset": offset, "length": PAGE_LENGTH},
    }
    return ApiRequest("POST", dataset.path.format(queue_id=queue_id), body)


class HistoryCursor:
    """
    Where the listing of a window stands: the change time of the last record read
    (``since``), its id, and whether the window is exhausted (``done``).

    :param max_pages: pages read at most before the listing fails as endless.

    :meth:`read_newest_first` makes it read the window newest-first without a filter
    (:class:`NewestFirstCursor`), for a Control Room known to refuse the filter;
    :func:`read_history_page` goes that way (:meth:`fall_back`) when the Control Room answers
    the first filtered page with a 400, and ``refusal`` is then that answer.
    """

    def __init__(
        self, dataset: Dataset, window: HistoryWindow, queue_id: str | None = None, max_pages: int = MAX_PAGES
    ) -> None:
        self.dataset, self.window, self.queue_id = dataset, window, queue_id
        #: The newest-first listing this cursor reads through, once the filtered way is not taken.
        self.newest_first: NewestFirstCursor | None = None
        #: The Control Room's refusal of the filter that made this cursor fall back.
        self.refusal: AutomationAnywhereError | None = None
        self.since: Any = None
        self.last_id: Any = None
        self.offset = 0
        self.done = False
        self.pages = 0
        #: Records still to read, as the last answer's total told (``None``: not told).
        self.left: int | None = None
        self.max_pages = max_pages
        self._read_at_since: set[str] = set()
        self._last_key: tuple[int, tuple[int, int | str]] = (-1, (0, 0))
        #: Whether the next page starts again at the last record read (by offset within an instant).
        self._overlapping = False
        self._listed: list[str] = []
        # The bounds as sent (milliseconds): what the Control Room's records are checked against.
        self._window_nanoseconds = (_window_bound(window.start), _window_bound(window.end))

    def may_fall_back(self, error: AutomationAnywhereError) -> bool:
        """Whether ``error`` to this cursor's next request is the refusal of its first filtered page."""
        return self.newest_first is None and self.pages == 0 and error.status == 400

    def read_newest_first(self) -> None:
        """Read the window newest-first without a filter (before its first page)."""
        self.newest_first = NewestFirstCursor(self.dataset, self.window, self.queue_id, self.max_pages)

    def fall_back(self, refusal: AutomationAnywhereError) -> None:
        """Read the window newest-first without a filter from now on, as ``refusal`` made necessary."""
        self.read_newest_first()
        self.refusal = refusal

    def request(self) -> ApiRequest:
        if self.newest_first is not None:
            return self.newest_first.request()
        after_id = self.last_id if self.dataset.numeric_ids else None
        return history_request(self.dataset, self.window, self.queue_id, self.since, after_id, self.offset)

    def read(self, answer: Any, request: ApiRequest) -> list[dict[str, Any]]:
        """
        The page's records not read before, as the Control Room sent them; moves the cursor past them.

        :raises AutomationAnywhereError: the answer does not honour the request (see the
            module), or the listing goes on past ``max_pages``.
        """
        if self.newest_first is not None:
            records = self.newest_first.read(answer, request)
            self.done, self.pages, self.left = self.newest_first.done, self.newest_first.pages, None
            return records
        ids = [item["id"] for item in list_of_items(answer, request)]  # checks the shape
        listed: list[dict[str, Any]] = answer["list"]
        self._check(listed, ids, request)
        self.pages += 1
        self._listed = ids
        offset = int(request.json["page"]["offset"])
        if self._overlapping and listed and self._key(listed[0], ids[0]) > self._last_key:
            # By offset within an instant, a page starts again at the last record read: it does
            # not, so records before it left the instant and the rest moved up past the offset.
            # Back off (nothing of this page is taken: what it follows may have been skipped).
            self.offset = max(0, offset - len(listed))
            self._overlapping = self.offset > 0
            _stop_past_page_bound(self, request)
            return []
        since_before = self.since
        records = []
        for record, record_id in zip(listed, ids):
            changed = record.get(self.dataset.change_time)
            if changed == self.since and record_id in self._read_at_since:
                continue  # read on the page before, at the instant this page starts from
            if changed != self.since:
                self.since, self._read_at_since = changed, set()
            self._read_at_since.add(record_id)
            self.last_id = record_id
            self._last_key = self._key(record, record_id)
            records.append(record)
        total = total_filter(answer)  # the records this page's filter matched
        self.left = None if total is None else max(0, total - request.json["page"]["offset"] - len(listed))
        asked = int(request.json["page"]["length"])
        # A short page ends the window only without a total: pages may be capped below what was asked.
        self.done = not listed or (
            request.json["page"]["offset"] + len(listed) >= total if total is not None else len(listed) < asked
        )
        if self.dataset.numeric_ids or self.done:
            self.offset, self._overlapping = 0, False
        else:
            # Ids no filter compares: the next page goes on by offset within the instant
            # ``since``, from the last record read (where it stands among those changed at or
            # after ``since``), so that the page shows whether records before it left.
            at_since = sum(record.get(self.dataset.change_time) == self.since for record in listed)
            last = offset + len(listed) - 1 if self.since == since_before else at_since - 1
            if last == offset and self.since == since_before:
                # A page of the last record alone (pages capped at one) goes on past it.
                self.offset, self._overlapping = last + 1, False
            else:
                self.offset, self._overlapping = last, last > 0
        _stop_past_page_bound(self, request)
        return records

    def _key(self, record: Mapping[str, Any], record_id: Any) -> tuple[int, tuple[int, int | str]]:
        """Where a record sorts: its change time in nanoseconds (none: first), then its id."""
        nanoseconds = instant_nanoseconds(record.get(self.dataset.change_time))
        return (-1 if nanoseconds is None else nanoseconds), _id_key(record_id)

    def _check(self, listed: list[dict[str, Any]], ids: list[str], request: ApiRequest) -> None:
        """:raises AutomationAnywhereError: unless the page holds what was asked, in the order asked."""
        start, end = self._window_nanoseconds
        since = instant_nanoseconds(self.since) if self.since is not None else start
        after = (since, _id_key(self.last_id)) if self.dataset.numeric_ids and self.last_id is not None else None
        previous: tuple[int, tuple[int, int | str]] | None = None
        for record, record_id in zip(listed, ids):
            changed = record.get(self.dataset.change_time)
            nanoseconds = instant_nanoseconds(changed)
            if nanoseconds is None or not start <= nanoseconds < end:
                problem = f"{self.dataset.change_time} {changed!r} is outside the window asked for"
            elif since is not None and nanoseconds < since:
                problem = f"{self.dataset.change_time} {changed!r} is before {self.since!r}, asked for as the least"
            elif after is not None and since is not None and (nanoseconds, _id_key(record_id)) <= after:
                problem = f"it is not after record {self.last_id!r}, the last one read, in the order asked for"
            elif previous is not None and (nanoseconds, _id_key(record_id)) <= previous:
                problem = "it is not after the record before it in the order asked for (change time, then id)"
            elif self.offset and ids == self._listed:
                problem = "the page is the same as the page before: the offset is ignored"
            else:
                previous = (nanoseconds, _id_key(record_id))
                continue
            raise AutomationAnywhereError(
                f"The Control Room does not honour the history listing's filter, sort or offset: record "
                f"{record_id!r} came back, but {problem}. Stopped instead of writing records outside the "
                "window or reading the same records again and again.",
                method=request.method,
                path=request.path,
            )


class NewestFirstCursor:
    """
    A window read without a filter, for a Control Room that refuses filters on time fields:
    every record sorted on the change time, descending (then id), page by page, from the
    newest; records changed after the window are skipped, and the listing ends at the first
    record changed before it (or at the end of the list).

    A record that changes while the listing is read moves to its head, before the pages read
    so far: the records after it move one place down, none moves up, so a page by offset
    only shows again records already passed (sorting at or before the last record passed:
    skipped). Each page starts at the last record passed: when that record sorts before
    the page's first one, records before it were removed (a work item deleted) and the rest
    moved up: the cursor backs off a page instead of skipping them.

    When the newest record at the start changed before the window's end (a window reaching
    the present), records changed while the listing was read may be in the window: a second
    pass from the head reads those changed since then (from the first record's change time
    on, dropping those read there). What changes during the second pass, a short one, is
    left to the next export (its overlap reads it again).

    Pages are checked as in :class:`HistoryCursor`: every record with a readable change
    time, each page in the order asked, not the page before again; at most ``max_pages``.
    """

    def __init__(
        self, dataset: Dataset, window: HistoryWindow, queue_id: str | None = None, max_pages: int = MAX_PAGES
    ) -> None:
        self.dataset, self.window, self.queue_id = dataset, window, queue_id
        self.offset = 0
        self.done = False
        self.pages = 0
        self.max_pages = max_pages
        self._start, self._end = _window_bound(window.start), _window_bound(window.end)
        #: This pass ends at the first record changed before this (the window's start, then the first pass's head).
        self._floor = self._start
        #: Ids the first pass took at the instant ``_floor`` (second pass only).
        self._read_at_floor: set[str] = set()
        #: The change time of this pass's first record, and the ids taken at it.
        self._head: int | None = None
        self._read_at_head: set[str] = set()
        self._second_pass = False
        #: Where the last record passed sorts; records sorting at or before it are passed.
        self._last: tuple[int, tuple[int, int | str]] | None = None
        self._overlapping = False
        self._listed: list[str] = []

    def request(self) -> ApiRequest:
        return newest_first_request(self.dataset, self.queue_id, self.offset)

    def read(self, answer: Any, request: ApiRequest) -> list[dict[str, Any]]:
        """The page's records changed in the window and not read before; moves the cursor past them."""
        ids = [item["id"] for item in list_of_items(answer, request)]  # checks the shape
        listed: list[dict[str, Any]] = answer["list"]
        keys = self._check(listed, ids, request)
        self.pages += 1
        self._listed = ids
        offset = int(request.json["page"]["offset"])
        if self._overlapping and listed and self._last is not None and keys[0] < self._last:
            # The page starts after the last record passed: records before it were removed and
            # the rest moved up past the offset. Back off (nothing of this page is taken).
            self.offset = max(0, offset - len(listed))
            self._overlapping = self.offset > 0
            _stop_past_page_bound(self, request)
            return []
        records: list[dict[str, Any]] = []
        past_floor = False
        for record, record_id, key in zip(listed, ids, keys):
            if self._last is not None and key >= self._last:
                continue  # passed already: read, or moved down by records changed since
            self._last = key
            changed = key[0]
            if self._head is None:
                self._head = changed
            if changed < self._floor:
                past_floor = True
                break
            if changed >= self._end or (changed == self._floor and record_id in self._read_at_floor):
                continue  # changed after the window, or read by the pass before
            if changed == self._head:
                self._read_at_head.add(record_id)
            records.append(record)
        total = total_filter(answer)
        asked = int(request.json["page"]["length"])
        exhausted = not listed or (offset + len(listed) >= total if total is not None else len(listed) < asked)
        if past_floor or exhausted:
            self._next_pass()
        elif len(listed) == 1:
            # A page of one record (pages capped at one) goes on past it.
            self.offset, self._overlapping = offset + 1, False
        else:
            self.offset, self._overlapping = offset + len(listed) - 1, True
        _stop_past_page_bound(self, request)
        return records

    def _next_pass(self) -> None:
        """Done, unless records changed while the first pass was read may be in the window (see the class)."""
        head = self._head
        if head is None or head >= self._end or self._second_pass:
            self.done = True
            return
        self._floor, self._read_at_floor = head, self._read_at_head
        self._head, self._read_at_head, self._last = None, set(), None
        self.offset, self._overlapping, self._second_pass = 0, False, True

    def _check(
        self, listed: list[dict[str, Any]], ids: list[str], request: ApiRequest
    ) -> list[tuple[int, tuple[int, int | str]]]:
        """Where each record sorts; :raises AutomationAnywhereError: unless the page is in the order asked."""
        keys: list[tuple[int, tuple[int, int | str]]] = []
        for record, record_id in zip(listed, ids):
            changed = record.get(self.dataset.change_time)
            nanoseconds = instant_nanoseconds(changed)
            if nanoseconds is None:
                problem = f"its {self.dataset.change_time} {changed!r} is not an instant"
            elif keys and (nanoseconds, _id_key(record_id)) >= keys[-1]:
                problem = "it is not before the record before it in the order asked (change time, then id, descending)"
            elif self.offset and ids == self._listed:
                problem = "the page is the same as the page before: the offset is ignored"
            else:
                keys.append((nanoseconds, _id_key(record_id)))
                continue
            raise AutomationAnywhereError(
                f"The Control Room does not honour the history listing's sort or offset: record {record_id!r} "
                f"came back, but {problem}. Stopped instead of writing records outside the window or reading "
                "the same records again and again.",
                method=request.method,
                path=request.path,
            )
        return keys


def _window_bound(moment: datetime) -> int:
    nanoseconds = instant_nanoseconds(control_room_instant(moment))
    assert nanoseconds is not None  # the instants sent always read back
    return nanoseconds


def _id_key(record_id: Any) -> tuple[int, int | str]:
    """Where an id sorts: as a number (Control Rooms compare numeric ids so), else as text."""
    text = str(record_id)
    return (0, int(text)) if text.isascii() and text.isdigit() else (1, text)


_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?")


def instant_nanoseconds(value: Any) -> int | None:
    """ISO 8601 text as Control Rooms write instants (UTC without a zone) in nanoseconds since the epoch."""
    match = _INSTANT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(whole + ("+00:00" if zone in (None, "Z", "z") else zone))
    except ValueError:
        return None
    return int(moment.timestamp()) * 1_000_000_000 + int((fraction or "0").ljust(9, "0"))


def read_history_page(session: ControlRoomSession, cursor: HistoryCursor) -> Operation[list[dict[str, Any]]]:
    """
    The next page of a history listing, its records as the Control Room sent them (an export
    keeps them so). A 400 to the first filtered page makes the cursor read newest-first
    without a filter (:meth:`HistoryCursor.fall_back`).
    """
    request = cursor.request()
    try:
        answer = yield from session.request_json(request)
    except AutomationAnywhereError as refusal:
        if not cursor.may_fall_back(refusal):
            raise
        cursor.fall_back(refusal)
        request = cursor.request()
        answer = yield from session.request_json(request)
    return cursor.read(answer, request)


def _stop_past_page_bound(cursor: HistoryCursor | NewestFirstCursor, request: ApiRequest) -> None:
    if not cursor.done:
        stop_past_page_bound("The history listing", cursor.pages, cursor.max_pages, request)
